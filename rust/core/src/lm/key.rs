//! Packed n-gram keys: the ids of an n-gram in one integer, first word in the high bits, so that
//! numeric order is lexicographic order and an n-gram's context (all but its last word) is a
//! right shift.

use std::fmt::Debug;

pub(crate) trait Key: Copy + Ord + Eq + Send + Sync + Debug + Default + 'static {
    /// Capacity in bits.
    const CAPACITY: u32;
    /// `self << bits | id`.
    fn push(self, id: u32, bits: u32) -> Self;
    /// The context of an n-gram: all but its last word (`self >> bits`).
    fn context(self, bits: u32) -> Self;
    /// The word `pos` places from the right (0 = last word).
    fn word(self, pos: usize, bits: u32) -> u32;
    /// Keeps the low `nbits` bits (drops leading words).
    fn low(self, nbits: u32) -> Self;
    /// Sets the word `pos` places from the right to `id` (that word must be 0).
    fn with_word(self, pos: usize, id: u32, bits: u32) -> Self;
    /// A well-mixed 64-bit hash (use its high bits).
    fn hash64(self) -> u64;
    /// The low 64 bits.
    fn low_u64(self) -> u64;
    /// A key from its low 64 bits.
    fn from_u64(x: u64) -> Self;
}

macro_rules! impl_key {
    ($t:ty, $hash:expr) => {
        impl Key for $t {
            const CAPACITY: u32 = <$t>::BITS;
            #[inline(always)]
            fn push(self, id: u32, bits: u32) -> Self {
                (self << bits) | (id as $t)
            }
            #[inline(always)]
            fn context(self, bits: u32) -> Self {
                self >> bits
            }
            #[inline(always)]
            fn word(self, pos: usize, bits: u32) -> u32 {
                let shift = bits * pos as u32;
                ((self >> shift) & ((1 as $t) << bits).wrapping_sub(1)) as u32
            }
            #[inline(always)]
            fn low(self, nbits: u32) -> Self {
                if nbits == 0 {
                    0
                } else if nbits >= Self::CAPACITY {
                    self
                } else {
                    self & (<$t>::MAX >> (Self::CAPACITY - nbits))
                }
            }
            #[inline(always)]
            fn with_word(self, pos: usize, id: u32, bits: u32) -> Self {
                self | ((id as $t) << (bits * pos as u32))
            }
            #[inline(always)]
            fn hash64(self) -> u64 {
                $hash(self)
            }
            #[inline(always)]
            fn low_u64(self) -> u64 {
                self as u64
            }
            #[inline(always)]
            fn from_u64(x: u64) -> Self {
                x as $t
            }
        }
    };
}

#[inline(always)]
fn mix(x: u64) -> u64 {
    // Fibonacci hashing after a xor-shift, so the high bits depend on every id.
    (x ^ (x >> 31)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl_key!(u64, |x: u64| mix(x));
impl_key!(u128, |x: u128| mix((x as u64) ^ mix((x >> 64) as u64)));

/// Bits per id for a vocabulary of `vocab` words (at least 1).
pub(crate) fn id_bits(vocab: usize) -> u32 {
    let v = vocab.max(2) as u64;
    64 - (v - 1).leading_zeros()
}

#[inline]
pub(crate) fn pack<K: Key>(ids: &[u32], bits: u32) -> K {
    ids.iter().fold(K::default(), |k, &w| k.push(w, bits))
}

#[inline]
pub(crate) fn unpack<K: Key>(key: K, n: usize, bits: u32, out: &mut [u32]) {
    for (i, slot) in out[..n].iter_mut().enumerate() {
        *slot = key.word(n - 1 - i, bits);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_roundtrip_and_order() {
        let bits = id_bits(1000);
        assert_eq!(bits, 10);
        let a: u64 = pack(&[3, 999, 7], bits);
        let b: u64 = pack(&[4, 0, 0], bits);
        assert!(a < b);
        let mut out = [0u32; 3];
        unpack(a, 3, bits, &mut out);
        assert_eq!(out, [3, 999, 7]);
        assert_eq!(a.context(bits), pack::<u64>(&[3, 999], bits));
        assert_eq!(a.low(2 * bits), pack::<u64>(&[999, 7], bits));
        let w: u128 = pack(&[5, 6, 7, 8, 9, 10], 21);
        assert_eq!(w.word(5, 21), 5);
        assert_eq!(id_bits(2), 1);
        assert_eq!(id_bits(3), 2);
        assert_eq!(id_bits(1 << 21), 21);
    }
}
