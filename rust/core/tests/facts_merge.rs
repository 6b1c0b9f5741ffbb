//! Results do not depend on how documents are split across tables or on the merge order; the
//! IDK-aware singleton rate follows MATH.md section 2 (test vector T4).

use monofact_core::facts::{
    finish, CountBy, FactCounts, FactMatcher, FactTable, KbOptions, KbRow, KnowledgeBase,
    TemplateOptions, Window,
};
use proptest::prelude::*;

const WORDS: &[&str] = &[
    "Abe", "Bo", "Cy", "Di", "abe", "the", "son", "of", "and", "Bo Cy", ".", "\n", "  ",
];

fn docs_strategy() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop::collection::vec(prop::sample::select(WORDS), 0..25).prop_map(|w| w.join(" ")),
        0..30,
    )
}

/// Everything, rendered: `FactCounts` holds f64 rates that may be NaN (no samples).
fn render(c: &FactCounts) -> String {
    format!("{c:?}")
}

fn matchers() -> Vec<FactMatcher> {
    let templates = vec![
        (
            "father".to_string(),
            r"(?P<subject>[A-Z][a-z]+) the son of (?P<object>[A-Za-z]+)".to_string(),
        ),
        (
            "and".to_string(),
            r"(?P<subject>\w+)\s+and\s+(?P<object>\w+)".to_string(),
        ),
    ];
    let kb = KnowledgeBase::new(vec![
        KbRow {
            subject: "Abe".into(),
            relation: "knows".into(),
            object: "Bo".into(),
            ..KbRow::default()
        },
        KbRow {
            subject: "Cy".into(),
            relation: "knows".into(),
            object: "Di".into(),
            subject_aliases: vec!["Bo Cy".into()],
            object_aliases: vec![],
        },
    ])
    .expect("kb");
    vec![
        FactMatcher::templates(
            &templates,
            &TemplateOptions {
                lowercase: true,
                normalize_whitespace: true,
            },
        )
        .expect("templates"),
        FactMatcher::knowledge_base(
            &kb,
            Window::Sentence,
            &KbOptions {
                case_insensitive: true,
            },
        )
        .expect("kb"),
        FactMatcher::knowledge_base(&kb, Window::Tokens(2), &KbOptions::default()).expect("kb"),
    ]
}

/// Scans docs (and one IDK record per document that contains "of") into `assignment.len()`-way
/// split tables, then merges them in `order`, pairwise as a tree when `tree`.
fn run(
    matcher: &FactMatcher,
    docs: &[String],
    tables: usize,
    assignment: &[usize],
    order: &[usize],
    tree: bool,
    count_by: CountBy,
) -> FactCounts {
    let mut ts: Vec<FactTable> = (0..tables).map(|_| FactTable::new()).collect();
    for (d, doc) in docs.iter().enumerate() {
        let t = &mut ts[assignment[d] % tables];
        matcher.scan(doc, d as u64, t);
        if doc.contains("of") {
            t.add_record("Abe", "father", None, d as u64);
        }
    }
    let mut ordered: Vec<FactTable> = Vec::new();
    let mut slots: Vec<Option<FactTable>> = ts.into_iter().map(Some).collect();
    for &i in order {
        if let Some(t) = slots[i % tables].take() {
            ordered.push(t);
        }
    }
    ordered.extend(slots.into_iter().flatten());
    if tree {
        while ordered.len() > 1 {
            let mut next = Vec::new();
            let mut it = ordered.into_iter();
            while let Some(mut a) = it.next() {
                if let Some(b) = it.next() {
                    a.merge(b);
                }
                next.push(a);
            }
            ordered = next;
        }
    }
    finish(ordered, None, count_by)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn facts_split_and_merge_order_do_not_matter(
        docs in docs_strategy(),
        tables in 1usize..5,
        assignment in prop::collection::vec(0usize..5, 30),
        order in prop::collection::vec(0usize..5, 0..5),
        tree in any::<bool>(),
        by_document in any::<bool>(),
    ) {
        let count_by = if by_document { CountBy::Document } else { CountBy::Mention };
        for matcher in &matchers() {
            let one = run(matcher, &docs, 1, &[0; 30], &[], false, count_by);
            let many = run(matcher, &docs, tables, &assignment, &order, tree, count_by);
            prop_assert_eq!(render(&one), render(&many));
        }
    }
}

#[test]
fn facts_math_t4_idk_aware_singleton_rate() {
    let samples = [
        ("c1", Some("a")),
        ("c1", Some("a")),
        ("c2", Some("b")),
        ("c3", None),
        ("c3", Some("x")),
        ("c4", Some("y")),
        ("c5", None),
        ("c6", Some("z")),
        ("c6", None),
        ("c7", Some("w")),
    ];
    let mut t = FactTable::new();
    for (d, (subject, object)) in samples.iter().enumerate() {
        t.add_record(subject, "r", *object, d as u64);
    }
    let c = finish(vec![t], None, CountBy::Mention);
    assert_eq!(c.summary.samples, 10);
    assert_eq!(c.summary.idk_samples, 3);
    assert_eq!(c.summary.singleton_prompts, 5);
    assert_eq!(c.summary.singleton_rate, 0.5);
    let singletons: Vec<&str> = c
        .prompts
        .iter()
        .filter(|p| p.singleton)
        .map(|p| p.subject.as_str())
        .collect::<Vec<_>>();
    let mut singletons = singletons;
    singletons.sort_unstable();
    assert_eq!(singletons, vec!["c2", "c3", "c4", "c6", "c7"]);
    assert_eq!(c.relations.len(), 1);
    assert_eq!((c.relations[0].samples, c.relations[0].singletons), (10, 5));
    // c1/a is the only fact seen twice; c5 is an IDK-only prompt (not a singleton).
    assert_eq!(c.histogram, vec![(1, 5), (2, 1)]);
    let c5 = c
        .prompts
        .iter()
        .find(|p| p.subject == "c5")
        .expect("c5 listed");
    assert_eq!((c5.answers, c5.idk, c5.singleton), (0, 1, false));
    let prompts = c.prompts_batch().expect("prompts batch");
    assert_eq!(prompts.num_rows(), 7);
}

