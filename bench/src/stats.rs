//! Percentiles by sorting (nearest rank): the samples are few enough.

/// Summary of a sample, in the sample's unit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub min: f64,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Summary {
    /// Sorts `values` in place and summarises them; all zero when empty.
    pub fn of(values: &mut [f64]) -> Self {
        values.sort_by(f64::total_cmp);
        if values.is_empty() {
            return Self::default();
        }
        Self {
            n: values.len(),
            min: values[0],
            p50: percentile(values, 50.0),
            p99: percentile(values, 99.0),
            max: values[values.len() - 1],
        }
    }
}

/// The nearest-rank `p`th percentile of sorted, non-empty `sorted`.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let mut v: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let s = Summary::of(&mut v);
        assert_eq!((s.n, s.min, s.p50, s.p99, s.max), (100, 1.0, 50.0, 99.0, 100.0));
        let mut one = [7.0];
        assert_eq!(Summary::of(&mut one).p99, 7.0);
        assert_eq!(Summary::of(&mut []).n, 0);
    }
}
