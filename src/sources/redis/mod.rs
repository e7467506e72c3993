//! The Redis source: every refresh one `INFO` (only the sections used) and one `PING` per
//! node, sent to the App loop as [`Payload::Cache`]; per-prefix key counts estimated from a
//! small sampled SCAN page every other second or so (`estimate`), and counted exactly with a
//! budgeted SCAN when the operator asks (`scan`). A cluster (configured, or detected from INFO) is sampled on every
//! node and aggregated. Failures become error updates naming the server and what to do;
//! the next refresh reconnects, so a restarted server recovers without the operator.

pub mod conn;
pub mod derive;
pub mod estimate;
pub mod info;
pub mod scan;

use crate::config::RedisConfig;
use crate::sources::{CacheSample, Payload, PrefixCount, RefreshNow, SourceKind, SourceUpdate};
use conn::{ConnectError, Endpoint};
use derive::NodeReading;
use estimate::{Ask, Estimator};
use info::Info;
use redis::aio::MultiplexedConnection;
use scan::ExactState;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// INFO sections the figures come from; a full INFO is several times larger.
const SECTIONS: [&str; 7] = [
    "server",
    "clients",
    "memory",
    "stats",
    "replication",
    "keyspace",
    "cluster",
];

/// How long one command may take before the sample is reported as slow.
pub fn command_timeout(refresh: Duration) -> Duration {
    refresh.clamp(Duration::from_millis(500), Duration::from_secs(5))
}

struct Node {
    ep: Endpoint,
    is_master: bool,
    conn: Option<MultiplexedConnection>,
    prev: Option<(Info, Instant)>,
}

/// Keeps connections and the previous INFO of every node between samples.
pub struct Sampler {
    cfg: RedisConfig,
    timeout: Duration,
    seeds: Vec<Endpoint>,
    cluster: Option<bool>,
    nodes: Vec<Node>,
    /// Redis before 7.0 accepts only one section per INFO; then a full INFO is used.
    multi_section: bool,
}

impl Sampler {
    pub fn new(cfg: RedisConfig, timeout: Duration) -> Result<Sampler, ConnectError> {
        let seeds = Endpoint::from_config(&cfg)?;
        Ok(Sampler {
            cfg,
            timeout,
            seeds,
            cluster: None,
            nodes: Vec::new(),
            multi_section: true,
        })
    }

    pub fn seeds(&self) -> &[Endpoint] {
        &self.seeds
    }

    async fn ensure_topology(&mut self) -> Result<(), ConnectError> {
        if !self.nodes.is_empty() {
            return Ok(());
        }
        let seed = &self.seeds[0];
        let cluster = match self.cluster {
            Some(c) => c,
            None => {
                let c = conn::detect_cluster(&self.cfg, seed, self.timeout).await?;
                self.cluster = Some(c);
                c
            }
        };
        let eps = if cluster {
            let mut last = None;
            let mut found = None;
            for seed in &self.seeds {
                match conn::cluster_endpoints(seed, self.timeout).await {
                    Ok(eps) => {
                        found = Some(eps);
                        break;
                    }
                    Err(e) => last = Some(e),
                }
            }
            match (found, last) {
                (Some(eps), _) => eps,
                (None, Some(e)) => return Err(e),
                (None, None) => return Err(ConnectError::NoUrl),
            }
        } else {
            vec![(seed.clone(), true)]
        };
        self.nodes = eps
            .into_iter()
            .map(|(ep, is_master)| Node {
                ep,
                is_master,
                conn: None,
                prev: None,
            })
            .collect();
        Ok(())
    }

    /// One sample of every node; rates are over the time since the previous call.
    pub async fn sample(&mut self) -> Result<CacheSample, ConnectError> {
        self.ensure_topology().await?;
        let mut readings: Vec<(Info, Instant, f64)> = Vec::with_capacity(self.nodes.len());
        for i in 0..self.nodes.len() {
            match self.read_node(i).await {
                Ok(r) => readings.push(r),
                Err(e) => {
                    self.nodes[i].conn = None;
                    if self.cluster == Some(true) {
                        // The topology may have changed (failover, resharding): rediscover.
                        self.nodes.clear();
                    }
                    return Err(e);
                }
            }
        }
        let cluster = self.cluster == Some(true);
        let sample = {
            let parts: Vec<NodeReading<'_>> = self
                .nodes
                .iter()
                .zip(&readings)
                .map(|(n, (cur, at, ping_ms))| NodeReading {
                    addr: &n.ep.addr,
                    is_master: n.is_master,
                    prev: n.prev.as_ref().map(|(i, _)| i),
                    cur,
                    elapsed: n.prev.as_ref().map_or(Duration::ZERO, |(_, t)| *at - *t),
                    ping_ms: *ping_ms,
                })
                .collect();
            derive::sample(&parts, cluster)
        };
        for (node, (cur, at, _)) in self.nodes.iter_mut().zip(readings) {
            node.prev = Some((cur, at));
        }
        Ok(sample)
    }

