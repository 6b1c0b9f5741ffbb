//! The model: per order, a sorted array of packed keys with parallel log10 probability and
//! backoff arrays; queries back off as KenLM's `query` does (MATH.md 7.9).

use rayon::prelude::*;

use super::estimate::Discounts;
use super::key::{id_bits, pack, unpack, Key};
use super::{tokens, LmError, BOS, EOS, MAX_ORDER, UNK};

/// A stored value: `f32` in a [`Model`] (as KenLM stores it), `f64` in an [`ExactModel`].
pub(crate) trait Value: Copy + Send + Sync + 'static {
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
    pub index: hashbrown::HashMap<String, u32, foldhash::fast::FixedState>,
    pub bos: u32,
    pub eos: u32,
    pub unk: u32,
}

impl Vocab {
    pub(crate) fn new(words: Vec<String>) -> Result<Vocab, String> {
        let mut index = hashbrown::HashMap::with_capacity_and_hasher(
            words.len(),
            foldhash::fast::FixedState::with_seed(0x766f63),
        );
        for (i, w) in words.iter().enumerate() {
            let id = u32::try_from(i).map_err(|_| "more than 2^32 words".to_string())?;
            if index.insert(w.clone(), id).is_some() {
                return Err(format!("the word {w:?} appears twice in the vocabulary"));
            }
        }
        let get = |w: &str| {
            index
                .get(w)
                .copied()
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
        self.index.get(word).copied()
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
    /// Per order k >= 2: `first[k-1][w]..first[k-1][w+1]` is the run of n-grams starting with
    /// word w, so a lookup searches only that run. Empty for unigrams.
    pub first: Vec<Vec<usize>>,
    /// True when unigram i is word i (always for estimated and ARPA-read models).
    pub dense_unigrams: bool,
    /// Hash indexes of orders >= 2 for queries, built on first use (fitting and writing never
    /// pay for them).
    pub hashes: std::sync::OnceLock<Vec<HashIndex>>,
}

/// Open-addressing hash index of one order's sorted keys: a slot holds a 32-bit fingerprint of
/// the key (high half) and index + 1 (low half; 0 = empty), linear probing, load at most 3/4.
/// Probing compares fingerprints inside the slots, so a lookup touches the key array only on a
/// likely hit: one or two cache misses instead of a binary search's dozen. 11-21 bytes per
/// n-gram, built on the first query.
#[derive(Clone, Debug, Default)]
pub(crate) struct HashIndex {
    slots: Vec<u64>,
    shift: u32,
}

impl HashIndex {
    fn build<K: Key>(keys: &[K]) -> HashIndex {
        let n = keys.len();
        if n < 64 || n >= u32::MAX as usize {
            return HashIndex::default(); // binary search is as fast (or indices do not fit)
        }
        let cap = (n + n / 3 + 1).next_power_of_two();
        let mask = cap - 1;
        let shift = 64 - cap.trailing_zeros();
        let mut slots = vec![0u64; cap];
        for (i, key) in keys.iter().enumerate() {
            let h = key.hash64();
            let mut s = (h >> shift) as usize;
            while slots[s] != 0 {
                s = (s + 1) & mask;
            }
            slots[s] = (h << 32) | (i as u64 + 1);
        }
        HashIndex { slots, shift }
    }

    #[inline]
    fn find<K: Key>(&self, keys: &[K], key: K) -> Option<usize> {
        let mask = self.slots.len() - 1;
        let h = key.hash64();
        let fingerprint = h << 32;
        let mut s = (h >> self.shift) as usize;
        loop {
            let v = *self.slots.get(s)?;
            if v == 0 {
                return None;
            }
            if v & 0xFFFF_FFFF_0000_0000 == fingerprint {
                let i = (v & 0xFFFF_FFFF) as usize - 1;
                if keys.get(i) == Some(&key) {
                    return Some(i);
                }
            }
            s = (s + 1) & mask;
        }
    }
}

fn first_word_index<K: Key, V>(
    tables: &[OrderTable<K, V>],
    bits: u32,
    vocab: usize,
) -> (Vec<Vec<usize>>, bool) {
    let mut first = vec![Vec::new()];
    for (i, t) in tables.iter().enumerate().skip(1) {
        let k = i + 1;
        let mut offs = vec![0usize; vocab + 1];
        for key in &t.keys {
            let w = key.word(k - 1, bits) as usize;
            if w < vocab {
                offs[w + 1] += 1;
            }
        }
        for w in 0..vocab {
            offs[w + 1] += offs[w];
        }
        first.push(offs);
    }
    let dense = tables.first().is_some_and(|t| {
        t.keys.len() == vocab
            && t.keys
                .iter()
                .enumerate()
                .all(|(i, k)| k.word(0, bits) as usize == i)
    });
    (first, dense)
}

#[inline]
fn find<K: Key, V: Value>(
    core: &Core<V>,
    tables: &[OrderTable<K, V>],
    ids: &[u32],
) -> Option<usize> {
    let k = ids.len();
    let table = tables.get(k.checked_sub(1)?)?;
    if k == 1 {
        if core.dense_unigrams {
            return ((ids[0] as usize) < table.keys.len()).then_some(ids[0] as usize);
        }
        return table.keys.binary_search(&pack::<K>(ids, core.bits)).ok();
    }
    let key = pack::<K>(ids, core.bits);
    let hashes = core.hashes.get_or_init(|| match &core.tables {
        Tables::Narrow(t) => t
            .par_iter()
            .skip(1)
            .map(|o| HashIndex::build(&o.keys))
            .collect(),
        Tables::Wide(t) => t
            .par_iter()
            .skip(1)
            .map(|o| HashIndex::build(&o.keys))
            .collect(),
    });
    if let Some(h) = hashes.get(k - 2).filter(|h| !h.slots.is_empty()) {
        return h.find(&table.keys, key);
    }
    let offs = core.first.get(k - 1)?;
    let w = ids[0] as usize;
    let (lo, hi) = (*offs.get(w)?, *offs.get(w + 1)?);
    table
        .keys
        .get(lo..hi)?
        .binary_search(&key)
        .ok()
        .map(|i| i + lo)
}

impl<V: Value> Core<V> {
    pub(crate) fn new(
        order: usize,
        vocab: Vocab,
        bits: u32,
        tables: Tables<V>,
        discounts: Vec<Discounts>,
    ) -> Core<V> {
        let n = vocab.words.len();
        let (first, dense_unigrams) = match &tables {
            Tables::Narrow(t) => first_word_index(t, bits, n),
            Tables::Wide(t) => first_word_index(t, bits, n),
        };
        Core {
            order,
            vocab,
            bits,
            tables,
            discounts,
            first,
            dense_unigrams,
            hashes: std::sync::OnceLock::new(),
        }
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
        let k = ids.len();
        match &self.tables {
            Tables::Narrow(t) => find(self, t, ids).map(|i| {
                let o = &t[k - 1];
                (
                    o.prob[i].to_f64(),
                    o.backoff.get(i).map_or(0.0, |b| b.to_f64()),
                )
            }),
            Tables::Wide(t) => find(self, t, ids).map(|i| {
                let o = &t[k - 1];
                (
                    o.prob[i].to_f64(),
                    o.backoff.get(i).map_or(0.0, |b| b.to_f64()),
                )
            }),
        }
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

    pub(crate) fn score_ids(&self, ids: &[u32], bos: bool, eos: bool) -> (Vec<f64>, f64) {
        // KenLM's state: the words of the longest n-gram matched at the previous position (at
        // most N-1) and their backoffs; `bo[m-1]` is the backoff of the last m words.
        let n1 = self.order - 1;
        let mut ctx = [0u32; MAX_ORDER];
        let mut bo = [0f64; MAX_ORDER];
        let mut ctx_len = 0;
        if bos && n1 > 0 {
            ctx[0] = self.vocab.bos;
            bo[0] = self.lookup(&[self.vocab.bos]).map_or(0.0, |(_, b)| b);
            ctx_len = 1;
        }
        let n = ids.len() + usize::from(eos);
        let mut per_token = Vec::with_capacity(n);
        let mut total = 0.0;
        let mut gram = [0u32; MAX_ORDER];
        for i in 0..n {
            let w = if i < ids.len() {
                ids[i]
            } else {
                self.vocab.eos
            };
            // Longest stored (context suffix, w), growing from the unigram.
            let (mut p, b0) = self.lookup(&[w]).unwrap_or((f64::NEG_INFINITY, 0.0));
            let mut new_bo = [0f64; MAX_ORDER];
            new_bo[0] = b0;
            let mut matched = 0;
            for l in 1..=ctx_len {
                gram[..l].copy_from_slice(&ctx[ctx_len - l..ctx_len]);
                gram[l] = w;
                match self.lookup(&gram[..=l]) {
                    Some((pl, bl)) => {
                        p = pl;
                        new_bo[l] = bl;
                        matched = l;
                    }
                    None => break,
                }
            }
            let lp = p + bo[matched..ctx_len].iter().sum::<f64>();
            total += lp;
            per_token.push(lp);
            // New state: the matched n-gram (with w), capped at N-1 words.
            let keep = (matched + 1).min(n1);
            let mut next_ctx = [0u32; MAX_ORDER];
            next_ctx[..keep - keep.min(1)]
                .copy_from_slice(&ctx[ctx_len + 1 - keep.max(1)..ctx_len]);
            if keep > 0 {
                next_ctx[keep - 1] = w;
            }
            ctx = next_ctx;
            bo = new_bo;
            ctx_len = keep;
        }
        (per_token, total)
    }

    pub(crate) fn score_text(
        &self,
        text: &str,
        bos: bool,
        eos: bool,
    ) -> Result<SentenceScore, LmError> {
        let mut ids = Vec::new();
        let oov = self.ids_of(tokens(text), &mut ids)?;
        let (log10_probs, total) = self.score_ids(&ids, bos, eos);
        Ok(SentenceScore {
            log10_probs,
            total,
            oov,
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
                first: c.first,
                dense_unigrams: c.dense_unigrams,
                hashes: c.hashes,
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
        texts
            .par_iter()
            .map(|t| self.core.score_text(t.as_ref(), bos, eos))
            .collect()
    }

    /// Perplexity over many sentences (parallel; the sum is taken in input order, so the result
    /// does not depend on the thread count).
    pub fn perplexity<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        bos: bool,
        eos: bool,
    ) -> Result<Perplexity, LmError> {
        let unk = self.core.vocab.unk;
        let parts: Vec<(f64, usize, usize, f64)> = texts
            .par_iter()
            .map(|t| {
                let mut ids = Vec::new();
                self.core.ids_of(tokens(t.as_ref()), &mut ids)?;
                let (lp, total) = self.core.score_ids(&ids, bos, eos);
                let mut oov = 0;
                let mut oov_log = 0.0;
                for (i, &id) in ids.iter().enumerate() {
                    if id == unk {
                        oov += 1;
                        oov_log += lp[i];
                    }
                }
                Ok((total, lp.len(), oov, oov_log))
            })
            .collect::<Result<_, LmError>>()?;
        let (mut total, mut n, mut oov, mut oov_log) = (0.0, 0usize, 0usize, 0.0);
        for (t, k, o, ol) in parts {
            total += t;
            n += k;
            oov += o;
            oov_log += ol;
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
