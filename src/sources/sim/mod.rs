//! The embedded demo: a simulated platform as the seed describes it.
//!
//! Five deployments (chat-api, retrieval and llm-gateway on CPU nodes, embedding on GPU
//! nodes, kb-indexer hibernated at start), each with the seed's HPA (min 2, max 20, CPU 70 %, memory 80 %, its scale-up and
//! scale-down behaviour) driven by the same HPA arithmetic the console explains, and on
//! embedding a VPA like the seed's (updateMode Auto, min/max allowed); a daily
//! traffic curve with bursts; a Redis cache whose misses become LLM tokens and cost.
//! Deterministic: the same seed and the same clock give the same figures.

mod hibernate;
mod model;
mod prefixes;
mod setup;
mod task;
mod tenants;
mod traffic;
mod usage;

pub use model::Sim;
pub use task::{SimCommand, SimHandle, backfill, samples, spawn};

/// The services' own lookups per key prefix, as Prometheus would report them: FAQ answers
/// hit most, per-user data less, sessions (not a prefix Redis is asked to count) least.
/// All dip by `dip` while the cache recovers from a warmup or an invalidation.
fn prefix_hit_rates(dip: f64) -> std::collections::BTreeMap<String, f64> {
    [
        ("answer:", 0.91),
        ("knowledge:", 0.83),
        ("user:", 0.74),
        ("session:", 0.58),
    ]
    .into_iter()
    .map(|(p, steady)| {
        let rate = (steady - dip).clamp(0.0, 1.0);
        (p.to_string(), (rate * 2000.0).round() / 2000.0)
    })
    .collect()
}

/// A small deterministic generator (SplitMix64): no dependency, same sequence everywhere.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}
