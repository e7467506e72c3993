//! User intents and the one keymap that produces them. Help and the status bar hints are
//! generated from `KEYMAP`, so they cannot drift from what the keys do.

use super::View;
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
    Hibernate,
    Warmup,
    Invalidate,
    Refresh,
    Quit,
    Escape,
}

impl Action {
    /// Actions that change a backend; absent in read-only mode.
    pub fn is_mutating(self) -> bool {
        matches!(
            self,
            Action::Scale | Action::Hibernate | Action::Warmup | Action::Invalidate
        )
    }

    /// The views where the key has something to act on; empty means every view.
    pub fn views(self) -> &'static [View] {
        match self {
            // Deployments are listed (with a selection) on these two.
            Action::Scale | Action::Up | Action::Down => &[View::Overview, View::Scaling],
            Action::Details | Action::Hibernate => &[View::Scaling],
            // The cache is shown on these two.
            Action::Warmup | Action::Invalidate => &[View::Overview, View::Cache],
            _ => &[],
        }
    }

    /// True when the key acts in `view`.
    pub fn acts_in(self, view: View) -> bool {
        let views = self.views();
        views.is_empty() || views.contains(&view)
    }
}

pub struct Binding {
    /// How help shows the keys.
    pub keys: &'static str,
    /// The keys themselves; dispatch reads these, so help cannot list a key that does
    /// nothing or miss one that does something.
    pub codes: &'static [(KeyCode, KeyModifiers)],
    pub action: Action,
    pub help: &'static str,
    /// One word for the hint bar.
    pub short: &'static str,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const fn key(c: char) -> (KeyCode, KeyModifiers) {
    (KeyCode::Char(c), NONE)
}

pub const KEYMAP: &[Binding] = &[
    Binding {
        keys: "?",
        codes: &[key('?')],
        action: Action::Help,
        help: "help",
        short: "help",
    },
    Binding {
        keys: ":",
        codes: &[key(':')],
        action: Action::CommandLine,
        help: "command line (commands below)",
        short: "command",
    },
    Binding {
        keys: "/",
        codes: &[key('/')],
        action: Action::Filter,
        help: "filter tables and logs",
        short: "filter",
    },
    Binding {
        keys: "Tab",
        codes: &[(KeyCode::Tab, NONE)],
        action: Action::NextView,
        help: "next view",
        short: "next",
    },
    Binding {
        keys: "S-Tab",
        codes: &[(KeyCode::BackTab, NONE)],
        action: Action::PrevView,
        help: "previous view",
        short: "previous",
    },
    Binding {
        keys: "1-6",
        // The n-th code opens the n-th view.
        codes: &[key('1'), key('2'), key('3'), key('4'), key('5'), key('6')],
        action: Action::View(0),
        help: "overview scaling cache latency cost logs",
        short: "views",
    },
    Binding {
        keys: "j/↓",
        codes: &[key('j'), (KeyCode::Down, NONE)],
        action: Action::Down,
        help: "select next",
        short: "down",
    },
    Binding {
        keys: "k/↑",
        codes: &[key('k'), (KeyCode::Up, NONE)],
        action: Action::Up,
        help: "select previous",
        short: "up",
    },
    Binding {
        keys: "Enter",
        codes: &[(KeyCode::Enter, NONE)],
        action: Action::Details,
        help: "details",
        short: "details",
    },
    Binding {
        keys: "s",
        codes: &[key('s')],
        action: Action::Scale,
        help: "scale selected deployment",
        short: "scale",
    },
    Binding {
        keys: "z",
        codes: &[key('z')],
        action: Action::Hibernate,
        help: "hibernate selected deployment (to 0, count kept), or wake it",
        short: "sleep/wake",
    },
    Binding {
        keys: "w",
        codes: &[key('w')],
        action: Action::Warmup,
        help: "warm up the cache",
        short: "warm up",
    },
    Binding {
        keys: "i",
        codes: &[key('i')],
        action: Action::Invalidate,
        help: "invalidate cache keys",
        short: "invalidate",
    },
    Binding {
        keys: "r",
        codes: &[key('r')],
        action: Action::Refresh,
        help: "refresh now",
        short: "refresh",
    },
    Binding {
        keys: "Esc",
        codes: &[(KeyCode::Esc, NONE)],
        action: Action::Escape,
        help: "close / cancel",
        short: "close",
    },
    Binding {
        keys: "q/C-c",
        codes: &[key('q'), (KeyCode::Char('c'), KeyModifiers::CONTROL)],
        action: Action::Quit,
        help: "quit",
        short: "quit",
    },
];

