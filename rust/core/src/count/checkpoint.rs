//! Resumable counting: finished shards persisted in a checkpoint directory.
//!
//! Layout of `checkpoint_dir`:
//! - `manifest.json`: what the checkpoint belongs to: options, key width, the input files with
//!   their sizes and mtimes, and a hash of the shard plan. A run whose fingerprint differs
//!   discards every file of the checkpoint (and says so in the summary) and starts afresh.
//! - `vocab.log`: the shared vocabulary as an append-only log (u32 length, bytes), in id order
//!   from id 2 (ids 0 and 1 are `<s>`, `</s>`). A resumed run interns it first, so ids of
//!   persisted keys keep their meaning.
//! - `shard-NNNNNN-K.run`: sorted runs of one shard (the spill format of [`super::spill`]).
//! - `shard-NNNNNN.done`: the completion marker (JSON: run files and partition offsets, the
//!   shard's figures, how many vocabulary entries its keys need). It is written to a temporary
//!   name and renamed into place after the runs and the vocabulary it needs are written, so a
//!   run killed at any moment (SIGKILL included) leaves either a complete shard or none; files
//!   of unfinished shards are removed when the checkpoint is opened again.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::spill::SpillFile;
use super::vocab::GlobalVocab;
use crate::error::{CoreError, Result};

pub const VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Fingerprint {
    pub version: u32,
    pub options: String,
    pub key_bytes: usize,
    pub inputs: Vec<(String, u64, String)>,
    pub plan: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ShardDone {
    pub files: Vec<(String, Vec<u64>)>,
    pub documents: u64,
    pub bytes: u64,
    pub invalid_bytes: u64,
    pub skipped_documents: u64,
    pub tokens: u64,
    pub samples: u64,
    pub total_samples: u64,
    pub vocab_entries: u64,
}

struct Log {
    file: Option<BufWriter<File>>,
    /// Vocabulary ids below this are in the log.
    written: usize,
}

pub struct Checkpoint {
    dir: PathBuf,
    pub done: HashMap<usize, ShardDone>,
    pub discarded: bool,
    preload: Vec<Vec<u8>>,
    log: Mutex<Log>,
    next: std::sync::atomic::AtomicU64,
}

/// The key width recorded in the checkpoint in `dir`, if there is one.
pub fn stored_key_bytes(dir: &Path) -> Option<usize> {
    let bytes = fs::read(dir.join("manifest.json")).ok()?;
    let fp: Fingerprint = serde_json::from_slice(&bytes).ok()?;
    Some(fp.key_bytes)
}

fn io(dir: &Path, what: &str, e: std::io::Error) -> CoreError {
    CoreError::Resource(format!(
        "checkpoint directory {}: cannot {what}: {e}",
        dir.display()
    ))
}

fn ours(name: &str) -> bool {
    name == "manifest.json"
        || name == "vocab.log"
        || name.starts_with("shard-")
        || name.ends_with(".tmp")
}

/// Write `bytes` to `path` atomically (temporary file, then rename).
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_data()?;
    }
    fs::rename(&tmp, path)
}

