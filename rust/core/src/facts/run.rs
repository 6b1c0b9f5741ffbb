//! Running fact extraction over a corpus with the shared scan driver, and counting records.

use std::time::Instant;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;

use super::counts::{finish, CountBy, FactCounts};
use super::kb::KnowledgeBase;
use super::table::FactTable;
use super::FactMatcher;
use crate::error::{CoreError, Position, Result};
use crate::progress::Progress;
use crate::scan::{pool, scan_corpus};
use crate::source::{arrow_input_name, Corpus, ReadStats, SourceOptions};

/// Fact counts with the reading figures of the run.
#[derive(Debug)]
pub struct FactRun {
    pub counts: FactCounts,
    pub stats: ReadStats,
    pub shards: u64,
    pub threads: usize,
    pub seconds: f64,
}

/// Scan a corpus with `matcher` and count its facts. `first_document` in the result is the
/// 0-based position of the document in the corpus.
pub fn count_facts(
    corpus: &Corpus,
    src: &SourceOptions,
    matcher: &FactMatcher,
    kb: Option<&KnowledgeBase>,
    count_by: CountBy,
    threads: usize,
    progress: &Progress,
) -> Result<FactRun> {
    let started = Instant::now();
    let (pool, threads) = pool(threads)?;
    let out = scan_corpus(
        corpus,
        src,
        threads,
        &pool,
        progress,
        FactTable::new,
        |table, text, key| {
            matcher.scan(text, key, table);
            Ok(())
        },
        |_| Ok(()),
    )?;
    progress.set_phase(1);
    let ordinal = out.ordinals();
    let mut counts = finish(out.states, kb, count_by);
    for fact in &mut counts.facts {
        if let Some(doc) = fact.first_document.as_mut() {
            *doc = ordinal(*doc);
        }
    }
    progress.set_phase(3);
    Ok(FactRun {
        counts,
        stats: out.stats,
        shards: out.shards,
        threads,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn text_values<'a>(
    batch: &'a RecordBatch,
    name: &str,
) -> Result<Box<dyn Fn(usize) -> Option<&'a str> + 'a>> {
    let schema = batch.schema();
    let Some((index, field)) = schema.column_with_name(name) else {
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        return Err(CoreError::config(format!(
            "the records have no column {name:?} (columns: {})",
            names.join(", ")
        )));
    };
    let col = batch.column(index);
    Ok(match field.data_type() {
        DataType::Utf8 => {
            let a = col.as_string::<i32>();
            Box::new(move |i| a.is_valid(i).then(|| a.value(i)))
        }
        DataType::LargeUtf8 => {
            let a = col.as_string::<i64>();
            Box::new(move |i| a.is_valid(i).then(|| a.value(i)))
        }
        DataType::Utf8View => {
            let a = col.as_string_view();
            Box::new(move |i| a.is_valid(i).then(|| a.value(i)))
        }
        // A column of nulls only (what Arrow infers when every value is None): all IDK objects.
        DataType::Null => Box::new(|_| None),
        other => {
            return Err(CoreError::config(format!(
                "record column {name:?} has type {other}, not text"
            )))
        }
    })
}

/// Count already-extracted (subject, relation, object) records. A null object, or one equal to
/// an `idk` marker, is an IDK sample. Each record is its own document.
pub fn count_records(
    batches: &[RecordBatch],
    idk: &[String],
    count_by: CountBy,
    progress: &Progress,
) -> Result<FactRun> {
    let started = Instant::now();
    let mut table = FactTable::new();
    let mut row = 0u64;
    for batch in batches {
        let subject = text_values(batch, "subject")?;
        let relation = text_values(batch, "relation")?;
        let object = text_values(batch, "object")?;
        for i in 0..batch.num_rows() {
            let (Some(s), Some(r)) = (subject(i), relation(i)) else {
                return Err(CoreError::input(
                    arrow_input_name(),
                    Position::at(Some(row + 1), None),
                    "a record with a null subject or relation",
                ));
            };
            let o = object(i).filter(|o| !idk.iter().any(|m| m == o));
            table.add_record(s, r, o, row);
            row += 1;
        }
        progress.add(0, batch.num_rows() as u64, 0);
        progress.check()?;
    }
    let counts = finish(vec![table], None, count_by);
    let stats = ReadStats {
        documents: row,
        ..ReadStats::default()
    };
    Ok(FactRun {
        counts,
        stats,
        shards: 1,
        threads: 1,
        seconds: started.elapsed().as_secs_f64(),
    })
}
