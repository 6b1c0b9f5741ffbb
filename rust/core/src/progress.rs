//! Progress counters and the cancel flag shared between the workers and the caller.
//!
//! Workers bump relaxed atomics once per block of input (not per token), so the counters cost
//! nothing measurable; the caller polls them to draw a bar and sets `cancel` on Ctrl-C. Workers
//! check the flag once per block, which bounds the reaction time to one block (milliseconds).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use crate::error::{CoreError, Result};

#[derive(Debug)]
pub struct Progress {
    pub bytes_total: AtomicU64,
    pub bytes_done: AtomicU64,
    pub documents: AtomicU64,
    pub tokens: AtomicU64,
    /// A short name of the current phase ("read", "merge", ...), as an index into PHASES.
    pub phase: AtomicU64,
    cancel: AtomicBool,
    started: Instant,
}

pub const PHASES: [&str; 4] = ["scan", "merge", "finish", "done"];

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    pub bytes_total: u64,
    pub bytes_done: u64,
    pub documents: u64,
    pub tokens: u64,
    pub phase: &'static str,
    pub seconds: f64,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            bytes_total: AtomicU64::new(0),
            bytes_done: AtomicU64::new(0),
            documents: AtomicU64::new(0),
            tokens: AtomicU64::new(0),
            phase: AtomicU64::new(0),
            cancel: AtomicBool::new(false),
            started: Instant::now(),
        }
    }
}

impl Progress {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
    /// Err(Cancelled) once the caller asked to stop.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(CoreError::Cancelled)
        } else {
            Ok(())
        }
    }
    pub fn add(&self, bytes: u64, documents: u64, tokens: u64) {
        self.bytes_done.fetch_add(bytes, Ordering::Relaxed);
        self.documents.fetch_add(documents, Ordering::Relaxed);
        self.tokens.fetch_add(tokens, Ordering::Relaxed);
    }
    pub fn set_phase(&self, index: usize) {
        self.phase
            .store(index.min(PHASES.len() - 1) as u64, Ordering::Relaxed);
    }
    pub fn reset_counts(&self) {
        self.bytes_done.store(0, Ordering::Relaxed);
        self.documents.store(0, Ordering::Relaxed);
        self.tokens.store(0, Ordering::Relaxed);
    }
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            bytes_total: self.bytes_total.load(Ordering::Relaxed),
            bytes_done: self.bytes_done.load(Ordering::Relaxed),
            documents: self.documents.load(Ordering::Relaxed),
            tokens: self.tokens.load(Ordering::Relaxed),
            phase: PHASES[(self.phase.load(Ordering::Relaxed) as usize).min(PHASES.len() - 1)],
            seconds: self.started.elapsed().as_secs_f64(),
        }
    }
}
