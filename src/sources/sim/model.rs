//! The simulated platform's state and its one-second step.

use super::Rng;
use super::setup::{deployment, embedding_vpa};
use crate::domain::scaling::{self, Behavior};
use crate::sources::{
    CacheSample, ClusterSample, Deployment, HpaMetric, MetricsSample, ModelTokens, NodePool,
    ServiceLatency, Utilization,
};
use chrono::{DateTime, Utc};
use std::collections::VecDeque;

/// Peak requests per second at the top of the daily curve.
pub(super) const PEAK_QPS: f64 = 400.0;

/// The day's curve at unix time `t`, 0.1..1: lowest at 04:00, highest at 16:00.
pub(super) fn daily_at(t: i64) -> f64 {
    let hour = t.rem_euclid(86_400) as f64 / 3600.0;
    0.55 - 0.45 * ((hour - 4.0) / 24.0 * std::f64::consts::TAU).cos()
}
/// Seconds between HPA evaluations, as the controller's default sync period.
const HPA_PERIOD_S: i64 = 15;
/// Seconds a new pod takes to become ready.
const POD_START_S: i64 = 20;
/// Steady-state hit rate of the answer cache, and how fast it returns there.
const CACHE_STEADY: f64 = 0.86;
const CACHE_RECOVERY_S: f64 = 300.0;
const BYTES_PER_KEY: f64 = 2_300.0;

#[derive(Debug, Clone)]
pub(super) struct SimDeployment {
    pub spec: Deployment,
    /// Requests per second one pod serves at 100 % CPU.
    capacity: f64,
    /// P50 at low load, ms.
    base_ms: f64,
    /// Share of the platform's traffic this service sees, and whether only misses reach it.
    share: f64,
    misses_only: bool,
    /// Times at which starting pods become ready.
    starting: Vec<i64>,
    /// (time, recommendation) over the stabilisation window.
    recommendations: VecDeque<(i64, u32)>,
    /// (time, replicas) over the longest policy period.
    replica_log: VecDeque<(i64, u32)>,
    pub(super) load: f64,
}

#[derive(Debug, Clone)]
pub struct Sim {
    rng: Rng,
    pub(super) t: i64,
    pub(super) deployments: Vec<SimDeployment>,
    behavior: Behavior,
    burst: Option<(i64, f64)>,
    pub(super) hit_rate: f64,
    pub(super) prefixes: Vec<(String, f64)>,
    /// When the operator last asked for an exact count of keys per prefix (`c`).
    pub(super) exact_count_at: Option<i64>,
    hits_total: f64,
    misses_total: f64,
    pub(super) qps: f64,
}

impl Sim {
    pub fn new(seed: u64, now: DateTime<Utc>) -> Sim {
        let mk = |spec, capacity, base_ms, share, misses_only| SimDeployment {
            spec,
            capacity,
            base_ms,
            share,
            misses_only,
            starting: Vec::new(),
            recommendations: VecDeque::new(),
            replica_log: VecDeque::new(),
            load: 0.0,
        };
        let mut sim = Sim {
            rng: Rng::new(seed),
            t: now.timestamp(),
            deployments: vec![
                mk(
                    deployment("chat-api", "cpu-ondemand", 1.0, 2.0, 0, 4),
                    60.0,
                    120.0,
                    1.0,
                    false,
                ),
                mk(
                    deployment("retrieval", "memory-ondemand", 2.0, 8.0, 0, 3),
                    30.0,
                    35.0,
                    1.2,
                    true,
                ),
                mk(
                    deployment("llm-gateway", "cpu-spot", 0.5, 1.0, 0, 3),
                    25.0,
                    300.0,
                    1.0,
                    true,
                ),
                mk(
                    deployment("embedding", "gpu-ondemand", 4.0, 16.0, 1, 2),
                    40.0,
                    22.0,
                    0.6,
                    true,
                ),
                // The knowledge-base indexer: not on the request path, hibernated at start
                // so the demo shows a deployment asleep and what that saves.
                mk(
                    deployment("kb-indexer", "cpu-ondemand", 2.0, 4.0, 0, 2),
                    40.0,
                    80.0,
                    0.05,
                    true,
                ),
            ],
            behavior: Behavior::seed(),
            burst: None,
            hit_rate: CACHE_STEADY,
            prefixes: vec![
                ("answer:".into(), 182_000.0),
                ("knowledge:".into(), 41_500.0),
                ("user:".into(), 26_800.0),
            ],
            exact_count_at: None,
            hits_total: 0.0,
            misses_total: 0.0,
            qps: 0.0,
        };
        if let Some(e) = sim.find("cs-prod", "embedding") {
            e.spec.vpa = Some(embedding_vpa());
        }
        let _ = sim.hibernate("cs-prod", "kb-indexer", "demo");
        // Settle replicas and the HPA history on the curve before the first sample.
        let start = sim.t - 600;
        sim.t = start;
        sim.advance_to(now.timestamp());
        sim
    }

