"""``monofact report PATHS...``: count a corpus and write the HTML report.

Wired into ``monofact.cli`` by ``add_report_subcommand(sub)``; ``main(argv)`` runs it alone
(``python -m monofact.report.cli PATHS...``). Exit codes: 0 success, 1 failure, 2 usage error
or bad input (including ``--facts-pattern`` when fact counting is not available).
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["add_report_subcommand", "main", "parse_patterns", "run_report"]

_EPILOG = """examples:
  monofact report corpus.txt --out report/
  monofact report 'data/*.jsonl.zst' --text-field text --n 2
  monofact report bios.txt --facts-pattern 'born=(?P<subject>[A-Z]\\w+) was born on (?P<object>\\d+ \\w+)'
"""


def parse_patterns(specs: Sequence[str] | None) -> dict[str, str]:
    """``RELATION=REGEX`` strings to a dict (the regex may itself contain ``=``).

    >>> parse_patterns(["born=(?P<subject>\\\\w+) b\\\\. (?P<object>\\\\d+)", "x=a=b"])
    {'born': '(?P<subject>\\\\w+) b\\\\. (?P<object>\\\\d+)', 'x': 'a=b'}
    >>> parse_patterns(["=oops"])
    Traceback (most recent call last):
    ...
    monofact.errors.ConfigError: --facts-pattern '=oops': expected RELATION=REGEX
    """
    from monofact.errors import ConfigError

    out: dict[str, str] = {}
    for spec in specs or []:
        rel, sep, regex = spec.partition("=")
        rel = rel.strip()
        if not sep or not rel or not regex:
            raise ConfigError(f"--facts-pattern {spec!r}: expected RELATION=REGEX")
        if rel in out:
            raise ConfigError(f"--facts-pattern: relation {rel!r} given twice")
        out[rel] = regex
    return out


def add_report_subcommand(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``report`` on an ``argparse`` subparsers object; returns its parser.

    >>> parser = argparse.ArgumentParser(prog="monofact")
    >>> _ = add_report_subcommand(parser.add_subparsers(dest="command"))
    >>> a = parser.parse_args(["report", "kjv.txt", "--min-wrong", "100"])
    >>> a.paths, a.min_wrong, a.out, a.func is run_report
    (['kjv.txt'], 100.0, 'report/', True)
    """
    p: argparse.ArgumentParser = subparsers.add_parser(
        "report",
        help="write an HTML report (figures, floor, tables) with JSON/Parquet sidecars",
        description="Count the n-grams (and, with --facts-pattern, the facts) of PATHS and "
        "write a self-contained HTML report with PNG/SVG figures and JSON/Parquet sidecars.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", help="files, directories or globs")
    p.add_argument("--n", type=int, default=3, help="n-gram order, 1..8 (default 3)")
    p.add_argument("--tokenizer", choices=["words", "whitespace"], default="words")
    p.add_argument("--lowercase", action="store_true", help="lowercase tokens")
    p.add_argument(
        "--facts-pattern",
        action="append",
        default=[],
        metavar="RELATION=REGEX",
        help="count facts of RELATION with REGEX (named groups subject and object); repeatable",
    )
    p.add_argument(
        "--min-wrong",
        type=float,
        default=364.0,
        help="plausible wrong answers per prompt, at least (default 364)",
    )
    p.add_argument("--max-wrong", type=float, default=None, help="at most (for the upper bound)")
    p.add_argument("--calibration-gap", type=float, default=0.0, help="delta (default 0)")
    p.add_argument("--confidence", type=float, default=0.99, help="1 - gamma (default 0.99)")
    p.add_argument("--title", default=None, help="report title")
    p.add_argument("--out", default="report/", help="report directory (default report/)")
    p.add_argument("--text-field", default="text", help="JSONL field or Parquet column")
    p.add_argument("--threads", type=int, default=None, help="worker threads (default: all)")
    p.add_argument("--memory", default=None, help="memory budget for counting, e.g. 4GB")
    p.add_argument(
        "--progress",
        choices=["auto", "bar", "json", "none"],
        default="auto",
        help="progress on stderr",
    )
    p.add_argument("--format", choices=["table", "json"], default="table", help="output")
    p.set_defaults(func=run_report)
    return p


