"""The ``monofact`` command line: thin over the Python API.

Exit codes: 0 success, 1 failure, 2 usage error or bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from monofact import __version__
from monofact._cli_scale import add_merge_subcommand, add_scale_flags, save_if_asked, scale_kwargs
from monofact.counts import Counts, count_ngrams
from monofact.errors import ConfigError, InputError, MonofactError, ResourceError

Handler = Callable[[argparse.Namespace], int]


def sample_corpus() -> Path:
    """Path of the bundled sample corpus (KJV, zstd-compressed, a verse per line)."""
    return Path(str(resources.files("monofact") / "data" / "kjv.txt.zst"))


def _add_reader_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("reading")
    g.add_argument(
        "--text-field", default="text", help="JSONL field (dotted path) or Parquet column"
    )
    g.add_argument(
        "--input-format", choices=["text", "jsonl", "parquet"], help="override the extension"
    )
    g.add_argument("--compression", choices=["none", "gzip", "zstd"], help="override the extension")
    g.add_argument(
        "--doc-per", choices=["line", "file"], default="line", help="text files: document unit"
    )
    g.add_argument(
        "--on-invalid", choices=["replace", "error"], default="replace", help="invalid UTF-8"
    )
    g.add_argument(
        "--on-bad-record",
        choices=["error", "skip"],
        default="error",
        help="malformed JSON, missing field, over-long document",
    )


def _add_run_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("running")
    g.add_argument("--threads", type=int, default=None, help="worker threads (default: all cores)")
    g.add_argument("--memory", default=None, help="memory budget for counting tables, e.g. 4GB")
    g.add_argument(
        "--progress",
        choices=["auto", "bar", "json", "none"],
        default="auto",
        help="progress on stderr (default: a bar on a terminal, JSON lines otherwise)",
    )
    g.add_argument(
        "--format", choices=["table", "json"], default="table", help="how to print results"
    )


def _reader_kwargs(a: argparse.Namespace) -> dict[str, Any]:
    return {
        "text_field": a.text_field,
        "format": a.input_format,
        "compression": a.compression,
        "doc_per": a.doc_per,
        "on_invalid": a.on_invalid,
        "on_bad_record": a.on_bad_record,
    }


def _histogram_dict(counts: Counts) -> dict[str, int]:
    h = counts.histogram()
    return {str(r): int(n) for r, n in zip(h.column("r").to_pylist(), h.column("n_r").to_pylist())}


def _print_summary(counts: Counts, out: Any = None) -> None:
    out = out or sys.stdout
    s = counts.summary
    rows = [
        ("documents", f"{s['documents']:,}"),
        ("tokens", f"{s['tokens']:,}"),
        (f"{s['n']}-gram samples N", f"{s['samples']:,}"),
        ("distinct", f"{s['distinct']:,}"),
        ("N1 (seen once)", f"{s['n1']:,}"),
        ("N2 (seen twice)", f"{s['n2']:,}"),
        ("singleton rate N1/N", f"{s['singleton_rate']:.6f}"),
        ("largest count", f"{s['max_count']:,}"),
        ("bytes read", f"{s['bytes']:,}"),
        ("invalid bytes", f"{s['invalid_bytes']:,}"),
        ("skipped documents", f"{s['skipped_documents']:,}"),
        ("seconds", f"{s['seconds']:.2f}"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v:>14}", file=out)
    h = counts.histogram()
    print("\ncount-of-counts (first 10 rows):", file=out)
    print(f"{'r':>8}  {'n_r':>12}", file=out)
    for r, n in list(zip(h.column("r").to_pylist(), h.column("n_r").to_pylist()))[:10]:
        print(f"{r:>8}  {n:>12,}", file=out)


def _write_out(counts: Counts, out: str, top: int | None) -> None:
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        reader = counts.to_arrow(top_k=top)
        with pq.ParquetWriter(path, reader.schema) as w:
            for batch in reader:
                w.write_batch(batch)
    elif suffix == ".csv":
        import pyarrow.csv as pcsv

        pcsv.write_csv(counts.to_table(top_k=top), path)
    elif suffix == ".json":
        path.write_text(
            json.dumps({"summary": counts.summary, "histogram": _histogram_dict(counts)}, indent=2)
        )
    else:
        raise ConfigError(f"--out {out}: use a .parquet or .csv file (n-grams) or .json (summary)")


def _cmd_count(a: argparse.Namespace) -> int:
    counts = count_ngrams(
        a.paths,
        n=a.n,
        tokenizer=a.tokenizer,
        lowercase=a.lowercase,
        pad=a.pad,
        memory=a.memory,
        threads=a.threads,
        progress=a.progress,
        **_reader_kwargs(a),
        **scale_kwargs(a),
    )
    save_if_asked(a, counts)
    if a.out:
        _write_out(counts, a.out, a.top)
    if a.format == "json":
        print(json.dumps({"summary": counts.summary, "histogram": _histogram_dict(counts)}))
    else:
        _print_summary(counts)
        if a.out:
            print(f"\nwrote {a.out}")
    return 0


def _cmd_lm_fit(a: argparse.Namespace) -> int:
    from monofact.lm import NGramModel

    prune = [int(x) for x in a.prune.split(",")] if a.prune else None
    lm = NGramModel.fit(
        a.paths,
        order=a.order,
        tokenizer=a.tokenizer,
        lowercase=a.lowercase,
        discount_fallback=a.discount_fallback,
        prune=prune,
        threads=a.threads,
        memory=a.memory,
        progress=a.progress,
        **_reader_kwargs(a),
    )
    lm.save_arpa(a.out)
    info = {
        "order": lm.order,
        "ngrams": lm.ngram_counts(),
        "discounts": lm.discounts(),
        "arpa": a.out,
    }
    if a.format == "json":
        print(json.dumps(info))
    else:
        print(
            f"order {lm.order} model: "
            + ", ".join(f"{k + 1}-grams {c:,}" for k, c in enumerate(info["ngrams"]))
        )
        for k, (d1, d2, d3) in enumerate(lm.discounts()):
            print(f"  order {k + 1} discounts D1={d1:.6g} D2={d2:.6g} D3+={d3:.6g}")
        print(f"wrote {a.out}")
    return 0


def _cmd_lm_score(a: argparse.Namespace) -> int:
    from monofact.lm import NGramModel

    lm = NGramModel.load_arpa(a.model)
    if a.text == "-":
        lines = sys.stdin.read().splitlines()
    else:
        lines = Path(a.text).read_text(encoding="utf-8").splitlines()
    scores = lm.log10_prob(lines)
    ppl = lm.perplexity(lines) if lines else float("nan")
    if a.format == "json":
        print(json.dumps({"log10_probs": scores, "perplexity": ppl, "sentences": len(lines)}))
    else:
        for line, sc in zip(lines, scores):
            print(f"{sc:.7g}\t{line}")
        print(f"perplexity {ppl:.4f} over {len(lines):,} sentences", file=sys.stderr)
    return 0


FATHER_PATTERN = r"\b(?P<subject>[A-Z][a-z]+) the son of (?P<object>[A-Z][a-z]+)\b"


def _cmd_demo(a: argparse.Namespace) -> int:
    from monofact.facts import count_facts
    from monofact.floors import hallucination_floor
    from monofact.report import report

    corpus = sample_corpus()
    counts = count_ngrams(str(corpus), n=3, tokenizer="words", lowercase=True, progress=a.progress)
    facts = count_facts(str(corpus), patterns={"father": FATHER_PATTERN}, progress=a.progress)
    floor = hallucination_floor(facts, min_wrong=364)
    paths = report(
        counts, facts, out=a.out, min_wrong=364, title="monofact demo: the King James Bible"
    )
    s, f, fl = counts.summary, facts.summary, floor.to_dict()
    if a.format == "json":
        print(
            json.dumps(
                {
                    "corpus": str(corpus),
                    "trigrams": s,
                    "facts": f,
                    "floor": fl,
                    "report": str(paths.html),
                }
            )
        )
        return 0
    print(f"monofact {__version__} demo: the King James Bible, bundled ({corpus.name})")
    print(
        f"  corpus            {s['documents']:,} verses, {s['tokens']:,} tokens, {s['bytes']:,} bytes"
    )
    print(
        f"  trigrams          N = {s['samples']:,}, {s['distinct']:,} distinct, "
        f"N1 = {s['n1']:,}: singleton rate {s['singleton_rate']:.4f}"
    )
    print(
        f"  facts 'X the son of Y'   {f['samples']:,} mentions of {f['distinct']:,} facts, "
        f"{f['n1']:,} seen once ({f['fact_singleton_rate']:.4f});"
    )
    print(
        f"                    {f['prompts']:,} prompts (who is X's father?), {f['singleton_prompts']:,} "
        f"answered once: fact singleton rate sr = {f['singleton_rate']:.4f}"
    )
    print("\npredicted hallucination floor of a calibrated model trained on this corpus,")
    print("asked for fathers (min_wrong = 364 plausible wrong answers, KNVZ Theorem 2):")
    print(
        f"  asymptotic floor  sr - 2/364 = {fl['asymptotic']:.4f}   (what the bound tends to as N grows)"
    )
    verdict = "vacuous" if fl["vacuous"] else "holds"
    print(
        f"  guaranteed bound  {fl['lower']:.4f} at 99% confidence ({verdict}: with N = {f['samples']:,} "
        f"samples the finite-sample slack {fl['slack']:.3f} swamps the rate;"
    )
    if fl.get("samples_for_nonvacuous"):
        print(
            f"                    it turns positive from about N = {fl['samples_for_nonvacuous']:,.0f} samples)"
        )
    print(
        f"\nIn words: a calibrated model that learned fathers only from this corpus would get at least "
        f"about\n{fl['asymptotic']:.0%} of such questions wrong, because that share of the answers is "
        "stated only once.\nProving it with 99% confidence needs a much larger corpus; the asymptotic "
        "figure is where\nthe guaranteed bound converges."
    )
    print(f"\nreport: {paths.html}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monofact",
        description="Count what a corpus says once: exact n-gram and fact counts, singleton "
        "rates and predicted hallucination floors.",
        epilog="examples:\n  monofact demo\n  monofact count corpus/*.jsonl.zst --n 3 --out counts.parquet",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"monofact {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "count",
        help="count n-grams exactly",
        description="Count the n-grams of a corpus exactly and print the summary and count-of-counts.",
        epilog="examples:\n  monofact count kjv.txt --n 3\n"
        "  monofact count 'data/**/*.jsonl.gz' --text-field meta.text --out trigrams.parquet\n"
        "  monofact count corpus.txt --tokenizer whitespace --pad --format json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", help="files, directories or globs")
    p.add_argument("--n", type=int, default=3, help="n-gram order, 1..8 (default 3)")
    p.add_argument("--tokenizer", choices=["words", "whitespace"], default="words")
    p.add_argument("--lowercase", action="store_true", help="lowercase tokens (words tokenizer)")
    p.add_argument("--pad", action="store_true", help="KenLM sentence padding <s> ... </s>")
    p.add_argument("--out", help="write n-grams (.parquet, .csv) or summary (.json)")
    p.add_argument("--top", type=int, default=None, help="with --out: only the TOP most frequent")
    _add_reader_flags(p)
    _add_run_flags(p)
    add_scale_flags(p)
    p.set_defaults(func=_cmd_count)

    p = sub.add_parser(
        "demo",
        help="run the pipeline on the bundled sample corpus",
        description="Count the bundled King James Bible, its 'X the son of Y' facts, predict the "
        "hallucination floor and write an HTML report.",
    )
    p.add_argument("--progress", choices=["auto", "bar", "json", "none"], default="auto")
    p.add_argument("--out", default="monofact-demo-report", help="report directory")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=_cmd_demo)
    add_merge_subcommand(sub)

    p = sub.add_parser(
        "lm",
        help="fit and score n-gram language models (modified Kneser-Ney, as KenLM)",
        description="n-gram language models with KenLM's modified Kneser-Ney smoothing.",
    )
    lm_sub = p.add_subparsers(dest="lm_command", metavar="ACTION", required=True)
    q = lm_sub.add_parser(
        "fit",
        help="fit a model and write it as ARPA",
        epilog="example:\n  monofact lm fit corpus.txt --order 3 --out corpus.arpa",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    q.add_argument("paths", nargs="+", help="files, directories or globs (a sentence per line)")
    q.add_argument("--order", type=int, default=3, help="model order 1..6 (default 3)")
    q.add_argument("--out", required=True, help="ARPA file to write")
    q.add_argument("--tokenizer", choices=["whitespace", "words"], default="whitespace")
    q.add_argument("--lowercase", action="store_true")
    q.add_argument("--discount-fallback", action="store_true", help="lmplz's fallback discounts")
    q.add_argument("--prune", help="per-order count thresholds, e.g. 0,1,1")
    _add_reader_flags(q)
    _add_run_flags(q)
    q.set_defaults(func=_cmd_lm_fit)
    q = lm_sub.add_parser(
        "score",
        help="log10 probability of each line, and the perplexity",
        epilog="example:\n  monofact lm score corpus.arpa heldout.txt",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    q.add_argument("model", help="ARPA file")
    q.add_argument("text", help="text file, a sentence per line ('-' for standard input)")
    q.add_argument("--format", choices=["table", "json"], default="table")
    q.set_defaults(func=_cmd_lm_score)

    try:
        from monofact import _cli_analysis

        _cli_analysis.add_subcommands(sub)
    except ImportError:
        pass
    try:
        from monofact._cli_facts import add_facts_subcommand

        add_facts_subcommand(sub)
    except ImportError:
        pass
    from monofact.report.cli import add_report_subcommand

    add_report_subcommand(sub)
    from monofact.experiments.cli import add_experiment_subcommand

    add_experiment_subcommand(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code: int = args.func(args)
        return code
    except (InputError, ConfigError) as e:
        print(f"monofact {args.command}: error: {e}", file=sys.stderr)
        return 2
    except (ResourceError, MonofactError) as e:
        print(f"monofact {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"monofact {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
