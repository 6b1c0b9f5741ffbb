//! Knowledge-base co-occurrence against a brute-force oracle: every window kind, aliases, case
//! folding, shared surface forms, self-facts, duplicate rows.
//!
//! The oracle works on `Vec<char>` and tries every surface form at every position; it shares no
//! code with the matcher except `fold_case`, the documented folding.

use std::collections::{BTreeMap, BTreeSet};

use monofact_core::facts::{
    finish, fold_case, CountBy, FactMatcher, FactTable, KbOptions, KbRow, KnowledgeBase, Window,
};
use proptest::prelude::*;

type Fact = (String, String, String);

fn is_closer(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | ']' | '\u{2019}' | '\u{201d}')
}

/// Window texts, as the module documentation defines them.
fn oracle_windows(text: &str, window: Window) -> Vec<Vec<char>> {
    let chars: Vec<char> = text.chars().collect();
    let paragraphs = || {
        let mut out = Vec::new();
        let mut start = 0;
        let mut i = 0;
        while i < chars.len() {
            if chars[i].is_whitespace() {
                let mut j = i;
                while j < chars.len() && chars[j].is_whitespace() {
                    j += 1;
                }
                if chars[i..j].iter().filter(|&&c| c == '\n').count() >= 2 {
                    out.push(chars[start..i].to_vec());
                    start = j;
                }
                i = j;
            } else {
                i += 1;
            }
        }
        out.push(chars[start..].to_vec());
        out
    };
    match window {
        Window::Document | Window::Tokens(_) => vec![chars.clone()],
        Window::Line => text.split('\n').map(|l| l.chars().collect()).collect(),
        Window::Paragraph => paragraphs(),
        Window::Sentence => {
            let mut out = Vec::new();
            for p in paragraphs() {
                let mut start = 0;
                let mut i = 0;
                while i < p.len() {
                    if matches!(p[i], '.' | '!' | '?') {
                        let mut j = i;
                        while j < p.len() && matches!(p[j], '.' | '!' | '?') {
                            j += 1;
                        }
                        while j < p.len() && is_closer(p[j]) {
                            j += 1;
                        }
                        if j == p.len() || p[j].is_whitespace() {
                            out.push(p[start..j].to_vec());
                            start = j;
                        }
                        i = j;
                    } else {
                        i += 1;
                    }
                }
                if start < p.len() || p.is_empty() {
                    out.push(p[start..].to_vec());
                }
            }
            out
        }
    }
}

/// Leftmost-longest occurrences with word boundaries: (char position, form).
fn oracle_occurrences(w: &[char], forms: &[Vec<char>]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut p = 0;
    while p < w.len() {
        let before_ok = p == 0 || !w[p - 1].is_alphanumeric();
        let mut best: Option<usize> = None;
        if before_ok {
            for (f, form) in forms.iter().enumerate() {
                let end = p + form.len();
                if end <= w.len()
                    && w[p..end] == form[..]
                    && (end == w.len() || !w[end].is_alphanumeric())
                    && best.is_none_or(|b| forms[b].len() < form.len())
                {
                    best = Some(f);
                }
            }
        }
        match best {
            Some(f) => {
                out.push((p, f));
                p += forms[f].len();
            }
            None => p += 1,
        }
    }
    out
}

