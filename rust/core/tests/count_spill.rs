//! Spilling to disk gives exactly the in-memory counts (KJV, every key width, 1 and 2 threads).

use std::path::PathBuf;

use monofact_core::count::export::KeyFilter;
use monofact_core::count::{count_ngrams, CountOptions, MIN_SHARE};
use monofact_core::progress::Progress;
use monofact_core::source::{discover, Corpus, SourceOptions};
use monofact_core::tokenize::Tokenizer;
use monofact_core::CoreError;

fn kjv() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/kjv/kjv.tok.txt");
    assert!(
        p.exists(),
        "../shared/data/kjv/kjv.tok.txt is part of the test data"
    );
    p.to_string_lossy().into_owned()
}

fn rows(c: &monofact_core::count::NgramCounts) -> Vec<(Vec<Vec<u8>>, u64)> {
    let k = c.keys(&KeyFilter::default()).unwrap();
    (0..k.len())
        .map(|i| (k.tokens(i).map(|t| t.to_vec()).collect(), k.counts[i]))
        .collect()
}

#[test]
fn spilled_counts_equal_in_memory_counts() {
    let path = kjv();
    let src = SourceOptions {
        shard_bytes: 1 << 20,
        ..SourceOptions::default()
    };
    let corpus = Corpus::Files(discover(std::slice::from_ref(&path), &src).unwrap());
    let spill_base = tempfile::tempdir().unwrap();
    for (n, pad) in [(1, false), (2, true), (3, false), (4, true), (6, false)] {
        let base = CountOptions {
            n,
            pad,
            tokenizer: Tokenizer::Whitespace,
            threads: 2,
            ..Default::default()
        };
        let whole = count_ngrams(&corpus, &src, &base, &Progress::new()).unwrap();
        assert_eq!(whole.summary.spills, 0);
        let expect = rows(&whole);
        for threads in [1, 2] {
            let tiny = CountOptions {
                threads,
                memory_bytes: MIN_SHARE * threads as u64,
                spill_dir: Some(spill_base.path().to_path_buf()),
                ..base.clone()
            };
            let spilled = count_ngrams(&corpus, &src, &tiny, &Progress::new()).unwrap();
            assert!(spilled.summary.spills >= 3, "n={n}: {:?}", spilled.summary);
            assert_eq!(
                spilled.histogram, whole.histogram,
                "n={n} threads={threads}"
            );
            assert_eq!(spilled.summary.distinct, whole.summary.distinct);
            assert_eq!(spilled.summary.n1, whole.summary.n1);
            assert_eq!(rows(&spilled), expect, "n={n} threads={threads}");
            // The spill directory lives as long as the counts, and not longer.
            assert_eq!(std::fs::read_dir(spill_base.path()).unwrap().count(), 1);
            drop(spilled);
            assert_eq!(std::fs::read_dir(spill_base.path()).unwrap().count(), 0);
        }
    }
}

#[test]
fn sampled_spilled_counts_equal_sampled_in_memory() {
    let path = kjv();
    let src = SourceOptions::default();
    let corpus = Corpus::Files(discover(std::slice::from_ref(&path), &src).unwrap());
    let base = CountOptions {
        n: 3,
        tokenizer: Tokenizer::Whitespace,
        threads: 2,
        sample: Some(0.3),
        sample_seed: Some(7),
        ..Default::default()
    };
    let whole = count_ngrams(&corpus, &src, &base, &Progress::new()).unwrap();
    let tiny = CountOptions {
        memory_bytes: 2 * MIN_SHARE,
        ..base.clone()
    };
    let spilled = count_ngrams(&corpus, &src, &tiny, &Progress::new()).unwrap();
    assert!(spilled.summary.spills > 0);
    assert_eq!(spilled.histogram, whole.histogram);
    assert_eq!(rows(&spilled), rows(&whole));
}

#[test]
fn too_small_budget_and_unwritable_spill_dir_are_resource_errors() {
    let path = kjv();
    let src = SourceOptions::default();
    let corpus = Corpus::Files(discover(std::slice::from_ref(&path), &src).unwrap());
    let opts = CountOptions {
        n: 3,
        threads: 2,
        memory_bytes: 1000,
        ..Default::default()
    };
    match count_ngrams(&corpus, &src, &opts, &Progress::new()) {
        Err(CoreError::Resource(m)) => assert!(m.contains("too small"), "{m}"),
        other => panic!("expected a resource error, got {other:?}"),
    }
    // A spill dir below a regular file cannot be created.
    let f = tempfile::NamedTempFile::new().unwrap();
    let opts = CountOptions {
        n: 3,
        threads: 1,
        memory_bytes: MIN_SHARE,
        spill_dir: Some(f.path().join("sub")),
        ..Default::default()
    };
    match count_ngrams(&corpus, &src, &opts, &Progress::new()) {
        Err(CoreError::Resource(m)) => assert!(m.contains("spill"), "{m}"),
        other => panic!("expected a resource error, got {other:?}"),
    }
}
