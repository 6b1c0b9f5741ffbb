"""The scale path: exact trigram counts under a memory budget, scaling, threads, sampling.

    python benches/bench_scale.py [--mb 1000] [--memory 256MB] [--base-mb 100] [--skip duckdb]
                                  [--json out.json]

Every measurement runs in a fresh subprocess; its peak RSS is the child's ``ru_maxrss`` (from
``os.wait4``), its time the child's own wall time of the counting call (imports excluded).
Measured:

1. exact trigrams of ``make_corpus(mb)`` with ``memory=`` the budget (spilling) vs the default
   in-memory run: peak RSS against budget + 150 MB, wall time against 2.5x the in-memory run;
   results must agree (N, distinct, N1);
2. DuckDB on the same corpus with ``SET memory_limit`` = the budget and a temp directory;
3. scaling: prefixes of 1x/2x/4x/8x ``base-mb`` MB (target: 8x within 9x the time of 1x);
4. 2 threads vs 1 thread (in-memory, base corpus);
5. ``sample=0.01`` vs exact: peak RSS and whether the exact N1/N lies in the interval.

The machine is shared: the script prints ``uptime`` load before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import CACHE, make_corpus

CHILD_MONOFACT = """
import json, sys, time
import monofact as mf
kw = json.loads(sys.argv[2])
t = time.perf_counter()
c = mf.count_ngrams(sys.argv[1], n=3, tokenizer="whitespace", progress="none", **kw)
s = c.summary
s["wall"] = time.perf_counter() - t
print(json.dumps(s))
"""

CHILD_DUCKDB = """
import json, sys, time
import duckdb
path, memory, tmp, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
con = duckdb.connect()
con.execute(f"SET threads={threads}")
con.execute(f"SET memory_limit='{memory}'")
con.execute(f"SET temp_directory='{tmp}'")
con.execute("SET preserve_insertion_order=false")
con.execute("SET enable_progress_bar=false")
t = time.perf_counter()
q = f'''
WITH lines AS (
    SELECT row_number() OVER () AS doc, line
    FROM read_csv('{path}', columns={{'line': 'VARCHAR'}}, header=false, delim=E'\\\\x01',
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
'''
hist = dict(con.execute(q).fetchall())
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "distinct": sum(hist.values()), "n1": hist.get(1, 0),
                  "samples": sum(r * n for r, n in hist.items())}))
"""


def _run(args: list[str], timeout: float) -> dict[str, Any]:
    """Run a child; its JSON output plus peak RSS (MB) and its exit status."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    deadline = time.monotonic() + timeout
    status = None
    rusage = None
    while time.monotonic() < deadline:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.05)
    else:
        proc.kill()
        _pid, status, rusage = os.wait4(proc.pid, 0)
        return {"error": f"timeout after {timeout:.0f} s", "peak_rss_mb": rusage.ru_maxrss / 1024}
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    peak = rusage.ru_maxrss / 1024 if rusage else float("nan")
    if status != 0:
        lines = err.strip().splitlines()
        first = next((x for x in lines if "Error" in x), lines[-1] if lines else f"status {status}")
        return {"error": first, "peak_rss_mb": peak, "failed_after": time.monotonic() - started}
    last = [x for x in out.splitlines() if x.startswith("{")][-1]
    result: dict[str, Any] = json.loads(last)
    result["peak_rss_mb"] = peak
    return result


def monofact(path: Path, timeout: float = 1800, **kw: Any) -> dict[str, Any]:
    return _run([sys.executable, "-c", CHILD_MONOFACT, str(path), json.dumps(kw)], timeout)


def duckdb(path: Path, memory: str, threads: int, timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="duckdb-tmp-") as tmp:
        return _run(
            [sys.executable, "-c", CHILD_DUCKDB, str(path), memory, tmp, str(threads)], timeout
        )


def prefix(path: Path, megabytes: int) -> Path:
    """The first ``megabytes`` MB of ``path`` (whole lines), cached."""
    out = CACHE / f"{path.stem}-prefix{megabytes}MB.txt"
    if out.exists():
        return out
    limit = megabytes * 1_000_000
    tmp = out.with_suffix(".tmp")
    with path.open("rb") as src, tmp.open("wb") as dst:
        written = 0
        for line in src:
            if written >= limit:
                break
            dst.write(line)
            written += len(line)
    tmp.rename(out)
    return out


