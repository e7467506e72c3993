//! Hibernate and wake in the demo: the count recorded on the deployment as the annotation
//! would be, the simulated HPA idle while its target has 0 replicas.

use super::Sim;
use super::model::set_replicas;
use crate::model::Hibernation;

impl Sim {
    /// To 0 replicas, recording the count; returns it.
    pub fn hibernate(&mut self, namespace: &str, name: &str, by: &str) -> Result<u32, String> {
        let t = self.t;
        let d = self
            .find(namespace, name)
            .ok_or_else(|| format!("deployment {namespace}/{name} not found"))?;
        if d.spec.hibernated.is_some() {
            return Err(format!("{namespace}/{name} is already hibernated"));
        }
        let before = d.spec.replicas;
        if before == 0 {
            return Err(format!("{namespace}/{name} is already at 0 replicas"));
        }
        d.spec.hibernated = Some(Hibernation {
            replicas: Some(before),
            by: Some(by.to_string()),
            at: chrono::DateTime::from_timestamp(t, 0)
                .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        });
        set_replicas(d, 0, t);
        if let Some(h) = d.spec.hpa.as_mut() {
            (h.current, h.desired) = (0, 0);
        }
        Ok(before)
    }

    /// Back to the recorded count, the record removed; returns the count.
    pub fn wake(&mut self, namespace: &str, name: &str) -> Result<u32, String> {
        let t = self.t;
        let d = self
            .find(namespace, name)
            .ok_or_else(|| format!("deployment {namespace}/{name} not found"))?;
        let n = d
            .spec
            .hibernated
            .as_ref()
            .and_then(|h| h.replicas)
            .ok_or_else(|| format!("{namespace}/{name} is not hibernated"))?;
        d.spec.hibernated = None;
        set_replicas(d, n, t);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_demo_starts_with_the_indexer_asleep_and_wakes_it_to_its_count() {
        let now = chrono::Utc
            .with_ymd_and_hms(2026, 11, 25, 10, 0, 0)
            .unwrap();
        let mut sim = Sim::new(7, now);
        let find = |s: &Sim| {
            s.cluster()
                .deployments
                .into_iter()
                .find(|d| d.name == "kb-indexer")
                .unwrap()
        };
        let d = find(&sim);
        assert_eq!(d.replicas, 0, "the HPA left it at 0 through the settling");
        assert_eq!(d.hibernated.unwrap().replicas, Some(2));
        assert_eq!(sim.wake("cs-prod", "kb-indexer"), Ok(2));
        sim.advance_to(sim.now() + 60);
        let d = find(&sim);
        assert!(d.hibernated.is_none());
        assert!(
            d.replicas >= 2,
            "woken and the HPA acts again: {}",
            d.replicas
        );
        assert!(sim.wake("cs-prod", "kb-indexer").is_err());
        assert_eq!(
            sim.hibernate("cs-prod", "retrieval", "me").map(|n| n > 0),
            Ok(true)
        );
    }
}
