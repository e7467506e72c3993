//! Real `redis-server` processes for tests: a single server (plain or TLS) or a 3-master
//! cluster on free loopback ports, each in its own temporary directory, killed when dropped.

use opsdeck::config::RedisConfig;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
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
    /// Set for a server that listens only on its TLS port (`port`).
    pub tls: Option<TlsFiles>,
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
            tls: None,
        };
        server.spawn();
        server
    }

    /// A server that speaks only TLS on `port`, with a certificate for 127.0.0.1 and
    /// localhost signed by a throwaway CA (`tls.ca`). Clients need no certificate.
    pub fn start_tls() -> RedisServer {
        let dir = tempfile::tempdir().expect("temp dir for redis-server");
        let tls = TlsFiles::generate(dir.path());
        let port = free_port();
        let mut server = RedisServer {
            port,
            child: None,
            extra: vec![
                "--tls-cert-file".into(),
                path_arg(&tls.cert),
                "--tls-key-file".into(),
                path_arg(&tls.key),
                "--tls-ca-cert-file".into(),
                path_arg(&tls.ca),
                "--tls-auth-clients".into(),
                "no".into(),
            ],
            dir,
            tls: Some(tls),
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let mut cmd = Command::new("redis-server");
        if self.tls.is_some() {
            cmd.args(["--port", "0", "--tls-port", &self.port.to_string()]);
        } else {
            cmd.args(["--port", &self.port.to_string()]);
        }
        let child = cmd
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (/usr/bin/redis-server)");
        self.child = Some(child);
        wait_for_ping(self.port, &self.cli_tls_args());
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://127.0.0.1:{}/0", self.port)
    }

    pub fn config(&self) -> RedisConfig {
        RedisConfig {
            url: Some(self.url()),
            ca_file: self.tls.as_ref().map(|t| t.ca.clone()),
            ..RedisConfig::default()
        }
    }

    pub fn cli(&self, args: &[&str]) -> String {
        let mut all = self.cli_tls_args();
        all.extend(args.iter().map(|s| s.to_string()));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        redis_cli(self.port, &all)
    }

    /// Sends raw RESP (or inline commands) through `redis-cli --pipe`: fast bulk loading.
    #[allow(dead_code)]
    pub fn pipe(&self, commands: &str) {
        use std::io::Write;
        let mut child = std::process::Command::new("redis-cli")
            .args(self.cli_tls_args())
            .args(["-p", &self.port.to_string(), "--pipe"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-cli --pipe");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(commands.as_bytes())
            .expect("write to redis-cli");
        assert!(child.wait().expect("redis-cli").success());
    }

    fn cli_tls_args(&self) -> Vec<String> {
        match &self.tls {
            Some(t) => vec!["--tls".into(), "--cacert".into(), path_arg(&t.ca)],
            None => Vec::new(),
        }
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

fn wait_for_ping(port: u16, tls_args: &[String]) {
    let mut args: Vec<&str> = tls_args.iter().map(String::as_str).collect();
    args.push("PING");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        // A server with requirepass answers NOAUTH: it is up all the same.
        let reply = redis_cli(port, &args);
        if reply == "PONG" || reply.contains("NOAUTH") {
            return;
        }
        sleep(Duration::from_millis(20));
    }
    panic!("redis-server on port {port} did not answer PING within 10 s");
}

fn path_arg(p: &Path) -> String {
    p.to_str().expect("temp paths are UTF-8").to_string()
}

/// A throwaway CA and a server certificate it signed, as PEM files.
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// rustls accepts only what a real deployment would have: a CA marked as one, and a
    /// v3 server certificate whose subjectAltName lists the address the client dials
    /// (the CN alone is ignored), so both are spelled out.
    pub fn generate(dir: &Path) -> TlsFiles {
        let files = TlsFiles {
            ca: dir.join("ca.crt"),
            cert: dir.join("server.crt"),
            key: dir.join("server.key"),
        };
        let ca_key = dir.join("ca.key");
        new_ca(&files.ca, &ca_key, "opsdeck test CA");
        let csr = dir.join("server.csr");
        openssl(&[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            &path_arg(&files.key),
            "-out",
            &path_arg(&csr),
        ]);
        let ext = dir.join("server.ext");
        std::fs::write(
            &ext,
            "basicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth\n\
             subjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .expect("write the certificate extensions");
        openssl(&[
            "x509",
            "-req",
            "-in",
            &path_arg(&csr),
            "-CA",
            &path_arg(&files.ca),
            "-CAkey",
            &path_arg(&ca_key),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &path_arg(&ext),
            "-out",
            &path_arg(&files.cert),
        ]);
        files
    }
}

/// A self-signed CA certificate and its key.
pub fn new_ca(cert: &Path, key: &Path, name: &str) {
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
        "-subj",
        &format!("/CN={name}"),
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout",
        &path_arg(key),
        "-out",
        &path_arg(cert),
    ]);
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl command is installed (Debian package openssl)");
    assert!(
        out.status.success(),
        "openssl {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
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
