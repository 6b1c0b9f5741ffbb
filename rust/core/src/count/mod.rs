//! Exact n-gram counting.
//!
//! Map -> partition -> reduce, with no lock in the hot loop:
//! 1. Each worker takes shards off a shared queue, tokenizes documents and interns tokens into
//!    its own vocabulary, in blocks of about 256k tokens.
//! 2. Per block it fetches global ids for its new words (one lock), packs every n-gram into one
//!    integer key ([`key::NKey`]) and appends it to one of 256 partition buffers, chosen by a
//!    multiplicative hash of the key (under sampling, by the fixed-seed hash of the n-gram's
//!    text, which also decides what is kept).
//! 3. When a worker's raw buffers reach their share of the memory budget it sorts each partition
//!    and folds it into a sorted run of (key, count); runs that outgrow the budget are spilled.
//! 4. At the end each partition is reduced on its own, in parallel across partitions: in memory
//!    by counting the workers' raw keys and runs in a hash table that fits the core's cache
//!    ([`run::Tally`]), after a spill by a k-way merge of the sorted runs on disk. Partitions
//!    hold disjoint keys, so their count-of-counts add up exactly.
//!
//! A partition is small enough to be counted in cache, which is why this beats one big hash map
//! per thread. Every exported order is by count and token text, so results are identical for any
//! thread count or shard split.

pub mod checkpoint;
pub mod export;
pub mod key;
pub mod run;
pub mod spill;
pub mod vocab;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use key::{NKey, Wide};
use run::{Run, Tally};
use spill::{Section, SectionWriter, SpillDir, SpillFile};
use vocab::{hash_token, token_hash_with, GlobalVocab, Head, LocalVocab, Strings, BOS_ID, EOS_ID};

use crate::error::{CoreError, Result};
use crate::progress::Progress;
use crate::scan;
use crate::source::{Corpus, SourceOptions};
use crate::stats::Histogram;
use crate::tokenize::Tokenizer;

/// Number of hash partitions.
pub const PARTITIONS: usize = 256;
const BLOCK_TOKENS: usize = 1 << 18;

#[derive(Debug, Clone)]
pub struct CountOptions {
    /// n-gram order, 1..=8.
    pub n: usize,
    /// KenLM sentence padding: n-1 `<s>` before each document and one `</s>` after.
    pub pad: bool,
    pub tokenizer: Tokenizer,
    /// Worker threads; 0 = all cores.
    pub threads: usize,
    /// Memory budget for the counting tables (raw key buffers and sorted runs of all workers),
    /// in bytes. The vocabulary, reader buffers and the caller's process come on top.
    pub memory_bytes: u64,
    /// Keep only keys whose hash falls below `rate * 2^64` (hash sampling).
    pub sample: Option<f64>,
    /// Mixed into the sampling hash: another seed keeps another random subset of keys. `None`
    /// keeps the keys whose n-gram hash itself is below the threshold.
    pub sample_seed: Option<u64>,
    /// Where sorted runs go when the budget is exceeded (a fresh subdirectory is made and
    /// removed afterwards); `None` = the system temp dir.
    pub spill_dir: Option<PathBuf>,
    /// Testing knob: fold the raw keys after this many and spill at every fold, whatever the
    /// budget (exercises the spill path on tiny corpora). `None` in normal use.
    pub spill_every: Option<usize>,
    /// Persist finished shards here and skip them when a run with the same arguments and
    /// unchanged inputs starts again (see [`checkpoint`]).
    pub checkpoint_dir: Option<PathBuf>,
}

/// The smallest per-thread share of `memory_bytes` the engine accepts.
pub const MIN_SHARE: u64 = 256 << 10;

impl Default for CountOptions {
    fn default() -> Self {
        CountOptions {
            n: 3,
            pad: false,
            tokenizer: Tokenizer::Words { lowercase: false },
            threads: 0,
            memory_bytes: default_memory(),
            sample: None,
            sample_seed: None,
            spill_dir: None,
            spill_every: None,
            checkpoint_dir: None,
        }
    }
}

/// Half the machine's memory, or 4 GiB when it cannot be read.
pub fn default_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|v| v.parse::<u64>().ok())
                })
        })
        .map_or(4 << 30, |kib| kib * 1024 / 2)
}

pub fn resolve_threads(threads: usize) -> usize {
    if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    }
}

/// Figures of a counting run (MATH.md section 1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub documents: u64,
    /// Tokens in the text (padding excluded).
    pub tokens: u64,
    /// Samples N: n-gram occurrences (of the kept keys, when sampled).
    pub samples: u64,
    /// All n-gram occurrences, sampled or not.
    pub total_samples: u64,
    pub distinct: u64,
    pub n1: u64,
    pub n2: u64,
    pub max_count: u64,
    pub bytes: u64,
    pub invalid_bytes: u64,
    pub skipped_documents: u64,
    pub shards: u64,
    pub vocabulary: u64,
    pub threads: usize,
    pub sample_rate: Option<f64>,
    pub sample_seed: Option<u64>,
    /// Spill files written (0 when everything fit in the budget).
    pub spills: u64,
    /// Bytes written to the spill directory.
    pub spill_bytes: u64,
    /// Shards taken from the checkpoint instead of being counted again.
    pub resumed_shards: u64,
    /// The checkpoint belonged to other arguments or inputs and was started afresh.
    pub checkpoint_discarded: bool,
    pub seconds: f64,
}

