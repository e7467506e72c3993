//! User intents and the one keymap that produces them. `KEYMAP` holds the defaults; a
//! [`Keymap`] is them with the config's `[keys]` remaps applied (config validation builds one
//! too, so a conflict is a config error). Dispatch, help and the status bar hints all read the
//! `Keymap`, so they cannot drift from what the keys do.

use super::View;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;
use std::collections::BTreeMap;

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
    Prepare,
    Hibernate,
    Warmup,
    Invalidate,
    Refresh,
    CountKeys,
    Quit,
    Escape,
}

impl Action {
    /// Actions that change a backend; absent in read-only mode.
    pub fn is_mutating(self) -> bool {
        matches!(
            self,
            Action::Scale
                | Action::Prepare
                | Action::Hibernate
                | Action::Warmup
                | Action::Invalidate
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
            Action::CountKeys => &[View::Cache],
            Action::Prepare => &[View::Latency],
            _ => &[],
        }
    }

    /// True when the key acts in `view`.
    pub fn acts_in(self, view: View) -> bool {
        let views = self.views();
        views.is_empty() || views.contains(&view)
    }
}

#[derive(Debug)]
pub struct Binding {
    /// The action's name in the config's `[keys]` table.
    pub name: &'static str,
    /// How help shows the default keys.
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
        name: "help",
        keys: "?",
        codes: &[key('?')],
        action: Action::Help,
        help: "help",
        short: "help",
    },
    Binding {
        name: "command",
        keys: ":",
        codes: &[key(':')],
        action: Action::CommandLine,
        help: "command line (commands below)",
        short: "command",
    },
    Binding {
        name: "filter",
        keys: "/",
        codes: &[key('/')],
        action: Action::Filter,
        help: "filter tables and logs",
        short: "filter",
    },
    Binding {
        name: "next_view",
        keys: "Tab",
        codes: &[(KeyCode::Tab, NONE)],
        action: Action::NextView,
        help: "next view",
        short: "next",
    },
    Binding {
        name: "prev_view",
        keys: "S-Tab",
        codes: &[(KeyCode::BackTab, NONE)],
        action: Action::PrevView,
        help: "previous view",
        short: "previous",
    },
    Binding {
        name: "views",
        keys: "1-6",
        // The n-th code opens the n-th view.
        codes: &[key('1'), key('2'), key('3'), key('4'), key('5'), key('6')],
        action: Action::View(0),
        help: "overview scaling cache latency cost logs",
        short: "views",
    },
    Binding {
        name: "down",
        keys: "j/↓",
        codes: &[key('j'), (KeyCode::Down, NONE)],
        action: Action::Down,
        help: "select next",
        short: "down",
    },
    Binding {
        name: "up",
        keys: "k/↑",
        codes: &[key('k'), (KeyCode::Up, NONE)],
        action: Action::Up,
        help: "select previous",
        short: "up",
    },
    Binding {
        name: "details",
        keys: "Enter",
        codes: &[(KeyCode::Enter, NONE)],
        action: Action::Details,
        help: "details",
        short: "details",
    },
    Binding {
        name: "scale",
        keys: "s",
        codes: &[key('s')],
        action: Action::Scale,
        help: "scale selected deployment",
        short: "scale",
    },
    Binding {
        name: "prepare",
        keys: "p",
        codes: &[key('p')],
        action: Action::Prepare,
        help: "pre-scale before the peak",
        short: "pre-scale",
    },
    Binding {
        name: "hibernate",
        keys: "z",
        codes: &[key('z')],
        action: Action::Hibernate,
        help: "hibernate or wake selected",
        short: "sleep/wake",
    },
    Binding {
        name: "warmup",
        keys: "w",
        codes: &[key('w')],
        action: Action::Warmup,
        help: "warm up the cache",
        short: "warm up",
    },
    Binding {
        name: "invalidate",
        keys: "i",
        codes: &[key('i')],
        action: Action::Invalidate,
        help: "invalidate cache keys",
        short: "invalidate",
    },
    Binding {
        name: "count_keys",
        keys: "c",
        codes: &[key('c')],
        action: Action::CountKeys,
        help: "count keys per prefix exactly",
        short: "count keys",
    },
    Binding {
        name: "refresh",
        keys: "r",
        codes: &[key('r')],
        action: Action::Refresh,
        help: "refresh now",
        short: "refresh",
    },
    Binding {
        name: "close",
        keys: "Esc",
        codes: &[(KeyCode::Esc, NONE)],
        action: Action::Escape,
        help: "close / cancel",
        short: "close",
    },
    Binding {
        name: "quit",
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
        names: &["ctx", "context"],
        usage: ":ctx [NAME]",
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

/// One key or several, as `[keys]` gives them: `scale = "S"` or `quit = ["q", "C-q"]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum KeyList {
    One(String),
    Many(Vec<String>),
}

