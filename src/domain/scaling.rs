//! The seed's scaling rules (section 8.1) and the HPA's own arithmetic.
//!
//! Two different questions are answered here: `verdict` says what the platform's design asks
//! for given the signals (the operator's rule of thumb), `next_move` says what the
//! HorizontalPodAutoscaler controller will actually do next given its behaviour.

mod outlook;

pub use outlook::{HpaMove, Outlook, outlook};

use crate::config::Rules;
use crate::model::Hpa;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
    Hold,
    /// Nothing known is over a threshold, but an input is unknown: no verdict.
    Unknown,
}

impl Direction {
    pub fn label(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
            Direction::Hold => "hold",
            Direction::Unknown => "?",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub direction: Direction,
    pub reasons: Vec<String>,
    /// The rules ask for a direction the HPA's bounds forbid: up at its max, down at its min.
    pub at_limit: bool,
}

impl Verdict {
    /// The verdict in words, the limit spelled out so it reads without colour:
    /// "up (at max)", "down (at min)", "up", "down", "hold", "?".
    pub fn label(&self) -> &'static str {
        match (self.direction, self.at_limit) {
            (Direction::Up, true) => "up (at max)",
            (Direction::Down, true) => "down (at min)",
            (d, _) => d.label(),
        }
    }
}

/// What the rules look at for one deployment. `None` means the figure is unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Signals {
    pub cpu_pct: Option<f64>,
    pub memory_pct: Option<f64>,
    pub queue_length: Option<f64>,
    pub p95_ms: Option<f64>,
    /// Which of the figures above came from the HPA's `status.currentMetrics`.
    pub from_hpa: FromHpa,
    /// The HPA's replicas and bounds, when an HPA owns the deployment.
    pub bounds: Option<Bounds>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FromHpa {
    pub cpu: bool,
    pub memory: bool,
    pub queue: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub current: u32,
    pub min: u32,
    pub max: u32,
}

/// The HPA metric the platform names its queue length by (an External metric).
pub const HPA_QUEUE_METRIC: &str = "queue_length";

impl Signals {
    /// Takes the HPA's bounds, and every figure still unknown from its `status.currentMetrics`
    /// when it has one: cpu and memory as utilisation (% of requests), the queue from the
    /// `queue_length` metric.
    pub fn with_hpa(mut self, hpa: &Hpa) -> Signals {
        self.bounds = Some(Bounds {
            current: hpa.current,
            min: hpa.min,
            max: hpa.max,
        });
        let current = |name: &str, percent: bool| {
            hpa.metrics
                .iter()
                .filter(|m| m.name == name && (m.unit == "%") == percent)
                .find_map(|m| m.current.filter(|v| v.is_finite()))
        };
        let fill = |slot: &mut Option<f64>, flag: &mut bool, value: Option<f64>| {
            if known(*slot).is_none()
                && let Some(v) = value
            {
                *slot = Some(v);
                *flag = true;
            }
        };
        fill(
            &mut self.cpu_pct,
            &mut self.from_hpa.cpu,
            current("cpu", true),
        );
        fill(
            &mut self.memory_pct,
            &mut self.from_hpa.memory,
            current("memory", true),
        );
        fill(
            &mut self.queue_length,
            &mut self.from_hpa.queue,
            current(HPA_QUEUE_METRIC, false),
        );
        self
    }
}

/// A figure counts only when it is a number: NaN (a quantile over no traffic) is unknown.
fn known(v: Option<f64>) -> Option<f64> {
    v.filter(|v| v.is_finite())
}

/// One input of the rules, as the reasons name it.
struct Input {
    name: &'static str,
    value: Option<f64>,
    unit: &'static str,
    /// " (HPA)" when the figure is the HPA's own.
    origin: &'static str,
}

impl Input {
    fn compare(&self, v: f64, op: &str, limit: f64) -> String {
        let (n, u, o) = (self.name, self.unit, self.origin);
        format!("{n} {v:.0}{u} {op} {limit:.0}{u}{o}")
    }
}