impl Summary {
    /// N1 / N (0 for an empty corpus).
    pub fn singleton_rate(&self) -> f64 {
        if self.samples == 0 {
            0.0
        } else {
            self.n1 as f64 / self.samples as f64
        }
    }
}

/// Exact counts of a corpus: summary, histogram and the keys themselves.
pub struct NgramCounts {
    pub summary: Summary,
    pub histogram: Histogram,
    pub(crate) table: Box<dyn export::KeyTable>,
}

impl std::fmt::Debug for NgramCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NgramCounts")
            .field("summary", &self.summary)
            .finish()
    }
}

impl NgramCounts {
    /// Keys in the canonical order (count descending, then tokens ascending), filtered.
    pub fn keys(&self, filter: &export::KeyFilter) -> Result<export::ExportedKeys> {
        self.table.export(filter)
    }

    /// Every key with its count in no defined order (internal ids, with their vocabulary),
    /// consuming the counts: the cheap hand-over to the language-model estimator.
    pub fn into_unordered_keys(self) -> Result<export::ExportedKeys> {
        self.table.into_unordered()
    }
}

#[inline(always)]
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Fixed-seed hash of an n-gram from its tokens' text hashes.
#[inline(always)]
pub fn ngram_hash(token_hashes: &[u64]) -> u64 {
    let mut h = 0x243f_6a88_85a3_08d3u64;
    for &x in token_hashes {
        h = (h ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29);
    }
    fmix64(h)
}

/// The hash partition (0..256) of an n-gram given as its tokens joined by single spaces, from
/// the tokens' text hashes only: the same for every run, vocabulary and thread count, so saved
/// counts of different corpora line up partition by partition.
pub fn text_partition(ngram: &[u8]) -> usize {
    let mut hashes = [0u64; 8];
    let mut len = 0;
    let mut extra = Vec::new();
    for tok in ngram.split(|&b| b == b' ') {
        let h = vocab::token_hash(tok);
        if len < 8 {
            hashes[len] = h;
            len += 1;
        } else {
            extra.push(h);
        }
    }
    let h = if extra.is_empty() {
        ngram_hash(&hashes[..len])
    } else {
        let mut all = hashes.to_vec();
        all.extend(extra);
        ngram_hash(&all)
    };
    (h >> 56) as usize
}

/// The value compared with the sampling threshold: the n-gram hash itself, or with a seed a
/// re-hash of it, so every seed keeps an independent-looking subset of the keys.
#[inline(always)]
pub fn sample_hash(h: u64, seed: Option<u64>) -> u64 {
    match seed {
        None => h,
        Some(s) => fmix64(h ^ fmix64(s ^ 0x5851_f42d_4c95_7f2d)),
    }
}

/// Creates the spill directory on first use; shared by the workers of one run.
struct Spiller {
    base: Option<PathBuf>,
    dir: Mutex<Option<Arc<SpillDir>>>,
}

impl Spiller {
    fn new(base: Option<PathBuf>) -> Self {
        Spiller {
            base,
            dir: Mutex::new(None),
        }
    }
    fn dir(&self) -> Result<Arc<SpillDir>> {
        let mut g = self.dir.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(d) = g.as_ref() {
            return Ok(d.clone());
        }
        let d = Arc::new(SpillDir::create(self.base.as_deref())?);
        *g = Some(d.clone());
        Ok(d)
    }
    fn existing(&self) -> Option<Arc<SpillDir>> {
        self.dir.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Tokens per prefetch batch when interning.
const INTERN_BATCH: usize = 32;

/// A token of the current document waiting to be interned: its bytes are `text[start..start +
/// len]`.
#[derive(Clone, Copy)]
struct Pending {
    start: usize,
    len: usize,
    head: Head,
    hash: u64,
}

#[inline(always)]
fn intern_batch(
    batch: &mut Vec<Pending>,
    text: &[u8],
    vocab: &mut LocalVocab,
    toks: &mut Vec<u32>,
) {
    for p in batch.iter() {
        let t = &text[p.start..p.start + p.len];
        toks.push(vocab.intern_prehashed(t, p.head, p.hash));
    }
    batch.clear();
}

struct Worker<'a, K: NKey> {
    opts: &'a CountOptions,
    global: &'a Mutex<GlobalVocab>,
    progress: &'a Progress,
    spiller: &'a Spiller,
    ckpt: Option<&'a checkpoint::Checkpoint>,
    shard_files: Vec<SpillFile>,
    at_shard_start: (u64, u64, u64),
    id_limit: u64,
    sample_below: Option<u64>,
    vocab: LocalVocab,
    toks: Vec<u32>,
    batch: Vec<Pending>,
    /// The current document's tokens (start, length) and their heads and hashes.
    spans: Vec<(usize, usize)>,
    hashed: Vec<(Head, u64)>,
    doc_ends: Vec<usize>,
    seq: Vec<u32>,
    seqh: Vec<u64>,
    scratch: Vec<u8>,
    parts: Vec<Vec<K>>,
    /// A cache line of keys per partition on their way to `parts` (empty between blocks).
    stage: Vec<K>,
    fill: [u8; PARTITIONS],
    runs: Vec<Run<K>>,
    raw_len: usize,
    flush_keys: usize,
    run_budget: usize,
    /// Distinct keys per raw occurrence at the last fold.
    fold_ratio: f64,
    spills: Vec<SpillFile>,
    spill_bytes: u64,
    tokens: u64,
    samples: u64,
    total_samples: u64,
}

impl<'a, K: NKey> Worker<'a, K> {
    /// Keys per cache line.
    const LINE: usize = if K::BYTES >= 64 { 1 } else { 64 / K::BYTES };

