"""Python `re` baseline for the template timings of facts_speed.rs.

    cargo run --release -p monofact-core --example facts_speed -- 200 /tmp/facts_corpus.txt
    python rust/core/examples/facts_speed_re.py /tmp/facts_corpus.txt

Same work per document (line) as the Rust scan: every match of every template, counted per
(subject, relation, object) in a dict.
"""

import collections
import os
import re
import sys
import time

SON_OF = [("father", r"\b(?P<subject>[A-Z][a-z]+) the son of (?P<object>[A-Z][a-z]+)\b")]
FIVE = SON_OF + [
    ("born_in", r"\b(?P<subject>[A-Z][a-z]+) was born in (?P<object>[A-Z][a-z]+)\b"),
    ("works_for", r"\b(?P<subject>[A-Z][a-z]+) works for (?P<object>[A-Z][a-z]+)\b"),
    ("wrote", r"\b(?P<subject>[A-Z][a-z]+) wrote (?P<object>[A-Z][a-z]+)\b"),
    ("daughter", r"\b(?P<subject>[A-Z][a-z]+) the daughter of (?P<object>[A-Z][a-z]+)\b"),
]


def run(label: str, templates: list, lines: list, size: float) -> None:
    compiled = [(relation, re.compile(pattern)) for relation, pattern in templates]
    start = time.perf_counter()
    counts: collections.Counter = collections.Counter()
    for line in lines:
        for relation, pattern in compiled:
            for m in pattern.finditer(line):
                counts[(m.group("subject"), relation, m.group("object"))] += 1
    secs = time.perf_counter() - start
    print(f"python re {label}: {secs:.2f} s {size / secs:.1f} MB/s mentions {sum(counts.values())} facts {len(counts)}")


def main(path: str) -> None:
    size = os.path.getsize(path) / 1e6
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    run("son-of", SON_OF, lines, size)
    run("5 templates", FIVE, lines, size)


if __name__ == "__main__":
    main(sys.argv[1])
