//! A hibernate or wake plan against the embedded demo, audited like the real thing.

use super::{HibernatePlan, Lever};
use crate::model::{ActionEvent, ActionKind};
use crate::ops::audit::Audit;
use crate::ops::demo;
use crate::sources::sim::SimHandle;
use tokio::sync::mpsc;

pub async fn run(
    sim: &SimHandle,
    plan: &HibernatePlan,
    audit: &Audit,
    events: &mpsc::Sender<ActionEvent>,
) {
    let (kind, action) = match plan.lever {
        Lever::Hibernate => (ActionKind::Hibernate, "hibernate"),
        Lever::Wake => (ActionKind::Wake, "wake"),
    };
    let target = plan.target();
    let mut params = plan.parameters();
    params["demo"] = true.into();
    if let Err(e) = audit.append(action, &target, params.clone(), false, "started", "demo") {
        let why = format!("refused: cannot write the audit log ({e})");
        return demo::finish(events, kind, Err(why)).await;
    }
    let (ns, name, lever, done) = (
        plan.namespace.clone(),
        plan.name.clone(),
        plan.lever,
        plan.done(),
    );
    let by = crate::ops::audit::current_user();
    let result = sim
        .with(move |s| match lever {
            Lever::Hibernate => s.hibernate(&ns, &name, &by),
            Lever::Wake => s.wake(&ns, &name),
        })
        .await
        .unwrap_or_else(|| Err("the demo has stopped".into()))
        .map(|_| format!("{done} (demo)"));
    let (outcome, detail) = match &result {
        Ok(s) => ("ok", s.clone()),
        Err(e) => ("failed", e.clone()),
    };
    let _ = audit.append(action, &target, params, false, outcome, &detail);
    demo::finish(events, kind, result).await;
}
