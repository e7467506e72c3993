//! A Prometheus that accepts connections and never answers: the source times out and says
//! so, and keys still reach the screen at once (key-to-frame latency is measured and
//! printed). Also: one query per panel per refresh, counted at a fake server.

mod support;

use chrono::Utc;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use opsdeck::app::{self, App, Backends, Exit};
use opsdeck::config::{Config, PrometheusConfig};
use opsdeck::sources::SourceUpdate;
use opsdeck::sources::prometheus;
use opsdeck::state::State;
use opsdeck::ui::Theme;
use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, TestBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use std::time::{Duration, Instant};
use support::http::{HttpServer, Response};

/// Accepts connections and holds them open without reading or answering.
fn black_hole() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming() {
            held.push(c);
        }
    });
    url
}

fn config(url: String, timeout_ms: u64) -> PrometheusConfig {
    PrometheusConfig {
        url,
        timeout_ms,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_with_the_url() {
    support::install_crypto();
    let url = black_hole();
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let task = tokio::spawn(prometheus::run(
        config(url.clone(), 300),
        Duration::from_millis(200),
        tx,
    ));
    let u = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an update within 10 s")
        .unwrap();
    let e = u.payload.unwrap_err();
    assert!(
        e.contains(&url) && e.contains("no answer within 300 ms"),
        "{e}"
    );
    task.abort();
}

/// A TestBackend that reports each finished frame: when, and which view it shows.
struct Timed {
    inner: TestBackend,
    frames: std_mpsc::Sender<(Instant, bool)>,
}

impl Backend for Timed {
    type Error = Infallible;
    fn draw<'a, I: Iterator<Item = (u16, u16, &'a Cell)>>(
        &mut self,
        c: I,
    ) -> Result<(), Infallible> {
        self.inner.draw(c)
    }
    fn hide_cursor(&mut self) -> Result<(), Infallible> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Infallible> {
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Infallible> {
        self.inner.get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, p: P) -> Result<(), Infallible> {
        self.inner.set_cursor_position(p)
    }
    fn clear(&mut self) -> Result<(), Infallible> {
        self.inner.clear()
    }
    fn clear_region(&mut self, t: ClearType) -> Result<(), Infallible> {
        self.inner.clear_region(t)
    }
    fn size(&self) -> Result<Size, Infallible> {
        self.inner.size()
    }
    fn window_size(&mut self) -> Result<WindowSize, Infallible> {
        self.inner.window_size()
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        self.inner.flush()?;
        // The overview has a Deployments table; the latency view does not.
        let overview = self.inner.to_string().contains("Deployments");
        let _ = self.frames.send((Instant::now(), overview));
        Ok(())
    }
}

fn key(c: char) -> std::io::Result<Event> {
    Ok(Event::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_reach_the_screen_while_prometheus_hangs() {
    support::install_crypto();
    let cfg = config(black_hole(), 2000);
    let state = State::new(
        Config {
            prometheus: Some(cfg.clone()),
            ..Config::default()
        },
        Utc::now(),
        false,
    );
    let (update_tx, updates) = tokio::sync::mpsc::channel::<SourceUpdate>(64);
    let (_atx, actions) = tokio::sync::mpsc::channel(4);
    let source = tokio::spawn(prometheus::run(cfg, Duration::from_millis(100), update_tx));
    let mut app = App {
        state,
        theme: Theme::default_dark(),
        no_color: false,
        backends: Backends::default(),
        updates,
        actions,
    };
    let (frames_tx, frames) = std_mpsc::channel();
    let mut terminal = Terminal::new(Timed {
        inner: TestBackend::new(120, 40),
        frames: frames_tx,
    })
    .unwrap();
    let (keys, events) = futures::channel::mpsc::unbounded();
    // The operator: a key every 20-60 ms, waiting for the frame that shows its effect.
    let operator = std::thread::spawn(move || {
        let mut latencies = Vec::new();
        std::thread::sleep(Duration::from_millis(300));
        for i in 0..150 {
            let to_overview = i % 2 == 1;
            while frames.try_recv().is_ok() {}
            let sent = Instant::now();
            keys.unbounded_send(key(if to_overview { '1' } else { '4' }))
                .unwrap();
            loop {
                let (at, overview) = frames
                    .recv_timeout(Duration::from_secs(5))
                    .expect("a frame within 5 s of a key");
                if overview == to_overview && at >= sent {
                    latencies.push(at - sent);
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(20 + (i * 7 % 41) as u64));
        }
        keys.unbounded_send(key('q')).unwrap();
        latencies
    });
    let exit = app::run(&mut terminal, events, &mut app).await.unwrap();
    assert_eq!(exit, Exit::Quit);
    let mut lat = operator.join().unwrap();
    source.abort();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p).ceil() as usize).min(lat.len()) - 1];
    let (p50, p99, max) = (pct(0.50), pct(0.99), lat[lat.len() - 1]);
    println!(
        "key-to-frame with a hanging Prometheus, {} keys: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        lat.len(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
    // The target is 30 ms; the bound is loose so a busy machine cannot make it flake.
    assert!(p99 < Duration::from_millis(250), "p99 {p99:?}");
    // And the source did report the hang meanwhile.
    assert!(
        app.state
            .metrics
            .error
            .as_ref()
            .is_some_and(|(e, _)| e.contains("no answer"))
    );
}

const VECTOR: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"service":"chat-api","deployment":"chat-api","model":"gpt-4"},"value":[1,"1"]}]}}"#;
const MATRIX: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;

