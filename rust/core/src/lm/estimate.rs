//! Modified Kneser-Ney estimation as lmplz (MATH.md section 7); see the module docs of
//! [`crate::lm`] for the stages.

use rayon::prelude::*;

use super::key::{pack, Key};
use super::model::{Core, ExactModel, Model, OrderTable, Tables, Value, Vocab};
use super::{check_order, FitOptions, LmError, RawCounts, BOS, EOS, UNK};

/// The discounts D1, D2, D3+ of one order, and the count-of-counts n1..n4 of its adjusted
/// counts they came from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Discounts {
    /// D1, D2, D3+.
    pub d: [f64; 3],
    /// n1..n4 of the adjusted counts.
    pub n: [u64; 4],
    /// True when the fallback discounts were substituted.
    pub fallback: bool,
}

impl Discounts {
    #[inline(always)]
    fn of(&self, count: u64) -> f64 {
        match count {
            0 => 0.0,
            1 => self.d[0],
            2 => self.d[1],
            _ => self.d[2],
        }
    }
}

/// Fits a modified Kneser-Ney model exactly as `lmplz` (log10 values stored as `f32`).
pub fn estimate(raw: &RawCounts, opts: &FitOptions) -> Result<Model, LmError> {
    let core = estimate_core::<f32>(RawInput::Borrowed(raw), opts)?;
    Ok(Model { core })
}

/// As [`estimate`], taking the counts by value: they are freed as soon as they are packed,
/// which lowers peak memory by the size of the input.
pub fn estimate_owned(raw: RawCounts, opts: &FitOptions) -> Result<Model, LmError> {
    let core = estimate_core::<f32>(RawInput::Owned(Box::new(raw)), opts)?;
    Ok(Model { core })
}

/// Fits the model and keeps the `f64` values.
pub fn estimate_exact(raw: &RawCounts, opts: &FitOptions) -> Result<ExactModel, LmError> {
    let core = estimate_core::<f64>(RawInput::Borrowed(raw), opts)?;
    Ok(ExactModel { core })
}

/// Borrowed or owned input; owned input is consumed while it is packed (stage 1).
enum RawInput<'a> {
    Borrowed(&'a RawCounts),
    Owned(Box<RawCounts>),
}

impl RawInput<'_> {
    fn get(&self) -> &RawCounts {
        match self {
            RawInput::Borrowed(r) => r,
            RawInput::Owned(r) => r,
        }
    }

    fn order(&self) -> usize {
        self.get().order
    }
}

fn estimate_core<V: OutValue>(input: RawInput<'_>, opts: &FitOptions) -> Result<Core<V>, LmError> {
    let raw = input.get();
    let order = raw.order;
    check_order(order)?;
    if raw.grams.len() != raw.counts.len() * order {
        return Err(LmError::BadCounts(format!(
            "{} ids for {} counts of order {order}",
            raw.grams.len(),
            raw.counts.len()
        )));
    }
    if raw.counts.is_empty() {
        return Err(LmError::EmptyCorpus);
    }
    let thresholds = prune_thresholds(&opts.prune, order)?;
    let (vocab, remap) = compact_vocab(raw)?;
    let (bits, wide) = Core::<V>::key_width(order, vocab.words.len())?;
    let (tables, discounts) = if wide {
        let (t, d) = run::<u128, V>(input, &vocab, &remap, bits, opts, &thresholds)?;
        (Tables::Wide(t), d)
    } else {
        let (t, d) = run::<u64, V>(input, &vocab, &remap, bits, opts, &thresholds)?;
        (Tables::Narrow(t), d)
    };
    Ok(Core::new(order, vocab, bits, tables, discounts))
}

