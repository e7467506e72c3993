//! Keys, by mode. Normal mode goes through the keymap in `action.rs`.

use super::dialog::Preview;
use super::{Dialog, DialogKind, Effect, Focus, Mode, State, View};
use crate::state::keymap::{Action, COMMANDS, command_named, where_it_acts};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

pub(super) fn handle(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    let ctrl_c = key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c');
    if state.mode == Mode::ConfirmQuit {
        state.mode = Mode::Normal;
        return match key.code {
            KeyCode::Char('y' | 'Y') => vec![Effect::Quit],
            _ if ctrl_c => vec![Effect::Quit],
            _ => {
                state.notice = Some("not quitting: the action goes on".into());
                Vec::new()
            }
        };
    }
    if ctrl_c {
        return quit(state);
    }
    // Nothing is drawn but the size note: a key would act on something unseen.
    if state.too_small() && state.mode == Mode::Normal && key.code != KeyCode::Char('q') {
        return Vec::new();
    }
    match std::mem::replace(&mut state.mode, Mode::Normal) {
        Mode::Normal => normal(state, key),
        Mode::Help => {
            // Any key closes help; `q` still quits.
            if key.code == KeyCode::Char('q') {
                return quit(state);
            }
            Vec::new()
        }
        Mode::ConfirmQuit => unreachable!("answered above"),
        Mode::Command(line) => command(state, line, key),
        Mode::Filter(text) => filter(state, text, key),
        Mode::Dialog(dialog) => dialog_key(state, dialog, key),
    }
}

fn normal(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Some(action) = state.keymap.action_for(key, false) else {
        return Vec::new();
    };
    state.notice = None;
    let (keys, help) = state.keymap.label(action);
    let (keys, help) = (keys.to_string(), help);
    if state.read_only && action.is_mutating() {
        let why = if state.wall {
            "this is the wall (--wall)"
        } else {
            "actions are off (--read-only)"
        };
        state.notice = Some(format!("{keys}: read-only: {why}"));
        return Vec::new();
    }
    if !action.acts_in(state.view) {
        // Moving a selection that is not drawn, or Enter where there are no details, does
        // nothing; an action key says where it works.
        if action.is_mutating() {
            state.notice = Some(format!(
                "{keys}: {help} from the {} view",
                where_it_acts(action)
            ));
        }
        return Vec::new();
    }
    match action {
        Action::Help => state.mode = Mode::Help,
        Action::CommandLine => state.mode = Mode::Command(String::new()),
        Action::Filter => state.mode = Mode::Filter(state.filter.clone()),
        Action::NextView => switch(state, (state.view.index() + 1) % View::ALL.len()),
        Action::PrevView => switch(
            state,
            (state.view.index() + View::ALL.len() - 1) % View::ALL.len(),
        ),
        Action::View(i) => switch(state, i),
        Action::Down => {
            let n = state.visible_deployments().len();
            state.selected = (state.selected + 1).min(n.saturating_sub(1));
        }
        Action::Up => state.selected = state.selected.saturating_sub(1),
        Action::Details => state.details_open = !state.details_open,
        Action::Refresh => return vec![Effect::Refresh],
        Action::CountKeys => return vec![Effect::CountKeys],
        Action::Quit => return quit(state),
        Action::Escape => {
            if state.running.is_some() {
                return vec![Effect::CancelAction];
            }
            if state.details_open {
                state.details_open = false;
            } else {
                state.filter.clear();
            }
        }
        Action::Scale => open_scale(state),
        Action::Prepare => open_prescale(state),
        Action::Hibernate => open_hibernate(state),
        Action::Warmup => {
            state.mode = Mode::Dialog(Box::new(Dialog::new(DialogKind::Warmup {
                file: if state.demo {
                    "demo:hot-questions".into()
                } else {
                    String::new()
                },
            })))
        }
        Action::Invalidate => return open_invalidate(state, 0, String::new()),
    }
    Vec::new()
}

/// A dialog closed without acting says so: the status bar must not keep the last
/// result, as if this one had run.
fn cancelled(state: &mut State) -> Vec<Effect> {
    state.notice = Some("cancelled: nothing was done".into());
    state.last_outcome = None;
    Vec::new()
}

/// Quits at once, or asks first while an action runs: quitting cancels it.
fn quit(state: &mut State) -> Vec<Effect> {
    if state.running.is_some() {
        state.mode = Mode::ConfirmQuit;
        return Vec::new();
    }
    vec![Effect::Quit]
}

fn switch(state: &mut State, i: usize) {
    state.view = View::ALL[i.min(View::ALL.len() - 1)];
}

fn open_scale(state: &mut State) {
    let Some(d) = state.selected_deployment() else {
        state.notice = Some("no deployment selected: Kubernetes has reported none".into());
        return;
    };
    if let Some(why) = read_only_context(state, d, "s") {
        state.notice = Some(why);
        return;
    }
    let mut dialog = Dialog::scale(d, state.production_in(&d.context));
    dialog.context = state.action_context(d);
    state.mode = Mode::Dialog(Box::new(dialog));
}