impl Checkpoint {
    /// Open (or start) the checkpoint in `dir` for a run with fingerprint `fp`.
    pub fn open(dir: &Path, fp: &Fingerprint) -> Result<Self> {
        fs::create_dir_all(dir).map_err(|e| io(dir, "create it", e))?;
        let manifest = dir.join("manifest.json");
        let fp_json =
            serde_json::to_vec_pretty(fp).map_err(|e| CoreError::Resource(e.to_string()))?;
        let existing: Option<Fingerprint> = fs::read(&manifest)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let mut discarded = false;
        let mut done = HashMap::new();
        let mut preload = Vec::new();
        let mut written = 2usize;
        if existing.as_ref() == Some(fp) {
            // Finished shards.
            let entries = fs::read_dir(dir).map_err(|e| io(dir, "list it", e))?;
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(i) = name
                    .strip_prefix("shard-")
                    .and_then(|r| r.strip_suffix(".done"))
                    .and_then(|r| r.parse::<usize>().ok())
                {
                    let marker: Option<ShardDone> = fs::read(entry.path())
                        .ok()
                        .and_then(|b| serde_json::from_slice(&b).ok());
                    if let Some(m) = marker {
                        done.insert(i, m);
                    }
                }
            }
            // The vocabulary the finished shards need.
            let need = done.values().map(|d| d.vocab_entries).max().unwrap_or(0) as usize;
            let mut bytes = Vec::new();
            if let Ok(mut f) = File::open(dir.join("vocab.log")) {
                f.read_to_end(&mut bytes)
                    .map_err(|e| io(dir, "read vocab.log", e))?;
            }
            let mut at = 0;
            while preload.len() + 2 < need && at + 4 <= bytes.len() {
                let mut l = [0u8; 4];
                l.copy_from_slice(&bytes[at..at + 4]);
                let len = u32::from_le_bytes(l) as usize;
                if at + 4 + len > bytes.len() {
                    break;
                }
                preload.push(bytes[at + 4..at + 4 + len].to_vec());
                at += 4 + len;
            }
            if preload.len() + 2 < need {
                // The log lacks entries a marker needs: trust nothing.
                done.clear();
                preload.clear();
                discarded = true;
            } else {
                written = preload.len() + 2;
                // Rewrite the log to exactly the entries kept (drops a torn tail).
                let mut out = Vec::with_capacity(at);
                out.extend_from_slice(&bytes[..at]);
                write_atomic(&dir.join("vocab.log"), &out)
                    .map_err(|e| io(dir, "write vocab.log", e))?;
            }
        } else if existing.is_some() || fs::metadata(&manifest).is_ok() {
            discarded = true;
        }
        // Remove everything that is not a finished shard's.
        let mut keep: std::collections::HashSet<String> = std::collections::HashSet::new();
        keep.insert("vocab.log".into());
        keep.insert("manifest.json".into());
        for (i, d) in &done {
            keep.insert(format!("shard-{i:06}.done"));
            for (f, _) in &d.files {
                keep.insert(f.clone());
            }
        }
        if discarded {
            keep.clear();
        }
        if let Ok(entries) = fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if ours(&name) && !keep.contains(&name) {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        if existing.as_ref() != Some(fp) || discarded {
            write_atomic(&manifest, &fp_json).map_err(|e| io(dir, "write manifest.json", e))?;
        }
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("vocab.log"))
            .map_err(|e| io(dir, "open vocab.log", e))?;
        Ok(Checkpoint {
            dir: dir.to_path_buf(),
            done,
            discarded,
            preload,
            log: Mutex::new(Log {
                file: Some(BufWriter::new(log)),
                written,
            }),
            next: std::sync::atomic::AtomicU64::new(0),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Intern the logged vocabulary first, so persisted ids mean the same tokens.
    pub fn preload(&self, vocab: &mut GlobalVocab) -> Result<()> {
        for t in &self.preload {
            let (id, new) = vocab.interner.intern_new(t);
            if !new || id as usize != vocab.interner.len() - 1 {
                return Err(CoreError::Resource(format!(
                    "checkpoint directory {}: vocab.log repeats a token; delete the directory",
                    self.dir.display()
                )));
            }
        }
        Ok(())
    }

    /// A fresh path for a run file of shard `shard` (unfinished until its marker exists).
    pub fn run_path(&self, shard: Option<usize>) -> PathBuf {
        let k = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match shard {
            Some(i) => self.dir.join(format!("shard-{i:06}-{k}.run")),
            None => self
                .dir
                .join(format!("shard-pending-{}-{k}.run", std::process::id())),
        }
    }

    /// Append the vocabulary up to `global`'s current size to the log; returns the entries
    /// logged (ids below it are durable).
    pub fn log_vocab(&self, global: &Mutex<GlobalVocab>) -> Result<u64> {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        let g = global.lock().unwrap_or_else(|p| p.into_inner());
        let strings = &g.interner.strings;
        let from = log.written;
        let to = strings.len();
        let Some(f) = log.file.as_mut() else {
            return Err(CoreError::Resource("checkpoint log closed".into()));
        };
        for id in from..to {
            let b = strings.get(id as u32);
            f.write_all(&(b.len() as u32).to_le_bytes())
                .and_then(|_| f.write_all(b))
                .map_err(|e| io(&self.dir, "write vocab.log", e))?;
        }
        drop(g);
        f.flush().map_err(|e| io(&self.dir, "write vocab.log", e))?;
        f.get_ref()
            .sync_data()
            .map_err(|e| io(&self.dir, "write vocab.log", e))?;
        log.written = to.max(from);
        Ok(log.written as u64)
    }

    /// Record shard `i` as finished (the marker is renamed into place last).
    pub fn finish_shard(&self, i: usize, done: &ShardDone) -> Result<()> {
        let bytes = serde_json::to_vec(done).map_err(|e| CoreError::Resource(e.to_string()))?;
        write_atomic(&self.dir.join(format!("shard-{i:06}.done")), &bytes)
            .map_err(|e| io(&self.dir, "write a shard marker", e))
    }

    /// The run files of a finished shard, as spill files for the reduce.
    pub fn files_of(&self, d: &ShardDone) -> Vec<SpillFile> {
        d.files
            .iter()
            .map(|(name, offsets)| SpillFile {
                path: self.dir.join(name),
                offsets: offsets.clone(),
                keep: true,
            })
            .collect()
    }
}