/// Scale up when any known signal is over its up threshold (even with others unknown);
/// otherwise a verdict needs every input: any unknown gives `Unknown`, naming what is
/// missing. Scale down only when CPU, memory and queue are all under their down
/// thresholds; hold otherwise. `at_limit` when the HPA's bounds forbid the move.
pub fn verdict(s: &Signals, r: &Rules) -> Verdict {
    let origin = |hpa: bool| if hpa { " (HPA)" } else { "" };
    let input = |name, value, unit, hpa| Input {
        name,
        value: known(value),
        unit,
        origin: origin(hpa),
    };
    let cpu = input("cpu", s.cpu_pct, "%", s.from_hpa.cpu);
    let mem = input("memory", s.memory_pct, "%", s.from_hpa.memory);
    let queue = input("queue", s.queue_length, "", s.from_hpa.queue);
    let p95 = input("p95", s.p95_ms, "ms", false);

    let ups = [
        (&cpu, r.cpu_up),
        (&mem, r.mem_up),
        (&queue, r.queue_up),
        (&p95, r.p95_up_ms),
    ];
    let up: Vec<String> = ups
        .iter()
        .filter_map(|(i, limit)| {
            let v = i.value.filter(|v| v > limit)?;
            Some(i.compare(v, ">", *limit))
        })
        .collect();
    if !up.is_empty() {
        let at_max = s.bounds.filter(|b| b.current >= b.max);
        return limited(
            Direction::Up,
            up,
            at_max.map(|b| format!("HPA at max {}", b.max)),
        );
    }
    let unknown: Vec<String> = [&cpu, &mem, &queue, &p95]
        .iter()
        .filter(|i| i.value.is_none())
        .map(|i| format!("{} unknown", i.name))
        .collect();
    if !unknown.is_empty() {
        return limited(Direction::Unknown, unknown, None);
    }
    let downs = [
        (&cpu, r.cpu_down),
        (&mem, r.mem_down),
        (&queue, r.queue_down),
    ];
    let blocking: Vec<String> = downs
        .iter()
        .filter_map(|(i, limit)| {
            let v = i.value.filter(|v| v >= limit)?;
            Some(i.compare(v, "≥", *limit))
        })
        .collect();
    if blocking.is_empty() {
        let reasons = downs
            .iter()
            .filter_map(|(i, limit)| Some(i.compare(i.value?, "<", *limit)))
            .collect();
        let at_min = s.bounds.filter(|b| b.current <= b.min);
        return limited(
            Direction::Down,
            reasons,
            at_min.map(|b| format!("HPA at min {}", b.min)),
        );
    }
    limited(Direction::Hold, blocking, None)
}