    fn new(
        opts: &'a CountOptions,
        global: &'a Mutex<GlobalVocab>,
        progress: &'a Progress,
        spiller: &'a Spiller,
        ckpt: Option<&'a checkpoint::Checkpoint>,
        threads: usize,
        expect_keys: u64,
    ) -> Self {
        let share = (opts.memory_bytes / threads as u64).max(MIN_SHARE) as usize;
        // The share holds the raw buffers plus the sorted runs. Folding a full raw buffer makes
        // up to one (key, count) per occurrence, so raw occurrences get 1/(2 + 8/K) of the share
        // and the runs the rest: a fold never needs more than the share.
        let flush_keys = opts
            .spill_every
            .unwrap_or((share / (2 * K::BYTES + 8)).max(1 << 12));
        // A tight budget reserves each partition buffer at its expected fill once, so doubling
        // growth never overshoots the budget (a large budget lets buffers grow on demand).
        let reserve = if share <= 1 << 30 {
            (flush_keys + BLOCK_TOKENS) / PARTITIONS * 9 / 8 + 64
        } else {
            0
        };
        // With a large budget, buffers are reserved at the share of the corpus this worker is
        // expected to see (a token per 4 bytes of input, generously): a reservation only
        // takes address space until written, and doubling growth would copy every buffer
        // about once.
        let expected = (expect_keys.min(flush_keys as u64) as usize) / PARTITIONS;
        let initial = if reserve > 0 {
            reserve
        } else {
            expected + expected / 4
        };
        Worker {
            opts,
            global,
            progress,
            spiller,
            ckpt,
            shard_files: Vec::new(),
            at_shard_start: (0, 0, 0),
            id_limit: K::id_limit(opts.n),
            sample_below: opts
                .sample
                .map(|r| (r * 2f64.powi(64)).min(u64::MAX as f64) as u64),
            vocab: LocalVocab::new(),
            toks: Vec::with_capacity(BLOCK_TOKENS + 1024),
            batch: Vec::with_capacity(INTERN_BATCH),
            spans: Vec::new(),
            hashed: Vec::new(),
            doc_ends: Vec::new(),
            seq: Vec::new(),
            seqh: Vec::new(),
            scratch: Vec::new(),
            parts: (0..PARTITIONS)
                .map(|_| Vec::with_capacity(initial))
                .collect(),
            stage: vec![K::default(); PARTITIONS * Self::LINE],
            fill: [0; PARTITIONS],
            runs: (0..PARTITIONS).map(|_| Run::new()).collect(),
            raw_len: 0,
            // Raw occurrences take half the share; sorted runs the rest.
            flush_keys,
            fold_ratio: 1.0,
            run_budget: if opts.spill_every.is_some() {
                0
            } else {
                let raw = (reserve * PARTITIONS).max(flush_keys) * K::BYTES;
                share.saturating_sub(raw).max(share / 4)
            },
            spills: Vec::new(),
            spill_bytes: 0,
            tokens: 0,
            samples: 0,
            total_samples: 0,
        }
    }

    #[inline]
    fn add_document(&mut self, text: &str) -> Result<()> {
        // Tokens are hashed and their intern slots prefetched ahead of the lookups, so the
        // cache misses of rare words overlap instead of stalling one after another.
        let base = text.as_ptr() as usize;
        let bytes = text.as_bytes();
        let vocab = &mut self.vocab;
        let toks = &mut self.toks;
        if self.opts.tokenizer == Tokenizer::Whitespace {
            // Tokens always borrow the text here, so the document goes in three tight loops:
            // find the tokens, hash them and prefetch their slots, intern them.
            let spans = &mut self.spans;
            spans.clear();
            self.opts.tokenizer.tokenize(text, &mut self.scratch, |t| {
                spans.push((t.as_ptr() as usize - base, t.len()));
            });
            let hashed = &mut self.hashed;
            hashed.clear();
            // `extend` over exact-size iterators: no capacity check per token.
            hashed.extend(spans.iter().map(|&(start, len)| {
                let head = Head::within(bytes, start, len);
                let hash = token_hash_with(&bytes[start..start + len], head);
                vocab.prefetch(hash);
                (head, hash)
            }));
            toks.extend(
                spans
                    .iter()
                    .zip(hashed.iter())
                    .map(|(&(start, len), &(head, hash))| {
                        vocab.intern_prehashed(&bytes[start..start + len], head, hash)
                    }),
            );
        } else {
            self.add_tokens(text);
        }
        self.doc_ends.push(self.toks.len());
        if self.toks.len() >= BLOCK_TOKENS {
            self.flush_block()?;
        }
        Ok(())
    }

