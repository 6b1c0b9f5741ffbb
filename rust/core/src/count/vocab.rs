//! Interning tokens into integer ids.
//!
//! Each worker interns into its own table (no lock per token) and only meets the shared
//! vocabulary once per block of ~256k tokens, to get global ids for the words it had not seen
//! before. Global ids depend on thread timing; nothing observable depends on them, because every
//! output is ordered by token text, and partitioning and sampling use a fixed-seed hash of the
//! text. Ids 0 and 1 are `<s>` and `</s>`.

use std::hash::BuildHasher;

use hashbrown::HashTable;

pub const BOS: &str = "<s>";
pub const EOS: &str = "</s>";
pub const BOS_ID: u32 = 0;
pub const EOS_ID: u32 = 1;
const UNASSIGNED: u32 = u32::MAX;

/// The fixed-seed string hash used for interning, partitioning and sampling.
#[inline(always)]
pub fn token_hash(bytes: &[u8]) -> u64 {
    foldhash::fast::FixedState::with_seed(0x6d6f_6e6f_6661_6374).hash_one(bytes)
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

/// A hash table of interned strings.
#[derive(Default)]
pub struct Interner {
    table: HashTable<u32>,
    pub strings: Strings,
    pub hashes: Vec<u64>,
}

impl Interner {
    #[inline]
    pub fn intern_hashed(&mut self, bytes: &[u8], hash: u64) -> (u32, bool) {
        let strings = &self.strings;
        if let Some(&id) = self.table.find(hash, |&id| strings.get(id) == bytes) {
            return (id, false);
        }
        let id = self.strings.push(bytes);
        self.hashes.push(hash);
        let hashes = &self.hashes;
        self.table.insert_unique(hash, id, |&i| hashes[i as usize]);
        (id, true)
    }

    #[inline]
    pub fn intern(&mut self, bytes: &[u8]) -> u32 {
        self.intern_hashed(bytes, token_hash(bytes)).0
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
        let hash = token_hash(bytes);
        let (id, new) = self.interner.intern_hashed(bytes, hash);
        if new {
            self.global.push(UNASSIGNED);
            self.pending.push(id);
        }
        id
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
        for &local in &self.pending {
            let bytes = self.interner.strings.get(local);
            let hash = self.interner.hashes[local as usize];
            let (gid, _) = g.interner.intern_hashed(bytes, hash);
            self.global[local as usize] = gid;
        }
        self.pending.clear();
        (g.interner.len() as u32).saturating_sub(1)
    }
}
