//! The model: per order, a sorted array of packed keys with parallel log10 probability and
//! backoff arrays; queries back off as KenLM's `query` does (MATH.md 7.9).

use rayon::prelude::*;

use super::estimate::Discounts;
use super::key::{id_bits, pack, unpack, Key};
use super::query::{prefetch, Probe, WordIndex};
use super::{is_separator, LmError, BOS, EOS, MAX_ORDER, UNK};

/// A stored value: `f32` in a [`Model`] (as KenLM stores it), `f64` in an [`ExactModel`].
pub(crate) trait Value: Copy + Default + Send + Sync + 'static {
    fn to_f64(self) -> f64;
}

impl Value for f32 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl Value for f64 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
}

/// One order of a model: sorted keys, log10 probabilities, log10 backoffs (empty for the highest
/// order).
#[derive(Clone, Debug)]
pub(crate) struct OrderTable<K, V> {
    pub keys: Vec<K>,
    pub prob: Vec<V>,
    pub backoff: Vec<V>,
}

#[derive(Clone, Debug)]
pub(crate) enum Tables<V> {
    Narrow(Vec<OrderTable<u64, V>>),
    Wide(Vec<OrderTable<u128, V>>),
}

/// The vocabulary of a model: ids are dense; `<unk>`, `<s>` and `</s>` are always present.
#[derive(Clone, Debug)]
pub(crate) struct Vocab {
    pub words: Vec<String>,
    pub index: WordIndex,
    pub bos: u32,
    pub eos: u32,
    pub unk: u32,
}

impl Vocab {
    pub(crate) fn new(words: Vec<String>) -> Result<Vocab, String> {
        let index = WordIndex::build(&words)
            .map_err(|w| format!("the word {w:?} appears twice in the vocabulary"))?;
        let get = |w: &str| {
            index
                .get_hashed(w, index.hash(w), &words)
                .ok_or_else(|| format!("the vocabulary has no {w}"))
        };
        let (bos, eos, unk) = (get(BOS)?, get(EOS)?, get(UNK)?);
        Ok(Vocab {
            words,
            index,
            bos,
            eos,
            unk,
        })
    }

    #[inline]
    pub(crate) fn id(&self, word: &str) -> Option<u32> {
        self.index
            .get_hashed(word, self.index.hash(word), &self.words)
    }
}

/// Per order >= 2 probing tables (index 0 = bigrams), in the model's key width.
#[derive(Clone, Debug)]
pub(crate) enum Probes<V> {
    Narrow(Vec<Probe<u64, V>>),
    Wide(Vec<Probe<u128, V>>),
}

/// What queries read: unigrams by word id and a probing table per higher order.
#[derive(Clone, Debug)]
pub(crate) struct QueryIndex<V> {
    /// (log10 p, log10 backoff) of word id i; `None` for a word without a unigram entry.
    pub uni: Vec<Option<(V, V)>>,
    pub probes: Probes<V>,
}

impl<V: Value> QueryIndex<V> {
    fn build(tables: &Tables<V>, vocab: usize, bits: u32) -> QueryIndex<V> {
        fn unigrams<K: Key, V: Value>(
            t: &[OrderTable<K, V>],
            vocab: usize,
            bits: u32,
        ) -> Vec<Option<(V, V)>> {
            let mut uni = vec![None; vocab];
            if let Some(o) = t.first() {
                for (i, k) in o.keys.iter().enumerate() {
                    if let Some(slot) = uni.get_mut(k.word(0, bits) as usize) {
                        *slot = Some((o.prob[i], o.backoff.get(i).copied().unwrap_or_default()));
                    }
                }
            }
            uni
        }
        match tables {
            Tables::Narrow(t) => QueryIndex {
                uni: unigrams(t, vocab, bits),
                probes: Probes::Narrow(t.par_iter().skip(1).map(Probe::build).collect()),
            },
            Tables::Wide(t) => QueryIndex {
                uni: unigrams(t, vocab, bits),
                probes: Probes::Wide(t.par_iter().skip(1).map(Probe::build).collect()),
            },
        }
    }
}

