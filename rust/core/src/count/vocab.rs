//! Interning tokens into integer ids.
//!
//! Each worker interns into its own table (no lock per token) and only meets the shared
//! vocabulary once per block of ~256k tokens, to get global ids for the words it had not seen
//! before. Global ids depend on thread timing; nothing observable depends on them, because every
//! output is ordered by token text, and partitioning and sampling use a fixed-seed hash of the
//! text. Ids 0 and 1 are `<s>` and `</s>`.

pub const BOS: &str = "<s>";
pub const EOS: &str = "</s>";
pub const BOS_ID: u32 = 0;
pub const EOS_ID: u32 = 1;
const UNASSIGNED: u32 = u32::MAX;

#[inline(always)]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let r = (a as u128).wrapping_mul(b as u128);
    (r as u64) ^ ((r >> 64) as u64)
}

#[inline(always)]
fn r8(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// A token's first 16 bytes, zero-padded, as two little-endian words. With the length they
/// determine a token of up to 16 bytes, so most comparisons never touch the string arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Head {
    pub w0: u64,
    pub w1: u64,
}

/// `MASK[k]` keeps the low k bytes of a word.
const MASK: [u64; 9] = [
    0,
    0xff,
    0xffff,
    0xff_ffff,
    0xffff_ffff,
    0xff_ffff_ffff,
    0xffff_ffff_ffff,
    0xff_ffff_ffff_ffff,
    u64::MAX,
];

impl Head {
    #[inline(always)]
    pub fn of(b: &[u8]) -> Head {
        let mut buf = [0u8; 16];
        let n = b.len().min(16);
        buf[..n].copy_from_slice(&b[..n]);
        Head {
            w0: r8(&buf, 0),
            w1: r8(&buf, 8),
        }
    }

    /// The head of `text[start..start + len]`, by unaligned 8-byte loads and masks instead of
    /// a copy: no branch on the token's length where `text` has 16 bytes from `start` (the
    /// common case), and no call to `memcpy` near the end of `text`.
    #[inline(always)]
    pub fn within(text: &[u8], start: usize, len: usize) -> Head {
        let n = len.min(16);
        let (n0, n1) = (n.min(8), n.saturating_sub(8).min(8));
        match text.get(start..start + 16) {
            Some(w) => Head {
                w0: r8(w, 0) & MASK[n0],
                w1: r8(w, 8) & MASK[n1],
            },
            None => Head {
                w0: load_upto8(text, start, n0),
                w1: load_upto8(text, start + 8, n1),
            },
        }
    }
}

/// `text[at..at + n]` (n <= 8, in bounds) as a zero-padded little-endian word.
#[inline(always)]
fn load_upto8(text: &[u8], at: usize, n: usize) -> u64 {
    if let Some(w) = text.get(at..at + 8) {
        return r8(w, 0) & MASK[n];
    }
    if n == 0 {
        return 0;
    }
    if at + n >= 8 {
        // The 8 bytes ending where the n bytes end, shifted down.
        return r8(text, at + n - 8) >> (8 * (8 - n));
    }
    let mut w = 0u64;
    for (k, &b) in text[at..at + n].iter().enumerate() {
        w |= (b as u64) << (8 * k);
    }
    w
}

const P0: u64 = 0xa076_1d64_78bd_642f;
const P1: u64 = 0xe703_7ed1_a0b4_28db;
const P2: u64 = 0x8ebc_6af0_9c88_c6e3;

/// The fixed-seed string hash used for interning, partitioning and sampling. It is defined here
/// (wyhash-style folded multiplies) rather than borrowed from a crate so that it never changes
/// under a dependency update: persisted partitions and sampled keys depend on it.
#[inline(always)]
pub fn token_hash(b: &[u8]) -> u64 {
    token_hash_with(b, Head::of(b))
}

/// (`Head::of`, `token_hash`) of a token in one pass.
#[inline(always)]
pub fn hash_token(b: &[u8]) -> (Head, u64) {
    let head = Head::of(b);
    (head, token_hash_with(b, head))
}

/// [`token_hash`] of `b` given its [`Head`].
#[inline(always)]
pub fn token_hash_with(b: &[u8], head: Head) -> u64 {
    let len = b.len();
    let mut h = folded_multiply(head.w0 ^ P0, head.w1 ^ P1 ^ len as u64);
    if len > 16 {
        let mut at = 16;
        while at + 8 <= len {
            h = folded_multiply(h ^ r8(b, at), P2);
            at += 8;
        }
        if at < len {
            h = folded_multiply(h ^ r8(b, len - 8), P0);
        }
    }
    folded_multiply(h, P1)
}

/// Strings in one arena: id -> bytes.
#[derive(Debug, Default, Clone)]
pub struct Strings {
    arena: Vec<u8>,
    ends: Vec<u64>,
}

