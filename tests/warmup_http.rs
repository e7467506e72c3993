//! `[actions.warmup] http_url`: warmup POSTs the entries to the service's own endpoint.
//! A hand-written HTTP/1.1 server on loopback records what it was sent and answers as
//! told: 200, 500, or never.

mod support;

use opsdeck::config::{CacheConfig, Config};
use opsdeck::ops::audit::Audit;
use opsdeck::ops::warmup::{WarmupOptions, WarmupTarget, parse_jsonl, warmup_to};
use opsdeck::ops::{ActionEvent, CancelFlag};
use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// What the test server received.
#[derive(Debug)]
struct Request {
    head: String,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

enum Reply {
    Status(u16, &'static str, &'static str),
    Never,
    /// 200 with a first line and then this many bytes more, length undeclared.
    Endless(usize),
}

/// Serves connections on a loopback port until dropped; each request is sent on the channel.
async fn serve(reply: Reply) -> (String, mpsc::UnboundedReceiver<Request>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/internal/warmup", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    let reply = std::sync::Arc::new(reply);
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            let reply = reply.clone();
            tokio::spawn(async move {
                let Some(req) = read_request(&mut sock).await else {
                    return;
                };
                let _ = tx.send(req);
                match *reply {
                    Reply::Status(code, reason, body) => {
                        let text = format!(
                            "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain\r\n\
                             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = sock.write_all(text.as_bytes()).await;
                        let _ = sock.shutdown().await;
                    }
                    // Keeps the connection open without a byte of answer.
                    Reply::Never => tokio::time::sleep(Duration::from_secs(60)).await,
                    Reply::Endless(len) => {
                        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\
                                    Connection: close\r\n\r\nwarmed 3 entries\n";
                        let _ = sock.write_all(head.as_bytes()).await;
                        let chunk = vec![b'.'; 64 * 1024];
                        let mut sent = 0;
                        while sent < len && sock.write_all(&chunk).await.is_ok() {
                            sent += chunk.len();
                        }
                        let _ = sock.shutdown().await;
                    }
                }
            });
        }
    });
    (url, rx)
}

async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut req = Request {
        head,
        body: buf[head_end + 4..].to_vec(),
    };
    let len: usize = req.header("content-length")?.parse().ok()?;
    while req.body.len() < len {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        req.body.extend_from_slice(&chunk[..n]);
    }
    Some(req)
}

fn init_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

const FILE: &str = r#"{"question": "How do I reset my password?", "answer": "Use the account page."}
{"question": "如何修改密码？", "answer": "在用户中心修改。", "context": "用户中心", "ttl_s": 600}
not json
{"question": "Where is my order 📦?", "answer": {"text": "Tracking page", "links": ["/t"]}}
"#;

fn setup() -> (tempfile::TempDir, Audit, WarmupOptions) {
    let dir = tempfile::tempdir().unwrap();
    let audit = Audit::new(dir.path().join("audit.jsonl"));
    let mut opts = WarmupOptions::from_config(&CacheConfig::default());
    opts.kb_version = "kb-7".into();
    (dir, audit, opts)
}

fn audit_lines(a: &Audit) -> Vec<Value> {
    std::fs::read_to_string(a.path())
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn http(url: &str, timeout_ms: u64) -> WarmupTarget<'_> {
    WarmupTarget::Http {
        url,
        timeout: Duration::from_millis(timeout_ms),
    }
}

