"""Shared fixtures: paths of the real test corpora and a plain-Python n-gram oracle."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
KJV = SHARED / "data" / "kjv"
sys.path.insert(0, str(SHARED / "tools"))


def kenlm_tokens(line: str) -> list[str]:
    """Split as KenLM does: on spaces, tabs, CR, VT, FF and NUL (not on other Unicode spaces)."""
    for sep in "\t\r\x0b\x0c\x00":
        line = line.replace(sep, " ")
    return [t for t in line.split(" ") if t]


def oracle_counts(lines: list[str], n: int, pad: bool = False) -> Counter[str]:
    """Counter of n-grams (tokens joined by one space), the reference every count is checked on."""
    counts: Counter[str] = Counter()
    for line in lines:
        words = kenlm_tokens(line)
        seq = ["<s>"] * (n - 1) + words + ["</s>"] if pad else words
        counts.update(" ".join(seq[i : i + n]) for i in range(len(seq) - n + 1))
    return counts


@pytest.fixture(scope="session")
def kjv_tok() -> Path:
    path = KJV / "kjv.tok.txt"
    assert path.exists(), f"test data missing: {path}"
    return path


@pytest.fixture(scope="session")
def kjv_lines(kjv_tok: Path) -> list[str]:
    return kjv_tok.read_text(encoding="utf-8").split("\n")[:-1]
