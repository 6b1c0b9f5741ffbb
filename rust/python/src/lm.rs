//! `NGramModel`: fit from a corpus (the counting engine's padded counts), ARPA io, scoring,
//! generation and multiple choice. Argument conversion only.

use std::sync::Arc;

use monofact_core::count::{self, CountOptions};
use monofact_core::lm::{self, FitOptions, GenerateOptions, Model, RawCounts};
use monofact_core::tokenize::Tokenizer;
use monofact_core::CoreError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::PyDict;
use pyo3_arrow::PyTable;

use crate::counting::{corpus_of, source_options};
use crate::errors::to_pyerr;
use crate::longcall::run_long;

fn lm_err(e: lm::LmError) -> PyErr {
    to_pyerr(e.into())
}

#[pyclass(module = "monofact._core", frozen)]
pub struct NGramModel {
    model: Arc<Model>,
    /// How text given to queries is split; None = ASCII whitespace (models read from ARPA).
    tokenizer: Option<Tokenizer>,
}

/// Query sentences: borrowed from the Python strings when the model splits on whitespace (no
/// copy), else normalised copies.
enum Texts {
    Borrowed(Vec<PyBackedStr>),
    Owned(Vec<String>),
}

impl Texts {
    fn strs(&self) -> Vec<&str> {
        match self {
            Texts::Borrowed(v) => v.iter().map(|t| &**t).collect(),
            Texts::Owned(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

impl NGramModel {
    fn query_texts(&self, texts: Vec<PyBackedStr>) -> Texts {
        match self.tokenizer {
            None | Some(Tokenizer::Whitespace) => Texts::Borrowed(texts),
            Some(_) => Texts::Owned(self.normalize(texts.iter().map(|t| t.to_string()).collect())),
        }
    }

    /// Query text as the model's tokens joined by single spaces.
    fn normalize(&self, texts: Vec<String>) -> Vec<String> {
        match self.tokenizer {
            None | Some(Tokenizer::Whitespace) => texts,
            Some(t) => {
                let mut scratch = Vec::new();
                texts
                    .into_iter()
                    .map(|text| {
                        let mut out = Vec::with_capacity(text.len() + 8);
                        t.tokenize(&text, &mut scratch, |tok| {
                            if !out.is_empty() {
                                out.push(b' ');
                            }
                            out.extend_from_slice(tok);
                        });
                        String::from_utf8_lossy(&out).into_owned()
                    })
                    .collect()
            }
        }
    }
}

#[pymethods]
impl NGramModel {
    #[getter]
    fn order(&self) -> usize {
        self.model.order()
    }

    /// Number of n-grams per order (1..=N).
    fn ngram_counts(&self) -> Vec<usize> {
        self.model.ngram_counts()
    }

    /// The discounts (D1, D2, D3+) per order; empty for a model read from ARPA.
    fn discounts(&self) -> Vec<(f64, f64, f64)> {
        self.model
            .discounts()
            .iter()
            .map(|d| (d.d[0], d.d[1], d.d[2]))
            .collect()
    }

    fn vocabulary(&self) -> Vec<String> {
        self.model.vocab().to_vec()
    }

    fn tokenizer(&self) -> Option<&'static str> {
        self.tokenizer.map(|t| t.name())
    }

    fn save_arpa(&self, py: Python<'_>, path: String) -> PyResult<()> {
        let model = self.model.clone();
        run_long(py, None, move |_| {
            model.write_arpa_file(&path).map_err(CoreError::from)
        })
    }

    /// Per sentence: (total log10 probability, per-token log10 probabilities, OOV count).
    #[pyo3(signature = (sentences, bos=true, eos=true))]
    fn score(
        &self,
        py: Python<'_>,
        sentences: Vec<PyBackedStr>,
        bos: bool,
        eos: bool,
    ) -> PyResult<Vec<(f64, Vec<f64>, usize)>> {
        let texts = self.query_texts(sentences);
        let model = self.model.clone();
        // The texts come back so that the Python strings are released with the GIL held.
        let (scores, _texts) = run_long(py, None, move |_| {
            let r = model.score_batch(&texts.strs(), bos, eos);
            r.map(|r| (r, texts)).map_err(CoreError::from)
        })?;
        Ok(scores
            .into_iter()
            .map(|s| (s.total, s.log10_probs, s.oov))
            .collect())
    }

    /// Per sentence: the total log10 probability only (no per-token lists to build).
    #[pyo3(signature = (sentences, bos=true, eos=true))]
    fn score_totals(
        &self,
        py: Python<'_>,
        sentences: Vec<PyBackedStr>,
        bos: bool,
        eos: bool,
    ) -> PyResult<Vec<f64>> {
        let texts = self.query_texts(sentences);
        let model = self.model.clone();
        let (totals, _texts) = run_long(py, None, move |_| {
            let r = model.score_totals(&texts.strs(), bos, eos);
            r.map(|r| (r, texts)).map_err(CoreError::from)
        })?;
        Ok(totals)
    }

    #[pyo3(signature = (sentences, bos=true, eos=true))]
    fn perplexity<'py>(
        &self,
        py: Python<'py>,
        sentences: Vec<PyBackedStr>,
        bos: bool,
        eos: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let texts = self.query_texts(sentences);
        let model = self.model.clone();
        let (p, _texts) = run_long(py, None, move |_| {
            let r = model.perplexity(&texts.strs(), bos, eos);
            r.map(|r| (r, texts)).map_err(CoreError::from)
        })?;
        let d = PyDict::new(py);
        d.set_item("perplexity", p.perplexity)?;
        d.set_item("perplexity_excluding_oov", p.perplexity_excluding_oov)?;
        d.set_item("log10_total", p.log10_total)?;
        d.set_item("tokens", p.tokens)?;
        d.set_item("oov", p.oov)?;
        Ok(d)
    }

    /// Continuations: (tokens, ended at </s>, log10 probability) per prefix.
    #[pyo3(signature = (prefixes, max_tokens=50, greedy=false, seed=0, bos=true))]
    fn generate(
        &self,
        py: Python<'_>,
        prefixes: Vec<String>,
        max_tokens: usize,
        greedy: bool,
        seed: u64,
        bos: bool,
    ) -> PyResult<Vec<(Vec<String>, bool, f64)>> {
        let texts = self.normalize(prefixes);
        let model = self.model.clone();
        let opts = GenerateOptions {
            max_tokens,
            seed,
            greedy,
            bos,
        };
        let gens = run_long(py, None, move |_| {
            model.generate_batch(&texts, &opts).map_err(CoreError::from)
        })?;
        Ok(gens
            .into_iter()
            .map(|g| (g.tokens, g.ended, g.log10_prob))
            .collect())
    }

    /// Multiple choice: (pick, log10 probability of each choice) per prompt.
    #[pyo3(signature = (prompts, choices, eos=false))]
    fn choose(
        &self,
        py: Python<'_>,
        prompts: Vec<String>,
        choices: Vec<Vec<String>>,
        eos: bool,
    ) -> PyResult<Vec<(usize, Vec<f64>)>> {
        let prompts = self.normalize(prompts);
        let choices: Vec<Vec<String>> = choices.into_iter().map(|c| self.normalize(c)).collect();
        let model = self.model.clone();
        let picked = run_long(py, None, move |_| {
            model
                .choose(&prompts, &choices, eos)
                .map_err(CoreError::from)
        })?;
        Ok(picked
            .into_iter()
            .map(|c| (c.pick, c.log10_probs))
            .collect())
    }
}

#[pyfunction]
pub fn load_arpa(py: Python<'_>, path: String) -> PyResult<NGramModel> {
    let model = run_long(py, None, move |_| {
        Model::read_arpa_file(&path).map_err(CoreError::from)
    })?;
    Ok(NGramModel {
        model: Arc::new(model),
        tokenizer: None,
    })
}

#[pyfunction]
#[pyo3(signature = (
    paths=None, table=None, *, order=3, tokenizer="whitespace", lowercase=false,
    interpolate_unigrams=true, discount_fallback=None, prune=Vec::new(), threads=0,
    memory_bytes=None, format=None, compression=None, doc_per="line", text_field="text",
    on_invalid="replace", on_bad_record="error", max_document_bytes=64<<20, shard_bytes=0,
    progress=None
))]
#[allow(clippy::too_many_arguments)]
pub fn fit_ngram_model(
    py: Python<'_>,
    paths: Option<Vec<String>>,
    table: Option<PyTable>,
    order: usize,
    tokenizer: &str,
    lowercase: bool,
    interpolate_unigrams: bool,
    discount_fallback: Option<(f64, f64, f64)>,
    prune: Vec<u64>,
    threads: usize,
    memory_bytes: Option<u64>,
    format: Option<&str>,
    compression: Option<&str>,
    doc_per: &str,
    text_field: &str,
    on_invalid: &str,
    on_bad_record: &str,
    max_document_bytes: usize,
    shard_bytes: u64,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<NGramModel> {
    if !(1..=lm::MAX_ORDER).contains(&order) {
        return Err(lm_err(lm::LmError::BadOrder { order }));
    }
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
    let tok = Tokenizer::from_name(tokenizer, lowercase).map_err(to_pyerr)?;
    let count_opts = CountOptions {
        n: order,
        pad: true,
        tokenizer: tok,
        threads,
        memory_bytes: memory_bytes.unwrap_or_else(count::default_memory),
        sample: None,
        ..CountOptions::default()
    };
    let fit = FitOptions {
        interpolate_unigrams,
        discount_fallback: discount_fallback.map(|(a, b, c)| [a, b, c]),
        prune,
    };
    let model = run_long(py, progress.as_ref(), move |p| {
        let corpus = corpus_of(paths, table, &src)?;
        let counts = count::count_ngrams(&corpus, &src, &count_opts, p)?;
        let keys = counts.into_unordered_keys()?;
        let raw = RawCounts::from_exported(keys)?;
        lm::estimate_owned(raw, &fit).map_err(CoreError::from)
    })?;
    Ok(NGramModel {
        model: Arc::new(model),
        tokenizer: Some(tok),
    })
}
