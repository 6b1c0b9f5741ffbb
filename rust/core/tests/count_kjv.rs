//! The engine against KenLM's count_ngrams figures on the real KJV corpus (shared/data/kjv).

use std::path::PathBuf;

use monofact_core::count::{count_ngrams, CountOptions};
use monofact_core::progress::Progress;
use monofact_core::source::{discover, Corpus, SourceOptions};
use monofact_core::tokenize::Tokenizer;

fn kjv() -> Option<String> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/kjv/kjv.tok.txt");
    p.exists().then(|| p.to_string_lossy().into_owned())
}

#[test]
fn kjv_matches_reference_figures() {
    let path = kjv().expect("../shared/data/kjv/kjv.tok.txt is part of the test data");
    // (n, pad, samples, distinct, n1, n2, max)
    let rows = [
        (1, true, 948_238, 12_564, 3_942, 1_735, 70_683),
        (2, false, 886_034, 140_349, 80_180, 21_288, 24_975),
        (3, true, 948_238, 399_575, 294_132, 50_704, 11_609),
        (3, false, 854_932, 384_677, 285_037, 48_510, 2_441),
        (4, true, 948_238, 618_814, 521_691, 56_991, 11_609),
        (5, false, 792_730, 665_845, 605_720, 41_190, 396),
    ];
    for threads in [1, 2] {
        for shard_bytes in [1 << 20, 32 << 20] {
            let src = SourceOptions {
                shard_bytes,
                ..SourceOptions::default()
            };
            let corpus = Corpus::Files(discover(std::slice::from_ref(&path), &src).unwrap());
            for &(n, pad, samples, distinct, n1, n2, max) in &rows {
                let opts = CountOptions {
                    n,
                    pad,
                    tokenizer: Tokenizer::Whitespace,
                    threads,
                    ..Default::default()
                };
                let c = count_ngrams(&corpus, &src, &opts, &Progress::new()).unwrap();
                let s = &c.summary;
                assert_eq!(
                    (s.samples, s.distinct, s.n1, s.n2, s.max_count),
                    (samples, distinct, n1, n2, max),
                    "n={n} pad={pad} threads={threads} shard_bytes={shard_bytes}"
                );
                assert_eq!(s.documents, 31_102);
                assert_eq!(s.tokens, 917_136);
            }
        }
    }
}
