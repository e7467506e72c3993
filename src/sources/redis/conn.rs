//! Connecting to Redis from `[redis]`: `redis://`, `rediss://` (with `ca_file`), `unix://`,
//! ACL user and password, a single server or a cluster's nodes.

use crate::config::RedisConfig;
use crate::config::redact::redact_url;
use redis::aio::MultiplexedConnection;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, ConnectionAddr, ConnectionInfo, IntoConnectionInfo};
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConnectError {
    #[error("[redis] has no url: set [redis].url (e.g. redis://127.0.0.1:6379/0) or [redis].urls")]
    NoUrl,
    #[error("redis url {url:?}: {source} — use redis://host:port/db, rediss://… or unix:///path")]
    BadUrl {
        url: String,
        source: redis::RedisError,
    },
    #[error("redis CA file {path}: {source} — check [redis].ca_file")]
    CaFile {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "redis CA file {path}: {detail} — [redis].ca_file must hold the PEM certificate \
         (-----BEGIN CERTIFICATE-----) of the CA that signed the server's certificate"
    )]
    CaPem { path: String, detail: String },
    #[error("redis {addr}: TLS handshake failed: {source} — {}", tls_hint(.source, .ca_file.as_deref()))]
    Tls {
        addr: String,
        ca_file: Option<String>,
        source: redis::RedisError,
    },
    #[error("redis {addr}: {}", explain(.source))]
    Redis {
        addr: String,
        source: redis::RedisError,
    },
    #[error("redis {addr}: no answer within {ms} ms — server overloaded, blocked or unreachable")]
    Timeout { addr: String, ms: u128 },
    #[error("redis {addr}: unexpected reply to {what}: {detail}")]
    Reply {
        addr: String,
        what: &'static str,
        detail: String,
    },
}

/// Says what to do next for the failures an operator can fix.
fn explain(e: &redis::RedisError) -> String {
    let text = e.to_string();
    let hint = if text.contains("NOAUTH")
        || text.contains("WRONGPASS")
        || text.contains("invalid password")
    {
        "set REDIS_PASSWORD or [redis].password (and [redis].username for an ACL user)"
    } else if text.contains("NOPERM") {
        "the ACL user lacks a permission this needs (INFO, PING, SCAN, SET, UNLINK)"
    } else if e.is_connection_refusal() {
        "connection refused — is redis-server running, and is [redis].url right?"
    } else if e.is_timeout() {
        "timed out — server overloaded or network slow"
    } else if text.contains("certificate") || text.contains("tls") || text.contains("TLS") {
        "TLS failed — check [redis].ca_file and the server name in the url"
    } else if e.is_io_error() || e.is_connection_dropped() {
        "connection lost — retrying"
    } else {
        ""
    };
    if hint.is_empty() {
        text
    } else {
        format!("{text} — {hint}")
    }
}

/// rustls reports a failed handshake as an I/O error whose text is all there is to go on.
fn looks_like_tls_failure(e: &redis::RedisError) -> bool {
    let text = e.to_string();
    [
        "certificate",
        "Certificate",
        "TLS",
        "tls",
        "handshake",
        "corrupt message",
        "InvalidContentType",
        "NotValidForName",
        "UnknownIssuer",
    ]
    .iter()
    .any(|m| text.contains(m))
}

fn tls_hint(e: &redis::RedisError, ca_file: Option<&str>) -> String {
    let text = e.to_string();
    if e.is_timeout() {
        // A plain Redis port reads a ClientHello as the start of an inline command and
        // waits for the rest, so this is what a TLS url aimed at a plain port looks like.
        return "no answer to the TLS handshake: if that port is not a TLS port, use \
                redis:// or the server's --tls-port; otherwise the server is overloaded"
            .into();
    }
    if text.contains("NotValidForName") {
        return "the server's certificate does not name the host in [redis].url: use a host \
                name or IP address listed in its subjectAltName"
            .into();
    }
    if text.contains("corrupt message") || text.contains("InvalidContentType") {
        return "the server did not answer in TLS: is its TLS port in the url, or should \
                the url be redis:// ?"
            .into();
    }
    match ca_file {
        Some(ca) => format!(
            "the server's certificate is not signed by the CA in {ca}: set [redis].ca_file \
             to the CA that issued it"
        ),
        None => "the server's certificate is not trusted by the system's CA store: set \
                 [redis].ca_file to the CA that issued it"
            .into(),
    }
}

/// The certificates of a CA file, checked here so that a wrong file is reported by its
/// path rather than later as a handshake failure with an empty trust store.
fn read_ca(path: &std::path::Path) -> Result<Vec<u8>, ConnectError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let shown = path.display().to_string();
    let pem = std::fs::read(path).map_err(|source| ConnectError::CaFile {
        path: shown.clone(),
        source,
    })?;
    let bad = |detail: String| ConnectError::CaPem {
        path: shown.clone(),
        detail,
    };
    let mut store = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| bad(format!("unreadable PEM: {e}")))?;
        store
            .add(cert)
            .map_err(|e| bad(format!("not a usable CA certificate: {e}")))?;
    }
    if store.is_empty() {
        return Err(bad("no PEM certificate in the file".into()));
    }
    Ok(pem)
}