    /// Tokenize and intern a document with any tokenizer (tokens may be rewritten into
    /// scratch space), prefetching a batch of tokens ahead.
    fn add_tokens(&mut self, text: &str) {
        let base = text.as_ptr() as usize;
        let end = base + text.len();
        let bytes = text.as_bytes();
        let vocab = &mut self.vocab;
        let toks = &mut self.toks;
        let batch = &mut self.batch;
        batch.clear();
        self.opts.tokenizer.tokenize(text, &mut self.scratch, |t| {
            let at = t.as_ptr() as usize;
            if at >= base && at + t.len() <= end {
                let start = at - base;
                let head = Head::within(bytes, start, t.len());
                let hash = token_hash_with(t, head);
                vocab.prefetch(hash);
                batch.push(Pending {
                    start,
                    len: t.len(),
                    head,
                    hash,
                });
                if batch.len() == INTERN_BATCH {
                    intern_batch(batch, bytes, vocab, toks);
                }
            } else {
                // A rewritten token (lowercased) lives in scratch space that the next token
                // reuses: intern it now, after the tokens before it.
                intern_batch(batch, bytes, vocab, toks);
                let (head, hash) = hash_token(t);
                toks.push(vocab.intern_prehashed(t, head, hash));
            }
        });
        intern_batch(batch, bytes, vocab, toks);
    }

    fn flush_block(&mut self) -> Result<()> {
        if self.doc_ends.is_empty() {
            return Ok(());
        }
        let max_id = self.vocab.resolve(self.global);
        if max_id as u64 >= self.id_limit {
            return Err(CoreError::Widen);
        }
        if self.sample_below.is_none() {
            self.pack_all();
        } else {
            self.pack_sampled();
        }
        self.tokens += self.toks.len() as u64;
        self.progress.add(0, 0, self.toks.len() as u64);
        self.toks.clear();
        self.doc_ends.clear();
        if self.raw_len >= self.flush_keys {
            // Spill before folding when the fold would outgrow the budget (estimated from the
            // share of distinct keys at the last fold), so old runs, fresh runs and their merge
            // never sit in memory together.
            let held: usize = self.runs.iter().map(Run::heap_bytes).sum();
            let expect = (self.raw_len as f64 * self.fold_ratio) as usize * (K::BYTES + 8);
            if held > 0 && held + expect > self.run_budget {
                self.spill()?;
            }
            self.aggregate();
            let held: usize = self.runs.iter().map(Run::heap_bytes).sum();
            if held > self.run_budget {
                self.spill()?;
            }
        }
        self.progress.check()
    }

    /// Pack every window of the block's documents into its partition. One rolling key per
    /// document: each token shifts its global id in, so a window costs a shift and a push.
    fn pack_all(&mut self) {
        let n = self.opts.n;
        let pad = self.opts.pad;
        let global = &self.vocab.global;
        let parts = &mut self.parts;
        // Keys are staged a cache line per partition before they go to the partition buffers:
        // the staging lines stay in L1, and the buffers receive whole lines instead of one
        // scattered 8-byte store per key into 256 streams.
        let line = Self::LINE;
        // Slices of known length, so that the indices below need no bounds checks.
        let parts = &mut parts[..PARTITIONS];
        let stage = &mut self.stage[..PARTITIONS * line];
        let fill = &mut self.fill;
        let mut put = |key: K| {
            let p = key.partition() & (PARTITIONS - 1);
            let f = fill[p] as usize & (line - 1);
            stage[p * line + f] = key;
            if f + 1 == line {
                parts[p].extend_from_slice(&stage[p * line..p * line + line]);
                fill[p] = 0;
            } else {
                fill[p] = (f + 1) as u8;
            }
        };
        let mut start = 0;
        let mut windows = 0usize;
        for &end in &self.doc_ends {
            let doc = &self.toks[start..end];
            start = end;
            let len = doc.len() + if pad { n } else { 0 };
            if len < n {
                continue;
            }
            windows += len - n + 1;
            let mut key = K::default();
            let mut have = 0;
            if pad {
                for _ in 1..n {
                    key = key.shift_in(BOS_ID, n);
                }
                have = n - 1;
            }
            for &local in doc {
                key = key.shift_in(global[local as usize], n);
                have += 1;
                if have >= n {
                    put(key);
                }
            }
            if pad {
                key = key.shift_in(EOS_ID, n);
                put(key);
            }
        }
        for (p, f) in fill.iter_mut().enumerate() {
            if *f > 0 {
                parts[p].extend_from_slice(&stage[p * line..p * line + *f as usize]);
                *f = 0;
            }
        }
        self.total_samples += windows as u64;
        self.samples += windows as u64;
        self.raw_len += windows;
    }