/// The scale dialog for the first deployment whose HPA floor is too low for the coming
/// peak, its new minimum typed in: the operator reads, edits if need be, and confirms.
fn open_prescale(state: &mut State) {
    let Some(p) = state.prescales().into_iter().next() else {
        state.notice = Some(
            "p: no HPA needs a higher floor for the coming hour (or yesterday's curve is not known)"
                .into(),
        );
        return;
    };
    let Some(d) = state
        .cluster
        .value
        .iter()
        .flat_map(|c| c.deployments.iter())
        .find(|d| d.namespace == p.namespace && d.name == p.deployment)
    else {
        return;
    };
    if let Some(why) = read_only_context(state, d, "p") {
        state.notice = Some(why);
        return;
    }
    let mut dialog = Dialog::scale(d, state.production_in(&d.context));
    dialog.context = state.action_context(d);
    if let DialogKind::Scale { input, .. } = &mut dialog.kind {
        *input = p.min_needed.to_string();
    }
    state.mode = Mode::Dialog(Box::new(dialog));
}

/// `read_only = true` on the selected deployment's context: the key says so, and the other
/// contexts keep their actions.
fn read_only_context(state: &State, d: &crate::model::Deployment, key: &str) -> Option<String> {
    state.read_only_in(&d.context).then(|| {
        format!(
            "{key}: read-only in {} ([kubernetes.context.\"{}\"] read_only); the other contexts keep their actions",
            d.context, d.context
        )
    })
}

/// Hibernates the selected deployment, or wakes it when it is hibernated. A refusal
/// (a critical deployment, one already at 0) is said at once, without a dialog.
fn open_hibernate(state: &mut State) {
    let Some(d) = state.selected_deployment() else {
        state.notice = Some("no deployment selected: Kubernetes has reported none".into());
        return;
    };
    if let Some(why) = read_only_context(state, d, "z") {
        state.notice = Some(why);
        return;
    }
    let mut dialog = Dialog::hibernate(d, state.production_in(&d.context));
    dialog.context = state.action_context(d);
    match dialog.hibernate_plan(&state.config) {
        Ok(_) => state.mode = Mode::Dialog(Box::new(dialog)),
        Err(why) => {
            state.notice = Some(format!("z: refused: {why}"));
            state.last_outcome = None;
        }
    }
}

/// Opens (or re-opens, on a group change) the invalidate dialog. Live backends are asked for
/// a SCAN preview; the demo answers from its prefix counts.
fn open_invalidate(state: &mut State, group: usize, user_id: String) -> Vec<Effect> {
    let groups = &state.config.actions.invalidate.groups;
    let Some(g) = groups.get(group) else {
        state.notice = Some("no invalidation groups: add [[actions.invalidate.groups]]".into());
        return Vec::new();
    };
    let needs_user = g.patterns.iter().any(|p| p.contains("{user_id}"));
    let ask = !state.demo && (!needs_user || !user_id.trim().is_empty());
    // The per-prefix counts give an estimate for whole-prefix patterns like `answer:*`.
    let estimate = state.cache.value.as_ref().and_then(|c| {
        g.patterns
            .iter()
            .map(|p| {
                let prefix = p
                    .strip_suffix('*')
                    .filter(|s| !s.contains(['*', '?', '[', '{']))?;
                c.prefixes
                    .iter()
                    .find(|x| x.prefix == prefix)
                    .map(|x| x.keys)
            })
            .sum::<Option<u64>>()
    });
    let preview = if ask {
        Preview::Counting
    } else {
        Preview::None
    };
    let mut dialog = Dialog::new(DialogKind::Invalidate {
        group,
        keyed: needs_user,
        user_id,
        estimate,
        preview,
    });
    // Over the threshold, or not known at all on a live backend (counting, failed, or an
    // id not yet counted): the group's name must be typed.
    let unknown = !state.demo && estimate.is_none();
    if unknown || estimate.unwrap_or(0) > state.config.actions.confirm_typed_over_keys {
        dialog.require_typed = Some(g.name.clone());
    }
    // The preview counts what the same plan the confirm runs would delete; a plan refused
    // here (a bad user id, a pattern without a literal prefix) is said at once instead.
    let mut effects = Vec::new();
    if ask {
        match dialog.invalidate_plan(&state.config) {
            Ok(plan) => effects.push(Effect::PreviewInvalidate(plan)),
            Err(e) => {
                if let DialogKind::Invalidate { preview, .. } = &mut dialog.kind {
                    *preview = Preview::Failed(e);
                }
            }
        }
    }
    dialog.focus = dialog.first_focus();
    state.mode = Mode::Dialog(Box::new(dialog));
    effects
}

fn command(state: &mut State, mut line: String, key: KeyEvent) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => {}
        // Backspace on an empty line keeps the prompt open; Esc closes it.
        KeyCode::Backspace => {
            line.pop();
            state.mode = Mode::Command(line);
        }
        KeyCode::Char(c) => {
            line.push(c);
            state.mode = Mode::Command(line);
        }
        KeyCode::Enter => return run_command(state, line.trim()),
        _ => state.mode = Mode::Command(line),
    }
    Vec::new()
}

