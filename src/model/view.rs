//! The console's views, in their order on screen.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Overview,
    Scaling,
    Cache,
    Latency,
    Cost,
    Logs,
}

impl View {
    pub const ALL: [View; 6] = [
        View::Overview,
        View::Scaling,
        View::Cache,
        View::Latency,
        View::Cost,
        View::Logs,
    ];

    pub fn name(self) -> &'static str {
        match self {
            View::Overview => "overview",
            View::Scaling => "scaling",
            View::Cache => "cache",
            View::Latency => "latency",
            View::Cost => "cost",
            View::Logs => "logs",
        }
    }

    pub fn index(self) -> usize {
        View::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }

    pub fn from_name(name: &str) -> Option<View> {
        let name = name.trim().to_ascii_lowercase();
        View::ALL
            .into_iter()
            .find(|v| v.name() == name || name.parse::<usize>().ok() == Some(v.index() + 1))
    }
}