    async fn read_node(&mut self, i: usize) -> Result<(Info, Instant, f64), ConnectError> {
        let timeout = self.timeout;
        let node = &mut self.nodes[i];
        let ep = node.ep.clone();
        let over = |_| ConnectError::Timeout {
            addr: ep.addr.clone(),
            ms: timeout.as_millis(),
        };
        if node.conn.is_none() {
            node.conn = Some(
                tokio::time::timeout(timeout, ep.connect(timeout))
                    .await
                    .map_err(over)??,
            );
        }
        let conn = node.conn.as_mut().expect("connection was just set");
        let mut info_cmd = redis::cmd("INFO");
        if self.multi_section {
            info_cmd.arg(&SECTIONS[..]);
        }
        let text: Result<String, _> = tokio::time::timeout(timeout, info_cmd.query_async(conn))
            .await
            .map_err(over)?;
        let text = match text {
            Err(e)
                if self.multi_section
                    && e.kind()
                        == redis::ErrorKind::Server(redis::ServerErrorKind::ResponseError) =>
            {
                self.multi_section = false;
                tokio::time::timeout(timeout, redis::cmd("INFO").query_async::<String>(conn))
                    .await
                    .map_err(over)?
            }
            other => other,
        }
        .map_err(|e| ep.err(e))?;
        let at = Instant::now();
        let info = info::parse_info(&text).map_err(|e| ConnectError::Reply {
            addr: ep.addr.clone(),
            what: "INFO",
            detail: e.to_string(),
        })?;
        let started = Instant::now();
        let _: String = tokio::time::timeout(timeout, redis::cmd("PING").query_async(conn))
            .await
            .map_err(over)?
            .map_err(|e| ep.err(e))?;
        let ping_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok((info, at, ping_ms))
    }

    /// One round of prefix sampling: for each master, a page from a random cursor when one
    /// is due (every one with `eager`), or an exact walk of a small keyspace.
    pub async fn sample_prefixes(
        &mut self,
        est: &mut Estimator,
        eager: bool,
    ) -> Result<(), ConnectError> {
        if est.prefixes().is_empty() {
            return Ok(());
        }
        let addrs: Vec<String> = self
            .nodes
            .iter()
            .filter(|n| n.is_master)
            .map(|n| n.ep.addr.clone())
            .collect();
        est.keep_only(&addrs.iter().map(String::as_str).collect::<Vec<_>>());
        let timeout = self.timeout;
        for node in self.nodes.iter_mut().filter(|n| n.is_master) {
            let (Some(conn), Some((info, _))) = (node.conn.as_mut(), node.prev.as_ref()) else {
                continue;
            };
            let db = node.ep.db();
            let total = info.dbs.iter().find(|d| d.db == db).map_or(0, |d| d.keys);
            let addr = node.ep.addr.clone();
            match est.ask(&addr, total, Instant::now(), eager) {
                Ask::Nothing => {}
                Ask::Page(cursor) => {
                    let (_, keys) =
                        scan_page(conn, &node.ep, cursor, estimate::PAGE_COUNT, timeout).await?;
                    est.page(&addr, &keys, Instant::now());
                }
                Ask::Exact => {
                    let (mut cursor, mut walked) = (0u64, 0u64);
                    let mut matched = vec![0u64; est.prefixes().len()];
                    // A keyspace that grew past small mid-walk is left to sampling.
                    for _ in 0..(estimate::SMALL / 500) {
                        let (next, keys) = scan_page(conn, &node.ep, cursor, 1000, timeout).await?;
                        let (n, m) =
                            estimate::classify(keys.iter().map(Vec::as_slice), est.prefixes());
                        walked += n;
                        matched.iter_mut().zip(m).for_each(|(a, b)| *a += b);
                        if next == 0 {
                            est.exact(&addr, walked, matched, Instant::now());
                            break;
                        }
                        cursor = next;
                    }
                }
            }
        }
        Ok(())
    }

    /// The masters to scan: every master of a cluster, or the single server.
    pub async fn masters(&mut self) -> Result<Vec<Endpoint>, ConnectError> {
        self.ensure_topology().await?;
        Ok(self
            .nodes
            .iter()
            .filter(|n| n.is_master)
            .map(|n| n.ep.clone())
            .collect())
    }
}

/// How long an exact count is shown instead of the estimate.
const EXACT_SHOWN_FOR: Duration = Duration::from_secs(600);

/// The per-prefix figures: an exact count the operator asked for while it is recent, else
/// the sampled estimate.
fn with_prefixes(mut sample: CacheSample, est: &Estimator, exact: &ExactState) -> CacheSample {
    sample.exact_count_progress = exact.progress;
    if let Some(done) = exact
        .done
        .as_ref()
        .filter(|d| d.taken.elapsed() < EXACT_SHOWN_FOR)
    {
        let age_s = done.taken.elapsed().as_secs();
        sample.prefixes = done
            .counts
            .iter()
            .map(|(prefix, keys)| PrefixCount {
                prefix: prefix.clone(),
                keys: *keys,
                margin: 0,
                exact: true,
                sampled: done.walked,
                age_s,
            })
            .collect();
    } else if let Some(figures) = est.figures() {
        sample.prefixes = est
            .prefixes()
            .iter()
            .zip(figures)
            .map(|(prefix, f)| PrefixCount {
                prefix: prefix.clone(),
                keys: f.keys,
                margin: f.margin,
                exact: f.exact,
                sampled: f.sampled,
                age_s: f.taken.elapsed().as_secs(),
            })
            .collect();
    }
    sample
}

