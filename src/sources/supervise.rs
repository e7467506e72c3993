//! A source task that panics is restarted, not lost: the panic becomes that source's error
//! ("internal error in the redis source: …; restarted") and the task starts again from its
//! factory a second later. The console keeps running on the other sources meanwhile.
//!
//! A panic also runs the process's panic hook, and the console's hook restores the
//! terminal (leaves the alternate screen, ends raw mode) under a console that keeps
//! running. [`install_panic_hook`], installed over the console's, passes panics from
//! supervised tasks to the log instead; every other panic still restores the terminal.

use crate::sources::{SourceKind, SourceUpdate};
use chrono::Utc;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How long a source that panicked stays down before it starts again.
pub const RESTART_DELAY: Duration = Duration::from_secs(1);

thread_local! {
    /// True while this thread polls a supervised source's future.
    static IN_SOURCE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `start()` in a task of its own and starts it again after each panic, reporting the
/// panic as `source`'s error on `tx`, for `context` alone when the source watches one kube
/// context among several. Ends when the task ends by itself (its channel closed) or when
/// the returned handle is aborted, which aborts the running task too.
pub fn supervise<F, Fut>(
    source: SourceKind,
    context: Option<String>,
    tx: mpsc::Sender<SourceUpdate>,
    start: F,
) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            let mut running = AbortOnDrop(tokio::spawn(Marked(Box::pin(start()))));
            let ended = (&mut running.0).await;
            let panic = match ended {
                Ok(()) => return,
                Err(e) if e.is_panic() => e.into_panic(),
                Err(_) => return,
            };
            let whose = match &context {
                Some(c) => format!("{} source of {c}", source.name()),
                None => format!("{} source", source.name()),
            };
            let message = format!(
                "internal error in the {whose}: {}; restarted",
                panic_text(&*panic)
            );
            tracing::error!("{message}");
            let update = SourceUpdate {
                context: context.clone(),
                at: Utc::now(),
                source,
                payload: Err(message),
            };
            if tx.send(update).await.is_err() {
                return;
            }
            tokio::time::sleep(RESTART_DELAY).await;
        }
    })
}

/// Passes panics of supervised source tasks to the log; any other panic goes to the hook
/// installed before (the console's, which restores the terminal first). Install it after
/// the console's own hook.
pub fn install_panic_hook() {
    let before = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if IN_SOURCE.with(Cell::get) {
            tracing::error!("panic in a source task (it will be restarted): {info}");
        } else {
            before(info);
        }
    }));
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// Aborts the task when dropped: aborting the supervisor stops the source too.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A source's future, marked as such for the panic hook while it is polled.
struct Marked<F>(Pin<Box<F>>);

impl<F: Future> Future for Marked<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        /// Clears the mark however the poll ends, unwinding included.
        struct Unmark(bool);
        impl Drop for Unmark {
            fn drop(&mut self) {
                IN_SOURCE.with(|m| m.set(self.0));
            }
        }
        let _unmark = Unmark(IN_SOURCE.with(|m| m.replace(true)));
        self.0.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::Payload;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_panic_becomes_the_sources_error_and_the_task_restarts() {
        let (tx, mut rx) = mpsc::channel(8);
        let starts = Arc::new(AtomicUsize::new(0));
        let counted = starts.clone();
        let out = tx.clone();
        let handle = supervise(SourceKind::Redis, None, tx, move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            let out = out.clone();
            async move {
                if n == 0 {
                    panic!("index out of bounds: the len is 0 but the index is 0");
                }
                let _ = out
                    .send(SourceUpdate {
                        context: None,
                        at: Utc::now(),
                        source: SourceKind::Redis,
                        payload: Ok(Payload::Cluster(Box::default())),
                    })
                    .await;
                std::future::pending::<()>().await
            }
        });
        let first = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.source, SourceKind::Redis);
        assert_eq!(
            first.payload.unwrap_err(),
            "internal error in the redis source: index out of bounds: the len is 0 but the index is 0; restarted"
        );
        let started = tokio::time::Instant::now();
        let second = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(second.payload.is_ok(), "the restarted task reports again");
        assert!(started.elapsed() >= RESTART_DELAY - Duration::from_millis(50));
        assert_eq!(starts.load(Ordering::SeqCst), 2);
        handle.abort();
    }

    /// The console's hook (here one that counts) is skipped for a supervised panic, so the
    /// terminal stays set up, and still runs for any other panic.
    #[tokio::test]
    async fn the_console_hook_runs_for_other_panics_only() {
        static CONSOLE_HOOK_RAN: AtomicUsize = AtomicUsize::new(0);
        std::panic::set_hook(Box::new(|_| {
            CONSOLE_HOOK_RAN.fetch_add(1, Ordering::SeqCst);
        }));
        install_panic_hook();
        let (tx, mut rx) = mpsc::channel(8);
        let handle = supervise(SourceKind::Redis, None, tx, || async {
            panic!("in a source")
        });
        let u = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        handle.abort();
        assert!(u.payload.unwrap_err().contains("in a source"));
        assert_eq!(CONSOLE_HOOK_RAN.load(Ordering::SeqCst), 0);
        let other = tokio::spawn(async { panic!("elsewhere") }).await;
        assert!(other.unwrap_err().is_panic());
        assert_eq!(CONSOLE_HOOK_RAN.load(Ordering::SeqCst), 1);
        let _ = std::panic::take_hook();
    }

    #[tokio::test]
    async fn aborting_the_supervisor_stops_the_source() {
        let (tx, _rx) = mpsc::channel(8);
        let alive = Arc::new(AtomicUsize::new(0));
        let probe = alive.clone();
        let handle = supervise(SourceKind::Kubernetes, None, tx, move || {
            let probe = probe.clone();
            async move {
                let _held = probe;
                std::future::pending::<()>().await
            }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            Arc::strong_count(&alive),
            3,
            "factory and running task hold it"
        );
        handle.abort();
        let _ = handle.await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(Arc::strong_count(&alive), 1, "the task was dropped");
    }

    #[tokio::test]
    async fn a_source_that_ends_is_not_restarted() {
        let (tx, _rx) = mpsc::channel(8);
        let starts = Arc::new(AtomicUsize::new(0));
        let counted = starts.clone();
        let handle = supervise(SourceKind::Prometheus, None, tx, move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async {}
        });
        tokio::time::timeout(Duration::from_secs(5), handle)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(starts.load(Ordering::SeqCst), 1);
    }
}
