//! Line-oriented readers: plain text (a document per line or per file) and JSON Lines.
//!
//! One reader serves both: it scans a block buffer for newlines with memchr and hands out each
//! line as a slice of the buffer, so nothing is copied per line. A line longer than the document
//! limit is skipped through to its newline without being held in memory. Byte-range shards start
//! at the first line that begins inside their range and end with the last line that begins there,
//! so every line belongs to exactly one shard.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::{
    decode_utf8, Compression, DocPer, Format, InputFile, OnBadRecord, ReadStats, SourceOptions,
};
use crate::error::{CoreError, Position, Result};
use crate::progress::Progress;

const BLOCK: usize = 1 << 20;

/// Counts the raw (compressed) bytes read, for progress.
struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

enum Line {
    /// A line: its range in the buffer (without the newline) and its stream offset.
    Text {
        from: usize,
        to: usize,
        offset: u64,
    },
    /// A line over the limit, skipped; its offset and length.
    TooLong {
        offset: u64,
        len: u64,
    },
    Eof,
}

struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    filled: usize,
    eof: bool,
    /// Stream offset of buf[0].
    base: u64,
}

thread_local! {
    /// The block buffer of this thread's last finished reader. A run reads many shards per
    /// thread; reusing the buffer saves faulting in a fresh megabyte for each.
    static SPARE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl<R> Drop for LineReader<R> {
    fn drop(&mut self) {
        if self.buf.len() == BLOCK {
            let buf = std::mem::take(&mut self.buf);
            let _ = SPARE.try_with(|s| *s.borrow_mut() = buf);
        }
    }
}

impl<R: Read> LineReader<R> {
    fn new(inner: R) -> Self {
        let mut buf = SPARE
            .try_with(|s| std::mem::take(&mut *s.borrow_mut()))
            .unwrap_or_default();
        if buf.len() != BLOCK {
            buf = vec![0; BLOCK];
        }
        LineReader {
            inner,
            buf,
            pos: 0,
            filled: 0,
            eof: false,
            base: 0,
        }
    }

    /// Read more bytes after compacting; returns false at end of stream.
    fn fill(&mut self, max_line: usize) -> io::Result<bool> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.filled, 0);
            self.base += self.pos as u64;
            self.filled -= self.pos;
            self.pos = 0;
        }
        if self.filled == self.buf.len() {
            let grown = (self.buf.len() * 2).min(max_line.saturating_add(1).max(BLOCK));
            if grown <= self.buf.len() {
                return Ok(true); // full and may not grow: caller handles the long line
            }
            self.buf.resize(grown, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.filled..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.filled += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn next_line(&mut self, max_line: usize) -> io::Result<Line> {
        let mut searched = self.pos;
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[searched..self.filled]) {
                let from = self.pos;
                let to = searched + i;
                self.pos = to + 1;
                let offset = self.base + from as u64;
                if to - from > max_line {
                    return Ok(Line::TooLong {
                        offset,
                        len: (to - from) as u64,
                    });
                }
                return Ok(Line::Text { from, to, offset });
            }
            if self.eof {
                if self.pos < self.filled {
                    let (from, to) = (self.pos, self.filled);
                    self.pos = self.filled;
                    let offset = self.base + from as u64;
                    if to - from > max_line {
                        return Ok(Line::TooLong {
                            offset,
                            len: (to - from) as u64,
                        });
                    }
                    return Ok(Line::Text { from, to, offset });
                }
                return Ok(Line::Eof);
            }
            let pending = self.filled - self.pos;
            if pending > max_line {
                return self.skip_long_line();
            }
            let scanned = pending;
            self.fill(max_line)?;
            searched = self.pos + scanned;
        }
    }

    /// Discard the current line through its newline.
    fn skip_long_line(&mut self) -> io::Result<Line> {
        let offset = self.base + self.pos as u64;
        let mut len = 0u64;
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.pos..self.filled]) {
                len += i as u64;
                self.pos += i + 1;
                return Ok(Line::TooLong { offset, len });
            }
            len += (self.filled - self.pos) as u64;
            self.pos = self.filled;
            if self.eof || !self.fill(0)? {
                return Ok(Line::TooLong { offset, len });
            }
        }
    }
}

