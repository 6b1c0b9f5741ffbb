"""n-gram counting: exact against KenLM's figures and a Counter oracle, on real and random text."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import monofact as mf
from conftest import oracle_counts

# n, padded, samples N, distinct, N1, N2, N3, largest count (shared/data/kjv/README.md)
KJV_FIGURES = [
    (1, True, 948_238, 12_564, 3_942, 1_735, 978, 70_683),
    (1, False, 917_136, 12_563, 3_942, 1_735, 978, 70_683),
    (2, True, 948_238, 141_365, 80_691, 21_453, 10_001, 24_975),
    (2, False, 886_034, 140_349, 80_180, 21_288, 9_951, 24_975),
    (3, True, 948_238, 399_575, 294_132, 50_704, 18_641, 11_609),
    (3, False, 854_932, 384_677, 285_037, 48_510, 17_747, 2_441),
    (4, True, 948_238, 618_814, 521_691, 56_991, 16_601, 11_609),
    (4, False, 823_830, 578_766, 491_748, 52_201, 14_960, 638),
    (5, True, 948_238, 736_173, 663_971, 47_630, 11_214, 11_609),
    (5, False, 792_730, 665_845, 605_720, 41_190, 9_258, 396),
]


def as_counter(counts: mf.Counts) -> Counter[str]:
    t = counts.to_table()
    return Counter(dict(zip(t.column("ngram").to_pylist(), t.column("count").to_pylist())))


@pytest.mark.parametrize("n,pad,samples,distinct,n1,n2,n3,largest", KJV_FIGURES)
def test_kjv_figures_equal_kenlm(kjv_tok, n, pad, samples, distinct, n1, n2, n3, largest):
    c = mf.count_ngrams(kjv_tok, n=n, tokenizer="whitespace", pad=pad, progress="none")
    s = c.summary
    assert (s["samples"], s["distinct"], s["n1"], s["n2"], s["max_count"]) == (
        samples,
        distinct,
        n1,
        n2,
        largest,
    )
    h = dict(zip(*(c.histogram().column(k).to_pylist() for k in ("r", "n_r"))))
    assert h[3] == n3
    assert s["singleton_rate"] == pytest.approx(n1 / samples, abs=0)
    assert s["documents"] == 31_102 and s["tokens"] == 917_136


@pytest.mark.parametrize("n,pad", [(3, True), (3, False), (1, False), (6, True)])
def test_kjv_every_count_equals_counter(kjv_tok, kjv_lines, n, pad):
    c = mf.count_ngrams(kjv_tok, n=n, tokenizer="whitespace", pad=pad, progress="none")
    assert as_counter(c) == oracle_counts(kjv_lines, n, pad)
    h = c.histogram()
    oracle_hist = Counter(oracle_counts(kjv_lines, n, pad).values())
    assert dict(zip(h.column("r").to_pylist(), h.column("n_r").to_pylist())) == dict(oracle_hist)


def test_results_do_not_depend_on_threads_or_shards(kjv_tok):
    tables = []
    for threads, shard in [(1, "64MB"), (2, "64MB"), (2, 100_000), (3, 777_777)]:
        c = mf.count_ngrams(
            kjv_tok,
            n=3,
            tokenizer="whitespace",
            threads=threads,
            shard_bytes=shard,
            progress="none",
        )
        tables.append(c.to_table())
        assert c.summary["shards"] >= 1
    for t in tables[1:]:
        assert t.equals(tables[0])


def test_order_is_count_descending_then_tokens(kjv_tok):
    t = mf.count_ngrams(kjv_tok, n=2, tokenizer="whitespace", progress="none").to_table()
    rows = list(zip(t.column("count").to_pylist(), t.column("ngram").to_pylist()))
    assert rows == sorted(rows, key=lambda r: (-r[0], [w.encode() for w in r[1].split(" ")]))


def test_filters(kjv_tok, kjv_lines):
    c = mf.count_ngrams(kjv_tok, n=2, tokenizer="whitespace", progress="none")
    oracle = oracle_counts(kjv_lines, 2)
    top = c.to_table(top_k=10)
    assert top.column("count").to_pylist() == sorted(oracle.values(), reverse=True)[:10]
    mid = c.to_table(min_count=5, max_count=9)
    assert mid.num_rows == sum(1 for v in oracle.values() if 5 <= v <= 9)
    assert set(mid.column("count").to_pylist()) <= set(range(5, 10))
    assert c.to_table(top_k=0).num_rows == 0
    batches = list(c.to_arrow(batch_rows=1000))
    assert all(b.num_rows <= 1000 for b in batches)
    assert sum(b.num_rows for b in batches) == len(oracle)


def test_arrow_types_and_polars(kjv_tok):
    c = mf.count_ngrams(kjv_tok, n=2, tokenizer="whitespace", progress="none")
    h = c.histogram()
    assert h.schema.field("r").type == pa.uint64() and h.schema.field("n_r").type == pa.uint64()
    t = c.to_table(top_k=3)
    assert t.schema.field("ngram").type == pa.large_string()
    assert t.schema.field("count").type == pa.uint64()
    df = c.to_polars(top_k=3)
    assert df.shape == (3, 2) and df["count"].to_list() == t.column("count").to_pylist()
    # The PyCapsule interface: pyarrow consumes the Counts object directly.
    assert pa.table(c).num_rows == c.summary["distinct"]


# --- sources -----------------------------------------------------------------------------


LINES = ["the cat sat", "the cat ran", "", "a dog sat on the cat", "the cat sat"]


def expected(n: int = 2, lines: list[str] = LINES) -> Counter[str]:
    return oracle_counts(lines, n)


def test_plain_gzip_zstd_directory_glob(tmp_path: Path):
    import zstandard

    text = "\n".join(LINES) + "\n"
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_text(text)
    with gzip.open(tmp_path / "d" / "b.txt.gz", "wt") as f:
        f.write(text)
    (tmp_path / "d" / "c.txt.zst").write_bytes(zstandard.ZstdCompressor().compress(text.encode()))
    (tmp_path / "d" / ".hidden").write_text("not counted")
    want = expected()
    for path in ["a.txt", "b.txt.gz", "c.txt.zst"]:
        c = mf.count_ngrams(tmp_path / "d" / path, n=2, tokenizer="whitespace", progress="none")
        assert as_counter(c) == want, path
        assert c.summary["documents"] == len(LINES)
    three = Counter({k: 3 * v for k, v in want.items()})
    assert (
        as_counter(mf.count_ngrams(tmp_path / "d", n=2, tokenizer="whitespace", progress="none"))
        == three
    )
    g = mf.count_ngrams(
        str(tmp_path / "d" / "*.txt*"), n=2, tokenizer="whitespace", progress="none"
    )
    assert as_counter(g) == three
    lst = mf.count_ngrams(
        [tmp_path / "d" / "a.txt", tmp_path / "d" / "b.txt.gz"],
        n=2,
        tokenizer="whitespace",
        progress="none",
    )
    assert as_counter(lst) == Counter({k: 2 * v for k, v in want.items()})


def test_doc_per_file(tmp_path: Path):
    (tmp_path / "a.txt").write_text("x y\nz")
    c = mf.count_ngrams(
        tmp_path / "a.txt", n=2, tokenizer="whitespace", doc_per="file", progress="none"
    )
    assert as_counter(c) == Counter({"x y": 1, "y z": 1}) and c.summary["documents"] == 1


def test_jsonl_dotted_field_and_compression(tmp_path: Path):
    recs = [{"meta": {"text": line}, "id": i} for i, line in enumerate(LINES)]
    body = "".join(json.dumps(r) + "\n" for r in recs)
    (tmp_path / "a.jsonl").write_text(body)
    with gzip.open(tmp_path / "b.jsonl.gz", "wt") as f:
        f.write(body)
    for name in ["a.jsonl", "b.jsonl.gz"]:
        c = mf.count_ngrams(
            tmp_path / name, n=2, tokenizer="whitespace", text_field="meta.text", progress="none"
        )
        assert as_counter(c) == expected(), name


def test_parquet_and_arrow_and_polars(tmp_path: Path):
    table = pa.table({"id": list(range(len(LINES))), "body": LINES})
    pq.write_table(table, tmp_path / "a.parquet", row_group_size=2)
    c = mf.count_ngrams(
        tmp_path / "a.parquet", n=2, tokenizer="whitespace", text_field="body", progress="none"
    )
    assert as_counter(c) == expected()
    assert c.summary["shards"] == 3  # one per row group
    c = mf.count_ngrams(table, n=2, tokenizer="whitespace", text_field="body", progress="none")
    assert as_counter(c) == expected()
    c = mf.count_ngrams(pl.DataFrame({"text": LINES}), n=2, tokenizer="whitespace", progress="none")
    assert as_counter(c) == expected()
    large = pa.table({"text": pa.array(LINES, pa.large_string())})
    assert (
        as_counter(mf.count_ngrams(large, n=2, tokenizer="whitespace", progress="none"))
        == expected()
    )


def test_words_tokenizer_and_lowercase():
    t = pa.table({"text": ["The cat, the CAT.", "Straße straße"]})
    c = mf.count_ngrams(t, n=1, lowercase=True, progress="none")
    assert as_counter(c) == Counter({"the": 2, "cat": 2, ",": 1, ".": 1, "straße": 2})
    c = mf.count_ngrams(t, n=1, progress="none")
    assert as_counter(c)["The"] == 1 and as_counter(c)["CAT"] == 1


def test_wide_keys_up_to_8():
    words = [f"w{i}" for i in range(40)]
    lines = [" ".join(words[i:] + words[:i]) for i in range(10)]
    for n in (4, 5, 8):
        for pad in (False, True):
            c = mf.count_ngrams(
                pa.table({"text": lines}), n=n, tokenizer="whitespace", pad=pad, progress="none"
            )
            assert as_counter(c) == oracle_counts(lines, n, pad)


def test_vocabulary_past_21_bits_widens_trigram_keys():
    # 2^21 + a few distinct tokens: trigram keys no longer fit 21-bit ids, the engine widens.
    n_tokens = (1 << 21) + 1000
    text = [
        " ".join(f"t{i}" for i in range(j, min(j + 50_000, n_tokens)))
        for j in range(0, n_tokens, 50_000)
    ]
    text.append("t0 t1 t2")
    c = mf.count_ngrams(pa.table({"text": text}), n=3, tokenizer="whitespace", progress="none")
    s = c.summary
    assert s["vocabulary"] == n_tokens
    assert s["max_count"] == 2 and s["n2"] == 1
    assert s["samples"] == sum(max(0, len(t.split()) - 2) for t in text)
    assert c.to_table(top_k=1).column("ngram").to_pylist() == ["t0 t1 t2"]


# --- property tests: random corpora, thread counts and shard splits equal the oracle ------

token = st.sampled_from(["a", "b", "c", "dd", "é", "<s>", "x\u00a0y", "ß"])
line = st.lists(token, max_size=12).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(line, max_size=40),
    n=st.integers(1, 5),
    pad=st.booleans(),
    threads=st.integers(1, 3),
    shard=st.integers(1, 64),
)
def test_random_corpora_equal_oracle(tmp_path_factory, lines, n, pad, threads, shard):
    path = tmp_path_factory.mktemp("c") / "c.txt"
    path.write_text("".join(l + "\n" for l in lines), encoding="utf-8")
    c = mf.count_ngrams(
        path,
        n=n,
        pad=pad,
        tokenizer="whitespace",
        threads=threads,
        shard_bytes=shard,
        progress="none",
    )
    want = oracle_counts(lines, n, pad)
    assert as_counter(c) == want
    s = c.summary
    assert s["samples"] == sum(want.values()) and s["distinct"] == len(want)
    assert s["n1"] == sum(1 for v in want.values() if v == 1)
    assert s["documents"] == len(lines)
