//! Knowledge-base co-occurrence.
//!
//! A [`KnowledgeBase`] is a list of (subject, relation, object) rows, each with optional aliases
//! of its subject and its object. Names are **entities**: one entity per distinct canonical
//! string, whether it appears as a subject or an object; its surface forms are the name itself
//! plus every alias given for that name in any row (aliases belong to the name, not to the row).
//! Several entities may share a surface form; an occurrence of it stands for all of them.
//!
//! Matching: one Aho-Corasick automaton holds every distinct surface form (case-folded when
//! [`KbOptions::case_insensitive`]; then the text is folded with the same per-character
//! lowercase, [`crate::facts::fold_case`], before matching). In each window, an occurrence is a
//! match whose preceding and following characters (inside the window) are not alphanumeric;
//! occurrences are taken leftmost-longest and non-overlapping: scanning left to right, at the
//! first position where some surface form occurs with word boundaries, the longest such form is
//! taken, and the scan resumes after it. The boundary test comes before the longest choice, so
//! "New York" in "New Yorker" does not hide an occurrence of "New".
//!
//! Cost: the automaton is only run, anchored, at positions that can start an occurrence (after a
//! non-alphanumeric character, on a byte that begins some surface form), and stops where no form
//! continues. Its cost is the trie walk over text that looks like the beginning of a surface
//! form; with 100,000 forms the automaton (a few MB) does not fit in L2 cache, so that walk, not
//! the text in between, dominates. Case-insensitive scans walk much more (every lowercase word
//! start is a candidate) and run about 3-4 times slower on our synthetic benchmark.
//!
//! Counting: a fact (s, r, o) is mentioned in a window when an occurrence of s and an occurrence
//! of o are both in it (the same occurrence serves both when s == o). Each fact counts **at most
//! once per window**; for `Tokens(k)` the window is the neighbourhood of one subject occurrence,
//! so a fact counts at most once per occurrence of its subject. Per window the work is
//! proportional to the facts actually found, not to subjects x objects: the window's matched
//! entities are sorted and deduplicated, and for each matched subject its facts (indexed by
//! subject, sorted by object) are joined with the matched entities, by a linear merge or by
//! binary search, whichever is shorter.
//!
//! Duplicate rows (same subject, relation and object) are one fact.

use aho_corasick::{AhoCorasick, Anchored, Input, MatchKind, StartKind};
use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use foldhash::fast::FixedState;
use hashbrown::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use super::table::FactTable;
use super::window::{for_each_window, Window};
use super::{fold_case, fold_case_into, FactError};

/// One row of a knowledge base.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KbRow {
    pub subject: String,
    pub relation: String,
    pub object: String,
    /// Other names of the subject (they apply to every row with this subject name).
    pub subject_aliases: Vec<String>,
    /// Other names of the object.
    pub object_aliases: Vec<String>,
}

/// A validated list of knowledge-base rows.
#[derive(Clone, Debug, Default)]
pub struct KnowledgeBase {
    rows: Vec<KbRow>,
}

fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

impl KnowledgeBase {
    /// Validates the rows: subject, relation, object and every alias must be non-blank, and there
    /// must be at least one row.
    pub fn new(rows: Vec<KbRow>) -> Result<Self, FactError> {
        if rows.is_empty() {
            return Err(FactError::EmptyKnowledgeBase);
        }
        for (row, r) in rows.iter().enumerate() {
            for (field, value) in [
                ("subject", &r.subject),
                ("relation", &r.relation),
                ("object", &r.object),
            ] {
                if is_blank(value) {
                    return Err(FactError::EmptySurfaceForm { row, field });
                }
            }
            if r.subject_aliases.iter().any(|a| is_blank(a)) {
                return Err(FactError::EmptySurfaceForm {
                    row,
                    field: "subject_aliases",
                });
            }
            if r.object_aliases.iter().any(|a| is_blank(a)) {
                return Err(FactError::EmptySurfaceForm {
                    row,
                    field: "object_aliases",
                });
            }
        }
        Ok(KnowledgeBase { rows })
    }

    /// Rows from three equally long columns, without aliases.
    pub fn from_columns(
        subjects: Vec<String>,
        relations: Vec<String>,
        objects: Vec<String>,
    ) -> Result<Self, FactError> {
        if subjects.len() != relations.len() || subjects.len() != objects.len() {
            return Err(FactError::ColumnLengths {
                subjects: subjects.len(),
                relations: relations.len(),
                objects: objects.len(),
            });
        }
        let rows = subjects
            .into_iter()
            .zip(relations)
            .zip(objects)
            .map(|((subject, relation), object)| KbRow {
                subject,
                relation,
                object,
                ..KbRow::default()
            })
            .collect();
        Self::new(rows)
    }