/// One Redis node opsdeck can open connections to.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `host:port` or the socket path, as shown to the operator.
    pub addr: String,
    info: ConnectionInfo,
    ca_pem: Option<Vec<u8>>,
    /// Named in TLS errors: the first thing to check when the handshake fails.
    ca_file: Option<String>,
}

pub fn display_addr(addr: &ConnectionAddr) -> String {
    match addr {
        ConnectionAddr::Tcp(h, p)
        | ConnectionAddr::TcpTls {
            host: h, port: p, ..
        } => {
            format!("{h}:{p}")
        }
        ConnectionAddr::Unix(path) => path.display().to_string(),
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    }
}

impl Endpoint {
    /// The configured seeds: `url` then `urls`, credentials from the config overriding the URL's.
    pub fn from_config(cfg: &RedisConfig) -> Result<Vec<Endpoint>, ConnectError> {
        let ca_pem = cfg.ca_file.as_deref().map(read_ca).transpose()?;
        let ca_file = cfg.ca_file.as_ref().map(|p| p.display().to_string());
        // `urls` are the seeds when given; `url` (which has a default) only without them, so
        // an unused default never becomes the server actions name and write to.
        let urls: Vec<&String> = if cfg.urls.is_empty() {
            cfg.url.iter().collect()
        } else {
            cfg.urls.iter().collect()
        };
        if urls.is_empty() {
            return Err(ConnectError::NoUrl);
        }
        urls.into_iter()
            .map(|url| {
                let mut info =
                    url.as_str()
                        .into_connection_info()
                        .map_err(|source| ConnectError::BadUrl {
                            url: redact_url(url),
                            source,
                        })?;
                let mut settings = info.redis_settings().clone();
                if let Some(user) = cfg.username.as_deref().filter(|u| !u.is_empty()) {
                    settings = settings.set_username(user);
                }
                if let Some(pass) = cfg.password.as_deref().filter(|p| !p.is_empty()) {
                    settings = settings.set_password(pass);
                }
                info = info.set_redis_settings(settings);
                Ok(Endpoint {
                    addr: display_addr(info.addr()),
                    info,
                    ca_pem: ca_pem.clone(),
                    ca_file: ca_file.clone(),
                })
            })
            .collect()
    }

    /// The same credentials and TLS settings, another node (from CLUSTER NODES).
    pub fn with_host_port(&self, host: &str, port: u16) -> Endpoint {
        let addr = match self.info.addr() {
            ConnectionAddr::TcpTls {
                insecure,
                tls_params,
                ..
            } => ConnectionAddr::TcpTls {
                host: host.to_string(),
                port,
                insecure: *insecure,
                tls_params: tls_params.clone(),
            },
            _ => ConnectionAddr::Tcp(host.to_string(), port),
        };
        let info = self.info.clone().set_addr(addr);
        Endpoint {
            addr: display_addr(info.addr()),
            info,
            ca_pem: self.ca_pem.clone(),
            ca_file: self.ca_file.clone(),
        }
    }

    /// Address and credentials, for a connection opsdeck opens itself (warmup's bulk writes).
    pub fn info(&self) -> &ConnectionInfo {
        &self.info
    }

    /// The database the connection selects (0 unless the URL names another).
    pub fn db(&self) -> u32 {
        u32::try_from(self.info.redis_settings().db()).unwrap_or(0)
    }

    pub fn host(&self) -> Option<&str> {
        match self.info.addr() {
            ConnectionAddr::Tcp(h, _) | ConnectionAddr::TcpTls { host: h, .. } => Some(h),
            _ => None,
        }
    }

    fn client(&self) -> Result<redis::Client, ConnectError> {
        let result = match &self.ca_pem {
            Some(pem) => redis::Client::build_with_tls(
                self.info.clone(),
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.clone()),
                },
            ),
            None => redis::Client::open(self.info.clone()),
        };
        result.map_err(|source| self.err(source))
    }

    pub fn err(&self, source: redis::RedisError) -> ConnectError {
        self.classify(source, false)
    }

    fn classify(&self, source: redis::RedisError, connecting: bool) -> ConnectError {
        let tls = matches!(self.info.addr(), ConnectionAddr::TcpTls { .. });
        let handshake_timeout = connecting && source.is_timeout();
        if tls && (handshake_timeout || looks_like_tls_failure(&source)) {
            return ConnectError::Tls {
                addr: self.addr.clone(),
                ca_file: self.ca_file.clone(),
                source,
            };
        }
        ConnectError::Redis {
            addr: self.addr.clone(),
            source,
        }
    }

    /// A multiplexed connection whose every command fails after `timeout` rather than hang.
    pub async fn connect(&self, timeout: Duration) -> Result<MultiplexedConnection, ConnectError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        self.client()?
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| self.classify(e, true))
    }
}

