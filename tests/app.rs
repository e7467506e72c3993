//! The console driven by keys: on `State` directly, and through the real App loop on
//! ratatui's `TestBackend` with a scripted event stream.

use chrono::{TimeZone, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use opsdeck::app::{self, App, Backends, Exit};
use opsdeck::config::Config;
use opsdeck::model::Observed;
use opsdeck::ops::ActionPlan;
use opsdeck::ops::invalidate::{InvalidatePlan, InvalidateTarget};
use opsdeck::ops::scale::PlannedChange;
use opsdeck::sources::sim;
use opsdeck::state::{Effect, Mode, Msg, State, View};
use opsdeck::ui::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn demo_state() -> State {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 15, 30, 0).unwrap();
    let mut state = State::new(Config::default(), now, true);
    let (_, history) = sim::backfill(2026, now);
    for u in history {
        state.apply(Msg::Source(u));
    }
    state
}

fn press(state: &mut State, code: KeyCode) -> Vec<Effect> {
    state.apply(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn typed(state: &mut State, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| press(state, KeyCode::Char(c)))
        .collect()
}

#[test]
fn views_switch_by_number_tab_and_command() {
    let mut s = demo_state();
    press(&mut s, KeyCode::Char('3'));
    assert_eq!(s.view, View::Cache);
    press(&mut s, KeyCode::Tab);
    assert_eq!(s.view, View::Latency);
    press(&mut s, KeyCode::BackTab);
    press(&mut s, KeyCode::BackTab);
    assert_eq!(s.view, View::Scaling);
    typed(&mut s, ":view cost");
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.view, View::Cost);
    typed(&mut s, ":view nowhere");
    press(&mut s, KeyCode::Enter);
    assert!(s.notice.as_deref().unwrap().contains("unknown view"));
    assert_eq!(s.view, View::Cost);
}

#[test]
fn filter_narrows_tables_and_esc_clears_it() {
    let mut s = demo_state();
    press(&mut s, KeyCode::Char('2'));
    // The demo's five: chat-api, retrieval, llm-gateway, embedding, kb-indexer.
    assert_eq!(s.visible_deployments().len(), 5);
    typed(&mut s, "/llm");
    assert!(matches!(s.mode, Mode::Filter(_)));
    assert_eq!(s.visible_deployments().len(), 1);
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.mode, Mode::Normal);
    assert_eq!(s.selected_deployment().unwrap().name, "llm-gateway");
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.visible_deployments().len(), 5);
}

#[test]
fn each_dialog_opens_and_cancels_without_effect() {
    for (key, title) in [('w', "Warm up"), ('i', "Invalidate"), ('s', "Scale")] {
        // Esc closes.
        let mut s = demo_state();
        press(&mut s, KeyCode::Char(key));
        let Mode::Dialog(d) = &s.mode else {
            panic!("{key} opened no dialog")
        };
        assert!(d.title().starts_with(title));
        assert!(press(&mut s, KeyCode::Esc).is_empty());
        assert_eq!(s.mode, Mode::Normal);
        assert_eq!(s.notice.as_deref(), Some("cancelled: nothing was done"));
        // Enter on Cancel closes too, and says so: no effect, no stale result shown.
        s.last_outcome = Some(Ok("an earlier scale".into()));
        press(&mut s, KeyCode::Char(key));
        let Mode::Dialog(d) = &mut s.mode else {
            panic!()
        };
        d.focus = opsdeck::state::Focus::Cancel;
        assert!(press(&mut s, KeyCode::Enter).is_empty());
        assert_eq!(s.mode, Mode::Normal, "dialog {key}");
        assert_eq!(s.notice.as_deref(), Some("cancelled: nothing was done"));
        assert_eq!(
            s.last_outcome, None,
            "the earlier result is not shown as this one's"
        );
    }
}

/// Enter in a valid input field submits; focus starts in the first field that takes input.
#[test]
fn enter_in_a_valid_field_submits_and_focus_starts_where_input_goes() {
    let mut s = demo_state();
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Char('s'));
    let Mode::Dialog(d) = &s.mode else { panic!() };
    assert_eq!(d.focus, opsdeck::state::Focus::Input);
    typed(&mut s, "5");
    let effects = press(&mut s, KeyCode::Enter);
    assert!(
        matches!(effects.as_slice(), [Effect::Run(ActionPlan::Scale(_))]),
        "{effects:?}"
    );
    // A whole-group invalidation has nothing to type but, being large, the group's name:
    // the focus starts there, and Enter with the name typed submits.
    let mut s = demo_state();
    press(&mut s, KeyCode::Char('i'));
    let Mode::Dialog(d) = &s.mode else { panic!() };
    assert_eq!(d.focus, opsdeck::state::Focus::Typed);
    typed(&mut s, "knowledge");
    let effects = press(&mut s, KeyCode::Enter);
    assert!(
        matches!(effects.as_slice(), [Effect::Run(ActionPlan::Invalidate(_))]),
        "{effects:?}"
    );
}