/// Validates lmplz-style thresholds and pads them to one per order.
fn prune_thresholds(prune: &[u64], order: usize) -> Result<Vec<u64>, LmError> {
    if prune.is_empty() {
        return Ok(vec![0; order]);
    }
    let bad = |reason: &str| LmError::BadPrune {
        thresholds: prune.to_vec(),
        reason: reason.to_string(),
    };
    if prune.len() > order {
        return Err(bad("more thresholds than orders"));
    }
    if prune[0] != 0 {
        return Err(bad(
            "unigram pruning is not supported (as lmplz): the first threshold must be 0",
        ));
    }
    if prune.windows(2).any(|w| w[1] < w[0]) {
        return Err(bad("thresholds must be non-decreasing"));
    }
    let mut t = prune.to_vec();
    let last = t[t.len() - 1];
    t.resize(order, last);
    Ok(t)
}

/// Builds the model's vocabulary: `<unk>` = 0, `<s>` = 1, `</s>` = 2, then the other words that
/// occur in some n-gram, in the order of their input ids. Returns it with the map from input ids
/// to model ids (`u32::MAX` for unused ids). Validates the ids and the padding shape.
fn compact_vocab(raw: &RawCounts) -> Result<(Vocab, Vec<u32>), LmError> {
    let n_vocab = raw.vocab.len();
    let order = raw.order;
    let (bos, eos) = (raw.bos as usize, raw.eos as usize);
    if bos >= n_vocab || raw.vocab[bos] != BOS {
        return Err(LmError::BadCounts(format!(
            "bos id {bos} is not the id of {BOS} in the vocabulary"
        )));
    }
    if eos >= n_vocab || raw.vocab[eos] != EOS {
        return Err(LmError::BadCounts(format!(
            "eos id {eos} is not the id of {EOS} in the vocabulary"
        )));
    }
    let unk = raw.vocab.iter().position(|w| w == UNK);
    // Few large chunks: each one allocates a vocabulary-sized "used" vector.
    let chunk = (raw.counts.len() / (rayon::current_num_threads() * 4)).max(1 << 14);
    // Which ids occur, and is every gram shaped like a padded sentence window?
    let used = raw
        .grams
        .par_chunks(order.max(1) * chunk)
        .zip(raw.counts.par_chunks(chunk))
        .map(|(grams, counts)| {
            let mut used = vec![false; n_vocab];
            for (g, &c) in grams.chunks_exact(order).zip(counts) {
                check_gram(g, c, raw, unk)?;
                for &w in g {
                    used[w as usize] = true;
                }
            }
            Ok(used)
        })
        .try_reduce(
            || vec![false; n_vocab],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x |= y);
                Ok(a)
            },
        )?;
    if !used[eos] || (order > 1 && !used[bos]) {
        return Err(LmError::BadCounts(format!(
            "no n-gram contains {}: the counts are not of padded sentences (each line needs {} {BOS} before and one {EOS} after)",
            if used[eos] { BOS } else { EOS },
            order - 1
        )));
    }
    let mut words = vec![UNK.to_string(), BOS.to_string(), EOS.to_string()];
    let mut remap = vec![u32::MAX; n_vocab];
    remap[bos] = 1;
    remap[eos] = 2;
    if let Some(u) = unk {
        remap[u] = 0;
    }
    // Words in byte order of their text: the counting engine's ids depend on thread timing, and
    // the ARPA's order (unigrams, then each order's n-grams by id) must not.
    let mut order_ids: Vec<usize> = (0..raw.vocab.len()).collect();
    order_ids.sort_unstable_by(|&a, &b| raw.vocab[a].as_bytes().cmp(raw.vocab[b].as_bytes()));
    for id in order_ids {
        let w = &raw.vocab[id];
        if !used[id] || id == bos || id == eos || Some(id) == unk {
            continue;
        }
        if w.is_empty() || w.bytes().any(super::is_separator) {
            return Err(LmError::BadCounts(format!(
                "token {w:?} (id {id}) is empty or contains whitespace, which ARPA cannot hold"
            )));
        }
        remap[id] = words.len() as u32;
        words.push(w.clone());
    }
    let vocab = Vocab::new(words).map_err(LmError::BadCounts)?;
    Ok((vocab, remap))
}