/// One line of `CLUSTER NODES`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterNode {
    pub host: String,
    pub port: u16,
    pub is_master: bool,
    pub failed: bool,
}

/// Parses `CLUSTER NODES`. An empty host (a node that does not know its own address yet)
/// is replaced by `seed_host`; nodes without an address are skipped.
pub fn parse_cluster_nodes(text: &str, seed_host: &str) -> Vec<ClusterNode> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let _id = fields.next()?;
            let addr = fields.next()?;
            let flags = fields.next()?;
            let hostport = addr.split(['@', ',']).next()?;
            let (host, port) = hostport.rsplit_once(':')?;
            let port: u16 = port.parse().ok().filter(|p| *p != 0)?;
            let flags: Vec<&str> = flags.split(',').collect();
            if flags.contains(&"noaddr") || flags.contains(&"handshake") {
                return None;
            }
            Some(ClusterNode {
                host: if host.is_empty() { seed_host } else { host }.to_string(),
                port,
                is_master: flags.contains(&"master"),
                failed: flags.contains(&"fail"),
            })
        })
        .collect()
}

/// The nodes of the cluster `seed` belongs to, as endpoints, with their role.
pub async fn cluster_endpoints(
    seed: &Endpoint,
    timeout: Duration,
) -> Result<Vec<(Endpoint, bool)>, ConnectError> {
    let mut conn = seed.connect(timeout).await?;
    let text: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query_async(&mut conn)
        .await
        .map_err(|e| seed.err(e))?;
    let seed_host = seed.host().unwrap_or("127.0.0.1");
    let nodes = parse_cluster_nodes(&text, seed_host);
    if nodes.is_empty() {
        return Err(ConnectError::Reply {
            addr: seed.addr.clone(),
            what: "CLUSTER NODES",
            detail: "no nodes listed".into(),
        });
    }
    Ok(nodes
        .into_iter()
        .filter(|n| !n.failed)
        .map(|n| (seed.with_host_port(&n.host, n.port), n.is_master))
        .collect())
}

/// A slot-routing cluster connection over the configured seeds.
pub async fn cluster_connection(
    seeds: &[Endpoint],
    cfg: &RedisConfig,
    timeout: Duration,
) -> Result<ClusterConnection, ConnectError> {
    let first = seeds.first().ok_or(ConnectError::NoUrl)?;
    let mut builder =
        redis::cluster::ClusterClientBuilder::new(seeds.iter().map(|s| s.info.clone()))
            .connection_timeout(timeout)
            .response_timeout(timeout);
    if let Some(user) = cfg.username.as_deref().filter(|u| !u.is_empty()) {
        builder = builder.username(user);
    }
    if let Some(pass) = cfg.password.as_deref().filter(|p| !p.is_empty()) {
        builder = builder.password(pass);
    }
    if matches!(first.info.addr(), ConnectionAddr::TcpTls { .. }) {
        builder = builder.tls(redis::cluster::TlsMode::Secure);
        if let Some(pem) = &first.ca_pem {
            builder = builder.certs(redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(pem.clone()),
            });
        }
    }
    let client = builder.build().map_err(|e| first.err(e))?;
    client
        .get_async_connection()
        .await
        .map_err(|e| first.err(e))
}

/// Whether to treat the target as a cluster: configured, or the server says so.
pub async fn detect_cluster(
    cfg: &RedisConfig,
    seed: &Endpoint,
    timeout: Duration,
) -> Result<bool, ConnectError> {
    if cfg.cluster {
        return Ok(true);
    }
    let mut conn = seed.connect(timeout).await?;
    let text: String = redis::cmd("INFO")
        .arg("cluster")
        .query_async(&mut conn)
        .await
        .map_err(|e| seed.err(e))?;
    Ok(text.lines().any(|l| l.trim_end() == "cluster_enabled:1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_nodes_lines() {
        let text = "07c3 127.0.0.1:30004@40004 slave e7d1 0 1 4 connected\n\
                    67ed :30002@40002 myself,master - 0 0 2 connected 5461-10922\n\
                    292f 10.0.0.3:30003@40003,host3 master,fail - 0 1 3 connected\n\
                    aaaa :0@0 master,noaddr - 0 0 0 disconnected\n";
        let nodes = parse_cluster_nodes(text, "seed");
        assert_eq!(nodes.len(), 3);
        assert_eq!(nodes[1].host, "seed");
        assert!(nodes[1].is_master && !nodes[0].is_master && nodes[2].failed);
    }
}