/// Keys act where their target is shown; elsewhere an action key says where to go, and
/// read-only says why nothing happens.
#[test]
fn keys_act_where_their_target_is_shown() {
    let mut s = demo_state();
    press(&mut s, KeyCode::Char('5'));
    press(&mut s, KeyCode::Char('s'));
    assert_eq!(s.mode, Mode::Normal);
    let notice = s.notice.clone().unwrap();
    assert!(notice.contains("scaling (2)"), "{notice}");
    press(&mut s, KeyCode::Char('w'));
    assert!(s.notice.clone().unwrap().contains("cache (3)"));
    let before = s.selected;
    press(&mut s, KeyCode::Char('j'));
    assert_eq!(s.selected, before, "no selection is drawn on the Cost view");
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.view, View::Cost, "Enter never jumps views");
    // Enter on Scaling opens the details; Esc closes them.
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Enter);
    assert!(s.details_open);
    press(&mut s, KeyCode::Esc);
    assert!(!s.details_open);
    // Read-only: the key says why it does nothing.
    s.read_only = true;
    press(&mut s, KeyCode::Char('s'));
    assert_eq!(s.mode, Mode::Normal);
    assert_eq!(
        s.notice.as_deref(),
        Some("s: read-only: actions are off (--read-only)")
    );
}

/// Under the minimum size, keys other than quit do nothing; the `:` line survives an
/// empty backspace; messages fade after ten seconds, errors stay until a key.
#[test]
fn small_screens_the_command_line_and_fading_messages() {
    let mut s = demo_state();
    s.apply(Msg::Resize(50, 15));
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Char('s'));
    assert_eq!((s.view, &s.mode), (View::Overview, &Mode::Normal));
    assert_eq!(press(&mut s, KeyCode::Char('q')), vec![Effect::Quit]);
    s.apply(Msg::Resize(80, 24));
    press(&mut s, KeyCode::Char(':'));
    press(&mut s, KeyCode::Backspace);
    assert_eq!(s.mode, Mode::Command(String::new()));
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.mode, Mode::Normal);
    let t0 = s.now;
    s.apply(Msg::Notice("the demo is busy".into()));
    s.apply(Msg::Tick(t0 + chrono::Duration::seconds(5)));
    assert!(s.notice.is_some());
    s.apply(Msg::Tick(t0 + chrono::Duration::seconds(11)));
    assert!(s.notice.is_none(), "a notice fades");
    s.apply(Msg::Action(opsdeck::ops::ActionEvent::Finished {
        kind: opsdeck::ops::ActionKind::Scale,
        outcome: Err("forbidden".into()),
    }));
    s.apply(Msg::Tick(t0 + chrono::Duration::seconds(60)));
    assert!(s.last_outcome.is_some(), "an error stays");
    press(&mut s, KeyCode::Char('1'));
    assert!(s.last_outcome.is_none(), "until a key");
}

#[test]
fn scale_confirms_an_hpa_minimum_and_refuses_out_of_bounds() {
    let mut s = demo_state();
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Char('s'));
    typed(&mut s, "99");
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Tab);
    assert!(
        press(&mut s, KeyCode::Enter).is_empty(),
        "99 is over the HPA max of 20"
    );
    let Mode::Dialog(d) = &s.mode else {
        panic!("dialog closed on bad input")
    };
    assert_eq!(
        d.error.as_deref(),
        Some(
            "HPA retrieval-hpa would get minReplicas 99 above its maxReplicas 20: raise maxReplicas too"
        )
    );
    press(&mut s, KeyCode::BackTab);
    press(&mut s, KeyCode::BackTab);
    press(&mut s, KeyCode::Backspace);
    press(&mut s, KeyCode::Backspace);
    typed(&mut s, "6");
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Right);
    let shown = Observed::of(s.selected_deployment().unwrap());
    let effects = press(&mut s, KeyCode::Enter);
    let [Effect::Run(ActionPlan::Scale(plan))] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(
        (plan.namespace.as_str(), plan.name.as_str()),
        ("cs-prod", "retrieval")
    );
    let hpa = shown.hpa.clone().unwrap();
    assert_eq!(
        plan.change,
        PlannedChange::Hpa {
            hpa: hpa.name,
            min: (hpa.min, 6),
            max: (hpa.max, hpa.max)
        }
    );
    assert_eq!(
        plan.seen, shown,
        "the plan is made on what the dialog showed"
    );
    assert_eq!(s.mode, Mode::Normal);
}

