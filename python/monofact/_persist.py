"""Persisted counts: a Parquet dataset partitioned by a text hash of the n-gram, with a manifest.

Layout of a saved directory::

    part-000.parquet ... part-255.parquet   keys of one hash partition each (empty ones omitted):
                                            ngram (large_string, tokens joined by one space),
                                            count (uint64), sorted by ngram
    histogram.parquet                       r (uint64), n_r (uint64), ascending r
    summary.json                            the summary dict of the counts
    manifest.json                           format, format_version, library version, options
                                            (n, tokenizer, lowercase, pad, sample, sample_seed),
                                            inputs (path, size, mtime_ns), the part files

The partition of an n-gram is ``_core.text_partitions``: the engine's n-gram hash of the tokens'
own text hashes (``vocab::token_hash``), so it depends on the text only and two saved counts of
different corpora agree on it. That is what lets :func:`merge` work partition by partition: a
key can only meet itself in the same partition of another input.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from monofact import _core
from monofact.errors import ConfigError, InputError

FORMAT = "monofact-counts"
#: 2: the token hash reads 16-byte heads, so n-grams fall into other partitions than in 1.
FORMAT_VERSION = 2
PARTITIONS = 256
#: Options that must agree for two counts to be merged.
MERGE_OPTIONS = ("n", "tokenizer", "lowercase", "pad", "sample", "sample_seed")

KEY_SCHEMA = pa.schema(
    [pa.field("ngram", pa.large_string(), nullable=False), pa.field("count", pa.uint64(), False)]
)
HIST_SCHEMA = pa.schema([pa.field("r", pa.uint64(), False), pa.field("n_r", pa.uint64(), False)])


def describe_inputs(paths: Sequence[str] | None) -> list[dict[str, Any]]:
    """Files behind ``paths`` (globs and directories expanded) with their size and mtime."""
    if paths is None:
        return [{"arrow": True}]
    files: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            for root, _dirs, names in os.walk(p):
                files.extend(os.path.join(root, n) for n in names)
        elif os.path.exists(p):
            files.append(p)
        else:
            files.extend(glob.glob(p, recursive=True))
    out = []
    for f in sorted(set(files)):
        st = os.stat(f)
        out.append({"path": os.path.abspath(f), "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    return out


def with_partitions(keys: pa.Table) -> pa.Table:
    """``keys`` plus a ``partition`` column (uint16)."""
    parts = _core.text_partitions(keys.column("ngram").combine_chunks())
    return keys.append_column("partition", parts)


def split_partitions(keys: pa.Table) -> Iterator[tuple[int, pa.Table]]:
    """(partition, rows of that partition sorted by ngram) for every non-empty partition."""
    if keys.num_rows == 0:
        return
    t = with_partitions(keys).sort_by([("partition", "ascending"), ("ngram", "ascending")])
    counts = pc.value_counts(t.column("partition")).to_pylist()
    sizes = {int(c["values"]): int(c["counts"]) for c in counts}
    at = 0
    for p in sorted(sizes):
        yield p, t.slice(at, sizes[p]).drop_columns(["partition"])
        at += sizes[p]


def canonical(keys: pa.Table) -> pa.Table:
    """Keys in the engine's order: count descending, then the tokens ascending (byte order).

    Sorting the text with spaces replaced by NUL compares token by token, as the engine does,
    since no token holds a NUL or a space.
    """
    if keys.num_rows == 0:
        return keys.cast(KEY_SCHEMA)
    order_key = pc.replace_substring(keys.column("ngram"), " ", "\x00")
    t = keys.append_column("_order", order_key.cast(pa.large_binary()))
    t = t.sort_by([("count", "descending"), ("_order", "ascending")])
    return t.drop_columns(["_order"]).cast(KEY_SCHEMA)


def histogram_of(counts: pa.ChunkedArray | pa.Array) -> pa.Table:
    """Count-of-counts of a count column."""
    if len(counts) == 0:
        return HIST_SCHEMA.empty_table()
    vc = pc.value_counts(counts)
    t = pa.table(
        {
            "r": vc.field("values").cast(pa.uint64()),
            "n_r": vc.field("counts").cast(pa.uint64()),
        }
    )
    return t.sort_by([("r", "ascending")]).cast(HIST_SCHEMA)


def summary_figures(hist: pa.Table) -> dict[str, Any]:
    """distinct, n1, n2, max_count, samples of a histogram table."""
    r = [int(x) for x in hist.column("r").to_pylist()]
    nr = [int(x) for x in hist.column("n_r").to_pylist()]
    d = dict(zip(r, nr))
    samples = sum(a * b for a, b in zip(r, nr))
    return {
        "distinct": sum(nr),
        "n1": d.get(1, 0),
        "n2": d.get(2, 0),
        "max_count": max(r) if r else 0,
        "samples": samples,
        "singleton_rate": d.get(1, 0) / samples if samples else 0.0,
    }


def save(
    directory: str | os.PathLike[str],
    keys: pa.Table,
    histogram: pa.Table,
    summary: dict[str, Any],
    options: dict[str, Any],
    inputs: list[dict[str, Any]],
) -> Path:
    """Write a counts directory (see the module docstring). Existing part files are replaced."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("part-*.parquet"):
        old.unlink()
    files = []
    for p, rows in split_partitions(keys.cast(KEY_SCHEMA)):
        name = f"part-{p:03d}.parquet"
        pq.write_table(rows, out / name, compression="zstd")
        files.append({"name": name, "partition": p, "rows": rows.num_rows})
    pq.write_table(histogram.cast(HIST_SCHEMA), out / "histogram.parquet")
    (out / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": _core.__version__,
        "partitions": PARTITIONS,
        "options": {k: options.get(k) for k in MERGE_OPTIONS},
        "inputs": inputs,
        "files": files,
    }
    tmp = out / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, out / "manifest.json")
    return out


