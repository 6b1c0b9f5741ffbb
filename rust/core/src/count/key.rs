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
    /// The key of the next window: drop the first id of an n-gram key and append `id`
    /// (`shift_in` of n ids onto any key equals `pack` of those ids).
    fn shift_in(self, id: u32, n: usize) -> Self;
    /// A partition index in 0..256 that spreads keys evenly (top bits of a multiplicative hash).
    fn partition(self) -> usize;
    /// A well-mixed hash for slots of a hash table (independent of [`NKey::partition`]: the
    /// top bits are used, and they vary within a partition).
    fn slot_hash(self) -> u64;
    /// A buffer of keys to be reused for counts, when the key type is `u64` (lets the reduce
    /// write counts into pages a raw buffer has already faulted in).
    fn reuse_as_counts(_buffer: Vec<Self>) -> Option<Vec<u64>> {
        None
    }
    const BYTES: usize;
    /// Append the key's `BYTES` bytes, little-endian (spill runs and checkpoints).
    fn write_le(self, out: &mut Vec<u8>);
    /// Read a key written by [`NKey::write_le`]; `b` holds exactly `BYTES` bytes.
    fn read_le(b: &[u8]) -> Self;
}

const SPREAD: u64 = 0x9e37_79b9_7f4a_7c15;

/// Folds the high bits into the low ones before multiplying, so the top bits of the result
/// depend on every bit of `x` (splitmix64's first step; its second step measured slower).
#[inline(always)]
fn mix(x: u64) -> u64 {
    (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9)
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
    #[inline(always)]
    fn shift_in(self, id: u32, n: usize) -> Self {
        let b = bits64(n);
        let keep = b as usize * n;
        let mask = if keep >= 64 {
            u64::MAX
        } else {
            (1u64 << keep) - 1
        };
        ((self << b) | id as u64) & mask
    }
    #[inline]
    fn unpack(self, n: usize, out: &mut [u32]) {
        let b = bits64(n);
        let mask = (1u64 << b) - 1;
        for (i, slot) in out[..n].iter_mut().enumerate() {
            *slot = ((self >> (b as usize * (n - 1 - i))) & mask) as u32;
        }
    }
    #[inline(always)]
    fn partition(self) -> usize {
        (self.wrapping_mul(SPREAD) >> 56) as usize
    }
    #[inline(always)]
    fn slot_hash(self) -> u64 {
        mix(self)
    }
    fn reuse_as_counts(buffer: Vec<u64>) -> Option<Vec<u64>> {
        Some(buffer)
    }
    const BYTES: usize = 8;
    #[inline]
    fn write_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    #[inline]
    fn read_le(b: &[u8]) -> Self {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        u64::from_le_bytes(a)
    }
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
    #[inline(always)]
    fn shift_in(self, id: u32, n: usize) -> Self {
        let mask = if n >= 4 {
            u128::MAX
        } else {
            (1u128 << (32 * n)) - 1
        };
        ((self << 32) | id as u128) & mask
    }
    #[inline]
    fn unpack(self, n: usize, out: &mut [u32]) {
        for (i, slot) in out[..n].iter_mut().enumerate() {
            *slot = (self >> (32 * (n - 1 - i))) as u32;
        }
    }
    #[inline(always)]
    fn partition(self) -> usize {
        let folded = (self as u64) ^ ((self >> 64) as u64).wrapping_mul(SPREAD).rotate_left(31);
        (folded.wrapping_mul(SPREAD) >> 56) as usize
    }
    #[inline(always)]
    fn slot_hash(self) -> u64 {
        mix((self as u64) ^ mix((self >> 64) as u64))
    }
    const BYTES: usize = 16;
    #[inline]
    fn write_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    #[inline]
    fn read_le(b: &[u8]) -> Self {
        let mut a = [0u8; 16];
        a.copy_from_slice(&b[..16]);
        u128::from_le_bytes(a)
    }
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
    #[inline(always)]
    fn shift_in(self, id: u32, n: usize) -> Self {
        let mut k = self.0;
        k.copy_within(1..n, 0);
        k[n - 1] = id;
        Wide(k)
    }
    #[inline(always)]
    fn partition(self) -> usize {
        let mut h = 0u64;
        for &id in &self.0 {
            h = (h ^ id as u64).wrapping_mul(SPREAD).rotate_left(29);
        }
        (h.wrapping_mul(SPREAD) >> 56) as usize
    }
    #[inline(always)]
    fn slot_hash(self) -> u64 {
        let mut h = 0u64;
        for &id in &self.0 {
            h = mix(h ^ id as u64);
        }
        h
    }
    const BYTES: usize = 32;
    #[inline]
    fn write_le(self, out: &mut Vec<u8>) {
        for id in self.0 {
            out.extend_from_slice(&id.to_le_bytes());
        }
    }
    #[inline]
    fn read_le(b: &[u8]) -> Self {
        let mut k = [0u32; 8];
        for (i, slot) in k.iter_mut().enumerate() {
            let mut a = [0u8; 4];
            a.copy_from_slice(&b[4 * i..4 * i + 4]);
            *slot = u32::from_le_bytes(a);
        }
        Wide(k)
    }
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
    fn shift_in_equals_pack() {
        fn check<K: NKey>(n: usize, ids: &[u32]) {
            let mut k = K::pack(&vec![7; n]);
            for (i, &id) in ids.iter().enumerate() {
                k = k.shift_in(id, n);
                if i + 1 >= n {
                    assert_eq!(k, K::pack(&ids[i + 1 - n..=i]), "n={n} at {i}");
                }
            }
        }
        let ids = [5, (1 << 21) - 1, 0, 3, 9, 1 << 20, 2, 8, 4, 6];
        for n in 1..=3 {
            check::<u64>(n, &ids);
        }
        let wide = [u32::MAX, 0, 1, u32::MAX - 1, 5, 6, 7, 8, 9, 10, 11];
        for n in 1..=4 {
            check::<u128>(n, &wide);
        }
        for n in 1..=8 {
            check::<Wide>(n, &wide);
        }
    }

    #[test]
    fn packs_and_orders() {
        roundtrip::<u64>(&[1, 2]);
        roundtrip::<u64>(&[(1 << 21) - 1, 0, 5]);
        roundtrip::<u128>(&[u32::MAX, 0, 7, 9]);
        roundtrip::<Wide>(&[1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(u64::pack(&[1, 0, 9]) < u64::pack(&[1, 1, 0]));
        assert!(u128::pack(&[0, u32::MAX, 1]) < u128::pack(&[1, 0, 0]));
        let mut buf = Vec::new();
        u128::pack(&[3, 1, 4, 1]).write_le(&mut buf);
        assert_eq!(u128::read_le(&buf), u128::pack(&[3, 1, 4, 1]));
        buf.clear();
        Wide::pack(&[9, 8, 7]).write_le(&mut buf);
        assert_eq!(Wide::read_le(&buf), Wide::pack(&[9, 8, 7]));
    }
}
