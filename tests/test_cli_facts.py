"""``monofact facts``: the table, JSON, files written, and exit codes (0 ok, 2 usage/bad input)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

import monofact as mf
from monofact._cli_facts import add_facts_subcommand, parse_pattern
from monofact.cli import sample_corpus

SON_OF = r"father=\b(?P<subject>[A-Z][a-z]+) the son of (?P<object>[A-Z][a-z]+)\b"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="monofact")
    sub = p.add_subparsers(dest="command")
    add_facts_subcommand(sub)
    return p


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    args = parser().parse_args(["facts", *argv])
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "c.txt"
    path.write_text(
        "Abel the son of Adam met Paris in France.\n"
        "Seth the son of Adam\n"
        "Abel the son of Adam. Lutetia is not in Gaul\n"
        "Nothing here.\n"
    )
    return path


@pytest.fixture()
def kb(tmp_path: Path) -> Path:
    path = tmp_path / "kb.parquet"
    pq.write_table(
        pa.table(
            {
                "subject": ["Paris", "Abel", "Rome"],
                "relation": ["in", "son of", "in"],
                "object": ["France", "Adam", "Italy"],
                "subject_aliases": [["Lutetia"], [], None],
                "object_aliases": [["Gaul"], [], []],
            }
        ),
        path,
    )
    return path


def test_table_output(corpus, capsys):
    code, out, err = run([str(corpus), "--pattern", SON_OF, "--progress", "none"], capsys)
    assert code == 0, err
    assert "samples N (mentions)" in out and "singleton rate (prompts)" in out
    assert "Abel" in out and "top 2 facts (by mentions)" in out
    lines = [line.split() for line in out.splitlines()]
    assert ["2", "2", "Abel", "father", "Adam"] in lines
    assert ["1", "1", "Seth", "father", "Adam"] in lines


def test_json_output_equals_the_api(corpus, capsys):
    code, out, _ = run(
        [str(corpus), "--pattern", SON_OF, "--format", "json", "--progress", "none"], capsys
    )
    assert code == 0
    doc = json.loads(out)
    api = mf.count_facts(corpus, patterns={"father": SON_OF.split("=", 1)[1]}, progress="none")
    for key in ("samples", "distinct", "n1", "prompts", "singleton_prompts", "singleton_rate"):
        assert doc["summary"][key] == api.summary[key]
    assert doc["histogram"] == {"1": 1, "2": 1}
    assert doc["relations"] == [
        {"group": "father", "samples": 3, "singletons": 1, "singleton_rate": 1 / 3}
    ]
    assert [(r["subject"], r["mentions"]) for r in doc["top"]] == [("Abel", 2), ("Seth", 1)]


def test_kjv_json(capsys):
    code, out, _ = run(
        [
            str(sample_corpus()),
            "--pattern",
            SON_OF,
            "--format",
            "json",
            "--top",
            "3",
            "--threads",
            "2",
            "--progress",
            "none",
        ],
        capsys,
    )
    assert code == 0
    doc = json.loads(out)
    s = doc["summary"]
    assert (s["samples"], s["distinct"], s["n1"], s["singleton_prompts"]) == (842, 413, 289, 139)
    assert [r["subject"] for r in doc["top"]] == ["Jeroboam", "Joshua", "Benaiah"]


def test_knowledge_base_windows_and_outputs(corpus, kb, tmp_path, capsys):
    base = [str(corpus), "--knowledge-base", str(kb), "--progress", "none", "--format", "json"]
    code, out, _ = run(base, capsys)
    assert code == 0
    s = json.loads(out)["summary"]
    # Sentence windows: "Paris ... France" once, "Abel ... Adam" twice (the second verse's "Abel
    # the son of Adam." is its own sentence), "Lutetia ... Gaul" once.
    top = {(r["subject"], r["object"]): r["mentions"] for r in json.loads(out)["top"]}
    assert top == {("Abel", "Adam"): 2, ("Paris", "France"): 2}
    assert s["unmentioned_kb_facts"] == 1
    code, out, _ = run([*base, "--window", "tokens:2"], capsys)
    top = {(r["subject"], r["object"]): r["mentions"] for r in json.loads(out)["top"]}
    assert top == {("Paris", "France"): 1}  # Abel and Adam, Lutetia and Gaul are 4 tokens apart
    code, out, _ = run([*base, "--case-insensitive", "--count-by", "document"], capsys)
    assert code == 0 and json.loads(out)["summary"]["count_by"] == "document"

    for name in ("facts.parquet", "facts.csv", "summary.json"):
        out_path = tmp_path / name
        code, out, err = run(
            [
                str(corpus),
                "--knowledge-base",
                str(kb),
                "--out",
                str(out_path),
                "--progress",
                "none",
            ],
            capsys,
        )
        assert code == 0, err
        assert f"wrote {out_path}" in out
    table = pq.read_table(tmp_path / "facts.parquet")
    assert table.num_rows == 3  # every fact, the unmentioned one too
    assert table.column_names == [
        "subject",
        "relation",
        "object",
        "mentions",
        "documents",
        "first_document",
    ]
    assert pcsv.read_csv(tmp_path / "facts.csv").num_rows == 3
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["summary"]["samples"] == 4 and summary["histogram"] == {"2": 2}


def test_records(tmp_path, capsys):
    rows = [
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
    path = tmp_path / "records.jsonl"
    path.write_text(
        "".join(json.dumps({"subject": s, "relation": "r", "object": o}) + "\n" for s, o in rows)
    )
    code, out, _ = run(["--records", str(path), "--format", "json"], capsys)
    assert code == 0
    s = json.loads(out)["summary"]
    assert s["samples"] == 10 and s["singleton_rate"] == 0.5 and s["idk_samples"] == 3
    code, out, _ = run(["--records", str(path)], capsys)
    assert code == 0 and "IDK samples" in out


def test_two_relations_print_rates_by_relation(corpus, capsys):
    code, out, _ = run(
        [
            str(corpus),
            "--pattern",
            SON_OF,
            "--pattern",
            r"in=(?P<subject>[A-Z]\w+) in (?P<object>[A-Z]\w+)",
            "--progress",
            "none",
        ],
        capsys,
    )
    assert code == 0
    assert "singleton rate by relation:" in out
    assert any(line.split()[:1] == ["in"] for line in out.splitlines())


BAD = [
    ["{corpus}", "--pattern", r"father=(?P<subject>\w+) son"],  # no object group
    ["{corpus}", "--pattern", r"father=(?P<subject>\w+) (?P<object>\w+"],  # invalid regex
    ["{corpus}", "--pattern", r"(?P<subject>\w+) (?P<object>\w+)"],  # no RELATION=
    ["{corpus}", "--pattern", SON_OF, "--pattern", SON_OF],  # the same relation twice
    ["{missing}", "--pattern", r"father=(?P<subject>\w+) son"],  # config before input
    ["{corpus}", "--knowledge-base", "{missing}"],
    ["{corpus}", "--knowledge-base", "{kb}", "--window", "tokens:0"],
    ["{corpus}", "--knowledge-base", "{kb}", "--window", "chapter"],
    ["{corpus}", "--knowledge-base", "{badkb}"],  # no relation column
    ["{corpus}", "--knowledge-base", "{emptykb}"],  # an empty surface form
    ["{corpus}", "--pattern", SON_OF, "--window", "line"],
    ["{corpus}", "--pattern", SON_OF, "--case-insensitive"],
    ["{corpus}", "--knowledge-base", "{kb}", "--lowercase"],
    ["{corpus}"],  # nothing to count
    ["--pattern", SON_OF],  # no corpus
    ["{corpus}", "--records", "{kb}"],  # records with a corpus
    ["{missing}", "--pattern", SON_OF],  # bad input: the corpus does not exist
    ["{badjson}", "--pattern", SON_OF],  # bad input: a malformed JSON line
    ["{corpus}", "--pattern", SON_OF, "--out", "{tmp}/x.txt"],
    ["{corpus}", "--knowledge-base", "{corrupt}"],  # not a Parquet file
    ["--records", "{corrupt}"],
]


@pytest.mark.parametrize("argv", BAD, ids=[" ".join(a)[:60] for a in BAD])
def test_bad_usage_and_input_exit_2(argv, corpus, kb, tmp_path, capsys):
    pq.write_table(pa.table({"subject": ["a"], "object": ["b"]}), tmp_path / "badkb.parquet")
    (tmp_path / "empty.csv").write_text('subject,relation,object\na,r," "\n')
    (tmp_path / "bad.jsonl").write_text('{"text": "a"}\n{oops\n')
    (tmp_path / "corrupt.parquet").write_bytes(b"garbage")
    paths = {
        "corrupt": tmp_path / "corrupt.parquet",
        "corpus": corpus,
        "kb": kb,
        "missing": tmp_path / "missing.parquet",
        "tmp": tmp_path,
        "badkb": tmp_path / "badkb.parquet",
        "emptykb": tmp_path / "empty.csv",
        "badjson": tmp_path / "bad.jsonl",
    }
    argv = [a.format(**paths) for a in argv]
    code, out, err = run([*argv, "--progress", "none"], capsys)
    assert code == 2, (out, err)
    assert err.startswith("monofact facts: error: ") and len(err.strip().splitlines()) >= 1
    assert out == ""


def test_bad_input_messages_name_the_place(tmp_path, capsys):
    (tmp_path / "bad.jsonl").write_text('{"text": "a"}\n{oops\n')
    code, _, err = run(
        [str(tmp_path / "bad.jsonl"), "--pattern", SON_OF, "--progress", "none"], capsys
    )
    assert code == 2 and "bad.jsonl: line 2" in err
    code, _, err = run(
        [str(tmp_path / "nope.txt"), "--pattern", r"x=(?P<subject>a)", "--progress", "none"], capsys
    )
    assert code == 2 and "no named group `object`" in err  # configuration is checked first


def test_parse_pattern():
    assert parse_pattern("born in=(?P<subject>\\w+)=(?P<object>\\w+)") == (
        "born in",
        "(?P<subject>\\w+)=(?P<object>\\w+)",
    )
    with pytest.raises(mf.ConfigError):
        parse_pattern("noequals")


def test_python_m_monofact_facts(corpus):
    """Through the real entry point (cli.py wires the subcommand in)."""
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "monofact",
            "facts",
            str(corpus),
            "--pattern",
            SON_OF,
            "--format",
            "json",
            "--progress",
            "none",
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["summary"]["samples"] == 3
    r = subprocess.run(
        [sys.executable, "-m", "monofact", "facts", str(corpus), "--pattern", "x"],
        check=False,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "RELATION=REGEX" in r.stderr


def test_jsonl_text_field_and_threads(tmp_path, capsys):
    path = tmp_path / "c.jsonl"
    path.write_text(
        "".join(
            json.dumps({"meta": {"body": t}}) + "\n"
            for t in ["Abel the son of Adam", "Seth the son of Adam", "Abel the son of Adam"]
        )
    )
    code, out, err = run(
        [
            str(path),
            "--text-field",
            "meta.body",
            "--pattern",
            SON_OF,
            "--threads",
            "1",
            "--count-by",
            "document",
            "--format",
            "json",
            "--progress",
            "none",
        ],
        capsys,
    )
    assert code == 0, err
    s = json.loads(out)["summary"]
    assert (s["samples"], s["distinct"], s["n1"], s["documents"]) == (3, 2, 1, 3)
    code, _, err = run([str(path), "--pattern", SON_OF, "--progress", "none"], capsys)
    assert code == 2 and 'no field "text"' in err


def test_docstring_examples():
    import doctest

    import monofact._cli_facts

    assert doctest.testmod(monofact._cli_facts, optionflags=doctest.ELLIPSIS).failed == 0
