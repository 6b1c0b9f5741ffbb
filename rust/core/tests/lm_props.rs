//! Property tests: the estimator equals a direct HashMap transcription of MATH.md section 7
//! (the same steps as shared/tools/reference.py), and every context's distribution sums to one.

use std::collections::{BTreeSet, HashMap};

use monofact_core::lm::{self, ExactModel, FitOptions, BOS, EOS, UNK};
use proptest::prelude::*;

type Gram = Vec<String>;

/// Straight transcription of reference.py's `train_mkn`, with lmplz's discount rule (n1..n3
/// non-zero, D_j in [0, j], computed in single precision) and its fallback.
fn reference(
    lines: &[Vec<String>],
    order: usize,
    opts: &FitOptions,
) -> Option<HashMap<Gram, (f64, Option<f64>)>> {
    let mut raw: HashMap<Gram, u64> = HashMap::new();
    for words in lines {
        let mut seq: Vec<String> = vec![BOS.to_string(); order - 1];
        seq.extend(words.iter().cloned());
        seq.push(EOS.to_string());
        for w in seq.windows(order) {
            *raw.entry(w.to_vec()).or_default() += 1;
        }
    }
    let mut adjusted: Vec<HashMap<Gram, u64>> = vec![HashMap::new(); order + 1];
    for (gram, c) in &raw {
        let last_bos = gram.iter().rposition(|w| w == BOS);
        match last_bos {
            Some(j) if j >= 1 => *adjusted[order - j].entry(gram[j..].to_vec()).or_default() += c,
            _ => *adjusted[order].entry(gram.clone()).or_default() += c,
        }
    }
    for k in (1..order).rev() {
        let upper: Vec<Gram> = adjusted[k + 1].keys().cloned().collect();
        for gram in upper {
            if gram[1] != BOS {
                *adjusted[k].entry(gram[1..].to_vec()).or_default() += 1;
            }
        }
    }
    adjusted[1].entry(vec![UNK.to_string()]).or_default();
    adjusted[1].entry(vec![BOS.to_string()]).or_default();
    let mut discounts = vec![[0f64; 4]; order + 1];
    for k in 1..=order {
        let mut n = [0u64; 5];
        for &c in adjusted[k].values() {
            if (1..=4).contains(&c) {
                n[c as usize] += 1;
            }
        }
        let mut d = [0f64; 4];
        let mut ok = n[1] > 0 && n[2] > 0 && n[3] > 0;
        if ok {
            let y = n[1] as f32 / (n[1] as f64 + 2.0 * n[2] as f64) as f32;
            for j in 1..4 {
                let dj = j as f32 - (j + 1) as f32 * y * n[j + 1] as f32 / n[j] as f32;
                ok &= (0.0..=j as f32).contains(&dj);
                d[j] = dj as f64;
            }
        }
        if !ok {
            let f = opts.discount_fallback?;
            d = [0.0, f[0], f[1], f[2]];
        }
        discounts[k] = d;
    }
    let mut denominator: Vec<HashMap<Gram, u64>> = vec![HashMap::new(); order + 1];
    let mut kinds: Vec<HashMap<Gram, [u64; 4]>> = vec![HashMap::new(); order + 1];
    for k in 1..=order {
        for (gram, &c) in &adjusted[k] {
            let ctx = gram[..k - 1].to_vec();
            *denominator[k].entry(ctx.clone()).or_default() += c;
            let e = kinds[k].entry(ctx).or_default();
            if c > 0 {
                e[c.min(3) as usize] += 1;
            }
        }
    }
    let gamma = |k: usize, ctx: &Gram| -> f64 {
        let kk = kinds[k][ctx];
        (1..4).map(|j| discounts[k][j] * kk[j] as f64).sum::<f64>() / denominator[k][ctx] as f64
    };
    let vocab_size = (adjusted[1].len() - 1) as f64;
    let mut prob: HashMap<Gram, f64> = HashMap::new();
    for k in 1..=order {
        let mut grams: Vec<&Gram> = adjusted[k].keys().collect();
        grams.sort();
        for gram in grams {
            let c = adjusted[k][gram];
            let ctx = gram[..k - 1].to_vec();
            let d = discounts[k][c.min(3) as usize];
            let p = if k == 1 {
                let g = gamma(1, &ctx);
                if gram[0] == BOS {
                    1.0
                } else if gram[0] == UNK && !opts.interpolate_unigrams {
                    g
                } else {
                    let u = if c > 0 {
                        (c as f64 - d) / denominator[1][&ctx] as f64
                    } else {
                        0.0
                    };
                    u + if opts.interpolate_unigrams {
                        g / vocab_size
                    } else {
                        0.0
                    }
                }
            } else {
                (c as f64 - d) / denominator[k][&ctx] as f64
                    + gamma(k, &ctx) * prob[&gram[1..].to_vec()]
            };
            prob.insert(gram.clone(), p);
        }
    }
    let mut out = HashMap::new();
    for (gram, p) in &prob {
        let k = gram.len();
        let b = if k < order {
            let last = &gram[k - 1];
            Some(
                if last == UNK || last == EOS || !kinds[k + 1].contains_key(gram) {
                    0.0
                } else {
                    gamma(k + 1, gram).log10()
                },
            )
        } else {
            None
        };
        out.insert(gram.clone(), (p.log10(), b));
    }
    Some(out)
}