    pub fn now(&self) -> i64 {
        self.t
    }

    /// Advances the simulation in one-second steps up to `now` (at most an hour at once).
    pub fn advance_to(&mut self, now: i64) {
        let now = now.min(self.t + 3600);
        while self.t < now {
            self.t += 1;
            self.step();
        }
    }

    fn daily(&self) -> f64 {
        daily_at(self.t)
    }

    fn step(&mut self) {
        let t = self.t;
        if let Some((until, _)) = self.burst
            && t >= until
        {
            self.burst = None;
        }
        if self.burst.is_none() && self.rng.unit() < 1.0 / 1200.0 {
            let len = self.rng.range(60.0, 240.0) as i64;
            self.burst = Some((t + len, self.rng.range(1.4, 2.2)));
        }
        let burst = self.burst.map_or(1.0, |(_, m)| m);
        self.qps = PEAK_QPS * self.daily() * burst * self.rng.range(0.97, 1.03);

        // The cache drifts back to its steady state after a warmup or an invalidation.
        self.hit_rate += (CACHE_STEADY - self.hit_rate) / CACHE_RECOVERY_S;
        let hits = self.qps * self.hit_rate;
        let misses = self.qps - hits;
        self.hits_total += hits;
        self.misses_total += misses;
        // Misses write new answers; TTL expiry takes old ones away.
        for (prefix, keys) in &mut self.prefixes {
            let inflow = if prefix == "answer:" {
                misses * 0.9
            } else {
                misses * 0.05
            };
            *keys = (*keys + inflow - *keys / 86_400.0 * 3.0).max(0.0);
        }

        let miss_ratio = 1.0 - self.hit_rate;
        for d in &mut self.deployments {
            // Nothing serves a hibernated deployment's share of the traffic.
            let serving = if d.spec.replicas == 0 { 0.0 } else { 1.0 };
            d.load = serving * self.qps * d.share * if d.misses_only { miss_ratio } else { 1.0 };
            d.starting.retain(|ready_at| *ready_at > t);
            let replicas = d.spec.replicas;
            d.spec.ready = replicas.saturating_sub(d.starting.len() as u32);
            d.spec.available = d.spec.ready;
            d.spec.updated = replicas;
            d.replica_log.push_back((t, replicas));
            while d.replica_log.front().is_some_and(|(at, _)| *at < t - 60) {
                d.replica_log.pop_front();
            }
        }
        if t % HPA_PERIOD_S == 0 {
            self.autoscale();
        }
    }

    fn autoscale(&mut self) {
        let t = self.t;
        for d in &mut self.deployments {
            let (cpu, mem) = utilisation(d);
            // As the real controller: an HPA whose target has 0 replicas does not act.
            if d.spec.replicas == 0 {
                continue;
            }
            let Some(hpa) = d.spec.hpa.as_mut() else {
                continue;
            };
            let current = d.spec.replicas;
            let raw = scaling::desired_for_metric(current, cpu, 70.0)
                .max(scaling::desired_for_metric(current, mem, 80.0));
            d.recommendations.push_back((t, raw));
            while d
                .recommendations
                .front()
                .is_some_and(|(at, _)| *at <= t - 300)
            {
                d.recommendations.pop_front();
            }
            let recent: Vec<u32> = d.recommendations.iter().map(|(_, r)| *r).collect();
            let ago = |secs: i64| {
                d.replica_log
                    .iter()
                    .find(|(at, _)| *at >= t - secs)
                    .map_or(current, |(_, r)| *r)
            };
            let period_start = if raw > current { ago(15) } else { ago(60) };
            let next = scaling::next_move(
                current,
                hpa.min,
                hpa.max,
                raw,
                &recent,
                period_start,
                &self.behavior,
            );
            hpa.current = current;
            hpa.desired = next.replicas;
            hpa.metrics = vec![
                HpaMetric {
                    name: "cpu".into(),
                    current: Some(cpu.round()),
                    target: 70.0,
                    unit: "%".into(),
                },
                HpaMetric {
                    name: "memory".into(),
                    current: Some(mem.round()),
                    target: 80.0,
                    unit: "%".into(),
                },
            ];
            set_replicas(d, next.replicas, t);
        }
    }