impl KeyList {
    fn keys(&self) -> &[String] {
        match self {
            KeyList::One(k) => std::slice::from_ref(k),
            KeyList::Many(ks) => ks,
        }
    }
}

pub type Code = (KeyCode, KeyModifiers);

const NAMED: &[(&str, KeyCode)] = &[
    ("Tab", KeyCode::Tab),
    ("S-Tab", KeyCode::BackTab),
    ("Enter", KeyCode::Enter),
    ("Esc", KeyCode::Esc),
    ("Space", KeyCode::Char(' ')),
    ("Up", KeyCode::Up),
    ("Down", KeyCode::Down),
    ("Left", KeyCode::Left),
    ("Right", KeyCode::Right),
    ("Home", KeyCode::Home),
    ("End", KeyCode::End),
    ("PageUp", KeyCode::PageUp),
    ("PageDown", KeyCode::PageDown),
    ("Backspace", KeyCode::Backspace),
    ("Delete", KeyCode::Delete),
];

/// A key as written in `[keys]`: a character (`x`, `S`, `?`), `C-x` for Control, a name
/// (`Tab`, `S-Tab`, `Enter`, `Esc`, `Space`, arrows, `Home`, `End`, `PageUp`, `PageDown`,
/// `Backspace`, `Delete`) or `F1`..`F12`.
pub fn parse_key(text: &str) -> Result<Code, String> {
    let bad = || {
        format!(
            "`{text}` is not a key: write a character (`x`), C-x for Control, F1-F12 or one of {}",
            NAMED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        )
    };
    if let Some((_, code)) = NAMED.iter().find(|(n, _)| n.eq_ignore_ascii_case(text)) {
        return Ok((*code, NONE));
    }
    if let Some(n) = text.strip_prefix('F').and_then(|n| n.parse::<u8>().ok()) {
        return (1..=12)
            .contains(&n)
            .then_some((KeyCode::F(n), NONE))
            .ok_or_else(bad);
    }
    let (mods, rest) = match text.strip_prefix("C-") {
        Some(rest) if !rest.is_empty() => (KeyModifiers::CONTROL, rest),
        _ => (NONE, text),
    };
    let mut chars = rest.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if !c.is_control() => {
            // Control letters arrive lower-case whatever Shift says.
            let c = if mods == KeyModifiers::CONTROL {
                c.to_ascii_lowercase()
            } else {
                c
            };
            Ok((KeyCode::Char(c), mods))
        }
        _ => Err(bad()),
    }
}

/// How help and the hints show a key.
pub fn key_label((code, mods): Code) -> String {
    let base = match code {
        KeyCode::Char(' ') => "Space".to_string(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::F(n) => format!("F{n}"),
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        other => NAMED
            .iter()
            .find(|(_, c)| *c == other)
            .map_or_else(|| format!("{other:?}"), |(n, _)| n.to_string()),
    };
    if mods.contains(KeyModifiers::CONTROL) {
        format!("C-{base}")
    } else {
        base
    }
}

/// A `[keys]` entry the keymap cannot take, with the action name it is under.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyIssue {
    pub action: String,
    pub message: String,
}

/// A binding with the keys in force.
#[derive(Debug, Clone)]
pub struct Bound {
    pub binding: &'static Binding,
    /// How help shows the keys.
    pub keys: String,
    pub codes: Vec<Code>,
}

/// The defaults of [`KEYMAP`] with the config's remaps applied.
#[derive(Debug, Clone)]
pub struct Keymap {
    bound: Vec<Bound>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        Keymap::build(&BTreeMap::new()).expect("the default keymap has no conflict")
    }
}

const CTRL_C: Code = (KeyCode::Char('c'), KeyModifiers::CONTROL);

