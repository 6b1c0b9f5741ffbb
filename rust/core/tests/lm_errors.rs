//! Bad input gives clear errors, never a panic.

use monofact_core::lm::{self, FitOptions, LmError, Model, RawCounts};
use proptest::prelude::*;

const GOOD: &str = "\\data\\
ngram 1=4
ngram 2=2

\\1-grams:
-1.5\t<unk>\t0
0\t<s>\t-0.5
-0.6\t</s>\t0
-0.4\ta\t-0.2

\\2-grams:
-0.3\t<s> a
-0.2\ta </s>

\\end\\
";

fn read(text: &str) -> Result<Model, LmError> {
    Model::read_arpa(text.as_bytes(), "bad.arpa")
}

/// The error message, checked to name the file and the line.
fn arpa_error(text: &str, line: usize, needle: &str) {
    match read(text) {
        Err(e @ LmError::Arpa { .. }) => {
            let msg = e.to_string();
            assert!(msg.starts_with(&format!("bad.arpa:{line}: ")), "{msg}");
            assert!(msg.contains(needle), "{msg} should mention {needle:?}");
        }
        other => panic!("expected an ARPA error at line {line}, got {other:?}"),
    }
}

#[test]
fn good_file_reads() {
    let m = read(GOOD).expect("good file");
    assert_eq!(m.ngram_counts(), vec![4, 2]);
    let s = m.score_sentence("a", true, true).expect("score");
    assert!((s.total - (-0.3 - 0.2)).abs() < 1e-6);
    // Read -> write -> read -> write is stable.
    let once = m.to_arpa_string().expect("write");
    assert_eq!(
        read(&once).expect("again").to_arpa_string().expect("write"),
        once
    );
}

#[test]
fn malformed_arpa_files() {
    arpa_error("", 0, "expected \\data\\");
    arpa_error("ngram 1=4\n", 1, "expected the \\data\\ header");
    arpa_error(&GOOD.replace("ngram 1=4", "ngram 1=five"), 2, "bad count");
    arpa_error(
        &GOOD.replace("ngram 2=2", "ngram 3=2"),
        3,
        "order 3 where order 2",
    );
    // Header count larger than the section: the next section header is not an n-gram line.
    arpa_error(
        &GOOD.replace("ngram 1=4", "ngram 1=5"),
        10,
        "expected log10 p",
    );
    // Header count smaller than the section.
    arpa_error(
        &GOOD.replace("ngram 1=4", "ngram 1=3"),
        9,
        "expected \\2-grams:",
    );
    arpa_error(
        &GOOD.replace("ngram 2=2", "ngram 2=1"),
        13,
        "expected \\end\\",
    );
    arpa_error(
        &GOOD.replace("-0.4\ta", "minus\ta"),
        9,
        "log10 probability \"minus\"",
    );
    arpa_error(
        &GOOD.replace("-0.4\ta\t-0.2", "-0.4\ta\tx"),
        9,
        "log10 backoff \"x\"",
    );
    arpa_error(
        &GOOD.replace("-0.4\ta\t-0.2", "nan\ta\t-0.2"),
        9,
        "not a finite number",
    );
    arpa_error(
        &GOOD.replace("-0.2\ta </s>", "-0.2\ta </s>\t-0.1"),
        13,
        "log10 p and the words",
    );
    arpa_error(
        &GOOD.replace("-0.2\ta </s>", "-0.2\ta b"),
        13,
        "\"b\" is not among the unigrams",
    );
    arpa_error(
        &GOOD.replace("-0.6\t</s>", "-0.6\ta"),
        9,
        "unigram \"a\" appears twice",
    );
    arpa_error(
        &GOOD.replace("-0.2\ta </s>", "-0.2\t<s> a"),
        12,
        "\"<s> a\" appears twice in the section of lines 12-13",
    );
    arpa_error(&GOOD.replace("\\end\\\n", ""), 14, "unexpected end of file");
    arpa_error(
        &GOOD.replace("\\2-grams:", "\\3-grams:"),
        11,
        "expected \\2-grams:",
    );
    arpa_error(&GOOD.replace("-0.6\t</s>", "-0.6\tb"), 9, "no </s> unigram");
    let seven: String = "\\data\\\n".to_string()
        + &(1..=7)
            .map(|k| format!("ngram {k}=1\n"))
            .collect::<String>();
    arpa_error(&seven, 8, "above the supported maximum 6");
    // Truncated anywhere: an error (or, cut right after the last n-gram, a missing \end\).
    for cut in 0..GOOD.len() - 1 {
        assert!(
            read(&GOOD[..cut]).is_err(),
            "truncated at {cut} was accepted"
        );
    }
    // Invalid UTF-8.
    let mut bytes = GOOD.as_bytes().to_vec();
    let at = GOOD.find("-0.4\ta").expect("line") + 5;
    bytes[at] = 0xff;
    match Model::read_arpa(&bytes[..], "bad.arpa") {
        Err(e) => assert!(
            e.to_string()
                .contains("bad.arpa:9: malformed ARPA file: the line is not valid UTF-8"),
            "{e}"
        ),
        Ok(_) => panic!("invalid UTF-8 accepted"),
    }
    // A missing file names the path.
    let e = Model::read_arpa_file("/nonexistent/model.arpa").expect_err("missing file");
    assert!(e.to_string().contains("/nonexistent/model.arpa"), "{e}");
}