/// The `:` commands: dispatch (`state::keys`) and help both read this table.
pub struct LineCommand {
    pub names: &'static [&'static str],
    /// How help shows it.
    pub usage: &'static str,
}

pub const COMMANDS: &[LineCommand] = &[
    LineCommand {
        names: &["view", "v"],
        usage: ":view NAME",
    },
    LineCommand {
        names: &["theme"],
        usage: ":theme NAME",
    },
    LineCommand {
        names: &["filter"],
        usage: ":filter TEXT",
    },
    LineCommand {
        names: &["help"],
        usage: ":help",
    },
    LineCommand {
        names: &["q", "q!", "quit"],
        usage: ":q",
    },
];

/// The command a `:` line's first word names, by its first name in [`COMMANDS`].
pub fn command_named(word: &str) -> Option<&'static str> {
    COMMANDS
        .iter()
        .find(|c| c.names.contains(&word))
        .map(|c| c.names[0])
}

/// The keymap for normal mode: which action a key means, if any.
pub fn action_for(key: KeyEvent, read_only: bool) -> Option<Action> {
    // Shift is part of the character itself ('?', ':'); only Control changes the key.
    let mods = key.modifiers & KeyModifiers::CONTROL;
    let (binding, index) = KEYMAP.iter().find_map(|b| {
        b.codes
            .iter()
            .position(|(code, m)| *code == key.code && *m == mods)
            .map(|i| (b, i))
    })?;
    let action = match binding.action {
        Action::View(_) => Action::View(index),
        a => a,
    };
    if read_only && action.is_mutating() {
        return None;
    }
    Some(action)
}

/// The hint bar: the keys that act in `view`, short, generated from the table (k9s style).
/// Keys for this view first, then those that work everywhere.
pub fn hints(view: View, read_only: bool) -> Vec<(&'static str, &'static str)> {
    let usable = |b: &&Binding| !(read_only && b.action.is_mutating()) && b.action.acts_in(view);
    let (here, everywhere): (Vec<&Binding>, Vec<&Binding>) = KEYMAP
        .iter()
        .filter(usable)
        .partition(|b| !b.action.views().is_empty());
    here.into_iter()
        .chain(everywhere)
        .filter(|b| b.action != Action::Help)
        .map(|b| (b.keys, b.short))
        .collect()
}

/// Where a key acts, for the operator who pressed it elsewhere.
pub fn where_it_acts(action: Action) -> String {
    let views: Vec<String> = action
        .views()
        .iter()
        .map(|v| format!("{} ({})", v.name(), v.index() + 1))
        .collect();
    views.join(" or ")
}

/// The bindings shown in help: all of them, less the actions read-only mode removes.
pub fn visible_bindings(read_only: bool) -> impl Iterator<Item = &'static Binding> {
    KEYMAP
        .iter()
        .filter(move |b| !(read_only && b.action.is_mutating()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key a terminal can send that the dispatch acts on is listed in the table, and
    /// every listed key acts: help and dispatch cannot drift apart.
    #[test]
    fn every_handled_key_is_listed_and_every_listed_key_is_handled() {
        let mut codes: Vec<KeyCode> = (' '..='~').map(KeyCode::Char).collect();
        codes.extend([
            KeyCode::Tab,
            KeyCode::BackTab,
            KeyCode::Enter,
            KeyCode::Esc,
            KeyCode::Up,
            KeyCode::Down,
            KeyCode::Left,
            KeyCode::Right,
            KeyCode::Backspace,
            KeyCode::Home,
            KeyCode::End,
            KeyCode::PageUp,
            KeyCode::PageDown,
            KeyCode::Delete,
        ]);
        for mods in [KeyModifiers::NONE, KeyModifiers::CONTROL] {
            for code in &codes {
                let handled = action_for(KeyEvent::new(*code, mods), false).is_some();
                let listed = KEYMAP.iter().any(|b| b.codes.contains(&(*code, mods)));
                assert_eq!(handled, listed, "{code:?} with {mods:?}");
            }
        }
        for b in KEYMAP {
            for (i, (code, mods)) in b.codes.iter().enumerate() {
                let got = action_for(KeyEvent::new(*code, *mods), false);
                let want = match b.action {
                    Action::View(_) => Action::View(i),
                    a => a,
                };
                assert_eq!(got, Some(want), "{} ({code:?})", b.keys);
            }
        }
    }

    #[test]
    fn read_only_removes_the_action_keys() {
        for c in ['s', 'z', 'w', 'i'] {
            assert_eq!(
                action_for(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE), true),
                None
            );
        }
        assert!(visible_bindings(true).all(|b| !b.action.is_mutating()));
    }
}
