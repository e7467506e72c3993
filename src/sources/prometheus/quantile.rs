//! `histogram_quantile` as Prometheus computes it (promql/quantile.go, `bucketQuantile`),
//! so scrape mode shows the same P95 a Prometheus server would.

/// One cumulative bucket: observations `<= upper`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub upper: f64,
    pub count: f64,
}

/// The `q` quantile of cumulative `buckets`, with Prometheus' edge cases:
/// - q outside [0, 1] gives ∓Inf, a NaN q gives NaN;
/// - no `+Inf` bucket, fewer than two buckets or no observations give NaN;
/// - a rank in the `+Inf` bucket gives the highest finite bound;
/// - a rank in the lowest bucket interpolates from 0, unless that bucket's bound is <= 0,
///   in which case the bound itself is the answer;
/// - buckets with the same bound are added up, and counts that go down with a higher bound
///   (scrape races, float precision) are raised to keep them monotonic.
pub fn bucket_quantile(q: f64, mut buckets: Vec<Bucket>) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    if buckets.is_empty() {
        return f64::NAN;
    }
    buckets.sort_by(|a, b| a.upper.total_cmp(&b.upper));
    if buckets[buckets.len() - 1].upper != f64::INFINITY {
        return f64::NAN;
    }
    let mut buckets = coalesce(buckets);
    ensure_monotonic(&mut buckets);
    if buckets.len() < 2 {
        return f64::NAN;
    }
    let observations = buckets[buckets.len() - 1].count;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    // sort.Search over all but the +Inf bucket: the first bucket whose count reaches rank.
    let last = buckets.len() - 1;
    let b = buckets[..last]
        .iter()
        .position(|x| x.count >= rank)
        .unwrap_or(last);
    if b == last {
        return buckets[last - 1].upper;
    }
    if b == 0 && buckets[0].upper <= 0.0 {
        return buckets[0].upper;
    }
    let (mut start, end, mut count) = (0.0, buckets[b].upper, buckets[b].count);
    if b > 0 {
        start = buckets[b - 1].upper;
        count -= buckets[b - 1].count;
        rank -= buckets[b - 1].count;
    }
    start + (end - start) * (rank / count)
}

fn coalesce(buckets: Vec<Bucket>) -> Vec<Bucket> {
    let mut out: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for b in buckets {
        match out.last_mut() {
            Some(prev) if prev.upper == b.upper => prev.count += b.count,
            _ => out.push(b),
        }
    }
    out
}

fn ensure_monotonic(buckets: &mut [Bucket]) {
    let mut max = f64::NEG_INFINITY;
    for b in buckets {
        if b.count > max {
            max = b.count;
        } else if b.count < max {
            b.count = max;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(f64, f64)]) -> Vec<Bucket> {
        pairs
            .iter()
            .map(|&(upper, count)| Bucket { upper, count })
            .collect()
    }

    #[test]
    fn interpolates_linearly_inside_a_bucket() {
        // 100 observations: 50 <= 0.1, 90 <= 0.5, 100 <= 1.
        let b = h(&[
            (0.1, 50.0),
            (0.5, 90.0),
            (1.0, 100.0),
            (f64::INFINITY, 100.0),
        ]);
        assert!((bucket_quantile(0.5, b.clone()) - 0.1).abs() < 1e-12);
        // rank 70: 20 of the 40 in (0.1, 0.5].
        assert!((bucket_quantile(0.7, b.clone()) - 0.3).abs() < 1e-12);
        // rank 25 in the first bucket interpolates from 0.
        assert!((bucket_quantile(0.25, b).abs() - 0.05).abs() < 1e-12);
    }

    #[test]
    fn edge_cases_match_prometheus() {
        let inf = f64::INFINITY;
        // Rank in the +Inf bucket: the highest finite bound.
        assert_eq!(bucket_quantile(0.99, h(&[(1.0, 10.0), (inf, 20.0)])), 1.0);
        // No +Inf bucket, no observations, a single bucket: NaN.
        assert!(bucket_quantile(0.5, h(&[(1.0, 10.0)])).is_nan());
        assert!(bucket_quantile(0.5, h(&[(1.0, 0.0), (inf, 0.0)])).is_nan());
        assert!(bucket_quantile(0.5, h(&[(inf, 5.0)])).is_nan());
        // Lowest bound <= 0: the bound itself.
        assert_eq!(
            bucket_quantile(0.1, h(&[(0.0, 5.0), (1.0, 10.0), (inf, 10.0)])),
            0.0
        );
        // Out of range q.
        assert_eq!(bucket_quantile(-0.1, h(&[(1.0, 1.0), (inf, 1.0)])), -inf);
        assert_eq!(bucket_quantile(1.1, h(&[(1.0, 1.0), (inf, 1.0)])), inf);
        // Non-monotonic counts are raised: (0.5, 8) becomes 10.
        let b = h(&[(0.1, 10.0), (0.5, 8.0), (1.0, 20.0), (inf, 20.0)]);
        assert!((bucket_quantile(0.75, b) - 0.75).abs() < 1e-12);
        // Duplicate bounds are added up, in any order.
        let b = h(&[(inf, 4.0), (1.0, 2.0), (1.0, 2.0)]);
        assert!((bucket_quantile(0.5, b) - 0.5).abs() < 1e-12);
    }
}
