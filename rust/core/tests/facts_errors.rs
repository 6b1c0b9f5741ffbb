//! Bad input is refused with a clear error before any scanning starts.

use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use monofact_core::facts::{
    FactError, FactMatcher, KbOptions, KbRow, KnowledgeBase, TemplateOptions, Window,
};

fn templates(patterns: &[(&str, &str)]) -> Result<FactMatcher, FactError> {
    let owned: Vec<(String, String)> = patterns
        .iter()
        .map(|(r, p)| (r.to_string(), p.to_string()))
        .collect();
    FactMatcher::templates(&owned, &TemplateOptions::default())
}

#[test]
fn facts_error_template_without_groups() {
    let err =
        templates(&[("father", r"(?P<subject>\w+) son of (\w+)")]).expect_err("no object group");
    assert!(
        matches!(
            err,
            FactError::MissingGroup {
                index: 0,
                group: "object",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("(?P<object>...)"), "{err}");
    let err = templates(&[
        ("a", r"(?P<subject>x)(?P<object>y)"),
        ("b", r"(?P<object>\w+)"),
    ])
    .expect_err("no subject");
    assert!(
        matches!(
            err,
            FactError::MissingGroup {
                index: 1,
                group: "subject",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("template 1 (relation \"b\")"),
        "{err}"
    );
}

#[test]
fn facts_error_invalid_regex_shows_the_regex_error() {
    let err = templates(&[("r", r"(?P<subject>\w+) (?P<object>[a-")]).expect_err("invalid");
    assert!(
        matches!(err, FactError::InvalidRegex { index: 0, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("not a valid regex") && text.contains("unclosed character class"),
        "{text}"
    );
    // Look-around is not supported by the regex crate: said so, not panicked.
    let err = templates(&[("r", r"(?P<subject>\w+)(?=x)(?P<object>\w+)")]).expect_err("look-ahead");
    assert!(err.to_string().contains("look-around"), "{err}");
}

#[test]
fn facts_error_no_templates_or_empty_relation() {
    assert!(matches!(templates(&[]), Err(FactError::NoTemplates)));
    assert!(matches!(
        templates(&[(" ", r"(?P<subject>a)(?P<object>b)")]),
        Err(FactError::EmptyRelation { .. })
    ));
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).expect("batch")
}

fn strings(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

#[test]
fn facts_error_kb_missing_or_bad_columns() {
    let b = batch(vec![
        ("subject", strings(&[Some("a")])),
        ("object", strings(&[Some("b")])),
    ]);
    let err = KnowledgeBase::from_record_batches(&[b]).expect_err("missing relation");
    assert!(
        matches!(
            err,
            FactError::MissingColumn {
                column: "relation",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("it has: subject, object"), "{err}");

    let b = batch(vec![
        ("subject", strings(&[Some("a")])),
        ("relation", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
        ("object", strings(&[Some("b")])),
    ]);
    let err = KnowledgeBase::from_record_batches(&[b]).expect_err("int relation");
    assert!(
        matches!(
            err,
            FactError::ColumnType {
                column: "relation",
                ..
            }
        ),
        "{err:?}"
    );

    let err = KnowledgeBase::from_columns(vec!["a".into()], vec![], vec!["b".into()])
        .expect_err("lengths");
    assert!(
        matches!(
            err,
            FactError::ColumnLengths {
                subjects: 1,
                relations: 0,
                objects: 1
            }
        ),
        "{err:?}"
    );
}

#[test]
fn facts_error_kb_empty_surface_forms() {
    let b = batch(vec![
        ("subject", strings(&[Some("a"), None])),
        ("relation", strings(&[Some("r"), Some("r")])),
        ("object", strings(&[Some("b"), Some("c")])),
    ]);
    let err = KnowledgeBase::from_record_batches(&[b]).expect_err("null subject");
    assert!(
        matches!(
            err,
            FactError::EmptySurfaceForm {
                row: 1,
                field: "subject"
            }
        ),
        "{err:?}"
    );

    let err = KnowledgeBase::from_columns(vec!["a".into()], vec!["r".into()], vec!["".into()])
        .expect_err("empty");
    assert!(
        matches!(
            err,
            FactError::EmptySurfaceForm {
                row: 0,
                field: "object"
            }
        ),
        "{err:?}"
    );

    let row = KbRow {
        subject: "a".into(),
        relation: "r".into(),
        object: "b".into(),
        subject_aliases: vec!["  ".into()],
        object_aliases: vec![],
    };
    let err = KnowledgeBase::new(vec![row]).expect_err("blank alias");
    assert!(
        matches!(
            err,
            FactError::EmptySurfaceForm {
                row: 0,
                field: "subject_aliases"
            }
        ),
        "{err:?}"
    );
    assert!(matches!(
        KnowledgeBase::new(vec![]),
        Err(FactError::EmptyKnowledgeBase)
    ));
}

#[test]
fn facts_error_zero_token_window() {
    let kb = KnowledgeBase::from_columns(vec!["a".into()], vec!["r".into()], vec!["b".into()])
        .expect("kb");
    let err = FactMatcher::knowledge_base(&kb, Window::Tokens(0), &KbOptions::default())
        .expect_err("k = 0");
    assert!(matches!(err, FactError::ZeroTokenWindow), "{err:?}");
    assert!(err.to_string().contains("k >= 1"), "{err}");
    assert!(matches!(
        Window::parse("tokens:0"),
        Err(FactError::ZeroTokenWindow)
    ));
}

#[test]
fn facts_kb_from_arrow_with_aliases() {
    use arrow_array::builder::{ListBuilder, StringBuilder};
    let mut aliases = ListBuilder::new(StringBuilder::new());
    aliases.values().append_value("Jehoshua");
    aliases.values().append_null();
    aliases.append(true);
    aliases.append(false);
    let b = batch(vec![
        ("subject", strings(&[Some("Joshua"), Some("Caleb")])),
        ("relation", strings(&[Some("father"), Some("father")])),
        ("object", strings(&[Some("Nun"), Some("Jephunneh")])),
        ("subject_aliases", Arc::new(aliases.finish()) as ArrayRef),
    ]);
    let kb = KnowledgeBase::from_record_batches(&[b]).expect("kb");
    assert_eq!(kb.rows()[0].subject_aliases, vec!["Jehoshua".to_string()]);
    assert!(kb.rows()[1].subject_aliases.is_empty());
    assert!(kb.rows()[1].object_aliases.is_empty());
}
