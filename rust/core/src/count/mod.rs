//! Exact n-gram counting.
//!
//! Map -> partition -> reduce, with no lock in the hot loop:
//! 1. Each worker takes shards off a shared queue, tokenizes documents and interns tokens into
//!    its own vocabulary, in blocks of about 256k tokens.
//! 2. Per block it fetches global ids for its new words (one lock), packs every n-gram into one
//!    integer key ([`key::NKey`]) and appends it to one of 256 partition buffers, chosen by a
//!    fixed-seed hash of the n-gram's text (so partitions do not depend on id assignment).
//! 3. When a worker's raw buffers reach their share of the memory budget it sorts each partition
//!    and folds it into a sorted run of (key, count).
//! 4. At the end each partition's runs from all workers are merged (in parallel across
//!    partitions). Partitions hold disjoint keys, so their count-of-counts add up exactly.
//!
//! Sorting small partitions is cache-friendly and yields the count-of-counts and sorted runs
//! for free, which is why this beats a hash map per thread. Every exported order is by count and
//! token text, so results are identical for any thread count or shard split.

pub mod export;
pub mod key;
pub mod run;
pub mod vocab;

use std::sync::Mutex;
use std::time::Instant;

use key::{NKey, Wide};
use run::Run;
use vocab::{GlobalVocab, LocalVocab, Strings, BOS_ID, EOS_ID};

use crate::error::{CoreError, Result};
use crate::progress::Progress;
use crate::scan::{self, scan_corpus};
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
    /// Memory budget for the counting tables, in bytes.
    pub memory_bytes: u64,
    /// Keep only keys whose hash falls below `rate * 2^64` (hash sampling).
    pub sample: Option<f64>,
}

