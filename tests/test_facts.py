"""Fact counting: templates on the real KJV corpus against ``re``, records against MATH.md T4 and a
brute-force oracle, every source format, thread and shard invariance, and configuration errors
raised before any scanning."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import monofact as mf
from conftest import KJV
from monofact import ConfigError, InputError
from monofact.cli import sample_corpus

SON_OF = r"\b(?P<subject>[A-Z][a-z]+) the son of (?P<object>[A-Z][a-z]+)\b"
PATTERNS = {"father": SON_OF}


def facts(corpus, **kw):
    kw.setdefault("progress", "none")
    return mf.count_facts(corpus, **kw)


def as_dict(f: mf.FactCounts) -> dict[tuple[str, str, str], tuple[int, int, int | None]]:
    return {
        (r["subject"], r["relation"], r["object"]): (
            r["mentions"],
            r["documents"],
            r["first_document"],
        )
        for r in f.table().to_pylist()
    }


STABLE_SUMMARY = (
    "count_by",
    "samples",
    "fact_samples",
    "idk_samples",
    "mentions",
    "distinct",
    "n1",
    "n2",
    "fact_singleton_rate",
    "prompts",
    "singleton_prompts",
    "singleton_rate",
    "conflicting_prompts",
    "distinct_subjects",
    "distinct_objects",
    "unmentioned_kb_facts",
    "documents",
    "bytes",
)


def stable(f: mf.FactCounts) -> dict:
    return {k: f.summary[k] for k in STABLE_SUMMARY}


# --- KJV: the template against a plain re.finditer oracle ------------------------------------------


@pytest.fixture(scope="module")
def kjv_verses() -> list[str]:
    text = (KJV / "kjv.txt").read_text(encoding="utf-8")
    assert text.endswith("\n")
    return text[:-1].split("\n")


@pytest.fixture(scope="module")
def oracle(kjv_verses):
    """fact -> [mentions, documents, first line index (0-based)]."""
    rx = re.compile(SON_OF)
    table: dict[tuple[str, str, str], list[int]] = {}
    for i, line in enumerate(kjv_verses):
        seen = set()
        for m in rx.finditer(line):
            key = (m.group("subject"), "father", m.group("object"))
            entry = table.setdefault(key, [0, 0, i])
            entry[0] += 1
            if key not in seen:
                entry[1] += 1
                seen.add(key)
    return {k: tuple(v) for k, v in table.items()}


@pytest.mark.parametrize("source", ["bundled zstd", "kjv.txt"])
def test_kjv_son_of_equals_re_oracle(source, oracle, kjv_verses):
    path = sample_corpus() if source == "bundled zstd" else KJV / "kjv.txt"
    f = facts(path, patterns=PATTERNS)
    assert as_dict(f) == oracle
    s = f.summary
    # The README figures.
    assert s["documents"] == len(kjv_verses) == 31_102
    assert (s["samples"], s["distinct"], s["n1"]) == (842, 413, 289)
    assert s["fact_singleton_rate"] == pytest.approx(289 / 842)
    assert (s["prompts"], s["singleton_prompts"]) == (283, 139)
    assert f.singleton_rate == pytest.approx(139 / 842) == pytest.approx(0.165083, abs=1e-6)
    assert s["conflicting_prompts"] == 78 and s["distinct_objects"] == 302
    hist = dict(zip(*(f.histogram().column(c).to_pylist() for c in ("r", "n_r"))))
    assert hist == {
        1: 289,
        2: 46,
        3: 20,
        4: 18,
        5: 21,
        6: 4,
        7: 1,
        8: 4,
        10: 1,
        11: 1,
        12: 2,
        15: 1,
        16: 2,
        20: 1,
        24: 1,
        25: 1,
    }
    top = f.table().slice(0, 3).to_pylist()
    assert [(r["subject"], r["object"], r["mentions"]) for r in top] == [
        ("Jeroboam", "Nebat", 25),
        ("Joshua", "Nun", 24),
        ("Benaiah", "Jehoiada", 20),
    ]
    # The order is defined: count descending, then subject, relation, object.
    rows = f.table().to_pylist()
    keys = [(-r["mentions"], r["subject"], r["relation"], r["object"]) for r in rows]
    assert keys == sorted(keys)


def test_kjv_prompts_and_relations(oracle):
    f = facts(sample_corpus(), patterns=PATTERNS)
    prompts = f.prompts().to_pylist()
    per_prompt: Counter[tuple[str, str]] = Counter()
    objects: dict[tuple[str, str], set[str]] = defaultdict(set)
    for (s, r, o), (n, _, _) in oracle.items():
        per_prompt[(s, r)] += n
        objects[(s, r)].add(o)
    assert len(prompts) == len(per_prompt) == 283
    for p in prompts:
        key = (p["subject"], p["relation"])
        assert p["answers"] == p["mentions"] == per_prompt[key]
        assert p["idk"] == 0
        assert p["distinct_objects"] == len(objects[key])
        assert p["singleton"] == (per_prompt[key] == 1)
    rates = f.singleton_rates().to_pylist()
    assert len(rates) == 1 and rates[0]["group"] == "father"
    assert (rates[0]["samples"], rates[0]["singletons"]) == (842, 139)
    by_rel = f.histogram(by="relation")
    assert set(by_rel["relation"].to_pylist()) == {"father"}
    assert by_rel.select(["r", "n_r"]).to_pylist() == f.histogram().to_pylist()


def test_kjv_by_document(oracle):
    f = facts(sample_corpus(), patterns=PATTERNS, count_by="document")
    s = f.summary
    assert s["samples"] == 840 == sum(v[1] for v in oracle.values())
    assert s["n1"] == 289 == sum(1 for v in oracle.values() if v[1] == 1)
    assert s["count_by"] == "document"
    assert as_dict(f) == oracle  # same table, the documents column is the count
    docs_first = [(-r["documents"], r["subject"], r["object"]) for r in f.table().to_pylist()]
    assert docs_first == sorted(docs_first)


def test_kjv_lowercase_merges_captures():
    f = facts(sample_corpus(), patterns=PATTERNS, lowercase=True)
    assert f.summary["samples"] == 842
    assert all(r["subject"].islower() and r["object"].islower() for r in f.table().to_pylist())


# --- templates: random texts against re.finditer ----------------------------------------------------

TEMPLATES = {
    "of": r"(?P<subject>[a-z]+) of (?P<object>[a-z]+)",
    "is": r"\b(?P<subject>\w+) is (?:an? )?(?P<object>\w+)?",
    "pair": r"(?P<object>\d+)-(?P<subject>\w)",
}


def template_oracle(docs, patterns, lowercase=False, normalize_whitespace=False):
    table: dict[tuple[str, str, str], list] = {}
    for d, text in enumerate(docs):
        seen = set()
        for rel, rx in patterns.items():
            for m in re.finditer(rx, text):
                s, o = m.group("subject"), m.group("object")
                if s is None or o is None:
                    continue
                if lowercase:
                    s, o = "".join(c.lower() for c in s), "".join(c.lower() for c in o)
                if normalize_whitespace:
                    s, o = " ".join(s.split()), " ".join(o.split())
                if not s or not o:
                    continue
                key = (s, rel, o)
                entry = table.setdefault(key, [0, 0, d])
                entry[0] += 1
                if key not in seen:
                    entry[1] += 1
                    seen.add(key)
    return {k: tuple(v) for k, v in table.items()}


words = st.sampled_from(
    ["of", "is", "a", "an", "cat", "Dog", "x", "7", "12", "-", "b", "of of", "the"]
)
texts = st.lists(st.lists(words, max_size=12).map(" ".join), min_size=1, max_size=5)


@settings(max_examples=100, deadline=None)
@given(docs=texts, lowercase=st.booleans())
def test_templates_match_re_oracle(docs, lowercase):
    f = facts(pa.table({"text": docs}), patterns=TEMPLATES, lowercase=lowercase, threads=1)
    assert as_dict(f) == template_oracle(docs, TEMPLATES, lowercase=lowercase)


def test_normalize_whitespace_and_empty_captures():
    docs = ["Mary  \t Ann  was born in  New\u00a0York.", "X was born in ."]
    rx = {"born": r"(?P<subject>[A-Z][\w\s]*?)\s+was born in\s+(?P<object>[\w\s]*)\."}
    f = facts(pa.table({"text": docs}), patterns=rx, normalize_whitespace=True)
    assert as_dict(f) == template_oracle(docs, rx, normalize_whitespace=True)
    assert list(as_dict(f)) == [("Mary Ann", "born", "New York")]


# --- records: MATH.md T4 and a brute-force oracle -------------------------------------------------

T4 = [
    ("c1", "a"),
    ("c1", "a"),
    ("c2", "b"),
    ("c3", None),
    ("c3", "x"),
    ("c4", "y"),
    ("c5", None),
    ("c6", "z"),
    ("c6", "IDK"),
    ("c7", "w"),
]


@pytest.mark.parametrize("count_by", ["mention", "document"])
def test_records_t4(count_by):
    rows = [{"subject": c, "relation": "r", "object": o} for c, o in T4]
    f = facts(None, records=rows, count_by=count_by)
    s = f.summary
    assert s["samples"] == 10 and s["idk_samples"] == 3 and s["fact_samples"] == 7
    assert s["singleton_prompts"] == 5
    assert f.singleton_rate == 0.5
    singles = {p["subject"] for p in f.prompts().to_pylist() if p["singleton"]}
    assert singles == {"c2", "c3", "c4", "c6", "c7"}
    assert as_dict(f)[("c1", "r", "a")][0] == 2


def test_records_from_files(tmp_path: Path):
    rows = [{"subject": c, "relation": "r", "object": o} for c, o in T4]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "r.parquet")
    (tmp_path / "r.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    a = facts(None, records=tmp_path / "r.parquet")
    b = facts(None, records=str(tmp_path / "r.jsonl"))
    c = facts(None, records=pa.Table.from_pylist(rows))
    assert as_dict(a) == as_dict(b) == as_dict(c)
    assert a.singleton_rate == b.singleton_rate == 0.5


def test_records_all_idk():
    """Every answer is an abstention: N samples, no facts, no singleton. A list of dicts whose
    objects are all None becomes an Arrow column of type null, which is a column of IDKs."""
    rows = [
        {"subject": "s1", "relation": "r", "object": None},
        {"subject": "s2", "relation": "r", "object": None},
    ]
    typed = pa.table(
        {k: pa.array([r[k] for r in rows], pa.string()) for k in ("subject", "relation", "object")}
    )
    for records in (typed, rows):
        f = facts(None, records=records)
        assert f.summary["samples"] == 2 and f.summary["idk_samples"] == 2
        assert f.summary["distinct"] == 0 and f.singleton_rate == 0.0


IDK = ("", "IDK", "idk", "I don't know", "I do not know")
record = st.tuples(
    st.sampled_from(["s1", "s2", "s3", "s4", "s5"]),
    st.sampled_from(["r", "q"]),
    st.one_of(st.none(), st.sampled_from(["a", "b", "c", "IDK", "", "I don't know"])),
)


@settings(max_examples=100, deadline=None)
@given(records=st.lists(record, min_size=1, max_size=30))
def test_records_match_oracle(records):
    columns = list(zip(*records))
    table = pa.table(
        {
            name: pa.array(col, pa.string())
            for name, col in zip(("subject", "relation", "object"), columns)
        }
    )
    f = facts(None, records=table)
    answers: dict[tuple[str, str], int] = defaultdict(int)
    table: dict[tuple[str, str, str], list[int]] = {}
    for i, (s, r, o) in enumerate(records):
        answers.setdefault((s, r), 0)
        if o is None or o in IDK:
            continue
        answers[(s, r)] += 1
        entry = table.setdefault((s, r, o), [0, 0, i])
        entry[0] += 1
        entry[1] += 1
    assert as_dict(f) == {k: tuple(v) for k, v in table.items()}
    singles = sum(1 for n in answers.values() if n == 1)
    s = f.summary
    assert s["samples"] == len(records)
    assert s["idk_samples"] == len(records) - sum(answers.values())
    assert s["singleton_prompts"] == singles
    assert f.singleton_rate == pytest.approx(singles / len(records))
    assert s["n1"] == sum(1 for v in table.values() if v[0] == 1)


# --- sources, threads and shards ------------------------------------------------------------------

KB_ROWS = [
    {"subject": "Jeroboam", "relation": "father", "object": "Nebat"},
    {"subject": "Joshua", "relation": "father", "object": "Nun"},
    {"subject": "David", "relation": "king of", "object": "Israel"},
    {"subject": "Moses", "relation": "brother", "object": "Aaron"},
    {"subject": "Jerusalem", "relation": "in", "object": "Judah", "subject_aliases": ["Zion"]},
]


@pytest.fixture(scope="module")
def kjv_sources(tmp_path_factory, kjv_verses):
    d = tmp_path_factory.mktemp("sources")
    (d / "kjv.txt").write_text("\n".join(kjv_verses) + "\n", encoding="utf-8")
    with open(d / "kjv.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps({"id": 1, "text": v}) + "\n" for v in kjv_verses)
    table = pa.table({"text": kjv_verses})
    pq.write_table(table, d / "kjv.parquet", row_group_size=5000)
    return {
        "txt": d / "kjv.txt",
        "zst": sample_corpus(),
        "jsonl": d / "kjv.jsonl",
        "parquet": d / "kjv.parquet",
        "arrow": table,
    }


@pytest.mark.parametrize(
    "mode",
    [
        {"patterns": PATTERNS},
        {"knowledge_base": pa.Table.from_pylist(KB_ROWS), "window": "sentence"},
        {"knowledge_base": pa.Table.from_pylist(KB_ROWS), "window": "tokens:8"},
    ],
    ids=["template", "kb-sentence", "kb-tokens"],
)
def test_every_source_gives_the_same_table(kjv_sources, mode):
    results = {name: facts(src, **mode) for name, src in kjv_sources.items()}
    ref = results["txt"]
    assert ref.summary["samples"] > 0
    for name, f in results.items():
        assert f.table().equals(ref.table()), name
        assert f.histogram().equals(ref.histogram()), name
        assert f.prompts().equals(ref.prompts()), name
        assert f.summary["documents"] == 31_102, name
        assert f.singleton_rate == ref.singleton_rate, name


@pytest.mark.parametrize(
    "mode",
    [{"patterns": PATTERNS}, {"knowledge_base": pa.Table.from_pylist(KB_ROWS), "window": "line"}],
    ids=["template", "kb"],
)
def test_threads_and_shards_do_not_change_the_output(kjv_sources, mode):
    runs = [
        facts(kjv_sources["txt"], threads=1, **mode),
        facts(kjv_sources["txt"], threads=2, **mode),
        facts(kjv_sources["txt"], threads=2, shard_bytes=64 * 1024, **mode),
        facts(kjv_sources["txt"], threads=1, shard_bytes=100_000, **mode),
        facts([kjv_sources["txt"], kjv_sources["txt"]], threads=2, shard_bytes=200_000, **mode),
    ]
    assert runs[2].summary["shards"] > 1
    for f in runs[1:4]:
        assert f.table().equals(runs[0].table())
        assert f.prompts().equals(runs[0].prompts())
        assert f.histogram().equals(runs[0].histogram())
        assert stable(f) == stable(runs[0])
    # Twice the corpus: every count doubles, first documents stay.
    twice, once = as_dict(runs[4]), as_dict(runs[0])
    assert twice == {k: (2 * m, 2 * d, first) for k, (m, d, first) in once.items()}


def test_kb_unmentioned_facts_are_listed_with_zero(kjv_sources):
    rows = KB_ROWS + [{"subject": "Zaphnathpaaneah", "relation": "x", "object": "Quetzalcoatl"}]
    f = facts(kjv_sources["arrow"], knowledge_base=rows)
    t = as_dict(f)
    assert t[("Zaphnathpaaneah", "x", "Quetzalcoatl")] == (0, 0, None)
    assert f.summary["unmentioned_kb_facts"] >= 1
    assert t[("Jeroboam", "father", "Nebat")][0] >= 25


def test_kb_null_aliases_and_batches():
    kb = pa.table(
        {
            "subject": ["Paris", "Rome"],
            "relation": ["in", "in"],
            "object": ["France", "Italy"],
            "subject_aliases": pa.array([["Lutetia", None], None], pa.list_(pa.string())),
        }
    )
    f = facts(pa.table({"text": ["Lutetia, France. Rome, Italy", "Rome"]}), knowledge_base=kb)
    assert as_dict(f) == {("Paris", "in", "France"): (1, 1, 0), ("Rome", "in", "Italy"): (1, 1, 0)}
    # Rows are numbered across record batches in error messages.
    two = pa.concat_tables(
        [
            pa.table({"subject": ["a"], "relation": ["r"], "object": ["b"]}),
            pa.table({"subject": ["c"], "relation": ["r"], "object": [""]}),
        ]
    )
    assert len(two.to_batches()) == 2
    with pytest.raises(ConfigError, match="row 1: the object is empty"):
        facts(pa.table({"text": ["x"]}), knowledge_base=two)


def test_kb_from_files(tmp_path: Path, kjv_sources):
    table = pa.Table.from_pylist(KB_ROWS)
    pq.write_table(table, tmp_path / "kb.parquet")
    flat = [{k: v for k, v in r.items() if k != "subject_aliases"} for r in KB_ROWS]
    (tmp_path / "kb.csv").write_text(
        "subject,relation,object\n"
        + "".join(f"{r['subject']},{r['relation']},{r['object']}\n" for r in flat)
    )
    a = facts(kjv_sources["arrow"], knowledge_base=tmp_path / "kb.parquet")
    b = facts(kjv_sources["arrow"], knowledge_base=table)
    c = facts(kjv_sources["arrow"], knowledge_base=str(tmp_path / "kb.csv"))
    assert a.table().equals(b.table())
    assert as_dict(c)[("Moses", "brother", "Aaron")] == as_dict(a)[("Moses", "brother", "Aaron")]


# --- configuration errors come first, bad corpora like count_ngrams --------------------------------

GOOD_KB = pa.table({"subject": ["a"], "relation": ["r"], "object": ["b"]})
BAD_CONFIGS = [
    ({"patterns": {"r": r"(?P<subject>\w+) is"}}, "no named group `object`"),
    ({"patterns": {"r": r"is (?P<object>\w+)"}}, "no named group `subject`"),
    ({"patterns": {"r": r"(?P<subject>\w+) (?P<object>\w+"}}, "not a valid regex"),
    ({"patterns": {"": r"(?P<subject>\w) (?P<object>\w)"}}, "empty relation"),
    ({"patterns": {}}, "non-empty"),
    (
        {"knowledge_base": pa.table({"subject": ["a"], "object": ["b"]})},
        'missing the column "relation"',
    ),
    ({"knowledge_base": pa.table({"subject": ["a"], "relation": ["r"], "obj": ["b"]})}, '"object"'),
    (
        {"knowledge_base": pa.table({"subject": [""], "relation": ["r"], "object": ["b"]})},
        "row 0: the subject is empty",
    ),
    (
        {
            "knowledge_base": pa.table(
                {"subject": ["a", "c"], "relation": ["r", "r"], "object": ["b", "  "]}
            )
        },
        "row 1: the object is empty",
    ),
    (
        {
            "knowledge_base": pa.table(
                {"subject": ["a"], "relation": pa.array([None], pa.string()), "object": ["b"]}
            )
        },
        "relation is empty",
    ),
    (
        {
            "knowledge_base": pa.table(
                {
                    "subject": ["a"],
                    "relation": ["r"],
                    "object": ["b"],
                    "subject_aliases": [["ok", ""]],
                }
            )
        },
        "subject_aliases is empty",
    ),
    ({"knowledge_base": pa.table({"subject": [1], "relation": ["r"], "object": ["b"]})}, "type"),
    (
        {
            "knowledge_base": pa.table(
                {
                    "subject": pa.array([], pa.string()),
                    "relation": pa.array([], pa.string()),
                    "object": pa.array([], pa.string()),
                }
            )
        },
        "no rows",
    ),
    ({"knowledge_base": "/nonexistent/kb.parquet"}, "does not exist"),
    ({"knowledge_base": GOOD_KB, "window": "tokens:0"}, "k >= 1"),
    ({"knowledge_base": GOOD_KB, "window": "tokens:x"}, "window"),
    ({"knowledge_base": GOOD_KB, "window": "chapter"}, "window"),
    ({"patterns": PATTERNS, "count_by": "verse"}, "count_by"),
    ({"patterns": PATTERNS, "knowledge_base": GOOD_KB}, "exactly one"),
    ({}, "exactly one"),
]


@pytest.mark.parametrize("kwargs,message", BAD_CONFIGS)
def test_config_errors_before_scanning(tmp_path: Path, kwargs, message):
    # The corpus does not exist: a ConfigError proves the configuration was checked first.
    with pytest.raises(ConfigError, match=re.escape(message)):
        facts(tmp_path / "missing.txt", **kwargs)
    # And on a corpus that exists the same error comes, not a partial result.
    (tmp_path / "c.txt").write_text("a is b\n")
    with pytest.raises(ConfigError, match=re.escape(message)):
        facts(tmp_path / "c.txt", **kwargs)


@pytest.mark.parametrize(
    "name,content",
    [
        ("kb.parquet", b"garbage"),
        ("kb.csv", b'subject,relation\n"a,b\n'),
        ("kb.jsonl", b'{"subject": "a"\n'),
    ],
)
def test_corrupt_knowledge_base_file_is_a_monofact_error(tmp_path: Path, name, content):
    """A knowledge-base (or records) file that cannot be parsed is bad input: a monofact error
    naming the file, not a pyarrow exception."""
    (tmp_path / name).write_bytes(content)
    (tmp_path / "c.txt").write_text("a b\n")
    with pytest.raises(mf.MonofactError, match=re.escape(name)):
        facts(tmp_path / "c.txt", knowledge_base=tmp_path / name)
    with pytest.raises(mf.MonofactError, match=re.escape(name)):
        facts(None, records=tmp_path / name)


def test_config_errors_for_records():
    with pytest.raises(ConfigError, match="do not pass a corpus"):
        facts("x.txt", records=[{"subject": "a", "relation": "r", "object": "b"}])
    with pytest.raises(ConfigError, match='no column "relation"'):
        facts(None, records=[{"subject": "a", "object": "b"}])
    with pytest.raises(ConfigError, match="needs a corpus"):
        facts(None, patterns=PATTERNS)


def test_bad_corpus_like_count_ngrams(tmp_path: Path):
    with pytest.raises(InputError, match=r"nope\.txt.*cannot read") as e:
        facts(tmp_path / "nope.txt", patterns=PATTERNS)
    assert e.value.path.endswith("nope.txt")
    lines = [json.dumps({"text": "Abel the son of Adam"}), "{not json", json.dumps({"text": "x"})]
    (tmp_path / "x.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"x\.jsonl: line 2, byte offset \d+: malformed JSON") as e:
        facts(tmp_path / "x.jsonl", knowledge_base=GOOD_KB)
    assert e.value.line == 2
    f = facts(tmp_path / "x.jsonl", patterns=PATTERNS, on_bad_record="skip")
    assert f.summary["skipped_documents"] == 1 and f.summary["samples"] == 1
    (tmp_path / "m.jsonl").write_text('{"text": "a"}\n{"body": "b"}\n')
    with pytest.raises(InputError, match=r'm\.jsonl: line 2.*no field "text"'):
        facts(tmp_path / "m.jsonl", patterns=PATTERNS)
    (tmp_path / "bad.txt").write_bytes(b"Abel the son of Adam\n\xff\xfe\n")
    with pytest.raises(InputError, match=r"bad\.txt"):
        facts(tmp_path / "bad.txt", patterns=PATTERNS, on_invalid="error")
    f = facts(tmp_path / "bad.txt", patterns=PATTERNS)
    assert f.summary["invalid_bytes"] == 2 and f.summary["samples"] == 1