fn check_gram(g: &[u32], count: u64, raw: &RawCounts, unk: Option<usize>) -> Result<(), LmError> {
    let show = || {
        g.iter()
            .map(|&w| {
                raw.vocab
                    .get(w as usize)
                    .map_or_else(|| format!("#{w}"), |s| s.clone())
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    if let Some(&w) = g.iter().find(|&&w| w as usize >= raw.vocab.len()) {
        return Err(LmError::BadCounts(format!(
            "id {w} is outside the vocabulary of {} words",
            raw.vocab.len()
        )));
    }
    if count == 0 {
        return Err(LmError::BadCounts(format!(
            "n-gram \"{}\" has count 0",
            show()
        )));
    }
    if let Some(u) = unk {
        if g.iter().any(|&w| w as usize == u) {
            return Err(LmError::BadCounts(format!(
                "n-gram \"{}\" contains {UNK}, which may not appear in the text",
                show()
            )));
        }
    }
    let n = g.len();
    // <s> may only form a prefix run that leaves at least the last word; </s> only last.
    let bos_run = g.iter().take_while(|&&w| w == raw.bos).count();
    if bos_run == n || g[bos_run..].contains(&raw.bos) || g[..n - 1].contains(&raw.eos) {
        return Err(LmError::BadCounts(format!(
            "n-gram \"{}\" is not a window of a padded sentence (<s> only as leading padding, </s> only last)",
            show()
        )));
    }
    Ok(())
}

struct Level<K> {
    keys: Vec<K>,
    /// Adjusted counts.
    counts: Vec<u64>,
    /// Raw occurrence counts, kept only when pruning (KenLM prunes lower orders on them).
    actual: Vec<u64>,
    /// For k >= 2: index of each n-gram's suffix in the (k-1) table.
    suffix: Vec<u32>,
}

fn internal(msg: &str) -> LmError {
    LmError::Internal(msg.to_string())
}

/// How a model stores its values: `f32` log10 clamped at 0 as lmplz writes them, or `f64` as
/// computed.
pub(crate) trait OutValue: Value + Default {
    fn prob(log10: f64) -> Self;
    fn backoff(log10: f64) -> Self;
}

impl OutValue for f32 {
    #[inline(always)]
    fn prob(log10: f64) -> f32 {
        log10.min(0.0) as f32
    }
    #[inline(always)]
    fn backoff(log10: f64) -> f32 {
        log10 as f32
    }
}

impl OutValue for f64 {
    #[inline(always)]
    fn prob(log10: f64) -> f64 {
        log10
    }
    #[inline(always)]
    fn backoff(log10: f64) -> f64 {
        log10
    }
}

/// Elements moved per step when one large array is turned into another from its end: about a
/// sixteenth of the array, so the source shrinks while the destination grows and the two never
/// need their full size together, with few enough steps that an allocator which copies on shrink
/// stays linear.
fn drain_step(len: usize) -> usize {
    (len / 16).max(1 << 16)
}

/// Stage 1: packs the order-N n-grams into keys. An n-gram with `<s>` at position j >= 1 goes to
/// `collapsed[N-j-1]` as the (N-j)-gram from its last `<s>`, with its raw count; the others are
/// returned with their counts, in no particular order. Owned input is packed from its end and
/// shrunk step by step, so the input and the packed n-grams do not both sit in memory whole.
#[allow(clippy::type_complexity)]
fn pack_top<K: Key>(
    raw: RawInput<'_>,
    remap: &[u32],
    bits: u32,
) -> (Vec<(K, u64)>, Vec<Vec<(K, u64)>>) {
    let order = raw.order();
    let nbos = raw.get().bos;
    let key_of = |g: &[u32]| {
        g.iter()
            .fold(K::default(), |k, &w| k.push(remap[w as usize], bits))
    };
    let mut collapsed: Vec<Vec<(K, u64)>> = vec![Vec::new(); order];
    let mut pack = |grams: &[u32], counts: &[u64], top: &mut Vec<(K, u64)>| {
        // Collapsed n-grams get count 0 here (input counts are never 0) and are dropped below:
        // unfiltered, the parallel extend writes in place.
        top.par_extend(
            grams
                .par_chunks_exact(order)
                .zip(counts.par_iter())
                .map(|(g, &c)| (key_of(g), if order > 1 && g[1] == nbos { 0 } else { c })),
        );
        if order > 1 {
            for (g, &c) in grams.chunks_exact(order).zip(counts) {
                if g[1] == nbos {
                    let j = g.iter().rposition(|&w| w == nbos).unwrap_or(0);
                    collapsed[order - j - 1].push((key_of(&g[j..]), c));
                }
            }
        }
    };
    let mut top = match raw {
        RawInput::Borrowed(r) => {
            let mut top = Vec::with_capacity(r.counts.len() + 2);
            pack(&r.grams, &r.counts, &mut top);
            top
        }
        RawInput::Owned(r) => {
            // The vocabulary is no longer needed: only the ids are.
            let RawCounts {
                mut grams,
                mut counts,
                ..
            } = *r;
            let mut top = Vec::with_capacity(counts.len() + 2);
            let step = drain_step(counts.len());
            while !counts.is_empty() {
                let start = counts.len().saturating_sub(step);
                pack(&grams[start * order..], &counts[start..], &mut top);
                grams.truncate(start * order);
                grams.shrink_to_fit();
                counts.truncate(start);
                counts.shrink_to_fit();
            }
            top
        }
    };
    top.retain(|e| e.1 != 0);
    (top, collapsed)
}

/// Splits (key, count) pairs sorted by descending key into ascending key and count arrays.
/// The pairs are taken from their end and shrunk step by step, so peak memory stays near one
/// copy of the table instead of two.
fn unzip_from_end<K: Copy>(mut pairs: Vec<(K, u64)>) -> (Vec<K>, Vec<u64>) {
    let mut keys = Vec::with_capacity(pairs.len());
    let mut counts = Vec::with_capacity(pairs.len());
    let step = drain_step(pairs.len());
    while !pairs.is_empty() {
        let start = pairs.len().saturating_sub(step);
        for &(k, c) in pairs[start..].iter().rev() {
            keys.push(k);
            counts.push(c);
        }
        pairs.truncate(start);
        pairs.shrink_to_fit();
    }
    (keys, counts)
}

/// Splits `0..keys.len()` into about `parts` ranges that do not cut a context's run.
fn context_chunks<K: Key>(keys: &[K], bits: u32, parts: usize) -> Vec<std::ops::Range<usize>> {
    let n = keys.len();
    let step = (n / parts.max(1)).max(1 << 12);
    let mut out = Vec::new();
    let mut start = 0;
    while start < n {
        let mut end = (start + step).min(n);
        while end < n && keys[end].context(bits) == keys[end - 1].context(bits) {
            end += 1;
        }
        out.push(start..end);
        start = end;
    }
    out
}

/// Splits `slice` into consecutive pieces of the lengths of `ranges`.
fn split_by<'a, T>(mut slice: &'a mut [T], ranges: &[std::ops::Range<usize>]) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(ranges.len());
    for r in ranges {
        let (head, tail) = std::mem::take(&mut slice).split_at_mut(r.len());
        out.push(head);
        slice = tail;
    }
    out
}

/// The statistics of one order that gamma and u need.
struct OrderStats<'a, K> {
    keys: &'a [K],
    counts: &'a [u64],
    pruned: &'a [bool],
    d: Discounts,
    bits: u32,
    unigram: bool,
}

