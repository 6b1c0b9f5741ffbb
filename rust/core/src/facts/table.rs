//! Per-thread fact tables.
//!
//! A [`FactTable`] is what one worker thread owns while it scans its share of the corpus. It
//! interns every subject, relation and object string once (so a key is three `u32`s), keeps one
//! `FactStat` per key, and never locks. Tables of different threads have unrelated string ids;
//! [`FactTable::merge`] remaps the other table's ids into this one. Everything a table holds
//! (sums, minima) is commutative, and the final output is sorted by the strings themselves, so
//! the result does not depend on how documents were split across tables or in which order the
//! tables were merged.
//!
//! Knowledge-base scans do not hash strings per mention: the first mention of a KB fact in a
//! table interns its three strings and caches `(matcher uid, fact id) -> slot`; later mentions
//! cost one integer-keyed lookup.

use foldhash::fast::FixedState;
use hashbrown::{HashMap, HashTable};
use std::hash::BuildHasher;

/// The object id that stands for an IDK ("I don't know") response.
pub(crate) const IDK: u32 = u32::MAX;

/// Interned key of one fact (or one IDK record when `object == IDK`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct FactKey {
    pub subject: u32,
    pub relation: u32,
    pub object: u32,
}

/// Counts of one key inside one table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FactStat {
    /// Every occurrence (template match, KB window hit, record).
    pub mentions: u64,
    /// Distinct documents, counted as runs of equal `doc` keys (see [`FactTable::add_record`]).
    pub documents: u64,
    /// The smallest document key seen.
    pub first_document: u64,
    /// The document key of the latest occurrence; only used to count documents.
    pub last_document: u64,
}

impl FactStat {
    fn new(doc: u64) -> Self {
        FactStat {
            mentions: 1,
            documents: 1,
            first_document: doc,
            last_document: doc,
        }
    }

    #[inline]
    fn add(&mut self, doc: u64) {
        self.mentions += 1;
        if doc != self.last_document {
            self.documents += 1;
            self.last_document = doc;
        }
        if doc < self.first_document {
            self.first_document = doc;
        }
    }

    /// Combines counts of disjoint document sets.
    fn absorb(&mut self, other: &FactStat) {
        self.mentions += other.mentions;
        self.documents += other.documents;
        self.first_document = self.first_document.min(other.first_document);
        self.last_document = self.last_document.max(other.last_document);
    }
}

/// A string interner: ids are dense `u32` in insertion order; each string is stored once.
#[derive(Default, Clone, Debug)]
pub(crate) struct Interner {
    strings: Vec<Box<str>>,
    lookup: HashTable<u32>,
    hasher: FixedState,
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> u32 {
        let hash = self.hasher.hash_one(s);
        let strings = &self.strings;
        if let Some(&id) = self.lookup.find(hash, |&id| &*strings[id as usize] == s) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.into());
        let strings = &self.strings;
        let hasher = &self.hasher;
        self.lookup
            .insert_unique(hash, id, |&i| hasher.hash_one(&*strings[i as usize]));
        id
    }

    /// The id of `s` if it was interned.
    pub fn find(&self, s: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(s);
        self.lookup
            .find(hash, |&id| &*self.strings[id as usize] == s)
            .copied()
    }

    pub fn get(&self, id: u32) -> &str {
        &self.strings[id as usize]
    }
}

/// Reusable buffers of a scanning thread. They carry no counts; they live in the table only so
/// that a shared, read-only matcher can scan without allocating per document.
#[derive(Default, Debug)]
pub(crate) struct Scratch {
    pub folded: String,
    pub subject: String,
    pub object: String,
    pub hits: Vec<(usize, usize, u32)>,
    pub entities: Vec<u32>,
    pub positions: Vec<u64>,
}

