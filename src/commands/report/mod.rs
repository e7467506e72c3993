//! `opsdeck report --period day|week|month [--format table|json|csv]`: what the platform
//! cost over the period by category, deployment and model, against the previous period
//! and the budget, from Prometheus. Parts it cannot compute are named with the reason,
//! never shown as zero. Exit 0 when complete, 1 when parts are missing, 2 without
//! `[prometheus]` (or in scrape mode, which has no history).

#[cfg(test)]
mod proptests;

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::config::{Config, PromMode};
use crate::domain::cost::HOURS_PER_MONTH;
pub use crate::model::{DeploymentLine, Gap, ModelLine, Totals};
use crate::sources::prometheus::api::Client;
use crate::sources::prometheus::period as fetch;
use crate::ui::format;
use chrono::{DateTime, Utc};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    pub fn seconds(self) -> i64 {
        match self {
            Period::Day => 86_400,
            Period::Week => 7 * 86_400,
            // The average month, as the monthly rates and budget use.
            Period::Month => (HOURS_PER_MONTH * 3600.0) as i64,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub period: Period,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub currency: String,
    pub current: fetch::Window,
    pub previous: fetch::Window,
    pub monthly_budget: Option<f64>,
}

impl Report {
    fn hours(&self) -> f64 {
        self.period.seconds() as f64 / 3600.0
    }

    /// Change against the previous period, where both periods have the figure.
    fn change(&self, cur: Option<f64>, prev: Option<f64>) -> serde_json::Value {
        match (cur, prev) {
            (Some(c), Some(p)) if p > 0.0 => json!({ "amount": c - p, "ratio": c / p - 1.0 }),
            _ => serde_json::Value::Null,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        let (cur, prev) = (&self.current.totals, &self.previous.totals);
        let mut change = serde_json::Map::new();
        for ((name, c), (_, p)) in cur.categories().into_iter().zip(prev.categories()) {
            change.insert(name.into(), self.change(c, p));
        }
        let prev_total = cur.comparable_total(prev);
        change.insert("total".into(), self.change(Some(cur.total), prev_total));
        let budget = self.monthly_budget.map(|b| {
            let period = b * self.hours() / HOURS_PER_MONTH;
            json!({ "monthly": b, "period": period, "used": cur.total / period.max(f64::MIN_POSITIVE) })
        });
        json!({
            "period": self.period.name(),
            "start": self.start.to_rfc3339(),
            "end": self.end.to_rfc3339(),
            "hours": self.hours(),
            "currency": self.currency,
            "totals": cur,
            "previous": prev,
            "change": change,
            "budget": budget,
            "by_deployment": self.current.by_deployment,
            "by_model": self.current.by_model,
            "missing": self.current.gaps,
            "complete": self.current.gaps.is_empty(),
        })
    }

    pub fn to_csv(&self) -> String {
        let mut out = String::from("kind,name,cost,previous_cost,detail\n");
        let num = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v}"));
        let (cur, prev) = (&self.current.totals, &self.previous.totals);
        for ((name, c), (_, p)) in cur.categories().into_iter().zip(prev.categories()) {
            out.push_str(&format!("category,{name},{},{},\n", num(c), num(p)));
        }
        out.push_str(&format!("category,total,{},{},\n", cur.total, prev.total));
        for m in &self.current.by_model {
            out.push_str(&format!(
                "model,{},{},,{} input {} output {} cached_input tokens\n",
                csv(&m.model),
                num(m.cost),
                m.input_tokens,
                m.output_tokens,
                m.cached_input_tokens
            ));
        }
        for d in &self.current.by_deployment {
            out.push_str(&format!(
                "deployment,{},{},,{} replica hours\n",
                csv(&format!("{}/{}", d.namespace, d.name)),
                num(d.cost),
                d.replica_hours
            ));
        }
        for g in &self.current.gaps {
            out.push_str(&format!("missing,{},,,{}\n", g.part, csv(&g.reason)));
        }
        out
    }

    pub fn to_table(&self) -> String {
        let cur_sym = self.currency.as_str();
        let money = |v: Option<f64>| v.map_or("—".to_string(), |v| format::money(v, cur_sym));
        let (cur, prev) = (&self.current.totals, &self.previous.totals);
        let mut out = format!(
            "opsdeck report: {} {} → {} ({:.0} h), {}\n\n{:<10} {:>12} {:>12} {:>8}\n",
            self.period.name(),
            self.start.format("%Y-%m-%d %H:%M"),
            self.end.format("%Y-%m-%d %H:%M UTC"),
            self.hours(),
            self.currency,
            "",
            "this period",
            "previous",
            "change"
        );
        let change = |c: Option<f64>, p: Option<f64>| match self.change(c, p)["ratio"].as_f64() {
            Some(r) => format!("{:+.0}%", r * 100.0),
            None => "—".into(),
        };
        for ((name, c), (_, p)) in cur.categories().into_iter().zip(prev.categories()) {
            out.push_str(&format!(
                "{name:<10} {:>12} {:>12} {:>8}\n",
                money(c),
                money(p),
                change(c, p)
            ));
        }
        let prev_total = (prev.total > 0.0).then_some(prev.total);
        out.push_str(&format!(
            "{:<10} {:>12} {:>12} {:>8}\n",
            "total",
            money(Some(cur.total)),
            money(prev_total),
            change(Some(cur.total), cur.comparable_total(prev))
        ));
        if let Some(b) = self.monthly_budget {
            let period = b * self.hours() / HOURS_PER_MONTH;
            out.push_str(&format!(
                "budget     {} for the period ({}/month): {:.0}% used\n",
                money(Some(period)),
                money(Some(b)),
                100.0 * cur.total / period.max(f64::MIN_POSITIVE)
            ));
        }
        if !self.current.by_model.is_empty() {
            out.push_str("\nMODEL            INPUT      OUTPUT     CACHED     COST\n");
            for m in &self.current.by_model {
                out.push_str(&format!(
                    "{:<16} {:<10} {:<10} {:<10} {}\n",
                    m.model,
                    format::count(m.input_tokens),
                    format::count(m.output_tokens),
                    format::count(m.cached_input_tokens),
                    m.cost
                        .map_or("no price".into(), |v| format::money(v, cur_sym))
                ));
            }
        }
        if !self.current.by_deployment.is_empty() {
            out.push_str("\nDEPLOYMENT                     REPLICA-H  COST\n");
            for d in &self.current.by_deployment {
                out.push_str(&format!(
                    "{:<30} {:<10.1} {}\n",
                    format!("{}/{}", d.namespace, d.name),
                    d.replica_hours,
                    money(d.cost)
                ));
            }
        }
        if !self.current.gaps.is_empty() {
            out.push_str("\nnot computed (left out of the total):\n");
            for g in &self.current.gaps {
                out.push_str(&format!("  {}: {}\n", g.part, g.reason));
            }
        }
        out
    }
}

fn csv(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Builds the report for the period ending now and prints it; returns the exit code.
pub async fn run(config: &Config, period: Period, format: Format) -> u8 {
    let Some(prom) = &config.prometheus else {
        eprintln!(
            "error: report needs [prometheus] in the config: it reads the period from Prometheus range data"
        );
        return EXIT_USAGE;
    };
    if prom.mode == PromMode::Scrape {
        eprintln!(
            "error: [prometheus] mode = \"scrape\" keeps no history: report needs mode = \"api\" and a Prometheus URL"
        );
        return EXIT_USAGE;
    }
    let client = match Client::new(prom) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let end = Utc::now();
    let s = period.seconds();
    let start = end - chrono::Duration::seconds(s);
    let (current, previous) = tokio::join!(
        fetch::window(&client, &config.cost, end, s),
        fetch::window(&client, &config.cost, start, s),
    );
    if let Some(e) = &current.unreachable {
        eprintln!("error: {e}");
        return EXIT_FAILED;
    }
    let report = Report {
        period,
        start,
        end,
        currency: config.cost.currency.clone(),
        current,
        previous,
        monthly_budget: config.cost.monthly_budget,
    };
    match format {
        Format::Json => match serde_json::to_string_pretty(&report.to_json()) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: cannot write the report as JSON: {e}");
                return EXIT_FAILED;
            }
        },
        Format::Csv => print!("{}", report.to_csv()),
        Format::Table => print!("{}", report.to_table()),
    }
    if report.current.gaps.is_empty() {
        return EXIT_OK;
    }
    // The table already lists them; JSON and CSV readers get them on stderr too.
    if format != Format::Table {
        for g in &report.current.gaps {
            eprintln!("not computed: {}: {}", g.part, g.reason);
        }
    }
    EXIT_FAILED
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn window(compute: Option<f64>, ai_model: f64, gaps: Vec<Gap>) -> fetch::Window {
        let mut totals = Totals {
            compute,
            storage: Some(0.0),
            network: Some(0.0),
            ai_model: Some(ai_model),
            total: 0.0,
        };
        totals.sum();
        fetch::Window {
            totals,
            gaps,
            ..Default::default()
        }
    }

    #[test]
    fn budget_is_prorated_and_change_needs_both_periods() {
        let end = Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap();
        let r = Report {
            period: Period::Day,
            start: end - chrono::Duration::days(1),
            end,
            currency: "USD".into(),
            current: window(
                None,
                330.0,
                vec![Gap::new("compute", "no kube-state-metrics series")],
            ),
            previous: window(Some(100.0), 200.0, Vec::new()),
            monthly_budget: Some(20_000.0),
        };
        let j = r.to_json();
        // 20000 × 24 / 730.5 = 657.08 for the day; 330 of it is 50.2 %.
        let period = j["budget"]["period"].as_f64().unwrap();
        assert!((period - 657.084_188_911_704_3).abs() < 1e-6, "{period}");
        assert!((j["budget"]["used"].as_f64().unwrap() - 330.0 / period).abs() < 1e-12);
        // AI model 200 → 330: +65 %. Compute is missing now: no change, not -100 %.
        assert!((j["change"]["ai_model"]["ratio"].as_f64().unwrap() - 0.65).abs() < 1e-12);
        assert!(j["change"]["compute"].is_null());
        assert!(j["totals"]["compute"].is_null());
        assert_eq!(j["complete"], false);
        let table = r.to_table();
        let line = |name: &str| table.lines().find(|l| l.starts_with(name)).unwrap();
        assert!(line("compute").trim_end().ends_with("—"), "{table}");
        // The previous total had compute, this one does not: no change figure.
        assert!(line("total").trim_end().ends_with("—"), "{table}");
        assert!(j["change"]["total"].is_null());
        assert!(
            table.contains(
                "not computed (left out of the total):\n  compute: no kube-state-metrics series"
            ),
            "{table}"
        );
        assert!(
            r.to_csv()
                .contains("\nmissing,compute,,,no kube-state-metrics series\n")
        );
    }
}