#[tokio::test]
async fn posts_the_valid_entries_and_kb_version_and_shows_the_answer() {
    init_tls();
    let (url, mut requests) = serve(Reply::Status(200, "OK", "warmed 3 entries\nok\n")).await;
    let (_dir, audit, opts) = setup();
    let plan = parse_jsonl(FILE, "faq.jsonl", &opts);
    let (tx, mut rx) = mpsc::channel(64);
    let report = warmup_to(
        http(&url, 5_000),
        &plan,
        &opts,
        &audit,
        &tx,
        &CancelFlag::default(),
    )
    .await
    .unwrap();

    let req = requests.try_recv().expect("the endpoint got the request");
    assert!(
        req.head.starts_with("POST /internal/warmup HTTP/1.1"),
        "{}",
        req.head
    );
    assert_eq!(
        req.header("content-type").as_deref(),
        Some("application/json")
    );
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(
        body,
        json!({
            "kb_version": "kb-7",
            "entries": [
                {"question": "How do I reset my password?", "answer": "Use the account page."},
                {"question": "如何修改密码？", "answer": "在用户中心修改。",
                 "context": "用户中心", "ttl_s": 600},
                {"question": "Where is my order 📦?",
                 "answer": {"text": "Tracking page", "links": ["/t"]}},
            ]
        })
    );
    assert!(requests.try_recv().is_err(), "exactly one request");

    assert_eq!((report.written, report.total, report.skipped), (3, 3, 1));
    let summary = report.summary();
    assert!(
        summary.contains("HTTP 200 OK: warmed 3 entries"),
        "{summary}"
    );
    assert!(!summary.contains("\nok"), "first line only: {summary}");

    let mut finished = None;
    while let Ok(ev) = rx.try_recv() {
        if let ActionEvent::Finished { outcome, .. } = ev {
            finished = Some(outcome);
        }
    }
    assert_eq!(finished, Some(Ok(summary.clone())));

    let lines = audit_lines(&audit);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["outcome"], "started");
    assert_eq!(lines[1]["outcome"], "ok");
    assert_eq!(lines[1]["target"], url.as_str());
    assert_eq!(lines[1]["parameters"]["http_url"], url.as_str());
    assert!(lines[1]["detail"].as_str().unwrap().contains("HTTP 200 OK"));
}

#[tokio::test]
async fn any_context_is_forwarded_as_the_json_the_line_gave() {
    init_tls();
    let (url, mut requests) = serve(Reply::Status(200, "OK", "warmed")).await;
    let (_dir, audit, opts) = setup();
    // Integers past 64 bits and `1.0` would not survive a round trip through a float.
    let ctx = r#"{"tier": "gold", "tags": ["vip"], "n": 123456789012345678901234567890, "f": 1.0}"#;
    let file = format!(
        "{{\"question\": \"q1\", \"answer\": \"a\", \"context\": {ctx}}}\n\
         {{\"question\": \"q2\", \"answer\": \"a\", \"context\": 0}}\n"
    );
    let plan = parse_jsonl(&file, "faq.jsonl", &opts);
    assert_eq!(plan.bad, []);
    let (tx, _rx) = mpsc::channel(64);
    warmup_to(
        http(&url, 5_000),
        &plan,
        &opts,
        &audit,
        &tx,
        &CancelFlag::default(),
    )
    .await
    .unwrap();
    let req = requests.try_recv().expect("the endpoint got the request");
    let body = String::from_utf8(req.body).unwrap();
    assert!(body.contains(&format!("\"context\":{ctx}")), "{body}");
    assert!(
        body.contains("\"context\":0"),
        "falsy is the service's call: {body}"
    );
}

