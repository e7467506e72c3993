//! `opsdeck warmup` and `opsdeck invalidate`.

use super::{EXIT_FAILED, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, confirm, print_progress};
use crate::config::{Config, RedisConfig};
use crate::ops::audit::Audit;
use crate::ops::invalidate::{
    self, InvalidateError, InvalidateOptions, InvalidatePlan, InvalidateTarget,
};
use crate::ops::warmup::{self, WarmupError, WarmupOptions, WarmupTarget};
use crate::ops::{ActionEvent, CancelFlag};
use crate::ui::format::escape_control;
use std::path::Path;
use tokio::sync::mpsc;

fn events() -> (mpsc::Sender<ActionEvent>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(64);
    (tx, tokio::spawn(print_progress(rx)))
}

/// Ctrl-C during a headless action cancels it between batches; SIGTERM and SIGHUP interrupt
/// it the same way. Either way the action writes its end line and what was done is
/// reported (exit 1). The handlers are in place when this returns, not when the task first
/// runs: on a one-thread runtime that is the action's first wait, and a signal before it
/// would end the process without the audit's end line.
fn cancel_on_signals() -> CancelFlag {
    let cancel = CancelFlag::default();
    let c = cancel.clone();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            tokio::spawn(async move {
                tokio::select! {
                    _ = int.recv() => c.cancel(),
                    _ = term.recv() => c.interrupt(),
                    _ = hup.recv() => c.interrupt(),
                }
            });
        }
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            c.cancel();
        }
    });
    cancel
}

pub struct WarmupArgs<'a> {
    pub file: &'a Path,
    pub kb_version: Option<String>,
    pub ttl: Option<u64>,
    pub dry_run: bool,
    pub strict: bool,
}

pub async fn warmup(config: &Config, args: WarmupArgs<'_>) -> u8 {
    if let Some(code) = super::refused_read_only(config, args.dry_run) {
        return code;
    }
    let target = match WarmupTarget::from_config(config) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let mut opts = WarmupOptions::from_config(&config.cache);
    if let Some(v) = args.kb_version {
        opts.kb_version = v;
    }
    opts.ttl_override_s = args.ttl;
    opts.dry_run = args.dry_run;
    opts.strict = args.strict;
    let audit = Audit::new(config.actions.audit_log.clone());
    let (tx, printer) = events();
    let shown = args.file.display().to_string();
    let mut on_bad = |bad: &warmup::BadLine| {
        eprintln!("{shown}:{}: skipped: {}", bad.line, bad.reason);
    };
    let cancel = cancel_on_signals();
    let run = warmup::warmup_file(target, args.file, &opts, &audit, &tx, &cancel, &mut on_bad);
    let result = run.await;
    drop(tx);
    let _ = printer.await;
    match result {
        Ok(report) => {
            println!("{}", report.summary());
            if report.cancelled {
                EXIT_FAILED
            } else {
                EXIT_OK
            }
        }
        Err(e @ WarmupError::Read { .. }) => {
            eprintln!("error: {e}");
            EXIT_USAGE
        }
        Err(e @ WarmupError::Strict { .. }) => {
            eprintln!("refused: {e}");
            EXIT_REFUSED
        }
        Err(e @ WarmupError::Audit(_)) => {
            eprintln!("refused: {e}");
            EXIT_REFUSED
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_FAILED
        }
    }
}

pub struct InvalidateArgs {
    pub target: InvalidateTarget,
    pub dry_run: bool,
    pub yes: bool,
}

pub async fn invalidate(config: &Config, args: InvalidateArgs) -> u8 {
    if let Some(code) = super::refused_read_only(config, args.dry_run) {
        return code;
    }
    let Some(redis) = &config.redis else {
        eprintln!("error: invalidate needs [redis] in the config (url = \"redis://host:6379/0\")");
        return EXIT_USAGE;
    };
    let groups = &config.actions.invalidate;
    let plan = match invalidate::plan(&args.target, groups) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("refused: {e}");
            return EXIT_REFUSED;
        }
    };
    let mut opts = InvalidateOptions::from_config(groups);
    opts.dry_run = args.dry_run;
    if args.yes && !args.dry_run {
        // No counting pass first: the run counts as it deletes, in one pass over the keys.
        println!(
            "{}: deleting the keys that match {}",
            plan.target,
            plan.patterns.join(", ")
        );
    } else if let Some(code) = preview_and_confirm(config, redis, &plan, &opts, &args).await {
        return code;
    }
    let audit = Audit::new(config.actions.audit_log.clone());
    let (tx, printer) = events();
    let result =
        invalidate::invalidate(redis, &plan, &opts, &audit, &tx, &cancel_on_signals()).await;
    drop(tx);
    let _ = printer.await;
    match result {
        Ok(report) => {
            println!("{}", report.summary());
            if report.cancelled {
                EXIT_FAILED
            } else {
                EXIT_OK
            }
        }
        Err(e) => report_error(e),
    }
}

/// The count and sample keys, then the question (unless a dry run); `Some(exit code)` when
/// it ends here.
async fn preview_and_confirm(
    config: &Config,
    redis: &RedisConfig,
    plan: &InvalidatePlan,
    opts: &InvalidateOptions,
    args: &InvalidateArgs,
) -> Option<u8> {
    let preview = match invalidate::preview(redis, plan, opts).await {
        Ok(p) => p,
        Err(e) => return Some(report_error(e)),
    };
    println!(
        "{}: {} keys match {}",
        preview.target,
        preview.count,
        preview.patterns.join(", ")
    );
    // Key names are whatever the services wrote: escape control characters so a key
    // cannot move the cursor or recolour the operator's terminal.
    for key in &preview.samples {
        println!("  {}", escape_control(key));
    }
    if !args.dry_run && !args.yes {
        // Large deletions need the target typed, not just "yes".
        let expected = if preview.count > config.actions.confirm_typed_over_keys {
            args.target.confirm_name().to_string()
        } else {
            "yes".to_string()
        };
        match confirm(&format!("Delete {} keys?", preview.count), &expected) {
            Ok(true) => {}
            Ok(false) => {
                eprintln!("refused: not confirmed, nothing deleted");
                return Some(EXIT_REFUSED);
            }
            Err(e) => {
                eprintln!("refused: {e}");
                return Some(EXIT_REFUSED);
            }
        }
    }
    None
}

fn report_error(e: InvalidateError) -> u8 {
    match e {
        InvalidateError::Pattern(_) | InvalidateError::Audit(_) => {
            eprintln!("refused: {e}");
            EXIT_REFUSED
        }
        e => {
            eprintln!("error: {e}");
            EXIT_FAILED
        }
    }
}
