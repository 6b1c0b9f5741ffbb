//! Count-of-counts histograms and summaries.
//!
//! A histogram maps a count r to n_r, the number of distinct keys seen exactly r times. Histograms
//! of disjoint key sets (hash partitions) add; histograms of document shards do not, which is why
//! the engine only ever adds partition histograms.

use std::collections::BTreeMap;

/// Count-of-counts, ascending r.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    small: Vec<u64>,
    large: BTreeMap<u64, u64>,
}

const SMALL: usize = 4096;

impl Histogram {
    pub fn new() -> Self {
        Histogram {
            small: vec![0; SMALL],
            large: BTreeMap::new(),
        }
    }

    #[inline]
    pub fn add(&mut self, r: u64, keys: u64) {
        if (r as usize) < SMALL {
            if self.small.is_empty() {
                self.small = vec![0; SMALL];
            }
            self.small[r as usize] += keys;
        } else {
            *self.large.entry(r).or_insert(0) += keys;
        }
    }

    /// Add another histogram of a DISJOINT key set.
    pub fn merge(&mut self, other: &Histogram) {
        for (r, n) in other.iter() {
            self.add(r, n);
        }
    }

    /// (r, n_r) pairs with n_r > 0, ascending r.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.small
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(r, &n)| (r as u64, n))
            .chain(self.large.iter().map(|(&r, &n)| (r, n)))
    }

    pub fn n(&self, r: u64) -> u64 {
        if (r as usize) < self.small.len() {
            self.small[r as usize]
        } else {
            self.large.get(&r).copied().unwrap_or(0)
        }
    }

    /// N = sum r n_r.
    pub fn samples(&self) -> u64 {
        self.iter().map(|(r, n)| r * n).sum()
    }

    /// D = sum n_r.
    pub fn distinct(&self) -> u64 {
        self.iter().map(|(_, n)| n).sum()
    }

    pub fn max_count(&self) -> u64 {
        self.iter().last().map_or(0, |(r, _)| r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_and_sums() {
        let mut h = Histogram::new();
        h.add(1, 3);
        h.add(10_000, 1);
        h.add(2, 1);
        let mut g = Histogram::new();
        g.add(1, 1);
        h.merge(&g);
        assert_eq!(
            h.iter().collect::<Vec<_>>(),
            vec![(1, 4), (2, 1), (10_000, 1)]
        );
        assert_eq!(h.samples(), 4 + 2 + 10_000);
        assert_eq!(h.distinct(), 6);
        assert_eq!(h.max_count(), 10_000);
    }
}