#[test]
fn invalidating_a_user_needs_the_id_and_large_groups_need_the_name_typed() {
    let mut s = demo_state();
    press(&mut s, KeyCode::Char('i'));
    let Mode::Dialog(d) = &s.mode else { panic!() };
    // The knowledge group holds ~200k keys in the demo, over confirm_typed_over_keys.
    assert_eq!(d.require_typed.as_deref(), Some("knowledge"));
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Tab);
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    press(&mut s, KeyCode::Down);
    let Mode::Dialog(d) = &s.mode else { panic!() };
    assert_eq!(d.require_typed, None, "one user's keys are few");
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Tab);
    assert!(press(&mut s, KeyCode::Enter).is_empty(), "no user id given");
    let Mode::Dialog(d) = &s.mode else { panic!() };
    assert!(d.error.as_deref().unwrap().contains("user id"));
    press(&mut s, KeyCode::BackTab);
    press(&mut s, KeyCode::BackTab);
    typed(&mut s, "42");
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Tab);
    assert_eq!(
        press(&mut s, KeyCode::Enter),
        vec![Effect::Run(ActionPlan::Invalidate(InvalidatePlan {
            target: InvalidateTarget::user("42"),
            patterns: vec!["user:42:*".into()],
        }))]
    );
}

#[test]
fn read_only_removes_every_action() {
    let mut s = demo_state();
    s.read_only = true;
    for k in ['w', 'i', 's'] {
        press(&mut s, KeyCode::Char(k));
        assert_eq!(s.mode, Mode::Normal, "{k} in read-only");
    }
}

#[test]
fn quit_by_q_ctrl_c_and_command() {
    let mut s = demo_state();
    assert_eq!(press(&mut s, KeyCode::Char('q')), vec![Effect::Quit]);
    assert_eq!(
        s.apply(Msg::Key(KeyEvent::new(
            KeyCode::Char('c'),
            KeyModifiers::CONTROL
        ))),
        vec![Effect::Quit]
    );
    typed(&mut s, ":q");
    assert_eq!(press(&mut s, KeyCode::Enter), vec![Effect::Quit]);
    // `q` typed into a dialog is text, not quit.
    press(&mut s, KeyCode::Char('w'));
    assert!(press(&mut s, KeyCode::Char('q')).is_empty());
}

fn keys(text: &str) -> Vec<std::io::Result<Event>> {
    text.chars()
        .map(|c| {
            let code = match c {
                '\n' => KeyCode::Enter,
                c => KeyCode::Char(c),
            };
            Ok(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
        })
        .collect()
}

fn app(state: State) -> App {
    let (_utx, updates) = tokio::sync::mpsc::channel(4);
    let (_atx, actions) = tokio::sync::mpsc::channel(4);
    App {
        state,
        theme: Theme::default_dark(),
        no_color: false,
        backends: Backends::default(),
        updates,
        actions,
    }
}

#[tokio::test]
async fn the_loop_applies_theme_command_and_quits() {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let events = futures::stream::iter(keys(":theme light\n4q"));
    let exit = app::run(&mut terminal, events, &mut app(demo_state()))
        .await
        .unwrap();
    assert_eq!(exit, Exit::Quit);
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("SERVICE"),
        "view 4 drawn before quitting: {screen}"
    );
}

#[tokio::test]
async fn the_loop_ends_when_the_terminal_goes_away() {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let events = futures::stream::iter(keys("2j"));
    assert_eq!(
        app::run(&mut terminal, events, &mut app(demo_state()))
            .await
            .unwrap(),
        Exit::TerminalClosed
    );
    let failing = futures::stream::iter(vec![Err(std::io::Error::other("EIO"))]);
    assert_eq!(
        app::run(&mut terminal, failing, &mut app(demo_state()))
            .await
            .unwrap(),
        Exit::TerminalClosed
    );
}

#[test]
fn a_wall_screen_cycles_views_until_someone_presses_a_key() {
    let mut s = demo_state();
    s.config.ui.cycle_s = 30;
    let t0 = s.now;
    let at = |secs| Msg::Tick(t0 + chrono::Duration::seconds(secs));
    s.apply(at(10));
    assert_eq!(s.view, View::Overview, "not yet");
    s.apply(at(30));
    assert_eq!(s.view, View::Scaling);
    s.apply(at(60));
    assert_eq!(s.view, View::Cache);
    // A key holds the view for one more period.
    press(&mut s, KeyCode::Char('4'));
    s.apply(at(80));
    assert_eq!(s.view, View::Latency);
    s.apply(at(95));
    assert_eq!(s.view, View::Cost);
    s.apply(at(125));
    assert_eq!(s.view, View::Overview, "logs are left out of the cycle");
    // An open dialog is never moved away from.
    press(&mut s, KeyCode::Char('?'));
    s.apply(at(400));
    assert_eq!((s.view, &s.mode), (View::Overview, &Mode::Help));
}

