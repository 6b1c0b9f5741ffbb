//! Expanding paths, globs and directories into input files with their format and compression.

use std::path::{Path, PathBuf};

use super::{Compression, Format, SourceOptions};
use crate::error::{CoreError, Position, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    pub path: PathBuf,
    pub size: u64,
    /// Modification time in nanoseconds since the epoch (0 if unknown), for resume checks.
    pub mtime_ns: u128,
    pub format: Format,
    pub compression: Compression,
}

fn sniff(path: &Path, opts: &SourceOptions) -> (Format, Compression) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let (stem, compression) = if let Some(s) = name.strip_suffix(".gz") {
        (s.to_string(), Compression::Gzip)
    } else if let Some(s) = name
        .strip_suffix(".zst")
        .or_else(|| name.strip_suffix(".zstd"))
    {
        (s.to_string(), Compression::Zstd)
    } else {
        (name.clone(), Compression::None)
    };
    let format = if stem.ends_with(".jsonl") || stem.ends_with(".ndjson") || stem.ends_with(".json")
    {
        Format::Jsonl
    } else if stem.ends_with(".parquet") || stem.ends_with(".pq") {
        Format::Parquet
    } else {
        Format::Text
    };
    (
        opts.format.unwrap_or(format),
        opts.compression.unwrap_or(compression),
    )
}

fn file_entry(path: PathBuf, opts: &SourceOptions) -> Result<InputFile> {
    let meta = std::fs::metadata(&path)
        .map_err(|e| CoreError::input(&path, Position::none(), format!("cannot read: {e}")))?;
    if !meta.is_file() {
        return Err(CoreError::input(
            &path,
            Position::none(),
            "not a regular file",
        ));
    }
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let (format, compression) = sniff(&path, opts);
    if format == Format::Parquet && compression != Compression::None {
        return Err(CoreError::input(
            &path,
            Position::none(),
            "a compressed Parquet file: Parquet compresses its pages itself; decompress the file",
        ));
    }
    Ok(InputFile {
        path,
        size: meta.len(),
        mtime_ns,
        format,
        compression,
    })
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        CoreError::input(dir, Position::none(), format!("cannot list directory: {e}"))
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| {
            CoreError::input(dir, Position::none(), format!("cannot list directory: {e}"))
        })?;
        paths.push(entry.path());
    }
    paths.sort();
    for p in paths {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') || name.starts_with('_') {
            // Hidden files and manifests/markers (_SUCCESS, _manifest.json) are not corpus data.
            continue;
        }
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// Expand `inputs` (files, directories, globs) into files, in a stable sorted order.
/// A path that matches nothing is an error, so a typo never counts an empty corpus.
pub fn discover(inputs: &[String], opts: &SourceOptions) -> Result<Vec<InputFile>> {
    if inputs.is_empty() {
        return Err(CoreError::config("no input paths given"));
    }
    let mut files = Vec::new();
    for input in inputs {
        let path = Path::new(input);
        let is_glob = input.contains(['*', '?', '[']);
        if path.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            if found.is_empty() {
                return Err(CoreError::input(
                    path,
                    Position::none(),
                    "directory holds no files",
                ));
            }
            files.extend(found);
        } else if is_glob && !path.exists() {
            let matches = glob::glob(input)
                .map_err(|e| CoreError::config(format!("bad glob pattern {input:?}: {e}")))?;
            let mut found = Vec::new();
            for m in matches {
                let p = m.map_err(|e| {
                    CoreError::input(
                        e.path(),
                        Position::none(),
                        format!("cannot read: {}", e.error()),
                    )
                })?;
                if p.is_file() {
                    found.push(p);
                }
            }
            if found.is_empty() {
                return Err(CoreError::input(
                    path,
                    Position::none(),
                    "no file matches this pattern",
                ));
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(path.to_path_buf());
        }
    }
    files.into_iter().map(|p| file_entry(p, opts)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_extensions() {
        let o = SourceOptions::default();
        assert_eq!(
            sniff(Path::new("a/b.jsonl.zst"), &o),
            (Format::Jsonl, Compression::Zstd)
        );
        assert_eq!(
            sniff(Path::new("b.txt.gz"), &o),
            (Format::Text, Compression::Gzip)
        );
        assert_eq!(
            sniff(Path::new("c.parquet"), &o),
            (Format::Parquet, Compression::None)
        );
        assert_eq!(
            sniff(Path::new("README"), &o),
            (Format::Text, Compression::None)
        );
    }
}
