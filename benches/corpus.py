"""Deterministic synthetic corpora for benchmarks.

Words follow a Zipf-like law over a 200,000-word vocabulary of pronounceable pseudo-words and lines
have 5-40 tokens, which gives n-gram statistics close to real web text: about a third of the
trigrams of a 60 MB corpus occur once. Same seed, same bytes, on every machine.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

CACHE = Path(__file__).resolve().parent / ".data"


def _vocabulary(size: int, rng: np.random.Generator) -> list[str]:
    onsets = ["", "b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "st", "tr", "ch"]
    vowels = ["a", "e", "i", "o", "u", "ai", "ou", "ea"]
    words: set[str] = set()
    out: list[str] = []
    while len(out) < size:
        k = int(rng.integers(1, 5))
        w = "".join(onsets[rng.integers(len(onsets))] + vowels[rng.integers(len(vowels))] for _ in range(k))
        if w not in words:
            words.add(w)
            out.append(w)
    return out


def make_corpus(megabytes: int, path: Path | None = None, seed: int = 20251130) -> Path:
    """Write (once) and return a corpus of about `megabytes` MB."""
    path = path or CACHE / f"zipf-{megabytes}MB-{seed}.txt"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    vocab = np.array(_vocabulary(200_000, rng), dtype=object)
    ranks = np.arange(1, len(vocab) + 1, dtype=np.float64)
    p = 1.0 / (ranks + 2.7) ** 1.05
    p /= p.sum()
    target = megabytes * 1_000_000
    written = 0
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        while written < target:
            lengths = rng.integers(5, 41, size=20_000)
            words = vocab[rng.choice(len(vocab), size=int(lengths.sum()), p=p)]
            ends = np.cumsum(lengths)
            starts = ends - lengths
            block = "\n".join(" ".join(words[s:e]) for s, e in zip(starts, ends)) + "\n"
            f.write(block)
            written += len(block)
    tmp.rename(path)
    return path


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("megabytes", type=int)
    print(make_corpus(ap.parse_args().megabytes))
