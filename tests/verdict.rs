//! The rules' verdict from the HPA's own figures when Prometheus has none, and a verdict the
//! HPA's bounds forbid said in words ("up (at max)"), not only in colour.

use opsdeck::config::Rules;
use opsdeck::domain::scaling::{Bounds, Direction, FromHpa, Signals, verdict};
use opsdeck::model::{Hpa, HpaMetric};

fn metric(name: &str, current: Option<f64>, target: f64, unit: &str) -> HpaMetric {
    HpaMetric {
        name: name.into(),
        current,
        target,
        unit: unit.into(),
    }
}

/// The seed's HPA for llm-gateway: min 2, max 20, CPU 70 %, memory 80 %, queue 100.
fn hpa(current: u32, cpu: Option<f64>, memory: Option<f64>, queue: Option<f64>) -> Hpa {
    Hpa {
        name: "llm-gateway-hpa".into(),
        min: 2,
        max: 20,
        current,
        desired: current,
        metrics: vec![
            metric("cpu", cpu, 70.0, "%"),
            metric("memory", memory, 80.0, "%"),
            metric("queue_length", queue, 100.0, ""),
        ],
        ..Default::default()
    }
}

fn known(cpu: f64, memory: f64, queue: f64, p95: f64) -> Signals {
    Signals {
        cpu_pct: Some(cpu),
        memory_pct: Some(memory),
        queue_length: Some(queue),
        p95_ms: Some(p95),
        ..Default::default()
    }
}

#[test]
fn without_prometheus_the_hpa_figures_decide_and_at_max_says_so() {
    // No Prometheus: llm-gateway at its max with CPU 91 % of a 70 % target.
    let s = Signals::default().with_hpa(&hpa(20, Some(91.0), Some(55.0), None));
    assert_eq!(s.cpu_pct, Some(91.0));
    assert_eq!(s.memory_pct, Some(55.0));
    assert_eq!(s.queue_length, None);
    assert_eq!(
        s.from_hpa,
        FromHpa {
            cpu: true,
            memory: true,
            queue: false
        }
    );
    assert_eq!(
        s.bounds,
        Some(Bounds {
            current: 20,
            min: 2,
            max: 20
        })
    );
    let v = verdict(&s, &Rules::default());
    assert_eq!(v.direction, Direction::Up);
    assert!(v.at_limit);
    assert_eq!(v.label(), "up (at max)");
    assert_eq!(v.reasons, ["cpu 91% > 70% (HPA)", "HPA at max 20"]);

    // Below its max the same figures scale up, without the limit.
    let v = verdict(
        &Signals::default().with_hpa(&hpa(8, Some(91.0), Some(55.0), None)),
        &Rules::default(),
    );
    assert_eq!(
        (v.direction, v.at_limit, v.label()),
        (Direction::Up, false, "up")
    );
}

#[test]
fn prometheus_figures_come_first_and_the_hpa_fills_the_rest() {
    let prometheus = Signals {
        cpu_pct: Some(40.0),
        p95_ms: Some(300.0),
        ..Default::default()
    };
    let s = prometheus.with_hpa(&hpa(4, Some(91.0), Some(50.0), Some(20.0)));
    assert_eq!(s.cpu_pct, Some(40.0));
    assert_eq!(s.memory_pct, Some(50.0));
    assert_eq!(s.queue_length, Some(20.0));
    assert_eq!(
        s.from_hpa,
        FromHpa {
            cpu: false,
            memory: true,
            queue: true
        }
    );
    let v = verdict(&s, &Rules::default());
    assert_eq!(v.direction, Direction::Hold);
    assert_eq!(
        v.reasons,
        [
            "cpu 40% ≥ 30%",
            "memory 50% ≥ 40% (HPA)",
            "queue 20 ≥ 10 (HPA)"
        ]
    );
}

#[test]
fn an_hpa_metric_in_other_units_or_unknown_is_not_taken() {
    let mut h = hpa(4, None, None, None);
    // CPU as an average value (cores), not a utilisation: not a percent of requests.
    h.metrics.push(metric("cpu", Some(0.35), 0.5, ""));
    h.metrics.push(metric("memory", Some(f64::NAN), 80.0, "%"));
    let s = Signals::default().with_hpa(&h);
    assert_eq!(
        (s.cpu_pct, s.memory_pct, s.queue_length),
        (None, None, None)
    );
    let v = verdict(&s, &Rules::default());
    assert_eq!(v.direction, Direction::Unknown);
    assert_eq!(v.label(), "?");
    assert!(!v.at_limit);
    assert_eq!(
        v.reasons,
        [
            "cpu unknown",
            "memory unknown",
            "queue unknown",
            "p95 unknown"
        ]
    );
}

#[test]
fn a_known_signal_over_is_enough_for_up_at_max_even_with_others_unknown() {
    let s = Signals {
        queue_length: Some(400.0),
        ..Default::default()
    }
    .with_hpa(&hpa(20, None, None, None));
    let v = verdict(&s, &Rules::default());
    assert_eq!(v.label(), "up (at max)");
    assert_eq!(v.reasons, ["queue 400 > 100", "HPA at max 20"]);
}

#[test]
fn down_at_the_hpa_min_says_so() {
    let mut s = known(10.0, 20.0, 1.0, 200.0);
    s.bounds = Some(Bounds {
        current: 2,
        min: 2,
        max: 20,
    });
    let v = verdict(&s, &Rules::default());
    assert_eq!((v.direction, v.at_limit), (Direction::Down, true));
    assert_eq!(v.label(), "down (at min)");
    assert_eq!(v.reasons.last().map(String::as_str), Some("HPA at min 2"));

    // Above its min: plain down. Hold and unknown never carry a limit.
    s.bounds = Some(Bounds {
        current: 5,
        min: 2,
        max: 20,
    });
    assert_eq!(verdict(&s, &Rules::default()).label(), "down");
    let mut held = known(50.0, 50.0, 20.0, 300.0);
    held.bounds = Some(Bounds {
        current: 20,
        min: 2,
        max: 20,
    });
    let v = verdict(&held, &Rules::default());
    assert_eq!(
        (v.direction, v.at_limit, v.label()),
        (Direction::Hold, false, "hold")
    );
}

#[test]
fn the_snapshot_direction_names_are_stable() {
    let names: Vec<String> = [
        Direction::Up,
        Direction::Down,
        Direction::Hold,
        Direction::Unknown,
    ]
    .iter()
    .map(|d| {
        serde_json::to_value(d)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    })
    .collect();
    assert_eq!(names, ["up", "down", "hold", "unknown"]);
}