/// Shared core of [`Model`] and [`ExactModel`].
#[derive(Clone, Debug)]
pub(crate) struct Core<V> {
    pub order: usize,
    pub vocab: Vocab,
    pub bits: u32,
    pub tables: Tables<V>,
    pub discounts: Vec<Discounts>,
    /// The lookup structures of queries, built on first use (fitting and writing never pay for
    /// them).
    pub query: std::sync::OnceLock<QueryIndex<V>>,
}

/// Reusable buffers of one scoring thread.
#[derive(Default)]
pub(crate) struct Scratch {
    spans: Vec<(usize, usize)>,
    /// Per sentence of a chunk: its tokens' range in `spans`.
    span_ranges: Vec<std::ops::Range<usize>>,
    hashes: Vec<u64>,
    /// The chunk's sentences as ids, `<s>`/`</s>` included, one after another.
    seq: Vec<u32>,
    /// Per sentence: its range in `seq` and its OOV count.
    seq_ranges: Vec<(std::ops::Range<usize>, usize)>,
}

/// Sentences per scoring task: enough tokens that the lookups of a chunk overlap in memory, few
/// enough that their cache lines are still in L2 when read.
const CHUNK: usize = 32;

/// What a scored sentence adds up to.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Scored {
    pub total: f64,
    /// Scored tokens (`</s>` included when asked for).
    pub tokens: usize,
    pub oov: usize,
    /// Sum of the OOV tokens' log10 probabilities.
    pub oov_log10: f64,
}

/// Byte spans of the tokens of `line` (runs of lmplz's ASCII separators split them; an ASCII
/// byte never occurs inside a multi-byte UTF-8 character, so splitting bytes is exact).
/// Appends to `out`.
fn token_spans(line: &str, out: &mut Vec<(usize, usize)>) {
    let b = line.as_bytes();
    let mut start = None;
    for (i, &c) in b.iter().enumerate() {
        if is_separator(c) {
            if let Some(s) = start.take() {
                out.push((s, i));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, b.len()));
    }
}

impl<V: Value> Core<V> {
    pub(crate) fn new(
        order: usize,
        vocab: Vocab,
        bits: u32,
        tables: Tables<V>,
        discounts: Vec<Discounts>,
    ) -> Core<V> {
        Core {
            order,
            vocab,
            bits,
            tables,
            discounts,
            query: std::sync::OnceLock::new(),
        }
    }

    #[inline]
    pub(crate) fn query_index(&self) -> &QueryIndex<V> {
        self.query
            .get_or_init(|| QueryIndex::build(&self.tables, self.vocab.words.len(), self.bits))
    }

    /// Chooses narrow or wide keys for `order` and `vocab` words.
    pub(crate) fn key_width(order: usize, vocab: usize) -> Result<(u32, bool), LmError> {
        let bits = id_bits(vocab);
        if bits as usize * order <= 64 {
            Ok((bits, false))
        } else if bits as usize * order <= 128 {
            Ok((bits, true))
        } else {
            let max_bits = 128 / order as u32;
            Err(LmError::VocabTooLarge {
                vocab,
                order,
                max: 1u64 << max_bits.min(63),
            })
        }
    }

    pub(crate) fn counts(&self) -> Vec<usize> {
        match &self.tables {
            Tables::Narrow(t) => t.iter().map(|o| o.keys.len()).collect(),
            Tables::Wide(t) => t.iter().map(|o| o.keys.len()).collect(),
        }
    }

