//! One deployment's scaling picture, computed once for every place that shows it (the
//! Scaling table's row, its detail panel, the Overview): the seed's rules verdict beside
//! the HPA controller's own move, and whether the two point different ways.
//!
//! They answer different questions and may differ without either being wrong: the rules
//! act only past their thresholds (up over 70 %, down under 30 %), while the HPA steers
//! each metric toward its target (70 %, ignoring ratios within 10 % of it) from its own
//! last reading, through its stabilisation window and rate policies.

use super::{Direction, Signals, TOLERANCE, Verdict, verdict};
use crate::config::Rules;
use crate::model::Hpa;

/// What the HPA controller does with the replicas: from `current` to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HpaMove {
    pub current: u32,
    pub to: u32,
    /// The bound, policy or window that holds it back ("max 20", "policy 4 pods/15s").
    pub limited_by: Option<String>,
    /// `true` when computed by the controller's rules from its status (its next move);
    /// `false` when it is `status.desiredReplicas`, its last decision.
    pub predicted: bool,
}

impl HpaMove {
    /// The controller's next move when the source computed one, its last decision otherwise.
    pub fn of(h: &Hpa) -> HpaMove {
        let (to, limited_by, predicted) = match &h.next {
            Some(n) => (n.replicas, n.limited_by.clone(), true),
            None => (h.desired, None, false),
        };
        HpaMove {
            current: h.current,
            to,
            limited_by,
            predicted,
        }
    }

    pub fn direction(&self) -> Direction {
        match self.to.cmp(&self.current) {
            std::cmp::Ordering::Greater => Direction::Up,
            std::cmp::Ordering::Less => Direction::Down,
            std::cmp::Ordering::Equal => Direction::Hold,
        }
    }

    /// `3→5`, for a table cell.
    pub fn arrow(&self) -> String {
        format!("{}→{}", self.current, self.to)
    }

    /// "scale up 3 → 5 (policy 4 pods/15s)", "hold at 10".
    pub fn words(&self) -> String {
        let why = self
            .limited_by
            .as_deref()
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        match self.direction() {
            Direction::Up => format!("scale up {} → {}{why}", self.current, self.to),
            Direction::Down => format!("scale down {} → {}{why}", self.current, self.to),
            _ => format!("hold at {}{why}", self.current),
        }
    }
}

/// The rules' verdict and the HPA's move for one deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Outlook {
    pub rules: Verdict,
    pub hpa: Option<HpaMove>,
}

/// Computes both from the same signals and the same HPA status.
pub fn outlook(signals: &Signals, hpa: Option<&Hpa>, rules: &Rules) -> Outlook {
    Outlook {
        rules: verdict(signals, rules),
        hpa: hpa.map(HpaMove::of),
    }
}

impl Outlook {
    /// The rules and the HPA point different ways: the rules ask up (or down) and the
    /// HPA does not move that way, or the rules hold and the HPA moves. An unknown
    /// verdict, or a move the HPA's bounds forbid, is no disagreement.
    pub fn differ(&self) -> bool {
        let Some(m) = &self.hpa else { return false };
        let (rules, hpa) = (self.rules.direction, m.direction());
        match rules {
            Direction::Unknown => false,
            Direction::Up | Direction::Down if self.rules.at_limit => hpa != Direction::Hold,
            _ => rules != hpa,
        }
    }

    /// Why the two may differ, in one line, when they do.
    pub fn why_they_differ(&self, r: &Rules, hpa_cpu_target: Option<f64>) -> Option<String> {
        if !self.differ() {
            return None;
        }
        let tolerance = format!("±{:.0}% ignored", TOLERANCE * 100.0);
        let target = match hpa_cpu_target {
            Some(t) => format!("cpu {t:.0}%, {tolerance}"),
            None => tolerance,
        };
        Some(format!(
            "rules and HPA differ: the HPA aims at its targets ({target}) on its last \
             reading; the rules move only over cpu {:.0}% or under {:.0}%",
            r.cpu_up, r.cpu_down
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::HpaNext;

    fn hpa(current: u32, desired: u32, next: Option<u32>) -> Hpa {
        Hpa {
            name: "h".into(),
            min: 2,
            max: 20,
            current,
            desired,
            next: next.map(|replicas| HpaNext {
                replicas,
                limited_by: None,
            }),
            ..Default::default()
        }
    }

    fn signals(cpu: f64, mem: f64, current: u32) -> Signals {
        Signals {
            cpu_pct: Some(cpu),
            memory_pct: Some(mem),
            queue_length: Some(0.0),
            p95_ms: Some(100.0),
            ..Signals::default()
        }
        .with_hpa(&hpa(current, current, None))
    }

    #[test]
    fn the_next_move_wins_over_the_last_decision() {
        assert_eq!(HpaMove::of(&hpa(3, 5, Some(4))).to, 4);
        assert!(HpaMove::of(&hpa(3, 5, Some(4))).predicted);
        assert_eq!(HpaMove::of(&hpa(3, 5, None)).to, 5);
        assert_eq!(HpaMove::of(&hpa(3, 5, None)).words(), "scale up 3 → 5");
        assert_eq!(HpaMove::of(&hpa(10, 10, None)).words(), "hold at 10");
    }

    #[test]
    fn rules_hold_while_the_hpa_grows_is_a_difference_said_in_words() {
        let r = Rules::default();
        let o = outlook(&signals(45.0, 50.0, 3), Some(&hpa(3, 5, None)), &r);
        assert_eq!(o.rules.direction, Direction::Hold);
        assert!(o.differ());
        let why = o.why_they_differ(&r, Some(70.0)).unwrap();
        assert!(why.contains("cpu 70%"), "{why}");
        let same = outlook(&signals(45.0, 50.0, 3), Some(&hpa(3, 3, None)), &r);
        assert!(!same.differ());
        assert_eq!(same.why_they_differ(&r, Some(70.0)), None);
    }

    #[test]
    fn a_move_the_bounds_forbid_is_not_a_difference() {
        let r = Rules::default();
        let mut s = signals(95.0, 50.0, 20);
        s.bounds = Some(super::super::Bounds {
            current: 20,
            min: 2,
            max: 20,
        });
        let o = outlook(&s, Some(&hpa(20, 20, None)), &r);
        assert!(o.rules.at_limit);
        assert!(!o.differ());
    }
}