    pub fn metrics(&self) -> MetricsSample {
        let mut services = Vec::new();
        let mut utilization = Vec::new();
        // A hibernated service has no pods to report figures.
        for d in self.deployments.iter().filter(|d| d.spec.replicas > 0) {
            let (cpu, mem) = utilisation(d);
            let u = cpu / 100.0;
            // Latency grows with load, sharply past 90 %.
            let congestion = if u > 0.9 {
                (1.0 / (1.05 - u.min(1.04))).min(20.0) / 6.7
            } else {
                1.0
            };
            let p50 = d.base_ms * (1.0 + 0.4 * u * u) * congestion;
            let error_rate = 0.000_02 + if u > 0.95 { (u - 0.95) * 0.2 } else { 0.0 };
            let queue = if u > 0.85 {
                (u - 0.85) * 800.0
            } else {
                u * 6.0
            };
            services.push(ServiceLatency {
                name: d.spec.name.clone(),
                context: None,
                qps: round_to(d.load, 0.1),
                error_rate,
                p50_ms: p50.round(),
                p95_ms: (p50 * 2.6).round(),
                p99_ms: (p50 * 4.4).round(),
                queue_length: queue.round(),
            });
            utilization.push(Utilization {
                deployment: d.spec.name.clone(),
                context: None,
                cpu_pct: cpu.round(),
                memory_pct: mem.round(),
            });
        }
        // Each miss calls an LLM: 15 % gpt-4, 85 % gpt-3.5-turbo.
        let llm_rps = self.qps * (1.0 - self.hit_rate);
        let tokens = |share: f64, input: f64, output: f64, model: &str| ModelTokens {
            model: model.into(),
            input_per_sec: (llm_rps * share * input).round(),
            output_per_sec: (llm_rps * share * output).round(),
        };
        let models = vec![
            tokens(0.15, 600.0, 200.0, "gpt-4"),
            tokens(0.85, 500.0, 150.0, "gpt-3.5-turbo"),
        ];
        MetricsSample {
            services,
            utilization,
            tokens_by_namespace: super::tenants::tokens_by_namespace(&models),
            models,
            cdn_hit_rate: Some(0.93),
            app_cache_hit_rate: Some(0.41),
            cache_hit_rate_by_prefix: super::prefix_hit_rates(CACHE_STEADY - self.hit_rate),
            pace_ms: None,
            problems: Vec::new(),
        }
    }

    pub fn cache(&self) -> CacheSample {
        let keys: f64 = self.prefixes.iter().map(|(_, k)| k).sum();
        let used = (keys * BYTES_PER_KEY) as u64 + 12_000_000;
        let lifetime = self.hits_total / (self.hits_total + self.misses_total).max(1.0);
        let hits = self.qps * self.hit_rate;
        CacheSample {
            hit_rate: Some(round_to(self.hit_rate, 0.0005)),
            hit_rate_lifetime: Some(round_to(lifetime, 0.0005)),
            hits_per_sec: hits.round(),
            misses_per_sec: (self.qps - hits).round(),
            ops_per_sec: (self.qps * 2.4).round(),
            used_memory_bytes: used,
            maxmemory_bytes: 2 << 30,
            fragmentation: 1.08,
            evicted_keys_per_sec: 0.0,
            expired_keys_per_sec: round_to(keys / 86_400.0 * 3.0, 0.1),
            connected_clients: 48
                + self
                    .deployments
                    .iter()
                    .map(|d| d.spec.ready as u64)
                    .sum::<u64>()
                    * 4,
            ping_ms: 0.4,
            keys: keys as u64,
            eviction_policy: "allkeys-lru".into(),
            prefixes: self.prefix_counts(keys),
            exact_count_progress: None,
            nodes: Vec::new(),
        }
    }

