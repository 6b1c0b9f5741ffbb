"""``monofact experiment NAME``: run a shipped experiment, print its table, write its report.

Exit codes: 0 when every check passed, 1 when a measured error fell outside a non-vacuous bound
(printed loudly), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from monofact.experiments import EXPERIMENTS
from monofact.experiments.arbitrary_facts import Config, run

__all__ = ["add_experiment_subcommand", "run_experiment"]


def add_experiment_subcommand(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``experiment`` on an ``argparse`` subparsers object; returns its parser.

    >>> parser = argparse.ArgumentParser(prog="monofact")
    >>> _ = add_experiment_subcommand(parser.add_subparsers(dest="command"))
    >>> a = parser.parse_args(["experiment", "arbitrary-facts", "--seeds", "0", "1"])
    >>> a.name, a.seeds, a.func is run_experiment
    ('arbitrary-facts', [0, 1], True)
    """
    d = Config()
    p: argparse.ArgumentParser = subparsers.add_parser(
        "experiment",
        help="run a reproducible experiment that tests the theory (e.g. arbitrary-facts)",
        description="Build a world where the truth is known (KNVZ arbitrary facts), count it, "
        "train models on it, measure their hallucination rates and compare them with the "
        "predicted bounds. Writes an HTML report with a JSON sidecar.",
    )
    p.add_argument("name", choices=sorted(EXPERIMENTS), help="experiment")
    p.add_argument("--seeds", type=int, nargs="+", default=list(d.seeds), help="world seeds")
    p.add_argument(
        "--exponents",
        type=float,
        nargs="+",
        default=list(d.exponents),
        help="mention-frequency exponents (Zipf s; 0 = uniform, or Pareto shapes)",
    )
    p.add_argument("--law", choices=["zipf", "pareto"], default=d.law)
    p.add_argument("--subjects", type=int, default=d.subjects, help="K subjects")
    p.add_argument("--samples", type=int, default=d.samples, help="N training samples")
    p.add_argument("--alpha", type=float, default=d.alpha, help="answer probability")
    p.add_argument("--ngram-queries", type=int, default=d.ngram_queries)
    p.add_argument(
        "--ngram-seeds",
        type=int,
        default=d.ngram_seeds,
        help="how many seeds also train n-gram models (default 1)",
    )
    p.add_argument("--no-ngram", action="store_true", help="skip the n-gram models")
    p.add_argument("--quick", action="store_true", help="a small world (seconds)")
    p.add_argument("--out", default="monofact-experiment", help="report directory")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=run_experiment)
    return p


def run_experiment(a: argparse.Namespace) -> int:
    """Handler of ``monofact experiment``."""
    from monofact.experiments.report import (
        format_extras,
        format_growth,
        format_table,
        jsonable,
        summary_rows,
        write_report,
    )

    if a.quick:
        cfg = Config.quick()
    else:
        cfg = Config(
            subjects=a.subjects,
            samples=a.samples,
            alpha=a.alpha,
            law=a.law,
            exponents=tuple(a.exponents),
            seeds=tuple(a.seeds),
            ngram_queries=a.ngram_queries,
            ngram_seeds=a.ngram_seeds,
        )
    if a.no_ngram:
        cfg = dataclasses.replace(cfg, ngram=False)

    def progress(msg: str) -> None:
        if not a.quiet:
            print(msg, file=sys.stderr, flush=True)

    result = run(cfg, progress=progress)
    paths = write_report(result, a.out)
    if a.format == "json":
        print(json.dumps(jsonable(result.to_dict()), indent=1))
    else:
        print(format_table(summary_rows(result)))
        print()
        print(format_growth(result))
        print()
        print(format_extras(result))
        for n in result.notes:
            print(f"note: {n}")
        print(
            f"{len(result.checks)} checks, {len(result.violations)} failed; "
            f"{result.seconds:.1f} s; report: {paths['html']}"
        )
    for v in result.warnings:
        print(f"WARNING [{v['check']}] {v['where']}: {v['detail']}", file=sys.stderr)
    for v in result.violations:
        print(f"VIOLATION [{v['check']}] {v['where']}: {v['detail']}", file=sys.stderr)
    if result.violations:
        print(
            "!!! A MEASURED ERROR FELL OUTSIDE A NON-VACUOUS BOUND: see above !!!", file=sys.stderr
        )
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m monofact.experiments.cli arbitrary-facts``."""
    parser = argparse.ArgumentParser(prog="monofact")
    sub = parser.add_subparsers(dest="command")
    add_experiment_subcommand(sub)
    args = parser.parse_args(["experiment", *(argv if argv is not None else sys.argv[1:])])
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