fn open(file: &InputFile, start: u64, counter: Arc<AtomicU64>) -> Result<Box<dyn Read>> {
    let path = &file.path;
    let mut f = File::open(path)
        .map_err(|e| CoreError::input(path, Position::none(), format!("cannot open: {e}")))?;
    if start > 0 {
        f.seek(SeekFrom::Start(start)).map_err(|e| {
            CoreError::input(
                path,
                Position::at(None, Some(start)),
                format!("cannot seek: {e}"),
            )
        })?;
    }
    let raw = CountingReader {
        inner: f,
        count: counter,
    };
    Ok(match file.compression {
        Compression::None => Box::new(raw),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(
            io::BufReader::with_capacity(1 << 16, raw),
        )),
        Compression::Zstd => {
            let dec = zstd::stream::read::Decoder::new(raw).map_err(|e| {
                CoreError::input(
                    path,
                    Position::none(),
                    format!("cannot start zstd decoding: {e}"),
                )
            })?;
            Box::new(dec)
        }
    })
}

/// Line number of the line starting at `offset` of an uncompressed file (only on error paths).
fn line_number_at(path: &Path, offset: u64) -> Option<u64> {
    let mut f = File::open(path).ok()?;
    let mut buf = vec![0u8; 1 << 20];
    let mut left = offset;
    let mut lines = 1u64;
    while left > 0 {
        let want = (left as usize).min(buf.len());
        let n = f.read(&mut buf[..want]).ok()?;
        if n == 0 {
            break;
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        left -= n as u64;
    }
    Some(lines)
}

pub(super) fn read_file(
    file: &InputFile,
    start: u64,
    end: Option<u64>,
    opts: &SourceOptions,
    progress: &Progress,
    visit: &mut dyn FnMut(&str) -> Result<()>,
) -> Result<ReadStats> {
    let path = &file.path;
    let counter = Arc::new(AtomicU64::new(0));
    // A range shard starts one byte early and drops the line in progress: if that byte is a
    // newline, the dropped "line" is empty and the shard starts exactly at `start`.
    let seek_to = start.saturating_sub(1);
    let mut reader = LineReader::new(open(file, seek_to, counter.clone())?);
    reader.base = seek_to;
    let whole_file = opts.doc_per == DocPer::File && file.format == Format::Text;
    let mut stats = ReadStats::default();
    let mut reported = 0u64;
    // The first line number of this shard: known for shards that start the file.
    let mut line_base: Option<u64> = if start == 0 { Some(1) } else { None };
    let mut line_in_shard: u64 = 0;
    let line_of = |base: &mut Option<u64>, line_in_shard: u64, offset: u64| -> Option<u64> {
        if base.is_none() && file.compression == Compression::None {
            *base = line_number_at(path, offset).map(|l| l - line_in_shard);
        }
        base.map(|b| b + line_in_shard)
    };
    let io_err = |e: io::Error, reader: &LineReader<Box<dyn Read>>, line: Option<u64>| {
        let what = match file.compression {
            Compression::None => "read error",
            Compression::Gzip => "corrupt or truncated gzip data",
            Compression::Zstd => "corrupt or truncated zstd data",
        };
        CoreError::input(
            path,
            Position::at(line, Some(reader.base + reader.filled as u64)),
            format!("{what}: {e}"),
        )
    };

    if whole_file {
        let mut text = Vec::new();
        let mut chunk = vec![0u8; BLOCK];
        loop {
            let n = reader
                .inner
                .read(&mut chunk)
                .map_err(|e| io_err(e, &reader, None))?;
            if n == 0 {
                break;
            }
            if text.len() + n > opts.max_document_bytes {
                if opts.on_bad_record == OnBadRecord::Skip {
                    stats.skipped_documents += 1;
                    progress.add(counter.load(Ordering::Relaxed), 0, 0);
                    stats.bytes = counter.load(Ordering::Relaxed);
                    return Ok(stats);
                }
                return Err(CoreError::input(
                    path,
                    Position::none(),
                    format!(
                        "the file is one document (doc_per=\"file\") longer than the limit of {} bytes; \
                         raise max_document_bytes or pass on_bad_record=\"skip\"",
                        opts.max_document_bytes
                    ),
                ));
            }
            text.extend_from_slice(&chunk[..n]);
            progress.check()?;
        }
        let (doc, invalid) =
            decode_utf8(&text, opts, path, |o| Position::at(None, Some(o as u64)))?;
        stats.invalid_bytes += invalid;
        visit(&doc)?;
        stats.documents = 1;
        stats.bytes = counter.load(Ordering::Relaxed);
        progress.add(stats.bytes, 1, 0);
        return Ok(stats);
    }

    let budget = end.map_or(u64::MAX, |e| e - start);
    let mut first = start > 0;
    let mut docs_since = 0u64;
    loop {
        let line = reader.next_line(opts.max_document_bytes).map_err(|e| {
            let l = line_base.map(|b| b + line_in_shard);
            io_err(e, &reader, l)
        })?;
        let (from, to, offset) = match line {
            Line::Eof => break,
            Line::TooLong { offset, len } => {
                if first {
                    first = false;
                    continue;
                }
                if end.is_some_and(|e| offset >= e) {
                    break;
                }
                if opts.on_bad_record == OnBadRecord::Skip {
                    stats.skipped_documents += 1;
                    line_in_shard += 1;
                    continue;
                }
                let l = line_of(&mut line_base, line_in_shard, offset);
                return Err(CoreError::input(
                    path,
                    Position::at(l, Some(offset)),
                    format!(
                        "a {len}-byte line, longer than the document limit of {} bytes; raise \
                         max_document_bytes or pass on_bad_record=\"skip\"",
                        opts.max_document_bytes
                    ),
                ));
            }
            Line::Text { from, to, offset } => (from, to, offset),
        };
        if first {
            first = false;
            continue;
        }
        if end.is_some_and(|e| offset >= e) {
            break;
        }
        let bytes = &reader.buf[from..to];
        let decoded = decode_utf8(bytes, opts, path, |o| {
            Position::at(None, Some(offset + o as u64))
        });
        let outcome: std::result::Result<bool, (String, Option<u64>)> = match decoded {
            Ok((text, invalid)) => {
                stats.invalid_bytes += invalid;
                if file.format == Format::Jsonl {
                    match jsonl_text(&text, &opts.text_field) {
                        Ok(None) => Ok(false),
                        Ok(Some(doc)) => {
                            visit(&doc)?;
                            Ok(true)
                        }
                        Err(message) => Err((message, Some(offset))),
                    }
                } else {
                    visit(&text)?;
                    Ok(true)
                }
            }
            Err(CoreError::Input {
                message, position, ..
            }) => Err((message, position.offset)),
            Err(e) => return Err(e),
        };
        match outcome {
            Ok(true) => stats.documents += 1,
            Ok(false) => {}
            Err((message, at)) => {
                let is_utf8 = message.starts_with("invalid UTF-8");
                if opts.on_bad_record == OnBadRecord::Skip && !is_utf8 {
                    stats.skipped_documents += 1;
                } else {
                    let l = line_of(&mut line_base, line_in_shard, offset);
                    return Err(CoreError::input(path, Position::at(l, at), message));
                }
            }
        }
        line_in_shard += 1;
        docs_since += 1;
        if docs_since >= 4096 {
            let read = counter.swap(0, Ordering::Relaxed).min(budget - reported);
            reported += read;
            progress.add(read, docs_since, 0);
            docs_since = 0;
            progress.check()?;
        }
    }
    // A range shard reads a little past its end (to finish its last line) and one byte before
    // its start; it reports exactly its own range so shards add up to the file size.
    let read = match end {
        Some(_) => budget - reported,
        None => counter.swap(0, Ordering::Relaxed),
    };
    progress.add(read, docs_since, 0);
    stats.bytes = reported + read;
    Ok(stats)
}

/// The text at dotted path `field` of one JSON line; Ok(None) for a blank line.
fn jsonl_text(line: &str, field: &str) -> std::result::Result<Option<String>, String> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("malformed JSON: {e}"))?;
    let mut at = &value;
    if let Some(v) = value.get(field) {
        at = v; // a key that itself contains dots
    } else {
        for part in field.split('.') {
            at = at.get(part).ok_or_else(|| {
                let keys = match &value {
                    serde_json::Value::Object(m) => {
                        m.keys().take(10).cloned().collect::<Vec<_>>().join(", ")
                    }
                    _ => "none (the record is not an object)".to_string(),
                };
                format!("no field {field:?} in the record (its fields: {keys}); set text_field=")
            })?;
        }
    }
    match at {
        serde_json::Value::String(s) => Ok(Some(s.clone())),
        serde_json::Value::Null => Err(format!("field {field:?} is null")),
        other => Err(format!(
            "field {field:?} is {}, not text",
            match other {
                serde_json::Value::Bool(_) => "a boolean",
                serde_json::Value::Number(_) => "a number",
                serde_json::Value::Array(_) => "an array",
                serde_json::Value::Object(_) => "an object",
                _ => "not a string",
            }
        )),
    }
}