impl<K: Key> OrderStats<'_, K> {
    /// End of the context run starting at `start`, its denominator and gamma (pruned n-grams
    /// count in the denominator and give their whole mass to gamma, as KenLM's AddRight).
    #[inline]
    fn run(&self, start: usize) -> (usize, f64, f64) {
        let ctx = self.keys[start].context(self.bits);
        let mut end = start;
        let mut denom = 0u64;
        let mut kinds = [0u64; 4];
        let mut normalizer = 0u64;
        while end < self.keys.len() && (self.unigram || self.keys[end].context(self.bits) == ctx) {
            let a = self.counts[end];
            denom = denom.saturating_add(a);
            if !self.pruned.is_empty() && self.pruned[end] {
                normalizer = normalizer.saturating_add(a);
            } else if a > 0 {
                kinds[a.min(3) as usize] += 1;
            }
            end += 1;
        }
        let d = &self.d.d;
        let gamma = (d[0] * kinds[1] as f64
            + d[1] * kinds[2] as f64
            + d[2] * kinds[3] as f64
            + normalizer as f64)
            / denom as f64;
        (end, denom as f64, gamma)
    }
}

/// Stage 2 for one order: the k-grams that are suffixes of the (k+1)-grams `upper` (adjusted
/// count: the number of (k+1)-grams they end) and the collapsed or zero-count k-grams `extra`
/// (their raw counts summed), merged into one sorted table; with, for every (k+1)-gram, the
/// index of its suffix in that table.
fn lower_level<K: Key>(
    upper: &Level<K>,
    mut extra: Vec<(K, u64)>,
    k: usize,
    bits: u32,
    pruning: bool,
) -> Result<(Level<K>, Vec<u32>), LmError> {
    let n = upper.keys.len();
    if n >= u32::MAX as usize || extra.len() >= u32::MAX as usize - n {
        return Err(LmError::BadCounts(
            "more than 2^32 - 1 n-grams of one order".to_string(),
        ));
    }
    let suffix_bits = bits * k as u32;
    extra.sort_unstable_by_key(|e| e.0);
    let index_bits = u64::BITS - (n as u64).leading_zeros();
    if suffix_bits + index_bits <= u64::BITS {
        // Suffix and index packed in one u64: half the memory of (key, index) pairs, and a
        // faster sort.
        let mask = (1u64 << index_bits) - 1;
        let mut sorted: Vec<u64> = Vec::new();
        upper
            .keys
            .par_iter()
            .enumerate()
            .map(|(i, key)| (key.low(suffix_bits).low_u64() << index_bits) | i as u64)
            .collect_into_vec(&mut sorted);
        sorted.par_sort_unstable();
        Ok(merge_suffixes(
            &sorted,
            |&e| (K::from_u64(e >> index_bits), (e & mask) as u32),
            &extra,
            upper,
            pruning,
        ))
    } else {
        let mut sorted: Vec<(K, u32)> = Vec::new();
        upper
            .keys
            .par_iter()
            .enumerate()
            .map(|(i, key)| (key.low(suffix_bits), i as u32))
            .collect_into_vec(&mut sorted);
        sorted.par_sort_unstable_by_key(|p| p.0);
        Ok(merge_suffixes(&sorted, |&p| p, &extra, upper, pruning))
    }
}

