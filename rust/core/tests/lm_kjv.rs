//! The KJV trigram model equals KenLM's `lmplz -o 3` ARPA (shared/data/kjv/kjv.o3.arpa.xz).
//! Heavy in debug builds: `cargo test -p monofact-core --release --test lm_kjv`.
#![allow(clippy::needless_range_loop)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use monofact_core::lm::{self, FitOptions, Model};

fn kjv_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/kjv")
}

/// n-gram text -> (log10 p, log10 backoff).
fn parse_arpa(text: &str) -> HashMap<String, (f64, Option<f64>)> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() >= 2 {
            let p: f64 = f[0].parse().expect("prob");
            let b = f.get(2).map(|b| b.parse::<f64>().expect("backoff"));
            assert!(
                out.insert(f[1].to_string(), (p, b)).is_none(),
                "duplicate {}",
                f[1]
            );
        }
    }
    out
}

fn kenlm_arpa() -> String {
    let out = Command::new("xz")
        .arg("-dc")
        .arg(kjv_dir().join("kjv.o3.arpa.xz"))
        .output()
        .expect("run xz -dc (xz-utils)");
    assert!(out.status.success(), "xz failed");
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn kjv_trigram_model_equals_lmplz() {
    let text = std::fs::read_to_string(kjv_dir().join("kjv.tok.txt")).expect("read kjv.tok.txt");
    let t0 = Instant::now();
    let raw = lm::count_sentences(text.lines(), 3).expect("count");
    let t1 = Instant::now();
    let model = lm::estimate(&raw, &FitOptions::default()).expect("estimate");
    let t2 = Instant::now();
    let ours = model.to_arpa_string().expect("write");
    let t3 = Instant::now();
    eprintln!(
        "kjv order 3: count {:?}, estimate {:?}, write ARPA {:?} ({} bytes)",
        t1 - t0,
        t2 - t1,
        t3 - t2,
        ours.len()
    );
    assert_eq!(model.ngram_counts(), vec![12566, 141365, 398572]);
    let want = [
        [0.559594, 1.03627, 1.55505],
        [0.692491, 1.1035, 1.45504],
        [0.743915, 1.17904, 1.43446],
    ];
    for (k, d) in model.discounts().iter().enumerate() {
        for j in 0..3 {
            assert!(
                (d.d[j] - want[k][j]).abs() < 1e-5,
                "order {} D{}",
                k + 1,
                j + 1
            );
        }
    }

    let kenlm_text = kenlm_arpa();
    let theirs = parse_arpa(&kenlm_text);
    let mine = parse_arpa(&ours);
    assert_eq!(mine.len(), theirs.len());
    let mut worst = 0.0f64;
    for (gram, (p, b)) in &theirs {
        let (mp, mb) = mine
            .get(gram)
            .unwrap_or_else(|| panic!("missing n-gram {gram:?}"));
        worst = worst.max((p - mp).abs());
        assert!((p - mp).abs() <= 1e-5, "{gram}: p {mp} vs lmplz {p}");
        assert_eq!(b.is_some(), mb.is_some(), "{gram}: backoff presence");
        if let (Some(b), Some(mb)) = (b, mb) {
            worst = worst.max((b - mb).abs());
            assert!((b - mb).abs() <= 1e-5, "{gram}: backoff {mb} vs lmplz {b}");
        }
    }
    eprintln!("largest |log10 difference| to lmplz: {worst:e}");

    // Reading lmplz's file: scores agree with ours; write -> read -> write is identical.
    let t4 = Instant::now();
    let theirs_model =
        Model::read_arpa(kenlm_text.as_bytes(), "kjv.o3.arpa").expect("read lmplz ARPA");
    eprintln!("read lmplz ARPA {:?}", t4.elapsed());
    let lines: Vec<&str> = text.lines().take(2000).collect();
    let t5 = Instant::now();
    let a = model.score_batch(&lines, true, true).expect("score");
    eprintln!("score 2000 verses {:?}", t5.elapsed());
    let b = theirs_model.score_batch(&lines, true, true).expect("score");
    for (x, y) in a.iter().zip(&b) {
        assert!(
            (x.total - y.total).abs() < 1e-4,
            "{} vs {}",
            x.total,
            y.total
        );
    }
    let once = theirs_model.to_arpa_string().expect("write");
    let twice = Model::read_arpa(once.as_bytes(), "once")
        .expect("read")
        .to_arpa_string()
        .expect("write");
    assert!(once == twice, "write -> read -> write differs");
    let mut sorted_ours: Vec<&str> = ours.lines().collect();
    let mut sorted_once: Vec<&str> = once.lines().collect();
    sorted_ours.sort_unstable();
    sorted_once.sort_unstable();
    assert_eq!(sorted_ours.len(), sorted_once.len());
}

/// The counting engine's padded counts plug straight into the estimator and give the same model.
#[test]
fn engine_counts_give_the_same_model() {
    use monofact_core::count::{count_ngrams, export::KeyFilter, CountOptions};
    use monofact_core::progress::Progress;
    use monofact_core::source::{discover, Corpus, SourceOptions};
    use monofact_core::tokenize::Tokenizer;

    let path = kjv_dir().join("kjv.tok.txt").to_string_lossy().into_owned();
    let src = SourceOptions::default();
    let corpus = Corpus::Files(discover(std::slice::from_ref(&path), &src).expect("discover"));
    let opts = CountOptions {
        n: 3,
        pad: true,
        tokenizer: Tokenizer::Whitespace,
        ..Default::default()
    };
    let t0 = Instant::now();
    let counts = count_ngrams(&corpus, &src, &opts, &Progress::new()).expect("count");
    let keys = counts.keys(&KeyFilter::default()).expect("keys");
    let raw = lm::RawCounts::from_exported(keys).expect("raw counts");
    let t1 = Instant::now();
    let model = lm::estimate_owned(raw, &FitOptions::default()).expect("estimate");
    let arpa = model.to_arpa_string().expect("write");
    eprintln!(
        "engine count + export {:?}, estimate + write {:?}",
        t1 - t0,
        t1.elapsed()
    );
    assert_eq!(model.ngram_counts(), vec![12566, 141365, 398572]);

    let text = std::fs::read_to_string(kjv_dir().join("kjv.tok.txt")).expect("read");
    let simple = lm::count_sentences(text.lines(), 3).expect("count");
    let reference = lm::estimate(&simple, &FitOptions::default()).expect("estimate");
    let mut a: Vec<&str> = arpa.lines().collect();
    let other = reference.to_arpa_string().expect("write");
    let mut b: Vec<&str> = other.lines().collect();
    a.sort_unstable();
    b.sort_unstable();
    assert!(a == b, "the two count paths give different models");
}
