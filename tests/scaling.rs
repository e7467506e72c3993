//! The seed's scaling rules and the HPA arithmetic, against cases worked by hand.
//!
//! The HPA cases follow the Kubernetes controller (pkg/controller/podautoscaler/
//! horizontal.go): `reconcileAutoscaler` handles a target outside [min, max] before any
//! metric; `stabilizeRecommendationWithBehaviors` takes the lowest recommendation in the
//! scale-up window when the ask is >= current and the highest in the scale-down window
//! otherwise; `calculateScaleUpLimitWithScalingRules` rounds percent policies up,
//! `calculateScaleDownLimitWithBehaviors` truncates them; selectPolicy Max takes the policy
//! allowing the biggest change.

use opsdeck::config::Rules;
use opsdeck::domain::scaling::{
    Behavior, Direction, NextMove, Policy, PolicyKind, ScalingRules, SelectPolicy, Signals,
    TOLERANCE, desired_for_metric, next_move, verdict,
};

fn signals(cpu: Option<f64>, mem: Option<f64>, queue: Option<f64>, p95: Option<f64>) -> Signals {
    Signals {
        cpu_pct: cpu,
        memory_pct: mem,
        queue_length: queue,
        p95_ms: p95,
        ..Default::default()
    }
}

fn seed_verdict(s: Signals) -> (Direction, Vec<String>) {
    let v = verdict(&s, &Rules::default());
    (v.direction, v.reasons)
}

fn moved(replicas: u32, limited_by: Option<&str>) -> NextMove {
    NextMove {
        replicas,
        limited_by: limited_by.map(str::to_string),
    }
}

/// The seed's HPA: min 2, max 20.
fn seed_move(current: u32, raw: u32, recent: &[u32], period_start: u32) -> NextMove {
    next_move(current, 2, 20, raw, recent, period_start, &Behavior::seed())
}

// ---------------------------------------------------------------- verdict (seed rules)

#[test]
fn each_up_threshold_alone_scales_up() {
    // Everything else in the comfortable middle so only one signal is over.
    let calm =
        |cpu, mem, queue, p95| seed_verdict(signals(Some(cpu), Some(mem), Some(queue), Some(p95)));
    assert_eq!(
        calm(85.0, 50.0, 20.0, 300.0),
        (Direction::Up, vec!["cpu 85% > 70%".into()])
    );
    assert_eq!(
        calm(50.0, 81.0, 20.0, 300.0),
        (Direction::Up, vec!["memory 81% > 80%".into()])
    );
    assert_eq!(
        calm(50.0, 50.0, 101.0, 300.0),
        (Direction::Up, vec!["queue 101 > 100".into()])
    );
    assert_eq!(
        calm(50.0, 50.0, 20.0, 1001.0),
        (Direction::Up, vec!["p95 1001ms > 1000ms".into()])
    );
}

#[test]
fn up_thresholds_are_strict() {
    // Exactly on every up threshold is not over it; and 70 % CPU is far from the down side.
    let (dir, reasons) = seed_verdict(signals(Some(70.0), Some(80.0), Some(100.0), Some(1000.0)));
    assert_eq!(dir, Direction::Hold);
    assert_eq!(
        reasons,
        ["cpu 70% ≥ 30%", "memory 80% ≥ 40%", "queue 100 ≥ 10"]
    );
}

#[test]
fn every_signal_over_is_a_reason_in_a_fixed_order() {
    let (dir, reasons) = seed_verdict(signals(Some(95.0), Some(90.0), Some(400.0), Some(2500.0)));
    assert_eq!(dir, Direction::Up);
    assert_eq!(
        reasons,
        [
            "cpu 95% > 70%",
            "memory 90% > 80%",
            "queue 400 > 100",
            "p95 2500ms > 1000ms"
        ]
    );
}

