//! The secrets canary: five distinct secrets, each set through `${ENV}` in a config file —
//! the right and a wrong Redis password, a Prometheus basic-auth password (in the URL) and
//! bearer token, a password inside a Redis URL — while the real binary runs `snapshot`
//! (text and JSON), `check-config`, `warmup --file` (and `--dry-run`), `invalidate --group
//! knowledge` (`--yes` and `--dry-run`) and the console in tmux (every view, the warmup and
//! invalidate dialogs, help), against working and failing backends: real redis-servers (one
//! with `requirepass`), a real Prometheus, an HTTP server answering 401 or 500 with the
//! request's Authorization header echoed in its body, and closed ports.
//!
//! No canary, nor the basic-auth header that encodes one, may appear in any captured byte:
//! stdout, stderr, the audit file, the pane's screens and everything written to the pane.

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread::sleep;
use std::time::Duration;
use support::exporter::{Exporter, Model};
use support::http::{HttpServer, Response};
use support::prometheus::Prometheus;
use support::redis::{RedisServer, redis_cli};
use support::tmux::Pane;

// Random-looking and sharing no six characters, so that a piece of one is found too.
const REDIS_RIGHT: (&str, &str) = ("CANARY_REDIS_RIGHT", "Rr7Kq2Vx9Mw4Zs");
const REDIS_WRONG: (&str, &str) = ("CANARY_REDIS_WRONG", "Wz3Hn8Ld5Tb1Gy");
const PROM_PW: (&str, &str) = ("CANARY_PROM_PW", "Pb6Jc4Ys2Ne8Xo");
const PROM_TOKEN: (&str, &str) = ("CANARY_PROM_TOKEN", "Tk9Fm1Qg7Ua3Dh");
const REDIS_URL_PW: (&str, &str) = ("CANARY_REDIS_URL_PW", "Uv5Xd3Kh8Wp2Ci");
const CANARIES: [(&str, &str); 5] = [REDIS_RIGHT, REDIS_WRONG, PROM_PW, PROM_TOKEN, REDIS_URL_PW];
/// The user of the Prometheus URL's basic auth.
const PROM_USER: &str = "ops";
/// A leak is any run of this many characters of a canary: a secret cut short (a message
/// truncated, a screen cell run) still counts.
const PIECE: usize = 6;

/// What must never be seen: each canary, and the basic-auth header value built from one.
fn forbidden() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = CANARIES
        .iter()
        .map(|(name, value)| (format!("${name}"), value.to_string()))
        .collect();
    out.push((
        format!("base64({PROM_USER}:${})", PROM_PW.0),
        // Past the part that encodes "ops:" alone.
        base64(format!("{PROM_USER}:{}", PROM_PW.1).as_bytes())[5..].to_string(),
    ));
    out
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Every byte a scenario produced, by where it came from.
#[derive(Default)]
struct Captured {
    items: Vec<(String, Vec<u8>)>,
}

impl Captured {
    fn add(&mut self, label: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.items.push((label.into(), bytes.into()));
    }

    /// Panics naming every capture that holds a canary, with the text around it.
    /// `CANARY_DUMP=DIR` keeps every capture there, one file each, for reading.
    fn assert_no_canary(&self) {
        if let Some(dir) = std::env::var_os("CANARY_DUMP") {
            for (i, (label, bytes)) in self.items.iter().enumerate() {
                let name = format!("{i:03}-{}", label.replace(['/', ' ', '"'], "_"));
                std::fs::write(Path::new(&dir).join(name), bytes).unwrap();
            }
        }
        let mut leaks = Vec::new();
        for (label, bytes) in &self.items {
            for (name, value) in forbidden() {
                let found = value.as_bytes().windows(PIECE).find_map(|piece| {
                    let at = bytes.windows(PIECE).position(|w| w == piece)?;
                    Some((at, String::from_utf8_lossy(piece).into_owned()))
                });
                if let Some((at, piece)) = found {
                    let from = at.saturating_sub(120);
                    let to = (at + PIECE + 60).min(bytes.len());
                    leaks.push(format!(
                        "{name} ({piece:?}) in {label}: …{}…",
                        String::from_utf8_lossy(&bytes[from..to])
                    ));
                }
            }
        }
        assert!(leaks.is_empty(), "canaries leaked:\n{}", leaks.join("\n"));
        let total: usize = self.items.iter().map(|(_, b)| b.len()).sum();
        assert!(
            total > 10_000,
            "too little captured to mean anything: {total} bytes"
        );
    }
}

/// Where an error body is cut when quoted (`sources/prometheus/api.rs`).
const BODY_CUT: usize = 200;

/// A Prometheus stand-in that refuses every request with `status`, quoting the request's
/// Authorization headers back in the body, as some proxies do. With `straddle`, padding puts
/// the bearer token across the point where opsdeck cuts a quoted body.
fn echoing_server(status: u16, straddle: bool) -> HttpServer {
    HttpServer::start(Arc::new(move |target, headers| {
        let auth: Vec<&str> = headers
            .iter()
            .filter(|(k, _)| k == "authorization")
            .map(|(_, v)| v.as_str())
            .collect();
        let quoted = format!("authorization: {}", auth.join(", "));
        let pad = match quoted.find(PROM_TOKEN.1) {
            Some(at) if straddle => BODY_CUT.saturating_sub(at + PIECE),
            _ => 0,
        };
        Response {
            status,
            content_type: "text/plain",
            body: format!("{}{quoted}; refused {target}", "x".repeat(pad)),
        }
    }))
}

