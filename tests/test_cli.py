"""The command line: the README's demo, count, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from monofact.cli import main


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monofact", *args],
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_demo_runs_end_to_end(tmp_path: Path):
    # The README's first Quick start command, with the installed package, in a clean directory.
    p = run("demo", "--progress", "none", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "31,102 verses" in out
    assert "singleton rate 0.3334" in out
    assert "sr = 0.1651" in out
    assert "asymptotic floor" in out and "guaranteed bound" in out and "vacuous" in out
    assert (tmp_path / "monofact-demo-report" / "report.html").exists()


def test_demo_json(tmp_path: Path):
    p = run(
        "demo", "--format", "json", "--progress", "none", "--out", str(tmp_path / "r"), cwd=tmp_path
    )
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["facts"]["samples"] == 842 and d["facts"]["singleton_prompts"] == 139
    assert d["trigrams"]["documents"] == 31_102
    assert d["floor"]["vacuous"] is True


def test_count_table_json_and_out(kjv_tok, tmp_path: Path, capsys):
    assert (
        main(
            [
                "count",
                str(kjv_tok),
                "--n",
                "3",
                "--tokenizer",
                "whitespace",
                "--pad",
                "--progress",
                "none",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "399,575" in out and "294,132" in out
    code = main(
        [
            "count",
            str(kjv_tok),
            "--n",
            "2",
            "--tokenizer",
            "whitespace",
            "--format",
            "json",
            "--progress",
            "none",
            "--out",
            str(tmp_path / "bi.parquet"),
        ]
    )
    assert code == 0
    d = json.loads(capsys.readouterr().out)
    assert d["summary"]["distinct"] == 140_349 and d["histogram"]["1"] == 80_180
    import pyarrow.parquet as pq

    t = pq.read_table(tmp_path / "bi.parquet")
    assert t.num_rows == 140_349 and t.column_names == ["ngram", "count"]


def test_exit_codes(tmp_path: Path, capsys):
    assert main(["count", str(tmp_path / "missing.txt"), "--progress", "none"]) == 2
    err = capsys.readouterr().err
    assert "missing.txt" in err and "error" in err
    assert main(["count", str(tmp_path), "--n", "0", "--progress", "none"]) == 2
    with pytest.raises(SystemExit) as e:
        main(["count"])
    assert e.value.code == 2
    assert main([]) == 2
    p = run("--version")
    assert p.returncode == 0 and p.stdout.startswith("monofact ")


def test_lm_fit_and_score(kjv_tok, tmp_path: Path, capsys):
    arpa = tmp_path / "kjv.arpa"
    assert (
        main(["lm", "fit", str(kjv_tok), "--order", "2", "--out", str(arpa), "--progress", "none"])
        == 0
    )
    assert "2-grams 141,365" in capsys.readouterr().out
    held = tmp_path / "held.txt"
    held.write_text("in the beginning god created the heaven and the earth .\nunknownword here\n")
    assert main(["lm", "score", str(arpa), str(held), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["sentences"] == 2 and all(s < 0 for s in d["log10_probs"]) and d["perplexity"] > 1
    assert main(["lm", "score", str(tmp_path / "missing.arpa"), str(held)]) == 2
