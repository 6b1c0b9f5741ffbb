"""The ``monofact floor`` and ``monofact grade`` subcommands (wired into ``cli.py``).

``monofact floor COUNTS --min-wrong 364``: COUNTS is a Parquet histogram (columns r, n_r), a
JSON file ``{"r": n_r, ...}`` (or ``{"histogram": {...}, "summary": {...}}``), or a directory
saved by ``counts.save`` (its ``histogram.parquet`` and, if present, ``summary.json``, else the
``summary`` entry of ``manifest.json``). A summary with ``samples`` and ``singleton_rate`` wins
over the histogram (fact counts store their IDK-aware rate there).

``monofact grade RESULTS --targets 0.5,0.75,0.9``: RESULTS is a Parquet, CSV or JSONL file of
evaluation results (question_id, answer, correct, optional confidence).

Both print a human table by default and JSON with ``--format json``; bad input prints one line
to stderr and returns exit code 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from monofact.errors import ConfigError, InputError, MonofactError

__all__ = ["add_subcommands", "load_counts", "run_floor", "run_grade"]


class _FileCounts:
    """A histogram (and optional summary) read from files, shaped like a counts object."""

    def __init__(self, histogram: Any, summary: Mapping[str, Any] | None) -> None:
        self._histogram = histogram
        self.summary = dict(summary) if summary is not None else None

    def histogram(self) -> Any:
        return self._histogram


def _read_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None


def _usable_summary(s: Any) -> Mapping[str, Any] | None:
    if isinstance(s, Mapping) and "samples" in s and "singleton_rate" in s:
        return s
    return None


def load_counts(path: str) -> Any:
    """Read COUNTS for ``monofact floor``: Parquet, JSON, or a saved counts directory.

    >>> load_counts("/nonexistent/counts")
    Traceback (most recent call last):
    ...
    monofact.errors.InputError: /nonexistent/counts: no such file or directory
    """
    import pyarrow.parquet as pq

    if os.path.isdir(path):
        hist_path = os.path.join(path, "histogram.parquet")
        if not os.path.isfile(hist_path):
            raise InputError(f"{path}: directory has no histogram.parquet (not saved counts?)")
        summary = None
        sum_path = os.path.join(path, "summary.json")
        manifest_path = os.path.join(path, "manifest.json")
        if os.path.isfile(sum_path):
            summary = _usable_summary(_read_json(sum_path))
        elif os.path.isfile(manifest_path):  # a manifest may carry the summary instead
            manifest = _read_json(manifest_path)
            if isinstance(manifest, Mapping):
                summary = _usable_summary(manifest.get("summary"))
        try:
            table = pq.read_table(hist_path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"{hist_path}: cannot read Parquet ({exc})") from None
        return _FileCounts(table, summary)
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file or directory")
    if path.lower().endswith(".json"):
        data = _read_json(path)
        if not isinstance(data, dict):
            raise InputError(f"{path}: expected a JSON object {{r: n_r}}")
        if "histogram" in data:
            return _FileCounts(data["histogram"], _usable_summary(data.get("summary")))
        return _FileCounts(data, None)
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: cannot read as Parquet ({exc})") from None
    return _FileCounts(table, None)


def _targets(text: str) -> list[float]:
    out: list[float] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(float(part))
        except ValueError:
            raise ConfigError(f"--targets: {part!r} is not a number") from None
    if not out:
        raise ConfigError("--targets: give at least one target, e.g. 0.5,0.75,0.9")
    return out


def _json_default(o: Any) -> Any:
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if hasattr(o, "item"):
        return o.item()
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def _dump(d: Mapping[str, Any]) -> str:
    def clean(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, Mapping):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(d), indent=2, default=_json_default)


def _fail(cmd: str, exc: BaseException) -> int:
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    print(f"monofact {cmd}: error: {msg}", file=sys.stderr)
    return 2


def run_floor(args: argparse.Namespace) -> int:
    """Handler of ``monofact floor``; returns the exit code (0 ok, 2 bad input).

    >>> ns = argparse.Namespace(counts="/nonexistent.parquet", min_wrong=364.0, max_wrong=None,
    ...     calibration_gap=0.0, confidence=0.99, singleton_rate=None, samples=None,
    ...     extrapolate=None, format="table")
    >>> run_floor(ns)  # prints one line to stderr
    2
    """
    from monofact.floors import hallucination_floor

    try:
        counts = load_counts(args.counts)
        floor = hallucination_floor(
            counts,
            min_wrong=args.min_wrong,
            max_wrong=args.max_wrong,
            calibration_gap=args.calibration_gap,
            confidence=args.confidence,
            singleton_rate=args.singleton_rate,
            samples=args.samples,
        )
        ext = floor.extrapolate(args.extrapolate) if args.extrapolate is not None else None
    except (MonofactError, ValueError, OSError) as exc:
        return _fail("floor", exc)
    if args.format == "json":
        d = floor.to_dict()
        if ext is not None:
            d["extrapolated"] = ext.to_dict()
        print(_dump(d))
    else:
        print(floor)
        if ext is not None:
            print()
            print(ext)
    return 0


def run_grade(args: argparse.Namespace) -> int:
    """Handler of ``monofact grade``; returns the exit code (0 ok, 2 bad input).

    >>> run_grade(argparse.Namespace(results="/nonexistent.jsonl", targets="0.5", format="json"))
    2
    """
    from monofact.grading import grade

    try:
        targets = _targets(args.targets)
        grades = grade(args.results, thresholds=targets)
    except (MonofactError, ValueError, OSError) as exc:
        return _fail("grade", exc)
    if args.format == "json":
        print(_dump(grades.to_dict()))
    else:
        print(grades)
    return 0


def add_subcommands(subparsers: Any) -> None:
    """Register ``floor`` and ``grade`` on an argparse subparsers object.

    >>> parser = argparse.ArgumentParser(prog="monofact")
    >>> add_subcommands(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["floor", "counts.parquet", "--min-wrong", "364"])
    >>> args.func is run_floor, args.min_wrong, args.format
    (True, 364.0, 'table')
    """
    p = subparsers.add_parser(
        "floor",
        help="hallucination floor (KNVZ Theorem 2) of saved counts",
        description=(
            "Bounds on the hallucination rate of any base model trained on the counted corpus. "
            "COUNTS: a Parquet histogram (r, n_r), a JSON file {r: n_r}, or a directory saved "
            "by counts.save."
        ),
    )
    p.add_argument("counts", metavar="COUNTS", help="histogram .parquet, .json, or counts dir")
    p.add_argument(
        "--min-wrong",
        type=float,
        required=True,
        help="smallest number of plausible wrong answers per prompt (e.g. 364 for a birthday)",
    )
    p.add_argument(
        "--max-wrong", type=float, default=None, help="largest number (enables the upper bound)"
    )
    p.add_argument(
        "--calibration-gap", type=float, default=0.0, help="calibration gap delta (default 0)"
    )
    p.add_argument(
        "--confidence", type=float, default=0.99, help="confidence 1 - gamma (default 0.99)"
    )
    p.add_argument("--singleton-rate", type=float, default=None, help="override the singleton rate")
    p.add_argument("--samples", type=int, default=None, help="override the number of samples N")
    p.add_argument(
        "--extrapolate",
        type=float,
        default=None,
        metavar="K",
        help="also report the floor of a corpus K times larger",
    )
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=run_floor)

    g = subparsers.add_parser(
        "grade",
        help="grade evaluation results under confidence targets",
        description=(
            "Binary and confidence-target scores of evaluation results (question_id, answer, "
            "correct, optional confidence) from a .parquet, .csv or .jsonl file."
        ),
    )
    g.add_argument("results", metavar="RESULTS", help="results .parquet, .csv or .jsonl")
    g.add_argument(
        "--targets",
        default="0.5,0.75,0.9",
        help="comma-separated confidence targets in (0, 1) (default 0.5,0.75,0.9)",
    )
    g.add_argument("--format", choices=("table", "json"), default="table")
    g.set_defaults(func=run_grade)
