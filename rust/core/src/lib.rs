//! monofact-core: stream corpora, count n-grams and facts exactly, and build the statistics the
//! hallucination floors of Kalai, Nachum, Vempala and Zhang (2025) rest on.
//!
//! The pipeline is visible in the module tree: `source` (find and stream documents) ->
//! `tokenize` -> `count` (exact key counting in hash partitions) -> `stats` (count-of-counts);
//! `facts` extracts and counts (subject, relation, object) facts; `lm` fits and queries
//! modified Kneser-Ney n-gram models from the counts.
//! No module here knows about Python; the binding crate only converts.

pub mod count;
pub mod error;
pub mod facts;
pub mod lm;
pub(crate) mod memory;
pub(crate) mod prefetch;
pub mod progress;
pub mod scan;
pub mod source;
pub mod stats;
pub mod tokenize;

pub use error::{CoreError, Position, Result};

/// The library version, recorded in persisted counts.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
