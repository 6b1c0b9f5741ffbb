"""The `floor` and `grade` subcommands, called through a parser built here."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from monofact._cli_analysis import add_subcommands
from monofact.floors import hallucination_floor

PHI = {1: 10, 2: 6, 3: 4, 5: 2, 8: 1}


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="monofact")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    rc: int = args.func(args)
    return rc


def hist_table(hist: dict[int, int]) -> pa.Table:
    return pa.table(
        {
            "r": pa.array(list(hist), pa.uint64()),
            "n_r": pa.array(list(hist.values()), pa.uint64()),
        }
    )


@pytest.fixture
def hist_parquet(tmp_path: Path) -> Path:
    p = tmp_path / "hist.parquet"
    pq.write_table(hist_table(PHI), p)
    return p


def test_floor_table_output(hist_parquet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["floor", str(hist_parquet), "--min-wrong", "364", "--max-wrong", "364"]) == 0
    out = capsys.readouterr().out
    assert "VACUOUS" in out and "asymptotic floor" in out and "N = 52" in out


def test_floor_json_output(hist_parquet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = run(
        [
            "floor",
            str(hist_parquet),
            "--min-wrong",
            "364",
            "--calibration-gap",
            "0.01",
            "--confidence",
            "0.95",
            "--format",
            "json",
        ]
    )
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    want = hallucination_floor(PHI, min_wrong=364, calibration_gap=0.01, confidence=0.95)
    assert d["lower"] == pytest.approx(want.lower)
    assert d["vacuous"] is True and d["samples"] == 52
    assert d["lower_paper"] is None and d["upper"] is None


def test_floor_json_file_and_overrides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "h.json"
    p.write_text(json.dumps({str(k): v for k, v in PHI.items()}))
    argv = ["floor", str(p), "--min-wrong", "364", "--max-wrong", "364", "--format", "json"]
    assert run([*argv, "--singleton-rate", "0.2", "--samples", "1000000"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["lower_paper"] == pytest.approx(0.0766124, abs=1e-6)
    assert d["upper_paper"] == pytest.approx(0.212452, abs=1e-6)


def test_floor_saved_counts_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "counts"
    d.mkdir()
    pq.write_table(hist_table(PHI), d / "histogram.parquet")
    (d / "summary.json").write_text(json.dumps({"samples": 10**9, "singleton_rate": 0.2}))
    assert run(["floor", str(d), "--min-wrong", "364", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["samples"] == 10**9 and out["singleton_rate"] == 0.2
    assert out["lower_paper"] == pytest.approx(0.189467, abs=1e-6)
    # A manifest.json carrying the summary works too.
    (d / "summary.json").unlink()
    (d / "manifest.json").write_text(
        json.dumps({"version": 1, "summary": {"samples": 10**6, "singleton_rate": 0.2}})
    )
    assert run(["floor", str(d), "--min-wrong", "364", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["samples"] == 10**6
    # Without a summary the histogram gives N and sr.
    (d / "manifest.json").unlink()
    assert run(["floor", str(d), "--min-wrong", "364", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["samples"] == 52


def test_floor_extrapolate(hist_parquet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["floor", str(hist_parquet), "--min-wrong", "364", "--extrapolate", "2"]) == 0
    assert "UNRELIABLE" in capsys.readouterr().out
    argv = ["floor", str(hist_parquet), "--min-wrong", "364", "--extrapolate", "2"]
    assert run([*argv, "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["extrapolated"]["reliable"] is False and d["extrapolated"]["factor"] == 2


@pytest.mark.parametrize(
    ("setup", "extra", "needle"),
    [
        ("missing", [], "no such file"),
        ("negative", [], "negative"),
        ("badjson", [], "not valid JSON"),
        ("emptydir", [], "histogram.parquet"),
        ("notparquet", [], "Parquet"),
        ("ok", ["--min-wrong", "0"], "min_wrong"),
        ("ok", ["--confidence", "1.5"], "confidence"),
        ("ok", ["--extrapolate", "0.5"], "factor"),
    ],
)
def test_floor_bad_input(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    setup: str,
    extra: list[str],
    needle: str,
) -> None:
    path = tmp_path / "x.parquet"
    if setup == "negative":
        path = tmp_path / "h.json"
        path.write_text('{"1": -3}')
    elif setup == "badjson":
        path = tmp_path / "h.json"
        path.write_text("{1: 3")
    elif setup == "emptydir":
        path = tmp_path / "dir"
        path.mkdir()
    elif setup == "notparquet":
        path.write_text("hello")
    elif setup == "ok":
        pq.write_table(hist_table(PHI), path)
    # a repeated --min-wrong in `extra` overrides the first (argparse keeps the last)
    assert run(["floor", str(path), "--min-wrong", "364", *extra]) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("monofact floor: error:")
    assert needle in lines[0]


RESULTS = [
    {"question_id": 1, "answer": "Paris", "correct": True, "confidence": 0.9},
    {"question_id": 2, "answer": "Lyon", "correct": False, "confidence": 0.4},
    {"question_id": 3, "answer": "IDK", "correct": False, "confidence": 0.1},
    {"question_id": 4, "answer": "Rome", "correct": True, "confidence": 0.8},
]


@pytest.fixture
def results_jsonl(tmp_path: Path) -> Path:
    p = tmp_path / "results.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in RESULTS))
    return p


def test_grade_table_and_json(results_jsonl: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["grade", str(results_jsonl)]) == 0
    out = capsys.readouterr().out
    assert "binary score" in out and "0.9" in out
    assert run(["grade", str(results_jsonl), "--targets", "0.5,0.75", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["accuracy"] == 0.5 and [t["t"] for t in d["targets"]] == [0.5, 0.75]
    assert d["targets"][1]["score"] == pytest.approx(-0.25)


def test_grade_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "r.csv"
    p.write_text("question_id,answer,correct\n1,a,true\n2,,false\n3,b,false\n")
    assert run(["grade", str(p), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["correct"], d["wrong"], d["abstained"]) == (1, 1, 1)


@pytest.mark.parametrize(
    ("targets", "needle"),
    [("0.5,1.0", "target"), ("0.5,abc", "abc"), (",", "at least one"), ("0", "target")],
)
def test_grade_bad_targets(
    results_jsonl: Path, capsys: pytest.CaptureFixture[str], targets: str, needle: str
) -> None:
    assert run(["grade", str(results_jsonl), "--targets", targets]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("monofact grade: error:") and needle in err[0]


def test_grade_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["grade", str(tmp_path / "nope.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    p = tmp_path / "r.jsonl"
    p.write_text('{"answer": "a"}\n')
    assert run(["grade", str(p)]) == 2
    assert "correct" in capsys.readouterr().err
    q = tmp_path / "r.jsonl"
    q.write_text("{not json\n")
    assert run(["grade", str(q)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_handlers_in_a_fresh_interpreter(hist_parquet: Path) -> None:
    code = (
        "import argparse, sys\n"
        "from monofact._cli_analysis import add_subcommands\n"
        "p = argparse.ArgumentParser(prog='monofact')\n"
        "add_subcommands(p.add_subparsers(dest='command', required=True))\n"
        "a = p.parse_args(sys.argv[1:])\n"
        "sys.exit(a.func(a))\n"
    )
    ok = subprocess.run(
        [sys.executable, "-c", code, "floor", str(hist_parquet), "--min-wrong", "364"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert "Hallucination floor" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-c", code, "floor", "/nonexistent.parquet", "--min-wrong", "364"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().count("\n") == 0 and "no such file" in bad.stderr
