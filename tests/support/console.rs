//! The console on its real loop, as `opsdeck` wires it, driven by a scripted key stream.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use opsdeck::app::{App, Backends};
use opsdeck::config::Config;
use opsdeck::ops::audit::Audit;
use opsdeck::ops::executor::{Backend, Executor};
use opsdeck::sources::RefreshNow;
use opsdeck::state::State;
use opsdeck::ui::Theme;
use std::time::Duration;
use tokio::sync::mpsc;

/// `keys` at once, then Ctrl-C after `settle_ms`.
pub fn typing(
    keys: &[KeyCode],
    settle_ms: u64,
) -> impl futures::Stream<Item = std::io::Result<Event>> + Unpin {
    let mut script: Vec<(KeyEvent, u64)> = keys
        .iter()
        .map(|c| (KeyEvent::new(*c, KeyModifiers::NONE), 0))
        .collect();
    script.push((
        KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
        settle_ms,
    ));
    Box::pin(futures::stream::unfold(
        script.into_iter(),
        |mut it| async move {
            let (key, pause_ms) = it.next()?;
            tokio::time::sleep(Duration::from_millis(pause_ms)).await;
            Some((Ok(Event::Key(key)), it))
        },
    ))
}

/// The console on the real loop with the live executor, as `opsdeck` wires it.
pub fn console(state: State, config: &Config) -> App {
    let (_utx, updates) = mpsc::channel(4);
    let (atx, actions) = mpsc::channel(16);
    let executor = Executor {
        backend: Backend::Live(Box::new(config.clone())),
        audit: Audit::new(config.actions.audit_log.clone()),
        events: atx,
    };
    App {
        state,
        theme: Theme::default_dark(),
        no_color: false,
        backends: Backends::new(executor, None, RefreshNow::default()),
        updates,
        actions,
    }
}

/// The whole console drawn once on a `w`×`h` test terminal, as text.
pub fn render(state: &State, w: u16, h: u16) -> String {
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    terminal
        .draw(|f| opsdeck::ui::draw(f, state, &Theme::default_dark()))
        .unwrap();
    terminal.backend().to_string()
}