#[test]
fn missing_unk_is_added_as_kenlm_does() {
    let text = GOOD
        .replace("ngram 1=4", "ngram 1=3")
        .replace("-1.5\t<unk>\t0\n", "");
    let m = read(&text).expect("read");
    assert_eq!(m.ngram_counts(), vec![4, 2]);
    assert!((m.log10_prob(&[], "zzz") - -100.0).abs() < 1e-9);
}

#[test]
fn bad_corpora_and_orders() {
    for (text, token) in [
        ("a <s> b", "<s>"),
        ("a </s>", "</s>"),
        ("x\n<unk> y", "<unk>"),
    ] {
        match lm::count_sentences(text.lines(), 3) {
            Err(e @ LmError::ReservedToken { .. }) => assert!(e.to_string().contains(token), "{e}"),
            other => panic!("expected ReservedToken, got {other:?}"),
        }
    }
    let empty = lm::count_sentences(std::iter::empty(), 3).expect("count");
    assert!(matches!(
        lm::estimate(&empty, &FitOptions::default()),
        Err(LmError::EmptyCorpus)
    ));
    for order in [0, 7] {
        let e = lm::count_sentences(["a b"], order).expect_err("bad order");
        assert!(
            e.to_string()
                .contains(&format!("order {order} is not supported")),
            "{e}"
        );
        let raw = RawCounts {
            order,
            ..RawCounts::default()
        };
        assert!(matches!(
            lm::estimate(&raw, &FitOptions::default()),
            Err(LmError::BadOrder { .. })
        ));
    }
}

#[test]
fn bad_discounts_name_the_order_and_suggest_the_fallback() {
    let raw = lm::count_sentences(["a b c", "a b d"], 3).expect("count");
    let e = lm::estimate(&raw, &FitOptions::default()).expect_err("tiny corpus");
    let msg = e.to_string();
    assert!(
        msg.contains("order 1") && msg.contains("n1=") && msg.contains("discount_fallback"),
        "{msg}"
    );
    let opts = FitOptions {
        discount_fallback: Some(FitOptions::LMPLZ_FALLBACK),
        ..FitOptions::default()
    };
    let m = lm::estimate(&raw, &opts).expect("fallback");
    assert!(m
        .discounts()
        .iter()
        .all(|d| d.fallback && d.d == [0.5, 1.0, 1.5]));
}

