"""Memory budget with spill: spilled runs give exactly the in-memory counts."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import monofact as mf


def _count(corpus: object, **kw: object) -> mf.Counts:
    return mf.count_ngrams(corpus, progress="none", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("n", "pad"), [(1, True), (2, False), (3, False), (3, True), (5, False)])
def test_kjv_spilled_equals_in_memory(kjv_tok: Path, tmp_path: Path, n: int, pad: bool) -> None:
    whole = _count(kjv_tok, n=n, pad=pad, tokenizer="whitespace", threads=2)
    spilled = _count(
        kjv_tok,
        n=n,
        pad=pad,
        tokenizer="whitespace",
        threads=2,
        memory="512KB",
        spill_dir=tmp_path,
        shard_bytes=1 << 20,
    )
    assert whole.summary["spills"] == 0
    assert spilled.summary["spills"] >= 3
    assert spilled.histogram().equals(whole.histogram())
    for key in ("samples", "distinct", "n1", "n2", "max_count", "tokens", "vocabulary"):
        assert spilled.summary[key] == whole.summary[key], key
    assert spilled.to_table().equals(whole.to_table())
    assert len(list(tmp_path.iterdir())) == 1
    del spilled
    assert list(tmp_path.iterdir()) == []


def test_arrow_source_spills_too(kjv_lines: list[str], tmp_path: Path) -> None:
    table = pa.table({"text": kjv_lines})
    whole = _count(table, n=3, tokenizer="whitespace")
    spilled = _count(
        table, n=3, tokenizer="whitespace", memory="512KB", threads=1, spill_dir=tmp_path
    )
    assert spilled.summary["spills"] > 0
    assert spilled.to_table().equals(whole.to_table())


def test_budget_too_small_is_a_resource_error(kjv_tok: Path) -> None:
    with pytest.raises(mf.ResourceError, match="too small"):
        _count(kjv_tok, n=3, memory="100KB", threads=2)


def test_unwritable_spill_dir_is_a_resource_error(kjv_tok: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(mf.ResourceError, match="spill"):
        _count(kjv_tok, n=3, memory="256KB", threads=1, spill_dir=blocker / "sub")


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    docs=st.lists(
        st.lists(st.sampled_from(["a", "b", "c", "dd", "é", "x", "z"]), max_size=30).map(" ".join),
        max_size=300,
    ),
    files=st.integers(1, 5),
    n=st.integers(1, 5),
    pad=st.booleans(),
    threads=st.integers(1, 2),
    every=st.integers(1, 200),
)
def test_random_corpora_with_tiny_budgets(
    tmp_path_factory: pytest.TempPathFactory,
    docs: list[str],
    files: int,
    n: int,
    pad: bool,
    threads: int,
    every: int,
) -> None:
    """Random corpora split over several files (shards), spilled after every few keys."""
    root = tmp_path_factory.mktemp("corpus")
    spill = tmp_path_factory.mktemp("spill")
    paths = []
    for i in range(files):
        p = root / f"part{i}.txt"
        p.write_text("".join(d + "\n" for d in docs[i::files]), encoding="utf-8")
        paths.append(str(p))
    whole = _count(paths, n=n, pad=pad, tokenizer="whitespace")
    tiny = _count(
        paths,
        n=n,
        pad=pad,
        tokenizer="whitespace",
        threads=threads,
        memory=threads * 256 * 1024,
        spill_dir=spill,
        _spill_every=every,
    )
    if whole.summary["samples"] >= every * threads:
        assert tiny.summary["spills"] > 0
    assert tiny.histogram().equals(whole.histogram())
    assert tiny.to_table().equals(whole.to_table())
    del tiny
    assert list(spill.iterdir()) == []