    /// (log10 p, log10 backoff) of a stored n-gram.
    #[inline]
    pub(crate) fn lookup(&self, ids: &[u32]) -> Option<(f64, f64)> {
        let q = self.query_index();
        let hit = match ids {
            [] => None,
            [w] => q.uni.get(*w as usize).copied().flatten(),
            _ => match &q.probes {
                Probes::Narrow(p) => p.get(ids.len() - 2)?.get(pack(ids, self.bits)),
                Probes::Wide(p) => p.get(ids.len() - 2)?.get(pack(ids, self.bits)),
            },
        };
        hit.map(|(p, b)| (p.to_f64(), b.to_f64()))
    }

    /// log10 p(word | history) by KenLM's back-off rule; `history` holds the preceding ids, most
    /// recent last; only the last `order - 1` are used.
    pub(crate) fn word_log10(&self, history: &[u32], word: u32) -> f64 {
        let max_ctx = history.len().min(self.order - 1);
        let mut buf = [0u32; MAX_ORDER];
        let mut acc = 0.0;
        for l in (0..=max_ctx).rev() {
            let ctx = &history[history.len() - l..];
            buf[..l].copy_from_slice(ctx);
            buf[l] = word;
            if let Some((p, _)) = self.lookup(&buf[..=l]) {
                return acc + p;
            }
            if l > 0 {
                if let Some((_, b)) = self.lookup(ctx) {
                    acc += b;
                }
            }
        }
        // Unreachable for a valid model: every word id has a unigram. Score as <unk>.
        acc + self
            .lookup(&[self.vocab.unk])
            .map_or(f64::NEG_INFINITY, |(p, _)| p)
    }

    /// Maps tokens to ids (OOV to `<unk>`); `<s>` and `</s>` inside text are an error.
    pub(crate) fn ids_of<'a, I: IntoIterator<Item = &'a str>>(
        &self,
        toks: I,
        out: &mut Vec<u32>,
    ) -> Result<usize, LmError> {
        let mut oov = 0;
        for t in toks {
            if t == BOS || t == EOS {
                return Err(LmError::BadArgument(format!(
                    "the token {t:?} may not appear inside a sentence; use the bos/eos flags"
                )));
            }
            match self.vocab.id(t) {
                Some(id) if id != self.vocab.unk => out.push(id),
                _ => {
                    oov += 1;
                    out.push(self.vocab.unk)
                }
            }
        }
        Ok(oov)
    }

