//! MATH.md section 8, T10: KenLM's modified Kneser-Ney on the LCG corpus.
#![allow(clippy::needless_range_loop)]

use md5::{Digest, Md5};
use monofact_core::lm::{self, FitOptions, Model};

fn t10_corpus() -> String {
    let mut x: u64 = 12345;
    let mut next = move || {
        x = (1103515245 * x + 12345) % (1 << 31);
        x
    };
    let mut cum = Vec::new();
    let mut total = 0u64;
    for k in 0..150u64 {
        total += 200 / (k + 1);
        cum.push(total);
    }
    assert_eq!(total, 1048);
    let mut text = String::new();
    for _ in 0..500 {
        let n = 3 + (next() >> 16) % 5;
        let mut words = Vec::new();
        for _ in 0..n {
            let r = (next() >> 16) % 1048;
            let k = cum.iter().position(|&c| r < c).expect("r < 1048");
            words.push(format!("w{k}"));
        }
        text.push_str(&words.join(" "));
        text.push('\n');
    }
    text
}

fn fit(order: usize) -> Model {
    let text = t10_corpus();
    let raw = lm::count_sentences(text.lines(), order).expect("count");
    lm::estimate(&raw, &FitOptions::default()).expect("estimate")
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn corpus_is_the_specified_one() {
    let text = t10_corpus();
    assert_eq!(text.lines().next(), Some("w8 w0 w2 w0 w2 w48"));
    let digest = Md5::digest(text.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, "92d60a5251973766710c231e5f6a1833");
}

#[test]
fn order3_counts_discounts_and_arpa_lines() {
    let model = fit(3);
    assert_eq!(model.ngram_counts(), vec![146, 1324, 2148]);
    let expected = [
        [0.24, 1.43158, 1.976],
        [0.709531, 1.21286, 1.72085],
        [0.88432, 1.44039, 0.903834],
    ];
    for (k, d) in model.discounts().iter().enumerate() {
        for j in 0..3 {
            assert!(
                close(d.d[j], expected[k][j], 1e-5),
                "order {} D{}: {} vs {}",
                k + 1,
                j + 1,
                d.d[j],
                expected[k][j]
            );
        }
        assert!(!d.fallback);
    }
    let arpa = model.to_arpa_string().expect("arpa");
    let lines: Vec<&str> = arpa.lines().collect();
    assert_eq!(
        &lines[..4],
        &["\\data\\", "ngram 1=146", "ngram 2=1324", "ngram 3=2148"]
    );
    let listed = [
        "-2.8795042 <unk> 0",
        "0 <s> -0.5960853",
        "-1.1639391 </s> 0",
        "-1.1591808 w0 -0.4822166",
        "-2.4432454 w149 -0.14902863",
        "-0.6943762 <s> w0 -0.3516708",
        "-0.94399464 w0 w0 -0.40784377",
        "-0.5282312 <s> w0 w0",
        "-0.6647746 w0 w0 w0",
    ];
    for want in listed {
        let parts: Vec<&str> = want.split(' ').collect();
        let n = if want.starts_with("-0.5282312") || want.starts_with("-0.6647746") {
            3
        } else if parts.len() == 4 {
            2
        } else {
            1
        };
        let words = parts[1..=n].join(" ");
        let line = lines
            .iter()
            .find(|l| l.split('\t').nth(1) == Some(words.as_str()))
            .unwrap_or_else(|| panic!("no ARPA line for {words}"));
        let fields: Vec<&str> = line.split('\t').collect();
        let p: f64 = fields[0].parse().expect("prob");
        assert!(
            close(p, parts[0].parse().expect("want"), 1e-6),
            "{line} vs {want}"
        );
        if parts.len() > n + 1 {
            let b: f64 = fields[2].parse().expect("backoff");
            assert!(
                close(b, parts[n + 1].parse().expect("want"), 1e-6),
                "{line} vs {want}"
            );
        }
    }
    // lmplz computes in single precision: other lines may differ in the last printed digit.
    assert!(lines.contains(&"-2.8795042\t<unk>\t0"));
}

#[test]
fn order3_queries() {
    let model = fit(3);
    let p = model.log10_prob(&["w0", "w0"], "w149");
    assert!(close(p, -3.3333058, 1e-6), "{p}");
    let s = model.score_sentence("w0 w1 w0", true, true).expect("score");
    let want = [-0.6943762, -1.0585413, -0.61314285, -0.4026649];
    assert_eq!(s.log10_probs.len(), 4);
    for (got, want) in s.log10_probs.iter().zip(want) {
        assert!(close(*got, want, 1e-6), "{got} vs {want}");
    }
    assert!(close(s.total, -2.7687252, 1e-6), "{}", s.total);
    assert_eq!(s.oov, 0);
    // Without </s>, and without <s>.
    let s2 = model
        .score_sentence("w0 w1 w0", true, false)
        .expect("score");
    assert!(close(s2.total, -2.7687252 + 0.4026649, 1e-6));
    let s3 = model.score_sentence("w0", false, false).expect("score");
    assert!(close(s3.total, -1.1591808, 1e-6));
    // OOV words score as <unk>.
    let s4 = model
        .score_sentence("nonword", false, false)
        .expect("score");
    assert!(close(s4.total, -2.8795042, 1e-6));
    assert_eq!(s4.oov, 1);
}

#[test]
fn order2_discounts() {
    let model = fit(2);
    let d = model.discounts()[1].d;
    let want = [0.714507, 0.998136, 2.00301];
    for j in 0..3 {
        assert!(
            close(d[j], want[j], 1e-5),
            "D{}: {} vs {}",
            j + 1,
            d[j],
            want[j]
        );
    }
}

#[test]
fn arpa_round_trip_is_exact() {
    let model = fit(3);
    let a = model.to_arpa_string().expect("write");
    let back = Model::read_arpa(a.as_bytes(), "t10.arpa").expect("read");
    let b = back.to_arpa_string().expect("write again");
    assert_eq!(a, b);
    let s = back.score_sentence("w0 w1 w0", true, true).expect("score");
    assert!(close(s.total, -2.7687252, 1e-6));
}