    /// Rows from Arrow record batches with string columns `subject`, `relation`, `object`
    /// (Utf8, LargeUtf8 or Utf8View) and optional list-of-string columns `subject_aliases`,
    /// `object_aliases` (a null list means no aliases; null list items are skipped). A null in a
    /// required column is an empty surface form.
    pub fn from_record_batches(batches: &[RecordBatch]) -> Result<Self, FactError> {
        let mut rows = Vec::new();
        for batch in batches {
            let schema = batch.schema();
            let column = |name: &'static str| {
                batch
                    .column_by_name(name)
                    .ok_or_else(|| FactError::MissingColumn {
                        column: name,
                        available: schema
                            .fields()
                            .iter()
                            .map(|f| f.name().as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
            };
            let subjects = strings(column("subject")?.as_ref(), "subject")?;
            let relations = strings(column("relation")?.as_ref(), "relation")?;
            let objects = strings(column("object")?.as_ref(), "object")?;
            let subject_aliases = match batch.column_by_name("subject_aliases") {
                Some(c) => Some(string_lists(c.as_ref(), "subject_aliases")?),
                None => None,
            };
            let object_aliases = match batch.column_by_name("object_aliases") {
                Some(c) => Some(string_lists(c.as_ref(), "object_aliases")?),
                None => None,
            };
            for i in 0..batch.num_rows() {
                let row = rows.len();
                let required = |values: &[Option<String>], field: &'static str| {
                    values[i]
                        .clone()
                        .ok_or(FactError::EmptySurfaceForm { row, field })
                };
                rows.push(KbRow {
                    subject: required(&subjects, "subject")?,
                    relation: required(&relations, "relation")?,
                    object: required(&objects, "object")?,
                    subject_aliases: subject_aliases
                        .as_ref()
                        .map(|a| a[i].clone())
                        .unwrap_or_default(),
                    object_aliases: object_aliases
                        .as_ref()
                        .map(|a| a[i].clone())
                        .unwrap_or_default(),
                });
            }
        }
        Self::new(rows)
    }

    /// The rows, as given.
    pub fn rows(&self) -> &[KbRow] {
        &self.rows
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Never true for a validated knowledge base.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

fn strings(array: &dyn Array, column: &'static str) -> Result<Vec<Option<String>>, FactError> {
    let collect =
        |it: &mut dyn Iterator<Item = Option<&str>>| it.map(|v| v.map(str::to_string)).collect();
    match array.data_type() {
        DataType::Utf8 => Ok(collect(&mut array.as_string::<i32>().iter())),
        DataType::LargeUtf8 => Ok(collect(&mut array.as_string::<i64>().iter())),
        DataType::Utf8View => Ok(collect(&mut array.as_string_view().iter())),
        other => Err(FactError::ColumnType {
            column,
            found: other.to_string(),
        }),
    }
}

fn string_lists(array: &dyn Array, column: &'static str) -> Result<Vec<Vec<String>>, FactError> {
    let lists: Vec<Option<std::sync::Arc<dyn Array>>> = match array.data_type() {
        DataType::List(_) => array.as_list::<i32>().iter().collect(),
        DataType::LargeList(_) => array.as_list::<i64>().iter().collect(),
        DataType::Null => vec![None; array.len()],
        other => {
            return Err(FactError::ColumnType {
                column,
                found: other.to_string(),
            })
        }
    };
    lists
        .into_iter()
        .map(|list| match list {
            None => Ok(Vec::new()),
            Some(values) => Ok(strings(values.as_ref(), column)?
                .into_iter()
                .flatten()
                .collect()),
        })
        .collect()
}

/// Options of a knowledge-base scan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KbOptions {
    /// Fold the case of surface forms and text (Unicode, per character) before matching.
    pub case_insensitive: bool,
}

static NEXT_UID: AtomicU64 = AtomicU64::new(1);

/// A distinct fact of the knowledge base, with its canonical strings.
#[derive(Debug)]
struct KbFact {
    subject: Box<str>,
    relation: Box<str>,
    object: Box<str>,
}

/// The compiled knowledge base; see the module documentation.
#[derive(Debug)]
pub(crate) struct KbMatcher {
    uid: u64,
    window: Window,
    case_insensitive: bool,
    automaton: AhoCorasick,
    /// Bytes that begin some surface form.
    first_bytes: [bool; 256],
    /// Surface form -> form id, to find a shorter form when the longest fails a word boundary.
    form_ids: HashMap<Box<str>, u32, FixedState>,
    /// Entities of each surface form (pattern id): `form_entities[form_start[p]..form_start[p+1]]`.
    form_start: Vec<u32>,
    form_entities: Vec<u32>,
    /// Facts of each subject entity, sorted by object entity:
    /// `by_subject[subject_start[e]..subject_start[e+1]]` = (object entity, fact id).
    subject_start: Vec<u32>,
    by_subject: Vec<(u32, u32)>,
    facts: Vec<KbFact>,
}

fn too_large(what: &str) -> FactError {
    FactError::KnowledgeBaseTooLarge(what.to_string())
}

impl KbMatcher {
    pub fn new(kb: &KnowledgeBase, window: Window, opts: &KbOptions) -> Result<Self, FactError> {
        let window = window.validate()?;
        if kb.rows.is_empty() {
            return Err(FactError::EmptyKnowledgeBase);
        }
        let hasher = FixedState::default();
        let mut entity_ids: HashMap<&str, u32, FixedState> = HashMap::with_hasher(hasher.clone());
        let mut entity_names: Vec<&str> = Vec::new();
        let mut facts_seen: HashMap<(u32, &str, u32), u32, FixedState> =
            HashMap::with_hasher(hasher.clone());
        let mut facts = Vec::new();
        let mut fact_keys: Vec<(u32, u32)> = Vec::new(); // (subject entity, object entity)
                                                         // (subject entity, object entity) of each row.
        let mut row_entities: Vec<(u32, u32)> = Vec::with_capacity(kb.rows.len());
        for row in &kb.rows {
            let mut ids = [0u32; 2];
            for (id, name) in ids
                .iter_mut()
                .zip([row.subject.as_str(), row.object.as_str()])
            {
                let next = entity_names.len() as u32;
                *id = *entity_ids.entry(name).or_insert(next);
                if *id == next {
                    entity_names.push(name);
                }
            }
            let [s, o] = ids;
            row_entities.push((s, o));
            let key = (s, row.relation.as_str(), o);
            if !facts_seen.contains_key(&key) {
                let id =
                    u32::try_from(facts.len()).map_err(|_| too_large("more than 2^32 facts"))?;
                facts_seen.insert(key, id);
                facts.push(KbFact {
                    subject: row.subject.as_str().into(),
                    relation: row.relation.as_str().into(),
                    object: row.object.as_str().into(),
                });
                fact_keys.push((s, o));
            }
        }
        let n_entities = entity_names.len();
        if u32::try_from(n_entities).is_err() {
            return Err(too_large("more than 2^32 entities"));
        }

        // Surface forms -> entities.
        let fold = |s: &str| {
            if opts.case_insensitive {
                fold_case(s)
            } else {
                s.to_string()
            }
        };
        let mut form_ids: HashMap<Box<str>, u32, FixedState> = HashMap::with_hasher(hasher.clone());
        let mut forms: Vec<String> = Vec::new();
        let mut pairs: Vec<(u32, u32)> = Vec::new(); // (form, entity)
        let mut add_form = |form: &str, entity: u32| {
            let form = fold(form);
            let id = match form_ids.get(form.as_str()) {
                Some(&id) => id,
                None => {
                    let id = forms.len() as u32;
                    form_ids.insert(form.as_str().into(), id);
                    forms.push(form);
                    id
                }
            };
            pairs.push((id, entity));
        };
        for (e, name) in entity_names.iter().enumerate() {
            add_form(name, e as u32);
        }
        for (row, &(s, o)) in kb.rows.iter().zip(&row_entities) {
            for alias in &row.subject_aliases {
                add_form(alias, s);
            }
            for alias in &row.object_aliases {
                add_form(alias, o);
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut form_start = vec![0u32; forms.len() + 1];
        for &(f, _) in &pairs {
            form_start[f as usize + 1] += 1;
        }
        for i in 0..forms.len() {
            form_start[i + 1] += form_start[i];
        }
        let form_entities: Vec<u32> = pairs.iter().map(|&(_, e)| e).collect();

        // Subject index.
        let mut by_subject_tmp: Vec<(u32, u32, u32)> = fact_keys
            .iter()
            .enumerate()
            .map(|(f, &(s, o))| (s, o, f as u32))
            .collect();
        by_subject_tmp.sort_unstable();
        let mut subject_start = vec![0u32; n_entities + 1];
        for &(s, _, _) in &by_subject_tmp {
            subject_start[s as usize + 1] += 1;
        }
        for i in 0..n_entities {
            subject_start[i + 1] += subject_start[i];
        }
        let by_subject = by_subject_tmp.iter().map(|&(_, o, f)| (o, f)).collect();

        let mut first_bytes = [false; 256];
        for form in &forms {
            if let Some(&b) = form.as_bytes().first() {
                first_bytes[b as usize] = true;
            }
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .start_kind(StartKind::Anchored)
            // The crate picks: a DFA for small sets, a contiguous NFA for large ones (a DFA of
            // 100,000 forms was slower in our measurements: it no longer fits in cache).
            .build(&forms)
            .map_err(FactError::Automaton)?;
        Ok(KbMatcher {
            uid: NEXT_UID.fetch_add(1, Ordering::Relaxed),
            window,
            case_insensitive: opts.case_insensitive,
            automaton,
            first_bytes,
            form_ids,
            form_start,
            form_entities,
            subject_start,
            by_subject,
            facts,
        })
    }

    pub fn scan(&self, text: &str, doc: u64, table: &mut FactTable) {
        let mut folded = std::mem::take(&mut table.scratch.folded);
        let text = if self.case_insensitive {
            folded.clear();
            fold_case_into(text, &mut folded);
            folded.as_str()
        } else {
            text
        };
        let mut hits = std::mem::take(&mut table.scratch.hits);
        let mut entities = std::mem::take(&mut table.scratch.entities);
        match self.window {
            Window::Tokens(k) => {
                self.occurrences(text, 0, text.len(), &mut hits);
                if !hits.is_empty() {
                    let mut positions = std::mem::take(&mut table.scratch.positions);
                    token_positions(text, &hits, &mut positions);
                    self.count_token_windows(
                        k as u64,
                        &hits,
                        &positions,
                        &mut entities,
                        doc,
                        table,
                    );
                    table.scratch.positions = positions;
                }
            }
            window => {
                for_each_window(window, text, |start, end| {
                    self.occurrences(text, start, end, &mut hits);
                    if !hits.is_empty() {
                        self.count_window(&hits, &mut entities, doc, table);
                    }
                });
            }
        }
        table.scratch.hits = hits;
        table.scratch.entities = entities;
        table.scratch.folded = folded;
    }

    /// Counts the facts found in one window, once each.
    fn count_window(
        &self,
        hits: &[(usize, usize, u32)],
        entities: &mut Vec<u32>,
        doc: u64,
        table: &mut FactTable,
    ) {
        entities.clear();
        for hit in hits {
            entities.extend_from_slice(self.entities_of(hit.2));
        }
        entities.sort_unstable();
        entities.dedup();
        for &s in entities.iter() {
            self.join(s, entities, doc, table);
        }
    }

    /// Counts, for each subject occurrence, the facts whose object occurs within `k` tokens.
    fn count_token_windows(
        &self,
        k: u64,
        hits: &[(usize, usize, u32)],
        positions: &[u64],
        entities: &mut Vec<u32>,
        doc: u64,
        table: &mut FactTable,
    ) {
        let (mut lo, mut hi) = (0usize, 0usize);
        for (i, hit) in hits.iter().enumerate() {
            let t = positions[i];
            while positions[lo] + k < t {
                lo += 1;
            }
            while hi < hits.len() && positions[hi] <= t + k {
                hi += 1;
            }
            let subjects = self.entities_of(hit.2);
            if !subjects.iter().any(|&s| self.has_facts(s)) {
                continue;
            }
            entities.clear();
            for near in &hits[lo..hi] {
                entities.extend_from_slice(self.entities_of(near.2));
            }
            entities.sort_unstable();
            entities.dedup();
            for &s in subjects {
                self.join(s, entities, doc, table);
            }
        }
    }

    #[inline]
    fn entities_of(&self, form: u32) -> &[u32] {
        let f = form as usize;
        &self.form_entities[self.form_start[f] as usize..self.form_start[f + 1] as usize]
    }

    #[inline]
    fn facts_of(&self, subject: u32) -> &[(u32, u32)] {
        let s = subject as usize;
        &self.by_subject[self.subject_start[s] as usize..self.subject_start[s + 1] as usize]
    }

    #[inline]
    fn has_facts(&self, subject: u32) -> bool {
        let s = subject as usize;
        self.subject_start[s] != self.subject_start[s + 1]
    }

    /// Counts every fact of `subject` whose object is in `entities` (sorted, unique).
    fn join(&self, subject: u32, entities: &[u32], doc: u64, table: &mut FactTable) {
        let facts = self.facts_of(subject);
        if facts.is_empty() {
            return;
        }
        let mut count = |fact: u32| {
            let f = &self.facts[fact as usize];
            table.add_kb_fact(self.uid, fact, doc, &f.subject, &f.relation, &f.object);
        };
        if facts.len() > 8 * entities.len() {
            // Few candidate objects, many facts: binary search each object.
            for &o in entities {
                let from = facts.partition_point(|&(fo, _)| fo < o);
                for &(fo, fact) in &facts[from..] {
                    if fo != o {
                        break;
                    }
                    count(fact);
                }
            }
        } else {
            let mut j = 0;
            for &(fo, fact) in facts {
                while j < entities.len() && entities[j] < fo {
                    j += 1;
                }
                if j == entities.len() {
                    break;
                }
                if entities[j] == fo {
                    count(fact);
                }
            }
        }
    }

    /// The occurrences in the window `text[start..end]`: leftmost-longest, non-overlapping,
    /// with word boundaries, as (start, end, form id) in text order.
    ///
    /// This follows the definition directly. An occurrence can only start at a position whose
    /// preceding character is not alphanumeric and whose byte can begin a surface form (a table
    /// of 256 flags), so a byte loop visits those positions in order and runs an anchored
    /// leftmost-longest search at each: the automaton stops as soon as no form continues, so
    /// most starts cost a few transitions, and the text between candidate starts is never
    /// walked by the automaton. When the longest form at a start fails the end boundary, a
    /// shorter form may still fit: it is a prefix of the match ending before a non-alphanumeric
    /// character, so those few prefixes are looked up, longest first. After an occurrence the
    /// loop resumes at its end. Window edges always touch a non-alphanumeric character (a line
    /// break, whitespace, a sentence terminator or closer), so testing boundaries against the
    /// whole text is the same as testing them inside the window.
    fn occurrences(
        &self,
        text: &str,
        start: usize,
        end: usize,
        hits: &mut Vec<(usize, usize, u32)>,
    ) {
        hits.clear();
        let bytes = text.as_bytes();
        let mut p = start;
        while p < end {
            // Continuation bytes never begin a form, so stepping byte by byte only ever tests
            // character boundaries.
            if !self.first_bytes[bytes[p] as usize] || !boundary_before_at(text, p) {
                p += 1;
                continue;
            }
            let input = Input::new(text).range(p..end).anchored(Anchored::Yes);
            if let Some(m) = self.automaton.find(input) {
                let e = m.end();
                if boundary_after(text, e) {
                    hits.push((p, e, m.pattern().as_u32()));
                    p = e;
                    continue;
                }
                if let Some((e, form)) = self.shorter_form(text, p, e) {
                    hits.push((p, e, form));
                    p = e;
                    continue;
                }
            }
            p += 1;
        }
    }

    /// The longest surface form `text[s..e']` with `s < e' < e` and a non-alphanumeric
    /// character at `e'`.
    fn shorter_form(&self, text: &str, s: usize, e: usize) -> Option<(usize, u32)> {
        for (i, c) in text[s..e].char_indices().rev() {
            if i == 0 {
                break;
            }
            if !c.is_alphanumeric() {
                if let Some(&form) = self.form_ids.get(&text[s..s + i]) {
                    return Some((s + i, form));
                }
            }
        }
        None
    }
}

/// Whether the character before byte `p` (a character boundary) is not alphanumeric.
#[inline]
fn boundary_before_at(text: &str, p: usize) -> bool {
    match p.checked_sub(1).map(|i| text.as_bytes()[i]) {
        None => true,
        Some(b) if b < 0x80 => !b.is_ascii_alphanumeric(),
        Some(_) => boundary_before(text, p),
    }
}

#[inline]
fn boundary_before(text: &str, start: usize) -> bool {
    match text[..start].chars().next_back() {
        None => true,
        Some(c) => !c.is_alphanumeric(),
    }
}

#[inline]
fn boundary_after(text: &str, end: usize) -> bool {
    match text[end..].chars().next() {
        None => true,
        Some(c) => !c.is_alphanumeric(),
    }
}

/// For each occurrence (in text order), the number of word tokens (maximal alphanumeric runs)
/// that start before it.
fn token_positions(text: &str, hits: &[(usize, usize, u32)], positions: &mut Vec<u64>) {
    positions.clear();
    let mut tokens = 0u64;
    let mut prev_alnum = false;
    let mut pos = 0usize;
    for &(start, _, _) in hits {
        for c in text[pos..start].chars() {
            let alnum = c.is_alphanumeric();
            if alnum && !prev_alnum {
                tokens += 1;
            }
            prev_alnum = alnum;
        }
        pos = start;
        positions.push(tokens);
    }
}