#[tokio::test]
async fn a_500_is_a_failure_with_the_status_and_first_line() {
    init_tls();
    let (url, _requests) = serve(Reply::Status(
        500,
        "Internal Server Error",
        "cache backend unavailable\nTraceback ...\n",
    ))
    .await;
    let (_dir, audit, opts) = setup();
    let plan = parse_jsonl(FILE, "faq.jsonl", &opts);
    let (tx, _rx) = mpsc::channel(64);
    let err = warmup_to(
        http(&url, 5_000),
        &plan,
        &opts,
        &audit,
        &tx,
        &CancelFlag::default(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains(&url), "names the endpoint: {err}");
    assert!(
        err.contains("HTTP 500 Internal Server Error: cache backend unavailable"),
        "{err}"
    );
    assert!(!err.contains("Traceback"), "{err}");
    let lines = audit_lines(&audit);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["outcome"], "failed");
    assert!(lines[1]["detail"].as_str().unwrap().contains("HTTP 500"));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_with_a_clear_message() {
    init_tls();
    let (url, mut requests) = serve(Reply::Never).await;
    let (_dir, audit, opts) = setup();
    let plan = parse_jsonl(FILE, "faq.jsonl", &opts);
    let (tx, _rx) = mpsc::channel(64);
    let started = Instant::now();
    let err = warmup_to(
        http(&url, 300),
        &plan,
        &opts,
        &audit,
        &tx,
        &CancelFlag::default(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(requests.try_recv().is_ok(), "the request did arrive");
    assert!(err.contains(&url), "{err}");
    assert!(err.contains("no response within 300 ms"), "{err}");
    assert!(err.contains("timeout_ms"), "says what to change: {err}");
    assert_eq!(audit_lines(&audit)[1]["outcome"], "failed");
}

#[tokio::test]
async fn an_answer_over_1_mib_is_a_failure_naming_the_endpoint_and_the_cap() {
    init_tls();
    let (url, _requests) = serve(Reply::Endless(64 << 20)).await;
    let url = url.replacen("http://", "http://ops:hunter2@", 1);
    let (_dir, audit, opts) = setup();
    let plan = parse_jsonl(FILE, "faq.jsonl", &opts);
    let (tx, _rx) = mpsc::channel(64);
    let started = Instant::now();
    let err = warmup_to(
        http(&url, 30_000),
        &plan,
        &opts,
        &audit,
        &tx,
        &CancelFlag::default(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(started.elapsed() < Duration::from_secs(10));
    let shown = url.replacen("ops:hunter2@", "***@", 1);
    assert!(err.contains(&shown), "names the endpoint: {err}");
    assert!(err.contains("HTTP 200 OK: warmed 3 entries"), "{err}");
    assert!(err.contains("over 1 MiB"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    let lines = audit_lines(&audit);
    assert_eq!(lines[1]["outcome"], "failed");
    assert!(
        !std::fs::read_to_string(audit.path())
            .unwrap()
            .contains("hunter2")
    );
}

#[tokio::test]
async fn dry_run_sends_nothing_and_is_audited_as_one() {
    init_tls();
    let (url, mut requests) = serve(Reply::Status(200, "OK", "warmed")).await;
    let (_dir, audit, mut opts) = setup();
    opts.dry_run = true;
    let plan = parse_jsonl(FILE, "faq.jsonl", &opts);
    let (tx, _rx) = mpsc::channel(64);
    let report = warmup_to(
        http(&url, 5_000),
        &plan,
        &opts,
        &audit,
        &tx,
        &CancelFlag::default(),
    )
    .await
    .unwrap();
    assert!(report.summary().contains("would send 3 of 3 entries"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(requests.try_recv().is_err(), "nothing was sent");
    let lines = audit_lines(&audit);
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l["dry_run"] == true));
}

#[test]
fn http_url_wins_over_redis_and_empty_means_unset() {
    let mut config = Config::default();
    config.actions.warmup.http_url = Some("http://faq:8080/warmup".into());
    match WarmupTarget::from_config(&config).unwrap() {
        WarmupTarget::Http { url, timeout } => {
            assert_eq!(url, "http://faq:8080/warmup");
            assert_eq!(timeout, Duration::from_secs(30), "default timeout");
        }
        other => panic!("expected the HTTP target, got {other:?}"),
    }
    config.actions.warmup.http_url = Some(String::new());
    config.redis = Some(Default::default());
    assert!(matches!(
        WarmupTarget::from_config(&config).unwrap(),
        WarmupTarget::Redis(_)
    ));
}

/// The headless command takes the same route: no Redis is running, and none is needed.
#[tokio::test]
async fn headless_warmup_posts_to_the_endpoint() {
    let (url, mut requests) = serve(Reply::Status(202, "Accepted", "queued 3")).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("faq.jsonl");
    std::fs::write(&file, FILE).unwrap();
    let config = dir.path().join("config.toml");
    let unused = support::redis::free_port();
    std::fs::write(
        &config,
        format!(
            "[redis]\nurl = \"redis://127.0.0.1:{unused}/0\"\n\
             [actions]\naudit_log = \"{}\"\n\
             [actions.warmup]\nhttp_url = \"{url}\"\ntimeout_ms = 5000\n",
            dir.path().join("audit.jsonl").display()
        ),
    )
    .unwrap();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .arg("--config")
            .arg(&config)
            .args(["warmup", "--file"])
            .arg(&file)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("HTTP 202 Accepted: queued 3"), "{stdout}");
    assert!(
        stderr.contains(":3: skipped"),
        "bad line reported: {stderr}"
    );
    let req = requests.try_recv().expect("the endpoint got the request");
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["entries"].as_array().unwrap().len(), 3);
    assert_eq!(body["kb_version"], "v1");
}
