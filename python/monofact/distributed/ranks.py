"""Counting on many machines without Ray: the same two phases, addressed by rank.

For Slurm job arrays, MPI-style launchers or plain ``ssh`` loops, where every process knows its
``rank`` in ``0..world_size``:

1. **count** (every rank): :func:`count_rank` counts its share of the input files (every
   ``world_size``-th file of the sorted list, starting at ``rank``) and saves the counts under
   ``out/rank-RRRRR/`` (a Parquet dataset partitioned by a text hash of the n-grams, so saved
   counts of different ranks merge exactly); a completion marker ``out/rank-RRRRR.done`` is
   written last, by atomic rename, so a crashed or killed rank leaves no marker and is simply
   run again.
2. **merge** (one process, after every rank finished): :func:`merge_ranks` checks that all
   ``world_size`` markers exist and merges the saved counts through the keys (histograms of
   shards never add) into the counts of the whole corpus.

>>> import pyarrow as pa, tempfile, pathlib                                 # doctest: +SKIP
>>> count_rank(["a.txt", "b.txt"], rank=0, world_size=2, out="counts/", n=3)  # doctest: +SKIP
>>> merge_ranks("counts/", world_size=2).summary["n1"]                       # doctest: +SKIP
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monofact.counts import Counts, count_ngrams
from monofact.errors import ConfigError, InputError


def _rank_dir(out: Path, rank: int) -> Path:
    return out / f"rank-{rank:05d}"


def _marker(out: Path, rank: int) -> Path:
    return out / f"rank-{rank:05d}.done"


def files_of_rank(paths: Sequence[str | os.PathLike[str]], rank: int, world_size: int) -> list[str]:
    """This rank's share of the inputs: every ``world_size``-th file of the sorted, expanded list.

    >>> files_of_rank(["c", "a", "b", "d"], rank=1, world_size=2)
    ['b', 'd']
    """
    if world_size < 1 or not 0 <= rank < world_size:
        raise ConfigError(f"rank must be in 0..{world_size - 1} and world_size >= 1")
    files: list[str] = []
    for p in paths:
        p = os.fspath(p)
        if os.path.isdir(p):
            files.extend(
                str(f)
                for f in Path(p).rglob("*")
                if f.is_file() and not f.name.startswith((".", "_"))
            )
        elif any(ch in p for ch in "*?[") and not os.path.exists(p):
            files.extend(glob.glob(p, recursive=True))
        else:
            files.append(p)
    return sorted(set(files))[rank::world_size]


def count_rank(
    paths: Sequence[str | os.PathLike[str]],
    rank: int,
    world_size: int,
    out: str | os.PathLike[str],
    **options: Any,
) -> Path:
    """Phase 1 for one rank: count its files and save them; returns the saved directory.

    ``options`` are those of :func:`monofact.count_ngrams` (``n``, ``tokenizer``, ``memory``,
    ``threads``, ``checkpoint_dir``, ...); every rank must use the same ones (the merge refuses
    counts made with different options). A rank with no files saves empty counts.
    """
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    marker = _marker(out_dir, rank)
    if marker.exists():
        marker.unlink()  # recounting: the marker must only ever describe finished counts
    mine = files_of_rank(paths, rank, world_size)
    options.setdefault("progress", "none")
    if mine:
        counts = count_ngrams(mine, **options)
    else:
        import pyarrow as pa

        counts = count_ngrams(pa.table({"text": pa.array([], pa.string())}), **options)
    saved = counts.save(_rank_dir(out_dir, rank))
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(f"{len(mine)} files\n")
    os.replace(tmp, marker)
    return saved


def merge_ranks(out: str | os.PathLike[str], world_size: int) -> Counts:
    """Phase 2: merge the saved counts of all ``world_size`` ranks (all must have finished).

    Raises InputError naming the ranks whose completion marker is missing.
    """
    out_dir = Path(out)
    missing = [r for r in range(world_size) if not _marker(out_dir, r).exists()]
    if missing:
        shown = ", ".join(str(r) for r in missing[:20])
        raise InputError(
            f"{out_dir}: ranks {shown}{' ...' if len(missing) > 20 else ''} have not finished "
            "(no completion marker); run count_rank for them first"
        )
    return Counts.merge([Counts.load(_rank_dir(out_dir, r)) for r in range(world_size)])
