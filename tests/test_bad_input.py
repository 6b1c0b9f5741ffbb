"""Bad input: each gives a clear InputError naming the file and the place, never a crash."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import monofact as mf
from monofact import ConfigError, InputError


def count(path, **kw):
    kw.setdefault("n", 2)
    kw.setdefault("tokenizer", "whitespace")
    return mf.count_ngrams(path, progress="none", **kw)


def test_missing_file_and_empty_glob(tmp_path: Path):
    with pytest.raises(InputError, match="nope.txt.*cannot read") as e:
        count(tmp_path / "nope.txt")
    assert e.value.path.endswith("nope.txt")
    with pytest.raises(InputError, match="no file matches"):
        count(str(tmp_path / "*.jsonl"))
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(InputError, match="holds no files"):
        count(tmp_path / "empty_dir")


def test_unreadable_path(tmp_path: Path):
    (tmp_path / "file.txt").write_text("a b")
    with pytest.raises(InputError, match=r"file\.txt/x: .*cannot read"):
        count(tmp_path / "file.txt" / "x")


def test_truncated_and_corrupt_gzip(tmp_path: Path):
    data = gzip.compress(("word other\n" * 200_000).encode())
    (tmp_path / "t.txt.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"t\.txt\.gz: .*(gzip)") as e:
        count(tmp_path / "t.txt.gz")
    assert e.value.offset is not None
    bad = bytearray(data)
    bad[100:110] = b"\x00" * 10
    (tmp_path / "c.txt.gz").write_bytes(bytes(bad))
    with pytest.raises(InputError, match=r"c\.txt\.gz: .*gzip"):
        count(tmp_path / "c.txt.gz")


def test_truncated_and_corrupt_zstd(tmp_path: Path):
    import zstandard

    data = zstandard.ZstdCompressor().compress(("word other\n" * 200_000).encode())
    (tmp_path / "t.txt.zst").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"t\.txt\.zst: .*zstd"):
        count(tmp_path / "t.txt.zst")
    (tmp_path / "c.txt.zst").write_bytes(b"this is not zstd at all" * 10)
    with pytest.raises(InputError, match=r"c\.txt\.zst: .*zstd"):
        count(tmp_path / "c.txt.zst")


def test_malformed_json_line_names_the_line(tmp_path: Path):
    lines = [
        json.dumps({"text": "a b"}),
        json.dumps({"text": "c d"}),
        "{not json",
        json.dumps({"text": "e f"}),
    ]
    (tmp_path / "x.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"x\.jsonl: line 3, byte offset \d+: malformed JSON") as e:
        count(tmp_path / "x.jsonl")
    assert e.value.line == 3
    c = count(tmp_path / "x.jsonl", on_bad_record="skip")
    assert c.summary["skipped_documents"] == 1 and c.summary["documents"] == 3
    assert c.summary["samples"] == 3


def test_missing_and_non_text_json_field(tmp_path: Path):
    (tmp_path / "m.jsonl").write_text('{"text": "a b"}\n{"body": "c d"}\n')
    with pytest.raises(InputError, match=r'line 2.*no field "text".*body'):
        count(tmp_path / "m.jsonl")
    (tmp_path / "n.jsonl").write_text('{"text": 5}\n')
    with pytest.raises(InputError, match=r"line 1.*a number, not text"):
        count(tmp_path / "n.jsonl")
    (tmp_path / "l.jsonl").write_text("[1, 2]\n")
    with pytest.raises(InputError, match=r"not an object"):
        count(tmp_path / "l.jsonl")


def test_parquet_problems(tmp_path: Path):
    pq.write_table(pa.table({"text": [1, 2, 3]}), tmp_path / "ints.parquet")
    with pytest.raises(InputError, match=r'ints\.parquet.*column "text" has type Int64, not text'):
        count(tmp_path / "ints.parquet")
    pq.write_table(pa.table({"body": ["a"]}), tmp_path / "other.parquet")
    with pytest.raises(InputError, match=r'no column "text" \(columns: body\)'):
        count(tmp_path / "other.parquet")
    pq.write_table(pa.table({"text": ["a b", None, "c d"]}), tmp_path / "nulls.parquet")
    with pytest.raises(InputError, match=r"line 2.*null"):
        count(tmp_path / "nulls.parquet")
    assert count(tmp_path / "nulls.parquet", on_bad_record="skip").summary["skipped_documents"] == 1
    (tmp_path / "fake.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match=r"fake\.parquet.*not a readable Parquet file"):
        count(tmp_path / "fake.parquet")
    with pytest.raises(InputError, match="not text"):
        count(pa.table({"text": [1, 2]}))


def test_invalid_utf8(tmp_path: Path):
    (tmp_path / "u.txt").write_bytes(b"good line\nbad \xff\xfe here\nok\n")
    with pytest.raises(InputError, match=r"u\.txt: line 2, byte offset 14: invalid UTF-8"):
        count(tmp_path / "u.txt", on_invalid="error")
    c = count(tmp_path / "u.txt")
    assert c.summary["invalid_bytes"] == 2 and c.summary["documents"] == 3
    # A range shard that starts after the bad line still names the right line.
    (tmp_path / "v.txt").write_bytes(b"a b\n" * 1000 + b"x \xff\n")
    with pytest.raises(InputError, match=r"line 1001, byte offset 4002"):
        count(tmp_path / "v.txt", on_invalid="error", shard_bytes=100)


def test_empty_file_counts_nothing(tmp_path: Path):
    (tmp_path / "e.txt").write_bytes(b"")
    s = count(tmp_path / "e.txt").summary
    assert (s["documents"], s["samples"], s["distinct"], s["singleton_rate"]) == (0, 0, 0, 0.0)


def test_hundred_megabyte_line(tmp_path: Path):
    p = tmp_path / "long.txt"
    with open(p, "wb") as f:
        f.write(b"short line\n")
        f.write(b"x" * (100 << 20))
        f.write(b"\nafter it\n")
    with pytest.raises(
        InputError, match=r"long\.txt: line 2, byte offset 11: a 104857600-byte line"
    ):
        count(p)
    c = count(p, on_bad_record="skip")
    assert c.summary["skipped_documents"] == 1 and c.summary["documents"] == 2
    assert c.summary["samples"] == 2


def test_bad_options():
    t = pa.table({"text": ["a"]})
    for kw, msg in [
        ({"n": 0}, "n must be"),
        ({"n": 9}, "n must be"),
        ({"tokenizer": "bpe"}, "tokenizer must be"),
        ({"sample": 1.5}, "sample must be"),
        ({"memory": "lots"}, "memory must be"),
        ({"threads": -1}, "threads must be"),
        ({"progress": "loud"}, "progress must be"),
        ({"on_invalid": "ignore"}, "on_invalid must be"),
        ({"doc_per": "page"}, "doc_per must be"),
        ({"format": "xml"}, "unknown format"),
    ]:
        with pytest.raises(ConfigError, match=msg):
            mf.count_ngrams(t, **{"progress": "none", **kw})
    with pytest.raises(ConfigError, match="lowercase"):
        mf.count_ngrams(t, tokenizer="whitespace", lowercase=True, progress="none")
    with pytest.raises(ConfigError, match="a corpus is"):
        mf.count_ngrams(42, progress="none")