#[test]
fn a_scale_conflict_does_not_replace_a_dialog_opened_meanwhile() {
    use opsdeck::ops::ActionEvent;
    use opsdeck::ops::scale::ScaleTarget;
    let mut s = demo_state();
    press(&mut s, KeyCode::Char('w'));
    let conflict = ActionEvent::ScaleConflict {
        context: None,
        namespace: "cs-prod".into(),
        name: "chat-api".into(),
        target: ScaleTarget::Replicas(3),
        before: Box::default(),
        now: Box::new(Observed {
            replicas: 6,
            ..Default::default()
        }),
        message: "cs-prod/chat-api: changed since it was read".into(),
    };
    s.apply(Msg::Action(conflict.clone()));
    let Mode::Dialog(d) = &s.mode else { panic!() };
    assert!(
        d.title().starts_with("Warm up"),
        "the operator's dialog stays"
    );
    let outcome = s.last_outcome.clone().unwrap().unwrap_err();
    assert!(outcome.contains("changed since it was read"), "{outcome}");
    // With nothing open, the scale dialog comes back.
    press(&mut s, KeyCode::Esc);
    s.apply(Msg::Action(conflict));
    let Mode::Dialog(d) = &s.mode else { panic!() };
    assert!(d.title().starts_with("Scale"));
}

/// On a live backend, an invalidation whose count is not known (still counting, the count
/// failed, or a new user id not yet counted) asks for the group's name to be typed; a count
/// under the threshold lifts that.
#[test]
fn an_unknown_count_asks_for_the_name_to_be_typed() {
    use opsdeck::config::RedisConfig;
    use opsdeck::ops::ActionEvent;
    let config = Config {
        redis: Some(RedisConfig::default()),
        ..Default::default()
    };
    let mut s = State::new(config, Utc::now(), false);
    let require = |s: &State| match &s.mode {
        Mode::Dialog(d) => d.require_typed.clone(),
        m => panic!("{m:?}"),
    };
    let effects = press(&mut s, KeyCode::Char('i'));
    assert!(matches!(effects.as_slice(), [Effect::PreviewInvalidate(_)]));
    assert_eq!(require(&s).as_deref(), Some("knowledge"), "counting");
    let answer = |result| {
        Msg::Action(ActionEvent::Preview {
            group: "knowledge".into(),
            user_id: None,
            result,
        })
    };
    s.apply(answer(Err("connection refused".into())));
    assert_eq!(require(&s).as_deref(), Some("knowledge"), "failed");
    s.apply(answer(Ok((3, vec!["answer:1".into()]))));
    assert_eq!(require(&s), None, "3 keys, counted");
    // The user group: a typed id is a new, uncounted target.
    press(&mut s, KeyCode::Down);
    typed(&mut s, "4");
    assert_eq!(require(&s).as_deref(), Some("user"));
    // Confirming without the name is refused and says why.
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Tab);
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    let Mode::Dialog(d) = &s.mode else { panic!() };
    assert_eq!(d.error.as_deref(), Some("type \"user\" to confirm"));
}

/// Every `:` command help lists is handled, and an unlisted one says what exists.
#[test]
fn every_listed_command_is_handled() {
    use opsdeck::state::keymap::COMMANDS;
    for c in COMMANDS {
        for name in c.names {
            let mut s = demo_state();
            press(&mut s, KeyCode::Char(':'));
            typed(&mut s, &format!("{name} overview"));
            press(&mut s, KeyCode::Enter);
            assert!(
                s.notice
                    .as_deref()
                    .is_none_or(|n| !n.starts_with("unknown command")),
                ":{name}: {:?}",
                s.notice
            );
        }
    }
    let mut s = demo_state();
    press(&mut s, KeyCode::Char(':'));
    typed(&mut s, "frobnicate");
    press(&mut s, KeyCode::Enter);
    let notice = s.notice.unwrap();
    assert!(
        notice.contains(":filter TEXT") && notice.contains(":view NAME"),
        "{notice}"
    );
}

/// Every message the status bar shows can be read again in the Logs view.
#[test]
fn notices_are_kept_in_the_logs_view() {
    let mut s = demo_state();
    press(&mut s, KeyCode::Char('5'));
    press(&mut s, KeyCode::Char('s'));
    let notice = s.notice.clone().unwrap();
    assert!(
        s.logs.matching("").any(|l| l.text == notice),
        "{notice} is not in the log"
    );
}
