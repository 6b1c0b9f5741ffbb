//! Regex templates: `(relation, regex)` pairs whose named groups `subject` and `object` capture
//! a fact.
//!
//! Every template reports all its non-overlapping matches in a document, leftmost first, like
//! Python's `re.finditer`; templates are independent, so two templates may match the same text.
//! With one template the regex runs directly (the regex crate already skips ahead with a literal
//! prefilter when the pattern has one, e.g. `" the son of "`). With several, one `RegexSet` pass
//! over the document tells which templates match at all, and only those run with captures; if
//! the set is too large to compile, every template runs on every document instead.
//!
//! A match whose `subject` or `object` group did not take part, or is empty after
//! normalization, is skipped. Captures may be case-folded ([`TemplateOptions::lowercase`], the
//! same per-character Unicode lowercase as [`crate::facts::fold_case`]) and whitespace-normalized
//! ([`TemplateOptions::normalize_whitespace`]: runs of Unicode whitespace become one space, ends
//! trimmed). The relation name is used as given.

use regex::{Regex, RegexSet};

use super::table::{FactKey, FactTable};
use super::{fold_case_into, FactError};

/// How captured subjects and objects are normalized before counting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TemplateOptions {
    /// Lowercase the captures (Unicode, per character).
    pub lowercase: bool,
    /// Collapse runs of whitespace in the captures to one space and trim both ends.
    pub normalize_whitespace: bool,
}

#[derive(Debug)]
struct Template {
    relation: String,
    regex: Regex,
    subject_group: usize,
    object_group: usize,
}

/// Compiled templates; see the module documentation.
#[derive(Debug)]
pub(crate) struct TemplateMatcher {
    templates: Vec<Template>,
    set: Option<RegexSet>,
    opts: TemplateOptions,
}

impl TemplateMatcher {
    pub fn new(patterns: &[(String, String)], opts: &TemplateOptions) -> Result<Self, FactError> {
        if patterns.is_empty() {
            return Err(FactError::NoTemplates);
        }
        let mut templates = Vec::with_capacity(patterns.len());
        for (index, (relation, pattern)) in patterns.iter().enumerate() {
            if relation.trim().is_empty() {
                return Err(FactError::EmptyRelation {
                    index,
                    pattern: pattern.clone(),
                });
            }
            let regex = Regex::new(pattern).map_err(|source| FactError::InvalidRegex {
                index,
                relation: relation.clone(),
                source,
            })?;
            let group = |name: &'static str| {
                regex
                    .capture_names()
                    .position(|n| n == Some(name))
                    .ok_or_else(|| FactError::MissingGroup {
                        index,
                        relation: relation.clone(),
                        group: name,
                        pattern: pattern.clone(),
                    })
            };
            let subject_group = group("subject")?;
            let object_group = group("object")?;
            templates.push(Template {
                relation: relation.clone(),
                regex,
                subject_group,
                object_group,
            });
        }
        // A set only pays when it can rule templates out; a failure to build it (size limits)
        // is not an error, just a slower path.
        let set = if templates.len() > 1 {
            RegexSet::new(templates.iter().map(|t| t.regex.as_str())).ok()
        } else {
            None
        };
        Ok(TemplateMatcher {
            templates,
            set,
            opts: *opts,
        })
    }

    pub fn scan(&self, text: &str, doc: u64, table: &mut FactTable) {
        match &self.set {
            Some(set) => {
                // Only templates that match somewhere in the document run with captures.
                for index in set.matches(text).iter() {
                    self.scan_template(&self.templates[index], text, doc, table);
                }
            }
            None => {
                for template in &self.templates {
                    self.scan_template(template, text, doc, table);
                }
            }
        }
    }

    fn scan_template(&self, template: &Template, text: &str, doc: u64, table: &mut FactTable) {
        let mut relation = None;
        for caps in template.regex.captures_iter(text) {
            let (Some(subject), Some(object)) = (
                caps.get(template.subject_group),
                caps.get(template.object_group),
            ) else {
                continue;
            };
            let mut subject_buf = std::mem::take(&mut table.scratch.subject);
            let mut object_buf = std::mem::take(&mut table.scratch.object);
            let s = normalize(subject.as_str(), &self.opts, &mut subject_buf);
            let o = normalize(object.as_str(), &self.opts, &mut object_buf);
            if !s.is_empty() && !o.is_empty() {
                let relation =
                    *relation.get_or_insert_with(|| table.strings.intern(&template.relation));
                let key = FactKey {
                    subject: table.strings.intern(s),
                    relation,
                    object: table.strings.intern(o),
                };
                table.add_key(key, doc);
            }
            table.scratch.subject = subject_buf;
            table.scratch.object = object_buf;
        }
    }
}

/// Applies the template options to one capture, writing into `buf` only when the text changes.
fn normalize<'a>(capture: &'a str, opts: &TemplateOptions, buf: &'a mut String) -> &'a str {
    buf.clear();
    match (opts.lowercase, opts.normalize_whitespace) {
        (false, false) => capture,
        (true, false) => {
            fold_case_into(capture, buf);
            buf
        }
        (false, true) => {
            collapse_whitespace(capture, buf);
            buf
        }
        (true, true) => {
            let mut folded = String::with_capacity(capture.len());
            fold_case_into(capture, &mut folded);
            collapse_whitespace(&folded, buf);
            buf
        }
    }
}

fn collapse_whitespace(text: &str, out: &mut String) {
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
}
