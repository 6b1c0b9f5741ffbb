//! Query-time lookup structures, built on the first query so that fitting and writing never pay
//! for them.
//!
//! A lookup must cost about one cache miss per n-gram, as KenLM's probing model does, and the
//! misses of a sentence must overlap:
//! - [`Probe`]: per order >= 2, an open-addressing table whose slot holds the packed key, the log10
//!   probability and the backoff together (16 bytes with `u64` keys and `f32` values), linear
//!   probing, 2/3 load. A hit reads one slot; a miss reads the slots up to the next empty one.
//! - [`WordIndex`]: word -> id, with the word's hash and first 20 bytes inside the slot, so
//!   that words of up to 20 bytes are matched without touching the word's own string.
//! - The scorer (`Core::score_into`) knows every n-gram it may look up before it starts (they
//!   are the suffixes of the sentence's prefixes), so it computes their slots first and
//!   prefetches them a few positions ahead of the state machine that consumes them.

use std::hash::BuildHasher;

pub(crate) use crate::prefetch::{huge_vec, prefetch};

use super::key::Key;
use super::model::{OrderTable, Value};

/// Maps a 64-bit hash onto `0..len` (Lemire's multiply-shift), so tables need not be powers of
/// two.
#[inline(always)]
fn reduce(h: u64, len: usize) -> usize {
    ((h as u128 * len as u128) >> 64) as usize
}

#[derive(Clone, Copy, Debug, Default)]
struct Entry<K, V> {
    key: K,
    prob: V,
    backoff: V,
}

/// One order's n-grams in an open-addressing table (key 0 marks an empty slot; the n-gram whose
/// key is 0, all words `<unk>`, is kept aside).
#[derive(Clone, Debug)]
pub(crate) struct Probe<K, V> {
    slots: Vec<Entry<K, V>>,
    zero: Option<(V, V)>,
}

impl<K: Key, V: Value> Probe<K, V> {
    pub(crate) fn build(table: &OrderTable<K, V>) -> Probe<K, V> {
        let n = table.keys.len();
        let len = n + n / 2 + 1;
        let mut slots = huge_vec(len, Entry::default());
        let mut zero = None;
        let value = |i: usize| {
            (
                table.prob[i],
                table.backoff.get(i).copied().unwrap_or_default(),
            )
        };
        // Inserting in key order scatters writes over the table; prefetching a few keys ahead
        // overlaps their misses.
        const AHEAD: usize = 16;
        for (i, &key) in table.keys.iter().enumerate() {
            if let Some(&next) = table.keys.get(i + AHEAD) {
                prefetch(&slots[reduce(next.hash64(), len)]);
            }
            if key == K::default() {
                zero = Some(value(i));
                continue;
            }
            let mut s = reduce(key.hash64(), len);
            while slots[s].key != K::default() {
                s += 1;
                if s == len {
                    s = 0;
                }
            }
            let (prob, backoff) = value(i);
            slots[s] = Entry { key, prob, backoff };
        }
        Probe { slots, zero }
    }

    /// The slot where a search for `key` starts.
    #[inline(always)]
    pub(crate) fn home(&self, key: K) -> usize {
        reduce(key.hash64(), self.slots.len())
    }

    /// Prefetches the cache lines a search from `home` is likely to read: at 2/3 load a miss
    /// scans about five 16-byte slots, which often run into the next line.
    #[inline(always)]
    pub(crate) fn prefetch_home(&self, home: usize) {
        if let Some(e) = self.slots.get(home) {
            prefetch(e);
        }
        if let Some(e) = self.slots.get(home + 4) {
            prefetch(e);
        }
    }

    /// (log10 p, log10 backoff) of `key`, searching from its home slot.
    #[inline]
    pub(crate) fn get_at(&self, key: K, home: usize) -> Option<(V, V)> {
        if key == K::default() {
            return self.zero;
        }
        let len = self.slots.len();
        let mut s = home;
        loop {
            let e = self.slots.get(s)?;
            if e.key == key {
                return Some((e.prob, e.backoff));
            }
            if e.key == K::default() {
                return None;
            }
            s += 1;
            if s == len {
                s = 0;
            }
        }
    }

    #[inline]
    pub(crate) fn get(&self, key: K) -> Option<(V, V)> {
        self.get_at(key, self.home(key))
    }
}

const INLINE: usize = 20;

#[derive(Clone, Copy, Debug, Default)]
struct WordSlot {
    /// High 32 bits of the word's hash; with `id == u32::MAX` the slot is empty.
    fingerprint: u32,
    id: u32,
    len: u32,
    prefix: [u8; INLINE],
}

/// Word -> id, open addressing at load <= 1/2 with 32-byte slots.
#[derive(Clone, Debug)]
pub(crate) struct WordIndex {
    slots: Vec<WordSlot>,
    mask: usize,
    hasher: foldhash::fast::FixedState,
}