impl Keymap {
    /// The keymap with `remaps` (action name → keys) in place of those actions' defaults;
    /// every entry that cannot be taken is an issue (unknown action, bad key, a key two
    /// actions would share).
    pub fn build(remaps: &BTreeMap<String, KeyList>) -> Result<Keymap, Vec<KeyIssue>> {
        let mut issues = Vec::new();
        let issue = |action: &str, message: String| KeyIssue {
            action: action.to_string(),
            message,
        };
        for name in remaps.keys() {
            match KEYMAP.iter().find(|b| b.name == name) {
                None => issues.push(issue(
                    name,
                    format!(
                        "no action is called `{name}`; one of: {}",
                        remappable().collect::<Vec<_>>().join(", ")
                    ),
                )),
                Some(b) if matches!(b.action, Action::View(_)) => issues.push(issue(
                    name,
                    "the view keys 1-6 are fixed; Tab and S-Tab (next_view, prev_view) can move"
                        .into(),
                )),
                Some(_) => {}
            }
        }
        let mut bound = Vec::with_capacity(KEYMAP.len());
        for b in KEYMAP {
            let Some(list) = remaps
                .get(b.name)
                .filter(|_| !matches!(b.action, Action::View(_)))
            else {
                bound.push(Bound {
                    binding: b,
                    keys: b.keys.to_string(),
                    codes: b.codes.to_vec(),
                });
                continue;
            };
            let mut codes = Vec::new();
            for text in list.keys() {
                match parse_key(text) {
                    Ok(CTRL_C) if b.action != Action::Quit => {
                        issues.push(issue(b.name, "C-c always quits; pick another key".into()))
                    }
                    Ok(code) => codes.push(code),
                    Err(e) => issues.push(issue(b.name, e)),
                }
            }
            if list.keys().is_empty() {
                issues.push(issue(b.name, "needs at least one key".into()));
            }
            let keys = codes
                .iter()
                .map(|c| key_label(*c))
                .collect::<Vec<_>>()
                .join("/");
            bound.push(Bound {
                binding: b,
                keys,
                codes,
            });
        }
        for (i, a) in bound.iter().enumerate() {
            for other in &bound[i + 1..] {
                if let Some(code) = a.codes.iter().find(|c| other.codes.contains(c)) {
                    // Said under the entry the operator wrote.
                    let (mine, theirs) = if remaps.contains_key(other.binding.name) {
                        (other, a)
                    } else {
                        (a, other)
                    };
                    issues.push(issue(
                        mine.binding.name,
                        format!(
                            "`{}` is also the key of `{}` ({}); give one of them another key",
                            key_label(*code),
                            theirs.binding.name,
                            theirs.binding.help
                        ),
                    ));
                }
            }
        }
        if issues.is_empty() {
            Ok(Keymap { bound })
        } else {
            Err(issues)
        }
    }

    /// Normal mode: which action a key means, if any.
    pub fn action_for(&self, key: KeyEvent, read_only: bool) -> Option<Action> {
        // Shift is part of the character itself ('?', ':'); only Control changes the key.
        let mods = key.modifiers & KeyModifiers::CONTROL;
        let (b, index) = self.bound.iter().find_map(|b| {
            b.codes
                .iter()
                .position(|(code, m)| *code == key.code && *m == mods)
                .map(|i| (b, i))
        })?;
        let action = match b.binding.action {
            Action::View(_) => Action::View(index),
            a => a,
        };
        if read_only && action.is_mutating() {
            return None;
        }
        Some(action)
    }

    /// The keys and help of an action, as help shows them.
    pub fn label(&self, action: Action) -> (&str, &'static str) {
        let action = match action {
            Action::View(_) => Action::View(0),
            a => a,
        };
        self.bound
            .iter()
            .find(|b| b.binding.action == action)
            .map_or(("", ""), |b| (b.keys.as_str(), b.binding.help))
    }

    /// The hint bar: the keys that act in `view`, short, k9s style. Keys for this view
    /// first, then those that work everywhere.
    pub fn hints(&self, view: View, read_only: bool) -> Vec<(&str, &'static str)> {
        let usable = |b: &&Bound| {
            let a = b.binding.action;
            !(read_only && a.is_mutating()) && a.acts_in(view)
        };
        let (here, everywhere): (Vec<&Bound>, Vec<&Bound>) = self
            .bound
            .iter()
            .filter(usable)
            .partition(|b| !b.binding.action.views().is_empty());
        here.into_iter()
            .chain(everywhere)
            .filter(|b| b.binding.action != Action::Help)
            .map(|b| (b.keys.as_str(), b.binding.short))
            .collect()
    }

    /// The bindings shown in help: all of them, less the actions read-only mode removes.
    pub fn visible(&self, read_only: bool) -> impl Iterator<Item = &Bound> {
        self.bound
            .iter()
            .filter(move |b| !(read_only && b.binding.action.is_mutating()))
    }
}

/// The names `[keys]` accepts.
pub fn remappable() -> impl Iterator<Item = &'static str> {
    KEYMAP
        .iter()
        .filter(|b| !matches!(b.action, Action::View(_)))
        .map(|b| b.name)
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

#[cfg(test)]
mod tests;