impl Strings {
    pub fn get(&self, id: u32) -> &[u8] {
        let i = id as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.arena[start..self.ends[i] as usize]
    }
    pub fn push(&mut self, bytes: &[u8]) -> u32 {
        self.arena.extend_from_slice(bytes);
        self.ends.push(self.arena.len() as u64);
        (self.ends.len() - 1) as u32
    }
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    pub fn heap_bytes(&self) -> usize {
        self.arena.capacity() + self.ends.capacity() * 8
    }
}

/// A slot of the intern table: the token's [`Head`], its length and its id.
#[derive(Clone, Copy)]
struct Slot {
    w0: u64,
    w1: u64,
    /// `len << 32 | id`; `EMPTY` marks a free slot.
    len_id: u64,
}

const EMPTY: u64 = u64::MAX;

/// A hash table of interned strings: open addressing with linear probing at load <= 0.7 over
/// 24-byte slots, so the slot a lookup starts from is known from the hash alone and can be
/// prefetched while earlier tokens are interned ([`Interner::prefetch`]). A token of up to 16
/// bytes is matched from its slot alone (first and last 8 bytes, length); a longer one also
/// compares its bytes in the arena.
pub struct Interner {
    slots: Vec<Slot>,
    shift: u32,
    pub strings: Strings,
    pub hashes: Vec<u64>,
}

impl Default for Interner {
    fn default() -> Self {
        Interner::with_capacity_log2(10)
    }
}

impl Interner {
    fn with_capacity_log2(bits: u32) -> Self {
        Interner {
            slots: vec![
                Slot {
                    w0: 0,
                    w1: 0,
                    len_id: EMPTY,
                };
                1 << bits
            ],
            shift: 64 - bits,
            strings: Strings::default(),
            hashes: Vec::new(),
        }
    }

    #[inline(always)]
    fn home(&self, hash: u64) -> usize {
        (hash >> self.shift) as usize
    }

    /// Hints the CPU to load the slot where a lookup of `hash` starts.
    #[inline(always)]
    pub fn prefetch(&self, hash: u64) {
        if let Some(slot) = self.slots.get(self.home(hash)) {
            crate::prefetch::prefetch(slot);
        }
    }

    #[inline(always)]
    fn find_or_insert(&mut self, bytes: &[u8], head: Head, hash: u64) -> (u32, bool) {
        let len = bytes.len() as u64;
        let mask = self.slots.len() - 1;
        let mut s = self.home(hash);
        loop {
            let slot = self.slots[s];
            if slot.len_id == EMPTY {
                break;
            }
            if slot.w0 == head.w0 && slot.w1 == head.w1 && slot.len_id >> 32 == len {
                let id = slot.len_id as u32;
                if len <= 16 || self.strings.get(id) == bytes {
                    return (id, false);
                }
            }
            s = (s + 1) & mask;
        }
        let id = self.strings.push(bytes);
        self.hashes.push(hash);
        self.slots[s] = Slot {
            w0: head.w0,
            w1: head.w1,
            len_id: (len << 32) | id as u64,
        };
        if self.strings.len() * 10 > self.slots.len() * 7 {
            self.grow();
        }
        (id, true)
    }

    fn grow(&mut self) {
        let bits = 64 - self.shift + 1;
        let old = std::mem::replace(
            &mut self.slots,
            vec![
                Slot {
                    w0: 0,
                    w1: 0,
                    len_id: EMPTY,
                };
                1 << bits
            ],
        );
        self.shift = 64 - bits;
        let mask = self.slots.len() - 1;
        for slot in old.into_iter().filter(|s| s.len_id != EMPTY) {
            let mut s = self.home(self.hashes[(slot.len_id as u32) as usize]);
            while self.slots[s].len_id != EMPTY {
                s = (s + 1) & mask;
            }
            self.slots[s] = slot;
        }
    }

    /// Intern with a precomputed `token_hash`.
    #[inline]
    pub fn intern_hashed(&mut self, bytes: &[u8], hash: u64) -> (u32, bool) {
        self.find_or_insert(bytes, Head::of(bytes), hash)
    }

    #[inline(always)]
    pub fn intern_new(&mut self, bytes: &[u8]) -> (u32, bool) {
        let (head, hash) = hash_token(bytes);
        self.find_or_insert(bytes, head, hash)
    }

    #[inline]
    pub fn intern(&mut self, bytes: &[u8]) -> u32 {
        self.intern_new(bytes).0
    }

    /// Intern with a precomputed [`Head`] and `token_hash` (see [`hash_token`]).
    #[inline(always)]
    pub fn intern_prehashed(&mut self, bytes: &[u8], head: Head, hash: u64) -> (u32, bool) {
        self.find_or_insert(bytes, head, hash)
    }

    pub fn len(&self) -> usize {
        self.strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }
}

/// The shared vocabulary.
pub struct GlobalVocab {
    pub interner: Interner,
}

impl Default for GlobalVocab {
    fn default() -> Self {
        let mut interner = Interner::default();
        interner.intern(BOS.as_bytes());
        interner.intern(EOS.as_bytes());
        GlobalVocab { interner }
    }
}