#[test]
fn facts_count_by_document_and_idk() {
    let mut t = FactTable::new();
    // doc 0: the fact twice and an IDK twice; doc 1: the fact once more.
    t.add_record("s", "r", Some("o"), 0);
    t.add_record("s", "r", Some("o"), 0);
    t.add_record("s", "r", None, 0);
    t.add_record("s", "r", None, 0);
    t.add_record("s", "r", Some("o"), 1);
    let mut u = FactTable::new();
    u.add_record("s", "r", Some("o"), 7);
    let by_mention = finish(vec![FactTable::new()], None, CountBy::Mention);
    assert_eq!(by_mention.summary.samples, 0);
    assert!(by_mention.summary.singleton_rate.is_nan());
    let mut t2 = FactTable::new();
    t2.merge(t);
    let c = finish(vec![u, t2], None, CountBy::Document);
    assert_eq!(c.summary.fact_samples, 3);
    assert_eq!(c.summary.idk_samples, 1);
    assert_eq!(c.summary.mentions, 4);
    assert_eq!(c.facts[0].documents, 3);
    assert_eq!(c.facts[0].first_document, Some(0));
}

#[test]
fn facts_unmentioned_kb_facts_have_count_zero() {
    let kb = KnowledgeBase::from_columns(
        vec!["Abe".into(), "Cy".into(), "Abe".into()],
        vec!["knows".into(), "knows".into(), "knows".into()],
        vec!["Bo".into(), "Di".into(), "Bo".into()],
    )
    .expect("kb");
    let m = FactMatcher::knowledge_base(&kb, Window::Line, &KbOptions::default()).expect("matcher");
    let mut t = FactTable::new();
    m.scan("Abe met Bo.\nBo met Abe. Cy", 5, &mut t);
    let c = finish(vec![t], Some(&kb), CountBy::Mention);
    assert_eq!(c.facts.len(), 2);
    assert_eq!(
        (
            c.facts[0].subject.as_str(),
            c.facts[0].mentions,
            c.facts[0].first_document
        ),
        ("Abe", 2, Some(5))
    );
    assert_eq!(
        (
            c.facts[1].subject.as_str(),
            c.facts[1].mentions,
            c.facts[1].first_document
        ),
        ("Cy", 0, None)
    );
    assert_eq!(c.summary.samples, 2);
    assert_eq!(c.summary.unmentioned_kb_facts, 1);
    assert_eq!(c.histogram, vec![(2, 1)]);
    assert_eq!(c.prompts.len(), 1);
    let batch = c.facts_batch().expect("batch");
    assert_eq!(batch.column(5).null_count(), 1);
}

#[test]
fn facts_arrow_schemas() {
    use arrow_schema::DataType::{Boolean, Float64, LargeUtf8, UInt64};
    let mut t = FactTable::new();
    t.add_record("s", "r", Some("o"), 0);
    t.add_record("s", "r", None, 1);
    let c = finish(vec![t], None, CountBy::Mention);
    let shape = |b: arrow_array::RecordBatch| -> Vec<(String, arrow_schema::DataType)> {
        b.schema()
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect()
    };
    let named = |v: &[(&str, arrow_schema::DataType)]| -> Vec<(String, arrow_schema::DataType)> {
        v.iter().map(|(n, t)| (n.to_string(), t.clone())).collect()
    };
    assert_eq!(
        shape(c.facts_batch().expect("facts")),
        named(&[
            ("subject", LargeUtf8),
            ("relation", LargeUtf8),
            ("object", LargeUtf8),
            ("mentions", UInt64),
            ("documents", UInt64),
            ("first_document", UInt64)
        ])
    );
    assert_eq!(
        shape(c.histogram_batch().expect("histogram")),
        named(&[("r", UInt64), ("n_r", UInt64)])
    );
    assert_eq!(
        shape(c.relations_batch().expect("relations")),
        named(&[
            ("group", LargeUtf8),
            ("samples", UInt64),
            ("singletons", UInt64),
            ("singleton_rate", Float64)
        ])
    );
    assert_eq!(
        shape(c.prompts_batch().expect("prompts")),
        named(&[
            ("subject", LargeUtf8),
            ("relation", LargeUtf8),
            ("mentions", UInt64),
            ("answers", UInt64),
            ("idk", UInt64),
            ("distinct_objects", UInt64),
            ("singleton", Boolean)
        ])
    );
    let rates = c.relations_batch().expect("relations");
    let rate = rates
        .column(3)
        .as_any()
        .downcast_ref::<arrow_array::Float64Array>()
        .expect("f64");
    assert_eq!(rate.value(0), 0.5); // one singleton prompt, two samples (one IDK)
}