/// The verdict, with the HPA bound that forbids it as its last reason.
fn limited(direction: Direction, mut reasons: Vec<String>, limit: Option<String>) -> Verdict {
    let at_limit = limit.is_some();
    reasons.extend(limit);
    Verdict {
        direction,
        reasons,
        at_limit,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    Percent,
    Pods,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub kind: PolicyKind,
    pub value: u32,
    pub period_s: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectPolicy {
    Max,
    Min,
    Disabled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalingRules {
    pub stabilization_s: u32,
    pub policies: Vec<Policy>,
    pub select: SelectPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Behavior {
    pub up: ScalingRules,
    pub down: ScalingRules,
}

impl Default for Behavior {
    /// Kubernetes' defaults when `behavior` is unset: up 100 % or 4 pods per 15 s (the
    /// larger), no stabilisation; down 100 % per 15 s after a 300 s window.
    fn default() -> Self {
        Behavior {
            up: ScalingRules {
                stabilization_s: 0,
                policies: vec![
                    Policy {
                        kind: PolicyKind::Percent,
                        value: 100,
                        period_s: 15,
                    },
                    Policy {
                        kind: PolicyKind::Pods,
                        value: 4,
                        period_s: 15,
                    },
                ],
                select: SelectPolicy::Max,
            },
            down: ScalingRules {
                stabilization_s: 300,
                policies: vec![Policy {
                    kind: PolicyKind::Percent,
                    value: 100,
                    period_s: 15,
                }],
                select: SelectPolicy::Max,
            },
        }
    }
}

impl Behavior {
    /// The seed's HPA: scale-up as the defaults, scale-down 50 % per 60 s after 300 s.
    pub fn seed() -> Behavior {
        let mut b = Behavior::default();
        b.down.policies = vec![Policy {
            kind: PolicyKind::Percent,
            value: 50,
            period_s: 60,
        }];
        b
    }
}

/// The controller's tolerance: ratios within 10 % of 1 cause no change.
pub const TOLERANCE: f64 = 0.1;

/// Replicas one metric asks for: `ceil(current × value / target)`, unchanged within tolerance.
pub fn desired_for_metric(current: u32, value: f64, target: f64) -> u32 {
    // A NaN or infinite target would turn into 0 replicas below; treat it as no signal.
    if !target.is_finite() || target <= 0.0 || !value.is_finite() {
        return current;
    }
    let ratio = value / target;
    if (ratio - 1.0).abs() <= TOLERANCE {
        return current;
    }
    (current as f64 * ratio).ceil().max(0.0) as u32
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextMove {
    /// Replicas the controller will set next.
    pub replicas: u32,
    /// Why it is not simply the metric's ask: "max 20", "policy 4 pods/15s", "stabilisation 300s".
    pub limited_by: Option<String>,
}

/// What the HPA sets next, following the controller's `reconcileAutoscaler` and
/// `normalizeDesiredReplicasWithBehaviors`. `raw_desired` is the largest metric ask now;
/// `recent` holds the recommendations inside the stabilisation window of the direction the
/// ask points to (scale-up window when `raw_desired >= current`, scale-down window below);
/// `period_start` is the replica count one policy period ago.
pub fn next_move(
    current: u32,
    min: u32,
    max: u32,
    raw_desired: u32,
    recent: &[u32],
    period_start: u32,
    behavior: &Behavior,
) -> NextMove {
    // The controller settles these before it looks at any metric or behaviour: a target
    // scaled to zero is left alone, and one outside [min, max] jumps straight to the bound.
    if current == 0 && min != 0 {
        return NextMove {
            replicas: 0,
            limited_by: Some("scaled to zero: autoscaling off".into()),
        };
    }
    if current > max {
        return NextMove {
            replicas: max,
            limited_by: Some(format!("max {max}")),
        };
    }
    if current < min {
        return NextMove {
            replicas: min,
            limited_by: Some(format!("min {min}")),
        };
    }

    let mut limited_by = None;
    // Stabilisation picks the safest recommendation in the window: the lowest when asking
    // to grow, the highest when asking to shrink. It is deliberately not clamped to
    // `current`: in the controller a high recommendation still inside the scale-down window
    // keeps pushing replicas up after the load has fallen, and the console must show that.
    let growing = raw_desired >= current;
    let rules = if growing {
        &behavior.up
    } else {
        &behavior.down
    };
    let stabilised = if rules.stabilization_s > 0 {
        let window = recent.iter().copied().chain([raw_desired]);
        let pick = if growing { window.min() } else { window.max() };
        let pick = pick.unwrap_or(raw_desired);
        if pick != raw_desired {
            limited_by = Some(format!("stabilisation {}s", rules.stabilization_s));
        }
        pick
    } else {
        raw_desired
    };
    let mut target = stabilised;
    if target > current {
        if let Some((limit, why)) = up_limit(current, period_start, &behavior.up)
            && target > limit
        {
            target = limit.max(current);
            limited_by = Some(why);
        }
    } else if target < current
        && let Some((limit, why)) = down_limit(current, period_start, &behavior.down)
        && target < limit
    {
        target = limit.min(current);
        limited_by = Some(why);
    }
    if target > max {
        target = max;
        limited_by = Some(format!("max {max}"));
    }
    if target < min {
        target = min;
        limited_by = Some(format!("min {min}"));
    }
    NextMove {
        replicas: target,
        limited_by,
    }
}

fn describe(p: &Policy) -> String {
    match p.kind {
        PolicyKind::Percent => format!("policy {}%/{}s", p.value, p.period_s),
        PolicyKind::Pods => format!("policy {} pods/{}s", p.value, p.period_s),
    }
}

fn up_limit(current: u32, start: u32, rules: &ScalingRules) -> Option<(u32, String)> {
    if rules.select == SelectPolicy::Disabled {
        return Some((current, "scale-up disabled".into()));
    }
    let limits = rules.policies.iter().map(|p| {
        let limit = match p.kind {
            PolicyKind::Percent => (start as f64 * (1.0 + p.value as f64 / 100.0)).ceil() as u32,
            PolicyKind::Pods => start + p.value,
        };
        (limit, describe(p))
    });
    match rules.select {
        SelectPolicy::Max => limits.max_by_key(|(l, _)| *l),
        _ => limits.min_by_key(|(l, _)| *l),
    }
}

fn down_limit(current: u32, start: u32, rules: &ScalingRules) -> Option<(u32, String)> {
    if rules.select == SelectPolicy::Disabled {
        return Some((current, "scale-down disabled".into()));
    }
    let limits = rules.policies.iter().map(|p| {
        let limit = match p.kind {
            PolicyKind::Percent => (start as f64 * (1.0 - p.value as f64 / 100.0)) as u32,
            PolicyKind::Pods => start.saturating_sub(p.value),
        };
        (limit, describe(p))
    });
    // Max selects the policy allowing the largest change, i.e. the lowest floor.
    match rules.select {
        SelectPolicy::Max => limits.min_by_key(|(l, _)| *l),
        _ => limits.max_by_key(|(l, _)| *l),
    }
}
