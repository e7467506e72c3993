//! Tenants: each namespace's quota use beside what it costs to run. The platform isolates
//! tenants by namespace with a `ResourceQuota` (seed 8.1); a namespace near its quota
//! refuses new pods, so an HPA scale-up there silently fails.

use super::cost::CostBreakdown;
use super::grade::{self, Grade};
use crate::model::{QuotaUse, TenantQuota};
use std::collections::BTreeMap;

/// The resources the Tenants section shows, each the first key a quota sets: what the
/// scheduler counts against requests first, then plain and limit forms.
pub const HEADLINE: [(&str, &[&str]); 4] = [
    ("cpu", &["requests.cpu", "cpu", "limits.cpu"]),
    ("memory", &["requests.memory", "memory", "limits.memory"]),
    ("pods", &["pods", "count/pods"]),
    (
        "gpu",
        &[
            "requests.nvidia.com/gpu",
            "nvidia.com/gpu",
            "requests.amd.com/gpu",
        ],
    ),
];

#[derive(Debug, Clone, PartialEq)]
pub struct TenantRow {
    pub namespace: String,
    /// Every resource the namespace's quotas limit, as Kubernetes names them.
    pub quota: BTreeMap<String, QuotaUse>,
    /// $/h of its deployments' pods (replicas × requests × prices) and of its AI tokens;
    /// None with neither watched there.
    pub cost_per_hour: Option<f64>,
    /// The AI tokens' part of it, when the token queries say which namespace sent them.
    pub ai_per_hour: Option<f64>,
    /// Some deployment or model there could not be priced: the cost is a lower bound.
    pub cost_partial: bool,
}

impl TenantRow {
    /// A headline resource's use, by its short name (`cpu`, `memory`, `pods`, `gpu`).
    pub fn headline(&self, short: &str) -> Option<QuotaUse> {
        let (_, keys) = HEADLINE.iter().find(|(s, _)| *s == short)?;
        keys.iter().find_map(|k| self.quota.get(*k).copied())
    }

    /// The tightest resource's grade: what the row is coloured by.
    pub fn grade(&self) -> Grade {
        self.quota
            .values()
            .map(|q| grade::of_quota_share(q.share()))
            .max_by_key(|g| match g {
                Grade::Critical => 3,
                Grade::Warn => 2,
                Grade::Ok => 1,
                Grade::Unknown => 0,
            })
            .unwrap_or(Grade::Unknown)
    }
}

/// One row per namespace with a quota, a priced deployment or AI tokens, by name.
pub fn rows(quotas: &[TenantQuota], cost: Option<&CostBreakdown>) -> Vec<TenantRow> {
    let mut out: BTreeMap<String, TenantRow> = BTreeMap::new();
    let row = |ns: &str| TenantRow {
        namespace: ns.to_string(),
        quota: BTreeMap::new(),
        cost_per_hour: None,
        ai_per_hour: None,
        cost_partial: false,
    };
    for q in quotas {
        out.entry(q.namespace.clone())
            .or_insert_with(|| row(&q.namespace))
            .quota = q.resources.clone();
    }
    for d in cost.map_or(&[][..], |c| &c.by_deployment[..]) {
        let r = out
            .entry(d.namespace.clone())
            .or_insert_with(|| row(&d.namespace));
        match d.per_hour {
            Some(v) => r.cost_per_hour = Some(r.cost_per_hour.unwrap_or(0.0) + v),
            None => r.cost_partial = true,
        }
    }
    for (ns, ai) in cost.map(|c| &c.ai_by_namespace).into_iter().flatten() {
        let r = out.entry(ns.clone()).or_insert_with(|| row(ns));
        r.ai_per_hour = Some(ai.per_hour);
        r.cost_per_hour = Some(r.cost_per_hour.unwrap_or(0.0) + ai.per_hour);
        r.cost_partial |= ai.partial;
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cost::{DeploymentCost, NamespaceAi};

    fn dc(ns: &str, per_hour: Option<f64>) -> DeploymentCost {
        DeploymentCost {
            namespace: ns.into(),
            name: "d".into(),
            pool: "p".into(),
            replicas: 1,
            per_hour,
            source: None,
        }
    }

    #[test]
    fn namespaces_join_quota_and_cost_and_grade_by_the_tightest_resource() {
        let mut res = BTreeMap::new();
        res.insert(
            "requests.cpu".to_string(),
            QuotaUse {
                used: 38.5,
                hard: 40.0,
            },
        );
        res.insert(
            "pods".to_string(),
            QuotaUse {
                used: 10.0,
                hard: 50.0,
            },
        );
        let quotas = vec![TenantQuota {
            namespace: "cs-prod".into(),
            resources: res,
        }];
        let mut cost = CostBreakdown {
            by_deployment: vec![
                dc("cs-prod", Some(1.5)),
                dc("cs-prod", Some(0.25)),
                dc("batch", None),
            ],
            ..CostBreakdown::default()
        };
        let r = rows(&quotas, Some(&cost));
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].ai_per_hour, None);
        // Its AI tokens add to a namespace's cost; tokens alone make a row.
        let ai = |per_hour, partial| NamespaceAi { per_hour, partial };
        cost.ai_by_namespace
            .insert("cs-prod".into(), ai(12.96, false));
        cost.ai_by_namespace.insert("trial".into(), ai(8.64, true));
        let with_ai = rows(&quotas, Some(&cost));
        assert_eq!(with_ai.len(), 3);
        assert_eq!(with_ai[1].ai_per_hour, Some(12.96));
        assert_eq!(with_ai[1].cost_per_hour, Some(1.75 + 12.96));
        assert!(!with_ai[1].cost_partial);
        let trial = &with_ai[2];
        assert_eq!(
            (
                trial.namespace.as_str(),
                trial.cost_per_hour,
                trial.cost_partial
            ),
            ("trial", Some(8.64), true)
        );
        assert_eq!(
            (
                r[0].namespace.as_str(),
                r[0].cost_per_hour,
                r[0].cost_partial
            ),
            ("batch", None, true)
        );
        assert_eq!(r[1].cost_per_hour, Some(1.75));
        assert_eq!(
            r[1].headline("cpu"),
            Some(QuotaUse {
                used: 38.5,
                hard: 40.0
            })
        );
        assert_eq!(r[1].headline("gpu"), None);
        assert_eq!(r[1].grade(), Grade::Critical);
        assert_eq!(grade::of_quota_share(0.79), Grade::Ok);
        assert_eq!(grade::of_quota_share(0.8), Grade::Warn);
        assert_eq!(grade::of_quota_share(0.95), Grade::Critical);
    }
}