/// The merge of [`lower_level`]: `sorted` holds (suffix, index of its (k+1)-gram) entries in
/// suffix order, read through `entry`; `extra` is sorted.
fn merge_suffixes<K: Key, E: Sync>(
    sorted: &[E],
    entry: impl Fn(&E) -> (K, u32) + Sync,
    extra: &[(K, u64)],
    upper: &Level<K>,
    pruning: bool,
) -> (Level<K>, Vec<u32>) {
    // Distinct suffixes: counted first so the tables are allocated once. Collapsed k-grams start
    // with <s>, which ends no (k+1)-gram, so they are keys of their own.
    let distinct = sorted
        .par_windows(2)
        .filter(|w| entry(&w[0]).0 != entry(&w[1]).0)
        .count()
        + usize::from(!sorted.is_empty());
    let cap = distinct + extra.len();
    let mut keys: Vec<K> = Vec::with_capacity(cap);
    let mut counts: Vec<u64> = Vec::with_capacity(cap);
    let mut actual: Vec<u64> = Vec::with_capacity(if pruning { cap } else { 0 });
    let mut suffix_of_upper = vec![u32::MAX; upper.keys.len()];
    let (mut i, mut j) = (0, 0);
    loop {
        let key = match (sorted.get(i).map(&entry), extra.get(j)) {
            (Some((s, _)), Some(&(e, _))) => s.min(e),
            (Some((s, _)), None) => s,
            (None, Some(&(e, _))) => e,
            (None, None) => break,
        };
        let pos = keys.len();
        let (mut a, mut occurrences) = (0u64, 0u64);
        while let Some((s, up)) = sorted.get(i).map(&entry) {
            if s != key {
                break;
            }
            a += 1;
            if pruning {
                occurrences = occurrences.saturating_add(upper.actual[up as usize]);
            }
            suffix_of_upper[up as usize] = pos as u32;
            i += 1;
        }
        while j < extra.len() && extra[j].0 == key {
            a = a.saturating_add(extra[j].1);
            occurrences = occurrences.saturating_add(extra[j].1);
            j += 1;
        }
        keys.push(key);
        counts.push(a);
        if pruning {
            actual.push(occurrences);
        }
    }
    (
        Level {
            keys,
            counts,
            actual,
            suffix: Vec::new(),
        },
        suffix_of_upper,
    )
}

