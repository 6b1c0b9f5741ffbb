"""The ``monofact facts`` subcommand (wired into ``cli.py`` with ``add_facts_subcommand``).

``monofact facts PATHS... --pattern RELATION=REGEX ...`` counts regex templates,
``--knowledge-base FILE [--window sentence]`` counts knowledge-base co-occurrences, and
``--records FILE`` counts already-extracted (subject, relation, object) rows (no PATHS then).
It prints the summary, the singleton rates per relation and the most frequent facts, or one JSON
object with ``--format json``; ``--out`` writes every fact (``.parquet``, ``.csv``) or the
summary (``.json``).

Exit codes: 0 success, 1 failure, 2 usage error or bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from monofact.errors import ConfigError, InputError, MonofactError
from monofact.facts import FactCounts, count_facts

__all__ = ["add_facts_subcommand", "parse_pattern", "run_facts"]

EPILOG = """examples:
  monofact facts kjv.txt --pattern 'father=\\b(?P<subject>[A-Z][a-z]+) the son of (?P<object>[A-Z][a-z]+)\\b'
  monofact facts 'web/*.jsonl.zst' --knowledge-base kb.parquet --window sentence --out facts.parquet
  monofact facts --records answers.jsonl --format json

A knowledge base is a .parquet, .csv or .jsonl file with columns subject, relation, object
(optional subject_aliases, object_aliases: lists of other names). Records have the same three
columns; an empty object, null, IDK or "I don't know" is an abstention."""


def parse_pattern(text: str) -> tuple[str, str]:
    """Split ``RELATION=REGEX`` at the first ``=``.

    >>> parse_pattern("father=(?P<subject>\\\\w+) son of (?P<object>\\\\w+)")
    ('father', '(?P<subject>\\\\w+) son of (?P<object>\\\\w+)')
    >>> parse_pattern("(?P<subject>a)(?=b)(?P<object>b)")
    Traceback (most recent call last):
    ...
    monofact.errors.ConfigError: --pattern '(?P<subject>a)(?=b)(?P<object>b)': write it as RELATION=REGEX, e.g. born=(?P<subject>...) was born in (?P<object>...)
    """
    relation, sep, regex = text.partition("=")
    relation = relation.strip()
    if not sep or not relation or not regex or any(c in relation for c in "()[]\\?*+|"):
        raise ConfigError(
            f"--pattern {text!r}: write it as RELATION=REGEX, "
            "e.g. born=(?P<subject>...) was born in (?P<object>...)"
        )
    return relation, regex


def _reader_kwargs(a: argparse.Namespace) -> dict[str, Any]:
    from monofact.cli import _reader_kwargs as reader_kwargs

    return reader_kwargs(a)


def _count(a: argparse.Namespace) -> FactCounts:
    modes = [a.pattern is not None, a.knowledge_base is not None, a.records is not None]
    if sum(modes) != 1:
        raise ConfigError(
            "give --pattern RELATION=REGEX (repeatable), --knowledge-base FILE or --records FILE"
        )
    if a.window is not None and a.knowledge_base is None:
        raise ConfigError("--window applies to --knowledge-base only")
    if a.case_insensitive and a.knowledge_base is None:
        raise ConfigError(
            "--case-insensitive applies to --knowledge-base only (use --lowercase with --pattern)"
        )
    if (a.lowercase or a.normalize_whitespace) and a.pattern is None:
        raise ConfigError("--lowercase and --normalize-whitespace apply to --pattern captures only")
    if a.records is not None:
        if a.paths:
            raise ConfigError("--records FILE is counted as it is: give no corpus PATHS with it")
        return count_facts(records=a.records, count_by=a.count_by)
    if not a.paths:
        raise ConfigError("give the corpus: one or more files, directories or globs")
    common: dict[str, Any] = {
        "count_by": a.count_by,
        "threads": a.threads,
        "progress": a.progress,
        **_reader_kwargs(a),
    }
    if a.pattern is not None:
        patterns: dict[str, str] = {}
        for text in a.pattern:
            relation, regex = parse_pattern(text)
            if relation in patterns:
                raise ConfigError(f"--pattern: relation {relation!r} is given twice")
            patterns[relation] = regex
        return count_facts(
            a.paths,
            patterns=patterns,
            lowercase=a.lowercase,
            normalize_whitespace=a.normalize_whitespace,
            **common,
        )
    return count_facts(
        a.paths,
        knowledge_base=a.knowledge_base,
        window=a.window or "sentence",
        case_insensitive=a.case_insensitive,
        **common,
    )


def _histogram(f: FactCounts) -> dict[str, int]:
    h = f.histogram()
    return {str(r): int(n) for r, n in zip(h.column("r").to_pylist(), h.column("n_r").to_pylist())}


def _top(f: FactCounts, top: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = f.table().slice(0, max(top, 0)).to_pylist()
    column = "documents" if f.summary["count_by"] == "document" else "mentions"
    return [r for r in rows if r[column] > 0]


def _result(f: FactCounts, top: int) -> dict[str, Any]:
    return {
        "summary": f.summary,
        "histogram": _histogram(f),
        "relations": f.singleton_rates().to_pylist(),
        "top": _top(f, top),
    }


def _write_out(f: FactCounts, out: str) -> None:
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(f.table(), path)
    elif suffix == ".csv":
        import pyarrow.csv as pcsv

        pcsv.write_csv(f.table(), path)
    elif suffix == ".json":
        result = _result(f, 0)
        del result["top"]
        path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    else:
        raise ConfigError(f"--out {out}: use .parquet or .csv (every fact) or .json (summary)")


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def _print_table(f: FactCounts, top: int, out: TextIO) -> None:
    s = f.summary
    by_doc = s["count_by"] == "document"
    rows = [
        ("documents", f"{s['documents']:,}"),
        ("samples N" + (" (fact-documents)" if by_doc else " (mentions)"), f"{s['samples']:,}"),
        ("IDK samples", f"{s['idk_samples']:,}"),
        ("distinct facts", f"{s['distinct']:,}"),
        ("N1 (facts seen once)", f"{s['n1']:,}"),
        ("N2 (facts seen twice)", f"{s['n2']:,}"),
        ("fact singleton rate N1/N", f"{s['fact_singleton_rate']:.6f}"),
        ("prompts (subject, relation)", f"{s['prompts']:,}"),
        ("singleton prompts", f"{s['singleton_prompts']:,}"),
        ("singleton rate (prompts)", f"{s['singleton_rate']:.6f}"),
        ("prompts with several objects", f"{s['conflicting_prompts']:,}"),
    ]
    if s.get("unmentioned_kb_facts"):
        rows.append(("KB facts never mentioned", f"{s['unmentioned_kb_facts']:,}"))
    rows += [
        ("bytes read", f"{s['bytes']:,}"),
        ("invalid bytes", f"{s['invalid_bytes']:,}"),
        ("skipped documents", f"{s['skipped_documents']:,}"),
        ("seconds", f"{s['seconds']:.2f}"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v:>14}", file=out)

    relations = f.singleton_rates().to_pylist()
    if len(relations) > 1:
        print("\nsingleton rate by relation:", file=out)
        rw = max(8, *(len(_clip(r["group"], 40)) for r in relations))
        print(f"{'relation':<{rw}}  {'samples':>12}  {'singletons':>10}  {'rate':>8}", file=out)
        for r in relations:
            print(
                f"{_clip(r['group'], 40):<{rw}}  {r['samples']:>12,}  {r['singletons']:>10,}  "
                f"{r['singleton_rate']:>8.4f}",
                file=out,
            )

    facts = _top(f, top)
    if not facts:
        print("\nno fact mentioned", file=out)
        return
    count_name = "documents" if by_doc else "mentions"
    print(f"\ntop {len(facts)} facts (by {count_name}):", file=out)
    cols = ["subject", "relation", "object"]
    widths = {c: max(len(c), *(len(_clip(str(r[c]), 30)) for r in facts)) for c in cols}
    header = f"{'mentions':>10}  {'documents':>10}  " + "  ".join(f"{c:<{widths[c]}}" for c in cols)
    print(header.rstrip(), file=out)
    for r in facts:
        line = f"{r['mentions']:>10,}  {r['documents']:>10,}  " + "  ".join(
            f"{_clip(str(r[c]), 30):<{widths[c]}}" for c in cols
        )
        print(line.rstrip(), file=out)


def run_facts(a: argparse.Namespace) -> int:
    """Run ``monofact facts``; returns the exit code."""
    try:
        f = _count(a)
        if a.out:
            _write_out(f, a.out)
        if a.format == "json":
            print(json.dumps(_result(f, a.top)))
        else:
            _print_table(f, a.top, sys.stdout)
            if a.out:
                print(f"\nwrote {a.out}")
        return 0
    except (InputError, ConfigError) as e:
        print(f"monofact facts: error: {e}", file=sys.stderr)
        return 2
    except ValueError as e:
        # pyarrow's ArrowInvalid (a ValueError): a knowledge-base or records file that does not
        # parse. Anything else is a bug, shown as a traceback.
        if type(e).__module__.startswith("pyarrow"):
            which = a.knowledge_base or a.records
            print(f"monofact facts: error: {which}: cannot read: {e}", file=sys.stderr)
            return 2
        raise
    except OSError as e:
        print(f"monofact facts: error: {e}", file=sys.stderr)
        return 1
    except MonofactError as e:
        print(f"monofact facts: error: {e}", file=sys.stderr)
        return 1


def add_facts_subcommand(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``monofact facts`` on an ``add_subparsers()`` object."""
    from monofact.cli import _add_reader_flags

    p: argparse.ArgumentParser = subparsers.add_parser(
        "facts",
        help="count fact mentions and their singleton rates",
        description="Find every mention of a fact in a corpus, count them and print the fact\n"
        "singleton rates (MATH.md section 2: the prompt is (subject, relation)).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="*", metavar="PATHS", help="files, directories or globs")
    what = p.add_argument_group("what a fact is (exactly one)")
    what.add_argument(
        "--pattern",
        action="append",
        metavar="RELATION=REGEX",
        help="a regex with named groups subject and object; repeat for more relations",
    )
    what.add_argument(
        "--knowledge-base",
        metavar="FILE",
        help="subject, relation, object rows (.parquet, .csv, .jsonl)",
    )
    what.add_argument(
        "--records", metavar="FILE", help="already-extracted rows to count as they are"
    )
    how = p.add_argument_group("matching and counting")
    how.add_argument(
        "--window",
        metavar="WINDOW",
        default=None,
        help="knowledge base: sentence (default), line, paragraph, document or tokens:K",
    )
    how.add_argument("--count-by", choices=["mention", "document"], default="mention")
    how.add_argument("--lowercase", action="store_true", help="lowercase template captures")
    how.add_argument(
        "--normalize-whitespace",
        action="store_true",
        help="collapse whitespace in template captures",
    )
    how.add_argument(
        "--case-insensitive",
        action="store_true",
        help="knowledge base: match names regardless of case",
    )
    res = p.add_argument_group("output")
    res.add_argument("--out", help="write every fact (.parquet, .csv) or the summary (.json)")
    res.add_argument(
        "--top", type=int, default=20, help="how many of the most frequent facts to print"
    )
    res.add_argument(
        "--format", choices=["table", "json"], default="table", help="how to print results"
    )
    _add_reader_flags(p)
    run = p.add_argument_group("running")
    run.add_argument(
        "--threads", type=int, default=None, help="worker threads (default: all cores)"
    )
    run.add_argument(
        "--progress",
        choices=["auto", "bar", "json", "none"],
        default="auto",
        help="progress on stderr (default: a bar on a terminal, JSON lines otherwise)",
    )
    p.set_defaults(func=run_facts)
    return p
