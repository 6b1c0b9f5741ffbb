//! The "X the son of Y" fact set of the King James Bible: the figures of
//! shared/data/kjv/README.md, with one verse (line) per document.

use monofact_core::facts::{finish, CountBy, FactCounts, FactMatcher, FactTable, TemplateOptions};

const PATTERN: &str = r"\b(?P<subject>[A-Z][a-z]+) the son of (?P<object>[A-Z][a-z]+)\b";

fn kjv() -> Option<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/kjv/kjv.txt"
    );
    std::fs::read_to_string(path).ok()
}

/// Scans the verses with `threads` tables, verse i going to table (i * 7919) % threads, so every
/// table sees a scattered, increasing subsequence of documents.
fn count(text: &str, threads: usize, count_by: CountBy) -> FactCounts {
    let matcher = FactMatcher::templates(
        &[("father".to_string(), PATTERN.to_string())],
        &TemplateOptions::default(),
    )
    .expect("valid template");
    let mut tables: Vec<FactTable> = (0..threads).map(|_| FactTable::new()).collect();
    for (i, line) in text.lines().enumerate() {
        matcher.scan(line, i as u64, &mut tables[(i * 7919) % threads]);
    }
    tables.reverse();
    finish(tables, None, count_by)
}

#[test]
fn facts_kjv_son_of_by_mention() {
    let Some(text) = kjv() else {
        panic!("shared/data/kjv/kjv.txt not found next to the repository");
    };
    assert_eq!(text.lines().count(), 31_102);
    let c = count(&text, 1, CountBy::Mention);
    let s = &c.summary;
    assert_eq!(s.mentions, 842);
    assert_eq!(s.samples, 842);
    assert_eq!(s.idk_samples, 0);
    assert_eq!(s.distinct_facts, 413);
    assert_eq!(s.fact_singletons, 289);
    assert!(
        (s.fact_singleton_rate - 0.343230).abs() < 5e-7,
        "{}",
        s.fact_singleton_rate
    );
    let expected: Vec<(u64, u64)> = vec![
        (1, 289),
        (2, 46),
        (3, 20),
        (4, 18),
        (5, 21),
        (6, 4),
        (7, 1),
        (8, 4),
        (10, 1),
        (11, 1),
        (12, 2),
        (15, 1),
        (16, 2),
        (20, 1),
        (24, 1),
        (25, 1),
    ];
    assert_eq!(c.histogram, expected);
    let top: Vec<(&str, &str, u64)> = c
        .facts
        .iter()
        .take(3)
        .map(|f| (f.subject.as_str(), f.object.as_str(), f.mentions))
        .collect();
    assert_eq!(
        top,
        vec![
            ("Jeroboam", "Nebat", 25),
            ("Joshua", "Nun", 24),
            ("Benaiah", "Jehoiada", 20)
        ]
    );
    assert!(c.facts.iter().all(|f| f.relation == "father"));
    assert_eq!(s.prompts, 283);
    assert_eq!(s.singleton_prompts, 139);
    assert!((s.singleton_rate - 139.0 / 842.0).abs() < 1e-12);
    assert!((s.singleton_rate - 0.165083).abs() < 5e-7);
    assert_eq!(s.conflicting_prompts, 78);
    assert_eq!(s.distinct_objects, 302);
    assert_eq!(c.relations.len(), 1);
    assert_eq!(c.relations[0].group, "father");
    assert_eq!(
        (c.relations[0].samples, c.relations[0].singletons),
        (842, 139)
    );

    // Arrow output agrees with the rows.
    let facts = c.facts_batch().expect("facts batch");
    assert_eq!(facts.num_rows(), 413);
    assert_eq!(facts.num_columns(), 6);
    let hist = c.histogram_batch().expect("histogram batch");
    assert_eq!(hist.num_rows(), 16);
    assert_eq!(c.relations_batch().expect("relations batch").num_rows(), 1);
    assert_eq!(c.prompts_batch().expect("prompts batch").num_rows(), 283);

    // The same counts with the verses spread over three tables merged in reverse order.
    assert_eq!(count(&text, 3, CountBy::Mention), c);
}

#[test]
fn facts_kjv_son_of_by_document() {
    let Some(text) = kjv() else {
        panic!("shared/data/kjv/kjv.txt not found next to the repository");
    };
    let c = count(&text, 2, CountBy::Document);
    assert_eq!(c.summary.fact_samples, 840);
    assert_eq!(c.summary.mentions, 842);
    assert_eq!(c.summary.fact_singletons, 289);
    assert_eq!(c.summary.distinct_facts, 413);
}
