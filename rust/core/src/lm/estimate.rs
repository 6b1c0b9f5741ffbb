//! Modified Kneser-Ney estimation as lmplz (MATH.md section 7); see the module docs of
//! [`crate::lm`] for the stages.

use rayon::prelude::*;

use super::key::{pack, Key};
use super::model::{Core, ExactModel, Model, OrderTable, Tables, Vocab};
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
    Ok(estimate_exact(raw, opts)?.to_model())
}

/// Fits the model and keeps the `f64` values.
pub fn estimate_exact(raw: &RawCounts, opts: &FitOptions) -> Result<ExactModel, LmError> {
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
    let (bits, wide) = Core::<f64>::key_width(order, vocab.words.len())?;
    let (tables, discounts) = if wide {
        let (t, d) = run::<u128>(raw, &vocab, &remap, bits, opts, &thresholds)?;
        (Tables::Wide(t), d)
    } else {
        let (t, d) = run::<u64>(raw, &vocab, &remap, bits, opts, &thresholds)?;
        (Tables::Narrow(t), d)
    };
    Ok(ExactModel { core: Core { order, vocab, bits, tables, discounts } })
}

/// Validates lmplz-style thresholds and pads them to one per order.
fn prune_thresholds(prune: &[u64], order: usize) -> Result<Vec<u64>, LmError> {
    if prune.is_empty() {
        return Ok(vec![0; order]);
    }
    let bad = |reason: &str| LmError::BadPrune { thresholds: prune.to_vec(), reason: reason.to_string() };
    if prune.len() > order {
        return Err(bad("more thresholds than orders"));
    }
    if prune[0] != 0 {
        return Err(bad("unigram pruning is not supported (as lmplz): the first threshold must be 0"));
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
        return Err(LmError::BadCounts(format!("bos id {bos} is not the id of {BOS} in the vocabulary")));
    }
    if eos >= n_vocab || raw.vocab[eos] != EOS {
        return Err(LmError::BadCounts(format!("eos id {eos} is not the id of {EOS} in the vocabulary")));
    }
    let unk = raw.vocab.iter().position(|w| w == UNK);
    // Which ids occur, and is every gram shaped like a padded sentence window?
    let used = raw
        .grams
        .par_chunks(order.max(1) * 4096)
        .zip(raw.counts.par_chunks(4096))
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
    let mut words = vec![UNK.to_string(), BOS.to_string(), EOS.to_string()];
    let mut remap = vec![u32::MAX; n_vocab];
    remap[bos] = 1;
    remap[eos] = 2;
    if let Some(u) = unk {
        remap[u] = 0;
    }
    for (id, w) in raw.vocab.iter().enumerate() {
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
            .map(|&w| raw.vocab.get(w as usize).map_or_else(|| format!("#{w}"), |s| s.clone()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    if let Some(&w) = g.iter().find(|&&w| w as usize >= raw.vocab.len()) {
        return Err(LmError::BadCounts(format!("id {w} is outside the vocabulary of {} words", raw.vocab.len())));
    }
    if count == 0 {
        return Err(LmError::BadCounts(format!("n-gram \"{}\" has count 0", show())));
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

/// Tag of a sort entry: an index into the (k+1)-gram table, a collapsed `<s>` n-gram, or a
/// zero-count placeholder (`<unk>`, `<s>` unigrams).
const BOS_TAG: u32 = 1 << 31;
const ZERO_TAG: u32 = u32::MAX;

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

#[allow(clippy::type_complexity)]
fn run<K: Key>(
    raw: &RawCounts,
    vocab: &Vocab,
    remap: &[u32],
    bits: u32,
    opts: &FitOptions,
    thresholds: &[u64],
) -> Result<(Vec<OrderTable<K, f64>>, Vec<Discounts>), LmError> {
    let order = raw.order;
    let pruning = thresholds.iter().any(|&t| t > 0);
    let bos = vocab.bos;
    let nbos = raw.bos;

    // Stage 1: collapse. N-grams with <s> at position >= 1 go to their lower order.
    let mut top: Vec<(K, u64)> = raw
        .grams
        .par_chunks_exact(order)
        .zip(raw.counts.par_iter())
        .filter(|(g, _)| order == 1 || g[1] != nbos)
        .map(|(g, &c)| (g.iter().fold(K::default(), |k, &w| k.push(remap[w as usize], bits)), c))
        .collect();
    let mut collapsed: Vec<Vec<(K, u64)>> = vec![Vec::new(); order];
    if order > 1 {
        for (g, &c) in raw.grams.chunks_exact(order).zip(&raw.counts) {
            if g[1] == nbos {
                let j = g.iter().rposition(|&w| w == nbos).unwrap_or(0);
                let key = g[j..].iter().fold(K::default(), |k, &w| k.push(remap[w as usize], bits));
                collapsed[order - j - 1].push((key, c));
            }
        }
    }
    if order == 1 {
        // The unigram table holds <unk> and <s> with adjusted count 0.
        top.push((pack(&[vocab.unk], bits), 0));
        top.push((pack(&[bos], bits), 0));
    }
    if !top.windows(2).all(|w| w[0].0 <= w[1].0) {
        top.par_sort_unstable_by_key(|e| e.0);
    }
    // Duplicate n-grams (should not happen) are summed.
    top.dedup_by(|next, kept| {
        if next.0 == kept.0 {
            kept.1 += next.1;
            true
        } else {
            false
        }
    });
    let (keys, counts): (Vec<K>, Vec<u64>) = top.into_iter().unzip();
    let actual = if pruning { counts.clone() } else { Vec::new() };
    let mut levels: Vec<Level<K>> = Vec::with_capacity(order);
    levels.push(Level { keys, counts, actual, suffix: Vec::new() });

    // Stage 2: adjusted counts of orders N-1 .. 1, and suffix indices.
    for k in (1..order).rev() {
        let upper = levels.last_mut().ok_or_else(|| internal("no upper level"))?;
        let suffix_bits = bits * k as u32;
        // Second word of a (k+1)-gram: position k-1 from the right.
        let mut pairs: Vec<(K, u32)> = upper
            .keys
            .par_iter()
            .enumerate()
            .filter(|(_, key)| key.word(k - 1, bits) != bos)
            .map(|(i, key)| (key.low(suffix_bits), i as u32))
            .collect();
        for (j, &(key, _)) in collapsed[k - 1].iter().enumerate() {
            pairs.push((key, BOS_TAG | j as u32));
        }
        if k == 1 {
            pairs.push((pack(&[vocab.unk], bits), ZERO_TAG));
            pairs.push((pack(&[bos], bits), ZERO_TAG));
        }
        if upper.keys.len() >= BOS_TAG as usize || collapsed[k - 1].len() >= BOS_TAG as usize {
            return Err(LmError::BadCounts("more than 2^31 n-grams of one order".to_string()));
        }
        pairs.par_sort_unstable_by_key(|p| p.0);
        let mut keys: Vec<K> = Vec::new();
        let mut counts: Vec<u64> = Vec::new();
        let mut actual: Vec<u64> = Vec::new();
        let mut suffix_of_upper = vec![u32::MAX; upper.keys.len()];
        for &(key, tag) in &pairs {
            if keys.last() != Some(&key) {
                keys.push(key);
                counts.push(0);
                if pruning {
                    actual.push(0);
                }
            }
            let pos = keys.len() - 1;
            if tag == ZERO_TAG {
                continue;
            }
            if tag & BOS_TAG != 0 {
                let c = collapsed[k - 1][(tag & !BOS_TAG) as usize].1;
                counts[pos] += c;
                if pruning {
                    actual[pos] += c;
                }
            } else {
                counts[pos] += 1;
                if pruning {
                    actual[pos] += upper.actual[tag as usize];
                }
                suffix_of_upper[tag as usize] = pos as u32;
            }
        }
        drop(pairs);
        upper.suffix = suffix_of_upper;
        if keys.len() >= BOS_TAG as usize {
            return Err(LmError::BadCounts("more than 2^31 n-grams of one order".to_string()));
        }
        levels.push(Level { keys, counts, actual, suffix: Vec::new() });
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
    let pruned: Vec<Vec<bool>> = if pruning {
        levels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let t = thresholds[i];
                let src = if l.actual.is_empty() { &l.counts } else { &l.actual };
                l.keys
                    .iter()
                    .zip(src)
                    .map(|(key, &c)| {
                        let special = i == 0 && {
                            let w = key.word(0, bits);
                            w == vocab.unk || w == bos || w == vocab.eos
                        };
                        t > 0 && c <= t && !special
                    })
                    .collect()
            })
            .collect()
    } else {
        Vec::new()
    };

    // Stage 4: probabilities, lowest order first, and gammas of every context.
    let mut prob: Vec<Vec<f64>> = Vec::with_capacity(order);
    let mut backoff: Vec<Vec<f64>> = levels.iter().take(order - 1).map(|l| vec![1.0; l.keys.len()]).collect();
    for k in 1..=order {
        let l = &levels[k - 1];
        let d = &discounts[k - 1];
        let no_prune: &[bool] = &[];
        let pr = if pruning { &pruned[k - 1][..] } else { no_prune };
        let is_pruned = |i: usize| pruning && pr[i];
        // Context runs: [start, end) with denominator and gamma.
        let mut runs: Vec<(usize, usize, f64, f64)> = Vec::new();
        let mut start = 0;
        while start < l.keys.len() {
            let ctx = l.keys[start].context(bits);
            let mut end = start;
            let mut denom = 0u64;
            let mut kinds = [0u64; 4];
            let mut normalizer = 0u64;
            while end < l.keys.len() && (k == 1 || l.keys[end].context(bits) == ctx) {
                let a = l.counts[end];
                denom += a;
                if is_pruned(end) {
                    normalizer += a;
                } else if a > 0 {
                    kinds[a.min(3) as usize] += 1;
                }
                end += 1;
            }
            if denom == 0 {
                return Err(internal("a context with zero total count"));
            }
            let gamma = (d.d[0] * kinds[1] as f64 + d.d[1] * kinds[2] as f64 + d.d[2] * kinds[3] as f64
                + normalizer as f64)
                / denom as f64;
            runs.push((start, end, denom as f64, gamma));
            start = end;
        }
        let mut p = vec![0.0f64; l.keys.len()];
        if k == 1 {
            let &(_, _, denom, gamma) = runs.first().ok_or_else(|| internal("no unigrams"))?;
            let unigrams = l.keys.len() - pr.iter().filter(|&&x| x).count();
            let v = (unigrams - 1) as f64; // <unk> and </s> count, <s> not
            for (i, pi) in p.iter_mut().enumerate() {
                let w = l.keys[i].word(0, bits);
                let a = l.counts[i];
                *pi = if w == bos {
                    1.0
                } else if w == vocab.unk && !opts.interpolate_unigrams {
                    gamma
                } else {
                    let u = if a > 0 { (a as f64 - d.of(a)) / denom } else { 0.0 };
                    if opts.interpolate_unigrams {
                        u + gamma / v
                    } else {
                        u
                    }
                };
            }
        } else {
            let lower = &prob[k - 2];
            let chunks: Vec<_> = split_runs(&runs, rayon::current_num_threads() * 8);
            let mut rest: &mut [f64] = &mut p;
            let mut slices = Vec::with_capacity(chunks.len());
            for c in &chunks {
                let len = runs[c.end - 1].1 - runs[c.start].0;
                let (head, tail) = rest.split_at_mut(len);
                slices.push((c.clone(), head));
                rest = tail;
            }
            slices.into_par_iter().try_for_each(|(range, out)| {
                let base = runs[range.start].0;
                for &(s, e, denom, gamma) in &runs[range] {
                    for i in s..e {
                        let a = l.counts[i];
                        let si = l.suffix[i] as usize;
                        let lp = *lower.get(si).ok_or_else(|| internal("missing suffix"))?;
                        out[i - base] = (a as f64 - d.of(a)) / denom + gamma * lp;
                    }
                }
                Ok::<(), LmError>(())
            })?;
            // Backoff of the (k-1)-grams that are contexts here: merge sorted contexts with the
            // sorted (k-1)-gram table.
            let lower_keys = &levels[k - 2].keys;
            let bo = &mut backoff[k - 2];
            let mut j = 0;
            for &(s, _, _, gamma) in &runs {
                let ctx = l.keys[s].context(bits);
                while j < lower_keys.len() && lower_keys[j] < ctx {
                    j += 1;
                }
                if j < lower_keys.len() && lower_keys[j] == ctx {
                    let last = ctx.word(0, bits);
                    if last != vocab.unk && last != vocab.eos {
                        bo[j] = gamma;
                    }
                }
            }
        }
        prob.push(p);
    }

    // Stage 5: log10 and pruning.
    let mut tables = Vec::with_capacity(order);
    for (k, (l, p)) in levels.into_iter().zip(prob).enumerate() {
        let b = if k + 1 < order { std::mem::take(&mut backoff[k]) } else { Vec::new() };
        let mut t = OrderTable {
            keys: l.keys,
            prob: p.into_par_iter().map(f64::log10).collect(),
            backoff: b.into_par_iter().map(f64::log10).collect(),
        };
        if pruning {
            let keep = &pruned[k];
            let mut it = keep.iter();
            t.keys.retain(|_| !*it.next().unwrap_or(&true));
            let mut it = keep.iter();
            t.prob.retain(|_| !*it.next().unwrap_or(&true));
            let mut it = keep.iter();
            t.backoff.retain(|_| !*it.next().unwrap_or(&true));
        }
        tables.push(t);
    }
    Ok((tables, discounts))
}

/// Groups consecutive runs into about `parts` chunks of similar total length.
fn split_runs(runs: &[(usize, usize, f64, f64)], parts: usize) -> Vec<std::ops::Range<usize>> {
    let total = runs.last().map_or(0, |r| r.1);
    let target = (total / parts.max(1)).max(1);
    let mut out = Vec::new();
    let mut start = 0;
    while start < runs.len() {
        let begin = runs[start].0;
        let mut end = start + 1;
        while end < runs.len() && runs[end].0 - begin < target {
            end += 1;
        }
        out.push(start..end);
        start = end;
    }
    out
}

/// Discounts of one order (Chen and Goodman eq. 26), with lmplz's checks: n1, n2, n3 must be
/// non-zero and each D_j within [0, j]. lmplz computes them in single precision.
fn discounts_for(order: usize, counts: &[u64], fallback: Option<[f64; 3]>) -> Result<Discounts, LmError> {
    let mut n = [0u64; 5];
    for &c in counts {
        if (1..=4).contains(&c) {
            n[c as usize] += 1;
        }
    }
    let nn = [n[1], n[2], n[3], n[4]];
    let fail = |reason: String| -> Result<Discounts, LmError> {
        match fallback {
            Some(d) => Ok(Discounts { d, n: nn, fallback: true }),
            None => Err(LmError::BadDiscount { order, reason, n1: n[1], n2: n[2], n3: n[3], n4: n[4] }),
        }
    };
    if let Some(j) = (1..4).find(|&j| n[j] == 0) {
        return fail(format!("no {order}-grams with adjusted count {j}, so D{} is undefined", j));
    }
    let y = n[1] as f32 / (n[1] as f64 + 2.0 * n[2] as f64) as f32;
    let mut d = [0f64; 3];
    for j in 1..4 {
        let dj = j as f32 - (j + 1) as f32 * y * n[j + 1] as f32 / n[j] as f32;
        if !(0.0..=j as f32).contains(&dj) {
            return fail(format!("D{} = {dj} is outside [0, {j}]", if j == 3 { "3+".to_string() } else { j.to_string() }));
        }
        d[j - 1] = dj as f64;
    }
    Ok(Discounts { d, n: nn, fallback: false })
}