#[test]
fn slow_p95_scales_up_even_when_everything_else_is_idle() {
    // Up is checked before down: an idle but slow service (e.g. waiting on the LLM) is up.
    let (dir, reasons) = seed_verdict(signals(Some(10.0), Some(20.0), Some(0.0), Some(1500.0)));
    assert_eq!(dir, Direction::Up);
    assert_eq!(reasons, ["p95 1500ms > 1000ms"]);
}

#[test]
fn down_needs_cpu_memory_and_queue_all_low() {
    let (dir, reasons) = seed_verdict(signals(Some(20.0), Some(30.0), Some(5.0), Some(300.0)));
    assert_eq!(dir, Direction::Down);
    assert_eq!(
        reasons,
        ["cpu 20% < 30%", "memory 30% < 40%", "queue 5 < 10"]
    );

    // One of the three not low: hold, and the reason names only the one that blocks.
    let (dir, reasons) = seed_verdict(signals(Some(20.0), Some(45.0), Some(5.0), Some(300.0)));
    assert_eq!(dir, Direction::Hold);
    assert_eq!(reasons, ["memory 45% ≥ 40%"]);
}

#[test]
fn down_thresholds_are_strict() {
    let p95 = Some(300.0);
    let (dir, reasons) = seed_verdict(signals(Some(30.0), Some(39.0), Some(9.0), p95));
    assert_eq!(dir, Direction::Hold);
    assert_eq!(reasons, ["cpu 30% ≥ 30%"]);
    let (dir, _) = seed_verdict(signals(Some(29.0), Some(40.0), Some(9.0), p95));
    assert_eq!(dir, Direction::Hold);
    let (dir, _) = seed_verdict(signals(Some(29.0), Some(39.0), Some(10.0), p95));
    assert_eq!(dir, Direction::Hold);
}

#[test]
fn unknown_signals_give_no_verdict() {
    // A Prometheus outage must read neither as "idle" nor as "fine": CPU and memory low,
    // queue and p95 unknown.
    let (dir, reasons) = seed_verdict(signals(Some(5.0), Some(10.0), None, None));
    assert_eq!(dir, Direction::Unknown);
    assert_eq!(reasons, ["queue unknown", "p95 unknown"]);

    let (dir, reasons) = seed_verdict(Signals::default());
    assert_eq!(dir, Direction::Unknown);
    assert_eq!(
        reasons,
        [
            "cpu unknown",
            "memory unknown",
            "queue unknown",
            "p95 unknown"
        ]
    );

    // Everything in the middle but p95 unknown: the p95 alone could ask for more pods.
    let (dir, reasons) = seed_verdict(signals(Some(50.0), Some(50.0), Some(20.0), None));
    assert_eq!(dir, Direction::Unknown);
    assert_eq!(reasons, ["p95 unknown"]);
    // Idle but p95 unknown: not down either.
    let (dir, _) = seed_verdict(signals(Some(5.0), Some(10.0), Some(0.0), None));
    assert_eq!(dir, Direction::Unknown);
}

#[test]
fn a_figure_that_is_not_a_number_is_unknown() {
    // histogram_quantile over no traffic is NaN: not "under 1000 ms".
    let v = verdict(
        &signals(Some(50.0), Some(50.0), Some(20.0), Some(f64::NAN)),
        &Rules::default(),
    );
    assert_eq!(v.direction, Direction::Unknown);
    assert_eq!(v.reasons, ["p95 unknown"]);
    assert_eq!(v.label(), "?");
}

#[test]
fn a_known_signal_over_scales_up_even_with_others_unknown() {
    let (dir, reasons) = seed_verdict(signals(None, None, Some(150.0), None));
    assert_eq!(dir, Direction::Up);
    assert_eq!(reasons, ["queue 150 > 100"]);
}

#[test]
fn thresholds_come_from_the_config() {
    let rules = Rules {
        cpu_up: 50.0,
        ..Rules::default()
    };
    let v = verdict(&signals(Some(60.0), Some(50.0), Some(20.0), None), &rules);
    assert_eq!(v.direction, Direction::Up);
    assert_eq!(v.reasons, ["cpu 60% > 50%"]);
}

// ---------------------------------------------------------------- desired_for_metric