fn run_command(state: &mut State, line: &str) -> Vec<Effect> {
    let (word, arg) = line
        .split_once(' ')
        .map_or((line, ""), |(c, a)| (c, a.trim()));
    match command_named(word) {
        Some("q") => return quit(state),
        Some("view") => match View::from_name(arg) {
            Some(v) => state.view = v,
            None => {
                state.notice = Some(format!(
                    "unknown view {arg:?}: one of {}",
                    View::ALL.map(|v| v.name()).join(", ")
                ))
            }
        },
        Some("theme") if arg.is_empty() => {
            state.notice = Some(
                "theme: give a name (dark, light, high-contrast, solarized-dark) or a file".into(),
            )
        }
        Some("theme") => return vec![Effect::SetTheme(arg.into())],
        Some("filter") => state.filter = arg.into(),
        Some("help") => state.mode = Mode::Help,
        Some("ctx") => state.narrow_to(arg),
        Some(other) => unreachable!("COMMANDS lists :{other} but dispatch does not handle it"),
        None if word.is_empty() => {}
        // A view's name works as a command of its own (`:cost`).
        None => match View::from_name(word) {
            Some(v) => state.view = v,
            None => {
                let known: Vec<&str> = COMMANDS.iter().map(|c| c.usage).collect();
                state.notice = Some(format!(
                    "unknown command :{word} (try {})",
                    known.join(", ")
                ))
            }
        },
    }
    Vec::new()
}

fn filter(state: &mut State, mut text: String, key: KeyEvent) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => state.filter.clear(),
        KeyCode::Enter => state.filter = text,
        KeyCode::Backspace => {
            text.pop();
            state.filter = text.clone();
            state.mode = Mode::Filter(text);
        }
        KeyCode::Char(c) => {
            text.push(c);
            state.filter = text.clone();
            state.mode = Mode::Filter(text);
        }
        _ => state.mode = Mode::Filter(text),
    }
    state.selected = 0;
    Vec::new()
}

fn dialog_key(state: &mut State, mut dialog: Box<Dialog>, key: KeyEvent) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => return cancelled(state),
        KeyCode::Tab | KeyCode::Right
            if key.code == KeyCode::Tab || dialog.focus == Focus::Cancel =>
        {
            dialog.move_focus(true)
        }
        KeyCode::BackTab | KeyCode::Left
            if key.code == KeyCode::BackTab || dialog.focus == Focus::Confirm =>
        {
            dialog.move_focus(false)
        }
        KeyCode::Up | KeyCode::Down => {
            if let DialogKind::Invalidate { group, user_id, .. } = &dialog.kind {
                let n = state.config.actions.invalidate.groups.len().max(1);
                let next = if key.code == KeyCode::Down {
                    (group + 1) % n
                } else {
                    (group + n - 1) % n
                };
                return open_invalidate(state, next, user_id.clone());
            }
        }
        KeyCode::Enter => match dialog.focus {
            Focus::Input if matches!(dialog.kind, DialogKind::Invalidate { .. }) => {
                // The user id is complete: count what it matches; until the count is in,
                // the name is asked for, so the focus goes there.
                let DialogKind::Invalidate { group, user_id, .. } = &dialog.kind else {
                    unreachable!()
                };
                let effects = open_invalidate(state, *group, user_id.clone());
                if let Mode::Dialog(d) = &mut state.mode {
                    d.focus = if d.require_typed.is_some() {
                        Focus::Typed
                    } else {
                        Focus::Cancel
                    };
                }
                return effects;
            }
            // Enter in a field submits when the dialog is valid; a name still to type takes
            // the focus there first.
            Focus::Input | Focus::Typed | Focus::Confirm => match dialog.confirm(&state.config) {
                Ok(plan) => return vec![Effect::Run(plan)],
                Err(_) if dialog.focus == Focus::Input && dialog.require_typed.is_some() => {
                    dialog.error = None;
                    dialog.focus = Focus::Typed;
                }
                Err(e) => dialog.error = Some(e),
            },
            Focus::Cancel => return cancelled(state),
        },
        KeyCode::Backspace => {
            if let Some(s) = dialog.input_mut() {
                s.pop();
            }
        }
        KeyCode::Char(c) => {
            if dialog.focus == Focus::Input
                && let DialogKind::Invalidate { preview, group, .. } = &mut dialog.kind
            {
                // A new id is a new count: until it is known, the name must be typed.
                *preview = Preview::None;
                if !state.demo {
                    dialog.require_typed = state
                        .config
                        .actions
                        .invalidate
                        .groups
                        .get(*group)
                        .map(|g| g.name.clone());
                }
            }
            if let Some(s) = dialog.input_mut() {
                s.push(c);
                dialog.error = None;
            }
        }
        _ => {}
    }
    state.mode = Mode::Dialog(dialog);
    Vec::new()
}