fn corpus() -> impl Strategy<Value = Vec<Vec<String>>> {
    let word = (0u8..7).prop_map(|i| format!("w{i}"));
    prop::collection::vec(prop::collection::vec(word, 0..8), 1..25)
}

fn lines_of(c: &[Vec<String>]) -> Vec<String> {
    c.iter().map(|l| l.join(" ")).collect()
}

/// Every context that matters: the stored n-grams of orders < N, the empty context, and a few
/// unseen ones. Returns the largest |sum_w p(w|ctx) - 1| over the vocabulary without <s>.
fn worst_sum(model: &ExactModel) -> f64 {
    let mut contexts: BTreeSet<Vec<String>> = BTreeSet::new();
    contexts.insert(Vec::new());
    for k in 1..model.order() {
        for e in model.entries(k) {
            contexts.insert(e.words.clone());
        }
    }
    contexts.insert(vec!["w0".into(), "w0".into(), "nonword".into()]);
    contexts.insert(vec![EOS.into(), "w1".into()]);
    let words: Vec<&str> = model
        .vocab()
        .iter()
        .map(String::as_str)
        .filter(|w| *w != BOS)
        .collect();
    let mut worst = 0.0f64;
    for ctx in &contexts {
        let c: Vec<&str> = ctx.iter().map(String::as_str).collect();
        let sum: f64 = words
            .iter()
            .map(|w| 10f64.powf(model.log10_prob(&c, w)))
            .sum();
        worst = worst.max((sum - 1.0).abs());
    }
    worst
}

