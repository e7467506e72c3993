//! Headless commands for runbooks: the same code paths as the keys, the same audit and
//! safety. Exit codes: 0 done, 1 failed, 2 bad usage or config, 3 refused.

pub mod cache;
pub mod report;
pub mod shell;
pub mod snapshot;

use crate::ops::ActionEvent;
use std::io::{BufRead, IsTerminal, Write};
use tokio::sync::mpsc;

pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_REFUSED: u8 = 3;

/// `--read-only` and `[ui] read_only` remove every action, headless too; a dry run only
/// reads, so it stays allowed.
pub fn refused_read_only(config: &crate::config::Config, dry_run: bool) -> Option<u8> {
    if config.ui.read_only && !dry_run {
        eprintln!(
            "refused: read-only mode (--read-only or [ui] read_only) removes every action; --dry-run still works"
        );
        return Some(EXIT_REFUSED);
    }
    None
}

/// Asks on the terminal. With no terminal there is nobody to ask: refuse.
/// `expected` is what the operator must type ("yes", or a target's name for large actions).
pub fn confirm(question: &str, expected: &str) -> Result<bool, String> {
    if !std::io::stdin().is_terminal() {
        return Err("no terminal to confirm on: pass --yes to run without asking".into());
    }
    eprint!("{question} Type {expected:?} to go on: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    Ok(answer.trim() == expected)
}

/// Prints an action's progress on stderr, one line rewritten in place on a terminal.
pub async fn print_progress(mut events: mpsc::Receiver<ActionEvent>) {
    let tty = std::io::stderr().is_terminal();
    let mut last_line = std::time::Instant::now();
    while let Some(event) = events.recv().await {
        if let ActionEvent::Progress {
            kind,
            done,
            total,
            per_sec,
        } = event
        {
            let eta = match total {
                Some(t) if per_sec > 0.0 && t > done => {
                    format!(", ETA {:.0}s", (t - done) as f64 / per_sec)
                }
                _ => String::new(),
            };
            let total = total.map(|t| format!("/{t}")).unwrap_or_default();
            let line = format!("{} {done}{total} ({per_sec:.0} keys/s{eta})", kind.name());
            if tty {
                eprint!("\r{line}\x1b[K");
            } else if last_line.elapsed().as_secs() >= 5 {
                // Logs get a line every few seconds, not hundreds.
                eprintln!("{line}");
                last_line = std::time::Instant::now();
            }
        }
    }
    if tty {
        eprintln!();
    }
}