/// Fact counts of the documents one thread has seen. Build one per thread with
/// [`FactTable::new`], fill it with [`crate::facts::FactMatcher::scan`] or
/// [`FactTable::add_record`], combine with [`FactTable::merge`], and turn the lot into
/// [`crate::facts::FactCounts`] with [`crate::facts::finish`].
#[derive(Default, Debug)]
pub struct FactTable {
    pub(crate) strings: Interner,
    pub(crate) slots: HashMap<FactKey, u32, FixedState>,
    pub(crate) keys: Vec<FactKey>,
    pub(crate) stats: Vec<FactStat>,
    kb_cache: HashMap<(u64, u32), u32, FixedState>,
    pub(crate) scratch: Scratch,
}

impl FactTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of distinct keys: facts plus (subject, relation) pairs with IDK records.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Counts one already-extracted sample: `object = None` is an IDK response. `doc` is the
    /// document key; all records of one document must be added one after the other (as
    /// [`crate::facts::FactMatcher::scan`] does) for the per-document counts to be exact, since
    /// a document is counted when its key differs from the previous occurrence's.
    pub fn add_record(&mut self, subject: &str, relation: &str, object: Option<&str>, doc: u64) {
        let subject = self.strings.intern(subject);
        let relation = self.strings.intern(relation);
        let object = match object {
            Some(o) => self.strings.intern(o),
            None => IDK,
        };
        self.add_key(
            FactKey {
                subject,
                relation,
                object,
            },
            doc,
        );
    }

    /// Counts an interned key; returns its slot.
    #[inline]
    pub(crate) fn add_key(&mut self, key: FactKey, doc: u64) -> u32 {
        match self.slots.get(&key) {
            Some(&slot) => {
                self.stats[slot as usize].add(doc);
                slot
            }
            None => {
                let slot = self.keys.len() as u32;
                self.keys.push(key);
                self.stats.push(FactStat::new(doc));
                self.slots.insert(key, slot);
                slot
            }
        }
    }

    /// Counts one mention of knowledge-base fact `fact` of the matcher with id `uid`; the
    /// strings are only hashed the first time this table sees the fact.
    #[inline]
    pub(crate) fn add_kb_fact(&mut self, uid: u64, fact: u32, doc: u64, s: &str, r: &str, o: &str) {
        if let Some(&slot) = self.kb_cache.get(&(uid, fact)) {
            self.stats[slot as usize].add(doc);
            return;
        }
        self.add_kb_fact_slow(uid, fact, doc, s, r, o);
    }

    fn add_kb_fact_slow(&mut self, uid: u64, fact: u32, doc: u64, s: &str, r: &str, o: &str) {
        let key = FactKey {
            subject: self.strings.intern(s),
            relation: self.strings.intern(r),
            object: self.strings.intern(o),
        };
        let slot = self.add_key(key, doc);
        self.kb_cache.insert((uid, fact), slot);
    }

    /// Adds the counts of `other`, a table of a disjoint set of documents (each document is
    /// scanned into exactly one table). Merging is commutative and associative as far as the
    /// final [`crate::facts::FactCounts`] can tell.
    pub fn merge(&mut self, other: FactTable) {
        if self.keys.is_empty() && self.kb_cache.is_empty() {
            let scratch = std::mem::take(&mut self.scratch);
            *self = other;
            self.scratch = scratch;
            return;
        }
        let remap: Vec<u32> = other
            .strings
            .strings
            .iter()
            .map(|s| self.strings.intern(s))
            .collect();
        let map = |id: u32| if id == IDK { IDK } else { remap[id as usize] };
        let mut slot_map = Vec::with_capacity(other.keys.len());
        for (key, stat) in other.keys.iter().zip(&other.stats) {
            let key = FactKey {
                subject: map(key.subject),
                relation: map(key.relation),
                object: map(key.object),
            };
            let slot = match self.slots.get(&key) {
                Some(&slot) => {
                    self.stats[slot as usize].absorb(stat);
                    slot
                }
                None => {
                    let slot = self.keys.len() as u32;
                    self.keys.push(key);
                    self.stats.push(*stat);
                    self.slots.insert(key, slot);
                    slot
                }
            };
            slot_map.push(slot);
        }
        for (cache_key, slot) in other.kb_cache {
            self.kb_cache.insert(cache_key, slot_map[slot as usize]);
        }
    }
}
