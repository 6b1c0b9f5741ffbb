//! `count_facts`, `count_fact_records` and the `FactCounts` result: argument conversion only.

use std::sync::Arc;

use arrow_array::RecordBatch;
use monofact_core::facts::{
    self, CountBy, FactMatcher, FactRun, KbOptions, KnowledgeBase, TemplateOptions, Window,
};
use monofact_core::CoreError;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::PyTable;

use crate::counting::{corpus_of, source_options};
use crate::errors::to_pyerr;
use crate::longcall::run_long;

fn count_by(name: &str) -> Result<CountBy, CoreError> {
    match name {
        "mention" => Ok(CountBy::Mention),
        "document" => Ok(CountBy::Document),
        other => Err(CoreError::config(format!(
            "count_by must be \"mention\" or \"document\", not {other:?}"
        ))),
    }
}

fn table_of(batch: Result<RecordBatch, arrow_schema::ArrowError>) -> PyResult<PyTable> {
    let batch = batch.map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let schema = batch.schema();
    PyTable::try_new(vec![batch], schema)
}

#[pyclass(module = "monofact._core", frozen)]
pub struct FactCounts {
    inner: Arc<FactRun>,
}

#[pymethods]
impl FactCounts {
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let run = &self.inner;
        let s = &run.counts.summary;
        let d = PyDict::new(py);
        d.set_item(
            "count_by",
            match s.count_by {
                CountBy::Mention => "mention",
                CountBy::Document => "document",
            },
        )?;
        d.set_item("samples", s.samples)?;
        d.set_item("fact_samples", s.fact_samples)?;
        d.set_item("idk_samples", s.idk_samples)?;
        d.set_item("mentions", s.mentions)?;
        d.set_item("distinct", s.distinct_facts)?;
        d.set_item("n1", s.fact_singletons)?;
        d.set_item(
            "n2",
            run.counts
                .histogram
                .iter()
                .find(|(r, _)| *r == 2)
                .map_or(0, |(_, n)| *n),
        )?;
        d.set_item("fact_singleton_rate", s.fact_singleton_rate)?;
        d.set_item("prompts", s.prompts)?;
        d.set_item("singleton_prompts", s.singleton_prompts)?;
        d.set_item("singleton_rate", s.singleton_rate)?;
        d.set_item("conflicting_prompts", s.conflicting_prompts)?;
        d.set_item("distinct_subjects", s.distinct_subjects)?;
        d.set_item("distinct_objects", s.distinct_objects)?;
        d.set_item("unmentioned_kb_facts", s.unmentioned_kb_facts)?;
        d.set_item("documents", run.stats.documents)?;
        d.set_item("bytes", run.stats.bytes)?;
        d.set_item("invalid_bytes", run.stats.invalid_bytes)?;
        d.set_item("skipped_documents", run.stats.skipped_documents)?;
        d.set_item("shards", run.shards)?;
        d.set_item("threads", run.threads)?;
        d.set_item("seconds", run.seconds)?;
        Ok(d)
    }

    /// subject, relation, object, mentions, documents, first_document.
    fn facts(&self) -> PyResult<PyTable> {
        table_of(self.inner.counts.facts_batch())
    }

    /// Count-of-counts of facts: r, n_r.
    fn histogram(&self) -> PyResult<PyTable> {
        table_of(self.inner.counts.histogram_batch())
    }

    /// Per relation: group, samples, singletons, singleton_rate.
    fn relations(&self) -> PyResult<PyTable> {
        table_of(self.inner.counts.relations_batch())
    }

    /// Per prompt (subject, relation): mentions, answers, idk, distinct_objects, singleton.
    fn prompts(&self) -> PyResult<PyTable> {
        table_of(self.inner.counts.prompts_batch())
    }
}

#[pyfunction]
#[pyo3(signature = (
    paths=None, table=None, *, patterns=None, knowledge_base=None, window="sentence",
    count_by="mention", lowercase=false, normalize_whitespace=false, case_insensitive=false,
    threads=0, format=None, compression=None, doc_per="line", text_field="text",
    on_invalid="replace", on_bad_record="error", max_document_bytes=64<<20, shard_bytes=0,
    progress=None
))]
#[allow(clippy::too_many_arguments)]
pub fn count_facts(
    py: Python<'_>,
    paths: Option<Vec<String>>,
    table: Option<PyTable>,
    patterns: Option<Vec<(String, String)>>,
    knowledge_base: Option<PyTable>,
    window: &str,
    count_by: &str,
    lowercase: bool,
    normalize_whitespace: bool,
    case_insensitive: bool,
    threads: usize,
    format: Option<&str>,
    compression: Option<&str>,
    doc_per: &str,
    text_field: &str,
    on_invalid: &str,
    on_bad_record: &str,
    max_document_bytes: usize,
    shard_bytes: u64,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<FactCounts> {
    let src = source_options(
        format,
        compression,
        doc_per,
        text_field,
        on_invalid,
        on_bad_record,
        max_document_bytes,
        shard_bytes,
    )
    .map_err(to_pyerr)?;
    let by = count_by_checked(count_by)?;
    // Everything that can be wrong with the configuration fails here, before any scanning.
    let (matcher, kb) = match (patterns, knowledge_base) {
        (Some(p), None) => {
            let opts = TemplateOptions {
                lowercase,
                normalize_whitespace,
            };
            (
                FactMatcher::templates(&p, &opts).map_err(|e| to_pyerr(e.into()))?,
                None,
            )
        }
        (None, Some(kb_table)) => {
            let (batches, _) = kb_table.into_inner();
            let kb =
                KnowledgeBase::from_record_batches(&batches).map_err(|e| to_pyerr(e.into()))?;
            let w = Window::parse(window).map_err(|e| to_pyerr(e.into()))?;
            let m = FactMatcher::knowledge_base(&kb, w, &KbOptions { case_insensitive })
                .map_err(|e| to_pyerr(e.into()))?;
            (m, Some(kb))
        }
        _ => {
            return Err(to_pyerr(CoreError::config(
                "give either patterns= (regex templates) or knowledge_base= (a table)",
            )))
        }
    };
    let run = run_long(py, progress.as_ref(), move |p| {
        let corpus = corpus_of(paths, table, &src)?;
        facts::count_facts(&corpus, &src, &matcher, kb.as_ref(), by, threads, p)
    })?;
    Ok(FactCounts {
        inner: Arc::new(run),
    })
}

fn count_by_checked(name: &str) -> PyResult<CountBy> {
    count_by(name).map_err(to_pyerr)
}

#[pyfunction]
#[pyo3(signature = (records, *, idk=Vec::new(), count_by="mention"))]
pub fn count_fact_records(
    py: Python<'_>,
    records: PyTable,
    idk: Vec<String>,
    count_by: &str,
) -> PyResult<FactCounts> {
    let by = count_by_checked(count_by)?;
    let (batches, _) = records.into_inner();
    let run = run_long(py, None, move |p| {
        facts::count_records(&batches, &idk, by, p)
    })?;
    Ok(FactCounts {
        inner: Arc::new(run),
    })
}