def _count_facts(a: argparse.Namespace, patterns: dict[str, str]) -> Any:
    import monofact
    from monofact.errors import ConfigError

    count_facts = getattr(monofact, "count_facts", None)
    if not callable(count_facts):
        raise ConfigError(
            "--facts-pattern: fact counting is not available in this build of monofact "
            "(monofact.count_facts is missing); run without --facts-pattern"
        )
    kwargs: dict[str, Any] = {"patterns": patterns}
    try:
        params = inspect.signature(count_facts).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        params = {}  # type: ignore[assignment]
    accepts_any = any(v.kind is inspect.Parameter.VAR_KEYWORD for v in params.values())
    for name, value in (("progress", a.progress), ("threads", a.threads), ("memory", a.memory)):
        if name in params and value is not None:
            kwargs[name] = value
    if "text_field" in params or accepts_any:  # a reader option
        kwargs["text_field"] = a.text_field
    return count_facts(a.paths, **kwargs)


def run_report(a: argparse.Namespace) -> int:
    """Handler of ``monofact report``: count, write the report, print where it is.

    Returns 0 on success, 2 for bad input or usage (unreadable paths, bad patterns, fact
    counting unavailable), 1 for other failures.

    >>> parser = argparse.ArgumentParser(prog="monofact")
    >>> _ = add_report_subcommand(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["report", "corpus.txt", "--out", "rep/"])
    >>> run_report(args)  # doctest: +SKIP
    wrote .../rep/report.html
    0
    """
    from monofact.counts import count_ngrams
    from monofact.errors import ConfigError, InputError, MonofactError
    from monofact.report import report

    try:
        patterns = parse_patterns(a.facts_pattern)
        results: list[Any] = [
            count_ngrams(
                a.paths,
                n=a.n,
                tokenizer=a.tokenizer,
                lowercase=a.lowercase,
                memory=a.memory,
                threads=a.threads,
                progress=a.progress,
                text_field=a.text_field,
            )
        ]
        if patterns:
            results.append(_count_facts(a, patterns))
        paths = report(
            *results,
            out=a.out,
            min_wrong=a.min_wrong,
            max_wrong=a.max_wrong,
            calibration_gap=a.calibration_gap,
            confidence=a.confidence,
            title=a.title,
        )
    except (ConfigError, InputError) as e:
        print(f"monofact report: error: {e}", file=sys.stderr)
        return 2
    except ImportError as e:
        print(f"monofact report: error: {e}", file=sys.stderr)
        return 1
    except (MonofactError, OSError) as e:
        print(f"monofact report: error: {e}", file=sys.stderr)
        return 1
    if a.format == "json":
        print(
            json.dumps(
                {
                    "html": str(paths.html),
                    "dir": str(paths.dir),
                    "figures": [str(p) for p in paths.figures],
                    "sidecars": [str(p) for p in paths.sidecars],
                }
            )
        )
    else:
        print(f"wrote {paths.html}")
        print(f"  {len(paths.figures)} figure files (PNG and SVG) in {paths.dir / 'figures'}")
        print(f"  {len(paths.sidecars)} data sidecars: report.json and data/*.parquet")
        print(f"open it offline: file://{paths.html}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``report`` as a command of its own (for use before it is wired into the CLI).

    >>> main(["--help"])  # doctest: +SKIP
    """
    parser = argparse.ArgumentParser(prog="monofact")
    sub = parser.add_subparsers(dest="command")
    add_report_subcommand(sub)
    args = parser.parse_args(["report", *(sys.argv[1:] if argv is None else argv)])
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
