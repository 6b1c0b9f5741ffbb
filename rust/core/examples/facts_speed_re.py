"""Python `re` baseline for the template timing of facts_speed.rs.

    cargo run --release -p monofact-core --example facts_speed -- 200 /tmp/facts_corpus.txt
    python rust/core/examples/facts_speed_re.py /tmp/facts_corpus.txt

Same work per document (line) as the Rust scan: every match of the template, counted per
(subject, object) in a dict.
"""

import collections
import os
import re
import sys
import time

PATTERN = re.compile(r"\b(?P<subject>[A-Z][a-z]+) the son of (?P<object>[A-Z][a-z]+)\b")


def main(path: str) -> None:
    size = os.path.getsize(path) / 1e6
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    start = time.perf_counter()
    counts: collections.Counter = collections.Counter()
    for line in lines:
        for m in PATTERN.finditer(line):
            counts[(m.group("subject"), m.group("object"))] += 1
    secs = time.perf_counter() - start
    print(f"python re son-of: {secs:.2f} s {size / secs:.1f} MB/s mentions {sum(counts.values())} facts {len(counts)}")


if __name__ == "__main__":
    main(sys.argv[1])