    pub fn cluster(&self) -> ClusterSample {
        let deployments: Vec<Deployment> =
            self.deployments.iter().map(|d| d.spec.clone()).collect();
        let pool = |name: &str, class: &str, spot: bool, per_node: u32| {
            let pods: u32 = deployments
                .iter()
                .filter(|d| d.pool == name)
                .map(|d| d.replicas)
                .sum();
            NodePool {
                name: name.into(),
                class: class.into(),
                spot,
                nodes: pods.div_ceil(per_node).max(1),
                pods,
            }
        };
        ClusterSample {
            context: "demo".into(),
            pools: vec![
                pool("cpu-ondemand", "cpu", false, 8),
                pool("cpu-spot", "cpu", true, 8),
                pool("memory-ondemand", "memory", false, 4),
                pool("gpu-ondemand", "gpu", false, 1),
            ],
            deployments,
        }
    }

    pub(super) fn find(&mut self, namespace: &str, name: &str) -> Option<&mut SimDeployment> {
        self.deployments
            .iter_mut()
            .find(|d| d.spec.name == name && d.spec.namespace == namespace)
    }

    /// Sets replicas directly, as `kubectl scale` would; an HPA will move them back.
    pub fn scale(&mut self, namespace: &str, name: &str, replicas: u32) -> Result<u32, String> {
        let t = self.t;
        let d = self
            .find(namespace, name)
            .ok_or_else(|| format!("deployment {namespace}/{name} not found"))?;
        let before = d.spec.replicas;
        set_replicas(d, replicas, t);
        Ok(before)
    }

    /// Sets the HPA's minReplicas; the next evaluation lifts replicas to it.
    pub fn set_hpa_min(&mut self, namespace: &str, name: &str, min: u32) -> Result<u32, String> {
        let max = self
            .find(namespace, name)
            .and_then(|d| d.spec.hpa.as_ref())
            .map_or(min, |h| h.max);
        self.set_hpa_bounds(namespace, name, min, max)
            .map(|(min, _)| min)
    }

    /// Sets the HPA's minReplicas and maxReplicas; returns the bounds before.
    pub fn set_hpa_bounds(
        &mut self,
        namespace: &str,
        name: &str,
        min: u32,
        max: u32,
    ) -> Result<(u32, u32), String> {
        let d = self
            .find(namespace, name)
            .ok_or_else(|| format!("deployment {namespace}/{name} not found"))?;
        let hpa = d
            .spec
            .hpa
            .as_mut()
            .ok_or_else(|| format!("{namespace}/{name} has no HPA"))?;
        if min < 1 || min > max {
            return Err(format!(
                "minReplicas {min} must be between 1 and maxReplicas {max}"
            ));
        }
        let before = (hpa.min, hpa.max);
        (hpa.min, hpa.max) = (min, max);
        Ok(before)
    }

    /// Adds warmed answers: more keys and a higher hit rate while the hot set is served.
    pub fn warm(&mut self, keys: u64, total: u64) {
        if let Some((_, k)) = self.prefixes.iter_mut().find(|(p, _)| p == "answer:") {
            *k += keys as f64;
        }
        let lift = (0.96 - self.hit_rate).max(0.0) * keys as f64 / total.max(1) as f64;
        self.hit_rate += lift;
    }

    /// Deletes keys under a prefix; answers gone means misses until they are written again.
    pub fn invalidate(&mut self, prefix: &str, keys: u64) -> u64 {
        let Some((_, k)) = self.prefixes.iter_mut().find(|(p, _)| p == prefix) else {
            return 0;
        };
        let before = *k;
        let n = (keys as f64).min(*k);
        *k -= n;
        if prefix == "answer:" && before > 0.0 {
            self.hit_rate *= 1.0 - 0.85 * n / before;
        }
        n as u64
    }