    /// Scores a chunk of sentences in three passes over all of its tokens, so that the cache
    /// misses of different tokens overlap: (1) split and hash the tokens and prefetch their
    /// vocabulary slots; (2) resolve the ids and prefetch the probing slots of every n-gram the
    /// scorer may look up; (3) run KenLM's state machine per sentence. `per_token` (if given)
    /// receives each sentence's token log10 probabilities.
    pub(crate) fn score_chunk<S: AsRef<str>>(
        &self,
        texts: &[S],
        bos: bool,
        eos: bool,
        scratch: &mut Scratch,
        mut per_token: Option<&mut Vec<Vec<f64>>>,
        out: &mut Vec<Scored>,
    ) -> Result<(), LmError> {
        let v = &self.vocab;
        let ix = &v.index;
        let q = self.query_index();
        let sc = scratch;
        sc.spans.clear();
        sc.span_ranges.clear();
        sc.hashes.clear();
        for t in texts {
            let text = t.as_ref();
            let from = sc.spans.len();
            token_spans(text, &mut sc.spans);
            for &(a, b) in &sc.spans[from..] {
                let h = ix.hash(&text[a..b]);
                ix.prefetch(h);
                sc.hashes.push(h);
            }
            sc.span_ranges.push(from..sc.spans.len());
        }
        sc.seq.clear();
        sc.seq_ranges.clear();
        for (t, range) in texts.iter().zip(&sc.span_ranges) {
            let text = t.as_ref();
            let from = sc.seq.len();
            if bos {
                sc.seq.push(v.bos);
            }
            let mut oov = 0;
            for (&(a, b), &h) in sc.spans[range.clone()]
                .iter()
                .zip(&sc.hashes[range.clone()])
            {
                let tok = &text[a..b];
                match ix.get_hashed(tok, h, &v.words) {
                    Some(id) if id == v.bos || id == v.eos => {
                        return Err(LmError::BadArgument(format!(
                            "the token {tok:?} may not appear inside a sentence; use the bos/eos \
                             flags"
                        )))
                    }
                    Some(id) if id != v.unk => sc.seq.push(id),
                    _ => {
                        oov += 1;
                        sc.seq.push(v.unk)
                    }
                }
            }
            if eos {
                sc.seq.push(v.eos);
            }
            let r = from..sc.seq.len();
            match &q.probes {
                Probes::Narrow(p) => warm(self, &q.uni, p, &sc.seq[r.clone()], usize::from(bos)),
                Probes::Wide(p) => warm(self, &q.uni, p, &sc.seq[r.clone()], usize::from(bos)),
            }
            sc.seq_ranges.push((r, oov));
        }
        let start = usize::from(bos);
        let unk = v.unk;
        for (r, oov) in &sc.seq_ranges {
            let seq = &sc.seq[r.clone()];
            let mut lps = per_token.as_ref().map(|_| Vec::with_capacity(seq.len()));
            let mut oov_log10 = 0.0;
            let emit = |i: usize, lp: f64| {
                if seq[i] == unk {
                    oov_log10 += lp;
                }
                if let Some(l) = lps.as_mut() {
                    l.push(lp);
                }
            };
            let total = match &q.probes {
                Probes::Narrow(p) => score_with(self, &q.uni, p, seq, start, emit),
                Probes::Wide(p) => score_with(self, &q.uni, p, seq, start, emit),
            };
            if let (Some(all), Some(l)) = (per_token.as_deref_mut(), lps) {
                all.push(l);
            }
            out.push(Scored {
                total,
                tokens: seq.len().saturating_sub(start),
                oov: *oov,
                oov_log10,
            });
        }
        Ok(())
    }

    pub(crate) fn score_ids(&self, ids: &[u32], bos: bool, eos: bool) -> (Vec<f64>, f64) {
        let mut seq = Vec::with_capacity(ids.len() + 2);
        if bos {
            seq.push(self.vocab.bos);
        }
        seq.extend_from_slice(ids);
        if eos {
            seq.push(self.vocab.eos);
        }
        let q = self.query_index();
        let mut per_token = Vec::with_capacity(seq.len());
        let emit = |_, lp| per_token.push(lp);
        let start = usize::from(bos);
        let total = match &q.probes {
            Probes::Narrow(p) => score_with(self, &q.uni, p, &seq, start, emit),
            Probes::Wide(p) => score_with(self, &q.uni, p, &seq, start, emit),
        };
        (per_token, total)
    }