def read_manifest(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of a counts directory; InputError when missing, corrupt or foreign."""
    path = Path(directory) / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: no manifest: not a saved counts directory") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: corrupt manifest: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(f"{path}: not a monofact counts manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"{path}: format version {manifest.get('format_version')!r}; "
            f"this monofact reads version {FORMAT_VERSION}"
        )
    for field in ("options", "files"):
        if field not in manifest:
            raise InputError(f"{path}: manifest lacks {field!r}")
    return manifest


def read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: cannot read: {e}") from None
    if not isinstance(value, dict):
        raise InputError(f"{path}: not a JSON object")
    return value


def read_parquet(path: Path, schema: pa.Schema) -> pa.Table:
    try:
        return pq.read_table(path).cast(schema)
    except (OSError, pa.ArrowException, ValueError) as e:
        raise InputError(f"{path}: cannot read: {e}") from None


def check_mergeable(options: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The common options of counts to merge; ConfigError naming the first difference."""
    if not options:
        raise ConfigError("merge needs at least one counts object")
    first = options[0]
    for i, o in enumerate(options[1:], start=1):
        for k in MERGE_OPTIONS:
            if o.get(k) != first.get(k):
                raise ConfigError(
                    f"cannot merge counts with different {k}: {first.get(k)!r} (input 0) "
                    f"vs {o.get(k)!r} (input {i})"
                )
    return {k: first.get(k) for k in MERGE_OPTIONS}


def merge_keys(parts: Sequence[Iterator[tuple[int, pa.Table]] | None]) -> pa.Table:
    """Sum the counts of equal n-grams over inputs given as partition iterators."""
    by_part: dict[int, list[pa.Table]] = {}
    for it in parts:
        if it is None:
            continue
        for p, t in it:
            by_part.setdefault(p, []).append(t)
    merged = []
    for p in sorted(by_part):
        t = pa.concat_tables(by_part[p])
        g = t.group_by("ngram").aggregate([("count", "sum")])
        merged.append(
            pa.table({"ngram": g.column("ngram"), "count": g.column("count_sum")}).cast(KEY_SCHEMA)
        )
    if not merged:
        return KEY_SCHEMA.empty_table()
    return pa.concat_tables(merged)
