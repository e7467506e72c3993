//! No rendered number differs from the value it stands for: on every view, at 80x24,
//! 100x30 and 160x48, each figure the state holds shows whole, or not at all, or cut with
//! a `…` that says so. `target <100` for a 1000 ms target, or `$73.52/` for `$73.52/h`,
//! is a different figure, and fails here.

use chrono::{TimeZone, Utc};
use opsdeck::config::Config;
use opsdeck::domain::cost::HOURS_PER_MONTH;
use opsdeck::sources::sim;
use opsdeck::state::{State, View};
use opsdeck::ui::format;
use opsdeck::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn demo_state() -> State {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 15, 30, 0).unwrap();
    let mut state = State::new(Config::default(), now, true);
    let (_, history) = sim::backfill(2026, now);
    for u in history {
        state.apply(opsdeck::state::Msg::Source(u));
    }
    state
}

fn render(state: &State, w: u16, h: u16) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal
        .draw(|f| ui::draw(f, state, &Theme::default_dark()))
        .unwrap();
    let buf = terminal.backend().buffer().clone();
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect()
}

/// Every figure the views show, formatted as the views format it.
fn figures(state: &State) -> Vec<String> {
    let mut out = Vec::new();
    let cur = state.config.cost.currency.as_str();
    let r = &state.config.rules;
    out.push(format::ms(r.p95_up_ms));
    out.push(format::ms(r.cache_latency_ms));
    out.push(format::percent_precise(r.error_rate_alert));
    if let Some(m) = &state.metrics.value {
        for s in &m.services {
            for v in [s.p50_ms, s.p95_ms, s.p99_ms] {
                out.push(format::ms(v));
            }
            out.push(format::count(s.qps));
            out.push(format!("{} req/s", format::count(s.qps)));
            out.push(format::percent_precise(s.error_rate));
            out.push(format::count(s.queue_length));
        }
        for t in &m.models {
            out.push(format::count(t.input_per_sec));
            out.push(format::count(t.output_per_sec));
        }
    }
    if let Some(c) = &state.cache.value {
        if let Some(h) = c.hit_rate {
            out.push(format::ratio_pct(h));
        }
        out.push(format::bytes(c.used_memory_bytes));
        out.push(format::bytes(c.maxmemory_bytes));
        out.push(format::ms(c.ping_ms));
        out.push(format::count(c.ops_per_sec));
        out.push(format!("{}/s", format::count(c.hits_per_sec)));
        out.push(format!("{}/s", format::count(c.misses_per_sec)));
        out.push(format!("{}/s", format::count(c.expired_keys_per_sec)));
        out.push(format::count(c.keys as f64));
        for p in &c.prefixes {
            out.push(format!("≈{}", format::count(p.keys as f64)));
            out.push(format!("±{}", format::count(p.margin as f64)));
        }
    }
    if let Some(c) = &state.cost {
        let p = &c.per_hour;
        for v in [p.total, p.compute, p.storage, p.network, p.ai_model] {
            out.push(format!("{}/h", format::money(v, cur)));
        }
        out.push(format::money(p.total * HOURS_PER_MONTH, cur));
        out.push(format!(
            "{}/month",
            format::money(p.total * HOURS_PER_MONTH, cur)
        ));
        out.push(format!(
            "{}/mo",
            format::money(p.total * HOURS_PER_MONTH, cur)
        ));
        for d in &c.by_deployment {
            if let Some(v) = d.per_hour {
                out.push(format!("{}/h", format::money(v, cur)));
            }
        }
        for (_, v) in &c.by_model {
            out.push(format!("{}/h", format::money(*v, cur)));
        }
    }
    if let Some(k) = &state.cluster.value {
        let ready: u32 = k.deployments.iter().map(|d| d.ready).sum();
        let total: u32 = k.deployments.iter().map(|d| d.replicas).sum();
        out.push(format!("{ready}/{total}"));
        for d in &k.deployments {
            out.push(format!("{}/{}", d.ready, d.replicas));
        }
    }
    out.retain(|f| f.chars().any(|c| c.is_ascii_digit()) && f != format::MISSING);
    out.sort();
    out.dedup();
    out
}

/// Cells that separate figures: spaces and box drawing.
fn separator(c: char) -> bool {
    c.is_whitespace() || ('\u{2500}'..='\u{257f}').contains(&c)
}

/// Tokens on the screen that are a figure's beginning but not the whole figure, with no
/// `…` to say something was cut: `(line, token, the figure it was cut from)`. A plain
/// integer ("10 pods") may well be a figure of its own that begins another ("10.6/s"): it
/// counts as cut only where it touches the edge of its panel, where drawing cuts text.
fn cut_figures(screen: &[String], figures: &[String]) -> Vec<(usize, String, String)> {
    let mut bad = Vec::new();
    for (y, line) in screen.iter().enumerate() {
        let mut rest = line.as_str();
        while let Some(start) = rest.find(|c: char| !separator(c)) {
            let after = &rest[start..];
            let end = after.find(separator).unwrap_or(after.len());
            let token = &after[..end];
            let next = after[end..].chars().next();
            rest = &after[end..];
            let at_edge = next.is_none_or(|c| !c.is_whitespace());
            let t = token.trim_start_matches(['<', '>', '(', '~', '·']);
            let t = t.trim_end_matches([',', ';', ')', ':']);
            if t.ends_with('…') || !t.chars().any(|c| c.is_ascii_digit()) {
                continue;
            }
            if figures.iter().any(|f| f == t) {
                continue;
            }
            let integer = t.chars().all(|c| c.is_ascii_digit());
            if integer && !at_edge {
                continue;
            }
            if let Some(f) = figures
                .iter()
                .find(|f| f.starts_with(t) && f.chars().count() > t.chars().count())
            {
                bad.push((y, token.to_string(), f.clone()));
            }
        }
    }
    bad
}

#[test]
fn the_checker_sees_a_cut_figure() {
    let figs = vec!["1000ms".to_string(), "$73.52/h".to_string()];
    let screen = vec!["│llm-gateway · target <100│".to_string()];
    assert_eq!(cut_figures(&screen, &figs).len(), 1);
    let screen = vec!["│gpt-4   $73.52/│".to_string()];
    assert_eq!(cut_figures(&screen, &figs).len(), 1);
    let screen = vec!["│llm-gat… · target <1000ms│ $73.5… ".to_string()];
    assert_eq!(cut_figures(&screen, &figs), vec![]);
}

/// The demo with what makes lines and tables longer: a budget (the cost tile's note
/// grows), prompt caching (the models table gets a CACHED column).
fn crowded_state() -> State {
    let mut state = demo_state();
    state.config.cost.monthly_budget = Some(500_000.0);
    for model in ["gpt-4", "gpt-3.5-turbo"] {
        state
            .cost_inputs
            .cached_input_per_sec
            .insert(model.into(), 1234.5);
    }
    state
}

#[test]
fn no_view_cuts_a_figure_into_another_at_any_size() {
    let mut failures = Vec::new();
    for state in [demo_state(), crowded_state()] {
        check_every_view(&state, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn check_every_view(state: &State, failures: &mut Vec<String>) {
    let figs = figures(state);
    for view in View::ALL {
        for (w, h) in [(80, 24), (100, 30), (160, 48)] {
            let mut s = state.clone();
            s.view = view;
            let screen = render(&s, w, h);
            for (y, token, figure) in cut_figures(&screen, &figs) {
                failures.push(format!(
                    "{} {w}x{h} line {y}: {token:?} is cut from {figure:?}\n    {}",
                    view.name(),
                    screen[y]
                ));
            }
        }
    }
}