/// Scores a sentence by the textbook back-off recursion over the model's stored entries (a
/// HashMap, no probing table, no state machine): p(w | h) = p(h w) if stored, else b(h) + p(w |
/// h without its first word), with h the last N-1 words.
fn recursion_scores(model: &lm::Model, toks: &[String], bos: bool, eos: bool) -> Vec<f64> {
    let mut table: HashMap<Vec<String>, (f64, f64)> = HashMap::new();
    for k in 1..=model.order() {
        for e in model.entries(k) {
            table.insert(e.words, (e.log10_prob, e.log10_backoff.unwrap_or(0.0)));
        }
    }
    let vocab: BTreeSet<&String> = model.vocab().iter().collect();
    let mut seq: Vec<String> = Vec::new();
    if bos {
        seq.push(BOS.into());
    }
    seq.extend(toks.iter().map(|t| {
        if vocab.contains(t) {
            t.clone()
        } else {
            UNK.into()
        }
    }));
    if eos {
        seq.push(EOS.into());
    }
    fn p(table: &HashMap<Vec<String>, (f64, f64)>, h: &[String], w: &String) -> f64 {
        let mut g = h.to_vec();
        g.push(w.clone());
        if let Some(&(lp, _)) = table.get(&g) {
            return lp;
        }
        if h.is_empty() {
            return f64::NEG_INFINITY;
        }
        table.get(h).map_or(0.0, |&(_, b)| b) + p(table, &h[1..], w)
    }
    let start = usize::from(bos);
    (start..seq.len())
        .map(|i| {
            let lo = i.saturating_sub(model.order() - 1);
            p(&table, &seq[lo..i], &seq[i])
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, .. ProptestConfig::default() })]

    #[test]
    fn scores_equal_the_backoff_recursion(
        c in corpus(),
        order in 1usize..=6,
        queries in prop::collection::vec(prop::collection::vec((0u8..9).prop_map(|i| format!("w{i}")), 0..40), 1..6),
        bos in any::<bool>(),
        eos in any::<bool>(),
    ) {
        let opts = FitOptions { discount_fallback: Some(FitOptions::LMPLZ_FALLBACK), ..FitOptions::default() };
        let lines = lines_of(&c);
        let raw = lm::count_sentences(lines.iter().map(String::as_str), order).expect("count");
        let model = lm::estimate(&raw, &opts).expect("estimate");
        let texts = lines_of(&queries);
        let batch = model.score_batch(&texts, bos, eos).expect("score");
        let totals = model.score_totals(&texts, bos, eos).expect("score");
        for ((q, got), total) in queries.iter().zip(&batch).zip(&totals) {
            let want = recursion_scores(&model, q, bos, eos);
            prop_assert_eq!(got.log10_probs.len(), want.len());
            for (g, w) in got.log10_probs.iter().zip(&want) {
                prop_assert!((g - w).abs() < 1e-9, "{} vs {} in {:?}", g, w, q);
            }
            prop_assert_eq!(got.total, *total);
        }
    }

    #[test]
    fn estimate_equals_the_formulas(c in corpus(), order in 1usize..=6, interp in any::<bool>(), fallback in any::<bool>()) {
        let opts = FitOptions {
            interpolate_unigrams: interp,
            discount_fallback: if fallback { Some(FitOptions::LMPLZ_FALLBACK) } else { None },
            prune: Vec::new(),
        };
        let lines = lines_of(&c);
        let raw = lm::count_sentences(lines.iter().map(String::as_str), order).expect("count");
        let got = lm::estimate_exact(&raw, &opts);
        let want = reference(&c, order, &opts);
        match (got, want) {
            (Err(lm::LmError::BadDiscount { .. }), None) => {}
            (Ok(model), Some(want)) => {
                let mut n = 0;
                for k in 1..=order {
                    for e in model.entries(k) {
                        let (p, b) = want.get(&e.words).unwrap_or_else(|| panic!("extra n-gram {:?}", e.words));
                        prop_assert!(e.log10_prob == *p || (e.log10_prob - p).abs() < 1e-9, "{:?}: {} vs {}", e.words, e.log10_prob, p);
                        match (e.log10_backoff, b) {
                            (Some(x), Some(y)) => prop_assert!((x - y).abs() < 1e-9, "{:?} backoff {} vs {}", e.words, x, y),
                            (None, None) => {}
                            other => prop_assert!(false, "{:?} backoff presence {:?}", e.words, other),
                        }
                        n += 1;
                    }
                }
                prop_assert_eq!(n, want.len());
                prop_assert!(worst_sum(&model) < 1e-9, "sum off by {}", worst_sum(&model));
                // The f32 model scores what the exact one does, to f32 precision.
                let small = lm::estimate(&raw, &opts).expect("estimate");
                for line in &lines {
                    let s = small.score_sentence(line, true, true).expect("score");
                    let toks: Vec<&str> = line.split(' ').filter(|t| !t.is_empty()).collect();
                    let mut ctx: Vec<&str> = vec![BOS];
                    let mut total = 0.0;
                    for w in toks.iter().copied().chain([EOS]) {
                        total += model.log10_prob(&ctx, w).min(0.0);
                        ctx.push(w);
                    }
                    prop_assert!(s.total == total || (s.total - total).abs() < 1e-4, "{}: {} vs {}", line, s.total, total);
                }
            }
            (got, want) => prop_assert!(false, "estimate {:?} but reference {:?}", got.map(|m| m.ngram_counts()), want.map(|w| w.len())),
        }
    }

    #[test]
    fn pruned_models_are_consistent_and_normalised(c in corpus(), order in 2usize..=4, t2 in 0u64..3, extra in 0u64..2) {
        let opts = FitOptions {
            interpolate_unigrams: true,
            discount_fallback: Some(FitOptions::LMPLZ_FALLBACK),
            prune: vec![0, t2, t2 + extra][..order.min(3)].to_vec(),
        };
        let lines = lines_of(&c);
        let raw = lm::count_sentences(lines.iter().map(String::as_str), order).expect("count");
        let model = lm::estimate_exact(&raw, &opts).expect("estimate");
        // Every stored n-gram's context and suffix are stored too.
        let mut stored: BTreeSet<Vec<String>> = BTreeSet::new();
        for k in 1..=order {
            for e in model.entries(k) {
                stored.insert(e.words);
            }
        }
        for g in &stored {
            if g.len() > 1 {
                prop_assert!(stored.contains(&g[..g.len() - 1]), "context of {:?}", g);
                prop_assert!(stored.contains(&g[1..]), "suffix of {:?}", g);
            }
        }
        prop_assert!(worst_sum(&model) < 1e-9, "sum off by {}", worst_sum(&model));
        let unpruned = lm::estimate_exact(&raw, &FitOptions { prune: Vec::new(), ..opts.clone() }).expect("estimate");
        prop_assert_eq!(model.ngram_counts()[0], unpruned.ngram_counts()[0]);
        prop_assert!(model.ngram_counts().iter().zip(unpruned.ngram_counts()).all(|(a, b)| *a <= b));
    }

    #[test]
    fn arpa_round_trip(c in corpus(), order in 1usize..=6) {
        let opts = FitOptions { discount_fallback: Some(FitOptions::LMPLZ_FALLBACK), ..FitOptions::default() };
        let lines = lines_of(&c);
        let raw = lm::count_sentences(lines.iter().map(String::as_str), order).expect("count");
        let model = lm::estimate(&raw, &opts).expect("estimate");
        let a = model.to_arpa_string().expect("write");
        let back = lm::Model::read_arpa(a.as_bytes(), "mem").expect("read");
        prop_assert_eq!(&back.to_arpa_string().expect("write"), &a);
        let s1 = model.score_batch(&lines, true, true).expect("score");
        let s2 = back.score_batch(&lines, true, true).expect("score");
        prop_assert_eq!(s1, s2);
    }
}

