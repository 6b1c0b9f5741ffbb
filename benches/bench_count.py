"""Exact trigram count-of-counts: monofact side by side with DuckDB, polars, Counter and wc -w.

    python benches/bench_count.py [--mb 60] [--skip counter] [--json out.json]

Every tool counts the whitespace-token trigrams of each line of the same deterministic corpus
(benches/corpus.py) and produces the count-of-counts; the script checks that all agree on N,
distinct trigrams and N1, then prints times, tokens per second, the ratios to monofact and the
peak memory per distinct trigram. Each tool runs in a fresh subprocess so its peak RSS is its
own; memory is (peak RSS - RSS after imports) / distinct trigrams, vocabulary included. Every
tool runs --repeat times in interleaved rounds and keeps its best run.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run_monofact(path: str, threads: int) -> dict[str, int]:
    import monofact as mf

    c = mf.count_ngrams(path, n=3, tokenizer="whitespace", threads=threads, progress="none")
    s = c.summary
    return {
        "samples": s["samples"],
        "distinct": s["distinct"],
        "n1": s["n1"],
        "tokens": s["tokens"],
    }


def run_duckdb(path: str, threads: int) -> dict[str, int]:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads={threads}")
    con.execute("SET preserve_insertion_order=false")
    q = f"""
    WITH lines AS (
        SELECT row_number() OVER () AS doc, line
        FROM read_csv('{path}', columns={{'line': 'VARCHAR'}}, header=false, delim=E'\\x01',
                      quote='', escape='', auto_detect=false)
    ),
    toks AS (
        SELECT doc, unnest(string_split(line, ' ')) AS w,
               generate_subscripts(string_split(line, ' '), 1) AS pos
        FROM lines
    ),
    grams AS (
        SELECT lag(w, 2) OVER win AS a, lag(w, 1) OVER win AS b, w AS c
        FROM toks WHERE w <> ''
        WINDOW win AS (PARTITION BY doc ORDER BY pos)
    ),
    counts AS (SELECT count(*) AS r FROM grams WHERE a IS NOT NULL GROUP BY a, b, c)
    SELECT r, count(*) AS n_r FROM counts GROUP BY r
    """
    hist = dict(con.execute(q).fetchall())
    return _from_hist(hist)


def run_polars(path: str, threads: int) -> dict[str, int]:
    import polars as pl

    df = pl.read_csv(
        path,
        has_header=False,
        separator="\x01",
        quote_char=None,
        new_columns=["line"],
        schema_overrides={"line": pl.String},
    )
    grams = (
        df.with_row_index("doc")
        .with_columns(pl.col("line").str.split(" "))
        .explode("line")
        .filter(pl.col("line") != "")
        .with_columns(
            pl.col("line").shift(2).over("doc").alias("a"),
            pl.col("line").shift(1).over("doc").alias("b"),
        )
        .drop_nulls(["a", "b"])
    )
    counts = grams.group_by(["a", "b", "line"]).agg(pl.len().alias("r"))
    hist = counts.group_by("r").agg(pl.len().alias("n_r"))
    return _from_hist(dict(zip(hist["r"].to_list(), hist["n_r"].to_list())))


def run_counter(path: str, threads: int) -> dict[str, int]:
    counts: Counter[tuple[str, str, str]] = Counter()
    with open(path, encoding="utf-8") as f:
        for line in f:
            w = line.split()
            counts.update(zip(w, w[1:], w[2:]))
    return _from_hist(Counter(counts.values()))


def _from_hist(hist: dict[int, int]) -> dict[str, int]:
    return {
        "samples": sum(r * n for r, n in hist.items()),
        "distinct": sum(hist.values()),
        "n1": hist.get(1, 0),
    }


TOOLS = {
    "monofact": run_monofact,
    "duckdb": run_duckdb,
    "polars": run_polars,
    "counter": run_counter,
}


def child(tool: str, path: str, threads: int) -> None:
    """Run one tool and print its figures as JSON (called in a subprocess)."""
    if tool == "monofact":
        import monofact  # noqa: F401
    elif tool in ("duckdb", "polars"):
        __import__(tool)
    base = rss_mb()
    t = time.perf_counter()
    out = TOOLS[tool](path, threads)
    out["seconds"] = time.perf_counter() - t
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["base_mb"] = base
    print(json.dumps(out))


def measure(tool: str, path: str, threads: int) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", tool, "--threads", str(threads), path],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def wc_w(path: str, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(["wc", "-w", path], check=True, capture_output=True)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("path", nargs="?")
    ap.add_argument("--mb", type=int, default=60, help="corpus size (default 60 MB)")
    ap.add_argument("--skip", action="append", default=[], help="tools to skip")
    ap.add_argument(
        "--repeat", type=int, default=3, help="runs per tool, interleaved (the best is kept)"
    )
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.child, a.path, a.threads)
        return 0
    from corpus import make_corpus

    path = a.path or str(make_corpus(a.mb))
    size = Path(path).stat().st_size
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(
        f"corpus {path}: {size / 1e6:.1f} MB; {platform.processor() or platform.machine()}, load {load}"
    )
    # Every tool runs --repeat times, in interleaved rounds so that all of them see the same
    # machine conditions, and each keeps its best run (the same statistic for every tool).
    plan = [("monofact (2 threads)", "monofact", 2), ("monofact (1 thread)", "monofact", 1)]
    plan += [
        (f"{tool} (2 threads)" if tool != "counter" else "collections.Counter", tool, 2)
        for tool in ("duckdb", "polars", "counter")
        if tool not in a.skip
    ]
    rows: dict[str, dict[str, float]] = {}
    for _ in range(a.repeat):
        for name, tool, threads in plan:
            r = measure(tool, path, threads)
            if name not in rows or r["seconds"] < rows[name]["seconds"]:
                rows[name] = r
    ref = rows["monofact (2 threads)"]
    tokens = ref["tokens"]
    for name, r in rows.items():
        for k in ("samples", "distinct", "n1"):
            if r[k] != ref[k]:
                raise SystemExit(f"MISMATCH: {name} {k}={r[k]} but monofact {k}={ref[k]}")
    wc = wc_w(path, max(a.repeat, 3))
    print(f"all tools agree: N={ref['samples']:,} distinct={ref['distinct']:,} N1={ref['n1']:,}\n")
    print(
        "| tool | seconds | Mtokens/s | monofact (2 threads) is faster by | peak MB | bytes per distinct trigram |"
    )
    print("|---|---|---|---|---|---|")
    for name, r in rows.items():
        mem = (r["peak_mb"] - r["base_mb"]) * 1024 * 1024 / ref["distinct"]
        print(
            f"| {name} | {r['seconds']:.2f} | {tokens / r['seconds'] / 1e6:.1f} | "
            f"{r['seconds'] / ref['seconds']:.1f}x | {r['peak_mb']:.0f} | {mem:.0f} |"
        )
    one = rows["monofact (1 thread)"]["seconds"]
    print(f"| wc -w (1 thread, splitting only) | {wc:.2f} | {tokens / wc / 1e6:.1f} | | | |")
    baselines = [v["seconds"] for k, v in rows.items() if not k.startswith("monofact")]
    print()
    if baselines:
        print(f"monofact vs best baseline: {min(baselines) / ref['seconds']:.1f}x faster")
    print(
        f"monofact 2 threads: {tokens / ref['seconds'] / 1e6:.1f} Mtokens/s; 2 vs 1 thread: {one / ref['seconds']:.2f}x"
    )
    print(f"monofact 1 thread vs wc -w: {one / wc:.2f}x the time of wc -w")
    if a.json:
        Path(a.json).write_text(
            json.dumps(
                {"corpus_bytes": size, "load": load, "rows": rows, "wc_seconds": wc}, indent=2
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