    /// Scores many sentences in parallel chunks; results are in input order.
    pub(crate) fn score_many<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        bos: bool,
        eos: bool,
        per_token: bool,
    ) -> Result<(Vec<Scored>, Vec<Vec<f64>>), LmError> {
        let parts: Vec<(Vec<Scored>, Vec<Vec<f64>>)> = texts
            .par_chunks(CHUNK)
            .map_init(Scratch::default, |scratch, chunk| {
                let mut out = Vec::with_capacity(chunk.len());
                let mut lps = Vec::new();
                self.score_chunk(
                    chunk,
                    bos,
                    eos,
                    scratch,
                    per_token.then_some(&mut lps),
                    &mut out,
                )?;
                Ok((out, lps))
            })
            .collect::<Result<_, LmError>>()?;
        let mut scored = Vec::with_capacity(texts.len());
        let mut lps = Vec::with_capacity(if per_token { texts.len() } else { 0 });
        for (s, l) in parts {
            scored.extend(s);
            lps.extend(l);
        }
        Ok((scored, lps))
    }

    pub(crate) fn score_text(
        &self,
        text: &str,
        bos: bool,
        eos: bool,
    ) -> Result<SentenceScore, LmError> {
        let mut out = Vec::with_capacity(1);
        let mut lps = Vec::with_capacity(1);
        self.score_chunk(
            &[text],
            bos,
            eos,
            &mut Scratch::default(),
            Some(&mut lps),
            &mut out,
        )?;
        Ok(SentenceScore {
            log10_probs: lps.pop().unwrap_or_default(),
            total: out.first().map_or(0.0, |s| s.total),
            oov: out.first().map_or(0, |s| s.oov),
        })
    }

    /// Calls `f(words, log10 p, log10 backoff)` for every stored n-gram of `order`, in key order.
    pub(crate) fn for_each_entry(&self, order: usize, mut f: impl FnMut(&[u32], V, Option<V>)) {
        fn walk<K: Key, V: Value>(
            t: &OrderTable<K, V>,
            order: usize,
            bits: u32,
            f: &mut impl FnMut(&[u32], V, Option<V>),
        ) {
            let mut ids = [0u32; MAX_ORDER];
            for (i, &k) in t.keys.iter().enumerate() {
                unpack(k, order, bits, &mut ids);
                f(&ids[..order], t.prob[i], t.backoff.get(i).copied());
            }
        }
        if order == 0 || order > self.order {
            return;
        }
        match &self.tables {
            Tables::Narrow(t) => walk(&t[order - 1], order, self.bits, &mut f),
            Tables::Wide(t) => walk(&t[order - 1], order, self.bits, &mut f),
        }
    }
}

/// Prefetches the slots of every n-gram that scoring `seq[start..]` may look up: the suffixes
/// (up to N words) of each `seq[..=i]`, and each word's unigram.
fn warm<K: Key, V: Value>(
    core: &Core<V>,
    uni: &[Option<(V, V)>],
    probes: &[Probe<K, V>],
    seq: &[u32],
    start: usize,
) {
    let n1 = core.order - 1;
    for j in start..seq.len() {
        // Prefetch without reading: testing the Option would wait for the line.
        if let Some(e) = uni.get(seq[j] as usize) {
            prefetch(e);
        }
        let mut key: K = pack(&seq[j..=j], core.bits);
        for l in 1..=n1.min(j) {
            key = key.with_word(l, seq[j - l], core.bits);
            if let Some(p) = probes.get(l - 1) {
                p.prefetch_home(p.home(key));
            }
        }
    }
}

/// KenLM's state machine over `seq[start..]`: the context is the longest n-gram matched at the
/// previous position (at most N-1 words, a suffix of `seq[..i]`) with the backoffs of its
/// suffixes; the match for position i grows from the unigram while stored, and the backoffs of
/// the unmatched context suffixes are added. Calls `emit(i, log10 p)`; returns the sum.
fn score_with<K: Key, V: Value>(
    core: &Core<V>,
    uni: &[Option<(V, V)>],
    probes: &[Probe<K, V>],
    seq: &[u32],
    start: usize,
    mut emit: impl FnMut(usize, f64),
) -> f64 {
    let n1 = core.order - 1;
    let bits = core.bits;
    let unigram = |w: u32| uni.get(w as usize).copied().flatten();
    let mut bo = [0f64; MAX_ORDER];
    let mut ctx_len = 0;
    if start > 0 && n1 > 0 {
        bo[0] = unigram(seq[start - 1]).map_or(0.0, |(_, b)| b.to_f64());
        ctx_len = 1;
    }
    let mut total = 0.0;
    for i in start..seq.len() {
        let w = seq[i];
        let (mut p, b0) =
            unigram(w).map_or((f64::NEG_INFINITY, 0.0), |(p, b)| (p.to_f64(), b.to_f64()));
        let mut new_bo = [0f64; MAX_ORDER];
        new_bo[0] = b0;
        let mut matched = 0;
        let mut key: K = pack(&seq[i..=i], bits);
        for l in 1..=ctx_len {
            key = key.with_word(l, seq[i - l], bits);
            match probes.get(l - 1).and_then(|t| t.get(key)) {
                Some((pl, bl)) => {
                    p = pl.to_f64();
                    new_bo[l] = bl.to_f64();
                    matched = l;
                }
                None => break,
            }
        }
        let lp = p + bo[matched..ctx_len].iter().sum::<f64>();
        total += lp;
        emit(i, lp);
        ctx_len = (matched + 1).min(n1);
        bo = new_bo;
    }
    total
}