/// shared/tools/reference.py itself (when python3 is available), order 4, on the first 3000
/// KJV verses.
#[test]
fn matches_reference_py() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let tools = shared.join("tools/reference.py");
    if !tools.exists()
        || std::process::Command::new("python3")
            .arg("--version")
            .output()
            .is_err()
    {
        eprintln!("skipping: no python3 or reference.py");
        return;
    }
    let kjv = std::fs::read_to_string(shared.join("data/kjv/kjv.tok.txt")).expect("read kjv");
    let mut text = String::new();
    for line in kjv.lines().take(3000) {
        text.push_str(line);
        text.push('\n');
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = dir.path().join("corpus.txt");
    let out = dir.path().join("ref.arpa");
    std::fs::write(&corpus, &text).expect("write corpus");
    let status = std::process::Command::new("python3")
        .arg(&tools)
        .arg("arpa")
        .arg(&corpus)
        .arg("4")
        .arg(&out)
        .output()
        .expect("run reference.py");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let want = lm::Model::read_arpa_file(&out).expect("read reference ARPA");
    let raw = lm::count_sentences(text.lines(), 4).expect("count");
    let got = lm::estimate(&raw, &FitOptions::default()).expect("estimate");
    assert_eq!(got.ngram_counts(), want.ngram_counts());
    for k in 1..=4 {
        let w: HashMap<Vec<String>, (f64, Option<f64>)> = want
            .entries(k)
            .into_iter()
            .map(|e| (e.words, (e.log10_prob, e.log10_backoff)))
            .collect();
        for e in got.entries(k) {
            let (p, b) = w[&e.words];
            assert!((e.log10_prob - p).abs() < 1e-6, "{:?}", e.words);
            assert!(
                (e.log10_backoff.unwrap_or(0.0) - b.unwrap_or(0.0)).abs() < 1e-6,
                "{:?}",
                e.words
            );
        }
    }
}

