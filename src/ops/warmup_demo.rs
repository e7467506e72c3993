//! A warmup against the embedded demo: the file is read and checked exactly as for real
//! (a missing file or a bad line is reported the same way), then its entries are "written"
//! at a simulated rate with progress; Esc cancels.

use crate::model::{ActionEvent, ActionKind, CancelFlag};
use crate::ops::audit::Audit;
use crate::ops::demo::{self, Job};
use crate::ops::warmup::{self, WarmupOptions};
use crate::sources::sim::{Sim, SimHandle};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::mpsc;

/// The demo's own file of hot questions, so the demo can be warmed without one.
pub const BUILTIN: &str = "demo:hot-questions";
const BUILTIN_ENTRIES: u64 = 20_000;
/// Simulated write speed, keys per second.
const WARM_RATE: f64 = 8_000.0;

pub async fn run(
    sim: &SimHandle,
    file: &Path,
    opts: &WarmupOptions,
    audit: &Audit,
    events: &mpsc::Sender<ActionEvent>,
    cancel: &CancelFlag,
) {
    let shown = file.display().to_string();
    let (total, skipped) = if shown == BUILTIN {
        (BUILTIN_ENTRIES, 0)
    } else {
        let path = file.to_path_buf();
        let o = opts.clone();
        let loaded = tokio::task::spawn_blocking(move || warmup::load(&path, &o)).await;
        match loaded {
            Ok(Ok(plan)) if plan.entries.is_empty() => {
                let why = format!("warmup {shown}: no valid entries to write (demo)");
                return demo::finish(events, ActionKind::Warmup, Err(why)).await;
            }
            Ok(Ok(plan)) => (plan.entries.len() as u64, plan.bad.len()),
            Ok(Err(e)) => {
                return demo::finish(events, ActionKind::Warmup, Err(format!("{e} (demo)"))).await;
            }
            Err(e) => {
                let why = format!("warmup {shown}: {e} (demo)");
                return demo::finish(events, ActionKind::Warmup, Err(why)).await;
            }
        }
    };
    let job = Job {
        kind: ActionKind::Warmup,
        target: format!("{shown} to demo"),
        params: json!({
            "file": shown,
            "entries": total,
            "skipped": skipped,
            "kb_version": opts.kb_version,
            "demo": true,
        }),
        total,
        per_sec: WARM_RATE,
        verb: "wrote",
    };
    let step = Arc::new(move |s: &mut Sim, n: u64| {
        s.warm(n, total);
        n
    });
    demo::run(sim, job, step, audit, events, cancel).await;
}