    /// [`Worker::pack_all`] under hash sampling: keeps the windows whose n-gram text hash falls
    /// below the threshold.
    fn pack_sampled(&mut self) {
        let n = self.opts.n;
        let pad = self.opts.pad;
        let Some(below) = self.sample_below else {
            return;
        };
        let mut start = 0;
        for &end in &self.doc_ends {
            let doc = &self.toks[start..end];
            start = end;
            self.seq.clear();
            if pad {
                self.seq.extend(std::iter::repeat_n(BOS_ID, n - 1));
            }
            self.seq
                .extend(doc.iter().map(|&local| self.vocab.global[local as usize]));
            if pad {
                self.seq.push(EOS_ID);
            }
            if self.seq.len() < n {
                continue;
            }
            let windows = self.seq.len() - n + 1;
            self.total_samples += windows as u64;
            // Sampling decides by a hash of the n-gram's text, so the same n-grams are kept
            // whatever ids the tokens got.
            self.seqh.clear();
            if pad {
                self.seqh
                    .extend(std::iter::repeat_n(self.vocab.hash(BOS_ID), n - 1));
            }
            self.seqh
                .extend(doc.iter().map(|&local| self.vocab.hash(local)));
            if pad {
                self.seqh.push(self.vocab.hash(EOS_ID));
            }
            for i in 0..windows {
                let h = ngram_hash(&self.seqh[i..i + n]);
                if sample_hash(h, self.opts.sample_seed) >= below {
                    continue;
                }
                let key = K::pack(&self.seq[i..i + n]);
                self.parts[(h as usize) & (PARTITIONS - 1)].push(key);
                self.samples += 1;
                self.raw_len += 1;
            }
        }
    }

    /// End of shard `i`: with a checkpoint, persist the shard's runs and mark it finished.
    fn end_shard(&mut self, i: usize, stats: &crate::source::ReadStats) -> Result<()> {
        self.flush_block()?;
        let Some(ck) = self.ckpt else {
            return Ok(());
        };
        if self.raw_len > 0 {
            self.aggregate();
        }
        if self.runs.iter().any(|r| !r.is_empty()) {
            let file = spill::write_runs_at(ck.run_path(Some(i)), &self.runs, |w, e| {
                CoreError::Resource(format!(
                    "checkpoint directory {}: cannot {w}: {e}",
                    ck.dir().display()
                ))
            })?;
            self.shard_files.push(file);
            for run in &mut self.runs {
                *run = Run::new();
            }
        }
        let vocab_entries = ck.log_vocab(self.global)?;
        let (t0, s0, ts0) = self.at_shard_start;
        let done = checkpoint::ShardDone {
            files: self
                .shard_files
                .iter()
                .map(|f| {
                    let name = f
                        .path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    (name, f.offsets.clone())
                })
                .collect(),
            documents: stats.documents,
            bytes: stats.bytes,
            invalid_bytes: stats.invalid_bytes,
            skipped_documents: stats.skipped_documents,
            tokens: self.tokens - t0,
            samples: self.samples - s0,
            total_samples: self.total_samples - ts0,
            vocab_entries,
        };
        ck.finish_shard(i, &done)?;
        self.at_shard_start = (self.tokens, self.samples, self.total_samples);
        for mut f in self.shard_files.drain(..) {
            f.keep = true;
            self.spills.push(f);
        }
        Ok(())
    }

    /// Write the sorted runs to the spill directory and free them.
    fn spill(&mut self) -> Result<()> {
        if self.runs.iter().all(Run::is_empty) {
            return Ok(());
        }
        if let Some(ck) = self.ckpt {
            // Part of the current shard: lives in the checkpoint with the shard's marker.
            let file = spill::write_runs_at(ck.run_path(None), &self.runs, |w, e| {
                CoreError::Resource(format!(
                    "checkpoint directory {}: cannot {w}: {e}",
                    ck.dir().display()
                ))
            })?;
            self.spill_bytes += file.offsets.last().copied().unwrap_or(0);
            self.shard_files.push(file);
        } else {
            let dir = self.spiller.dir()?;
            let file = spill::write_runs(&dir, &self.runs)?;
            self.spill_bytes += file.offsets.last().copied().unwrap_or(0);
            self.spills.push(file);
        }
        for run in &mut self.runs {
            *run = Run::new();
        }
        // The runs just freed sit between live allocations; under a budget their pages would
        // otherwise stay resident on top of the next runs.
        crate::memory::release_free_memory();
        Ok(())
    }