/// (fact -> (mentions, documents, first document)).
fn oracle(
    kb: &[KbRow],
    docs: &[String],
    window: Window,
    ci: bool,
) -> BTreeMap<Fact, (u64, u64, u64)> {
    let fold = |s: &str| if ci { fold_case(s) } else { s.to_string() };
    // surface form -> entities (canonical names)
    let mut form_entities: BTreeMap<Vec<char>, BTreeSet<String>> = BTreeMap::new();
    for row in kb {
        for (name, aliases) in [
            (&row.subject, &row.subject_aliases),
            (&row.object, &row.object_aliases),
        ] {
            form_entities
                .entry(fold(name).chars().collect())
                .or_default()
                .insert(name.clone());
            for a in aliases {
                form_entities
                    .entry(fold(a).chars().collect())
                    .or_default()
                    .insert(name.clone());
            }
        }
    }
    let forms: Vec<Vec<char>> = form_entities.keys().cloned().collect();
    let ents: Vec<&BTreeSet<String>> = form_entities.values().collect();
    let facts: BTreeSet<Fact> = kb
        .iter()
        .map(|r| (r.subject.clone(), r.relation.clone(), r.object.clone()))
        .collect();
    let mut out: BTreeMap<Fact, (u64, u64, u64)> = BTreeMap::new();
    for (d, doc) in docs.iter().enumerate() {
        let text = fold(doc);
        let mut hits_in_doc: Vec<Fact> = Vec::new();
        for w in oracle_windows(&text, window) {
            let occ = oracle_occurrences(&w, &forms);
            match window {
                Window::Tokens(k) => {
                    let token_pos = |p: usize| {
                        (0..p)
                            .filter(|&i| {
                                w[i].is_alphanumeric() && (i == 0 || !w[i - 1].is_alphanumeric())
                            })
                            .count()
                    };
                    let pos: Vec<usize> = occ.iter().map(|&(p, _)| token_pos(p)).collect();
                    for (i, &(_, f)) in occ.iter().enumerate() {
                        let near: BTreeSet<&String> = occ
                            .iter()
                            .enumerate()
                            .filter(|&(j, _)| pos[j].abs_diff(pos[i]) <= k)
                            .flat_map(|(_, &(_, g))| ents[g].iter())
                            .collect();
                        for fact in &facts {
                            if ents[f].contains(&fact.0) && near.contains(&fact.2) {
                                hits_in_doc.push(fact.clone());
                            }
                        }
                    }
                }
                _ => {
                    let present: BTreeSet<&String> =
                        occ.iter().flat_map(|&(_, f)| ents[f].iter()).collect();
                    for fact in &facts {
                        if present.contains(&fact.0) && present.contains(&fact.2) {
                            hits_in_doc.push(fact.clone());
                        }
                    }
                }
            }
        }
        let distinct: BTreeSet<&Fact> = hits_in_doc.iter().collect();
        for fact in &hits_in_doc {
            out.entry(fact.clone()).or_insert((0, 0, d as u64)).0 += 1;
        }
        for fact in distinct {
            if let Some(e) = out.get_mut(fact) {
                e.1 += 1;
            }
        }
    }
    out
}

const NAMES: &[&str] = &[
    "ab", "Ab", "abc", "b", "ab c", "ab  c", "É", "éa", "x", "c.", "a. b", "x-y", "ÉA",
];
const RELATIONS: &[&str] = &["r", "s"];
/// Text is made of surface forms (also in other cases), letters that glue onto them (to test
/// word boundaries) and separators (to test windows).
const GLUE: &[&str] = &["a", "b", "c", "x", "1", "é", "É", "ab", "Ab", "AB"];
const SEPARATORS: &[&str] = &[
    " ", " ", " ", "  ", ".", ". ", "!\n", "\n", "\n\n", " \n \n", "?", "\"", ")", "-", ",", "\t",
    ".\" ",
];

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(NAMES).prop_map(str::to_string),
        1 => prop::sample::select(NAMES).prop_map(|n| n.to_uppercase()),
        2 => prop::sample::select(GLUE).prop_map(str::to_string),
        4 => prop::sample::select(SEPARATORS).prop_map(str::to_string),
    ]
}

fn window_strategy() -> impl Strategy<Value = Window> {
    prop_oneof![
        Just(Window::Sentence),
        Just(Window::Line),
        Just(Window::Paragraph),
        Just(Window::Document),
        (1usize..4).prop_map(Window::Tokens),
    ]
}

fn row_strategy() -> impl Strategy<Value = KbRow> {
    let name = || prop::sample::select(NAMES).prop_map(str::to_string);
    (
        name(),
        prop::sample::select(RELATIONS).prop_map(str::to_string),
        name(),
        prop::collection::vec(name(), 0..2),
        prop::collection::vec(name(), 0..2),
    )
        .prop_map(
            |(subject, relation, object, subject_aliases, object_aliases)| KbRow {
                subject,
                relation,
                object,
                subject_aliases,
                object_aliases,
            },
        )
}

