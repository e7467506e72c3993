//! A fixed-size history of one figure, one point per step.
//!
//! Samples arrive every refresh (1 s by default) but a chart moves one column per step
//! (10 s by default): the point is the mean of the step's samples. A chart that shifted
//! every second would rewrite whole rows of cells each second, which costs bytes on SSH.

use std::collections::VecDeque;

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    points: VecDeque<f64>,
    capacity: usize,
    step_s: i64,
    open: Option<Bucket>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Bucket {
    id: i64,
    sum: f64,
    n: u32,
}

impl Series {
    pub fn new(capacity: usize, step_s: i64) -> Series {
        Series {
            points: VecDeque::with_capacity(capacity),
            capacity,
            step_s: step_s.max(1),
            open: None,
        }
    }

    /// Adds a sample taken at `t` (unix seconds). Returns true when a point was closed, that
    /// is when the chart changes. Non-finite samples are ignored.
    pub fn push(&mut self, t: i64, value: f64) -> bool {
        if !value.is_finite() {
            return false;
        }
        let id = t.div_euclid(self.step_s);
        match &mut self.open {
            Some(b) if b.id == id => {
                b.sum += value;
                b.n += 1;
                false
            }
            Some(b) => {
                let mean = b.sum / b.n as f64;
                self.open = Some(Bucket {
                    id,
                    sum: value,
                    n: 1,
                });
                self.close(mean);
                true
            }
            None => {
                self.open = Some(Bucket {
                    id,
                    sum: value,
                    n: 1,
                });
                false
            }
        }
    }

    /// Adds a whole point at once (back-filled history).
    pub fn close(&mut self, value: f64) {
        if self.points.len() == self.capacity {
            self.points.pop_front();
        }
        self.points.push_back(value);
    }

    pub fn points(&self) -> impl ExactSizeIterator<Item = f64> + '_ {
        self.points.iter().copied()
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    pub fn step_s(&self) -> i64 {
        self.step_s
    }

    /// The newest `n` points scaled to integers for a sparkline: `scale` multiplies first.
    pub fn tail_scaled(&self, n: usize, scale: f64) -> Vec<u64> {
        let skip = self.points.len().saturating_sub(n);
        self.points
            .iter()
            .skip(skip)
            .map(|v| (v * scale).max(0.0).round() as u64)
            .collect()
    }

    pub fn max(&self) -> Option<f64> {
        self.points.iter().copied().reduce(f64::max)
    }

    pub fn min(&self) -> Option<f64> {
        self.points.iter().copied().reduce(f64::min)
    }

    /// Lowest and highest of the newest `n` points.
    pub fn tail_range(&self, n: usize) -> Option<(f64, f64)> {
        let skip = self.points.len().saturating_sub(n);
        self.points
            .iter()
            .skip(skip)
            .fold(None, |acc, &v| match acc {
                None => Some((v, v)),
                Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
            })
    }

    /// How many points the series holds at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_step_means_and_capacity_holds() {
        let mut s = Series::new(3, 10);
        assert!(!s.push(0, 1.0));
        assert!(!s.push(5, 3.0));
        assert!(s.push(10, 10.0), "a new step closes the previous one");
        assert_eq!(s.points().collect::<Vec<_>>(), vec![2.0]);
        for t in [20, 30, 40, 50] {
            s.push(t, t as f64);
        }
        assert_eq!(s.points().collect::<Vec<_>>(), vec![20.0, 30.0, 40.0]);
        assert!(!s.push(51, f64::NAN));
    }
}