    pub fn prefix_keys(&self, prefix: &str) -> u64 {
        self.prefixes
            .iter()
            .find(|(p, _)| p == prefix)
            .map_or(0, |(_, k)| *k as u64)
    }
}

fn utilisation(d: &SimDeployment) -> (f64, f64) {
    let ready = d.spec.ready.max(1) as f64;
    let cpu = 100.0 * d.load / (ready * d.capacity);
    let mem = 35.0 + 0.35 * cpu.min(150.0);
    (cpu, mem)
}

pub(super) fn set_replicas(d: &mut SimDeployment, replicas: u32, t: i64) {
    let current = d.spec.replicas;
    if replicas > current {
        d.starting.extend(std::iter::repeat_n(
            t + POD_START_S,
            (replicas - current) as usize,
        ));
    } else {
        let drop = (current - replicas) as usize;
        let keep = d.starting.len().saturating_sub(drop);
        d.starting.truncate(keep);
    }
    d.spec.replicas = replicas;
    d.spec.ready = replicas.saturating_sub(d.starting.len() as u32);
    d.spec.available = d.spec.ready;
}

fn round_to(v: f64, step: f64) -> f64 {
    (v / step).round() * step
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, h, 0, 0).unwrap()
    }

    #[test]
    fn demo_prefixes_are_sampled_until_counted_exactly_and_for_ten_minutes_after() {
        let mut sim = Sim::new(7, at(10));
        let c = sim.cache();
        assert!(c.prefixes.iter().all(|p| !p.exact && p.margin > 0));
        sim.count_keys_exactly();
        let c = sim.cache();
        assert!(
            c.prefixes
                .iter()
                .all(|p| p.exact && p.margin == 0 && p.age_s == 0)
        );
        sim.advance_to(at(10).timestamp() + 601);
        assert!(sim.cache().prefixes.iter().all(|p| !p.exact));
    }

    #[test]
    fn same_seed_and_clock_give_the_same_figures() {
        let mut a = Sim::new(7, at(10));
        let mut b = Sim::new(7, at(10));
        a.advance_to(at(10).timestamp() + 90);
        b.advance_to(at(10).timestamp() + 90);
        assert_eq!(a.metrics(), b.metrics());
        assert_eq!(a.cluster(), b.cluster());
        assert_eq!(a.cache(), b.cache());
    }

    #[test]
    fn afternoon_peak_needs_more_replicas_than_the_night() {
        let night = Sim::new(1, at(4));
        let peak = Sim::new(1, at(16));
        let total = |s: &Sim| {
            s.cluster()
                .deployments
                .iter()
                .map(|d| d.replicas)
                .sum::<u32>()
        };
        assert!(
            total(&peak) > total(&night),
            "{} vs {}",
            total(&peak),
            total(&night)
        );
    }

    #[test]
    fn the_hpa_undoes_a_manual_scale_and_honours_a_new_minimum() {
        let mut sim = Sim::new(3, at(4));
        let before = sim.cluster().deployments[0].replicas;
        sim.scale("cs-prod", "chat-api", 15).unwrap();
        sim.advance_to(sim.now() + 400);
        let after = sim.cluster().deployments[0].replicas;
        assert!(after < 15, "HPA should push back from 15, still {after}");
        sim.set_hpa_min("cs-prod", "chat-api", before + 5).unwrap();
        sim.advance_to(sim.now() + 30);
        assert!(sim.cluster().deployments[0].replicas >= before + 5);
    }

    #[test]
    fn invalidation_drops_the_hit_rate_and_it_recovers() {
        let mut sim = Sim::new(5, at(12));
        let steady = sim.cache().hit_rate.unwrap();
        let keys = sim.prefix_keys("answer:");
        assert_eq!(sim.invalidate("answer:", keys), keys);
        let dropped = sim.cache().hit_rate.unwrap();
        assert!(dropped < 0.3, "hit rate after invalidation {dropped}");
        sim.advance_to(sim.now() + 1800);
        let recovered = sim.cache().hit_rate.unwrap();
        assert!(recovered > dropped + 0.4 && recovered <= steady + 0.01);
        sim.warm(20_000, 20_000);
        assert!(sim.cache().hit_rate.unwrap() > recovered);
    }
}
