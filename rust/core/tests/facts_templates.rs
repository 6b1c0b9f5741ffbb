//! Templates: all non-overlapping matches per template (like `re.finditer`), templates
//! independent of each other, capture normalization.

use monofact_core::facts::{finish, CountBy, FactCounts, FactMatcher, FactTable, TemplateOptions};
use proptest::prelude::*;

fn matcher(patterns: &[(&str, &str)], opts: TemplateOptions) -> FactMatcher {
    let owned: Vec<(String, String)> = patterns
        .iter()
        .map(|(r, p)| (r.to_string(), p.to_string()))
        .collect();
    FactMatcher::templates(&owned, &opts).expect("templates")
}

fn count(patterns: &[(&str, &str)], opts: TemplateOptions, docs: &[&str]) -> FactCounts {
    scan(&matcher(patterns, opts), docs)
}

fn scan(m: &FactMatcher, docs: &[&str]) -> FactCounts {
    let mut t = FactTable::new();
    for (d, doc) in docs.iter().enumerate() {
        m.scan(doc, d as u64, &mut t);
    }
    finish(vec![t], None, CountBy::Mention)
}

fn facts(c: &FactCounts) -> Vec<(String, u64)> {
    c.facts
        .iter()
        .map(|f| {
            (
                format!("{}|{}|{}", f.subject, f.relation, f.object),
                f.mentions,
            )
        })
        .collect()
}

#[test]
fn facts_template_all_non_overlapping_matches() {
    // Like re.finditer: "A of B of C" gives (A, B) only, the match consumes "B".
    let c = count(
        &[("of", r"(?P<subject>[A-Z]) of (?P<object>[A-Z])")],
        TemplateOptions::default(),
        &["A of B of C"],
    );
    assert_eq!(facts(&c), vec![("A|of|B".to_string(), 1)]);
    let c = count(
        &[("of", r"(?P<subject>[A-Z]) of (?P<object>[A-Z])")],
        TemplateOptions::default(),
        &["A of B, C of D, A of B"],
    );
    assert_eq!(
        facts(&c),
        vec![("A|of|B".to_string(), 2), ("C|of|D".to_string(), 1)]
    );
}

#[test]
fn facts_template_normalization_and_optional_groups() {
    let docs = ["Mary  Ann\tSmith was born in NEW\nYORK."];
    let pattern = [(
        "born",
        r"(?P<subject>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*) was born in (?P<object>[A-Z]+\s+[A-Z]+)",
    )];
    let raw = count(&pattern, TemplateOptions::default(), &docs);
    assert_eq!(
        facts(&raw),
        vec![("Mary  Ann\tSmith|born|NEW\nYORK".to_string(), 1)]
    );
    let both = count(
        &pattern,
        TemplateOptions {
            lowercase: true,
            normalize_whitespace: true,
        },
        &docs,
    );
    assert_eq!(
        facts(&both),
        vec![("mary ann smith|born|new york".to_string(), 1)]
    );
    let ws = count(
        &pattern,
        TemplateOptions {
            lowercase: false,
            normalize_whitespace: true,
        },
        &docs,
    );
    assert_eq!(
        facts(&ws),
        vec![("Mary Ann Smith|born|NEW YORK".to_string(), 1)]
    );
    // A subject group that did not take part, or an empty capture, is skipped.
    let optional = [("r", r"(?P<subject>[a-z]+)?:(?P<object>[a-z]*)")];
    let c = count(&optional, TemplateOptions::default(), &[":x a:b c: d:e"]);
    assert_eq!(
        facts(&c),
        vec![("a|r|b".to_string(), 1), ("d|r|e".to_string(), 1)]
    );
}

const PATTERNS: [(&str, &str); 3] = [
    (
        "son",
        r"(?P<subject>[A-Z]\w*) the son of (?P<object>[A-Z]\w*)",
    ),
    ("and", r"(?P<subject>\w+) and (?P<object>\w+)"),
    ("or", r"(?P<object>\w+) or (?P<subject>\w+)"),
];

/// Compiled once: regex compilation dominates a debug-build property test otherwise.
fn set_and_singles() -> &'static (FactMatcher, Vec<FactMatcher>) {
    static MATCHERS: std::sync::OnceLock<(FactMatcher, Vec<FactMatcher>)> =
        std::sync::OnceLock::new();
    MATCHERS.get_or_init(|| {
        (
            matcher(&PATTERNS, TemplateOptions::default()),
            PATTERNS
                .iter()
                .map(|p| matcher(&[*p], TemplateOptions::default()))
                .collect(),
        )
    })
}

const WORDS: &[&str] = &["Abe", "Bo", "son", "of", "the", "and", "or", "x", ",", "\n"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Several templates in one matcher (RegexSet prefilter) count what each template counts
    /// on its own.
    #[test]
    fn facts_template_set_equals_templates_alone(
        docs in prop::collection::vec(
            prop::collection::vec(prop::sample::select(WORDS), 0..20).prop_map(|w| w.join(" ")), 0..10),
    ) {
        let (set, singles) = set_and_singles();
        let docs: Vec<&str> = docs.iter().map(String::as_str).collect();
        let together = scan(set, &docs);
        let mut alone: Vec<(String, u64)> = singles.iter().flat_map(|m| facts(&scan(m, &docs))).collect();
        let mut got = facts(&together);
        alone.sort();
        got.sort();
        prop_assert_eq!(got, alone);
    }
}