impl WordIndex {
    /// Builds the index; `Err(word)` names a word that appears twice.
    pub(crate) fn build(words: &[String]) -> Result<WordIndex, String> {
        let len = (2 * words.len()).max(16).next_power_of_two();
        let mut ix = WordIndex {
            slots: huge_vec(
                len,
                WordSlot {
                    id: u32::MAX,
                    ..WordSlot::default()
                },
            ),
            mask: len - 1,
            hasher: foldhash::fast::FixedState::with_seed(0x766f63),
        };
        for (i, w) in words.iter().enumerate() {
            let id = u32::try_from(i)
                .ok()
                .filter(|&id| id != u32::MAX)
                .ok_or_else(|| "more than 2^32 - 1 words".to_string())?;
            let h = ix.hash(w);
            let mut s = ix.home(h);
            loop {
                let slot = &ix.slots[s];
                if slot.id == u32::MAX {
                    break;
                }
                if Self::matches(slot, h, w, words) {
                    return Err(w.clone());
                }
                s = (s + 1) & ix.mask;
            }
            let mut prefix = [0u8; INLINE];
            let b = w.as_bytes();
            let k = b.len().min(INLINE);
            prefix[..k].copy_from_slice(&b[..k]);
            ix.slots[s] = WordSlot {
                fingerprint: (h >> 32) as u32,
                id,
                len: u32::try_from(b.len()).map_err(|_| "a word over 4 GiB".to_string())?,
                prefix,
            };
        }
        Ok(ix)
    }

    #[inline(always)]
    pub(crate) fn hash(&self, word: &str) -> u64 {
        self.hasher.hash_one(word.as_bytes())
    }

    #[inline(always)]
    fn home(&self, h: u64) -> usize {
        (h as usize) & self.mask
    }

    #[inline(always)]
    pub(crate) fn prefetch(&self, h: u64) {
        prefetch(&self.slots[self.home(h)]);
    }

    #[inline(always)]
    fn matches(slot: &WordSlot, h: u64, word: &str, words: &[String]) -> bool {
        let b = word.as_bytes();
        if slot.fingerprint != (h >> 32) as u32 || slot.len as usize != b.len() {
            return false;
        }
        if b.len() <= INLINE {
            // Both sides zero-padded to a fixed width: one wide compare, no memcmp call.
            let mut padded = [0u8; INLINE];
            padded[..b.len()].copy_from_slice(b);
            slot.prefix == padded
        } else {
            words
                .get(slot.id as usize)
                .is_some_and(|w| w.as_bytes() == b)
        }
    }

    /// The id of `word`, whose hash is `h` (from [`WordIndex::hash`]).
    #[inline]
    pub(crate) fn get_hashed(&self, word: &str, h: u64, words: &[String]) -> Option<u32> {
        let mut s = self.home(h);
        loop {
            let slot = &self.slots[s];
            if slot.id == u32::MAX {
                return None;
            }
            if Self::matches(slot, h, word, words) {
                return Some(slot.id);
            }
            s = (s + 1) & self.mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_index_finds_every_word_and_rejects_others() {
        let words: Vec<String> = (0..5000)
            .map(|i| {
                if i % 7 == 0 {
                    format!("a-rather-long-word-over-twenty-bytes-{i}")
                } else {
                    format!("w{i}")
                }
            })
            .collect();
        let ix = WordIndex::build(&words).expect("distinct");
        for (i, w) in words.iter().enumerate() {
            assert_eq!(ix.get_hashed(w, ix.hash(w), &words), Some(i as u32));
        }
        for w in ["", "w", "w5000", "a-rather-long-word-over-twenty-bytes-1"] {
            assert_eq!(ix.get_hashed(w, ix.hash(w), &words), None, "{w}");
        }
        let dup = vec!["x".to_string(), "y".to_string(), "x".to_string()];
        assert_eq!(WordIndex::build(&dup).err().as_deref(), Some("x"));
    }

    #[test]
    fn probe_finds_every_key_including_zero() {
        let keys: Vec<u64> = (0..10_000u64).map(|i| i * 3).collect();
        let t = OrderTable {
            prob: keys.iter().map(|&k| -(k as f32)).collect(),
            backoff: keys.iter().map(|&k| k as f32 / 2.0).collect(),
            keys,
        };
        let p = Probe::build(&t);
        for (i, &k) in t.keys.iter().enumerate() {
            assert_eq!(p.get(k), Some((t.prob[i], t.backoff[i])));
        }
        for k in [1u64, 2, 4, 30_001, u64::MAX] {
            assert_eq!(p.get(k), None);
        }
        let empty: OrderTable<u64, f32> = OrderTable {
            keys: vec![],
            prob: vec![],
            backoff: vec![],
        };
        assert_eq!(Probe::build(&empty).get(5), None);
    }
}
