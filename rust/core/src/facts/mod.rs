//! Fact extraction and counting.
//!
//! A fact is a (subject, relation, object) triple; in the sense of MATH.md section 2 its prompt
//! is (subject, relation) and its response the object, or IDK. Facts come from three sources:
//!
//! 1. **Templates** ([`FactMatcher::templates`]): regexes whose named groups `subject` and
//!    `object` capture a fact, one relation name per template (see [`template`]).
//! 2. **A knowledge base** ([`FactMatcher::knowledge_base`]): a fact is mentioned when a surface
//!    form of its subject and one of its object occur in one [`Window`] (see [`kb`], [`window`]).
//! 3. **Records** ([`FactTable::add_record`]): facts already extracted, IDK included.
//!
//! The shape follows the engine: one [`FactMatcher`], built and validated once before any
//! scanning (every input error surfaces there), is shared read-only by all worker threads; each
//! thread owns a [`FactTable`] and feeds it its documents in corpus order with a document key
//! that grows in corpus order; the tables are merged in any order and [`finish`] turns them into
//! [`FactCounts`], whose every list is in a defined order, so the output does not depend on the
//! thread count or on how the documents were split.
//!
//! Costs: templates cost what the regex crate costs (a `RegexSet` pass picks the templates that
//! can match a document when there are several); a knowledge base costs one Aho-Corasick pass
//! per window plus work proportional to the occurrences and facts found. Strings are interned
//! per table, so a table holds each distinct string once and each key as three `u32`.

pub mod counts;
pub mod kb;
pub mod run;
pub mod table;
pub mod template;
pub mod window;

pub use counts::{finish, CountBy, FactCounts, FactRow, FactSummary, GroupRate, PromptRow};
pub use kb::{KbOptions, KbRow, KnowledgeBase};
pub use run::{count_facts, count_records, FactRun};
pub use table::FactTable;
pub use template::TemplateOptions;
pub use window::Window;

/// Errors of fact extraction; all of them are raised while building a [`FactMatcher`] or a
/// [`KnowledgeBase`], before any document is scanned.
#[derive(Debug, thiserror::Error)]
pub enum FactError {
    #[error("no templates given: at least one (relation, regex) pair is needed")]
    NoTemplates,
    #[error("template {index} ({pattern:?}) has an empty relation name")]
    EmptyRelation { index: usize, pattern: String },
    #[error("template {index} (relation {relation:?}) is not a valid regex:\n{source}")]
    InvalidRegex {
        index: usize,
        relation: String,
        #[source]
        source: regex::Error,
    },
    #[error(
        "template {index} (relation {relation:?}) has no named group `{group}`: \
         write it as (?P<{group}>...) in {pattern:?}"
    )]
    MissingGroup {
        index: usize,
        relation: String,
        group: &'static str,
        pattern: String,
    },
    #[error("knowledge base is missing the column {column:?} (it has: {available})")]
    MissingColumn {
        column: &'static str,
        available: String,
    },
    #[error("knowledge base column {column:?} has type {found}; expected strings (or a list of strings for aliases)")]
    ColumnType { column: &'static str, found: String },
    #[error(
        "knowledge base columns differ in length: {subjects} subjects, {relations} relations, \
         {objects} objects"
    )]
    ColumnLengths {
        subjects: usize,
        relations: usize,
        objects: usize,
    },
    #[error("knowledge base row {row}: the {field} is empty or missing")]
    EmptySurfaceForm { row: usize, field: &'static str },
    #[error("knowledge base has no rows")]
    EmptyKnowledgeBase,
    #[error("knowledge base too large: {0}")]
    KnowledgeBaseTooLarge(String),
    #[error("building the surface-form automaton failed: {0}")]
    Automaton(#[source] aho_corasick::BuildError),
    #[error("window tokens(0): a token window needs k >= 1")]
    ZeroTokenWindow,
    #[error("unknown window {0:?}: expected sentence, line, paragraph, document or tokens:K")]
    UnknownWindow(String),
}

/// Fact errors are configuration errors of the crate: a bad template, window or knowledge base
/// is an argument the caller gave (the knowledge base's file, if any, is read elsewhere).
impl From<FactError> for crate::CoreError {
    fn from(e: FactError) -> Self {
        crate::CoreError::Config(e.to_string())
    }
}

/// The case folding used everywhere in this module: each character replaced by its Unicode
/// lowercase (`char::to_lowercase`, no context rules such as final sigma), so folding a surface
/// form and folding a text that contains it agree.
pub fn fold_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_case_into(text, &mut out);
    out
}

/// [`fold_case`], appending to `out`.
pub(crate) fn fold_case_into(text: &str, out: &mut String) {
    if text.is_ascii() {
        out.reserve(text.len());
        // Safe and fast: ASCII lowercase keeps the bytes ASCII.
        out.extend(text.bytes().map(|b| b.to_ascii_lowercase() as char));
    } else {
        out.reserve(text.len());
        for c in text.chars() {
            out.extend(c.to_lowercase());
        }
    }
}

#[derive(Debug)]
enum Matcher {
    Templates(template::TemplateMatcher),
    KnowledgeBase(Box<kb::KbMatcher>),
}

/// A compiled fact extractor, shared read-only by all scanning threads (it is `Send + Sync`).
#[derive(Debug)]
pub struct FactMatcher {
    inner: Matcher,
}

impl FactMatcher {
    /// Compiles `(relation, regex)` templates; each regex needs the named groups `subject` and
    /// `object`.
    pub fn templates(
        patterns: &[(String, String)],
        opts: &TemplateOptions,
    ) -> Result<Self, FactError> {
        Ok(FactMatcher {
            inner: Matcher::Templates(template::TemplateMatcher::new(patterns, opts)?),
        })
    }

    /// Compiles a knowledge base for co-occurrence counting within `window`.
    pub fn knowledge_base(
        kb: &KnowledgeBase,
        window: Window,
        opts: &KbOptions,
    ) -> Result<Self, FactError> {
        Ok(FactMatcher {
            inner: Matcher::KnowledgeBase(Box::new(kb::KbMatcher::new(kb, window, opts)?)),
        })
    }

    /// Counts the facts of one document into `table`. `doc` is the document's key, growing in
    /// corpus order (the engine uses `(shard_index << 40) | doc_within_shard`).
    pub fn scan(&self, text: &str, doc: u64, table: &mut FactTable) {
        match &self.inner {
            Matcher::Templates(t) => t.scan(text, doc, table),
            Matcher::KnowledgeBase(k) => k.scan(text, doc, table),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matcher_is_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<FactMatcher>();
        check::<FactTable>();
    }

    #[test]
    fn fold_case_is_per_char() {
        assert_eq!(fold_case("ÀB İx"), "àb i\u{307}x");
        assert_eq!(fold_case("ABC"), "abc");
    }
}