#[test]
fn metric_ask_is_ceil_of_current_times_ratio() {
    // 4 pods at 90 % against a 70 % target: 4 × 90/70 = 5.14 → 6.
    assert_eq!(desired_for_metric(4, 90.0, 70.0), 6);
    // 4 × 140/70 = 8 exactly: no rounding up past an exact answer.
    assert_eq!(desired_for_metric(4, 140.0, 70.0), 8);
    // Memory, seed target 80 %: 2 × 100/80 = 2.5 → 3.
    assert_eq!(desired_for_metric(2, 100.0, 80.0), 3);
    // Down: 10 × 35/70 = 5.
    assert_eq!(desired_for_metric(10, 35.0, 70.0), 5);
    // Idle: asks for 0; min replicas is next_move's business.
    assert_eq!(desired_for_metric(10, 0.0, 70.0), 0);
}

#[test]
fn within_ten_percent_of_target_nothing_moves() {
    assert_eq!(TOLERANCE, 0.1);
    // 76/70 = 1.086 and 64/70 = 0.914: inside the band, 10 stays 10 although
    // ceil(10 × ratio) would be 11 and 10.
    assert_eq!(desired_for_metric(10, 76.0, 70.0), 10);
    assert_eq!(desired_for_metric(10, 64.0, 70.0), 10);
    // 78/70 = 1.114: outside, ceil(11.14) = 12. 62/70 = 0.886: ceil(8.86) = 9.
    assert_eq!(desired_for_metric(10, 78.0, 70.0), 12);
    assert_eq!(desired_for_metric(10, 62.0, 70.0), 9);
}

#[test]
fn no_usable_target_or_value_keeps_current() {
    assert_eq!(desired_for_metric(5, 90.0, 0.0), 5);
    assert_eq!(desired_for_metric(5, 90.0, -70.0), 5);
    assert_eq!(desired_for_metric(5, f64::NAN, 70.0), 5);
    assert_eq!(desired_for_metric(5, f64::INFINITY, 70.0), 5);
    // A NaN target used to fall through to ceil(NaN) as u32 = 0 replicas.
    assert_eq!(desired_for_metric(5, 90.0, f64::NAN), 5);
    assert_eq!(desired_for_metric(5, 90.0, f64::INFINITY), 5);
}

// ---------------------------------------------------------------- behaviours