/// A worker's vocabulary: local ids, their hashes, and their global ids once known.
#[derive(Default)]
pub struct LocalVocab {
    pub interner: Interner,
    pub global: Vec<u32>,
    pending: Vec<u32>,
}

impl LocalVocab {
    pub fn new() -> Self {
        let mut v = LocalVocab::default();
        // Local ids 0 and 1 are <s> and </s> too, so padding needs no lookup.
        for t in [BOS, EOS] {
            v.intern(t.as_bytes());
        }
        v.global[BOS_ID as usize] = BOS_ID;
        v.global[EOS_ID as usize] = EOS_ID;
        v.pending.clear();
        v
    }

    #[inline(always)]
    pub fn intern(&mut self, bytes: &[u8]) -> u32 {
        let (id, new) = self.interner.intern_new(bytes);
        if new {
            self.global.push(UNASSIGNED);
            self.pending.push(id);
        }
        id
    }

    /// Intern a token hashed by [`hash_token`] (whose slot was prefetched).
    #[inline(always)]
    pub fn intern_prehashed(&mut self, bytes: &[u8], head: Head, hash: u64) -> u32 {
        let (id, new) = self.interner.intern_prehashed(bytes, head, hash);
        if new {
            self.global.push(UNASSIGNED);
            self.pending.push(id);
        }
        id
    }

    #[inline(always)]
    pub fn prefetch(&self, hash: u64) {
        self.interner.prefetch(hash);
    }

    #[inline(always)]
    pub fn hash(&self, local: u32) -> u64 {
        self.interner.hashes[local as usize]
    }

    /// Give every new local id its global id (one lock per call). Returns the largest global
    /// id in the vocabulary afterwards.
    pub fn resolve(&mut self, global: &std::sync::Mutex<GlobalVocab>) -> u32 {
        let mut g = match global.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        // The shared table is probed at random: prefetch the slots a few words ahead.
        const AHEAD: usize = 16;
        for (i, &local) in self.pending.iter().enumerate() {
            if let Some(&next) = self.pending.get(i + AHEAD) {
                g.interner.prefetch(self.interner.hashes[next as usize]);
            }
            let bytes = self.interner.strings.get(local);
            let hash = self.interner.hashes[local as usize];
            let (gid, _) = g.interner.intern_hashed(bytes, hash);
            self.global[local as usize] = gid;
        }
        self.pending.clear();
        (g.interner.len() as u32).saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_is_exact_up_to_16_bytes_and_reads_in_place() {
        let words: Vec<&[u8]> = vec![
            b"",
            b"a",
            b"ab",
            b"ba",
            b"abc",
            b"acb",
            b"abcd",
            b"abcde",
            b"abdce",
            b"abcdefgh",
            b"abcdefgi",
            b"abcdefghijklmnop",
            b"abcdefghijklmnoq",
            b"abcdefghijklmnopq",
        ];
        for (i, a) in words.iter().enumerate() {
            for b in &words[i + 1..] {
                if a.len() == b.len() && a.len() <= 16 {
                    assert_ne!(Head::of(a), Head::of(b), "{a:?} {b:?}");
                }
            }
        }
        // In place, with any bytes after the token, equals the padded copy.
        let text = b"xyz abcdefghijklmnopqrstuvwxyz0123456789 \xff\xfe tail";
        for start in 0..text.len() {
            for len in 0..=(text.len() - start) {
                let t = &text[start..start + len];
                assert_eq!(Head::within(text, start, len), Head::of(t), "{start} {len}");
                assert_eq!(token_hash_with(t, Head::of(t)), token_hash(t));
            }
        }
    }

    #[test]
    fn interner_grows_and_keeps_ids() {
        let mut i = Interner::default();
        let words: Vec<String> = (0..50_000)
            .map(|k| {
                if k % 3 == 0 {
                    format!("long-token-number-{k}")
                } else {
                    format!("t{k}")
                }
            })
            .collect();
        for (k, w) in words.iter().enumerate() {
            assert_eq!(i.intern_new(w.as_bytes()), (k as u32, true));
        }
        for (k, w) in words.iter().enumerate().rev() {
            let (head, hash) = hash_token(w.as_bytes());
            assert_eq!(
                i.intern_prehashed(w.as_bytes(), head, hash),
                (k as u32, false)
            );
            assert_eq!(i.strings.get(k as u32), w.as_bytes());
        }
        assert_eq!(i.len(), words.len());
        assert!(i.slots.len() * 7 >= i.len() * 10);
    }

    #[test]
    fn interns_long_and_short_tokens() {
        let mut i = Interner::default();
        let words = [
            "a",
            "abcdefghij",
            "abcdefghik",
            "ab",
            "abcdefgh",
            "abcdefghij",
        ];
        let ids: Vec<u32> = words.iter().map(|w| i.intern(w.as_bytes())).collect();
        assert_eq!(ids, vec![0, 1, 2, 3, 4, 1]);
        assert_eq!(i.strings.get(2), b"abcdefghik");
        assert_ne!(token_hash(b"abcdefghij"), token_hash(b"abcdefghik"));
    }
}
