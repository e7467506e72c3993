//! The demo's keys per prefix as the Redis source reports them: sampled estimates with
//! their ±, or exact after the operator's `c`.

use super::model::Sim;
use crate::model::PrefixCount;
use crate::sources::redis::estimate::estimate;

impl Sim {
    /// As the Redis source reports them: estimated from sampled pages (a steady window of
    /// 15,000 keys), or exact for ten minutes after `count_keys_exactly`.
    pub(super) fn prefix_counts(&self, total: f64) -> Vec<PrefixCount> {
        const SAMPLED: u64 = 15_000;
        let exact_age = self
            .exact_count_at
            .map(|at| self.t - at)
            .filter(|a| *a < 600);
        self.prefixes
            .iter()
            .map(|(p, k)| {
                let keys = *k as u64;
                let (keys, margin, exact, sampled, age_s) = match exact_age {
                    Some(age) => (keys, 0, true, total as u64, age as u64),
                    None => {
                        let hits = (k / total.max(1.0) * SAMPLED as f64).round() as u64;
                        let (_, margin) = estimate(hits, SAMPLED, total as u64).unwrap_or((0, 0));
                        (keys, margin, false, SAMPLED, self.t.rem_euclid(2) as u64)
                    }
                };
                PrefixCount {
                    prefix: p.clone(),
                    keys,
                    margin,
                    exact,
                    sampled,
                    age_s,
                }
            })
            .collect()
    }

    /// The `c` key on the demo: an exact count, done at once.
    pub fn count_keys_exactly(&mut self) {
        self.exact_count_at = Some(self.t);
    }
}