    /// Fold the raw buffers into the sorted runs.
    fn aggregate(&mut self) {
        let mut distinct = 0usize;
        for (raw, run) in self.parts.iter_mut().zip(self.runs.iter_mut()) {
            if raw.is_empty() {
                continue;
            }
            let fresh = Run::from_occurrences(raw);
            distinct += fresh.len();
            *run = Run::merge(std::mem::take(run), fresh);
        }
        if self.raw_len > 0 {
            self.fold_ratio = (distinct as f64 / self.raw_len as f64).clamp(0.01, 1.0);
        }
        self.raw_len = 0;
    }
}

/// What one worker hands to the reduce phase.
struct WorkerOut<K> {
    parts: Vec<Vec<K>>,
    runs: Vec<Run<K>>,
    spills: Vec<SpillFile>,
    spill_bytes: u64,
    tokens: u64,
    samples: u64,
    total_samples: u64,
}

/// The finished, merged partitions (keys within a partition in no particular order).
pub(crate) struct Partitioned<K> {
    pub n: usize,
    pub partitions: Vec<Run<K>>,
    pub vocab: Strings,
}

/// Merged partitions that stayed on disk (the run spilled): one run file per partition in a
/// spill directory that lives as long as the counts.
pub(crate) struct DiskPartitioned<K> {
    pub n: usize,
    pub sections: Vec<Section>,
    pub vocab: Strings,
    pub _dir: Arc<SpillDir>,
    pub _k: std::marker::PhantomData<K>,
}

fn count_with<K: NKey>(
    corpus: &Corpus,
    src: &SourceOptions,
    opts: &CountOptions,
    progress: &Progress,
    pool: &rayon::ThreadPool,
    threads: usize,
) -> Result<NgramCounts> {
    let started = Instant::now();
    let mut src = src.clone();
    let ckpt = match &opts.checkpoint_dir {
        None => {
            if src.shard_bytes == 0 {
                src.shard_bytes = scan::auto_shard_bytes(corpus, threads);
            }
            None
        }
        Some(dir) => {
            if src.shard_bytes == 0 {
                // Shards must not depend on the thread count, or a resumed run would not
                // recognise them.
                src.shard_bytes = scan::auto_shard_bytes(corpus, 1);
            }
            Some(open_checkpoint::<K>(dir, corpus, &src, opts)?)
        }
    };
    let shards = crate::source::plan_shards(corpus, &src)?;
    // Windows each worker is expected to see, from the input size (compressed files are
    // under-estimated, and their buffers simply grow).
    let expect_keys = crate::source::total_bytes(corpus) / 4 / threads as u64;
    let mut vocab0 = GlobalVocab::default();
    if let Some(ck) = &ckpt {
        ck.preload(&mut vocab0)?;
    }
    let global = Mutex::new(vocab0);
    let spiller = Spiller::new(opts.spill_dir.clone());
    let scanned = scan::scan_shards(
        corpus,
        &shards,
        &src,
        threads,
        pool,
        progress,
        || {
            Worker::<K>::new(
                opts,
                &global,
                progress,
                &spiller,
                ckpt.as_ref(),
                threads,
                expect_keys,
            )
        },
        |w, doc, _key| w.add_document(doc),
        |w, i, stats| w.end_shard(i, stats),
        |i| ckpt.as_ref().is_some_and(|c| c.done.contains_key(&i)),
    )?;
    let stats = scanned.stats;
    let shards = scanned.shards;
    let mut workers: Vec<WorkerOut<K>> = scanned
        .states
        .into_iter()
        .map(|w| WorkerOut {
            parts: w.parts,
            runs: w.runs,
            spills: w.spills,
            spill_bytes: w.spill_bytes,
            tokens: w.tokens,
            samples: w.samples,
            total_samples: w.total_samples,
        })
        .collect();
    progress.set_phase(1);

    let mut summary = Summary {
        n: opts.n,
        threads,
        sample_rate: opts.sample,
        sample_seed: opts.sample_seed,
        shards,
        ..Summary::default()
    };
    for w in &workers {
        summary.tokens += w.tokens;
        summary.samples += w.samples;
        summary.total_samples += w.total_samples;
        summary.spills += w.spills.len() as u64;
        summary.spill_bytes += w.spill_bytes;
    }
    summary.documents = stats.documents;
    summary.bytes = stats.bytes;
    summary.invalid_bytes = stats.invalid_bytes;
    summary.skipped_documents = stats.skipped_documents;
    if let Some(ck) = &ckpt {
        summary.checkpoint_discarded = ck.discarded;
        let mut resumed = WorkerOut {
            parts: Vec::new(),
            runs: Vec::new(),
            spills: Vec::new(),
            spill_bytes: 0,
            tokens: 0,
            samples: 0,
            total_samples: 0,
        };
        let mut done: Vec<_> = ck.done.iter().collect();
        done.sort_by_key(|(i, _)| **i);
        for (_, d) in done {
            summary.resumed_shards += 1;
            summary.documents += d.documents;
            summary.bytes += d.bytes;
            summary.invalid_bytes += d.invalid_bytes;
            summary.skipped_documents += d.skipped_documents;
            summary.tokens += d.tokens;
            summary.samples += d.samples;
            summary.total_samples += d.total_samples;
            resumed.spills.extend(ck.files_of(d));
        }
        workers.push(resumed);
    }

    // The in-memory reduce holds every worker's runs and their merge at once: when that would
    // exceed the budget, reduce through the spill directory instead.
    let held: u64 = workers
        .iter()
        .map(|w| {
            let runs: usize = w.runs.iter().map(Run::heap_bytes).sum();
            let raw: usize = w.parts.iter().map(|p| p.len() * (K::BYTES + 8)).sum();
            (runs + raw) as u64
        })
        .sum();
    let too_big = held > opts.memory_bytes / 2;
    let on_disk = match (&ckpt, spiller.existing()) {
        (_, Some(dir)) => Some(dir),
        (Some(_), None) => Some(spiller.dir()?),
        (None, None) if too_big => Some(spiller.dir()?),
        (None, None) => None,
    };
    let (table, histogram): (Box<dyn export::KeyTable>, Histogram) = match on_disk {
        Some(dir) => {
            let (sections, histogram) =
                reduce_on_disk(workers, &dir, &mut summary, progress, pool)?;
            let vocab = take_vocab(global);
            summary.vocabulary = (vocab.len() as u64).saturating_sub(2);
            let table = DiskPartitioned::<K> {
                n: opts.n,
                sections,
                vocab,
                _dir: dir,
                _k: std::marker::PhantomData,
            };
            (Box::new(table), histogram)
        }
        None => {
            let (partitions, histogram) = reduce_in_memory(workers, progress, pool)?;
            let vocab = take_vocab(global);
            summary.vocabulary = (vocab.len() as u64).saturating_sub(2);
            let table = Partitioned {
                n: opts.n,
                partitions,
                vocab,
            };
            (Box::new(table), histogram)
        }
    };
    // The reduce freed the workers' raw buffers and runs; without this their pages stay
    // resident until the process ends.
    crate::memory::release_free_memory();
    progress.set_phase(2);
    summary.distinct = histogram.distinct();
    summary.n1 = histogram.n(1);
    summary.n2 = histogram.n(2);
    summary.max_count = histogram.max_count();
    debug_assert_eq!(histogram.samples(), summary.samples);
    summary.seconds = started.elapsed().as_secs_f64();
    progress.set_phase(3);
    Ok(NgramCounts {
        summary,
        histogram,
        table,
    })
}

/// The checkpoint of this run: fingerprint of options, key width, inputs and shard plan.
fn open_checkpoint<K: NKey>(
    dir: &std::path::Path,
    corpus: &Corpus,
    src: &SourceOptions,
    opts: &CountOptions,
) -> Result<checkpoint::Checkpoint> {
    let Corpus::Files(files) = corpus else {
        return Err(CoreError::config(
            "checkpoint_dir needs input files (Arrow data cannot be checked for changes)",
        ));
    };
    let shards = crate::source::plan_shards(corpus, src)?;
    let plan = format!("{shards:?}");
    let fp = checkpoint::Fingerprint {
        version: checkpoint::VERSION,
        options: format!(
            "n={} pad={} tokenizer={:?} sample={:?} seed={:?} src={:?}",
            opts.n, opts.pad, opts.tokenizer, opts.sample, opts.sample_seed, src
        ),
        key_bytes: K::BYTES,
        inputs: files
            .iter()
            .map(|f| {
                (
                    f.path.to_string_lossy().into_owned(),
                    f.size,
                    f.mtime_ns.to_string(),
                )
            })
            .collect(),
        plan: format!("{:016x}", vocab::token_hash(plan.as_bytes())),
    };
    checkpoint::Checkpoint::open(dir, &fp)
}

fn take_vocab(global: Mutex<GlobalVocab>) -> Strings {
    match global.into_inner() {
        Ok(g) => g.interner.strings,
        Err(p) => p.into_inner().interner.strings,
    }
}

/// Spill what the workers still hold, then k-way merge each partition's runs from disk into one
/// run file per partition, one partition per thread at a time.
fn reduce_on_disk<K: NKey>(
    workers: Vec<WorkerOut<K>>,
    dir: &SpillDir,
    summary: &mut Summary,
    progress: &Progress,
    pool: &rayon::ThreadPool,
) -> Result<(Vec<Section>, Histogram)> {
    let mut files: Vec<SpillFile> = Vec::new();
    for w in workers {
        files.extend(w.spills);
        let mut runs = w.runs;
        for (raw, run) in w.parts.into_iter().zip(runs.iter_mut()) {
            let mut raw = raw;
            if !raw.is_empty() {
                let fresh = Run::from_occurrences(&mut raw);
                *run = Run::merge(std::mem::take(run), fresh);
            }
        }
        if runs.iter().any(|r| !r.is_empty()) {
            let f = spill::write_runs(dir, &runs)?;
            drop(runs);
            summary.spills += 1;
            summary.spill_bytes += f.offsets.last().copied().unwrap_or(0);
            files.push(f);
        }
    }
    let reduced: Vec<Result<(Section, Histogram)>> = pool.install(|| {
        use rayon::prelude::*;
        (0..PARTITIONS)
            .into_par_iter()
            .map(|p| {
                progress.check()?;
                let sections: Vec<Section> = files.iter().map(|f| f.section(p)).collect();
                let mut out = SectionWriter::create(dir, "part")?;
                let mut h = Histogram::new();
                spill::merge_sections::<K>(&sections, |k, c| {
                    h.add(c, 1);
                    out.push(k, c)
                })?;
                Ok((out.finish()?, h))
            })
            .collect()
    });
    let mut histogram = Histogram::new();
    let mut sections = Vec::with_capacity(PARTITIONS);
    for r in reduced {
        let (s, h) = r?;
        histogram.merge(&h);
        sections.push(s);
    }
    // The per-worker spill files are merged into the partition files: free the disk.
    for f in files.iter().filter(|f| !f.keep) {
        let _ = std::fs::remove_file(&f.path);
    }
    Ok((sections, histogram))
}

fn reduce_in_memory<K: NKey>(
    workers: Vec<WorkerOut<K>>,
    progress: &Progress,
    pool: &rayon::ThreadPool,
) -> Result<(Vec<Run<K>>, Histogram)> {
    // Transpose worker -> partition, then reduce each partition on its own.
    let mut per_part: Vec<Vec<(Vec<K>, Run<K>)>> = (0..PARTITIONS).map(|_| Vec::new()).collect();
    for w in workers {
        for (p, (raw, run)) in w.parts.into_iter().zip(w.runs).enumerate() {
            per_part[p].push((raw, run));
        }
    }
    let reduced: Vec<Result<(Run<K>, Histogram)>> = pool.install(|| {
        use rayon::prelude::*;
        // Nothing downstream of an in-memory reduce needs key order (export sorts by count and
        // text, the estimator by text), so a partition is counted in a hash table rather than
        // sorted; the table is reused across the partitions a thread takes.
        per_part
            .into_par_iter()
            .map_init(Tally::<K>::new, |tally, pieces| {
                progress.check()?;
                let bound: usize = pieces.iter().map(|(raw, run)| raw.len() + run.len()).sum();
                tally.start(bound);
                // The raw buffers' pages are resident already: the two largest take the keys
                // and (for u64 keys) the counts.
                let mut spare: Vec<Vec<K>> = Vec::new();
                for (raw, run) in pieces {
                    for (&k, &c) in run.keys.iter().zip(&run.counts) {
                        tally.add(k, c);
                    }
                    drop(run);
                    tally.add_each(&raw);
                    spare.push(raw);
                    spare.sort_unstable_by_key(|b| std::cmp::Reverse(b.capacity()));
                    spare.truncate(2);
                }
                let mut spare = spare.into_iter();
                let keys = spare.next().unwrap_or_default();
                let counts = spare
                    .next()
                    .and_then(K::reuse_as_counts)
                    .unwrap_or_default();
                let mut h = Histogram::new();
                let merged = tally.drain_into(keys, counts, &mut h);
                Ok((merged, h))
            })
            .collect()
    });
    let mut histogram = Histogram::new();
    let mut partitions = Vec::with_capacity(PARTITIONS);
    for r in reduced {
        let (run, h) = r?;
        histogram.merge(&h);
        partitions.push(run);
    }
    Ok((partitions, histogram))
}

/// Count the n-grams of a corpus exactly.
pub fn count_ngrams(
    corpus: &Corpus,
    src: &SourceOptions,
    opts: &CountOptions,
    progress: &Progress,
) -> Result<NgramCounts> {
    if !(1..=8).contains(&opts.n) {
        return Err(CoreError::config(format!(
            "n must be between 1 and 8, not {}",
            opts.n
        )));
    }
    if let Some(rate) = opts.sample {
        if !(rate > 0.0 && rate <= 1.0) {
            return Err(CoreError::config(format!(
                "sample must be in (0, 1], not {rate}"
            )));
        }
    }
    let (pool, threads) = scan::pool(opts.threads)?;
    if opts.memory_bytes / (threads as u64) < MIN_SHARE {
        return Err(CoreError::Resource(format!(
            "memory budget of {} bytes is too small to make progress with {threads} thread(s): \
             give at least {} bytes ({} KiB per thread)",
            opts.memory_bytes,
            MIN_SHARE * threads as u64,
            MIN_SHARE >> 10
        )));
    }
    match opts.n {
        1..=2 => count_with::<u64>(corpus, src, opts, progress, &pool, threads),
        // A checkpoint made with wide keys is resumed with wide keys.
        3 if opts
            .checkpoint_dir
            .as_deref()
            .and_then(checkpoint::stored_key_bytes)
            == Some(16) =>
        {
            count_with::<u128>(corpus, src, opts, progress, &pool, threads)
        }
        3 => match count_with::<u64>(corpus, src, opts, progress, &pool, threads) {
            Err(CoreError::Widen) => {
                // The narrow attempt's checkpoint is of no use to the wide one: drop its
                // manifest so the wide run starts it afresh without calling it discarded.
                if let Some(dir) = &opts.checkpoint_dir {
                    let _ = std::fs::remove_file(dir.join("manifest.json"));
                }
                count_with::<u128>(corpus, src, opts, progress, &pool, threads)
            }
            other => other,
        },
        4 => count_with::<u128>(corpus, src, opts, progress, &pool, threads),
        _ => count_with::<Wide>(corpus, src, opts, progress, &pool, threads),
    }
}
