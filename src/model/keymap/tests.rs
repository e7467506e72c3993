//! The keymap's own checks: dispatch and help agree, remaps and their conflicts.

use super::*;

fn action_for(key: KeyEvent, read_only: bool) -> Option<Action> {
    Keymap::default().action_for(key, read_only)
}

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
    for c in ['s', 'p', 'z', 'w', 'i'] {
        assert_eq!(
            action_for(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE), true),
            None
        );
    }
    let map = Keymap::default();
    assert!(map.visible(true).all(|b| !b.binding.action.is_mutating()));
}

#[test]
fn every_default_key_reads_back_as_itself() {
    for b in KEYMAP {
        for code in b.codes {
            assert_eq!(
                parse_key(&key_label(*code).replace('↑', "Up").replace('↓', "Down")),
                Ok(*code)
            );
        }
    }
}

fn remaps(pairs: &[(&str, &[&str])]) -> BTreeMap<String, KeyList> {
    pairs
        .iter()
        .map(|(a, ks)| {
            let ks: Vec<String> = ks.iter().map(|k| k.to_string()).collect();
            (a.to_string(), KeyList::Many(ks))
        })
        .collect()
}

#[test]
fn a_remap_moves_the_action_and_frees_its_old_key() {
    let map = Keymap::build(&remaps(&[("scale", &["S"]), ("refresh", &["F5", "C-r"])])).unwrap();
    let key = |c| KeyEvent::new(c, KeyModifiers::NONE);
    assert_eq!(
        map.action_for(key(KeyCode::Char('S')), false),
        Some(Action::Scale)
    );
    assert_eq!(map.action_for(key(KeyCode::Char('s')), false), None);
    assert_eq!(
        map.action_for(key(KeyCode::F(5)), false),
        Some(Action::Refresh)
    );
    let ctrl_r = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL);
    assert_eq!(map.action_for(ctrl_r, false), Some(Action::Refresh));
    assert_eq!(map.label(Action::Scale), ("S", "scale selected deployment"));
    assert!(map.hints(View::Scaling, false).contains(&("S", "scale")));
    assert!(
        map.hints(View::Scaling, false)
            .contains(&("F5/C-r", "refresh"))
    );
}

#[test]
fn conflicts_unknown_actions_and_bad_keys_are_issues_under_the_entry_written() {
    let issues = Keymap::build(&remaps(&[("scale", &["i"])])).unwrap_err();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].action, "scale");
    assert!(
        issues[0]
            .message
            .contains("`i` is also the key of `invalidate`"),
        "{issues:?}"
    );
    let issues = Keymap::build(&remaps(&[("scael", &["x"]), ("warmup", &["Ctrl+W"])])).unwrap_err();
    assert_eq!(issues[0].action, "scael");
    assert!(
        issues[0].message.contains("one of: help, command"),
        "{issues:?}"
    );
    assert_eq!(issues[1].action, "warmup");
    assert!(
        issues[1].message.contains("`Ctrl+W` is not a key"),
        "{issues:?}"
    );
    let issues = Keymap::build(&remaps(&[("refresh", &["C-c"])])).unwrap_err();
    assert!(issues[0].message.contains("C-c always quits"));
    // Swapping two keys is no conflict.
    assert!(Keymap::build(&remaps(&[("scale", &["w"]), ("warmup", &["s"])])).is_ok());
}
