"""CLI flags of the scale path: spill directory, hash sampling, checkpoints, and ``merge``.

``add_scale_flags(parser)`` adds to ``monofact count``: ``--spill-dir``, ``--sample``,
``--sample-seed``, ``--checkpoint-dir`` and ``--save DIR`` (``--memory`` already exists);
``scale_kwargs(args)`` turns them into ``count_ngrams`` keyword arguments and
``save_if_asked(args, counts)`` writes ``--save``. ``add_merge_subcommand(subparsers)`` adds
``monofact merge DIR... --out DIR``, which merges saved counts of disjoint inputs.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from monofact.counts import Counts
from monofact.errors import ConfigError


def _rate(value: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a rate: {value!r}") from None
    if not 0 < rate <= 1:
        raise argparse.ArgumentTypeError(f"the rate must be in (0, 1], not {value}")
    return rate


def add_scale_flags(parser: argparse.ArgumentParser) -> None:
    """Add the scale flags to a ``count``-like parser."""
    g = parser.add_argument_group("scale")
    g.add_argument(
        "--spill-dir",
        default=None,
        help="where sorted runs go when --memory is exceeded (default: the system temp dir; "
        "a private subdirectory is made and removed afterwards)",
    )
    g.add_argument(
        "--sample",
        type=_rate,
        default=None,
        help="hash sampling: keep only this share of the distinct n-grams (e.g. 0.01); the "
        "summary then holds estimates and an interval for N1/N",
    )
    g.add_argument(
        "--sample-seed",
        type=int,
        default=None,
        help="with --sample: which random subset of n-grams to keep",
    )
    g.add_argument(
        "--checkpoint-dir",
        default=None,
        help="persist finished shards here; rerunning the same command resumes",
    )
    g.add_argument(
        "--save",
        default=None,
        metavar="DIR",
        help="save the counts as a Parquet dataset (readable by Counts.load and merge)",
    )


def scale_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """``count_ngrams`` keyword arguments from the scale flags."""
    if args.sample_seed is not None and args.sample is None:
        raise ConfigError("--sample-seed needs --sample")
    return {
        "spill_dir": args.spill_dir,
        "sample": args.sample,
        "sample_seed": args.sample_seed,
        "checkpoint_dir": args.checkpoint_dir,
    }


def save_if_asked(args: argparse.Namespace, counts: Counts) -> None:
    """Write ``--save DIR`` if given."""
    if getattr(args, "save", None):
        counts.save(args.save)
        if getattr(args, "format", "table") != "json":
            print(f"saved counts to {args.save}", file=sys.stderr)


def _cmd_merge(args: argparse.Namespace) -> int:
    from monofact.cli import _histogram_dict, _print_summary

    merged = Counts.merge([Counts.load(d) for d in args.dirs])
    merged.save(args.out)
    if args.format == "json":
        print(json.dumps({"summary": merged.summary, "histogram": _histogram_dict(merged)}))
    else:
        _print_summary(merged)
        print(f"\nwrote {args.out}")
    return 0


def add_merge_subcommand(subparsers: Any) -> None:
    """Add ``monofact merge DIR... --out DIR``."""
    p = subparsers.add_parser(
        "merge",
        help="merge saved counts of disjoint inputs",
        description="Merge counts saved with `monofact count --save` (or Counts.save) of "
        "disjoint inputs into the counts of their union; the histogram is recomputed from the "
        "merged keys. Counts made with different options are refused.",
    )
    p.add_argument("dirs", nargs="+", metavar="DIR", help="saved counts directories")
    p.add_argument("--out", required=True, metavar="DIR", help="where to save the merged counts")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=_cmd_merge)
