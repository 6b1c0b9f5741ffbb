//! Final fact counts: the fact table, the prompts, the count-of-counts and the IDK-aware
//! singleton rate of MATH.md section 2, with Arrow output.
//!
//! Samples: with [`CountBy::Mention`] every occurrence is a sample; with [`CountBy::Document`]
//! a key (a fact, or a prompt's IDK) counts once per document it occurs in. IDK records are
//! samples too. A prompt (subject, relation) is a **singleton** when exactly one of its samples
//! has a non-IDK answer (any number of IDK samples allowed); `singleton_rate = singleton prompts
//! / N` with N = all samples, IDK included. The count-of-counts is over facts (non-IDK keys).
//! Knowledge-base facts never mentioned are listed with count 0; they are not samples and are
//! not in the histogram or in the prompts.
//!
//! Orders: facts by count (per `count_by`) descending, then subject, relation, object (byte
//! order); prompts by answers descending, then subject, relation; relations by name; the
//! histogram by `r` ascending.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, LargeStringArray, RecordBatch, UInt64Array,
};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use foldhash::fast::FixedState;
use hashbrown::HashMap;

use super::kb::KnowledgeBase;
use super::table::{FactKey, FactTable, IDK};

/// What one sample is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CountBy {
    /// Every occurrence is a sample.
    #[default]
    Mention,
    /// A key counts once per document.
    Document,
}

/// One fact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactRow {
    pub subject: String,
    pub relation: String,
    pub object: String,
    /// Occurrences.
    pub mentions: u64,
    /// Documents with at least one occurrence.
    pub documents: u64,
    /// The smallest document key with an occurrence; `None` for an unmentioned KB fact.
    pub first_document: Option<u64>,
}

/// One prompt (subject, relation); counts are samples per [`CountBy`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromptRow {
    pub subject: String,
    pub relation: String,
    /// Raw non-IDK occurrences, whatever `count_by`.
    pub mentions: u64,
    /// Non-IDK samples.
    pub answers: u64,
    /// IDK samples.
    pub idk: u64,
    /// Distinct objects given (more than one: conflicting answers, or namesakes).
    pub distinct_objects: u64,
    /// Exactly one non-IDK sample.
    pub singleton: bool,
}

/// The IDK-aware singleton rate of one group of prompts (a relation).
#[derive(Clone, Debug, PartialEq)]
pub struct GroupRate {
    pub group: String,
    /// All samples, IDK included.
    pub samples: u64,
    /// Singleton prompts.
    pub singletons: u64,
    /// `singletons / samples`.
    pub singleton_rate: f64,
}

/// Totals. Rates with a zero denominator are NaN.
#[derive(Clone, Debug, PartialEq)]
pub struct FactSummary {
    pub count_by: CountBy,
    /// N: all samples, IDK included.
    pub samples: u64,
    /// Non-IDK samples (the N of the fact-level Good-Turing estimate).
    pub fact_samples: u64,
    /// IDK samples.
    pub idk_samples: u64,
    /// Raw occurrences of facts (non-IDK), whatever `count_by`.
    pub mentions: u64,
    /// Facts with at least one sample.
    pub distinct_facts: u64,
    /// Facts with exactly one sample (n_1).
    pub fact_singletons: u64,
    /// `fact_singletons / fact_samples`.
    pub fact_singleton_rate: f64,
    /// Prompts with at least one sample (IDK included).
    pub prompts: u64,
    /// Prompts with exactly one non-IDK sample.
    pub singleton_prompts: u64,
    /// MATH.md section 2: `singleton_prompts / samples`.
    pub singleton_rate: f64,
    /// Prompts with more than one distinct object.
    pub conflicting_prompts: u64,
    /// Distinct subjects and objects of mentioned facts.
    pub distinct_subjects: u64,
    pub distinct_objects: u64,
    /// Knowledge-base facts never mentioned.
    pub unmentioned_kb_facts: u64,
}

/// Everything [`finish`] computes.
#[derive(Clone, Debug, PartialEq)]
pub struct FactCounts {
    pub facts: Vec<FactRow>,
    pub prompts: Vec<PromptRow>,
    /// Count-of-counts of facts: (r, n_r), r ascending, r >= 1.
    pub histogram: Vec<(u64, u64)>,
    pub relations: Vec<GroupRate>,
    pub summary: FactSummary,
}

fn rate(num: u64, den: u64) -> f64 {
    if den == 0 {
        f64::NAN
    } else {
        num as f64 / den as f64
    }
}

