//! Real `redis-server` processes for tests: a single server or a 3-master cluster on free
//! loopback ports, each in its own temporary directory, killed when dropped.

use opsdeck::config::RedisConfig;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};
use tempfile::TempDir;

pub fn free_port() -> u16 {
    // Cluster bus ports are port + 10000, so stay below 55535.
    loop {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
        let port = l.local_addr().expect("bound socket has an address").port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
    dir: TempDir,
    extra: Vec<String>,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        Self::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> RedisServer {
        let dir = tempfile::tempdir().expect("temp dir for redis-server");
        let mut server = RedisServer {
            port: free_port(),
            child: None,
            dir,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (/usr/bin/redis-server)");
        self.child = Some(child);
        wait_for_ping(self.port);
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub fn config(&self) -> RedisConfig {
        RedisConfig {
            url: Some(self.url()),
            ..RedisConfig::default()
        }
    }

    pub fn cli(&self, args: &[&str]) -> String {
        redis_cli(self.port, args)
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts again on the same port, empty (persistence is off).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn redis_cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli is installed");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn wait_for_ping(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        // A server with requirepass answers NOAUTH: it is up all the same.
        let reply = redis_cli(port, &["PING"]);
        if reply == "PONG" || reply.contains("NOAUTH") {
            return;
        }
        sleep(Duration::from_millis(20));
    }
    panic!("redis-server on port {port} did not answer PING within 10 s");
}

/// Three masters, no replicas, all slots assigned.
pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    pub fn start() -> RedisCluster {
        let nodes: Vec<RedisServer> = (0..3)
            .map(|_| {
                RedisServer::start_with(&[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    "5000",
                ])
            })
            .collect();
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let out = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .expect("redis-cli --cluster create runs");
        assert!(
            out.status.success(),
            "cluster create failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        for n in &nodes {
            while !n.cli(&["CLUSTER", "INFO"]).contains("cluster_state:ok") {
                assert!(
                    Instant::now() < deadline,
                    "cluster never reached cluster_state:ok"
                );
                sleep(Duration::from_millis(50));
            }
        }
        // Every node must know every other before slot routing is reliable.
        for n in &nodes {
            while n
                .cli(&["CLUSTER", "NODES"])
                .lines()
                .filter(|l| l.contains("master"))
                .count()
                < 3
            {
                assert!(Instant::now() < deadline, "nodes never saw each other");
                sleep(Duration::from_millis(50));
            }
        }
        RedisCluster { nodes }
    }

    pub fn config(&self) -> RedisConfig {
        RedisConfig {
            url: Some(self.nodes[0].url()),
            cluster: true,
            ..RedisConfig::default()
        }
    }

    /// Sum of DBSIZE over the masters.
    pub fn total_keys(&self) -> u64 {
        self.nodes
            .iter()
            .map(|n| n.cli(&["DBSIZE"]).parse::<u64>().unwrap_or(0))
            .sum()
    }
}
