//! Python bindings of monofact-core: argument conversion, the long-call helper, Arrow export and
//! error mapping. No statistics live here.

mod counting;
mod errors;
mod facts;
mod lm;
mod longcall;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", monofact_core::version())?;
    m.add_function(wrap_pyfunction!(counting::count_ngrams, m)?)?;
    m.add_class::<counting::NgramCounts>()?;
    m.add_function(wrap_pyfunction!(counting::text_partitions, m)?)?;
    m.add_function(wrap_pyfunction!(facts::count_facts, m)?)?;
    m.add_function(wrap_pyfunction!(facts::count_fact_records, m)?)?;
    m.add_class::<facts::FactCounts>()?;
    m.add_function(wrap_pyfunction!(lm::fit_ngram_model, m)?)?;
    m.add_function(wrap_pyfunction!(lm::load_arpa, m)?)?;
    m.add_class::<lm::NGramModel>()?;
    Ok(())
}
