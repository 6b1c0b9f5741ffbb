//! The one mapping from core errors to Python exceptions.
//!
//! The exception classes live in `monofact/errors.py`; importing them here means Python code and
//! Rust raise the very same classes.

use monofact_core::CoreError;
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError};
use pyo3::prelude::*;

pyo3::import_exception!(monofact.errors, InputError);
pyo3::import_exception!(monofact.errors, ConfigError);
pyo3::import_exception!(monofact.errors, ResourceError);

pub fn to_pyerr(e: CoreError) -> PyErr {
    match e {
        CoreError::Input {
            ref path,
            ref position,
            ..
        } => {
            let err = InputError::new_err(e.to_string());
            Python::attach(|py| {
                let value = err.value(py);
                let _ = value.setattr("path", path.to_string_lossy().into_owned());
                let _ = value.setattr("line", position.line);
                let _ = value.setattr("offset", position.offset);
            });
            err
        }
        CoreError::Config(m) => ConfigError::new_err(m),
        CoreError::Resource(m) => ResourceError::new_err(m),
        CoreError::Cancelled => PyKeyboardInterrupt::new_err("cancelled"),
        CoreError::Widen => PyRuntimeError::new_err("internal error: key width"),
    }
}
