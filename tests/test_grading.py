"""Confidence-target grading: MATH.md section 4 and test vector T7."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monofact.errors import ConfigError, InputError
from monofact.grading import (
    BENCHMARKS,
    Grades,
    benchmarks,
    grade,
    penalty,
    target_score,
)

ROWS: list[dict[str, Any]] = [
    {"question_id": "q1", "answer": "Paris", "correct": True, "confidence": 0.95},
    {"question_id": "q2", "answer": "Lyon", "correct": False, "confidence": 0.6},
    {"question_id": "q3", "answer": "IDK", "correct": False, "confidence": 0.1},
    {"question_id": "q4", "answer": "Rome", "correct": True, "confidence": 0.8},
    {"question_id": "q5", "answer": None, "correct": None, "confidence": None},
    {"question_id": "q6", "answer": "I don't know", "correct": True, "confidence": 0.2},
    {"question_id": "q7", "answer": "Bern", "correct": False, "confidence": 0.3},
    {"question_id": "q8", "answer": "", "correct": False, "confidence": 0.0},
    {"question_id": "q9", "answer": "Oslo", "correct": True, "confidence": 0.7},
    {"question_id": "q10", "answer": "Kyiv", "correct": True, "confidence": 0.55},
]


# ------------------------------------------------------------------------------------------
# T7


@pytest.mark.parametrize(
    ("t", "pen", "s08", "s07"),
    [(0.5, 1.0, 0.6, 0.4), (0.75, 3.0, 0.2, -0.2), (0.9, 9.0, -1.0, -2.0)],
)
def test_t7_penalties_and_scores(t: float, pen: float, s08: float, s07: float) -> None:
    assert penalty(t) == pytest.approx(pen, abs=1e-12)
    assert target_score(0.8, t) == pytest.approx(s08, abs=1e-12)
    assert target_score(0.7, t) == pytest.approx(s07, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(q=st.floats(0.0, 1.0), t=st.floats(0.001, 0.999))
def test_answering_pays_iff_q_above_t(q: float, t: float) -> None:
    s = target_score(q, t)
    if q > t + 1e-9:
        assert s > 0
    elif q < t - 1e-9:
        assert s < 0


# ------------------------------------------------------------------------------------------
# grade()


def test_grade_counts_and_targets() -> None:
    g = grade(ROWS, thresholds=[0.5, 0.75, 0.9])
    assert isinstance(g, Grades)
    assert (g.n, g.questions, g.answered, g.abstained) == (10, 10, 6, 4)
    assert (g.correct, g.wrong) == (4, 2)
    assert g.accuracy == 0.4 and g.error_rate == 0.2 and g.abstention_rate == 0.4
    assert g.binary_score == 0.4
    assert g.accuracy_answered == pytest.approx(4 / 6)
    assert g.has_confidence
    t50, t75, t90 = g.targets
    assert t50.score == pytest.approx((4 - 1 * 2) / 10)
    assert t75.score == pytest.approx((4 - 3 * 2) / 10)
    assert t90.score == pytest.approx((4 - 9 * 2) / 10)
    # behavioral calibration: accuracy among answered (0.667) > t?
    assert (t50.calibrated, t75.calibrated, t90.calibrated) == (True, False, False)
    # answering only when confidence > t
    # t = 0.5: q1 (right), q2 (wrong), q4, q9, q10 (right) -> 4 right, 1 wrong
    assert t50.threshold_score == pytest.approx((4 - 1) / 10)
    assert t50.threshold_answered == pytest.approx(0.5)
    assert t50.threshold_calibrated is True
    # t = 0.75: q1, q4 -> 2 right
    assert t75.threshold_score == pytest.approx(0.2)
    # t = 0.9: q1 -> 1 right
    assert t90.threshold_score == pytest.approx(0.1)
    # guessing under binary grading: answering everything scores 0.4
    assert t90.binary_score_always == 0.4
    assert t90.binary_score_abstaining == pytest.approx(0.1)
    assert t90.guessing_gain == pytest.approx(0.3)
    assert t50.guessing_gain == pytest.approx(0.0)
    # best policies "answer iff confidence >= s"
    assert t50.best_min_confidence == 0.55 and t50.best_score == pytest.approx(0.3)
    assert t75.best_min_confidence == 0.7 and t75.best_score == pytest.approx(0.3)
    assert t90.best_min_confidence == 0.7 and t90.best_score == pytest.approx(0.3)
    assert g.target(0.75) is t75
    with pytest.raises(ConfigError, match="not graded"):
        g.target(0.6)


def test_best_threshold_is_never_worse_than_abstaining_or_the_t_policy() -> None:
    rows = [
        {"answer": "x", "correct": False, "confidence": 0.99},
        {"answer": "y", "correct": False, "confidence": 0.98},
    ]
    g = grade(rows, thresholds=[0.5])
    t = g.targets[0]
    assert t.best_min_confidence is None and t.best_score == 0.0
    assert t.threshold_score == -1.0
    assert t.threshold_calibrated is False
    assert t.calibrated is False


def test_grade_without_confidence() -> None:
    rows = [{k: v for k, v in r.items() if k != "confidence"} for r in ROWS]
    g = grade(rows)
    assert not g.has_confidence
    assert all(t.threshold_score is None and t.guessing_gain is None for t in g.targets)
    assert [t.t for t in g.targets] == [0.5, 0.75, 0.9]
    assert "score@conf>t" not in str(g)


def test_nothing_answered() -> None:
    g = grade([{"answer": None, "correct": None}, {"answer": "IDK", "correct": False}])
    assert g.answered == 0 and g.accuracy_answered is None
    assert all(t.calibrated is None and t.score == 0.0 for t in g.targets)


def _table() -> pa.Table:
    return pa.Table.from_pylist(ROWS)


def test_all_input_shapes_agree(tmp_path: Path) -> None:
    import polars as pl

    ref = grade(ROWS).to_dict()
    table = _table()
    pq.write_table(table, tmp_path / "r.parquet")
    pcsv.write_csv(table, tmp_path / "r.csv")
    with open(tmp_path / "r.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(row) + "\n" for row in ROWS)
    shapes: list[Any] = [
        table,
        table.to_batches()[0],
        pl.from_arrow(table),
        table.to_pydict(),
        tmp_path / "r.parquet",
        str(tmp_path / "r.jsonl"),
    ]
    for obj in shapes:
        assert grade(obj).to_dict() == ref, type(obj)
    # CSV: pyarrow reads "" as an empty string and the null answer too: both IDK
    assert grade(tmp_path / "r.csv").to_dict() == ref


def test_csv_with_0_1_correct(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text("id,answer,correct\n1,a,1\n2,b,0\n3,IDK,0\n4,c,1\n")
    g = grade(p, thresholds=[0.5])
    assert (g.correct, g.wrong, g.abstained) == (2, 1, 1)
    p.write_text("id,answer,correct\n1,a,yes\n2,b,no\n")
    assert grade(p).correct == 1


def test_custom_column_names_and_idk_strings() -> None:
    rows = [
        {"qid": 1, "pred": "Paris", "ok": True, "p": 0.9},
        {"qid": 2, "pred": "no idea", "ok": False, "p": 0.1},
    ]
    g = grade(rows, answer="pred", correct="ok", confidence="p", idk=["no idea"])
    assert (g.correct, g.abstained, g.questions) == (1, 1, 2)


def test_outputs() -> None:
    g = grade(ROWS)
    d = g.to_dict()
    json.dumps(d)
    assert d["targets"][0]["t"] == 0.5
    t = g.to_arrow()
    assert t.num_rows == 3 and t.column("penalty").to_pylist() == pytest.approx([1, 3, 9])
    assert json.loads(t.schema.metadata[b"grades"])["n"] == 10
    s = str(g)
    assert "binary score" in s and "0.75" in s and "calibrated" in s and "NO" in s


# ------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize("t", [0.0, 1.0, -0.2, 1.5, float("nan"), "high"])
def test_t_outside_unit_interval(t: Any) -> None:
    with pytest.raises(ConfigError, match="target"):
        grade(ROWS, thresholds=[0.5, t])
    with pytest.raises(ConfigError):
        penalty(t)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([], "empty"),
        ([1, 2], "dicts"),
        ([{"answer": "a"}], "correct"),
        ([{"correct": True}], "answer"),
        ([{"answer": "a", "correct": None}], "null for 1 answered"),
        ([{"answer": "a", "correct": 2}], "boolean"),
        ([{"answer": "a", "correct": "maybe"}], "boolean"),
        ([{"answer": "a", "correct": True, "confidence": 1.5}], r"\[0, 1\]"),
        ([{"answer": "a", "correct": True, "confidence": "high"}], "numbers"),
        (
            [
                {"answer": "a", "correct": True, "confidence": 0.5},
                {"answer": "b", "correct": True, "confidence": None},
            ],
            "null or NaN",
        ),
        (pa.table({"answer": pa.array([], pa.string()), "correct": pa.array([], pa.bool_())}),
         "empty"),
        (42, "cannot read"),
    ],
)  # fmt: skip
def test_bad_results(obj: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        grade(obj)


def test_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        grade(tmp_path / "missing.parquet")
    p = tmp_path / "r.txt"
    p.write_text("x")
    with pytest.raises(ConfigError, match="unknown results format"):
        grade(p)
    q = tmp_path / "r.parquet"
    q.write_text("not parquet")
    with pytest.raises(InputError, match="cannot read"):
        grade(q)
    with pytest.raises(ConfigError, match="at least one"):
        grade(ROWS, thresholds=[])


# ------------------------------------------------------------------------------------------
# Benchmarks (KNVZ Table 2)


def test_benchmarks_table() -> None:
    t = benchmarks()
    assert t.column_names[:4] == ["benchmark", "scoring_method", "binary_grading", "idk_credit"]
    assert t.column("lm_graded").to_pylist().count(True) == 4
    names = t.column("benchmark").to_pylist()
    for b in ["GPQA", "MMLU-Pro", "IFEval", "Omni-MATH", "BBH", "MuSR", "SWE-bench", "HLE"]:
        assert b in names
    assert any(n.startswith("MATH") for n in names)
    wild = next(b for b in BENCHMARKS if b["benchmark"] == "WildBench")
    assert wild["binary_grading"] is False and wild["idk_credit"] == "partial"
    others = [b for b in BENCHMARKS if b["benchmark"] != "WildBench"]
    assert all(b["binary_grading"] and b["idk_credit"] == "none" for b in others)
    assert len(BENCHMARKS) == 10


# ------------------------------------------------------------------------------------------
# Properties

result_rows = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(["a", "b"]), st.sampled_from([None, "", "IDK"])),
        st.booleans(),
        st.floats(0.0, 1.0),
    ),
    min_size=1,
    max_size=50,
)


@settings(max_examples=150, deadline=None)
@given(rows=result_rows, t=st.floats(0.01, 0.99))
def test_grade_matches_a_direct_computation(
    rows: list[tuple[str | None, bool, float]], t: float
) -> None:
    data = [{"answer": a, "correct": c, "confidence": p} for a, c, p in rows]
    g = grade(data, thresholds=[t])
    tg = g.targets[0]
    answered = [(c, p) for a, c, p in rows if a not in (None, "", "IDK")]
    right = sum(c for c, _ in answered)
    wrong = len(answered) - right
    n = len(rows)
    pen = t / (1 - t)
    assert g.binary_score == pytest.approx(right / n)
    assert tg.score == pytest.approx((right - pen * wrong) / n)
    kept = [c for c, p in answered if p > t]
    assert tg.threshold_score == pytest.approx((sum(kept) - pen * (len(kept) - sum(kept))) / n)
    # the best "confidence >= s" policy beats abstaining, answering all, and the t policy
    assert tg.best_score is not None
    assert tg.best_score >= max(0.0, tg.score, tg.threshold_score) - 1e-12
    assert tg.guessing_gain is not None and tg.guessing_gain >= 0


def test_answer_column_types() -> None:
    for arr in (
        pa.array(["x", "IDK", None, ""], pa.string_view()),
        pa.array(["x", "IDK", None, ""], pa.large_string()),
        pa.array(["x", "IDK", None, ""]).dictionary_encode(),
        pa.array([7, None, None, None], pa.int64()),
    ):
        t = pa.table({"answer": arr, "correct": [True, False, False, False]})
        g = grade(t)
        assert (g.answered, g.abstained, g.correct) == (1, 3, 1), arr.type