#[test]
fn bad_raw_counts() {
    let good = lm::count_sentences(["a b", "b c"], 2).expect("count");
    let opts = FitOptions {
        discount_fallback: Some(FitOptions::LMPLZ_FALLBACK),
        ..FitOptions::default()
    };
    assert!(lm::estimate(&good, &opts).is_ok());
    let cases: Vec<(RawCounts, &str)> = vec![
        (
            RawCounts {
                grams: good.grams[1..].to_vec(),
                ..good.clone()
            },
            "ids for",
        ),
        (
            RawCounts {
                bos: 0,
                ..good.clone()
            },
            "bos id",
        ),
        (
            RawCounts {
                eos: 99,
                ..good.clone()
            },
            "eos id",
        ),
        (
            {
                let mut r = good.clone();
                r.grams[0] = 1000;
                r
            },
            "outside the vocabulary",
        ),
        (
            {
                let mut r = good.clone();
                r.counts[0] = 0;
                r
            },
            "count 0",
        ),
        (
            {
                let mut r = good.clone();
                r.grams.extend([3, 1]); // "a <s>"
                r.counts.push(1);
                r
            },
            "not a window of a padded sentence",
        ),
        (
            {
                let mut r = good.clone();
                r.grams.extend([0, 3]); // "<unk> a"
                r.counts.push(1);
                r
            },
            "contains <unk>",
        ),
        (
            {
                let mut r = good.clone();
                r.vocab[3] = "a b".to_string();
                r
            },
            "whitespace",
        ),
    ];
    for (raw, needle) in cases {
        match lm::estimate(&raw, &opts) {
            Err(e @ LmError::BadCounts(_)) => assert!(
                e.to_string().contains(needle),
                "{e} should mention {needle}"
            ),
            other => panic!(
                "expected BadCounts({needle}), got {:?}",
                other.map(|m| m.ngram_counts())
            ),
        }
    }
    // Counts of unpadded text.
    let unpadded = RawCounts {
        order: 2,
        vocab: ["<s>", "</s>", "a", "b"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        bos: 0,
        eos: 1,
        grams: vec![2, 3],
        counts: vec![1],
    };
    let e = lm::estimate(&unpadded, &opts).expect_err("unpadded");
    assert!(e.to_string().contains("not of padded sentences"), "{e}");
    for prune in [vec![1], vec![0, 2, 1], vec![0, 0, 0]] {
        let e = lm::estimate(
            &good,
            &FitOptions {
                prune: prune.clone(),
                ..opts.clone()
            },
        )
        .expect_err("bad prune");
        assert!(matches!(e, LmError::BadPrune { .. }), "{prune:?}: {e}");
    }
}

#[test]
fn bad_queries() {
    let raw = lm::count_sentences(["a b", "b c", "c a b"], 2).expect("count");
    let opts = FitOptions {
        discount_fallback: Some(FitOptions::LMPLZ_FALLBACK),
        ..FitOptions::default()
    };
    let m = lm::estimate(&raw, &opts).expect("fit");
    assert!(m.score_sentence("a <s> b", true, true).is_err());
    assert!(m.score_batch(&["a b", "a </s>"], true, true).is_err());
    let p = m.perplexity(&["a b", "zz"], true, true).expect("ppl");
    assert_eq!((p.tokens, p.oov), (5, 1));
    assert!(p.perplexity > 1.0 && p.perplexity_excluding_oov > 1.0);
    let empty: [&str; 0] = [];
    assert!(m
        .perplexity(&empty, true, true)
        .expect("ppl")
        .perplexity
        .is_nan());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    /// Random damage to a valid file: reading never panics.
    #[test]
    fn damaged_arpa_never_panics(pos in 0usize..GOOD.len(), byte in any::<u8>(), cut in 0usize..GOOD.len()) {
        let mut bytes = GOOD.as_bytes().to_vec();
        bytes[pos] = byte;
        let _ = Model::read_arpa(&bytes[..], "x");
        let _ = Model::read_arpa(&GOOD.as_bytes()[..cut], "x");
        let mut dup = GOOD.as_bytes().to_vec();
        dup.splice(pos..pos, GOOD.as_bytes()[cut..].iter().copied());
        let _ = Model::read_arpa(&dup[..], "x");
    }

    /// Random raw counts: the estimator returns a model or an error, never panics (counts up to
    /// u64::MAX included).
    #[test]
    fn random_raw_counts_never_panic(order in 1usize..=4, grams in prop::collection::vec(0u32..6, 0..40), counts in prop::collection::vec(prop_oneof![0u64..4, Just(u64::MAX)], 0..12)) {
        let vocab: Vec<String> = ["<unk>", "<s>", "</s>", "a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let n = (grams.len() / order).min(counts.len());
        let raw = RawCounts { order, vocab, bos: 1, eos: 2, grams: grams[..n * order].to_vec(), counts: counts[..n].to_vec() };
        let opts = FitOptions { discount_fallback: Some(FitOptions::LMPLZ_FALLBACK), ..FitOptions::default() };
        if let Ok(m) = lm::estimate(&raw, &opts) {
            let _ = m.score_sentence("a b c d", true, true);
            let _ = m.to_arpa_string();
        }
    }
}

#[test]
fn huge_header_counts_fail_cleanly() {
    let text = GOOD.replace("ngram 2=2", "ngram 2=999999999999999");
    match read(&text) {
        Err(e) => assert!(
            e.to_string()
                .contains("unexpected end of file in \\2-grams:"),
            "{e}"
        ),
        Ok(_) => panic!("accepted"),
    }
}

#[test]
fn errors_map_into_core_errors() {
    let e: monofact_core::CoreError = read("\\data\\\nngram 1=x\n").expect_err("bad").into();
    assert!(matches!(e, monofact_core::CoreError::Input { .. }));
    assert!(
        e.to_string()
            .starts_with("bad.arpa: line 2: malformed ARPA file"),
        "{e}"
    );
    let e: monofact_core::CoreError = lm::count_sentences(["a"], 9).expect_err("bad").into();
    assert!(matches!(e, monofact_core::CoreError::Config(_)));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, .. ProptestConfig::default() })]

    /// Valid padded counts with some counts near u64::MAX: no overflow panic (debug builds check).
    #[test]
    fn huge_counts_never_panic(
        lines in prop::collection::vec(prop::collection::vec(prop_oneof![Just("a"), Just("b"), Just("c")], 0..6), 1..12),
        order in 1usize..=4,
        huge in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        prune in any::<bool>(),
    ) {
        let text: Vec<String> = lines.iter().map(|l| l.join(" ")).collect();
        let mut raw = lm::count_sentences(text.iter().map(String::as_str), order).expect("count");
        for h in &huge {
            let i = h.index(raw.counts.len());
            raw.counts[i] = u64::MAX - 1;
        }
        let opts = FitOptions {
            discount_fallback: Some(FitOptions::LMPLZ_FALLBACK),
            prune: if prune { vec![0, 1] } else { Vec::new() },
            ..FitOptions::default()
        };
        if let Ok(m) = lm::estimate(&raw, &opts) {
            let _ = m.score_sentence("a b c", true, true);
            let _ = m.generate("a", &lm::GenerateOptions { max_tokens: 5, ..Default::default() });
            let _ = m.to_arpa_string();
        }
    }
}
