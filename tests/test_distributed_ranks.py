"""Rank/world_size counting (Slurm-style): two phases equal the local run."""

from __future__ import annotations

from pathlib import Path

import pytest

import monofact as mf
from monofact.distributed.ranks import count_rank, files_of_rank, merge_ranks


def test_ranks_equal_local_run(tmp_path: Path, kjv_lines):
    parts = tmp_path / "parts"
    parts.mkdir()
    for i in range(5):
        (parts / f"p{i}.txt").write_text("\n".join(kjv_lines[i::5][:2000]) + "\n")
    opts = {"n": 3, "tokenizer": "whitespace", "pad": True}
    local = mf.count_ngrams(parts, progress="none", **opts)
    out = tmp_path / "out"
    for rank in range(3):
        count_rank([parts], rank=rank, world_size=3, out=out, **opts)
    merged = merge_ranks(out, world_size=3)
    assert merged.to_table().equals(local.to_table())
    assert merged.histogram().equals(local.histogram())
    assert merged.summary["n1"] == local.summary["n1"]


def test_missing_rank_is_reported(tmp_path: Path):
    (tmp_path / "a.txt").write_text("a b c\n")
    count_rank([tmp_path / "a.txt"], rank=0, world_size=2, out=tmp_path / "out", n=2)
    with pytest.raises(mf.InputError, match="ranks 1 have not finished"):
        merge_ranks(tmp_path / "out", world_size=2)
    # A rank without files saves empty counts and finishes.
    count_rank([tmp_path / "a.txt"], rank=1, world_size=2, out=tmp_path / "out", n=2)
    assert merge_ranks(tmp_path / "out", world_size=2).summary["samples"] == 2


def test_files_of_rank_validates():
    with pytest.raises(mf.ConfigError):
        files_of_rank(["a"], rank=2, world_size=2)