/// Orders 5 and 6 on 3000 KJV verses: with ids of 12 bits, order-6 keys are wider than 64 bits
/// (the `u128` path); order 5 still fits in 64.
#[test]
fn wide_keys_match_the_formulas() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let kjv = std::fs::read_to_string(shared.join("data/kjv/kjv.tok.txt")).expect("read kjv");
    let lines: Vec<&str> = kjv.lines().take(3000).collect();
    let sentences: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            l.split(' ')
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect()
        })
        .collect();
    for order in [5, 6] {
        let opts = FitOptions {
            discount_fallback: Some(FitOptions::LMPLZ_FALLBACK),
            ..FitOptions::default()
        };
        let raw = lm::count_sentences(lines.iter().copied(), order).expect("count");
        assert!(
            raw.vocab.len() > 1 << 11,
            "vocabulary too small to need wide keys"
        );
        let model = lm::estimate_exact(&raw, &opts).expect("estimate");
        let want = reference(&sentences, order, &opts).expect("reference");
        let mut n = 0;
        for k in 1..=order {
            for e in model.entries(k) {
                let (p, b) = want[&e.words];
                assert!((e.log10_prob - p).abs() < 1e-9, "{:?}", e.words);
                assert!((e.log10_backoff.unwrap_or(0.0) - b.unwrap_or(0.0)).abs() < 1e-9);
                n += 1;
            }
        }
        assert_eq!(n, want.len());
        let small = model.to_model();
        let text = small.to_arpa_string().expect("write");
        let back = lm::Model::read_arpa(text.as_bytes(), "wide").expect("read");
        assert_eq!(back.to_arpa_string().expect("write"), text);
    }
}

/// The model, its ARPA text and batched scores do not depend on the number of threads.
#[test]
fn results_do_not_depend_on_threads() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let kjv = std::fs::read_to_string(shared.join("data/kjv/kjv.tok.txt")).expect("read kjv");
    let lines: Vec<&str> = kjv.lines().take(5000).collect();
    let raw = lm::count_sentences(lines.iter().copied(), 4).expect("count");
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        pool.install(|| {
            let m = lm::estimate(&raw, &FitOptions::default()).expect("estimate");
            let scores = m.score_batch(&lines, true, true).expect("score");
            let ppl = m.perplexity(&lines, true, true).expect("ppl");
            (m.to_arpa_string().expect("write"), scores, ppl)
        })
    };
    let one = run(1);
    for threads in [2, 3, 8] {
        let other = run(threads);
        assert!(one.0 == other.0, "ARPA differs with {threads} threads");
        assert_eq!(one.1, other.1);
        assert_eq!(one.2, other.2);
    }
}
