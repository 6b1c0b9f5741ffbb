//! The one driver that runs a per-document visitor over a corpus on worker threads.
//!
//! Workers take shards off a shared queue (an atomic index), so a slow shard never idles the
//! other cores; each worker owns its state, and the states come back for the reduce phase.
//! Documents get a key that grows in corpus order, `(shard << 40) | document_within_shard`, and
//! [`ScanOutput::ordinal`] turns such a key into the document's 0-based position in the corpus.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{CoreError, Result};
use crate::progress::Progress;
use crate::source::{
    plan_shards, read_shard, total_bytes, Corpus, ReadStats, Shard, SourceOptions,
};

pub const SHARD_SHIFT: u32 = 40;

pub struct ScanOutput<S> {
    pub states: Vec<S>,
    pub stats: ReadStats,
    pub shards: u64,
    /// Documents counted in each shard, by shard index.
    pub shard_documents: Vec<u64>,
}

impl<S> ScanOutput<S> {
    /// The 0-based corpus position of the document with key `key`.
    pub fn ordinal(&self, key: u64) -> u64 {
        let shard = (key >> SHARD_SHIFT) as usize;
        let within = key & ((1 << SHARD_SHIFT) - 1);
        self.shard_documents[..shard.min(self.shard_documents.len())]
            .iter()
            .sum::<u64>()
            + within
    }

    /// A closure mapping keys to ordinals in O(1) (prefix sums computed once).
    pub fn ordinals(&self) -> impl Fn(u64) -> u64 {
        let mut prefix = Vec::with_capacity(self.shard_documents.len() + 1);
        let mut acc = 0;
        for &d in &self.shard_documents {
            prefix.push(acc);
            acc += d;
        }
        move |key| {
            let shard = (key >> SHARD_SHIFT) as usize;
            prefix.get(shard).copied().unwrap_or(acc) + (key & ((1 << SHARD_SHIFT) - 1))
        }
    }
}

/// Shard size for `threads` workers: about 32 shards per worker (so the last shards leave little
/// imbalance), between 1 MB and 64 MB.
pub fn auto_shard_bytes(corpus: &Corpus, threads: usize) -> u64 {
    let total = total_bytes(corpus);
    (total / (threads.max(1) as u64 * 32)).clamp(1 << 20, 64 << 20)
}

/// Run `visit(state, text, doc_key)` over every document; `end_shard` after each shard.
#[allow(clippy::too_many_arguments)]
pub fn scan_corpus<S: Send>(
    corpus: &Corpus,
    src: &SourceOptions,
    threads: usize,
    pool: &rayon::ThreadPool,
    progress: &Progress,
    make: impl Fn() -> S + Sync,
    visit: impl Fn(&mut S, &str, u64) -> Result<()> + Sync,
    end_shard: impl Fn(&mut S) -> Result<()> + Sync,
) -> Result<ScanOutput<S>> {
    let mut src = src.clone();
    if src.shard_bytes == 0 {
        src.shard_bytes = auto_shard_bytes(corpus, threads);
    }
    let shards = plan_shards(corpus, &src)?;
    scan_shards(
        corpus,
        &shards,
        &src,
        threads,
        pool,
        progress,
        make,
        visit,
        |s, _i, _stats| end_shard(s),
        |_| false,
    )
}

/// [`scan_corpus`] over planned `shards` (`src.shard_bytes` already resolved), skipping the
/// shards for which `skip(index)` holds; `end_shard(state, index, stats of the shard)`.
#[allow(clippy::too_many_arguments)]
pub fn scan_shards<S: Send>(
    corpus: &Corpus,
    shards: &[Shard],
    src: &SourceOptions,
    threads: usize,
    pool: &rayon::ThreadPool,
    progress: &Progress,
    make: impl Fn() -> S + Sync,
    visit: impl Fn(&mut S, &str, u64) -> Result<()> + Sync,
    end_shard: impl Fn(&mut S, usize, &ReadStats) -> Result<()> + Sync,
    skip: impl Fn(usize) -> bool + Sync,
) -> Result<ScanOutput<S>> {
    if shards.len() as u64 >= 1 << (64 - SHARD_SHIFT) {
        return Err(CoreError::config("too many shards; raise shard_bytes"));
    }
    let next = AtomicUsize::new(0);
    progress.reset_counts();
    progress.set_phase(0);
    progress
        .bytes_total
        .store(total_bytes(corpus), Ordering::Relaxed);

    type WorkerResult<S> = Result<(S, ReadStats, Vec<(usize, u64)>)>;
    let outs: Vec<WorkerResult<S>> = pool.install(|| {
        use rayon::prelude::*;
        (0..threads)
            .into_par_iter()
            .map(|_| {
                let mut state = make();
                let mut stats = ReadStats::default();
                let mut done = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(shard) = shards.get(i) else { break };
                    if skip(i) {
                        continue;
                    }
                    progress.check()?;
                    let base = (i as u64) << SHARD_SHIFT;
                    let mut doc = 0u64;
                    let s = read_shard(corpus, shard, src, progress, &mut |text| {
                        let r = visit(&mut state, text, base | doc);
                        doc += 1;
                        r
                    })?;
                    end_shard(&mut state, i, &s)?;
                    stats.add(&s);
                    done.push((i, s.documents));
                }
                Ok((state, stats, done))
            })
            .collect()
    });
    let mut states = Vec::with_capacity(outs.len());
    let mut stats = ReadStats::default();
    let mut shard_documents = vec![0u64; shards.len()];
    for o in outs {
        let (state, s, done) = o?;
        states.push(state);
        stats.add(&s);
        for (i, d) in done {
            shard_documents[i] = d;
        }
    }
    progress.check()?;
    Ok(ScanOutput {
        states,
        stats,
        shards: shards.len() as u64,
        shard_documents,
    })
}

/// A thread pool of `threads` workers (0 = all cores).
pub fn pool(threads: usize) -> Result<(rayon::ThreadPool, usize)> {
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("monofact-{i}"))
        .build()
        .map_err(|e| CoreError::Resource(format!("cannot start {threads} threads: {e}")))?;
    Ok((pool, threads))
}