impl Default for CountOptions {
    fn default() -> Self {
        CountOptions {
            n: 3,
            pad: false,
            tokenizer: Tokenizer::Words { lowercase: false },
            threads: 0,
            memory_bytes: default_memory(),
            sample: None,
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
    pub fn keys(&self, filter: &export::KeyFilter) -> export::ExportedKeys {
        self.table.export(filter)
    }

    /// Every key with its count in no defined order (internal ids, with their vocabulary),
    /// consuming the counts: the cheap hand-over to the language-model estimator.
    pub fn into_unordered_keys(self) -> export::ExportedKeys {
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

struct Worker<'a, K: NKey> {
    opts: &'a CountOptions,
    global: &'a Mutex<GlobalVocab>,
    progress: &'a Progress,
    id_limit: u64,
    sample_below: Option<u64>,
    vocab: LocalVocab,
    toks: Vec<u32>,
    doc_ends: Vec<usize>,
    seq: Vec<u32>,
    seqh: Vec<u64>,
    scratch: Vec<u8>,
    parts: Vec<Vec<K>>,
    runs: Vec<Run<K>>,
    raw_len: usize,
    flush_keys: usize,
    tokens: u64,
    samples: u64,
    total_samples: u64,
}

impl<'a, K: NKey> Worker<'a, K> {
    fn new(
        opts: &'a CountOptions,
        global: &'a Mutex<GlobalVocab>,
        progress: &'a Progress,
        threads: usize,
    ) -> Self {
        let share = (opts.memory_bytes / threads as u64).max(1 << 20) as usize;
        Worker {
            opts,
            global,
            progress,
            id_limit: K::id_limit(opts.n),
            sample_below: opts
                .sample
                .map(|r| (r * 2f64.powi(64)).min(u64::MAX as f64) as u64),
            vocab: LocalVocab::new(),
            toks: Vec::with_capacity(BLOCK_TOKENS + 1024),
            doc_ends: Vec::new(),
            seq: Vec::new(),
            seqh: Vec::new(),
            scratch: Vec::new(),
            parts: (0..PARTITIONS).map(|_| Vec::new()).collect(),
            runs: (0..PARTITIONS).map(|_| Run::new()).collect(),
            raw_len: 0,
            // Raw occurrences take half the share; sorted runs the rest.
            flush_keys: (share / 2 / K::BYTES).max(1 << 16),
            tokens: 0,
            samples: 0,
            total_samples: 0,
        }
    }

    #[inline]
    fn add_document(&mut self, text: &str) -> Result<()> {
        let vocab = &mut self.vocab;
        let toks = &mut self.toks;
        self.opts
            .tokenizer
            .tokenize(text, &mut self.scratch, |t| toks.push(vocab.intern(t)));
        self.doc_ends.push(self.toks.len());
        if self.toks.len() >= BLOCK_TOKENS {
            self.flush_block()?;
        }
        Ok(())
    }

    fn flush_block(&mut self) -> Result<()> {
        if self.doc_ends.is_empty() {
            return Ok(());
        }
        let max_id = self.vocab.resolve(self.global);
        if max_id as u64 >= self.id_limit {
            return Err(CoreError::Widen);
        }
        let n = self.opts.n;
        let pad = self.opts.pad;
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
            if let Some(below) = self.sample_below {
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
                    if h >= below {
                        continue;
                    }
                    let key = K::pack(&self.seq[i..i + n]);
                    self.parts[(h as usize) & (PARTITIONS - 1)].push(key);
                    self.samples += 1;
                    self.raw_len += 1;
                }
            } else {
                // Partitions only need to split keys evenly: a multiplicative hash of the packed
                // key does, at a fraction of the cost of hashing the text.
                for i in 0..windows {
                    let key = K::pack(&self.seq[i..i + n]);
                    self.parts[key.partition()].push(key);
                }
                self.samples += windows as u64;
                self.raw_len += windows;
            }
        }
        self.tokens += self.toks.len() as u64;
        self.progress.add(0, 0, self.toks.len() as u64);
        self.toks.clear();
        self.doc_ends.clear();
        if self.raw_len >= self.flush_keys {
            self.aggregate();
        }
        self.progress.check()
    }

    /// Fold the raw buffers into the sorted runs.
    fn aggregate(&mut self) {
        for (raw, run) in self.parts.iter_mut().zip(self.runs.iter_mut()) {
            if raw.is_empty() {
                continue;
            }
            let fresh = Run::from_occurrences(raw);
            *run = Run::merge(std::mem::take(run), fresh);
        }
        self.raw_len = 0;
    }
}

/// What one worker hands to the reduce phase.
struct WorkerOut<K> {
    parts: Vec<Vec<K>>,
    runs: Vec<Run<K>>,
    tokens: u64,
    samples: u64,
    total_samples: u64,
}

/// The finished, merged partitions.
pub(crate) struct Partitioned<K> {
    pub n: usize,
    pub partitions: Vec<Run<K>>,
    pub vocab: Strings,
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
    let global = Mutex::new(GlobalVocab::default());
    let scanned = scan_corpus(
        corpus,
        src,
        threads,
        pool,
        progress,
        || Worker::<K>::new(opts, &global, progress, threads),
        |w, doc, _key| w.add_document(doc),
        |w| w.flush_block(),
    )?;
    let stats = scanned.stats;
    let shards = scanned.shards;
    let workers: Vec<WorkerOut<K>> = scanned
        .states
        .into_iter()
        .map(|w| WorkerOut {
            parts: w.parts,
            runs: w.runs,
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
        shards,
        ..Summary::default()
    };
    for w in &workers {
        summary.tokens += w.tokens;
        summary.samples += w.samples;
        summary.total_samples += w.total_samples;
    }
    summary.documents = stats.documents;
    summary.bytes = stats.bytes;
    summary.invalid_bytes = stats.invalid_bytes;
    summary.skipped_documents = stats.skipped_documents;

    // Transpose worker -> partition, then reduce each partition on its own.
    let mut per_part: Vec<Vec<(Vec<K>, Run<K>)>> = (0..PARTITIONS).map(|_| Vec::new()).collect();
    for w in workers {
        for (p, (raw, run)) in w.parts.into_iter().zip(w.runs).enumerate() {
            per_part[p].push((raw, run));
        }
    }
    let reduced: Vec<Result<(Run<K>, Histogram)>> = pool.install(|| {
        use rayon::prelude::*;
        per_part
            .into_par_iter()
            .map(|pieces| {
                progress.check()?;
                let mut merged = Run::new();
                for (mut raw, run) in pieces {
                    merged = Run::merge(merged, run);
                    if !raw.is_empty() {
                        let fresh = Run::from_occurrences(&mut raw);
                        drop(raw);
                        merged = Run::merge(merged, fresh);
                    }
                }
                let mut h = Histogram::new();
                merged.histogram_into(&mut h);
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
    progress.set_phase(2);
    summary.distinct = histogram.distinct();
    summary.n1 = histogram.n(1);
    summary.n2 = histogram.n(2);
    summary.max_count = histogram.max_count();
    debug_assert_eq!(histogram.samples(), summary.samples);
    let vocab = match global.into_inner() {
        Ok(g) => g.interner.strings,
        Err(p) => p.into_inner().interner.strings,
    };
    summary.vocabulary = (vocab.len() as u64).saturating_sub(2);
    summary.seconds = started.elapsed().as_secs_f64();
    progress.set_phase(3);
    let table = Partitioned {
        n: opts.n,
        partitions,
        vocab,
    };
    Ok(NgramCounts {
        summary,
        histogram,
        table: Box::new(table),
    })
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
    match opts.n {
        1..=2 => count_with::<u64>(corpus, src, opts, progress, &pool, threads),
        3 => match count_with::<u64>(corpus, src, opts, progress, &pool, threads) {
            Err(CoreError::Widen) => {
                count_with::<u128>(corpus, src, opts, progress, &pool, threads)
            }
            other => other,
        },
        4 => count_with::<u128>(corpus, src, opts, progress, &pool, threads),
        _ => count_with::<Wide>(corpus, src, opts, progress, &pool, threads),
    }
}
