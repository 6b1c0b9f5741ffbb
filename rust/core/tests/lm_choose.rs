//! Multiple choice (MATH.md section 3, Theorem 3 / Corollary 2) and generation.
#![allow(clippy::needless_range_loop)]

use monofact_core::lm::{self, FitOptions, GenerateOptions, Model};

const FILLER: &[&str] = &[
    "the cat sat on the mat",
    "the dog sat on the log",
    "a man lost his hat and was sad",
    "a woman lost her key and was late",
    "it was completely dark out there",
    "she was happy and he was tired",
    "they lost it all and were out of luck",
    "out of sight out of mind",
    "the mind of a child is curious",
    "he read the book and she wrote the letter",
];

fn fit(lines: &[&str], order: usize) -> Model {
    let raw = lm::count_sentences(lines.iter().copied(), order).expect("count");
    let opts = FitOptions {
        discount_fallback: Some(FitOptions::LMPLZ_FALLBACK),
        ..FitOptions::default()
    };
    lm::estimate(&raw, &opts).expect("estimate")
}

/// Picks of the model for the she/he prompts; the right answers are [0, 1].
fn she_he(model: &Model, she: &str, he: &str) -> (Vec<usize>, Vec<Vec<f64>>) {
    let prompts = [she, he];
    let choices = vec![vec!["her mind", "his mind"], vec!["her mind", "his mind"]];
    let out = model.choose(&prompts, &choices, false).expect("choose");
    (
        out.iter().map(|c| c.pick).collect(),
        out.into_iter().map(|c| c.log10_probs).collect(),
    )
}

#[test]
fn trigram_errs_on_she_he_and_order6_does_not() {
    let mut corpus: Vec<&str> = FILLER.to_vec();
    corpus.push("she lost it and was completely out of her mind");
    corpus.push("he lost it and was completely out of his mind");
    corpus.push("she was completely out of her mind");
    corpus.push("he was completely out of his mind");
    let full = (
        "she lost it and was completely out of",
        "he lost it and was completely out of",
    );
    let short = ("she was completely out of", "he was completely out of");

    // A trigram model sees only "out of": identical scores for both prompts, so it answers both
    // the same way and errs on one (Corollary 2: error >= 1/2).
    let tri = fit(&corpus, 3);
    for (she, he) in [full, short] {
        let (picks, scores) = she_he(&tri, she, he);
        assert_eq!(
            scores[0], scores[1],
            "trigram scores must not depend on she/he"
        );
        assert_ne!(picks, vec![0, 1], "a trigram model cannot get both right");
    }

    // An order-6 model sees five words of context: enough when "she"/"he" is within them.
    let six = fit(&corpus, 6);
    let (picks, _) = she_he(&six, short.0, short.1);
    assert_eq!(picks, vec![0, 1], "order 6 gets both right");
    // In the full sentences "she"/"he" is 8 words before "her"/"his": out of reach of any
    // order <= 6 (it would take order 9), so order 6 still ties there.
    let (_, scores) = she_he(&six, full.0, full.1);
    assert_eq!(scores[0], scores[1]);
}

#[test]
fn choose_scores_are_continuation_log_probs() {
    let model = fit(FILLER, 3);
    let out = model
        .choose(
            &["the cat sat on"],
            &[vec!["the mat", "the log", "zebra"]],
            true,
        )
        .expect("choose");
    let c = &out[0];
    assert_eq!(c.log10_probs.len(), 3);
    let ctx = ["<s>", "the", "cat", "sat", "on"];
    let want =
        model.log10_prob(&ctx[1..], "the") + model.log10_prob(&["sat", "on", "the"][1..], "mat");
    let want = want + model.log10_prob(&["the", "mat"], "</s>");
    assert!(
        (c.log10_probs[0] - want).abs() < 1e-9,
        "{} vs {want}",
        c.log10_probs[0]
    );
    assert_eq!(c.pick, 0);
    assert!(model.choose(&["a", "b"], &[vec!["x"]], false).is_err());
    assert!(model.choose(&["a"], &[Vec::<&str>::new()], false).is_err());
}

#[test]
fn generation_is_seeded_and_deterministic() {
    let model = fit(FILLER, 3);
    let opts = GenerateOptions {
        max_tokens: 20,
        seed: 42,
        greedy: false,
        bos: true,
    };
    let a = model.generate("the", &opts).expect("generate");
    let b = model.generate("the", &opts).expect("generate");
    assert_eq!(a, b);
    assert!(a.tokens.len() <= 20);
    assert!(a
        .tokens
        .iter()
        .all(|t| t != "<s>" && t != "<unk>" && t != "</s>"));
    // Batched generation equals one-by-one generation with seed + index, on any thread count.
    let prefixes = ["the", "she was", "out of", "zzz unknown"];
    let batch = model.generate_batch(&prefixes, &opts).expect("batch");
    for (i, p) in prefixes.iter().enumerate() {
        let one = model
            .generate(
                p,
                &GenerateOptions {
                    seed: 42 + i as u64,
                    ..opts.clone()
                },
            )
            .expect("one");
        assert_eq!(batch[i], one);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let single = pool.install(|| model.generate_batch(&prefixes, &opts).expect("batch"));
    assert_eq!(single, batch);
    // Different seeds give different samples somewhere.
    let many: Vec<_> = (0..10)
        .map(|s| {
            model
                .generate(
                    "the",
                    &GenerateOptions {
                        seed: s,
                        ..opts.clone()
                    },
                )
                .expect("gen")
                .tokens
        })
        .collect();
    assert!(many.iter().any(|t| t != &many[0]));
    // Greedy follows the most probable word: after "out of" comes "sight" or "luck" ...
    let g = model
        .generate(
            "out of sight out of",
            &GenerateOptions {
                greedy: true,
                ..opts.clone()
            },
        )
        .expect("greedy");
    let first = &g.tokens[0];
    let p_first = model.log10_prob(&["out", "of"], first);
    for w in model.vocab() {
        if w != "<s>" && w != "<unk>" {
            assert!(
                model.log10_prob(&["out", "of"], w) <= p_first + 1e-12,
                "{w} beats {first}"
            );
        }
    }
    // max_tokens 0 generates nothing.
    let none = model
        .generate(
            "the",
            &GenerateOptions {
                max_tokens: 0,
                ..opts
            },
        )
        .expect("gen");
    assert!(none.tokens.is_empty() && !none.ended);
}

#[test]
fn sampling_follows_the_model() {
    // One-word continuations after "<s> the": empirical frequencies approach p(w | <s> the).
    let model = fit(FILLER, 2);
    let opts = GenerateOptions {
        max_tokens: 1,
        seed: 7,
        greedy: false,
        bos: true,
    };
    let prefixes = vec!["the"; 4000];
    let out = model.generate_batch(&prefixes, &opts).expect("batch");
    let mut counts = std::collections::HashMap::new();
    for g in &out {
        let w = g.tokens.first().map_or("</s>", String::as_str).to_string();
        *counts.entry(w).or_insert(0usize) += 1;
    }
    // Renormalised without <s> and <unk>.
    let words: Vec<&String> = model
        .vocab()
        .iter()
        .filter(|w| *w != "<s>" && *w != "<unk>")
        .collect();
    let z: f64 = words
        .iter()
        .map(|w| 10f64.powf(model.log10_prob(&["the"], w)))
        .sum();
    for w in words {
        let p = 10f64.powf(model.log10_prob(&["the"], w)) / z;
        let f = *counts.get(w.as_str()).unwrap_or(&0) as f64 / 4000.0;
        assert!((p - f).abs() < 0.03, "{w}: p {p} vs frequency {f}");
    }
}