/// Merges the tables (any order gives the same result) and computes the counts. `kb`, when
/// given, adds its facts that were never mentioned with count 0.
pub fn finish(tables: Vec<FactTable>, kb: Option<&KnowledgeBase>, count_by: CountBy) -> FactCounts {
    let mut table = FactTable::new();
    for t in tables {
        table.merge(t);
    }
    let strings = &table.strings;
    let sample_count = |mentions: u64, documents: u64| match count_by {
        CountBy::Mention => mentions,
        CountBy::Document => documents,
    };

    let mut facts: Vec<FactRow> = Vec::new();
    let mut prompt_index: HashMap<(u32, u32), usize, FixedState> = HashMap::default();
    let mut prompts: Vec<((u32, u32), PromptRow)> = Vec::new();
    let mut histogram: BTreeMap<u64, u64> = BTreeMap::new();
    let mut mentions = 0u64;
    let mut subjects = hashbrown::HashSet::<u32, FixedState>::default();
    let mut objects = hashbrown::HashSet::<u32, FixedState>::default();
    for (key, stat) in table.keys.iter().zip(&table.stats) {
        let n = sample_count(stat.mentions, stat.documents);
        let p = *prompt_index
            .entry((key.subject, key.relation))
            .or_insert_with(|| {
                prompts.push((
                    (key.subject, key.relation),
                    PromptRow {
                        subject: strings.get(key.subject).to_string(),
                        relation: strings.get(key.relation).to_string(),
                        mentions: 0,
                        answers: 0,
                        idk: 0,
                        distinct_objects: 0,
                        singleton: false,
                    },
                ));
                prompts.len() - 1
            });
        let prompt = &mut prompts[p].1;
        if key.object == IDK {
            prompt.idk += n;
            continue;
        }
        prompt.answers += n;
        prompt.mentions += stat.mentions;
        prompt.distinct_objects += 1;
        mentions += stat.mentions;
        *histogram.entry(n).or_insert(0) += 1;
        subjects.insert(key.subject);
        objects.insert(key.object);
        facts.push(FactRow {
            subject: strings.get(key.subject).to_string(),
            relation: strings.get(key.relation).to_string(),
            object: strings.get(key.object).to_string(),
            mentions: stat.mentions,
            documents: stat.documents,
            first_document: Some(stat.first_document),
        });
    }

    let mut unmentioned_kb_facts = 0u64;
    if let Some(kb) = kb {
        let mut seen = hashbrown::HashSet::<(&str, &str, &str), FixedState>::default();
        for row in kb.rows() {
            let triple = (
                row.subject.as_str(),
                row.relation.as_str(),
                row.object.as_str(),
            );
            if !seen.insert(triple) {
                continue;
            }
            let present = match (
                strings.find(triple.0),
                strings.find(triple.1),
                strings.find(triple.2),
            ) {
                (Some(subject), Some(relation), Some(object)) => {
                    table.slots.contains_key(&FactKey {
                        subject,
                        relation,
                        object,
                    })
                }
                _ => false,
            };
            if !present {
                unmentioned_kb_facts += 1;
                facts.push(FactRow {
                    subject: triple.0.to_string(),
                    relation: triple.1.to_string(),
                    object: triple.2.to_string(),
                    mentions: 0,
                    documents: 0,
                    first_document: None,
                });
            }
        }
    }

    facts.sort_unstable_by(|a, b| {
        sample_count(b.mentions, b.documents)
            .cmp(&sample_count(a.mentions, a.documents))
            .then_with(|| a.subject.cmp(&b.subject))
            .then_with(|| a.relation.cmp(&b.relation))
            .then_with(|| a.object.cmp(&b.object))
    });
    let mut prompts: Vec<PromptRow> = prompts
        .into_iter()
        .map(|(_, mut p)| {
            p.singleton = p.answers == 1;
            p
        })
        .collect();
    prompts.sort_unstable_by(|a, b| {
        b.answers
            .cmp(&a.answers)
            .then_with(|| a.subject.cmp(&b.subject))
            .then_with(|| a.relation.cmp(&b.relation))
    });

    let mut by_relation: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for p in &prompts {
        let entry = by_relation.entry(p.relation.as_str()).or_insert((0, 0));
        entry.0 += p.answers + p.idk;
        entry.1 += u64::from(p.singleton);
    }
    let relations: Vec<GroupRate> = by_relation
        .into_iter()
        .map(|(group, (samples, singletons))| GroupRate {
            group: group.to_string(),
            samples,
            singletons,
            singleton_rate: rate(singletons, samples),
        })
        .collect();

    let fact_samples: u64 = prompts.iter().map(|p| p.answers).sum();
    let idk_samples: u64 = prompts.iter().map(|p| p.idk).sum();
    let samples = fact_samples + idk_samples;
    let singleton_prompts = prompts.iter().filter(|p| p.singleton).count() as u64;
    let fact_singletons = histogram.get(&1).copied().unwrap_or(0);
    let summary = FactSummary {
        count_by,
        samples,
        fact_samples,
        idk_samples,
        mentions,
        distinct_facts: histogram.values().sum(),
        fact_singletons,
        fact_singleton_rate: rate(fact_singletons, fact_samples),
        prompts: prompts.len() as u64,
        singleton_prompts,
        singleton_rate: rate(singleton_prompts, samples),
        conflicting_prompts: prompts.iter().filter(|p| p.distinct_objects > 1).count() as u64,
        distinct_subjects: subjects.len() as u64,
        distinct_objects: objects.len() as u64,
        unmentioned_kb_facts,
    };
    FactCounts {
        facts,
        prompts,
        histogram: histogram.into_iter().collect(),
        relations,
        summary,
    }
}

