//! Spilling sorted runs to disk and merging them back (DESIGN.md section 2, steps 3-4).
//!
//! When a worker's sorted runs outgrow its share of the memory budget, it writes all of them to
//! one *spill file*: partition 0's run, then partition 1's, ..., with the byte offset of each
//! partition's section kept in memory. A record is the key's `K::BYTES` bytes little-endian, then
//! the count as an unsigned LEB128 varint (most counts take one byte). Records of a section are
//! in ascending key order, every key at most once.
//!
//! The reduce phase merges, one partition per thread at a time, the sections of that partition
//! from every spill file with a k-way merge over buffered readers, so it holds one record per
//! run plus the reader buffers, never a whole partition. The merged partition is written back to
//! the spill directory as one more run file and read again only when the keys are exported.
//!
//! The directory is a fresh `monofact-spill-*` directory under `spill_dir` (default: the system
//! temp dir), removed when the counts that use it are dropped, and on every error path,
//! cancellation (Ctrl-C) included, because it is owned by a value that is dropped on unwinding.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::key::NKey;
use super::run::Run;
use super::PARTITIONS;
use crate::error::{CoreError, Result};

/// Buffer of each run reader during the merge.
const READ_BUFFER: usize = 64 << 10;
/// Buffer of the run writers.
const WRITE_BUFFER: usize = 1 << 20;

/// A private directory for spill runs, removed on drop.
#[derive(Debug)]
pub struct SpillDir {
    dir: tempfile::TempDir,
    next: AtomicU64,
}

