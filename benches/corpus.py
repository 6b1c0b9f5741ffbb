"""Deterministic synthetic corpora for benchmarks.

Words follow a Zipf-like law over a 200,000-word vocabulary of pronounceable pseudo-words (the
frequent ones short, as in natural language); lines of 5-40 tokens are built from a bank of
recurring phrases and single words, so n-grams repeat the way they do in real text (a 60 MB corpus
has about 13M tokens and a third as many distinct trigrams). Same seed, same bytes, everywhere.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

CACHE = Path(__file__).resolve().parent / ".data"


def _vocabulary(size: int, rng: np.random.Generator) -> list[str]:
    onsets = [
        "",
        "b",
        "c",
        "d",
        "f",
        "g",
        "h",
        "k",
        "l",
        "m",
        "n",
        "p",
        "r",
        "s",
        "t",
        "v",
        "w",
        "st",
        "tr",
        "ch",
    ]
    vowels = ["a", "e", "i", "o", "u", "ai", "ou", "ea"]
    words: set[str] = set()
    out: list[str] = []
    while len(out) < size:
        k = int(rng.integers(1, 5))
        w = "".join(
            onsets[rng.integers(len(onsets))] + vowels[rng.integers(len(vowels))] for _ in range(k)
        )
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
    vocab = np.array(sorted(_vocabulary(200_000, rng), key=len), dtype=object)
    ranks = np.arange(1, len(vocab) + 1, dtype=np.float64)
    p = 1.0 / (ranks + 2.7) ** 1.1
    p /= p.sum()
    # A bank of recurring phrases (2-6 words), themselves used with Zipf frequencies.
    bank_size = 400_000
    phrase_len = rng.integers(2, 7, size=bank_size)
    phrase_words = rng.choice(len(vocab), size=int(phrase_len.sum()), p=p)
    phrase_end = np.cumsum(phrase_len)
    phrases = [" ".join(vocab[phrase_words[e - n : e]]) for e, n in zip(phrase_end, phrase_len)]
    q = 1.0 / (np.arange(1, bank_size + 1, dtype=np.float64) + 10.0) ** 0.9
    q /= q.sum()
    target = megabytes * 1_000_000
    written = 0
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        while written < target:
            chunks = rng.integers(2, 9, size=20_000)
            total = int(chunks.sum())
            use_phrase = rng.random(total) < 0.6
            picks_phrase = rng.choice(bank_size, size=total, p=q)
            picks_word = rng.choice(len(vocab), size=total, p=p)
            parts = [
                phrases[a] if u else vocab[b]
                for u, a, b in zip(use_phrase.tolist(), picks_phrase.tolist(), picks_word.tolist())
            ]
            ends = np.cumsum(chunks)
            block = "\n".join(" ".join(parts[e - c : e]) for e, c in zip(ends, chunks)) + "\n"
            f.write(block)
            written += len(block)
    tmp.rename(path)
    return path


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("megabytes", type=int)
    print(make_corpus(ap.parse_args().megabytes))