#[test]
fn kubernetes_default_behaviour() {
    let percent = |value, period_s| Policy {
        kind: PolicyKind::Percent,
        value,
        period_s,
    };
    let expected = Behavior {
        up: ScalingRules {
            stabilization_s: 0,
            policies: vec![
                percent(100, 15),
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
            policies: vec![percent(100, 15)],
            select: SelectPolicy::Max,
        },
    };
    assert_eq!(Behavior::default(), expected);

    let seed = Behavior::seed();
    assert_eq!(seed.up, expected.up, "the seed scales up like the defaults");
    assert_eq!(seed.down.stabilization_s, 300);
    assert_eq!(seed.down.policies, vec![percent(50, 60)]);
    assert_eq!(seed.down.select, SelectPolicy::Max);
}

// ---------------------------------------------------------------- next_move: scale-up

#[test]
fn small_deployment_grows_by_four_pods() {
    // At 2: 100 % allows 4, +4 allows 6; Max picks 6.
    assert_eq!(
        seed_move(2, 10, &[], 2),
        moved(6, Some("policy 4 pods/15s"))
    );
}

#[test]
fn large_deployment_doubles() {
    // At 10: 100 % allows 20, +4 allows 14; Max picks 20.
    assert_eq!(
        seed_move(10, 30, &[], 10),
        moved(20, Some("policy 100%/15s"))
    );
    // An ask within the limit is taken as is.
    assert_eq!(seed_move(10, 18, &[], 10), moved(18, None));
}

#[test]
fn max_replicas_caps_the_policy() {
    // At 12: policies allow max(24, 16) = 24, the ask is 40, max is 20.
    assert_eq!(seed_move(12, 40, &[], 12), moved(20, Some("max 20")));
}

#[test]
fn growth_already_made_in_the_period_counts() {
    // Went 2 → 6 within the last 15 s: the limit is still measured from 2, i.e. 6.
    assert_eq!(
        seed_move(6, 20, &[], 2),
        moved(6, Some("policy 4 pods/15s"))
    );
}

#[test]
fn a_spike_reaches_max_in_three_periods() {
    // The ask stays at 30: 2 → 6 (+4) → 12 (100 %) → 20 (24, capped by max).
    let mut current = 2;
    let mut path = vec![current];
    for _ in 0..4 {
        current = seed_move(current, 30, &[], current).replicas;
        path.push(current);
    }
    assert_eq!(path, [2, 6, 12, 20, 20]);
}

#[test]
fn select_min_takes_the_smaller_step() {
    let mut b = Behavior::seed();
    b.up.select = SelectPolicy::Min;
    // At 2: min(4, 6) = 4.
    assert_eq!(
        next_move(2, 2, 20, 10, &[], 2, &b),
        moved(4, Some("policy 100%/15s"))
    );
}

#[test]
fn scale_up_stabilisation_takes_the_lowest_recent_ask() {
    let mut b = Behavior::seed();
    b.up.stabilization_s = 60;
    // Asks in the last 60 s were 6 and 8, now 10: the controller goes to 6.
    assert_eq!(
        next_move(4, 2, 20, 10, &[6, 8], 4, &b),
        moved(6, Some("stabilisation 60s"))
    );
    // An ask equal to current still uses the scale-up window, and a lower recent ask in it
    // moves replicas down (the controller's `DesiredReplicas >= CurrentReplicas` branch).
    assert_eq!(
        next_move(4, 2, 20, 4, &[3], 4, &b),
        moved(3, Some("stabilisation 60s"))
    );
}

// ---------------------------------------------------------------- next_move: scale-down

#[test]
fn scale_down_waits_for_the_highest_ask_in_the_window() {
    // Asks in the last 300 s were 8, 6, 4; now 3. Highest is 8; 50 % of 10 allows 5, so 8.
    assert_eq!(
        seed_move(10, 3, &[8, 6, 4], 10),
        moved(8, Some("stabilisation 300s"))
    );
    // While the window still holds the current size, nothing moves.
    assert_eq!(
        seed_move(10, 3, &[10, 4], 10),
        moved(10, Some("stabilisation 300s"))
    );
}

#[test]
fn scale_down_halves_per_minute_once_the_window_is_quiet() {
    // Window holds only 3s: 50 % of 10 is 5, the ask of 3 waits.
    assert_eq!(
        seed_move(10, 3, &[3, 3], 10),
        moved(5, Some("policy 50%/60s"))
    );
    // Still within the same 60 s (period started at 10): no further step.
    assert_eq!(seed_move(5, 3, &[3], 10), moved(5, Some("policy 50%/60s")));
    // Next minute: 50 % of 5 = 2.5, truncated to 2; the ask of 3 is within it.
    assert_eq!(seed_move(5, 3, &[3], 5), moved(3, None));
}

#[test]
fn down_percent_truncates() {
    // 50 % of 5 = 2.5 → 2 (the controller's int32() cast), so an ask of 1 gets 2.
    assert_eq!(seed_move(5, 1, &[1], 5), moved(2, Some("policy 50%/60s")));
    // 50 % of 7 = 3.5 → 3 with a larger minimum left out of the way.
    assert_eq!(
        next_move(7, 1, 20, 1, &[1], 7, &Behavior::seed()),
        moved(3, Some("policy 50%/60s"))
    );
}

#[test]
fn min_replicas_is_the_floor() {
    // 50 % of 3 = 1.5 → 1 allowed, but min is 2.
    assert_eq!(seed_move(3, 0, &[0], 3), moved(2, Some("min 2")));
}

#[test]
fn a_quiet_night_walks_down_from_max() {
    // Asks fell from 30 to 4. For 300 s the 30 in the window holds replicas at max; then
    // 20 → 10 → 5 → 4, one policy period (60 s) apart.
    assert_eq!(
        seed_move(20, 4, &[30, 30, 4], 20),
        moved(20, Some("max 20"))
    );
    let mut current = 20;
    let mut path = vec![current];
    for _ in 0..4 {
        current = seed_move(current, 4, &[4], current).replicas;
        path.push(current);
    }
    assert_eq!(path, [20, 10, 5, 4, 4]);
}

#[test]
fn default_behaviour_scales_down_all_the_way_after_the_window() {
    let b = Behavior::default();
    // 100 % per 15 s: floor(10 × 0) = 0 allowed, so straight to the ask.
    assert_eq!(next_move(10, 1, 20, 1, &[1], 10, &b), moved(1, None));
    // But not while a higher ask is in the 300 s window.
    assert_eq!(
        next_move(10, 1, 20, 1, &[7, 1], 10, &b),
        moved(7, Some("stabilisation 300s"))
    );
    // Scale-up from 1: max(100 % → 2, +4 → 5) = 5.
    assert_eq!(
        next_move(1, 1, 20, 10, &[], 1, &b),
        moved(5, Some("policy 4 pods/15s"))
    );
}

#[test]
fn disabled_direction_does_not_move() {
    let mut b = Behavior::seed();
    b.down.select = SelectPolicy::Disabled;
    assert_eq!(
        next_move(10, 2, 20, 3, &[3], 10, &b),
        moved(10, Some("scale-down disabled"))
    );
    let mut b = Behavior::seed();
    b.up.select = SelectPolicy::Disabled;
    assert_eq!(
        next_move(4, 2, 20, 10, &[], 2, &b),
        moved(4, Some("scale-up disabled"))
    );
}

#[test]
fn a_high_ask_in_the_down_window_keeps_scaling_up_after_load_falls() {
    // The up from 2 was capped at 6 while the ask was 20. Now the ask is 5, below 6, so the
    // scale-down window applies and its highest ask is 20: the controller scales *up*
    // again, to max(100 % → 12, +4 → 10) = 12. Showing "hold" here would mislead.
    assert_eq!(
        seed_move(6, 5, &[20], 6),
        moved(12, Some("policy 100%/15s"))
    );
}

// ---------------------------------------------------------------- next_move: edges

#[test]
fn ask_equal_to_current_holds() {
    assert_eq!(seed_move(10, 10, &[10], 10), moved(10, None));
}

#[test]
fn outside_min_max_jumps_to_the_bound_before_any_metric() {
    // Someone raised max-replicas by hand to 25 and lowered it back: straight to 20, even
    // though the ask (10) and the 50 %/60 s policy alone would say 12.
    assert_eq!(seed_move(25, 10, &[10], 25), moved(20, Some("max 20")));
    assert_eq!(seed_move(25, 30, &[], 25), moved(20, Some("max 20")));
    // Below min: straight to min, no policy arithmetic.
    assert_eq!(seed_move(1, 10, &[], 1), moved(2, Some("min 2")));
}

#[test]
fn scaled_to_zero_turns_autoscaling_off() {
    assert_eq!(
        seed_move(0, 10, &[], 0),
        moved(0, Some("scaled to zero: autoscaling off"))
    );
}

#[test]
fn largest_metric_ask_drives_the_move() {
    // 2 pods: CPU 90 % of a 70 % target asks ceil(2.57) = 3; memory 100 % of 80 % asks
    // ceil(2.5) = 3; queue-driven custom metric 250 of 100 asks 5. The HPA takes the max.
    let asks = [
        desired_for_metric(2, 90.0, 70.0),
        desired_for_metric(2, 100.0, 80.0),
        desired_for_metric(2, 250.0, 100.0),
    ];
    assert_eq!(asks, [3, 3, 5]);
    let raw = asks.into_iter().max().unwrap();
    assert_eq!(seed_move(2, raw, &[], 2), moved(5, None));
}
