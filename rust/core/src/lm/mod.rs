//! N-gram language models: modified Kneser-Ney estimation exactly as KenLM's `lmplz`, ARPA
//! reading and writing, batched scoring, sampling and multiple-choice answering.
//!
//! # Design
//!
//! The estimator takes the raw counts of the padded order-N n-grams ([`RawCounts`], produced by
//! the counting engine or by [`count_sentences`]) and runs the stages of `lmplz` (MATH.md
//! section 7) on sorted arrays instead of KenLM's on-disk streams:
//!
//! 1. *collapse*: an N-gram with `<s>` at position j >= 1 becomes the (N-j)-gram from its last
//!    `<s>`, keeping its raw count;
//! 2. *adjust*: the (k+1)-grams are re-keyed by their suffix and sorted; a run of equal suffixes
//!    is one k-gram whose adjusted count is the run length (its number of distinct left
//!    extensions). The same sort records, for every (k+1)-gram, the index of its suffix (suffix
//!    and index packed in one `u64` when they fit), so the interpolation below is a plain
//!    indexed read instead of a search;
//! 3. *discounts* from the count-of-counts of each order;
//! 4. *probabilities*, lowest order first: a context is a contiguous run of its order's sorted
//!    table, so its denominator and gamma come from one linear scan, and
//!    `p(w|c) = u(w|c) + gamma(c) p(w|c')` reads `p(w|c')` by the recorded suffix index;
//! 5. *backoffs*: the contexts of order k+1 (sorted) are merged with the k-grams (sorted).
//!
//! An n-gram is stored as one packed integer key (ids of `ceil(log2 |V|)` bits, first word in the
//! high bits, so numeric order is lexicographic order): `u64` when the order's ids fit, `u128`
//! otherwise (order 6 holds up to 2^21 words). A model is, per order, a sorted key array with
//! parallel `f32` log10 probability and backoff arrays (16 bytes per trigram with `u64` keys).
//! Queries follow KenLM's state rule (the longest match grows from the unigram; the backoffs of
//! the unmatched context suffixes are added) and read KenLM-style probing tables (key,
//! probability and backoff in one 16-byte slot, on transparent huge pages) built on the first
//! query so that fitting and writing never pay for them. Batches are scored in chunks of
//! sentences whose vocabulary and n-gram slots are prefetched before the state machine runs, so
//! the cache misses of a chunk overlap (see `query.rs`).
//!
//! Costs: every stage is a sort or a linear pass over arrays; the sorts, the probability pass,
//! the ARPA formatting and parsing, and batched queries run in parallel with rayon, and every
//! result is independent of the thread count. Peak memory is about 28 bytes per distinct N-gram
//! plus 24 per (N-1)-gram (`u64` keys): [`estimate_owned`] consumes its input while packing it,
//! large arrays are converted from their end while the source shrinks, and each order's counts
//! and suffix indices are freed once its probabilities are done. Everything is
//! computed in `f64` and rounded to `f32` (as KenLM stores it) at the end; [`estimate_exact`]
//! keeps the `f64` values.
//!
//! Where this differs from lmplz: discounts are computed in single precision as lmplz does, but
//! probabilities in double precision (lmplz uses single), so printed values can differ from
//! lmplz's in the last digit (at most 7e-7 in log10 on the KJV test). n-grams are written in key
//! order, not lmplz's internal order. Pruning follows lmplz's rules (raw counts for the highest
//! order, occurrence counts below, pruned mass to the backoff) but was not compared with lmplz.
//!
//! # Plugging in counts
//!
//! The counting engine hands over [`RawCounts`]: the distinct padded N-grams as flattened ids of
//! its own vocabulary, in any order, with their counts. The estimator re-numbers the words that
//! occur (`<unk>` 0, `<s>` 1, `</s>` 2, then the words in byte order of their text, so that the
//! ARPA does not depend on the engine's thread-timed ids), validates the padding shape
//! and returns a [`Model`]; unused vocabulary entries are dropped.

mod arpa;
mod estimate;
mod generate;
mod key;
mod model;
mod query;

use std::fmt;

pub use estimate::{estimate, estimate_exact, estimate_owned, Discounts};
pub use generate::{Choice, GenerateOptions, Generation};
pub use model::{ExactModel, Model, NGramEntry, Perplexity, SentenceScore};

/// The begin-of-sentence token.
pub const BOS: &str = "<s>";
/// The end-of-sentence token.
pub const EOS: &str = "</s>";
/// The unknown-word token.
pub const UNK: &str = "<unk>";
/// Highest supported model order.
pub const MAX_ORDER: usize = 6;