fn docs_strategy() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop::collection::vec(piece(), 0..40).prop_map(|p| p.concat()),
        1..6,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn facts_kb_matches_brute_force_oracle(
        rows in prop::collection::vec(row_strategy(), 1..6),
        docs in docs_strategy(),
        window in window_strategy(),
        ci in any::<bool>(),
        threads in 1usize..4,
    ) {
        let kb = KnowledgeBase::new(rows.clone()).expect("valid kb");
        let matcher = FactMatcher::knowledge_base(&kb, window, &KbOptions { case_insensitive: ci })
            .expect("valid matcher");
        let mut tables: Vec<FactTable> = (0..threads).map(|_| FactTable::new()).collect();
        for (d, doc) in docs.iter().enumerate() {
            matcher.scan(doc, d as u64, &mut tables[d % threads]);
        }
        let counts = finish(tables, Some(&kb), CountBy::Mention);
        let got: BTreeMap<Fact, (u64, u64, u64)> = counts
            .facts
            .iter()
            .filter(|f| f.mentions > 0)
            .map(|f| ((f.subject.clone(), f.relation.clone(), f.object.clone()),
                      (f.mentions, f.documents, f.first_document.unwrap_or(u64::MAX))))
            .collect();
        let want = oracle(&rows, &docs, window, ci);
        prop_assert_eq!(&got, &want);
        // Every distinct KB fact is listed exactly once; unmentioned ones with 0.
        let distinct: BTreeSet<Fact> =
            rows.iter().map(|r| (r.subject.clone(), r.relation.clone(), r.object.clone())).collect();
        prop_assert_eq!(counts.facts.len(), distinct.len());
        prop_assert_eq!(counts.summary.unmentioned_kb_facts as usize, distinct.len() - want.len());
    }
}

/// Hand-checked cases that document the semantics.
fn run(rows: Vec<KbRow>, docs: &[&str], window: Window, ci: bool) -> Vec<(String, u64)> {
    let kb = KnowledgeBase::new(rows).expect("valid kb");
    let m = FactMatcher::knowledge_base(
        &kb,
        window,
        &KbOptions {
            case_insensitive: ci,
        },
    )
    .expect("matcher");
    let mut t = FactTable::new();
    for (d, doc) in docs.iter().enumerate() {
        m.scan(doc, d as u64, &mut t);
    }
    finish(vec![t], None, CountBy::Mention)
        .facts
        .into_iter()
        .map(|f| (format!("{}/{}", f.subject, f.object), f.mentions))
        .collect()
}

fn row(s: &str, o: &str) -> KbRow {
    KbRow {
        subject: s.into(),
        relation: "r".into(),
        object: o.into(),
        ..KbRow::default()
    }
}

#[test]
fn facts_kb_word_boundaries_and_longest_match() {
    // "New York" is the longest form at 0 but fails the boundary in "New Yorker": "New" counts.
    let rows = vec![row("New", "Mary"), row("New York", "Mary")];
    assert_eq!(
        run(rows.clone(), &["New Yorker Mary"], Window::Document, false),
        vec![("New/Mary".into(), 1)]
    );
    // Leftmost-longest: "New York" hides "New".
    assert_eq!(
        run(rows, &["New York, Mary."], Window::Document, false),
        vec![("New York/Mary".into(), 1)]
    );
    // Inside words nothing matches.
    assert!(run(
        vec![row("ab", "cd")],
        &["xab cdx", "ab1 cd"],
        Window::Document,
        false
    )
    .is_empty());
}

#[test]
fn facts_kb_once_per_window_and_case_folding() {
    let rows = vec![KbRow {
        subject: "Joshua".into(),
        relation: "father".into(),
        object: "Nun".into(),
        subject_aliases: vec!["Jehoshua".into()],
        object_aliases: vec![],
    }];
    let doc = "Joshua son of Nun. Jehoshua and nun. JOSHUA, Nun, Nun.\n\nNun";
    assert_eq!(
        run(rows.clone(), &[doc], Window::Sentence, false),
        vec![("Joshua/Nun".into(), 1)]
    );
    assert_eq!(
        run(rows.clone(), &[doc], Window::Sentence, true),
        vec![("Joshua/Nun".into(), 3)]
    );
    assert_eq!(
        run(rows.clone(), &[doc], Window::Paragraph, true),
        vec![("Joshua/Nun".into(), 1)]
    );
    assert_eq!(
        run(rows.clone(), &[doc], Window::Document, true),
        vec![("Joshua/Nun".into(), 1)]
    );
    // Tokens(2): each subject occurrence with an object within 2 tokens: Joshua (son of Nun: 3
    // tokens away, no), Jehoshua (and nun: 2, yes), JOSHUA (Nun: 1, yes).
    assert_eq!(
        run(rows, &[doc], Window::Tokens(2), true),
        vec![("Joshua/Nun".into(), 2)]
    );
}
