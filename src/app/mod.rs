//! The App loop: one `select!` over terminal events, source updates, action progress, a
//! clock tick and signals. It owns the `State`, applies messages, carries out the effects
//! they ask for (all without waiting on a backend) and redraws only when something visible
//! changed.

use crate::model::SourceUpdate;
use crate::ops::ActionEvent;
mod backends;
mod log_capture;

pub use backends::Backends;
pub use log_capture::LogCapture;

use crate::state::{Effect, Msg, State};
use crate::ui::{self, Theme};
use chrono::Utc;
use crossterm::event::Event;
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::time::Duration;
use tokio::sync::mpsc;

pub struct App {
    pub state: State,
    pub theme: Theme,
    pub no_color: bool,
    pub backends: Backends,
    pub updates: mpsc::Receiver<SourceUpdate>,
    pub actions: mpsc::Receiver<ActionEvent>,
}

/// Why the loop ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Exit {
    Quit,
    /// The terminal went away (SSH dropped) or its event stream failed.
    TerminalClosed,
    /// A signal ended it; `stopped_action` when an action was running and was
    /// interrupted (its end line written), which the process reports with a non-zero exit.
    Signal {
        name: &'static str,
        stopped_action: bool,
    },
}

/// How long a running action gets to stop and write its end line on the way out.
const STOP_LIMIT: Duration = Duration::from_secs(5);

/// What of the clock is visible: each source's status and age in whole seconds, and
/// whether a message is still in the status bar (it fades).
fn clock_face(state: &State) -> (Vec<(crate::state::Status, Option<i64>)>, bool) {
    use crate::model::SourceKind;
    let ages = SourceKind::ALL
        .into_iter()
        .map(|k| {
            let h = state.health(k);
            (h.status, h.age_s)
        })
        .collect();
    (ages, state.message_at.is_some())
}

pub async fn run<B, S>(
    terminal: &mut Terminal<B>,
    mut events: S,
    app: &mut App,
) -> color_eyre::Result<Exit>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = std::io::Result<Event>> + Unpin,
{
    #[cfg(unix)]
    let (mut sigterm, mut sighup) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate())?,
            signal(SignalKind::hangup())?,
        )
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut dirty = true;
    if let Ok(size) = terminal.size() {
        app.state.apply(Msg::Resize(size.width, size.height));
    }
    loop {
        if dirty {
            take_logs(&mut app.state);
            terminal.draw(|f| ui::draw(f, &app.state, &app.theme))?;
            dirty = false;
        }
        let mut effects = Vec::new();
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => {
                    effects = app.state.apply(Msg::Key(key));
                    dirty = true;
                }
                Some(Ok(Event::Resize(w, h))) => {
                    terminal.autoresize()?;
                    app.state.apply(Msg::Resize(w, h));
                    dirty = true;
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Ok(Exit::TerminalClosed),
            },
            Some(update) = app.updates.recv() => {
                app.state.apply(Msg::Source(update));
                // Sources often report together: take what is queued before drawing once.
                while let Ok(more) = app.updates.try_recv() {
                    app.state.apply(Msg::Source(more));
                }
                dirty = true;
            }
            Some(event) = app.actions.recv() => {
                log_result(&event);
                app.state.apply(Msg::Action(event));
                while let Ok(more) = app.actions.try_recv() {
                    log_result(&more);
                    app.state.apply(Msg::Action(more));
                }
                dirty = true;
            }
            _ = tick.tick() => {
                let logged = take_logs(&mut app.state);
                let (before, view) = (clock_face(&app.state), app.state.view);
                app.state.apply(Msg::Tick(Utc::now()));
                dirty = clock_face(&app.state) != before
                    || app.state.view != view
                    || (logged && view == crate::state::View::Logs);
            }
            _ = sigterm.recv() => return Ok(signalled(app, "SIGTERM").await),
            _ = sighup.recv() => return Ok(signalled(app, "SIGHUP").await),
        }
        for effect in effects {
            let reply = match effect {
                Effect::Quit => {
                    app.backends.stop_and_wait(false, STOP_LIMIT).await;
                    return Ok(Exit::Quit);
                }
                Effect::Refresh => app.backends.refresh_now(),
                Effect::CountKeys => Some(app.backends.count_keys()),
                Effect::CancelAction => app.backends.cancel(),
                Effect::Run(plan) => Some(app.backends.run(plan)),
                Effect::SetTheme(name) => set_theme(app, &name),
                Effect::PreviewInvalidate(plan) => {
                    app.backends.preview(plan);
                    None
                }
            };
            if let Some(msg) = reply {
                app.state.apply(msg);
            }
        }
    }
}

/// Moves what was logged since the last call into the state; whether there was any.
fn take_logs(state: &mut State) -> bool {
    let lines = log_capture::take();
    let any = !lines.is_empty();
    for line in lines {
        state.apply(Msg::Log(line));
    }
    any
}

/// Every action's result goes to the Logs view, in words.
fn log_result(event: &ActionEvent) {
    match event {
        ActionEvent::Finished {
            kind,
            outcome: Ok(text),
        } => tracing::info!("{}: {text}", kind.name()),
        ActionEvent::Finished {
            kind,
            outcome: Err(text),
        } => tracing::warn!("{}: {text}", kind.name()),
        ActionEvent::ScaleConflict { message, .. } => tracing::warn!("scale: {message}"),
        ActionEvent::HibernateConflict { message, wake, .. } => {
            tracing::warn!("{}: {message}", if *wake { "wake" } else { "hibernate" })
        }
        ActionEvent::Progress { .. } | ActionEvent::Preview { .. } => {}
    }
}

async fn signalled(app: &mut App, name: &'static str) -> Exit {
    let stopped_action = app.backends.stop_and_wait(true, STOP_LIMIT).await;
    Exit::Signal {
        name,
        stopped_action,
    }
}

fn set_theme(app: &mut App, name: &str) -> Option<Msg> {
    if app.no_color {
        return Some(Msg::Notice("NO_COLOR is set: themes are off".into()));
    }
    match Theme::resolve(name) {
        Ok(theme) => {
            let name = theme.name.clone();
            app.theme = theme;
            Some(Msg::ThemeChanged(name))
        }
        Err(e) => Some(Msg::Notice(e.to_string())),
    }
}