/// The score of one sentence.
#[derive(Clone, Debug, PartialEq)]
pub struct SentenceScore {
    /// log10 probability of each scored token, `</s>` last when `eos` was asked for.
    pub log10_probs: Vec<f64>,
    /// Sum of `log10_probs`.
    pub total: f64,
    /// Tokens not in the vocabulary (scored as `<unk>`).
    pub oov: usize,
}

/// Perplexity of a set of sentences, as KenLM's `query` reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Perplexity {
    /// Sum of log10 probabilities of all scored tokens.
    pub log10_total: f64,
    /// Scored tokens (`</s>` included when `eos`).
    pub tokens: usize,
    /// Out-of-vocabulary tokens among them.
    pub oov: usize,
    /// `10^(-log10_total / tokens)`.
    pub perplexity: f64,
    /// The same without the OOV tokens and their probabilities.
    pub perplexity_excluding_oov: f64,
}

/// One n-gram of a model.
#[derive(Clone, Debug, PartialEq)]
pub struct NGramEntry {
    pub words: Vec<String>,
    pub log10_prob: f64,
    /// None for the highest order.
    pub log10_backoff: Option<f64>,
}

/// An n-gram language model with KenLM's storage precision (`f32` log10 values).
#[derive(Clone, Debug)]
pub struct Model {
    pub(crate) core: Core<f32>,
}

/// A model straight from the estimator with `f64` log10 values (not clamped at 0): for checks
/// that need more than `f32` precision, such as probabilities summing to one.
#[derive(Clone, Debug)]
pub struct ExactModel {
    pub(crate) core: Core<f64>,
}

macro_rules! common_accessors {
    () => {
        /// The order N.
        pub fn order(&self) -> usize {
            self.core.order
        }

        /// Id to word; ids are dense and include `<unk>`, `<s>` and `</s>`.
        pub fn vocab(&self) -> &[String] {
            &self.core.vocab.words
        }

        /// Id of a word (`None` if out of vocabulary).
        pub fn word_id(&self, word: &str) -> Option<u32> {
            self.core.vocab.id(word)
        }

        /// Number of stored n-grams per order (index 0 = unigrams).
        pub fn ngram_counts(&self) -> Vec<usize> {
            self.core.counts()
        }

        /// The discounts used per order (empty for a model read from ARPA).
        pub fn discounts(&self) -> &[Discounts] {
            &self.core.discounts
        }

        /// log10 p(word | context) with KenLM's back-off; `context` is in text order and may start
        /// with `<s>`; unknown words are `<unk>`.
        pub fn log10_prob(&self, context: &[&str], word: &str) -> f64 {
            let v = &self.core.vocab;
            let ids: Vec<u32> = context.iter().map(|w| v.id(w).unwrap_or(v.unk)).collect();
            self.core.word_log10(&ids, v.id(word).unwrap_or(v.unk))
        }

        /// Stored n-grams of one order, in key order.
        pub fn entries(&self, order: usize) -> Vec<NGramEntry> {
            let words = &self.core.vocab.words;
            let mut out = Vec::new();
            self.core.for_each_entry(order, |ids, p, b| {
                out.push(NGramEntry {
                    words: ids.iter().map(|&i| words[i as usize].clone()).collect(),
                    log10_prob: p.to_f64(),
                    log10_backoff: b.map(|b| b.to_f64()),
                })
            });
            out
        }
    };
}