#[allow(clippy::type_complexity)]
fn run<K: Key, V: OutValue>(
    raw: RawInput<'_>,
    vocab: &Vocab,
    remap: &[u32],
    bits: u32,
    opts: &FitOptions,
    thresholds: &[u64],
) -> Result<(Vec<OrderTable<K, V>>, Vec<Discounts>), LmError> {
    let order = raw.order();
    let pruning = thresholds.iter().any(|&t| t > 0);
    let bos = vocab.bos;
    let parts = rayon::current_num_threads() * 8;

    // Stage 1: collapse, then sort the order-N table. Sorted by descending key, so that taking
    // it apart from its end yields ascending arrays.
    let (mut top, mut collapsed) = pack_top::<K>(raw, remap, bits);
    if order == 1 {
        // The unigram table holds <unk> and <s> with adjusted count 0.
        top.push((pack(&[vocab.unk], bits), 0));
        top.push((pack(&[bos], bits), 0));
    }
    if !top.par_windows(2).all(|w| w[0].0 > w[1].0) {
        top.par_sort_unstable_by(|a, b| b.0.cmp(&a.0));
        // Duplicate n-grams (should not happen) are summed.
        top.dedup_by(|next, kept| {
            if next.0 == kept.0 {
                kept.1 = kept.1.saturating_add(next.1);
                true
            } else {
                false
            }
        });
    }
    let (keys, counts) = unzip_from_end(top);
    let actual = if pruning { counts.clone() } else { Vec::new() };
    let mut levels: Vec<Level<K>> = Vec::with_capacity(order);
    levels.push(Level {
        keys,
        counts,
        actual,
        suffix: Vec::new(),
    });

    // Stage 2: adjusted counts of orders N-1 .. 1.
    for k in (1..order).rev() {
        let upper = levels.last().ok_or_else(|| internal("no upper level"))?;
        // After the collapse no n-gram has <s> past its first word, so every (k+1)-gram has a
        // suffix (the `g[1] != <s>` rule of MATH.md 7.3 holds by construction).
        if upper
            .keys
            .par_iter()
            .any(|key| key.word(k - 1, bits) == bos)
        {
            return Err(internal("<s> inside an n-gram after the collapse"));
        }
        let mut extra = std::mem::take(&mut collapsed[k - 1]);
        if k == 1 {
            extra.push((pack(&[vocab.unk], bits), 0));
            extra.push((pack(&[bos], bits), 0));
        }
        let (level, suffix) = lower_level(upper, extra, k, bits, pruning)?;
        if let Some(upper) = levels.last_mut() {
            upper.suffix = suffix;
        }
        levels.push(level);
    }
    levels.reverse(); // levels[k-1] is order k

    // Stage 3: discounts from the count-of-counts of adjusted counts (pruned n-grams included,
    // as KenLM's StatCollector).
    let discounts: Vec<Discounts> = levels
        .iter()
        .enumerate()
        .map(|(i, l)| discounts_for(i + 1, &l.counts, opts.discount_fallback))
        .collect::<Result<_, _>>()?;

    // Pruned flags: order N by raw count, lower orders by raw occurrence count; <unk>, <s>,
    // </s> never.
    let pruned: Vec<Vec<bool>> = levels
        .iter_mut()
        .enumerate()
        .map(|(i, l)| {
            if !pruning {
                return Vec::new();
            }
            let t = thresholds[i];
            let src = if l.actual.is_empty() {
                &l.counts
            } else {
                &l.actual
            };
            let flags = l
                .keys
                .iter()
                .zip(src)
                .map(|(key, &c)| {
                    let special = i == 0 && {
                        let w = key.word(0, bits);
                        w == vocab.unk || w == bos || w == vocab.eos
                    };
                    t > 0 && c <= t && !special
                })
                .collect();
            l.actual = Vec::new();
            flags
        })
        .collect();

    // Stage 4: probabilities, lowest order first (linear values of the previous order kept for
    // the interpolation), then the backoffs of the order below. An order's counts are freed
    // once its probabilities and the backoffs they give are done.
    let mut tables: Vec<OrderTable<K, V>> = Vec::with_capacity(order);
    let mut lower_lin: Vec<f64> = Vec::new();
    for k in 1..=order {
        let l = &levels[k - 1];
        let stats = OrderStats {
            keys: &l.keys,
            counts: &l.counts,
            pruned: &pruned[k - 1],
            d: discounts[k - 1],
            bits,
            unigram: k == 1,
        };
        let n = l.keys.len();
        let mut out: Vec<V> = vec![V::default(); n];
        let mut lin: Vec<f64> = if k < order { vec![0.0; n] } else { Vec::new() };
        if k == 1 {
            let (_, denom, gamma) = stats.run(0);
            let unigrams = n - pruned[0].iter().filter(|&&x| x).count();
            let v = (unigrams - 1) as f64; // <unk> and </s> count, <s> not
            let d = &discounts[0];
            for (i, slot) in out.iter_mut().enumerate() {
                let w = l.keys[i].word(0, bits);
                let a = l.counts[i];
                let p = if w == bos {
                    1.0
                } else if w == vocab.unk && !opts.interpolate_unigrams {
                    gamma
                } else {
                    let u = if a > 0 {
                        (a as f64 - d.of(a)) / denom
                    } else {
                        0.0
                    };
                    if opts.interpolate_unigrams {
                        u + gamma / v
                    } else {
                        u
                    }
                };
                *slot = V::prob(p.log10());
                if let Some(x) = lin.get_mut(i) {
                    *x = p;
                }
            }
        } else {
            let chunks = context_chunks(&l.keys, bits, parts);
            let outs = split_by(&mut out, &chunks);
            let lins = if lin.is_empty() {
                Vec::new()
            } else {
                split_by(&mut lin, &chunks)
            };
            let mut jobs: Vec<(std::ops::Range<usize>, &mut [V], Option<&mut [f64]>)> = Vec::new();
            let mut lins = lins.into_iter();
            for (r, o) in chunks.iter().cloned().zip(outs) {
                jobs.push((r, o, lins.next()));
            }
            let lower = &lower_lin;
            let d = discounts[k - 1];
            let suffix = &l.suffix;
            jobs.into_par_iter().try_for_each(|(range, out, mut lin)| {
                let base = range.start;
                let mut start = range.start;
                while start < range.end {
                    let (end, denom, gamma) = stats.run(start);
                    for i in start..end {
                        let a = l.counts[i];
                        let lp = *suffix
                            .get(i)
                            .and_then(|&si| lower.get(si as usize))
                            .ok_or_else(|| internal("missing suffix"))?;
                        let p = (a as f64 - d.of(a)) / denom + gamma * lp;
                        out[i - base] = V::prob(p.log10());
                        if let Some(lin) = lin.as_deref_mut() {
                            lin[i - base] = p;
                        }
                    }
                    start = end;
                }
                Ok::<(), LmError>(())
            })?;
            // Backoffs of order k-1: gamma of the (k-1)-gram as a context here; 1 otherwise and
            // for n-grams ending in <unk> or </s>.
            let lower_keys = &levels[k - 2].keys;
            let bo = &mut tables[k - 2].backoff;
            bo.resize(lower_keys.len(), V::backoff(0.0));
            const CH: usize = 1 << 14;
            bo.par_chunks_mut(CH).enumerate().for_each(|(c, bo)| {
                let a = c * CH;
                let mut j = l
                    .keys
                    .partition_point(|key| key.context(bits) < lower_keys[a]);
                for (x, slot) in bo.iter_mut().enumerate() {
                    let ctx = lower_keys[a + x];
                    while j < n && l.keys[j].context(bits) < ctx {
                        j += 1;
                    }
                    if j < n && l.keys[j].context(bits) == ctx {
                        let (end, _, gamma) = stats.run(j);
                        let last = ctx.word(0, bits);
                        if last != vocab.unk && last != vocab.eos {
                            *slot = V::backoff(gamma.log10());
                        }
                        j = end;
                    }
                }
            });
        }
        lower_lin = lin;
        levels[k - 1].counts = Vec::new();
        levels[k - 1].suffix = Vec::new();
        tables.push(OrderTable {
            keys: Vec::new(),
            prob: out,
            backoff: Vec::new(),
        });
    }
    drop(lower_lin);

    // Stage 5: keys into the tables, pruned n-grams out.
    for (k, (l, t)) in levels.into_iter().zip(tables.iter_mut()).enumerate() {
        t.keys = l.keys;
        if pruning {
            let keep = &pruned[k];
            let mut it = keep.iter();
            t.keys.retain(|_| !*it.next().unwrap_or(&true));
            let mut it = keep.iter();
            t.prob.retain(|_| !*it.next().unwrap_or(&true));
            let mut it = keep.iter();
            t.backoff.retain(|_| !*it.next().unwrap_or(&true));
        }
    }
    Ok((tables, discounts))
}

