//! Errors of the core crate.
//!
//! One enum for the whole crate, with three kinds a caller must tell apart (bad input, bad
//! configuration, exhausted resources) plus cancellation. Input errors always carry the file and
//! the position so a user can go and look at the offending bytes.

use std::fmt;
use std::path::PathBuf;

/// Where in an input something went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// 1-based line (plain text, JSONL) or record (Parquet row, Arrow row) number, when known.
    pub line: Option<u64>,
    /// Byte offset in the (decompressed) stream, when known.
    pub offset: Option<u64>,
}

impl Position {
    pub fn at(line: Option<u64>, offset: Option<u64>) -> Self {
        Position { line, offset }
    }
    pub fn none() -> Self {
        Position {
            line: None,
            offset: None,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.offset) {
            (Some(l), Some(o)) => write!(f, "line {l}, byte offset {o}"),
            (Some(l), None) => write!(f, "line {l}"),
            (None, Some(o)) => write!(f, "byte offset {o}"),
            (None, None) => write!(f, "start of input"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The input cannot be read or is malformed.
    #[error("{path}: {position}: {message}")]
    Input {
        path: PathBuf,
        position: Position,
        message: String,
    },
    /// The arguments do not make sense.
    #[error("{0}")]
    Config(String),
    /// A resource ran out (memory budget, disk).
    #[error("{0}")]
    Resource(String),
    /// The caller asked the computation to stop.
    #[error("cancelled")]
    Cancelled,
    /// Internal: the vocabulary outgrew the packed key width; the engine recounts with wider
    /// keys. Never reaches a caller.
    #[doc(hidden)]
    #[error("internal: vocabulary outgrew the key width")]
    Widen,
}

impl CoreError {
    pub fn input(path: impl Into<PathBuf>, position: Position, message: impl Into<String>) -> Self {
        CoreError::Input {
            path: path.into(),
            position,
            message: message.into(),
        }
    }
    pub fn config(message: impl Into<String>) -> Self {
        CoreError::Config(message.into())
    }
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;