impl ExactModel {
    common_accessors!();

    /// Rounds to a [`Model`]: log10 probabilities clamped at 0 and stored as `f32`, as lmplz
    /// writes them.
    pub fn to_model(self) -> Model {
        fn conv<K: Key>(t: Vec<OrderTable<K, f64>>) -> Vec<OrderTable<K, f32>> {
            t.into_iter()
                .map(|o| OrderTable {
                    keys: o.keys,
                    prob: o.prob.par_iter().map(|&p| p.min(0.0) as f32).collect(),
                    backoff: o.backoff.par_iter().map(|&b| b as f32).collect(),
                })
                .collect()
        }
        let c = self.core;
        let tables = match c.tables {
            Tables::Narrow(t) => Tables::Narrow(conv(t)),
            Tables::Wide(t) => Tables::Wide(conv(t)),
        };
        Model {
            core: Core {
                order: c.order,
                vocab: c.vocab,
                bits: c.bits,
                tables,
                discounts: c.discounts,
                query: std::sync::OnceLock::new(),
            },
        }
    }
}

impl Model {
    common_accessors!();

    /// Scores one sentence (tokens split on ASCII whitespace). `bos`: start from the `<s>`
    /// context; `eos`: score `</s>` at the end.
    pub fn score_sentence(
        &self,
        text: &str,
        bos: bool,
        eos: bool,
    ) -> Result<SentenceScore, LmError> {
        self.core.score_text(text, bos, eos)
    }

    /// Scores pre-split tokens.
    pub fn score_tokens(
        &self,
        toks: &[&str],
        bos: bool,
        eos: bool,
    ) -> Result<SentenceScore, LmError> {
        let mut ids = Vec::with_capacity(toks.len());
        let oov = self.core.ids_of(toks.iter().copied(), &mut ids)?;
        let (log10_probs, total) = self.core.score_ids(&ids, bos, eos);
        Ok(SentenceScore {
            log10_probs,
            total,
            oov,
        })
    }

    /// Scores many sentences in parallel; results are in input order.
    pub fn score_batch<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        bos: bool,
        eos: bool,
    ) -> Result<Vec<SentenceScore>, LmError> {
        let (scored, lps) = self.core.score_many(texts, bos, eos, true)?;
        Ok(scored
            .into_iter()
            .zip(lps)
            .map(|(s, log10_probs)| SentenceScore {
                log10_probs,
                total: s.total,
                oov: s.oov,
            })
            .collect())
    }

    /// Total log10 probability of each sentence (no per-token lists), in input order.
    pub fn score_totals<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        bos: bool,
        eos: bool,
    ) -> Result<Vec<f64>, LmError> {
        let (scored, _) = self.core.score_many(texts, bos, eos, false)?;
        Ok(scored.into_iter().map(|s| s.total).collect())
    }

    /// Perplexity over many sentences (parallel; the sum is taken in input order, so the result
    /// does not depend on the thread count).
    pub fn perplexity<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        bos: bool,
        eos: bool,
    ) -> Result<Perplexity, LmError> {
        let (scored, _) = self.core.score_many(texts, bos, eos, false)?;
        let (mut total, mut n, mut oov, mut oov_log) = (0.0, 0usize, 0usize, 0.0);
        for s in scored {
            total += s.total;
            n += s.tokens;
            oov += s.oov;
            oov_log += s.oov_log10;
        }
        let ppl = |lp: f64, n: usize| {
            if n == 0 {
                f64::NAN
            } else {
                10f64.powf(-lp / n as f64)
            }
        };
        Ok(Perplexity {
            log10_total: total,
            tokens: n,
            oov,
            perplexity: ppl(total, n),
            perplexity_excluding_oov: ppl(total - oov_log, n - oov),
        })
    }
}
