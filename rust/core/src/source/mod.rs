//! Input discovery and streaming readers.
//!
//! A corpus is a list of paths, globs and directories (expanded here, in sorted order so that
//! every run sees the same shard list) or in-memory Arrow record batches. Each input becomes one
//! or more [`Shard`]s: a whole file, a byte range of a large uncompressed line-oriented file (so
//! every core works on one big file), a row group of a Parquet file, or a run of record batches.
//! Readers stream: memory stays at one read buffer plus the longest document, whatever the file
//! size. A reader hands each document to a visitor as `&str`; invalid UTF-8 is replaced (and the
//! replaced bytes counted) or reported, per [`OnInvalid`].

mod files;
mod lines;
mod parquet_src;

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::RecordBatch;

pub use files::{discover, InputFile};

use crate::error::{CoreError, Position, Result};
use crate::progress::Progress;

/// How a file's bytes become documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text: a document per line, or per file.
    Text,
    /// JSON Lines: a document per record, its text at `text_field`.
    Jsonl,
    /// Parquet: a document per row, its text in column `text_field`.
    Parquet,
}

impl Format {
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "txt" | "text" => Ok(Format::Text),
            "jsonl" | "json" | "ndjson" => Ok(Format::Jsonl),
            "parquet" => Ok(Format::Parquet),
            other => Err(CoreError::config(format!(
                "unknown format {other:?}; choose \"text\", \"jsonl\" or \"parquet\""
            ))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "none" => Ok(Compression::None),
            "gzip" | "gz" => Ok(Compression::Gzip),
            "zstd" | "zst" => Ok(Compression::Zstd),
            other => Err(CoreError::config(format!(
                "unknown compression {other:?}; choose \"none\", \"gzip\" or \"zstd\""
            ))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocPer {
    Line,
    File,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnInvalid {
    /// Replace invalid UTF-8 with U+FFFD and count the replaced bytes.
    Replace,
    /// Stop with an InputError naming the file and byte offset.
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnBadRecord {
    /// Stop with an InputError naming the file and line or record.
    Error,
    /// Skip the document and count it in the summary (`skipped_documents`).
    Skip,
}

#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// Forced format; None = from the file extension.
    pub format: Option<Format>,
    /// Forced compression; None = from the file extension.
    pub compression: Option<Compression>,
    pub doc_per: DocPer,
    /// JSONL: dotted path of the text field; Parquet/Arrow: the text column.
    pub text_field: String,
    pub on_invalid: OnInvalid,
    /// Malformed JSON, a missing or non-text field, a null value, an over-long document.
    pub on_bad_record: OnBadRecord,
    /// Longest document accepted; longer ones are bad records.
    pub max_document_bytes: usize,
    /// Uncompressed line-oriented files larger than this are split into byte-range shards
    /// (0 = automatic: about 32 shards per thread, 1 MB to 64 MB each).
    pub shard_bytes: u64,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            format: None,
            compression: None,
            doc_per: DocPer::Line,
            text_field: "text".to_string(),
            on_invalid: OnInvalid::Replace,
            on_bad_record: OnBadRecord::Error,
            max_document_bytes: 64 << 20,
            shard_bytes: 0,
        }
    }
}

/// What the documents of a corpus come from.
#[derive(Clone)]
pub enum Corpus {
    Files(Vec<InputFile>),
    /// Record batches handed over from Python (or any Arrow producer).
    Batches(Arc<Vec<RecordBatch>>),
}

/// One unit of work for a worker thread.
#[derive(Debug, Clone)]
pub enum Shard {
    /// A whole file, or the lines starting in bytes `start..end` of an uncompressed file.
    File {
        file: Arc<InputFile>,
        start: u64,
        end: Option<u64>,
    },
    /// Row groups of a Parquet file.
    ParquetRowGroup {
        file: Arc<InputFile>,
        row_group: usize,
        first_row: u64,
    },
    /// Record batches `first..last` (exclusive) of an in-memory corpus.
    Batches {
        first: usize,
        last: usize,
        first_row: u64,
    },
}

/// Per-shard reading figures, summed into the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    pub documents: u64,
    pub bytes: u64,
    pub invalid_bytes: u64,
    pub skipped_documents: u64,
}

impl ReadStats {
    pub fn add(&mut self, other: &ReadStats) {
        self.documents += other.documents;
        self.bytes += other.bytes;
        self.invalid_bytes += other.invalid_bytes;
        self.skipped_documents += other.skipped_documents;
    }
}

/// Split a corpus into shards, in corpus order.
pub fn plan_shards(corpus: &Corpus, opts: &SourceOptions) -> Result<Vec<Shard>> {
    let mut shards = Vec::new();
    match corpus {
        Corpus::Files(files) => {
            for file in files {
                let file = Arc::new(file.clone());
                match file.format {
                    Format::Parquet => {
                        for (row_group, first_row) in parquet_src::row_groups(&file)? {
                            shards.push(Shard::ParquetRowGroup {
                                file: file.clone(),
                                row_group,
                                first_row,
                            });
                        }
                    }
                    Format::Text | Format::Jsonl => {
                        let splittable = file.compression == Compression::None
                            && !(file.format == Format::Text && opts.doc_per == DocPer::File)
                            && file.size > opts.shard_bytes
                            && opts.shard_bytes > 0;
                        if splittable {
                            let mut start = 0;
                            while start < file.size {
                                let end = (start + opts.shard_bytes).min(file.size);
                                shards.push(Shard::File {
                                    file: file.clone(),
                                    start,
                                    end: Some(end),
                                });
                                start = end;
                            }
                        } else {
                            shards.push(Shard::File {
                                file: file.clone(),
                                start: 0,
                                end: None,
                            });
                        }
                    }
                }
            }
        }
        Corpus::Batches(batches) => {
            // Group batches into shards of about 1M rows so both cores get work.
            let mut first = 0;
            let mut rows: u64 = 0;
            let mut first_row = 0;
            for (i, b) in batches.iter().enumerate() {
                rows += b.num_rows() as u64;
                if rows >= 1 << 20 || i + 1 == batches.len() {
                    shards.push(Shard::Batches {
                        first,
                        last: i + 1,
                        first_row,
                    });
                    first_row += rows;
                    first = i + 1;
                    rows = 0;
                }
            }
        }
    }
    Ok(shards)
}

/// Total input bytes, for progress.
pub fn total_bytes(corpus: &Corpus) -> u64 {
    match corpus {
        Corpus::Files(files) => files.iter().map(|f| f.size).sum(),
        Corpus::Batches(batches) => batches
            .iter()
            .map(|b| b.get_array_memory_size() as u64)
            .sum(),
    }
}

/// Stream the documents of one shard into `visit`, in order.
pub fn read_shard(
    corpus: &Corpus,
    shard: &Shard,
    opts: &SourceOptions,
    progress: &Progress,
    visit: &mut dyn FnMut(&str) -> Result<()>,
) -> Result<ReadStats> {
    match shard {
        Shard::File { file, start, end } => match file.format {
            Format::Text | Format::Jsonl => {
                lines::read_file(file, *start, *end, opts, progress, visit)
            }
            Format::Parquet => Err(CoreError::input(
                &file.path,
                Position::none(),
                "internal: a Parquet file planned as a byte shard",
            )),
        },
        Shard::ParquetRowGroup {
            file,
            row_group,
            first_row,
        } => parquet_src::read_row_group(file, *row_group, *first_row, opts, progress, visit),
        Shard::Batches {
            first,
            last,
            first_row,
        } => match corpus {
            Corpus::Batches(batches) => parquet_src::read_batches(
                &batches[*first..*last],
                *first_row,
                opts,
                progress,
                visit,
            ),
            Corpus::Files(_) => Err(CoreError::config("internal: batch shard of a file corpus")),
        },
    }
}

/// Name used in error messages for in-memory Arrow input.
pub fn arrow_input_name() -> PathBuf {
    PathBuf::from("<arrow input>")
}

/// Validate UTF-8; replace or report invalid bytes. Returns the text and the invalid byte count.
pub(crate) fn decode_utf8<'a>(
    bytes: &'a [u8],
    opts: &SourceOptions,
    path: &std::path::Path,
    position: impl Fn(usize) -> Position,
) -> Result<(std::borrow::Cow<'a, str>, u64)> {
    // simdutf8 validates valid text several times faster than std; std finds the position of
    // an error.
    if let Ok(s) = simdutf8::basic::from_utf8(bytes) {
        return Ok((std::borrow::Cow::Borrowed(s), 0));
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok((std::borrow::Cow::Borrowed(s), 0)),
        Err(e) => match opts.on_invalid {
            OnInvalid::Error => Err(CoreError::input(
                path,
                position(e.valid_up_to()),
                "invalid UTF-8 (pass on_invalid=\"replace\" to replace and count such bytes)",
            )),
            OnInvalid::Replace => Ok((
                std::borrow::Cow::Owned(String::from_utf8_lossy(bytes).into_owned()),
                count_invalid(bytes),
            )),
        },
    }
}

/// Number of bytes that `from_utf8_lossy` replaces.
fn count_invalid(mut bytes: &[u8]) -> u64 {
    let mut invalid = 0u64;
    loop {
        match std::str::from_utf8(bytes) {
            Ok(_) => return invalid,
            Err(e) => {
                let bad = e.error_len().unwrap_or(bytes.len() - e.valid_up_to());
                invalid += bad as u64;
                bytes = &bytes[e.valid_up_to() + bad..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_invalid_bytes() {
        assert_eq!(super::count_invalid(b"ok"), 0);
        assert_eq!(super::count_invalid(b"a\xffb\xfe\xfd"), 3);
        assert_eq!(super::count_invalid(b"\xe2\x82"), 2);
    }
}