def uptime() -> str:
    return subprocess.run(["uptime"], check=False, capture_output=True, text=True).stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=int, default=1000, help="size of the budget corpus (MB)")
    ap.add_argument("--memory", default="256MB")
    ap.add_argument("--base-mb", type=int, default=100, help="1x of the scaling series (MB)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--skip", action="append", default=[], help="budget, duckdb, scaling, threads, sample"
    )
    ap.add_argument("--duckdb-timeout", type=float, default=900)
    ap.add_argument("--duckdb-memory", default=None, help="DuckDB memory_limit (default --memory)")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    budget_mb = int(a.memory.upper().rstrip("MB")) if a.memory.upper().endswith("MB") else None
    report: dict[str, Any] = {"load_before": uptime(), "mb": a.mb, "memory": a.memory}
    print(report["load_before"], flush=True)
    big = make_corpus(a.mb)
    size_mb = big.stat().st_size / 1e6

    if "budget" not in a.skip:
        spill = monofact(big, memory=a.memory, threads=a.threads)
        mem = monofact(big, threads=a.threads)
        report["budget"] = {"spill": spill, "in_memory": mem}
        agree = all(spill.get(k) == mem.get(k) for k in ("samples", "distinct", "n1"))
        print(f"\n[budget] {size_mb:.0f} MB corpus, trigrams, {a.threads} threads")
        for name, r in (("memory=" + a.memory, spill), ("in-memory", mem)):
            print(
                f"  {name:<16} wall {r.get('wall', float('nan')):7.1f} s  peak RSS "
                f"{r['peak_rss_mb']:7.0f} MB  spills {r.get('spills', '-')}  "
                f"spilled {r.get('spill_bytes', 0) / 1e6:.0f} MB  {r.get('error', '')}"
            )
        if "wall" in spill and "wall" in mem:
            ratio = spill["wall"] / mem["wall"]
            print(f"  spill/in-memory time {ratio:.2f}x (target <= 2.5x); results agree: {agree}")
            if budget_mb:
                print(
                    f"  peak RSS {spill['peak_rss_mb']:.0f} MB vs budget + 150 = "
                    f"{budget_mb + 150} MB"
                )
            print(
                f"  N {spill['samples']:,}  distinct {spill['distinct']:,}  N1 {spill['n1']:,}"
                f"  vocabulary {spill.get('vocabulary', 0):,}"
            )

    if "duckdb" not in a.skip:
        d = duckdb(big, a.duckdb_memory or a.memory, a.threads, a.duckdb_timeout)
        report["duckdb"] = d
        print(
            f"\n[duckdb] memory_limit={a.duckdb_memory or a.memory}: wall {d.get('wall', float('nan')):.1f} s  "
            f"peak RSS {d['peak_rss_mb']:.0f} MB  distinct {d.get('distinct', '-')}  "
            f"{d.get('error', '')}"
            + (f" (after {d['failed_after']:.0f} s)" if "failed_after" in d else "")
        )

    base = prefix(big, a.base_mb)
    if "scaling" not in a.skip:
        rows = {}
        for k in (1, 2, 4, 8):
            p = base if k == 1 else prefix(big, a.base_mb * k)
            rows[k] = monofact(p, memory=a.memory, threads=a.threads)
        report["scaling"] = rows
        print(f"\n[scaling] memory={a.memory}, {a.threads} threads, base {a.base_mb} MB")
        for k, r in rows.items():
            print(
                f"  {k}x  wall {r.get('wall', float('nan')):7.1f} s  "
                f"({r.get('wall', float('nan')) / rows[1].get('wall', float('nan')):.2f}x of 1x)"
                f"  peak RSS {r['peak_rss_mb']:6.0f} MB  spills {r.get('spills', '-')}"
            )

    if "threads" not in a.skip:
        one = monofact(base, threads=1)
        two = monofact(base, threads=2)
        report["threads"] = {"1": one, "2": two}
        print(
            f"\n[threads] {a.base_mb} MB in memory: 1 thread {one['wall']:.2f} s, "
            f"2 threads {two['wall']:.2f} s, speed-up {one['wall'] / two['wall']:.2f}x"
        )

    if "sample" not in a.skip:
        exact = monofact(base, threads=a.threads)
        samp = monofact(base, threads=a.threads, sample=0.01, sample_seed=1)
        report["sample"] = {"exact": exact, "sample": samp}
        truth = exact["n1"] / exact["samples"]
        inside = samp["singleton_rate_low"] <= truth <= samp["singleton_rate_high"]
        print(
            f"\n[sample] {a.base_mb} MB, sample=0.01: peak RSS {samp['peak_rss_mb']:.0f} MB vs "
            f"exact {exact['peak_rss_mb']:.0f} MB; wall {samp['wall']:.2f} s vs "
            f"{exact['wall']:.2f} s"
        )
        print(
            f"  N1/N exact {truth:.5f}, estimate {samp['singleton_rate']:.5f}, interval "
            f"[{samp['singleton_rate_low']:.5f}, {samp['singleton_rate_high']:.5f}] "
            f"covers: {inside}"
        )

    report["load_after"] = uptime()
    print("\n" + report["load_after"])
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