fn estimator(cfg: &RedisConfig) -> Estimator {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    Estimator::new(cfg.prefixes.clone(), seed ^ u64::from(std::process::id()))
}

/// Starts the exact counter, which waits for `requests`; its state is watched by the loop.
fn spawn_exact_counter(
    cfg: &RedisConfig,
    timeout: Duration,
    requests: std::sync::Arc<tokio::sync::Notify>,
) -> watch::Receiver<ExactState> {
    let (tx, rx) = watch::channel(ExactState::default());
    if cfg.prefixes.is_empty() || cfg.scan_keys_per_sec == 0 {
        return rx;
    }
    let scan_cfg = cfg.clone();
    let masters = move || {
        let cfg = scan_cfg.clone();
        let fut: futures::future::BoxFuture<'static, _> = Box::pin(async move {
            let mut s = Sampler::new(cfg, timeout)?;
            s.masters().await
        });
        fut
    };
    tokio::spawn(scan::count_on_request(
        masters,
        cfg.prefixes.clone(),
        cfg.scan_keys_per_sec,
        timeout,
        requests,
        tx,
    ));
    rx
}

/// Samples every `refresh` and sends the result to `tx` until the receiver is gone.
pub async fn run(cfg: RedisConfig, refresh: Duration, tx: mpsc::Sender<SourceUpdate>) {
    run_with(cfg, refresh, tx, RefreshNow::default()).await
}

/// `run`, also sampling at once whenever `now` is triggered, and counting keys per prefix
/// exactly when asked through it.
pub async fn run_with(
    cfg: RedisConfig,
    refresh: Duration,
    tx: mpsc::Sender<SourceUpdate>,
    now: RefreshNow,
) {
    let timeout = command_timeout(refresh);
    let mut tick = tokio::time::interval(refresh.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sampler = match Sampler::new(cfg.clone(), timeout) {
        Ok(s) => s,
        Err(e) => {
            // A config error does not fix itself, but the panel keeps showing it with a
            // fresh age rather than going stale.
            loop {
                tick.tick().await;
                if tx.send(update(Err(e.to_string()))).await.is_err() {
                    return;
                }
            }
        }
    };
    let mut est = estimator(&cfg);
    let exact = spawn_exact_counter(&cfg, timeout, now.count_keys_requests());
    loop {
        now.wait(&mut tick).await;
        let payload = match sampler.sample().await {
            Ok(sample) => {
                if let Err(e) = sampler.sample_prefixes(&mut est, false).await {
                    tracing::debug!("prefix sample: {e}");
                }
                let exact = exact.borrow().clone();
                Ok(Payload::Cache(Box::new(with_prefixes(
                    sample, &est, &exact,
                ))))
            }
            Err(e) => Err(e.to_string()),
        };
        if tx.send(update(payload)).await.is_err() {
            return;
        }
    }
}

async fn scan_page(
    conn: &mut MultiplexedConnection,
    ep: &Endpoint,
    cursor: u64,
    count: u64,
    timeout: Duration,
) -> Result<(u64, Vec<Vec<u8>>), ConnectError> {
    let mut cmd = redis::cmd("SCAN");
    cmd.arg(cursor).arg("COUNT").arg(count);
    tokio::time::timeout(timeout, cmd.query_async(conn))
        .await
        .map_err(|_| ConnectError::Timeout {
            addr: ep.addr.clone(),
            ms: timeout.as_millis(),
        })?
        .map_err(|e| ep.err(e))
}

fn update(payload: Result<Payload, String>) -> SourceUpdate {
    SourceUpdate {
        context: None,
        at: chrono::Utc::now(),
        payload,
        source: SourceKind::Redis,
    }
}

/// Two INFO samples `interval` apart, for `snapshot --json`, with per-prefix figures from a
/// short burst of sampled pages (exact for a small keyspace).
pub async fn sample_twice(cfg: RedisConfig, interval: Duration) -> Result<CacheSample, String> {
    let timeout = command_timeout(interval);
    let mut sampler = Sampler::new(cfg.clone(), timeout).map_err(|e| e.to_string())?;
    sampler.sample().await.map_err(|e| e.to_string())?;
    let mut est = estimator(&cfg);
    for _ in 0..SNAPSHOT_PAGES {
        sampler
            .sample_prefixes(&mut est, true)
            .await
            .map_err(|e| e.to_string())?;
    }
    tokio::time::sleep(interval).await;
    let sample = sampler.sample().await.map_err(|e| e.to_string())?;
    Ok(with_prefixes(sample, &est, &ExactState::default()))
}

/// Sampled pages per master a snapshot takes: about 1,000 keys, ±3 % of the keyspace.
const SNAPSHOT_PAGES: usize = 10;
