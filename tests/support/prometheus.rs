//! A real `prometheus` server on a free loopback port, scraping given targets every
//! second (or at the interval a test asks), with its config and TSDB in a temporary
//! directory. Killed on drop.

use super::http;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Prometheus {
    pub addr: SocketAddr,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

fn binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("prometheus"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`prometheus` is not installed: run scripts/test.sh (it installs the Debian \
                 package) or `apt-get install prometheus`"
            )
        })
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

impl Prometheus {
    /// Starts Prometheus scraping `targets` (host:port, path /metrics) and waits until it
    /// is ready and has scraped every target once.
    pub fn start(targets: &[SocketAddr]) -> Prometheus {
        Prometheus::start_every(targets, "1s")
    }

    /// `start`, with `global.scrape_interval` (and the job's) set to `interval`.
    pub fn start_every(targets: &[SocketAddr], interval: &str) -> Prometheus {
        Prometheus::start_with(targets, interval, None)
    }

    /// `start`, with an alerting rule file (YAML) evaluated every second.
    #[allow(dead_code)]
    pub fn start_with_rules(targets: &[SocketAddr], rules: Option<&str>) -> Prometheus {
        Prometheus::start_with(targets, "1s", rules)
    }

    fn start_with(targets: &[SocketAddr], interval: &str, rules: Option<&str>) -> Prometheus {
        let dir = tempfile::tempdir().expect("a temp dir");
        if let Some(rules) = rules {
            std::fs::write(dir.path().join("rules.yml"), rules).unwrap();
        }
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let mut p = Prometheus {
            addr,
            dir,
            child: None,
        };
        p.write_config(targets, interval);
        p.spawn();
        p.wait_scraped(targets.len());
        p
    }

    /// Writes the config a (re)start reads.
    pub fn write_config(&self, targets: &[SocketAddr], interval: &str) {
        let list: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        let mut config = format!(
            "global:\n  scrape_interval: {interval}\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: platform\n    scrape_interval: {interval}\n    \
             static_configs:\n      - targets: [{}]\n",
            list.join(", ")
        );
        let rules = self.dir.path().join("rules.yml");
        if rules.exists() {
            config.push_str(&format!("rule_files:\n  - '{}'\n", rules.display()));
        }
        std::fs::write(self.dir.path().join("prometheus.yml"), config).unwrap();
    }

    /// The server's own counter `prometheus_http_requests_total` for `handler` (all
    /// codes), read from its `/metrics`, which does not count as an API request.
    pub fn requests(&self, handler: &str) -> f64 {
        let (_, text) = http::get(self.addr, "/metrics").expect("prometheus /metrics");
        let needle = format!("handler=\"{handler}\"");
        text.lines()
            .filter(|l| l.starts_with("prometheus_http_requests_total{") && l.contains(&needle))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn spawn(&mut self) {
        let d = self.dir.path();
        let child = Command::new(binary())
            .arg(format!(
                "--config.file={}",
                d.join("prometheus.yml").display()
            ))
            .arg(format!("--storage.tsdb.path={}", d.join("data").display()))
            .arg(format!("--web.listen-address={}", self.addr))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("prometheus.log")).unwrap())
            .spawn()
            .expect("prometheus starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some((200, _)) = http::get(self.addr, "/-/ready") {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("prometheus exited ({status}): {}", self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "prometheus on {} not ready in 30 s: {}",
            self.addr,
            self.log()
        );
    }

    /// Waits until `up == 1` for `n` targets.
    pub fn wait_scraped(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let q = format!("/api/v1/query?query={}", http::encode("count(up == 1)"));
        while Instant::now() < deadline {
            if let Some((200, body)) = http::get(self.addr, &q)
                && body.contains(&format!("\"{n}\""))
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("prometheus never scraped its {n} target(s): {}", self.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port with the same data.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.stop();
    }
}
