//! A password written into the Prometheus URL never reaches the operator: not in
//! `snapshot --json` or its text form (the real binary), not in `check-config`, not on the
//! Latency view or the status bar (the real source's error drawn on a `TestBackend`).
//! The server answers 500 or refuses, so every message that quotes the URL is exercised.

mod support;

use chrono::Utc;
use opsdeck::config::{Config, PrometheusConfig, RedisConfig};
use opsdeck::sources::prometheus;
use opsdeck::state::{Msg, State, View};
use opsdeck::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use support::http::{HttpServer, Response};

const CANARY: &str = "canary-pw-1";
const REDIS_CANARY: &str = "canary-redis-2";

/// A Prometheus that answers every request with HTTP 500.
fn failing_server() -> HttpServer {
    HttpServer::start(Arc::new(|_, _| Response {
        status: 500,
        content_type: "text/plain",
        body: "internal error".into(),
    }))
}

/// A loopback address nothing listens on.
fn refusing_addr() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

fn with_password(addr: &str) -> String {
    format!("http://u:{CANARY}@{addr}")
}

fn opsdeck(config: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("CANARY_REDIS_PASSWORD", REDIS_CANARY)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn snapshot_and_check_config_never_print_the_url_password() {
    let server = failing_server();
    let dir = tempfile::tempdir().unwrap();
    for addr in [server.addr.to_string(), refusing_addr()] {
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            format!(
                "[ui]\nrefresh_ms = 200\n\
                 [prometheus]\nurl = \"{}\"\ntimeout_ms = 2000\n\
                 [redis]\nurl = \"redis://{}/0\"\npassword = \"${{CANARY_REDIS_PASSWORD}}\"\n",
                with_password(&addr),
                refusing_addr(),
            ),
        )
        .unwrap();
        let json = opsdeck(&path, &["snapshot", "--json"]);
        assert!(
            !json.contains(CANARY) && !json.contains(REDIS_CANARY),
            "{json}"
        );
        // The error is there, with the URL as it may be shown.
        assert!(json.contains(&format!("http://***@{addr}/")), "{json}");
        let text = opsdeck(&path, &["snapshot"]);
        assert!(
            !text.contains(CANARY) && !text.contains(REDIS_CANARY),
            "{text}"
        );
        assert!(text.contains("prometheus"), "{text}");
        let check = opsdeck(&path, &["check-config", path.to_str().unwrap()]);
        assert!(
            !check.contains(CANARY) && !check.contains(REDIS_CANARY),
            "{check}"
        );
        assert!(check.contains("***@"), "{check}");
    }
}

/// The real Prometheus source against `addr`: its first report, an error.
fn first_error(cfg: &PrometheusConfig) -> opsdeck::sources::SourceUpdate {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        let task = tokio::spawn(prometheus::run(cfg.clone(), Duration::from_millis(100), tx));
        let u = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a report within 10 s")
            .unwrap();
        task.abort();
        u
    })
}

fn screen(state: &State, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal
        .draw(|f| ui::draw(f, state, &Theme::default_dark()))
        .unwrap();
    terminal.backend().to_string()
}

#[test]
fn latency_view_and_status_bar_never_show_the_url_password() {
    support::install_crypto();
    let server = failing_server();
    for addr in [server.addr.to_string(), refusing_addr()] {
        let prom = PrometheusConfig {
            url: with_password(&addr),
            timeout_ms: 2000,
            ..Default::default()
        };
        let update = first_error(&prom);
        let error = update.payload.as_ref().err().cloned().expect("an error");
        assert!(error.contains(&addr), "{error}");
        let config = Config {
            prometheus: Some(prom.clone()),
            redis: Some(RedisConfig {
                password: Some(REDIS_CANARY.into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut state = State::new(config, Utc::now(), false);
        state.apply(Msg::Source(update));
        // An action's error quoting the URL as configured, as the status bar shows it.
        state.last_outcome = Some(Err(format!(
            "warmup {}/warmup: HTTP 500 ({REDIS_CANARY} rejected)",
            prom.url
        )));
        for view in [View::Latency, View::Overview] {
            state.view = view;
            for (w, h) in [(160, 48), (80, 24)] {
                let s = screen(&state, w, h);
                assert!(!s.contains(CANARY) && !s.contains(REDIS_CANARY), "{s}");
                assert!(s.contains("prometheus"), "{s}");
            }
        }
        state.view = View::Latency;
        let s = screen(&state, 160, 48);
        assert!(s.contains(&format!("http://***@{addr}/")), "{s}");
        assert!(s.contains("warmup http://***@"), "{s}");
        assert!(!format!("{:?}", state.config).contains(CANARY));
    }
}

/// A server or proxy may quote the request's `Authorization: Basic` header back in an error
/// body: the header, base64 of `user:password`, is a secret like the password.
#[test]
fn a_basic_auth_header_is_a_secret_too() {
    use opsdeck::config::redact::{basic_auth_token, redact_text};
    // RFC 7617's example, then each padding length.
    for (user, pw, header) in [
        ("Aladdin", "open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        ("a", "b", "YTpi"),
        ("a", "bc", "YTpiYw=="),
        ("a", "bcd", "YTpiY2Q="),
    ] {
        assert_eq!(basic_auth_token(user, pw), header);
    }
    // From the URL's userinfo (percent-decoded, as the client sends it) and from
    // username/password.
    let p = PrometheusConfig {
        url: "http://ops:p%40ss@prom:9090".into(),
        username: Some("u".into()),
        password: Some("field-pw".into()),
        ..Default::default()
    };
    let secrets = p.secrets();
    for header in ["b3BzOnBAc3M=", "dTpmaWVsZC1wdw=="] {
        assert!(secrets.iter().any(|s| s == header), "{header}: {secrets:?}");
        let shown = redact_text(&format!("401: authorization: Basic {header}"), &secrets);
        assert_eq!(shown, "401: authorization: Basic ***");
    }
}

/// The token read from `bearer_token_file` is a secret like `bearer_token`: a server that
/// quotes it back in its error body does not get it on screen.
#[test]
fn a_token_from_bearer_token_file_is_a_secret_too() {
    const TOKEN: &str = "canary-file-token-3";
    support::install_crypto();
    let server = HttpServer::start(Arc::new(|_, _| Response {
        status: 401,
        content_type: "text/plain",
        body: format!("invalid bearer token {TOKEN}"),
    }));
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let cfg = PrometheusConfig {
        url: format!("http://{}", server.addr),
        bearer_token_file: Some(token_file),
        ..Default::default()
    };
    let err = first_error(&cfg).payload.unwrap_err();
    assert!(err.contains("401"), "{err}");
    assert!(!err.contains(TOKEN), "{err}");
    assert!(err.contains("invalid bearer token ***"), "{err}");
}
