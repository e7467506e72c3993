//! `opsdeck scale NS/NAME (--replicas N | --hpa-min N [--hpa-max M]) [--dry-run] [--yes]`:
//! the same plan and patch as the `s` key, asking on the terminal instead of a dialog.
//! Exit codes: 0 done, 1 failed, 3 refused (bad usage, 2, is clap's).

use super::identity::Who;
use super::plan::{self, check_bounds};
use super::{ScaleError, ScaleRequest, Scaler};
use crate::config::KubernetesConfig;
use crate::ops::audit::Audit;
use std::io::{BufRead, IsTerminal, Write};

/// Where the command talks to the operator; a trait so tests can answer for them.
pub trait Prompt {
    /// A person can answer (stdin is a terminal).
    fn interactive(&self) -> bool;
    fn confirm(&mut self, question: &str) -> bool;
    /// Asks for `expected` to be typed (production targets); true when it was.
    fn typed(&mut self, question: &str, expected: &str) -> bool;
    fn out(&mut self, line: &str);
    fn err(&mut self, line: &str);
}

/// Asks `question`; on a production context the target's `name` must be typed instead.
pub fn confirm_change(
    prompt: &mut dyn Prompt,
    production: bool,
    name: &str,
    question: &str,
) -> bool {
    if production {
        prompt.typed(&format!("production context: {question}"), name)
    } else {
        prompt.confirm(question)
    }
}

/// The line a write refused by its precondition prints: what moved since it was read.
pub fn conflict_line(target: &str, changes: &[String], now: &str) -> String {
    let what = if changes.is_empty() {
        "its status moved, the figures you saw are the same".to_string()
    } else {
        changes.join(", ")
    };
    format!("{target}: changed since it was read ({what}); it is now {now}. Nothing was changed")
}

/// The process's own terminal.
pub struct TerminalPrompt;

impl Prompt for TerminalPrompt {
    fn interactive(&self) -> bool {
        std::io::stdin().is_terminal()
    }
    fn confirm(&mut self, question: &str) -> bool {
        eprint!("{question} [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        if std::io::stdin().lock().read_line(&mut answer).is_err() {
            return false;
        }
        matches!(answer.trim(), "y" | "Y" | "yes")
    }
    fn typed(&mut self, question: &str, expected: &str) -> bool {
        eprint!("{question} Type {expected:?} to go on: ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        if std::io::stdin().lock().read_line(&mut answer).is_err() {
            return false;
        }
        answer.trim() == expected
    }
    fn out(&mut self, line: &str) {
        println!("{line}");
    }
    fn err(&mut self, line: &str) {
        eprintln!("{line}");
    }
}

pub struct ScaleCommand {
    pub request: ScaleRequest,
    pub dry_run: bool,
    pub yes: bool,
    /// `--confirm NAME`: a script's typed confirmation of a production target.
    pub confirm: Option<String>,
}

pub async fn run(
    kube: &KubernetesConfig,
    max_replicas: u32,
    audit: Audit,
    cmd: ScaleCommand,
    prompt: &mut dyn Prompt,
) -> u8 {
    if let Err(e) = check_bounds(cmd.request.target, max_replicas) {
        prompt.err(&format!("{}: {e}", cmd.request.label()));
        return e.exit_code();
    }
    // A production context wants the target's name typed, as the console's dialog does;
    // a script types it with --confirm NAME.
    let production = kube.production && !cmd.dry_run;
    let name = cmd.request.name.as_str();
    if production && cmd.yes && cmd.confirm.as_deref() != Some(name) {
        prompt.err(&format!(
            "refused: {} is in a production context ([kubernetes] production = true): pass --confirm {name} with --yes to scale it from a script",
            cmd.request.label()
        ));
        return 3;
    }
    let (client, context) = match crate::sources::kube::connect(kube).await {
        Ok(c) => c,
        Err(e) => {
            prompt.err(&e.to_string());
            return 1;
        }
    };
    let who = Who::find(&client, kube, &context).await;
    let scaler = Scaler {
        client,
        max_replicas,
        audit,
        who,
    };
    let mut next = scaler.plan(&cmd.request).await;
    loop {
        let plan = match next {
            Ok(p) => p,
            Err(e) => {
                prompt.err(&e.to_string());
                return e.exit_code();
            }
        };
        prompt.out(&plan.preview());
        // A dry run stores nothing, so it needs no confirmation.
        if !cmd.yes && !cmd.dry_run {
            if !prompt.interactive() {
                prompt.err("refused: no terminal to confirm on; pass --yes to scale from a script");
                return 3;
            }
            if !confirm_change(prompt, production, name, "apply this change?") {
                prompt.err("cancelled: nothing was changed");
                return 3;
            }
        }
        match scaler.apply(&plan, cmd.dry_run).await {
            Ok(done) => {
                prompt.out(&done);
                return 0;
            }
            // The state moved under us: show what changed and ask again, on the figures
            // re-read, when someone can answer.
            Err(ScaleError::Conflict {
                observed: Some(now),
                target,
                now: text,
            }) => {
                let changes = now.changes_since(&plan.seen);
                prompt.err(&conflict_line(&target, &changes, &text));
                if cmd.yes || !prompt.interactive() {
                    return 1;
                }
                next = plan::plan(&cmd.request, &now, max_replicas);
            }
            Err(e) => {
                prompt.err(&e.to_string());
                return e.exit_code();
            }
        }
    }
}
