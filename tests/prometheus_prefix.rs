//! Per-prefix hit rates: a real `prometheus` scrapes the test exporter's per-prefix
//! lookup counters; the source's figures equal the rates set by hand, the Cache view shows
//! them graded with a mark that reads without colour, and `snapshot --json` carries them
//! beside a real redis-server's per-prefix key counts.

mod support;

use chrono::Utc;
use opsdeck::config::{Config, PrometheusConfig};
use opsdeck::sources::prometheus::{self, api::Client};
use opsdeck::state::{Msg, State, View};
use std::collections::BTreeMap;
use std::time::Duration;
use support::exporter::{Exporter, Model};
use support::prometheus::Prometheus;
use support::redis::RedisServer;

/// The brief's query, over 10 s windows so a few 1 s scrapes fill them.
const BY_PREFIX: &str = "sum by (prefix) (rate(app_cache_hits_total[10s])) / sum by (prefix) (rate(app_cache_lookups_total[10s]))";

/// hits/s and lookups/s per `prefix` label: 90 %, 60 % (labelled without its ':') and a
/// prefix Redis is not asked to count, 75 %.
fn lookups() -> Vec<(String, f64, f64)> {
    vec![
        ("answer:".into(), 45.0, 50.0),
        ("user".into(), 12.0, 20.0),
        ("session:".into(), 3.0, 4.0),
    ]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_prefix_hit_rates_from_prometheus_reach_the_view_and_the_snapshot() {
    support::install_crypto();
    let exporter = Exporter::start(Model {
        prefix_lookups: lookups(),
        ..Model::default()
    });
    let prom = Prometheus::start(&[exporter.server.addr]);
    let redis = RedisServer::start();
    for key in ["answer:1", "answer:2", "user:7:profile"] {
        redis.cli(&["SET", key, "x"]);
    }
    tokio::time::sleep(Duration::from_secs(4)).await;

    // The source's figures, against the rates set above (the counters advance together,
    // so each ratio is exact whatever the scrape timing).
    let mut pcfg = PrometheusConfig {
        url: prom.url(),
        timeout_ms: 2000,
        ..Default::default()
    };
    pcfg.queries.cache_hit_rate_by_prefix = Some(BY_PREFIX.into());
    let client = Client::new(&pcfg).unwrap();
    let m = prometheus::query_round(&client, &pcfg.queries, Utc::now())
        .await
        .unwrap();
    let rates = &m.cache_hit_rate_by_prefix;
    assert_eq!(
        rates.keys().collect::<Vec<_>>(),
        ["answer:", "session:", "user"],
        "{:?}",
        m.problems
    );
    assert!(close(rates["answer:"], 0.9), "{rates:?}");
    assert!(close(rates["user"], 0.6), "{rates:?}");
    assert!(close(rates["session:"], 0.75), "{rates:?}");

    // The Cache view, without colour: each rate with its grade's mark.
    let mut rcfg = redis.config();
    rcfg.prefixes = vec!["answer:".into(), "knowledge:".into(), "user:".into()];
    let config = Config {
        prometheus: Some(pcfg.clone()),
        redis: Some(rcfg),
        ..Config::default()
    };
    let mut state = State::new(config.clone(), Utc::now(), false);
    for u in opsdeck::sources::registry::snapshot_all(&config, Duration::from_millis(500)).await {
        state.apply(Msg::Source(u));
    }
    state.view = View::Cache;
    let screen = render(&state);
    let row = |prefix: &str| {
        screen
            .lines()
            .find(|l| l.contains(&format!("│{prefix} ")))
            .unwrap_or_else(|| panic!("no row for {prefix}:\n{screen}"))
            .to_string()
    };
    assert!(row("answer:").contains("90% ✓"), "{screen}");
    assert!(row("user:").contains("60% ✖"), "{screen}");
    assert!(row("session:").contains("75% !"), "{screen}");
    assert!(row("knowledge:").contains("—"), "{screen}");
    assert!(screen.contains("HIT"), "{screen}");

    // The snapshot through the binary carries the same figures.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[prometheus]\nurl = \"{}\"\n[prometheus.queries]\ncache_hit_rate_by_prefix = '{BY_PREFIX}'\n\
             [redis]\nurl = \"{}\"\nprefixes = [\"answer:\", \"knowledge:\", \"user:\"]\n",
            prom.url(),
            redis.url()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["--config", path.to_str().unwrap(), "snapshot", "--json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cache = &json["cache"];
    let hit = |p: &str| cache["prefix_hit_rates"][p].as_f64();
    assert!(close(hit("answer:").unwrap(), 0.9), "{cache}");
    assert!(close(hit("user:").unwrap(), 0.6), "{cache}");
    assert!(close(hit("session:").unwrap(), 0.75), "{cache}");
    assert!(cache["prefix_hit_rates"]["knowledge:"].is_null(), "{cache}");
    let grades: BTreeMap<String, String> =
        serde_json::from_value(cache["grade"]["prefix_hit_rates"].clone()).unwrap();
    assert_eq!(
        grades,
        [
            ("answer:", "ok"),
            ("knowledge:", "unknown"),
            ("session:", "warn"),
            ("user:", "critical")
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into()
    );
    // The key counts are unchanged beside them.
    assert_eq!(cache["prefixes"]["answer:"], 2, "{cache}");
    assert!(json["metrics"]["cache_hit_rate_by_prefix"]["user"].is_number());
}

fn render(state: &State) -> String {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 30)).unwrap();
    t.draw(|f| opsdeck::ui::draw(f, state, &opsdeck::ui::Theme::no_color()))
        .unwrap();
    t.backend().to_string()
}
