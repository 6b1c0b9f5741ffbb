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

/// Counts the keys of one partition at a time in an open-addressing table that the caller
/// reuses from partition to partition, so it stays in the core's cache.
///
/// It replaces sort-and-count where no sorted order is needed: a lookup costs a few
/// nanoseconds against a dozen for sorting, and the table's pages are touched once per thread
/// instead of once per partition. Slots with count 0 are empty; counts are never 0.
pub struct Tally<K> {
    slots: Vec<(K, u64)>,
    len: usize,
    shift: u32,
    /// Distinct keys of the last partition drained: the size hint for the next.
    last: usize,
}

impl<K: NKey> Default for Tally<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: NKey> Tally<K> {
    pub fn new() -> Self {
        Tally {
            slots: Vec::new(),
            len: 0,
            shift: 64,
            last: 0,
        }
    }

    /// Prepare the (empty) table for a partition of at most `bound` distinct keys.
    pub fn start(&mut self, bound: usize) {
        // Partitions are alike in size, so the last one's distinct count is the best guess;
        // `add` grows the table if the guess was short.
        let expect = if self.last == 0 {
            bound / 2
        } else {
            self.last.min(bound)
        };
        let want = (expect * 2 + 1).next_power_of_two().max(1 << 10);
        // Keep the table while it is no more than twice the size wanted: partitions near a
        // power-of-two boundary would otherwise reallocate it (and zero a megabyte) each time.
        if self.slots.len() < want || self.slots.len() > 2 * want {
            self.slots = vec![(K::default(), 0); want];
            self.shift = 64 - want.trailing_zeros();
        }
        debug_assert_eq!(self.len, 0);
    }

    /// Add `c` (> 0) occurrences of `k`.
    #[inline(always)]
    pub fn add(&mut self, k: K, c: u64) {
        let mask = self.slots.len() - 1;
        let mut i = (k.slot_hash() >> self.shift) as usize;
        // Find the key's slot or the empty slot where it goes. A hit and a first insert are the
        // same update (an empty slot's count is 0), so the only branch is whether to probe on,
        // which is rarely taken: whether the key is new is a coin toss the CPU cannot predict.
        loop {
            let s = &self.slots[i];
            if (s.1 == 0) | (s.0 == k) {
                break;
            }
            i = (i + 1) & mask;
        }
        let s = &mut self.slots[i];
        self.len += (s.1 == 0) as usize;
        s.0 = k;
        s.1 += c;
        if self.len * 2 > self.slots.len() {
            self.grow();
        }
    }

    /// Add one occurrence of each key, prefetching the slots of keys a few places ahead: the
    /// table outgrows the L1 cache, and the loads of successive keys are independent.
    pub fn add_each(&mut self, keys: &[K]) {
        const AHEAD: usize = 32;
        for (i, &k) in keys.iter().enumerate() {
            if let Some(&next) = keys.get(i + AHEAD) {
                let at = (next.slot_hash() >> self.shift) as usize;
                if let Some(slot) = self.slots.get(at) {
                    crate::prefetch::prefetch(slot);
                }
            }
            self.add(k, 1);
        }
    }

    #[cold]
    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        let size = old.len() * 2;
        self.slots = vec![(K::default(), 0); size];
        self.shift = 64 - size.trailing_zeros();
        self.len = 0;
        for (k, c) in old {
            if c != 0 {
                self.add(k, c);
            }
        }
    }

    /// The counted keys in table order (not sorted), leaving the table empty; adds their
    /// counts to `h`.
    pub fn drain(&mut self, h: &mut Histogram) -> Run<K> {
        self.drain_into(Vec::new(), Vec::new(), h)
    }

    /// [`Tally::drain`], writing the keys into `keys` and the counts into `counts` (their
    /// contents are dropped, their allocations reused: buffers whose pages are already faulted
    /// in save touching fresh ones).
    pub fn drain_into(
        &mut self,
        mut keys: Vec<K>,
        mut counts: Vec<u64>,
        h: &mut Histogram,
    ) -> Run<K> {
        const SMALL: usize = 64;
        let n = self.len;
        // Every slot is written at the next free row, which only advances past occupied
        // slots: no branch on occupancy (a third of the slots are empty, at random). The
        // extra row takes the writes of empty slots after the last key.
        keys.clear();
        keys.resize(n + 1, K::default());
        counts.clear();
        counts.resize(n + 1, 0);
        // Count-of-counts of small r (row 0 collects the empty slots).
        let mut small = [0u64; SMALL];
        let mut j = 0;
        for s in &mut self.slots {
            let c = s.1;
            keys[j] = s.0;
            counts[j] = c;
            j += (c != 0) as usize;
            if (c as usize) < SMALL {
                small[c as usize] += 1;
            } else {
                h.add(c, 1);
            }
            s.1 = 0;
        }
        debug_assert_eq!(j, n);
        keys.truncate(n);
        keys.shrink_to_fit();
        counts.truncate(n);
        counts.shrink_to_fit();
        for (r, &k) in small.iter().enumerate().skip(1) {
            if k > 0 {
                h.add(r as u64, k);
            }
        }
        self.last = n;
        self.len = 0;
        Run { keys, counts }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_counts_like_sorting_and_grows() {
        // More distinct keys than the first table holds, so it grows several times.
        let mut raw: Vec<u64> = (0..50_000u64).map(|i| (i * 7919) % 20_011).collect();
        let mut t = Tally::<u64>::new();
        for round in 0..3 {
            t.start(raw.len() / 20);
            for &k in &raw {
                t.add(k, 1);
            }
            t.add(3, 5);
            let mut h = Histogram::new();
            let got = t.drain(&mut h);
            let mut pairs: Vec<(u64, u64)> = got.keys.iter().copied().zip(got.counts).collect();
            pairs.sort_unstable();
            let mut want = raw.clone();
            want.push(3);
            let sorted = Run::from_occurrences(&mut want);
            let mut expect: Vec<(u64, u64)> = sorted.keys.into_iter().zip(sorted.counts).collect();
            if let Some(e) = expect.iter_mut().find(|e| e.0 == 3) {
                e.1 += 4;
            }
            assert_eq!(pairs, expect, "round {round}");
            assert_eq!(h.distinct(), expect.len() as u64);
            assert_eq!(h.samples(), raw.len() as u64 + 5);
            raw.truncate(raw.len() / 2);
        }
    }

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