/// Errors of the language-model layer.
#[derive(Debug, thiserror::Error)]
pub enum LmError {
    /// The order is outside 1..=6.
    #[error("n-gram order {order} is not supported: the order must be between 1 and {MAX_ORDER}")]
    BadOrder { order: usize },
    /// No sentence to estimate from.
    #[error("cannot fit a language model on an empty corpus (no n-grams were counted)")]
    EmptyCorpus,
    /// A reserved token inside the text.
    #[error("line {line}: the token {token:?} is reserved and may not appear inside the text (lmplz rejects it too)")]
    ReservedToken { line: usize, token: String },
    /// The raw counts handed to the estimator are inconsistent.
    #[error("invalid raw counts: {0}")]
    BadCounts(String),
    /// A discount is undefined or out of range.
    #[error(
        "could not compute modified Kneser-Ney discounts for order {order}: {reason} \
         (count-of-counts of adjusted counts n1={n1} n2={n2} n3={n3} n4={n4}); \
         is this small or artificial data? Set discount_fallback (lmplz uses 0.5, 1, 1.5) to \
         substitute fixed discounts"
    )]
    BadDiscount {
        order: usize,
        reason: String,
        n1: u64,
        n2: u64,
        n3: u64,
        n4: u64,
    },
    /// Pruning thresholds that lmplz would reject.
    #[error("invalid prune thresholds {thresholds:?}: {reason}")]
    BadPrune {
        thresholds: Vec<u64>,
        reason: String,
    },
    /// More distinct words than the packed keys can hold at this order.
    #[error("vocabulary of {vocab} words is too large for an order-{order} model (at most {max} words at this order)")]
    VocabTooLarge {
        vocab: usize,
        order: usize,
        max: u64,
    },
    /// A malformed ARPA file.
    #[error("{source_name}:{line}: malformed ARPA file: {message}")]
    Arpa {
        source_name: String,
        line: usize,
        message: String,
    },
    /// A bad argument to a query or generation call.
    #[error("invalid argument: {0}")]
    BadArgument(String),
    /// Reading or writing failed.
    #[error("I/O error on {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// A broken invariant of the estimator (a bug, reported instead of a panic).
    #[error("internal error in the language model estimator: {0}")]
    Internal(String),
}

/// Into the crate's error kinds: a malformed ARPA file or a failed read is an input error with
/// its file and line; everything else is an argument the caller gave (corpus, options, counts).
impl From<LmError> for crate::CoreError {
    fn from(e: LmError) -> Self {
        match e {
            LmError::Arpa {
                source_name,
                line,
                message,
            } => crate::CoreError::input(
                source_name,
                crate::Position::at(Some(line as u64), None),
                format!("malformed ARPA file: {message}"),
            ),
            LmError::Io { what, source } => {
                crate::CoreError::input(what, crate::Position::none(), source.to_string())
            }
            e => crate::CoreError::Config(e.to_string()),
        }
    }
}

/// Raw counts of the padded order-N n-grams, the estimator's input.
///
/// Each line is padded with N-1 `<s>` on the left and one `</s>` on the right before its N-grams
/// are counted (MATH.md 7.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawCounts {
    /// The order N.
    pub order: usize,
    /// Id to token; must contain `<s>` and `</s>`.
    pub vocab: Vec<String>,
    /// Id of `<s>` in `vocab`.
    pub bos: u32,
    /// Id of `</s>` in `vocab`.
    pub eos: u32,
    /// Flattened n-grams: gram i is `grams[i*order .. (i+1)*order]`, any order, each once.
    pub grams: Vec<u32>,
    /// Count of gram i.
    pub counts: Vec<u64>,
}

impl RawCounts {
    /// Number of distinct n-grams.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// True when no n-gram was counted.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Takes the counting engine's exported keys (counted with `pad: true` and `n` = the model
    /// order, all keys: no count filter) without copying the n-grams.
    pub fn from_exported(keys: crate::count::export::ExportedKeys) -> Result<RawCounts, LmError> {
        let mut vocab = Vec::with_capacity(keys.vocab.len());
        for id in 0..keys.vocab.len() {
            let bytes = keys.vocab.get(id as u32);
            let word = std::str::from_utf8(bytes).map_err(|_| {
                LmError::BadCounts(format!("token {id} is not valid UTF-8: {bytes:?}"))
            })?;
            vocab.push(word.to_string());
        }
        let find = |w: &str| {
            vocab.iter().position(|x| x == w).map(|i| i as u32).ok_or_else(|| {
                LmError::BadCounts(format!(
                    "the counted vocabulary has no {w}: count with pad=true (KenLM sentence padding)"
                ))
            })
        };
        let (bos, eos) = (find(BOS)?, find(EOS)?);
        Ok(RawCounts {
            order: keys.n,
            vocab,
            bos,
            eos,
            grams: keys.ids,
            counts: keys.counts,
        })
    }
}

