//! A scale plan against the embedded demo: the simulated HPA then behaves as the real one
//! would (a direct scale of an HPA-owned deployment is undone at its next evaluation).

use super::{PlannedChange, ScalePlan};
use crate::model::{ActionEvent, ActionKind};
use crate::ops::audit::Audit;
use crate::ops::demo;
use crate::sources::sim::SimHandle;
use tokio::sync::mpsc;

pub async fn run(
    sim: &SimHandle,
    plan: &ScalePlan,
    audit: &Audit,
    events: &mpsc::Sender<ActionEvent>,
) {
    let target = plan.target();
    let mut params = plan.parameters();
    params["demo"] = true.into();
    if let Err(e) = audit.append("scale", &target, params.clone(), false, "started", "demo") {
        let why = format!("refused: cannot write the audit log ({e})");
        return demo::finish(events, ActionKind::Scale, Err(why)).await;
    }
    let (ns, name, change) = (
        plan.namespace.clone(),
        plan.name.clone(),
        plan.change.clone(),
    );
    let result = sim
        .with(move |s| match change {
            PlannedChange::Replicas { to, .. } => s
                .scale(&ns, &name, to)
                .map(|before| format!("{ns}/{name}: replicas {before} → {to} (demo)")),
            PlannedChange::Hpa { hpa, min, max } => {
                s.set_hpa_bounds(&ns, &name, min.1, max.1)
                    .map(|(min0, max0)| {
                        format!(
                            "{ns}/{name}: HPA {hpa} min {min0} → {}, max {max0} → {} (demo)",
                            min.1, max.1
                        )
                    })
            }
        })
        .await
        .unwrap_or_else(|| Err("the demo has stopped".into()));
    let (outcome, detail) = match &result {
        Ok(s) => ("ok", s.clone()),
        Err(e) => ("failed", e.clone()),
    };
    let _ = audit.append("scale", &target, params, false, outcome, &detail);
    demo::finish(events, ActionKind::Scale, result).await;
}
