//! The one helper every long call goes through.
//!
//! The work runs on its own thread with owned inputs; the calling thread releases the GIL and
//! waits in 100 ms slices. Between slices it checks for signals (Ctrl-C sets the core's cancel
//! flag, the workers stop within one block, and KeyboardInterrupt is raised) and hands a progress
//! snapshot to the optional Python callback. A panic in the core is caught and raised as
//! RuntimeError instead of tearing down the interpreter.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use monofact_core::progress::{Progress, Snapshot};
use monofact_core::CoreError;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::to_pyerr;

const SLICE: Duration = Duration::from_millis(100);
const REPORT_EVERY: Duration = Duration::from_millis(250);

fn snapshot_dict<'py>(py: Python<'py>, s: &Snapshot) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("phase", s.phase)?;
    d.set_item("bytes_done", s.bytes_done)?;
    d.set_item("bytes_total", s.bytes_total)?;
    d.set_item("documents", s.documents)?;
    d.set_item("tokens", s.tokens)?;
    d.set_item("seconds", s.seconds)?;
    Ok(d)
}

pub fn run_long<T, F>(py: Python<'_>, callback: Option<&Bound<'_, PyAny>>, work: F) -> PyResult<T>
where
    T: Send + 'static,
    F: FnOnce(&Progress) -> Result<T, CoreError> + Send + 'static,
{
    let progress = Arc::new(Progress::new());
    let (tx, rx) = mpsc::channel();
    let worker_progress = progress.clone();
    let handle = std::thread::Builder::new()
        .name("monofact".into())
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(|| work(&worker_progress)));
            let _ = tx.send(result);
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a thread: {e}")))?;
    let mut last = Instant::now();
    let finish = |result: std::thread::Result<Result<T, CoreError>>| match result {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_pyerr(e)),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            Err(PyRuntimeError::new_err(format!(
                "internal error in monofact's core (please report it): {what}"
            )))
        }
    };
    // The receiver is Send but not Sync, so it moves in and out of each GIL-free slice.
    let mut rx = rx;
    loop {
        let (got, back) = py.detach(move || {
            let got = rx.recv_timeout(SLICE);
            (got, rx)
        });
        rx = back;
        match got {
            Ok(result) => {
                let _ = handle.join();
                if let Some(cb) = callback {
                    // A final report so a bar can show 100%.
                    let d = snapshot_dict(py, &progress.snapshot())?;
                    d.set_item("done", true)?;
                    cb.call1((d,))?;
                }
                return finish(result);
            }
            Err(RecvTimeoutError::Timeout) => {
                let interrupted = py.check_signals().err();
                let callback_error = match (interrupted.is_none(), callback) {
                    (true, Some(cb)) if last.elapsed() >= REPORT_EVERY => {
                        last = Instant::now();
                        snapshot_dict(py, &progress.snapshot())
                            .and_then(|d| cb.call1((d,)))
                            .err()
                    }
                    _ => None,
                };
                if let Some(err) = interrupted.or(callback_error) {
                    progress.cancel();
                    let _ = py.detach(move || rx.recv());
                    let _ = handle.join();
                    return Err(err);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                let _ = handle.join();
                return Err(PyRuntimeError::new_err(
                    "internal error: the worker thread vanished",
                ));
            }
        }
    }
}
