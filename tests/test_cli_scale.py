"""The scale CLI flags and ``monofact merge`` (wired here on a private parser)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

import monofact as mf
from monofact._cli_scale import add_merge_subcommand, add_scale_flags, save_if_asked, scale_kwargs


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    c = sub.add_parser("count")
    c.add_argument("paths", nargs="+")
    c.add_argument("--format", default="table")
    add_scale_flags(c)
    add_merge_subcommand(sub)
    return p


def test_flags_become_kwargs(tmp_path: Path) -> None:
    a = _parser().parse_args(
        [
            "count",
            "x.txt",
            "--sample",
            "0.1",
            "--sample-seed",
            "3",
            "--spill-dir",
            "s",
            "--checkpoint-dir",
            "c",
            "--save",
            str(tmp_path),
        ]
    )
    assert scale_kwargs(a) == {
        "spill_dir": "s",
        "sample": 0.1,
        "sample_seed": 3,
        "checkpoint_dir": "c",
    }
    with pytest.raises(SystemExit):
        _parser().parse_args(["count", "x.txt", "--sample", "2"])
    with pytest.raises(mf.ConfigError):
        scale_kwargs(_parser().parse_args(["count", "x.txt", "--sample-seed", "3"]))


def test_merge_subcommand(
    kjv_tok: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = kjv_tok.read_text(encoding="utf-8").splitlines(keepends=True)
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("".join(lines[:10000]), encoding="utf-8")
    b.write_text("".join(lines[10000:]), encoding="utf-8")
    for src, out in ((a, "ca"), (b, "cb")):
        args = _parser().parse_args(["count", str(src), "--save", str(tmp_path / out)])
        save_if_asked(args, mf.count_ngrams(str(src), n=2, progress="none", **scale_kwargs(args)))
    args = _parser().parse_args(
        [
            "merge",
            str(tmp_path / "ca"),
            str(tmp_path / "cb"),
            "--out",
            str(tmp_path / "m"),
            "--format",
            "json",
        ]
    )
    assert args.func(args) == 0
    printed = json.loads(capsys.readouterr().out)
    whole = mf.count_ngrams([str(a), str(b)], n=2, progress="none")
    assert printed["summary"]["n1"] == whole.summary["n1"]
    assert mf.Counts.load(tmp_path / "m").to_table().equals(whole.to_table())