/// Options of [`estimate`], after lmplz's flags.
#[derive(Clone, Debug, PartialEq)]
pub struct FitOptions {
    /// `--interpolate_unigrams` (default true, as lmplz today): interpolate unigrams with the
    /// uniform distribution; false gives all of gamma(empty) to `<unk>` (SRILM style).
    pub interpolate_unigrams: bool,
    /// `--discount_fallback`: `None` makes bad discounts an error; `Some([d1, d2, d3])`
    /// substitutes these discounts for an order whose discounts are undefined or out of range
    /// (lmplz's fallback is `[0.5, 1.0, 1.5]`).
    pub discount_fallback: Option<[f64; 3]>,
    /// `--prune`: per-order count thresholds; an n-gram whose count is at most the threshold of
    /// its order is pruned. Non-decreasing, first value 0, the last value repeats for the
    /// remaining orders. Empty means no pruning.
    pub prune: Vec<u64>,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            interpolate_unigrams: true,
            discount_fallback: None,
            prune: Vec::new(),
        }
    }
}

impl FitOptions {
    /// lmplz's `--discount_fallback` values.
    pub const LMPLZ_FALLBACK: [f64; 3] = [0.5, 1.0, 1.5];
}

/// True for the separators lmplz splits on (ASCII whitespace).
#[inline]
pub(crate) fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// Splits a line into tokens as lmplz does (runs of ASCII whitespace).
pub fn tokens(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| c.is_ascii() && is_separator(c as u8))
        .filter(|t| !t.is_empty())
}

/// Counts the padded order-`order` n-grams of `lines` (one sentence per line, tokens split on
/// ASCII whitespace), for tests and small inputs; the counting engine does this at scale.
///
/// Ids are assigned `<unk>` = 0, `<s>` = 1, `</s>` = 2, then in order of first appearance
/// (KenLM's order; the estimator numbers the model's words by their text either way). `<s>`, `</s>` and `<unk>`
/// inside the text are an error, as in lmplz.
pub fn count_sentences<'a, I>(lines: I, order: usize) -> Result<RawCounts, LmError>
where
    I: IntoIterator<Item = &'a str>,
{
    check_order(order)?;
    let mut vocab: Vec<String> = vec![UNK.to_string(), BOS.to_string(), EOS.to_string()];
    let mut ids: hashbrown::HashMap<String, u32, foldhash::fast::FixedState> =
        hashbrown::HashMap::with_hasher(foldhash::fast::FixedState::with_seed(0x6d6f6e6f));
    // Fixed-width keys (unused slots u32::MAX) avoid one allocation per n-gram.
    let mut counts: hashbrown::HashMap<[u32; MAX_ORDER], u64, foldhash::fast::FixedState> =
        hashbrown::HashMap::with_hasher(foldhash::fast::FixedState::with_seed(0x6c6d));
    let mut seq: Vec<u32> = Vec::new();
    for (line_no, line) in lines.into_iter().enumerate() {
        seq.clear();
        seq.extend(std::iter::repeat_n(1u32, order - 1));
        for token in tokens(line) {
            if token == BOS || token == EOS || token == UNK {
                return Err(LmError::ReservedToken {
                    line: line_no + 1,
                    token: token.to_string(),
                });
            }
            let id = match ids.get(token) {
                Some(&id) => id,
                None => {
                    let id = u32::try_from(vocab.len()).map_err(|_| {
                        LmError::BadCounts("more than 2^32 distinct tokens".to_string())
                    })?;
                    vocab.push(token.to_string());
                    ids.insert(token.to_string(), id);
                    id
                }
            };
            seq.push(id);
        }
        seq.push(2);
        for window in seq.windows(order) {
            let mut key = [u32::MAX; MAX_ORDER];
            key[..order].copy_from_slice(window);
            *counts.entry(key).or_insert(0) += 1;
        }
    }
    let mut entries: Vec<([u32; MAX_ORDER], u64)> = counts.into_iter().collect();
    entries.sort_unstable();
    let mut grams = Vec::with_capacity(entries.len() * order);
    let mut out_counts = Vec::with_capacity(entries.len());
    for (key, count) in entries {
        grams.extend_from_slice(&key[..order]);
        out_counts.push(count);
    }
    Ok(RawCounts {
        order,
        vocab,
        bos: 1,
        eos: 2,
        grams,
        counts: out_counts,
    })
}

pub(crate) fn check_order(order: usize) -> Result<(), LmError> {
    if order == 0 || order > MAX_ORDER {
        return Err(LmError::BadOrder { order });
    }
    Ok(())
}

/// Writes an n-gram's words separated by spaces (for error messages).
pub(crate) struct Words<'a>(pub &'a [&'a str]);

impl fmt::Display for Words<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, w) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(w)?;
        }
        Ok(())
    }
}
