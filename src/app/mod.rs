//! The App loop: one `select!` over terminal events, source updates, action progress, a
//! clock tick and signals. It owns the `State`, applies messages, carries out the effects
//! they ask for (all without waiting on a backend) and redraws only when something visible
//! changed.

use crate::ops::ActionEvent;
use crate::sources::SourceUpdate;
mod backends;

pub use backends::Backends;

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

/// What of the clock is visible: each source's status and age in whole seconds.
fn clock_face(state: &State) -> Vec<(crate::state::Status, Option<i64>)> {
    use crate::sources::SourceKind;
    SourceKind::ALL
        .into_iter()
        .map(|k| {
            let h = state.health(k);
            (h.status, h.age_s)
        })
        .collect()
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
    loop {
        if dirty {
            // Log lines move into the Logs view's buffer here rather than on tui-logger's own
            // thread, which would wake a hundred times a second on an idle console.
            tui_logger::move_events();
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
                Some(Ok(Event::Resize(..))) => {
                    terminal.autoresize()?;
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
                app.state.apply(Msg::Action(event));
                while let Ok(more) = app.actions.try_recv() {
                    app.state.apply(Msg::Action(more));
                }
                dirty = true;
            }
            _ = tick.tick() => {
                tui_logger::move_events();
                let (before, view) = (clock_face(&app.state), app.state.view);
                app.state.apply(Msg::Tick(Utc::now()));
                dirty = clock_face(&app.state) != before || app.state.view != view;
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
