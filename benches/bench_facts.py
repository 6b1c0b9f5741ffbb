"""Fact counting speed: monofact against pyahocorasick (knowledge base) and Python ``re`` (templates).

    python benches/bench_facts.py            # 500 MB corpus (generated once, cached in benches/.data/)
    python benches/bench_facts.py --mb 50    # a quick run

The corpus is synthetic and deterministic: lines of 1-5 sentences of lowercase pseudo-words, with
names of a 100,000-name knowledge base (capitalized pseudo-words, a third of them two words)
embedded: a subject with one of its objects (a fact mention), lone names, and "X son of Y" phrases
for the template. The knowledge base has 100,000 distinct surface forms (60,000 subjects, 40,000
objects) and about 84,000 facts.

Runs, on the same machine and in the same process:

- monofact ``count_facts(knowledge_base=..., window="sentence")`` with threads=2 and threads=1 on
  the whole corpus, and with threads=1 on the prefix the peer scans;
- pyahocorasick driving the same window logic in Python (sentence windows, word boundaries,
  leftmost-longest occurrences with the boundary test before the longest choice, each fact once
  per window): it is timed on a prefix of the corpus (``--peer-mb``, default 50 MB) to bound its
  run time, and reported in MB/s; its counts must equal monofact's on that prefix;
- monofact templates (threads=2 and 1) and Python ``re.finditer`` over the whole corpus, whose
  counts must be equal.

monofact's times are wall-clock times of whole ``count_facts`` calls (knowledge-base compilation,
about 0.3-0.5 s, included); pyahocorasick's exclude its automaton build (printed apart). CPU
seconds of the process are measured too: on a shared, loaded machine MB per CPU-second and "cores
busy" (CPU seconds / wall seconds) show how much of the machine a run actually got.

Prints a table (MB/s, MB/cpu-s, ratios, load average) and writes the figures as JSON
(``--json``, default ``benches/.data/bench_facts-<MB>MB-<density>.json``); exits 1 when a goal
(5x pyahocorasick, 100 MB/s on 2 threads, 5x re, equal counts) is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CACHE = Path(__file__).resolve().parent / ".data"
SEED = 20261130
N_SUBJECTS = 60_000
N_OBJECTS = 40_000
RELATIONS = ["father", "born in", "works for", "capital of"]
TEMPLATE = r"\b(?P<subject>[A-Z][a-z]+) son of (?P<object>[A-Z][a-z]+)\b"
MB = 1_000_000
# Shares of sentences that state a KB fact (subject and object), hold one lone name, or hold an
# "X son of Y" phrase. "default": about 5 names per 100 words; "dense": about 11.
DENSITIES = {"default": (0.15, 0.25, 0.05), "dense": (0.45, 0.20, 0.10)}

# --- data -------------------------------------------------------------------------------------------


def _words(
    n: int,
    rng: np.random.Generator,
    onsets: list[str],
    vowels: list[str],
    syllables: tuple[int, int],
    taken: set[str],
) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        k = int(rng.integers(*syllables))
        w = "".join(
            onsets[rng.integers(len(onsets))] + vowels[rng.integers(len(vowels))] for _ in range(k)
        )
        if w not in taken:
            taken.add(w)
            out.append(w)
    return out


def make_kb(rng: np.random.Generator) -> tuple[list[str], list[str], pa.Table]:
    """Subject and object names (all distinct) and the knowledge-base table."""
    onsets = [
        "b",
        "d",
        "g",
        "k",
        "l",
        "m",
        "n",
        "r",
        "s",
        "t",
        "v",
        "z",
        "br",
        "dr",
        "kr",
        "th",
        "sh",
    ]
    vowels = ["a", "e", "i", "o", "u", "ae", "io", "ar", "en"]
    taken: set[str] = set()
    parts = [w.capitalize() for w in _words(80_000, rng, onsets, vowels, (2, 4), taken)]
    names: list[str] = []
    seen: set[str] = set()
    i = 0
    while len(names) < N_SUBJECTS + N_OBJECTS:
        if rng.random() < 1 / 3:
            a, b = rng.integers(len(parts), size=2)
            name = f"{parts[a]} {parts[b]}"
        else:
            name = parts[i % len(parts)]
            i += 1
        if name not in seen:
            seen.add(name)
            names.append(name)
    order = rng.permutation(len(names))
    names = [names[j] for j in order]
    subjects, objects = names[:N_SUBJECTS], names[N_SUBJECTS:]
    zipf = 1.0 / (np.arange(1, N_OBJECTS + 1) + 5.0)
    zipf /= zipf.sum()
    cover = rng.permutation(N_OBJECTS)  # every object is in some fact: 100,000 surface forms
    rows_s, rows_r, rows_o = [], [], []
    for s in subjects:
        for _ in range(1 + int(rng.random() < 0.4)):
            n = len(rows_o)
            if n < N_OBJECTS:
                o = int(cover[n])
            elif rng.random() < 0.5:
                o = int(rng.choice(N_OBJECTS, p=zipf))
            else:
                o = int(rng.integers(N_OBJECTS))
            rows_s.append(s)
            rows_r.append(RELATIONS[int(rng.integers(len(RELATIONS)))])
            rows_o.append(objects[o])
    kb = pa.table({"subject": rows_s, "relation": rows_r, "object": rows_o})
    return subjects, objects, kb


def make_data(megabytes: int, density: str = "default", seed: int = SEED) -> tuple[Path, Path]:
    """Write (once) and return the corpus and the knowledge base (Parquet)."""
    fact_rate, lone_rate, template_rate = DENSITIES[density]
    corpus = CACHE / f"facts-{megabytes}MB-{density}-{seed}.txt"
    kb_path = CACHE / f"facts-kb-{seed}.parquet"
    if corpus.exists() and kb_path.exists():
        return corpus, kb_path
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    subjects, objects, kb = make_kb(rng)
    pq.write_table(kb, kb_path)
    facts_of: dict[str, list[str]] = defaultdict(list)
    for s, o in zip(kb.column("subject").to_pylist(), kb.column("object").to_pylist()):
        facts_of[s].append(o)
    onsets = ["", "b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "w", "st", "ch"]
    vowels = ["a", "e", "i", "o", "u", "ai", "ou", "ea"]
    filler = np.array(_words(20_000, rng, onsets, vowels, (1, 4), {"son", "of"}), dtype=object)
    p = 1.0 / (np.arange(1, len(filler) + 1) + 2.7) ** 1.05
    p /= p.sum()
    target = megabytes * MB
    written = 0
    tmp = corpus.with_suffix(".tmp")
    print(f"generating {corpus.name} ...", file=sys.stderr, flush=True)
    with open(tmp, "w", encoding="utf-8") as f:
        while written < target:
            n = 50_000
            lengths = rng.integers(6, 19, size=n)
            words = filler[rng.choice(len(filler), size=int(lengths.sum()), p=p)].tolist()
            kinds = rng.random(n)
            subj = rng.integers(N_SUBJECTS, size=n)
            obj = rng.integers(N_OBJECTS, size=n)
            pick = rng.integers(1 << 30, size=n)
            per_line = rng.integers(1, 6, size=n)
            sentences = []
            start = 0
            for i in range(n):
                w = words[start : start + int(lengths[i])]
                start += int(lengths[i])
                k = kinds[i]
                m = len(w)
                if k < fact_rate:  # a fact: its subject and one of its objects
                    s = subjects[subj[i]]
                    os_ = facts_of[s]
                    w[pick[i] % m] = s
                    w[(pick[i] >> 8) % m] = os_[(pick[i] >> 16) % len(os_)]
                elif k < fact_rate + lone_rate:  # a lone subject or object
                    w[pick[i] % m] = subjects[subj[i]] if pick[i] & 1 else objects[obj[i]]
                elif k < fact_rate + lone_rate + template_rate:  # for the template
                    w[pick[i] % m] = f"{subjects[subj[i]]} son of {objects[obj[i]]}"
                sentences.append(" ".join(w))
            lines = []
            j = 0
            for i in range(n):
                if j >= n:
                    break
                c = int(per_line[i])
                lines.append(". ".join(sentences[j : j + c]) + ".")
                j += c
            block = "\n".join(lines) + "\n"
            f.write(block)
            written += len(block.encode())
    tmp.rename(corpus)
    return corpus, kb_path


def prefix_file(corpus: Path, megabytes: int) -> Path:
    """The first ``megabytes`` MB of the corpus, cut at a line end (cached)."""
    path = corpus.with_name(f"{corpus.stem}-prefix{megabytes}MB.txt")
    if not path.exists():
        with open(corpus, "rb") as f:
            data = f.read(megabytes * MB)
        data = data[: data.rfind(b"\n") + 1]
        path.write_bytes(data)
    return path


# --- the Python peers -------------------------------------------------------------------------------

SENTENCE_END = re.compile(r"[.!?]+[\"')\]\u2019\u201d]*(?=\s|$)")


def sentence_windows(line: str) -> list[str]:
    """Sentence windows of a one-line document (no blank lines inside): split after every run
    of .!? (and closers) followed by whitespace or the end."""
    out = []
    start = 0
    for m in SENTENCE_END.finditer(line):
        out.append(line[start : m.end()])
        start = m.end()
    if start < len(line) or not line:
        out.append(line[start:])
    return out


def pyahocorasick_count(
    path: Path, kb: pa.Table
) -> tuple[Counter[tuple[str, str, str]], float, float, float]:
    """Fact mentions (once per sentence window) with pyahocorasick; (counts, build s, scan s,
    scan CPU s)."""
    import ahocorasick

    t0 = time.perf_counter()
    subjects = kb.column("subject").to_pylist()
    relations = kb.column("relation").to_pylist()
    objects = kb.column("object").to_pylist()
    facts_of: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for s, r, o in zip(subjects, relations, objects):
        facts_of[s].add((r, o))
    automaton = ahocorasick.Automaton()
    for name in set(subjects) | set(objects):
        automaton.add_word(name, name)
    automaton.make_automaton()
    build = time.perf_counter() - t0

    counts: Counter[tuple[str, str, str]] = Counter()
    c0, t0 = cpu_seconds(), time.perf_counter()
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            for window in sentence_windows(line):
                n = len(window)
                found = []
                for end, name in automaton.iter(window):
                    start = end - len(name) + 1
                    if (start == 0 or not window[start - 1].isalnum()) and (
                        end + 1 == n or not window[end + 1].isalnum()
                    ):
                        found.append((start, -len(name), name))
                if not found:
                    continue
                found.sort()
                entities = set()
                cursor = 0
                for start, neg_len, name in found:
                    if start >= cursor:
                        entities.add(name)
                        cursor = start - neg_len
                for s in entities:
                    for r, o in facts_of.get(s, ()):
                        if o in entities:
                            counts[(s, r, o)] += 1
    return counts, build, time.perf_counter() - t0, cpu_seconds() - c0


def re_count(path: Path) -> tuple[Counter[tuple[str, str]], float]:
    """Template matches with Python re.finditer, reading 64 MB blocks cut at line ends."""
    rx = re.compile(TEMPLATE)
    counts: Counter[tuple[str, str]] = Counter()
    t0 = time.perf_counter()
    with open(path, encoding="utf-8") as fh:
        rest = ""
        while True:
            block = fh.read(64 * MB)
            if not block:
                break
            block = rest + block
            cut = block.rfind("\n") + 1
            block, rest = block[:cut], block[cut:]
            for m in rx.finditer(block):
                counts[(m.group("subject"), m.group("object"))] += 1
        for m in rx.finditer(rest):
            counts[(m.group("subject"), m.group("object"))] += 1
    return counts, time.perf_counter() - t0


# --- running ----------------------------------------------------------------------------------------


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def cpu_seconds() -> float:
    """User + system CPU seconds of this process (all its threads) so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed_monofact(corpus: Path, threads: int, **kw: object) -> tuple[object, float, float]:
    """(result, wall seconds, CPU seconds) of one count_facts call, knowledge-base build included."""
    import monofact as mf

    c0, t0 = cpu_seconds(), time.perf_counter()
    f = mf.count_facts(str(corpus), threads=threads, progress="none", **kw)
    return f, time.perf_counter() - t0, cpu_seconds() - c0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--mb", type=int, default=500, help="corpus size in MB (default 500)")
    ap.add_argument(
        "--peer-mb", type=int, default=50, help="prefix scanned by pyahocorasick (default 50)"
    )
    ap.add_argument(
        "--density",
        choices=sorted(DENSITIES),
        default="default",
        help="names per sentence: default (about 5 per 100 words) or dense (about 11)",
    )
    ap.add_argument("--json", type=Path, default=None, help="where to write the figures")
    args = ap.parse_args(argv)

    import monofact as mf

    corpus, kb_path = make_data(args.mb, args.density)
    size = corpus.stat().st_size
    peer_mb = min(args.peer_mb, args.mb)
    prefix = prefix_file(corpus, peer_mb)
    prefix_size = prefix.stat().st_size
    kb = pq.read_table(kb_path)
    forms = len(set(kb.column("subject").to_pylist()) | set(kb.column("object").to_pylist()))
    loads = {"start": load()}
    print(
        f"corpus {corpus} ({size / MB:.1f} MB), knowledge base {kb.num_rows:,} rows, {forms:,} surface forms"
    )
    shares = DENSITIES[args.density]
    print(
        f'density {args.density}: sentences stating a fact / with a lone name / with "X son of Y": {shares}'
    )
    print(f"load average at start (1/5/15 min): {loads['start']}  cores: {os.cpu_count()}")

    # Warm the page cache so that every contender reads from memory.
    for p in (corpus, prefix):
        with open(p, "rb") as fh:
            while fh.read(64 * MB):
                pass

    results: dict[str, dict[str, float]] = {}

    def record(name: str, nbytes: int, seconds: float, cpu: float, **extra: float) -> None:
        results[name] = {
            "bytes": nbytes,
            "seconds": seconds,
            "cpu_seconds": cpu,
            "mb_per_s": nbytes / MB / seconds,
            "mb_per_cpu_s": nbytes / MB / cpu,
            **extra,
        }
        print(
            f"  {name:<46} {seconds:7.2f} s {nbytes / MB / seconds:8.1f} MB/s "
            f"{nbytes / MB / cpu:8.1f} MB/cpu-s  {cpu / seconds:4.2f} cores busy",
            flush=True,
        )

    print("\nknowledge base, sentence windows:")
    kb_runs = {}
    for threads in (2, 1):
        f, secs, cpu = timed_monofact(corpus, threads, knowledge_base=kb, window="sentence")
        kb_runs[threads] = f
        record(f"monofact kb threads={threads}", size, secs, cpu)
    f_prefix, secs, cpu = timed_monofact(prefix, 1, knowledge_base=kb, window="sentence")
    record(f"monofact kb threads=1, {peer_mb} MB prefix", prefix_size, secs, cpu)
    f_prefix2, secs, cpu = timed_monofact(prefix, 2, knowledge_base=kb, window="sentence")
    record(f"monofact kb threads=2, {peer_mb} MB prefix", prefix_size, secs, cpu)
    peer_counts, build, scan, cpu = pyahocorasick_count(prefix, kb)
    record(
        f"pyahocorasick + Python windows, {peer_mb} MB prefix",
        prefix_size,
        scan,
        cpu,
        build_seconds=build,
    )
    print(f"    (pyahocorasick automaton build: {build:.2f} s, not included)")

    mono_prefix = Counter(
        {
            (r["subject"], r["relation"], r["object"]): r["mentions"]
            for r in f_prefix.table().to_pylist()
            if r["mentions"] > 0
        }
    )
    kb_agree = mono_prefix == peer_counts
    print(
        f"    counts on the prefix agree: {kb_agree} ({sum(peer_counts.values()):,} mentions, "
        f"{len(peer_counts):,} facts)"
    )
    assert kb_runs[1].table().equals(kb_runs[2].table()), "threads=1 and threads=2 differ"
    assert f_prefix.table().equals(f_prefix2.table()), (
        "threads=1 and threads=2 differ on the prefix"
    )

    print("\ntemplate:")
    tpl_runs = {}
    for threads in (2, 1):
        f, secs, cpu = timed_monofact(corpus, threads, patterns={"son of": TEMPLATE})
        tpl_runs[threads] = f
        record(f"monofact template threads={threads}", size, secs, cpu)
    c0 = cpu_seconds()
    re_counts, secs = re_count(corpus)
    record("Python re.finditer", size, secs, cpu_seconds() - c0)
    mono_tpl = Counter(
        {(r["subject"], r["object"]): r["mentions"] for r in tpl_runs[2].table().to_pylist()}
    )
    tpl_agree = mono_tpl == re_counts
    print(
        f"    counts agree: {tpl_agree} ({sum(re_counts.values()):,} mentions, {len(re_counts):,} facts)"
    )
    loads["end"] = load()

    ratios = {
        "kb_threads2_vs_pyahocorasick": results["monofact kb threads=2"]["mb_per_s"]
        / results[f"pyahocorasick + Python windows, {peer_mb} MB prefix"]["mb_per_s"],
        "kb_threads1_vs_pyahocorasick": results["monofact kb threads=1"]["mb_per_s"]
        / results[f"pyahocorasick + Python windows, {peer_mb} MB prefix"]["mb_per_s"],
        "template_threads2_vs_re": results["monofact template threads=2"]["mb_per_s"]
        / results["Python re.finditer"]["mb_per_s"],
        "template_threads1_vs_re": results["monofact template threads=1"]["mb_per_s"]
        / results["Python re.finditer"]["mb_per_s"],
        "kb_threads1_vs_pyahocorasick_per_cpu_s": results["monofact kb threads=1"]["mb_per_cpu_s"]
        / results[f"pyahocorasick + Python windows, {peer_mb} MB prefix"]["mb_per_cpu_s"],
        "template_threads1_vs_re_per_cpu_s": results["monofact template threads=1"]["mb_per_cpu_s"]
        / results["Python re.finditer"]["mb_per_cpu_s"],
    }
    goals = {
        "kb >= 5x pyahocorasick (threads=2)": ratios["kb_threads2_vs_pyahocorasick"] >= 5,
        "kb >= 100 MB/s on 2 threads": results["monofact kb threads=2"]["mb_per_s"] >= 100,
        "template >= 5x re (threads=2)": ratios["template_threads2_vs_re"] >= 5,
        "counts agree (kb prefix, template)": kb_agree and tpl_agree,
    }
    print("\nsummary (wall-clock MB/s; MB per CPU-second is fairer on a loaded machine)")
    print(f"  {'run':<46} {'MB/s':>9} {'MB/cpu-s':>9} {'cores busy':>10}")
    for name, r in results.items():
        busy = r["cpu_seconds"] / r["seconds"]
        print(f"  {name:<46} {r['mb_per_s']:9.1f} {r['mb_per_cpu_s']:9.1f} {busy:10.2f}")
    for name, v in ratios.items():
        print(f"  ratio {name:<40} {v:9.1f}x")
    for name, ok in goals.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    print(f"  load average (1/5/15 min): start {loads['start']}, end {loads['end']}")

    out = args.json or CACHE / f"bench_facts-{args.mb}MB-{args.density}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "command": " ".join([Path(sys.executable).name, *sys.argv]),
                "corpus": str(corpus),
                "corpus_bytes": size,
                "density": args.density,
                "sentence_shares_fact_lone_template": DENSITIES[args.density],
                "peer_prefix_bytes": prefix_size,
                "kb_rows": kb.num_rows,
                "kb_surface_forms": forms,
                "template": TEMPLATE,
                "results": results,
                "ratios": ratios,
                "goals": goals,
                "load_average": loads,
                "cpu_count": os.cpu_count(),
                "machine": platform.platform(),
                "monofact": mf.__version__,
                "summary_kb": {k: v for k, v in kb_runs[2].summary.items()},
                "summary_template": {k: v for k, v in tpl_runs[2].summary.items()},
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwrote {out}")
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