/// A loopback address nothing listens on.
fn closed_addr() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

/// One configuration of backends and everything run against it.
struct Scenario {
    name: &'static str,
    dir: tempfile::TempDir,
    config: PathBuf,
    captured: Captured,
}

impl Scenario {
    /// `prometheus` is the server's `host:port`; `redis` the lines of the `[redis]` section.
    fn new(name: &'static str, prometheus: &str, redis: &str) -> Scenario {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        let audit = dir.path().join("audit.jsonl");
        std::fs::write(
            &config,
            format!(
                "[ui]\nrefresh_ms = 500\n\n\
                 [prometheus]\nurl = \"http://{PROM_USER}:${{{pw}}}@{prometheus}\"\n\
                 bearer_token = \"${{{token}}}\"\ntimeout_ms = 2000\n\n\
                 [redis]\n{redis}\n\n\
                 [actions]\naudit_log = \"{audit}\"\n",
                pw = PROM_PW.0,
                token = PROM_TOKEN.0,
                audit = audit.display(),
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("faq.jsonl"),
            "{\"question\": \"How do I reset my password?\", \"answer\": \"Settings, then Security.\"}\n\
             {\"question\": \"Where is my invoice?\", \"answer\": \"Billing, then Invoices.\"}\n\
             not json\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Scenario {
            name,
            dir,
            config,
            captured: Captured::default(),
        }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        let home = self.home().display().to_string();
        let mut env = vec![
            ("HOME", home.clone()),
            ("XDG_CONFIG_HOME", format!("{home}/.config")),
            ("XDG_STATE_HOME", format!("{home}/.local/state")),
        ];
        env.extend(CANARIES.iter().map(|(k, v)| (*k, v.to_string())));
        env
    }

    /// Runs the binary with `args` and no terminal; keeps stdout and stderr, returns stdout.
    fn run(&mut self, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(self.env())
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let label = format!("{}: opsdeck {}", self.name, args.join(" "));
        self.captured
            .add(format!("{label} (stderr)"), out.stderr.clone());
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        self.captured.add(format!("{label} (stdout)"), out.stdout);
        stdout
    }

    /// Every headless command; returns the parsed `snapshot --json`.
    fn headless(&mut self) -> serde_json::Value {
        let stdout = self.run(&["snapshot", "--json"]);
        let json: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{}: snapshot --json: {e}\n{stdout}", self.name));
        self.run(&["snapshot"]);
        let config = self.config.display().to_string();
        self.run(&["check-config", &config]);
        let faq = self.dir.path().join("faq.jsonl").display().to_string();
        self.run(&["warmup", "--file", &faq, "--dry-run"]);
        self.run(&["warmup", "--file", &faq]);
        self.run(&["invalidate", "--group", "knowledge", "--dry-run"]);
        self.run(&["invalidate", "--group", "knowledge", "--yes"]);
        json
    }

    /// The console in a 200x50 pane: every view, the warmup and invalidate dialogs, help.
    fn console(&mut self) {
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let config = self.config.display().to_string();
        let pane = Pane::start(
            env!("CARGO_BIN_EXE_opsdeck"),
            &["--config", &config],
            &env,
            200,
            50,
        );
        pane.wait_screen("the console", Duration::from_secs(15), |s| {
            s.contains("overview") && s.contains("redis")
        });
        // Let every source answer or fail at least once.
        sleep(Duration::from_secs(3));
        let mut shots = Vec::new();
        let mut shoot = |what: String, wait_ms: u64| {
            sleep(Duration::from_millis(wait_ms));
            shots.push((what, pane.screen(), pane.screen_with_escapes()));
        };
        for key in ["1", "2", "3", "4", "5", "6"] {
            pane.send(&[key]);
            shoot(format!("view {key}"), 600);
        }
        // Warm up from the Cache view's dialog: the file typed, Tab to Cancel, Tab to Warm
        // up, Enter.
        pane.send(&["3", "w"]);
        shoot("w".into(), 600);
        let faq = self.dir.path().join("faq.jsonl").display().to_string();
        pane.tmux(&["send-keys", "-t", "t", "-l", &faq]);
        pane.send(&["Tab", "Tab", "Enter"]);
        shoot("a warmup from the console".into(), 2000);
        // Invalidate the first group (knowledge) once its preview has counted: a small
        // count asks for no name, the focus is on Cancel, Tab moves to Invalidate.
        pane.send(&["i"]);
        shoot("i".into(), 1500);
        pane.send(&["Tab", "Enter"]);
        shoot("an invalidation from the console".into(), 2000);
        pane.send(&["?"]);
        shoot("?".into(), 600);
        pane.send(&["Escape"]);
        pane.send(&["q"]);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !pane.dead() && std::time::Instant::now() < deadline {
            sleep(Duration::from_millis(50));
        }
        for (what, text, escaped) in shots {
            self.captured
                .add(format!("{}: console, {what}", self.name), text);
            self.captured.add(
                format!("{}: console, {what} (with escapes)", self.name),
                escaped,
            );
        }
        self.captured.add(
            format!("{}: console's last screen", self.name),
            pane.screen(),
        );
        self.captured.add(
            format!("{}: every byte written to the pane", self.name),
            pane.bytes(),
        );
    }

    fn audit(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("audit.jsonl")).unwrap_or_default()
    }

