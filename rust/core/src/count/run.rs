//! Sorted runs of (key, count): the unit the engine aggregates, merges and spills.

use super::key::NKey;
use crate::stats::Histogram;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Run<K> {
    pub keys: Vec<K>,
    pub counts: Vec<u64>,
}

impl<K: NKey> Run<K> {
    pub fn new() -> Self {
        Run {
            keys: Vec::new(),
            counts: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Bytes held (capacity), for the memory budget.
    pub fn heap_bytes(&self) -> usize {
        self.keys.capacity() * K::BYTES + self.counts.capacity() * 8
    }

    /// Sort raw key occurrences and count equal runs. Consumes the buffer's contents.
    pub fn from_occurrences(raw: &mut Vec<K>) -> Self {
        raw.sort_unstable();
        let mut keys = Vec::with_capacity(raw.len() / 2 + 1);
        let mut counts = Vec::with_capacity(raw.len() / 2 + 1);
        let mut i = 0;
        let n = raw.len();
        while i < n {
            let k = raw[i];
            let mut j = i + 1;
            while j < n && raw[j] == k {
                j += 1;
            }
            keys.push(k);
            counts.push((j - i) as u64);
            i = j;
        }
        raw.clear();
        keys.shrink_to_fit();
        counts.shrink_to_fit();
        Run { keys, counts }
    }

    /// Merge two sorted runs, summing the counts of equal keys.
    pub fn merge(a: Run<K>, b: Run<K>) -> Run<K> {
        if a.is_empty() {
            return b;
        }
        if b.is_empty() {
            return a;
        }
        let cap = a.len().max(b.len()) + a.len().min(b.len()) / 2;
        let mut keys = Vec::with_capacity(cap);
        let mut counts = Vec::with_capacity(cap);
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            let (ka, kb) = (a.keys[i], b.keys[j]);
            if ka < kb {
                keys.push(ka);
                counts.push(a.counts[i]);
                i += 1;
            } else if kb < ka {
                keys.push(kb);
                counts.push(b.counts[j]);
                j += 1;
            } else {
                keys.push(ka);
                counts.push(a.counts[i] + b.counts[j]);
                i += 1;
                j += 1;
            }
        }
        keys.extend_from_slice(&a.keys[i..]);
        counts.extend_from_slice(&a.counts[i..]);
        keys.extend_from_slice(&b.keys[j..]);
        counts.extend_from_slice(&b.counts[j..]);
        keys.shrink_to_fit();
        counts.shrink_to_fit();
        Run { keys, counts }
    }

    pub fn histogram_into(&self, h: &mut Histogram) {
        for &c in &self.counts {
            h.add(c, 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_and_merges() {
        let mut raw = vec![5u64, 1, 5, 3, 1, 5];
        let a = Run::from_occurrences(&mut raw);
        assert_eq!(a.keys, vec![1, 3, 5]);
        assert_eq!(a.counts, vec![2, 1, 3]);
        let b = Run {
            keys: vec![0u64, 3, 9],
            counts: vec![1, 4, 1],
        };
        let m = Run::merge(a, b);
        assert_eq!(m.keys, vec![0, 1, 3, 5, 9]);
        assert_eq!(m.counts, vec![1, 2, 5, 3, 1]);
    }
}
