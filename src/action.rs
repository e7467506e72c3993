//! User intents and the one keymap that produces them. Help and the status bar hints are
//! generated from `KEYMAP`, so they cannot drift from what the keys do.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Help,
    CommandLine,
    Filter,
    NextView,
    PrevView,
    View(usize),
    Up,
    Down,
    Details,
    Scale,
    Warmup,
    Invalidate,
    Refresh,
    Quit,
    Escape,
}

impl Action {
    /// Actions that change a backend; absent in read-only mode.
    pub fn is_mutating(self) -> bool {
        matches!(self, Action::Scale | Action::Warmup | Action::Invalidate)
    }
}

pub struct Binding {
    pub keys: &'static str,
    pub action: Action,
    pub help: &'static str,
}

pub const KEYMAP: &[Binding] = &[
    Binding {
        keys: "?",
        action: Action::Help,
        help: "help",
    },
    Binding {
        keys: ":",
        action: Action::CommandLine,
        help: "command (:q :view NAME :theme NAME)",
    },
    Binding {
        keys: "/",
        action: Action::Filter,
        help: "filter tables",
    },
    Binding {
        keys: "Tab",
        action: Action::NextView,
        help: "next view",
    },
    Binding {
        keys: "S-Tab",
        action: Action::PrevView,
        help: "previous view",
    },
    Binding {
        keys: "1-6",
        action: Action::View(0),
        help: "overview scaling cache latency cost logs",
    },
    Binding {
        keys: "j/↓",
        action: Action::Down,
        help: "select next",
    },
    Binding {
        keys: "k/↑",
        action: Action::Up,
        help: "select previous",
    },
    Binding {
        keys: "Enter",
        action: Action::Details,
        help: "details",
    },
    Binding {
        keys: "s",
        action: Action::Scale,
        help: "scale selected deployment",
    },
    Binding {
        keys: "w",
        action: Action::Warmup,
        help: "warm up the cache",
    },
    Binding {
        keys: "i",
        action: Action::Invalidate,
        help: "invalidate cache keys",
    },
    Binding {
        keys: "r",
        action: Action::Refresh,
        help: "refresh now",
    },
    Binding {
        keys: "Esc",
        action: Action::Escape,
        help: "close / cancel",
    },
    Binding {
        keys: "q/C-c",
        action: Action::Quit,
        help: "quit",
    },
];

/// The keymap for normal mode: which action a key means, if any.
pub fn action_for(key: KeyEvent, read_only: bool) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return match key.code {
            KeyCode::Char('c') => Some(Action::Quit),
            _ => None,
        };
    }
    let action = match key.code {
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char(':') => Action::CommandLine,
        KeyCode::Char('/') => Action::Filter,
        KeyCode::Tab => Action::NextView,
        KeyCode::BackTab => Action::PrevView,
        KeyCode::Char(c @ '1'..='6') => Action::View(c as usize - '1' as usize),
        KeyCode::Char('j') | KeyCode::Down => Action::Down,
        KeyCode::Char('k') | KeyCode::Up => Action::Up,
        KeyCode::Enter => Action::Details,
        KeyCode::Char('s') => Action::Scale,
        KeyCode::Char('w') => Action::Warmup,
        KeyCode::Char('i') => Action::Invalidate,
        KeyCode::Char('r') => Action::Refresh,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Esc => Action::Escape,
        _ => return None,
    };
    if read_only && action.is_mutating() {
        return None;
    }
    Some(action)
}

/// The bindings shown in help: all of them, less the actions read-only mode removes.
pub fn visible_bindings(read_only: bool) -> impl Iterator<Item = &'static Binding> {
    KEYMAP
        .iter()
        .filter(move |b| !(read_only && b.action.is_mutating()))
}