    /// The audit file and the checks: no canary anywhere.
    fn finish(mut self) {
        let audit = self.audit();
        self.captured
            .add(format!("{}: the audit file", self.name), audit.clone());
        // Anything else opsdeck may have written under its home (state, logs).
        for file in files_under(&self.home()) {
            let bytes = std::fs::read(&file).unwrap_or_default();
            self.captured
                .add(format!("{}: {}", self.name, file.display()), bytes);
        }
        self.captured.assert_no_canary();
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn status<'a>(json: &'a serde_json::Value, source: &str) -> &'a str {
    json["sources"][source]["status"].as_str().unwrap_or("?")
}

#[test]
fn working_backends_leak_no_secret() {
    let redis = RedisServer::start_with(&["--requirepass", REDIS_RIGHT.1]);
    let exporter = Exporter::start(Model::default());
    let prom = Prometheus::start(&[exporter.server.addr]);
    let mut s = Scenario::new(
        "working",
        &prom.addr.to_string(),
        &format!(
            "url = \"redis://127.0.0.1:{}/0\"\npassword = \"${{{}}}\"",
            redis.port, REDIS_RIGHT.0
        ),
    );
    let json = s.headless();
    assert_eq!(status(&json, "redis"), "ok", "{json:#}");
    assert_eq!(status(&json, "prometheus"), "ok", "{json:#}");
    // The warmup wrote, the invalidation deleted: both acted through the password.
    let audit = s.audit();
    assert!(
        audit.contains("\"warmup\"") && audit.contains("\"invalidate\""),
        "{audit}"
    );
    assert_eq!(
        redis_cli(
            redis.port,
            &["--no-auth-warning", "-a", REDIS_RIGHT.1, "DBSIZE"]
        )
        .trim(),
        "0",
        "the knowledge invalidation left keys"
    );
    let before = s.audit().lines().count();
    s.console();
    let audit = s.audit();
    let console_lines: Vec<&str> = audit.lines().skip(before).collect();
    assert!(
        console_lines.iter().any(|l| l.contains("\"warmup\""))
            && console_lines.iter().any(|l| l.contains("\"invalidate\"")),
        "the console's warmup and invalidation were not audited:\n{audit}"
    );
    s.finish();
}

#[test]
fn a_password_in_the_redis_url_and_a_prometheus_answering_500_leak_no_secret() {
    let redis = RedisServer::start_with(&["--requirepass", REDIS_URL_PW.1]);
    let prom = echoing_server(500, true);
    let mut s = Scenario::new(
        "url-password",
        &prom.addr.to_string(),
        &format!(
            "url = \"redis://:${{{}}}@127.0.0.1:{}/0\"",
            REDIS_URL_PW.0, redis.port
        ),
    );
    let json = s.headless();
    assert_eq!(status(&json, "redis"), "ok", "{json:#}");
    assert_eq!(status(&json, "prometheus"), "error", "{json:#}");
    assert!(s.audit().contains("\"invalidate\""));
    s.console();
    s.finish();
}

#[test]
fn a_wrong_redis_password_and_a_prometheus_answering_401_leak_no_secret() {
    let redis = RedisServer::start_with(&["--requirepass", REDIS_RIGHT.1]);
    let prom = echoing_server(401, false);
    let mut s = Scenario::new(
        "wrong-password",
        &prom.addr.to_string(),
        &format!(
            "url = \"redis://127.0.0.1:{}/0\"\npassword = \"${{{}}}\"",
            redis.port, REDIS_WRONG.0
        ),
    );
    let json = s.headless();
    assert_eq!(status(&json, "redis"), "error", "{json:#}");
    assert_eq!(status(&json, "prometheus"), "error", "{json:#}");
    s.console();
    s.finish();
}

#[test]
fn unreachable_backends_leak_no_secret() {
    let mut s = Scenario::new(
        "unreachable",
        &closed_addr(),
        // Cluster seed nodes, each URL with the password (the warmup dialog lists them).
        &format!(
            "cluster = true\nurls = [\"redis://:${{{pw}}}@{}\", \"redis://:${{{pw}}}@{}\"]",
            closed_addr(),
            closed_addr(),
            pw = REDIS_URL_PW.0,
        ),
    );
    let json = s.headless();
    assert_eq!(status(&json, "redis"), "error", "{json:#}");
    assert_eq!(status(&json, "prometheus"), "error", "{json:#}");
    s.console();
    s.finish();
}