/// Discounts of one order (Chen and Goodman eq. 26), with lmplz's checks: n1, n2, n3 must be
/// non-zero and each D_j within [0, j]. lmplz computes them in single precision.
fn discounts_for(
    order: usize,
    counts: &[u64],
    fallback: Option<[f64; 3]>,
) -> Result<Discounts, LmError> {
    let mut n = [0u64; 5];
    for &c in counts {
        if (1..=4).contains(&c) {
            n[c as usize] += 1;
        }
    }
    let nn = [n[1], n[2], n[3], n[4]];
    let fail = |reason: String| -> Result<Discounts, LmError> {
        match fallback {
            Some(d) => Ok(Discounts {
                d,
                n: nn,
                fallback: true,
            }),
            None => Err(LmError::BadDiscount {
                order,
                reason,
                n1: n[1],
                n2: n[2],
                n3: n[3],
                n4: n[4],
            }),
        }
    };
    if let Some(j) = (1..4).find(|&j| n[j] == 0) {
        return fail(format!(
            "no {order}-grams with adjusted count {j}, so D{} is undefined",
            j
        ));
    }
    let y = n[1] as f32 / (n[1] as f64 + 2.0 * n[2] as f64) as f32;
    let mut d = [0f64; 3];
    for j in 1..4 {
        let dj = j as f32 - (j + 1) as f32 * y * n[j + 1] as f32 / n[j] as f32;
        if !(0.0..=j as f32).contains(&dj) {
            return fail(format!(
                "D{} = {dj} is outside [0, {j}]",
                if j == 3 {
                    "3+".to_string()
                } else {
                    j.to_string()
                }
            ));
        }
        d[j - 1] = dj as f64;
    }
    Ok(Discounts {
        d,
        n: nn,
        fallback: false,
    })
}
