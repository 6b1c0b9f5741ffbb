//! Packed n-gram keys.
//!
//! An n-gram is n token ids; packing them into one integer makes a key cheap to hash, move and
//! sort, and the packed order is the lexicographic order of the id tuples (the first token in the
//! highest bits). The engine picks the narrowest key that fits: u64 up to trigrams (21-bit ids
//! for trigrams, so a vocabulary of 2,097,152 types; past that it recounts with u128), u128 up
//! to 4-grams, and eight plain u32 ids up to 8-grams.

use std::fmt::Debug;
use std::hash::Hash;

pub trait NKey: Copy + Ord + Eq + Hash + Send + Sync + Default + Debug + 'static {
    /// Largest n this key type holds.
    fn max_n() -> usize;
    /// Ids must be below this bound for order n.
    fn id_limit(n: usize) -> u64;
    fn pack(ids: &[u32]) -> Self;
    fn unpack(self, n: usize, out: &mut [u32]);
    const BYTES: usize;
}

#[inline(always)]
fn bits64(n: usize) -> u32 {
    if n <= 2 {
        32
    } else {
        21
    }
}

impl NKey for u64 {
    fn max_n() -> usize {
        3
    }
    fn id_limit(n: usize) -> u64 {
        1u64 << bits64(n)
    }
    #[inline(always)]
    fn pack(ids: &[u32]) -> Self {
        let b = bits64(ids.len());
        let mut k = 0u64;
        for &id in ids {
            k = (k << b) | id as u64;
        }
        k
    }
    #[inline]
    fn unpack(self, n: usize, out: &mut [u32]) {
        let b = bits64(n);
        let mask = (1u64 << b) - 1;
        for (i, slot) in out[..n].iter_mut().enumerate() {
            *slot = ((self >> (b as usize * (n - 1 - i))) & mask) as u32;
        }
    }
    const BYTES: usize = 8;
}

impl NKey for u128 {
    fn max_n() -> usize {
        4
    }
    fn id_limit(_n: usize) -> u64 {
        1u64 << 32
    }
    #[inline(always)]
    fn pack(ids: &[u32]) -> Self {
        let mut k = 0u128;
        for &id in ids {
            k = (k << 32) | id as u128;
        }
        k
    }
    #[inline]
    fn unpack(self, n: usize, out: &mut [u32]) {
        for (i, slot) in out[..n].iter_mut().enumerate() {
            *slot = (self >> (32 * (n - 1 - i))) as u32;
        }
    }
    const BYTES: usize = 16;
}

/// Up to eight ids, compared lexicographically.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
pub struct Wide(pub [u32; 8]);

impl NKey for Wide {
    fn max_n() -> usize {
        8
    }
    fn id_limit(_n: usize) -> u64 {
        1u64 << 32
    }
    #[inline(always)]
    fn pack(ids: &[u32]) -> Self {
        let mut k = [0u32; 8];
        k[..ids.len()].copy_from_slice(ids);
        Wide(k)
    }
    #[inline]
    fn unpack(self, n: usize, out: &mut [u32]) {
        out[..n].copy_from_slice(&self.0[..n]);
    }
    const BYTES: usize = 32;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip<K: NKey>(ids: &[u32]) {
        let mut out = [0u32; 8];
        K::pack(ids).unpack(ids.len(), &mut out);
        assert_eq!(&out[..ids.len()], ids);
    }

    #[test]
    fn packs_and_orders() {
        roundtrip::<u64>(&[1, 2]);
        roundtrip::<u64>(&[(1 << 21) - 1, 0, 5]);
        roundtrip::<u128>(&[u32::MAX, 0, 7, 9]);
        roundtrip::<Wide>(&[1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(u64::pack(&[1, 0, 9]) < u64::pack(&[1, 1, 0]));
        assert!(u128::pack(&[0, u32::MAX, 1]) < u128::pack(&[1, 0, 0]));
    }
}
