"""Exact n-gram counts on a Ray cluster: ``pip install monofact[ray]``.

Two phases on the same core functions as a local run (DESIGN.md section 2, "Distributed"):

1. **count**: one Ray task per group of input files runs :func:`monofact.count_ngrams` on them
   and splits its keys into the 256 text-hash partitions of saved counts (the n-gram hash of
   the tokens' own text hashes, so every task agrees whatever its vocabulary), returning one
   Arrow table per group of partitions to the object store;
2. **merge**: one task per group of partitions sums the counts of equal n-grams over every
   phase-1 output and computes that group's count-of-counts.

Partitions hold disjoint keys, so the driver adds the partition histograms; the phase-1
figures (documents, tokens, N, bytes) add because the file groups are disjoint. The result is a
:class:`monofact.Counts` equal to counting all files locally (keys, histogram, summary figures).

>>> import ray                                                   # doctest: +SKIP
>>> ray.init(num_cpus=2)                                         # doctest: +SKIP
>>> counts = count_ngrams(["a.txt", "b.txt"], n=3)               # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from monofact import _persist
from monofact.counts import Counts
from monofact.counts import count_ngrams as _count_local
from monofact.errors import ConfigError

_ADD = (
    "documents",
    "tokens",
    "total_samples",
    "bytes",
    "invalid_bytes",
    "skipped_documents",
    "shards",
    "spills",
    "spill_bytes",
)


def _group_of(partition: int, groups: int) -> int:
    return partition * groups // _persist.PARTITIONS


def _count_task(paths: list[str], groups: int, options: dict[str, Any]) -> tuple[Any, ...]:
    """Phase 1: count ``paths``; return (figures, options, table of group 0, ..., group G-1)."""
    c = _count_local(paths, progress="none", **options)
    tables: list[list[pa.Table]] = [[] for _ in range(groups)]
    for p, t in _persist.split_partitions(c.to_table()):
        tables[_group_of(p, groups)].append(t)
    out = [pa.concat_tables(ts) if ts else _persist.KEY_SCHEMA.empty_table() for ts in tables]
    figures = {k: c.summary.get(k) for k in _ADD}
    return (figures, c.options, *out)


def _merge_task(*tables: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Phase 2: sum equal n-grams of one group of partitions; (keys, histogram)."""
    keys = _persist.merge_keys([iter([(0, t)]) for t in tables if t.num_rows])
    return keys, _persist.histogram_of(keys.column("count"))


def count_ngrams(
    paths: Sequence[str | os.PathLike[str]],
    n: int = 3,
    *,
    files_per_task: int = 1,
    partition_groups: int = 16,
    **options: Any,
) -> Counts:
    """Count the n-grams of ``paths`` exactly on the connected Ray cluster.

    ``files_per_task`` input files go to each phase-1 task; ``partition_groups`` phase-2 tasks
    (each a range of the 256 hash partitions) merge. ``options`` are those of
    :func:`monofact.count_ngrams` (``tokenizer``, ``lowercase``, ``pad``, ``memory``,
    ``threads`` per task (default 1), ``sample``, ``sample_seed``, reader options).
    """
    import ray

    files = [os.fspath(p) for p in paths]
    if not files:
        raise ConfigError("give at least one input file")
    if not 1 <= partition_groups <= _persist.PARTITIONS:
        raise ConfigError(f"partition_groups must be in 1..256, not {partition_groups}")
    if files_per_task < 1:
        raise ConfigError("files_per_task must be at least 1")
    options = {"n": n, "threads": 1, **options}
    count_remote: Any = ray.remote(_count_task).options(num_returns=partition_groups + 2)
    merge_remote: Any = ray.remote(_merge_task).options(num_returns=2)
    phase1 = [
        count_remote.remote(files[i : i + files_per_task], partition_groups, options)
        for i in range(0, len(files), files_per_task)
    ]
    phase2 = [
        merge_remote.remote(*[refs[2 + g] for refs in phase1]) for g in range(partition_groups)
    ]
    figures = ray.get([refs[0] for refs in phase1])
    task_options = ray.get([refs[1] for refs in phase1])
    merged = [ray.get(list(refs)) for refs in phase2]
    keys = pa.concat_tables([k for k, _h in merged])
    hist_rows: dict[int, int] = {}
    for _k, h in merged:
        for r, nr in zip(h.column("r").to_pylist(), h.column("n_r").to_pylist()):
            hist_rows[int(r)] = hist_rows.get(int(r), 0) + int(nr)
    rs = sorted(hist_rows)
    hist = pa.table(
        {"r": pa.array(rs, pa.uint64()), "n_r": pa.array([hist_rows[r] for r in rs], pa.uint64())}
    ).cast(_persist.HIST_SCHEMA)
    opts = dict(task_options[0])
    summary: dict[str, Any] = {k: sum(int(f.get(k) or 0) for f in figures) for k in _ADD}
    summary.update(
        n=n,
        vocabulary=None,
        threads=None,
        seconds=None,
        sample_rate=opts.get("sample"),
        sample_seed=opts.get("sample_seed"),
        distributed_tasks=len(phase1),
    )
    summary.update(_persist.summary_figures(hist))
    result = Counts(None, opts, summary=summary)
    result._hist = hist
    result._keys = lambda: keys
    return result
