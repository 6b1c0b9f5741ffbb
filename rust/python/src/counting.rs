//! `count_ngrams` and the `NgramCounts` result: argument conversion only.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use monofact_core::count::export::KeyFilter;
use monofact_core::count::{self, CountOptions};
use monofact_core::source::{
    discover, Compression, Corpus, DocPer, Format, OnBadRecord, OnInvalid, SourceOptions,
};
use monofact_core::tokenize::Tokenizer;
use monofact_core::CoreError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::{PyRecordBatchReader, PyTable};

use crate::errors::to_pyerr;
use crate::longcall::run_long;

/// Source options from keyword arguments; all validation happens in the core's parsers.
#[allow(clippy::too_many_arguments)]
pub fn source_options(
    format: Option<&str>,
    compression: Option<&str>,
    doc_per: &str,
    text_field: &str,
    on_invalid: &str,
    on_bad_record: &str,
    max_document_bytes: usize,
    shard_bytes: u64,
) -> Result<SourceOptions, CoreError> {
    Ok(SourceOptions {
        format: format.map(Format::from_name).transpose()?,
        compression: compression.map(Compression::from_name).transpose()?,
        doc_per: match doc_per {
            "line" => DocPer::Line,
            "file" => DocPer::File,
            other => {
                return Err(CoreError::config(format!(
                    "doc_per must be \"line\" or \"file\", not {other:?}"
                )))
            }
        },
        text_field: text_field.to_string(),
        on_invalid: match on_invalid {
            "replace" => OnInvalid::Replace,
            "error" => OnInvalid::Error,
            other => {
                return Err(CoreError::config(format!(
                    "on_invalid must be \"replace\" or \"error\", not {other:?}"
                )))
            }
        },
        on_bad_record: match on_bad_record {
            "error" => OnBadRecord::Error,
            "skip" => OnBadRecord::Skip,
            other => {
                return Err(CoreError::config(format!(
                    "on_bad_record must be \"error\" or \"skip\", not {other:?}"
                )))
            }
        },
        max_document_bytes,
        shard_bytes,
    })
}

/// A corpus from paths or from Arrow data (anything with `__arrow_c_stream__`).
pub fn corpus_of(
    paths: Option<Vec<String>>,
    table: Option<PyTable>,
    src: &SourceOptions,
) -> Result<Corpus, CoreError> {
    match (paths, table) {
        (Some(p), None) => Ok(Corpus::Files(discover(&p, src)?)),
        (None, Some(t)) => {
            let (batches, _schema) = t.into_inner();
            Ok(Corpus::Batches(Arc::new(batches)))
        }
        _ => Err(CoreError::config(
            "give either paths or an Arrow table, not both",
        )),
    }
}

#[pyclass(module = "monofact._core", frozen)]
pub struct NgramCounts {
    inner: Arc<count::NgramCounts>,
}

#[pymethods]
impl NgramCounts {
    /// Figures of the run as a dict.
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = &self.inner.summary;
        let d = PyDict::new(py);
        d.set_item("n", s.n)?;
        d.set_item("documents", s.documents)?;
        d.set_item("tokens", s.tokens)?;
        d.set_item("samples", s.samples)?;
        d.set_item("total_samples", s.total_samples)?;
        d.set_item("distinct", s.distinct)?;
        d.set_item("n1", s.n1)?;
        d.set_item("n2", s.n2)?;
        d.set_item("singleton_rate", s.singleton_rate())?;
        d.set_item("max_count", s.max_count)?;
        d.set_item("vocabulary", s.vocabulary)?;
        d.set_item("bytes", s.bytes)?;
        d.set_item("invalid_bytes", s.invalid_bytes)?;
        d.set_item("skipped_documents", s.skipped_documents)?;
        d.set_item("shards", s.shards)?;
        d.set_item("threads", s.threads)?;
        d.set_item("sample_rate", s.sample_rate)?;
        d.set_item("seconds", s.seconds)?;
        Ok(d)
    }

    /// Count-of-counts as an Arrow table (r: uint64, n_r: uint64), ascending r.
    fn histogram(&self) -> PyResult<PyTable> {
        let (r, n): (Vec<u64>, Vec<u64>) = self.inner.histogram.iter().unzip();
        let schema = Arc::new(Schema::new(vec![
            Field::new("r", DataType::UInt64, false),
            Field::new("n_r", DataType::UInt64, false),
        ]));
        let cols: Vec<ArrayRef> = vec![
            Arc::new(UInt64Array::from(r)),
            Arc::new(UInt64Array::from(n)),
        ];
        let batch = RecordBatch::try_new(schema.clone(), cols)
            .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
        PyTable::try_new(vec![batch], schema)
    }

    /// The keys as a stream of record batches (ngram: large_string, count: uint64), count
    /// descending then tokens ascending.
    #[pyo3(signature = (min_count=None, max_count=None, top_k=None, batch_rows=65536))]
    fn keys(
        &self,
        py: Python<'_>,
        min_count: Option<u64>,
        max_count: Option<u64>,
        top_k: Option<usize>,
        batch_rows: usize,
    ) -> PyResult<PyRecordBatchReader> {
        let inner = self.inner.clone();
        let filter = KeyFilter {
            min_count,
            max_count,
            top_k,
        };
        let keys = run_long(py, None, move |_| Ok(inner.keys(&filter)))?;
        Ok(PyRecordBatchReader::new(Box::new(
            keys.into_reader(batch_rows),
        )))
    }
}

#[pyfunction]
#[pyo3(signature = (
    paths=None, table=None, *, n=3, pad=false, tokenizer="words", lowercase=false, threads=0,
    memory_bytes=None, sample=None, format=None, compression=None, doc_per="line",
    text_field="text", on_invalid="replace", on_bad_record="error",
    max_document_bytes=64<<20, shard_bytes=0, progress=None
))]
#[allow(clippy::too_many_arguments)]
pub fn count_ngrams(
    py: Python<'_>,
    paths: Option<Vec<String>>,
    table: Option<PyTable>,
    n: usize,
    pad: bool,
    tokenizer: &str,
    lowercase: bool,
    threads: usize,
    memory_bytes: Option<u64>,
    sample: Option<f64>,
    format: Option<&str>,
    compression: Option<&str>,
    doc_per: &str,
    text_field: &str,
    on_invalid: &str,
    on_bad_record: &str,
    max_document_bytes: usize,
    shard_bytes: u64,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<NgramCounts> {
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
    let opts = CountOptions {
        n,
        pad,
        tokenizer: Tokenizer::from_name(tokenizer, lowercase).map_err(to_pyerr)?,
        threads,
        memory_bytes: memory_bytes.unwrap_or_else(count::default_memory),
        sample,
    };
    let result = run_long(py, progress.as_ref(), move |p| {
        let corpus = corpus_of(paths, table, &src)?;
        count::count_ngrams(&corpus, &src, &opts, p)
    })?;
    Ok(NgramCounts {
        inner: Arc::new(result),
    })
}
