//! What a period cost, part by part: the figures `opsdeck report` prints and the Cost
//! view's "today" reads.

use serde::Serialize;

/// Cost per category; None where it could not be computed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    pub compute: Option<f64>,
    pub storage: Option<f64>,
    pub network: Option<f64>,
    pub ai_model: Option<f64>,
    /// The sum of what was computed.
    pub total: f64,
}

impl Totals {
    pub fn sum(&mut self) {
        self.total = [self.compute, self.storage, self.network, self.ai_model]
            .into_iter()
            .flatten()
            // Not `sum()`: an empty float sum is -0.0, which prints as "-0.00".
            .fold(0.0, |a, b| a + b);
    }

    /// The previous total when it covers the same parts as this one: a total that gained or
    /// lost a part has no meaningful change.
    pub fn comparable_total(&self, prev: &Totals) -> Option<f64> {
        let same = self
            .categories()
            .iter()
            .zip(prev.categories())
            .all(|((_, a), (_, b))| a.is_some() == b.is_some());
        (same && prev.total > 0.0).then_some(prev.total)
    }

    pub fn categories(&self) -> [(&'static str, Option<f64>); 4] {
        [
            ("compute", self.compute),
            ("storage", self.storage),
            ("network", self.network),
            ("ai_model", self.ai_model),
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelLine {
    pub model: String,
    pub input_tokens: f64,
    pub output_tokens: f64,
    pub cached_input_tokens: f64,
    pub cost: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentLine {
    pub namespace: String,
    pub name: String,
    pub replica_hours: f64,
    pub cost: Option<f64>,
}

/// A part the report could not compute, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    pub part: &'static str,
    pub reason: String,
}

impl Gap {
    pub fn new(part: &'static str, reason: impl Into<String>) -> Gap {
        Gap {
            part,
            reason: reason.into(),
        }
    }
}