#[tokio::test]
async fn one_query_per_panel_per_refresh() {
    support::install_crypto();
    let counts: Arc<Mutex<BTreeMap<(String, String), usize>>> = Arc::default();
    let seen = counts.clone();
    let server = HttpServer::start(Arc::new(move |target: &str, _: &[(String, String)]| {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let promql = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("query="))
            .unwrap_or("")
            .to_string();
        *seen
            .lock()
            .unwrap()
            .entry((path.to_string(), promql))
            .or_default() += 1;
        Response {
            status: 200,
            content_type: "application/json",
            body: if path.ends_with("query_range") {
                MATRIX
            } else {
                VECTOR
            }
            .into(),
        }
    }));
    let (tx, mut rx) = tokio::sync::mpsc::channel(512);
    let refresh = Duration::from_millis(200);
    let started = Instant::now();
    // This fake serves no config, so the pace is set: [prometheus] refresh_ms.
    let cfg = PrometheusConfig {
        refresh_ms: Some(refresh.as_millis() as u64),
        ..config(server.url(), 2000)
    };
    let task = tokio::spawn(prometheus::run(cfg, refresh, tx));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    task.abort();
    let elapsed = started.elapsed();
    let mut live = 0;
    while let Ok(u) = rx.try_recv() {
        assert!(u.payload.is_ok(), "{:?}", u.payload);
        // Back-filled updates are in the past; live rounds are now.
        if Utc::now() - u.at < chrono::Duration::seconds(5) {
            live += 1;
        }
    }
    // One tick for the back-fill, then one round per tick.
    let ticks = (elapsed.as_millis() / refresh.as_millis()) as usize + 1;
    let counts = counts.lock().unwrap();
    let ranges: Vec<usize> = counts
        .iter()
        .filter(|((p, _), _)| p == "/api/v1/query_range")
        .map(|(_, n)| *n)
        .collect();
    let instants: Vec<usize> = counts
        .iter()
        .filter(|((p, _), _)| p == "/api/v1/query")
        .map(|(_, n)| *n)
        .collect();
    println!("{ticks} ticks, {live} live updates, per-panel instant queries {instants:?}");
    assert_eq!(ranges, vec![1; 12], "one back-fill range query per panel");
    assert_eq!(instants.len(), 12, "twelve distinct panel queries");
    assert!(live >= 5, "rounds ran: {live}");
    for n in instants {
        assert!(
            n <= ticks && n <= live + 1,
            "{n} queries for one panel in {ticks} refreshes"
        );
    }
}

#[tokio::test]
async fn credentials_reach_the_server_and_a_bad_ca_file_is_named() {
    support::install_crypto();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let server = HttpServer::start(Arc::new(move |_: &str, headers: &[(String, String)]| {
        let auth = headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        log.lock().unwrap().push(auth);
        Response {
            status: 200,
            content_type: "application/json",
            body: VECTOR.into(),
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret\n").unwrap();
    let refresh = Duration::from_millis(10);
    let with_file = PrometheusConfig {
        bearer_token_file: Some(token),
        ..config(server.url(), 2000)
    };
    assert!(
        prometheus::snapshot(&with_file, refresh)
            .await
            .payload
            .is_ok()
    );
    let basic = PrometheusConfig {
        username: Some("opsdeck".into()),
        password: Some("pw".into()),
        ..config(server.url(), 2000)
    };
    assert!(prometheus::snapshot(&basic, refresh).await.payload.is_ok());
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 24);
    assert!(seen[..12].iter().all(|a| a == "Bearer s3cret"), "{seen:?}");
    // base64("opsdeck:pw")
    assert!(
        seen[12..].iter().all(|a| a == "Basic b3BzZGVjazpwdw=="),
        "{seen:?}"
    );

    let bad_ca = dir.path().join("ca.pem");
    std::fs::write(&bad_ca, "not a certificate").unwrap();
    let cfg = PrometheusConfig {
        ca_file: Some(bad_ca),
        ..config(server.url(), 2000)
    };
    let e = prometheus::snapshot(&cfg, refresh)
        .await
        .payload
        .unwrap_err();
    assert!(
        e.contains("ca.pem") && e.contains("[prometheus].ca_file"),
        "{e}"
    );
}