impl SpillDir {
    /// A fresh directory under `base` (the system temp dir when `None`).
    pub fn create(base: Option<&Path>) -> Result<Self> {
        let base = base.map_or_else(std::env::temp_dir, Path::to_path_buf);
        if let Err(e) = std::fs::create_dir_all(&base) {
            return Err(CoreError::Resource(format!(
                "cannot create spill directory {}: {e}",
                base.display()
            )));
        }
        let dir = tempfile::Builder::new()
            .prefix("monofact-spill-")
            .tempdir_in(&base)
            .map_err(|e| {
                CoreError::Resource(format!(
                    "cannot create a spill directory in {}: {e}",
                    base.display()
                ))
            })?;
        Ok(SpillDir {
            dir,
            next: AtomicU64::new(0),
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    fn fresh(&self, what: &str) -> PathBuf {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        self.dir.path().join(format!("{what}-{i:06}.run"))
    }

    /// The error for a failed read or write: names the spill directory (a full disk lands here).
    pub fn io_error(&self, what: &str, e: std::io::Error) -> CoreError {
        let hint = if e.raw_os_error() == Some(28) {
            " (disk full: free space or pass another spill_dir)"
        } else {
            ""
        };
        CoreError::Resource(format!(
            "spill directory {}: cannot {what}: {e}{hint}",
            self.dir.path().display()
        ))
    }
}

/// A byte range of a run file holding one partition's sorted records.
#[derive(Debug, Clone)]
pub struct Section {
    pub path: PathBuf,
    pub start: u64,
    pub end: u64,
}

/// One spill file: the runs of every partition of one worker, partition after partition.
#[derive(Debug, Clone)]
pub struct SpillFile {
    pub path: PathBuf,
    /// `PARTITIONS + 1` offsets: partition p is bytes `offsets[p]..offsets[p + 1]`.
    pub offsets: Vec<u64>,
    /// Part of a checkpoint: not deleted after the merge.
    pub keep: bool,
}

impl SpillFile {
    pub fn section(&self, p: usize) -> Section {
        Section {
            path: self.path.clone(),
            start: self.offsets[p],
            end: self.offsets[p + 1],
        }
    }
}

#[inline]
pub fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Append one run's records to `buf`.
pub fn encode_run<K: NKey>(run: &Run<K>, buf: &mut Vec<u8>) {
    for (&k, &c) in run.keys.iter().zip(&run.counts) {
        k.write_le(buf);
        write_varint(buf, c);
    }
}

/// Write the runs of all partitions (indexed by partition) to a fresh spill file.
pub fn write_runs<K: NKey>(dir: &SpillDir, runs: &[Run<K>]) -> Result<SpillFile> {
    write_runs_at(dir.fresh("spill"), runs, |what, e| dir.io_error(what, e))
}

/// [`write_runs`] to a given path; `err` turns an I/O failure into the error to report.
pub fn write_runs_at<K: NKey>(
    path: PathBuf,
    runs: &[Run<K>],
    err: impl Fn(&str, std::io::Error) -> CoreError,
) -> Result<SpillFile> {
    let file = File::create(&path).map_err(|e| err("create a spill file", e))?;
    let mut w = BufWriter::with_capacity(WRITE_BUFFER, file);
    let mut offsets = Vec::with_capacity(runs.len() + 1);
    let mut at = 0u64;
    let mut buf = Vec::with_capacity(WRITE_BUFFER);
    offsets.push(0);
    for run in runs {
        for (&k, &c) in run.keys.iter().zip(&run.counts) {
            k.write_le(&mut buf);
            write_varint(&mut buf, c);
            if buf.len() >= WRITE_BUFFER {
                w.write_all(&buf).map_err(|e| err("write a spill run", e))?;
                at += buf.len() as u64;
                buf.clear();
            }
        }
        w.write_all(&buf).map_err(|e| err("write a spill run", e))?;
        at += buf.len() as u64;
        buf.clear();
        offsets.push(at);
    }
    while offsets.len() < PARTITIONS + 1 {
        offsets.push(at);
    }
    w.flush().map_err(|e| err("write a spill run", e))?;
    Ok(SpillFile {
        path,
        offsets,
        keep: false,
    })
}

/// Streams the records of one section.
pub struct RunReader<K> {
    reader: BufReader<File>,
    remaining: u64,
    key: [u8; 32],
    _k: PhantomData<K>,
}

fn corrupt(path: &Path, what: &str) -> CoreError {
    CoreError::Resource(format!(
        "spill run {} is damaged ({what}); was the spill directory changed while counting?",
        path.display()
    ))
}

impl<K: NKey> RunReader<K> {
    pub fn open(section: &Section) -> Result<Self> {
        let io = |e: std::io::Error| {
            CoreError::Resource(format!(
                "cannot read spill run {}: {e}",
                section.path.display()
            ))
        };
        let mut file = File::open(&section.path).map_err(io)?;
        file.seek(SeekFrom::Start(section.start)).map_err(io)?;
        Ok(RunReader {
            reader: BufReader::with_capacity(READ_BUFFER, file),
            remaining: section.end.saturating_sub(section.start),
            key: [0; 32],
            _k: PhantomData,
        })
    }

    /// The next record, or `None` at the end of the section.
    pub fn next_record(&mut self, path: &Path) -> Result<Option<(K, u64)>> {
        if self.remaining == 0 {
            return Ok(None);
        }
        let kb = &mut self.key[..K::BYTES];
        self.reader
            .read_exact(kb)
            .map_err(|_| corrupt(path, "truncated key"))?;
        let key = K::read_le(kb);
        let mut count = 0u64;
        let mut used = K::BYTES as u64;
        let mut shift = 0;
        loop {
            let mut b = [0u8; 1];
            self.reader
                .read_exact(&mut b)
                .map_err(|_| corrupt(path, "truncated count"))?;
            used += 1;
            if shift >= 64 {
                return Err(corrupt(path, "count too long"));
            }
            count |= ((b[0] & 0x7f) as u64) << shift;
            if b[0] & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        if used > self.remaining {
            return Err(corrupt(path, "record crosses the section end"));
        }
        self.remaining -= used;
        Ok(Some((key, count)))
    }
}

/// K-way merge of sorted sections, summing equal keys; `emit` gets each key once, ascending.
pub fn merge_sections<K: NKey>(
    sections: &[Section],
    mut emit: impl FnMut(K, u64) -> Result<()>,
) -> Result<()> {
    let mut readers = Vec::with_capacity(sections.len());
    let mut heap = BinaryHeap::with_capacity(sections.len());
    let mut counts = Vec::with_capacity(sections.len());
    for (i, s) in sections.iter().enumerate() {
        if s.end <= s.start {
            continue;
        }
        let mut r = RunReader::<K>::open(s)?;
        match r.next_record(&s.path)? {
            Some((k, c)) => {
                heap.push(Reverse((k, readers.len())));
                counts.push(c);
                readers.push((r, i));
            }
            None => continue,
        }
    }
    let mut current: Option<(K, u64)> = None;
    while let Some(Reverse((k, i))) = heap.pop() {
        let c = counts[i];
        current = match current {
            Some((ck, cc)) if ck == k => Some((ck, cc + c)),
            Some((ck, cc)) => {
                emit(ck, cc)?;
                Some((k, c))
            }
            None => Some((k, c)),
        };
        let (reader, si) = &mut readers[i];
        if let Some((nk, nc)) = reader.next_record(&sections[*si].path)? {
            if nk <= k {
                return Err(corrupt(&sections[*si].path, "keys out of order"));
            }
            counts[i] = nc;
            heap.push(Reverse((nk, i)));
        }
    }
    if let Some((ck, cc)) = current {
        emit(ck, cc)?;
    }
    Ok(())
}

/// Writes one merged partition to a fresh run file.
pub struct SectionWriter<'a> {
    dir: &'a SpillDir,
    path: PathBuf,
    w: BufWriter<File>,
    buf: Vec<u8>,
    len: u64,
}

impl<'a> SectionWriter<'a> {
    pub fn create(dir: &'a SpillDir, what: &str) -> Result<Self> {
        let path = dir.fresh(what);
        let file = File::create(&path).map_err(|e| dir.io_error("create a run file", e))?;
        Ok(SectionWriter {
            dir,
            path,
            w: BufWriter::with_capacity(WRITE_BUFFER, file),
            buf: Vec::with_capacity(64),
            len: 0,
        })
    }

    #[inline]
    pub fn push<K: NKey>(&mut self, k: K, c: u64) -> Result<()> {
        self.buf.clear();
        k.write_le(&mut self.buf);
        write_varint(&mut self.buf, c);
        self.len += self.buf.len() as u64;
        self.w
            .write_all(&self.buf)
            .map_err(|e| self.dir.io_error("write a merged run", e))
    }

    pub fn finish(mut self) -> Result<Section> {
        self.w
            .flush()
            .map_err(|e| self.dir.io_error("write a merged run", e))?;
        Ok(Section {
            path: self.path,
            start: 0,
            end: self.len,
        })
    }
}

/// Read a whole section back into memory.
pub fn read_section<K: NKey>(section: &Section) -> Result<Run<K>> {
    let mut run = Run::new();
    merge_sections::<K>(std::slice::from_ref(section), |k, c| {
        run.keys.push(k);
        run.counts.push(c);
        Ok(())
    })?;
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spill_and_merge_sum_equal_keys() {
        let dir = SpillDir::create(None).unwrap();
        let mut a: Vec<Run<u64>> = (0..PARTITIONS).map(|_| Run::new()).collect();
        let mut b: Vec<Run<u64>> = (0..PARTITIONS).map(|_| Run::new()).collect();
        a[3] = Run {
            keys: vec![1, 5, 9],
            counts: vec![1, 300, 2],
        };
        b[3] = Run {
            keys: vec![0, 5, 10],
            counts: vec![7, u64::MAX / 4, 1],
        };
        b[200] = Run {
            keys: vec![42],
            counts: vec![1],
        };
        let fa = write_runs(&dir, &a).unwrap();
        let fb = write_runs(&dir, &b).unwrap();
        let mut got = Vec::new();
        merge_sections::<u64>(&[fa.section(3), fb.section(3)], |k, c| {
            got.push((k, c));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            got,
            vec![(0, 7), (1, 1), (5, 300 + u64::MAX / 4), (9, 2), (10, 1)]
        );
        let r = read_section::<u64>(&fb.section(200)).unwrap();
        assert_eq!(r.keys, vec![42]);
        assert!(read_section::<u64>(&fa.section(200)).unwrap().is_empty());
        let path = dir.path().to_path_buf();
        drop(dir);
        assert!(!path.exists());
    }

    #[test]
    fn damaged_run_is_an_error() {
        let dir = SpillDir::create(None).unwrap();
        let mut runs: Vec<Run<u128>> = (0..PARTITIONS).map(|_| Run::new()).collect();
        runs[0] = Run {
            keys: vec![1, 2],
            counts: vec![1, 1],
        };
        let f = write_runs(&dir, &runs).unwrap();
        let mut s = f.section(0);
        s.end -= 3;
        assert!(matches!(
            read_section::<u128>(&s),
            Err(CoreError::Resource(_))
        ));
    }
}