fn utf8_field(name: &str) -> Field {
    Field::new(name, DataType::LargeUtf8, false)
}

fn u64_field(name: &str) -> Field {
    Field::new(name, DataType::UInt64, false)
}

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(values.map(Some).collect::<LargeStringArray>())
}

fn u64s(values: impl Iterator<Item = u64>) -> ArrayRef {
    Arc::new(values.collect::<UInt64Array>())
}

impl FactCounts {
    /// The fact table: subject, relation, object (large_utf8), mentions, documents (uint64),
    /// first_document (uint64, null for unmentioned KB facts), in the order of [`Self::facts`].
    pub fn facts_batch(&self) -> Result<RecordBatch, ArrowError> {
        let f = &self.facts;
        let schema = Schema::new(vec![
            utf8_field("subject"),
            utf8_field("relation"),
            utf8_field("object"),
            u64_field("mentions"),
            u64_field("documents"),
            Field::new("first_document", DataType::UInt64, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                strings(f.iter().map(|r| r.subject.as_str())),
                strings(f.iter().map(|r| r.relation.as_str())),
                strings(f.iter().map(|r| r.object.as_str())),
                u64s(f.iter().map(|r| r.mentions)),
                u64s(f.iter().map(|r| r.documents)),
                Arc::new(f.iter().map(|r| r.first_document).collect::<UInt64Array>()),
            ],
        )
    }

    /// The count-of-counts of facts: r, n_r (uint64), r ascending.
    pub fn histogram_batch(&self) -> Result<RecordBatch, ArrowError> {
        let schema = Schema::new(vec![u64_field("r"), u64_field("n_r")]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                u64s(self.histogram.iter().map(|h| h.0)),
                u64s(self.histogram.iter().map(|h| h.1)),
            ],
        )
    }

    /// Per-relation singleton rates: group (large_utf8), samples, singletons (uint64),
    /// singleton_rate (float64).
    pub fn relations_batch(&self) -> Result<RecordBatch, ArrowError> {
        let g = &self.relations;
        let schema = Schema::new(vec![
            utf8_field("group"),
            u64_field("samples"),
            u64_field("singletons"),
            Field::new("singleton_rate", DataType::Float64, false),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                strings(g.iter().map(|r| r.group.as_str())),
                u64s(g.iter().map(|r| r.samples)),
                u64s(g.iter().map(|r| r.singletons)),
                Arc::new(g.iter().map(|r| r.singleton_rate).collect::<Float64Array>()),
            ],
        )
    }

    /// The prompts: subject, relation (large_utf8), mentions, answers, idk, distinct_objects
    /// (uint64), singleton (bool).
    pub fn prompts_batch(&self) -> Result<RecordBatch, ArrowError> {
        let p = &self.prompts;
        let schema = Schema::new(vec![
            utf8_field("subject"),
            utf8_field("relation"),
            u64_field("mentions"),
            u64_field("answers"),
            u64_field("idk"),
            u64_field("distinct_objects"),
            Field::new("singleton", DataType::Boolean, false),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                strings(p.iter().map(|r| r.subject.as_str())),
                strings(p.iter().map(|r| r.relation.as_str())),
                u64s(p.iter().map(|r| r.mentions)),
                u64s(p.iter().map(|r| r.answers)),
                u64s(p.iter().map(|r| r.idk)),
                u64s(p.iter().map(|r| r.distinct_objects)),
                Arc::new(
                    p.iter()
                        .map(|r| Some(r.singleton))
                        .collect::<BooleanArray>(),
                ),
            ],
        )
    }
}
