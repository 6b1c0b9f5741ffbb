"""Persisted counts: save/load round trip, merge of disjoint inputs, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import monofact as mf


def _count(corpus: object, **kw: object) -> mf.Counts:
    kw.setdefault("tokenizer", "whitespace")
    return mf.count_ngrams(corpus, progress="none", **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def halves(tmp_path_factory: pytest.TempPathFactory, kjv_tok: Path) -> tuple[Path, Path]:
    lines = kjv_tok.read_text(encoding="utf-8").splitlines(keepends=True)
    root = tmp_path_factory.mktemp("halves")
    a, b = root / "a.txt", root / "b.txt"
    a.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    b.write_text("".join(lines[len(lines) // 2 :]), encoding="utf-8")
    return a, b


@pytest.mark.parametrize("n", [1, 3])
def test_save_load_round_trip(kjv_tok: Path, tmp_path: Path, n: int) -> None:
    c = _count(kjv_tok, n=n, pad=True)
    out = c.save(tmp_path / "saved")
    names = {p.name for p in out.iterdir()}
    assert {"histogram.parquet", "summary.json", "manifest.json"} <= names
    assert 1 < len([x for x in names if x.startswith("part-")]) <= 256
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["n"] == n and manifest["options"]["pad"] is True
    assert manifest["inputs"][0]["size"] == kjv_tok.stat().st_size
    assert "mtime_ns" in manifest["inputs"][0]
    part = pq.read_table(out / manifest["files"][0]["name"])
    assert part.schema.field("ngram").type == pa.large_string()
    assert part.schema.field("count").type == pa.uint64()
    back = mf.Counts.load(out)
    assert back.summary == c.summary
    assert back.histogram().equals(c.histogram())
    assert back.to_table().equals(c.to_table())
    assert back.to_table(top_k=10).equals(c.to_table(top_k=10))
    assert back.to_table(min_count=3, max_count=9).equals(c.to_table(min_count=3, max_count=9))


def test_partitions_agree_across_vocabularies(halves: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = halves
    _count(a, n=2).save(tmp_path / "a")
    _count(b, n=2).save(tmp_path / "b")
    where: dict[str, int] = {}
    for d in ("a", "b"):
        for f in (tmp_path / d).glob("part-*.parquet"):
            p = int(f.stem.split("-")[1])
            for g in pq.read_table(f).column("ngram").to_pylist():
                assert where.setdefault(g, p) == p


@pytest.mark.parametrize("through_disk", [False, True])
def test_merge_of_halves_equals_whole(
    halves: tuple[Path, Path], tmp_path: Path, through_disk: bool
) -> None:
    a, b = halves
    whole = _count([str(a), str(b)], n=3)
    ca, cb = _count(a, n=3), _count(b, n=3)
    if through_disk:
        ca = mf.Counts.load(ca.save(tmp_path / "a"))
        cb = mf.Counts.load(cb.save(tmp_path / "b"))
    m = mf.Counts.merge([ca, cb])
    assert m.to_table().equals(whole.to_table())
    assert m.histogram().equals(whole.histogram())
    for k in ("samples", "distinct", "n1", "n2", "max_count", "tokens", "documents"):
        assert m.summary[k] == whole.summary[k], k
    assert m.singleton_rate == pytest.approx(whole.singleton_rate)
    # Histograms of shards do not add; the merge went through the keys.
    assert ca.summary["n1"] + cb.summary["n1"] != whole.summary["n1"]
    again = mf.Counts.load(m.save(tmp_path / "m"))
    assert again.to_table().equals(whole.to_table())


def test_merge_refuses_mismatched_options(halves: tuple[Path, Path]) -> None:
    a, b = halves
    base = _count(a, n=2)
    words = _count(a, n=2, tokenizer="words")
    with pytest.raises(mf.ConfigError, match="lowercase"):
        mf.Counts.merge([words, _count(b, n=2, tokenizer="words", lowercase=True)])
    for other in (
        _count(b, n=3),
        _count(b, n=2, pad=True),
        _count(b, n=2, tokenizer="words"),
        _count(b, n=2, sample=0.5),
    ):
        with pytest.raises(mf.ConfigError, match="cannot merge"):
            mf.Counts.merge([base, other])
    with pytest.raises(mf.ConfigError):
        mf.Counts.merge([])


def test_missing_or_corrupt_manifest_is_an_input_error(kjv_tok: Path, tmp_path: Path) -> None:
    with pytest.raises(mf.InputError, match="manifest"):
        mf.Counts.load(tmp_path)
    out = _count(kjv_tok, n=1).save(tmp_path / "c")
    (out / "manifest.json").write_text("{not json")
    with pytest.raises(mf.InputError, match="corrupt"):
        mf.Counts.load(out)
    (out / "manifest.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(mf.InputError):
        mf.Counts.load(out)


def test_sampled_counts_merge_and_keep_estimates(halves: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = halves
    kw = {"n": 3, "sample": 0.1, "sample_seed": 5}
    whole = _count([str(a), str(b)], **kw)
    m = mf.Counts.merge([_count(a, **kw), _count(b, **kw)])
    assert m.to_table().equals(whole.to_table())
    assert m.summary["sampled"] is True
    for k in ("singleton_rate", "singleton_rate_low", "singleton_rate_high"):
        assert m.summary[k] == pytest.approx(whole.summary[k]), k
