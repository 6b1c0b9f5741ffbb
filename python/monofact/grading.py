"""Grading with confidence targets (MATH.md section 4; KNVZ section 4).

Under binary grading (1 right, 0 wrong, 0 for "I don't know") guessing always pays, so models
learn to bluff. KNVZ propose stating a confidence target t in the instructions: a correct
answer scores 1, IDK 0, and a wrong answer ``-t/(1-t)``. Answering then pays exactly when the
probability of being right exceeds t, and a model is *behaviorally calibrated* when, for every
t, its accuracy among the questions it answers exceeds t.

:func:`grade` scores a table of evaluation results under binary grading and under each target,
checks behavioral calibration, finds the best abstention threshold when confidences are given,
and measures how much guessing gains under binary grading. :data:`BENCHMARKS` holds KNVZ
Table 2 (how popular benchmarks grade abstentions).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from monofact.errors import ConfigError, InputError
from monofact.estimators import _idk_mask

__all__ = [
    "BENCHMARKS",
    "Grades",
    "TargetGrade",
    "benchmarks",
    "grade",
    "penalty",
    "read_results",
    "target_score",
]

BoolArray = npt.NDArray[np.bool_]


def _check_t(t: Any) -> float:
    try:
        tf = float(t)
    except (TypeError, ValueError):
        raise ConfigError(f"confidence target t must be a number in (0, 1), got {t!r}") from None
    if math.isnan(tf) or not 0.0 < tf < 1.0:
        raise ConfigError(f"confidence target t must lie strictly between 0 and 1, got {t!r}")
    return tf


def penalty(t: float) -> float:
    """Points lost for a wrong answer under confidence target t: ``t / (1 - t)``.

    >>> penalty(0.5), penalty(0.75), round(penalty(0.9), 12)
    (1.0, 3.0, 9.0)
    """
    tf = _check_t(t)
    return tf / (1.0 - tf)


def target_score(q: float, t: float) -> float:
    """Expected score of answering with probability q of being right, under target t.

    ``q - (1 - q) t/(1 - t)``: positive iff ``q > t`` (IDK scores 0).

    >>> [round(target_score(0.8, t), 12) for t in (0.5, 0.75, 0.9)]
    [0.6, 0.2, -1.0]
    """
    qf = float(q)
    if math.isnan(qf) or not 0.0 <= qf <= 1.0:
        raise ConfigError(f"q (probability of a correct answer) must lie in [0, 1], got {q!r}")
    return qf - (1.0 - qf) * penalty(t)


# --------------------------------------------------------------------------------------------
# KNVZ Table 2

#: KNVZ Table 2: how popular benchmarks grade abstentions. ``binary_grading`` is True when the
#: primary metric is strict correct/incorrect accuracy; ``idk_credit`` ("none" or "partial") says
#: whether an abstention can earn any credit; ``lm_graded`` marks the table's asterisk (graded
#: by language models, so a wrong bluff may occasionally be scored as correct); ``note`` holds
#: the table's footnotes.
BENCHMARKS: list[dict[str, Any]] = [
    {"benchmark": "GPQA", "scoring_method": "Multiple-choice accuracy",
     "binary_grading": True, "idk_credit": "none", "lm_graded": False, "note": ""},
    {"benchmark": "MMLU-Pro", "scoring_method": "Multiple-choice accuracy",
     "binary_grading": True, "idk_credit": "none", "lm_graded": False, "note": ""},
    {"benchmark": "IFEval", "scoring_method": "Programmatic instruction verification",
     "binary_grading": True, "idk_credit": "none", "lm_graded": False,
     "note": "aggregates several binary rubric sub-scores into a composite score"},
    {"benchmark": "Omni-MATH", "scoring_method": "Equivalence grading",
     "binary_grading": True, "idk_credit": "none", "lm_graded": True, "note": ""},
    {"benchmark": "WildBench", "scoring_method": "LM-graded rubric",
     "binary_grading": False, "idk_credit": "partial", "lm_graded": True,
     "note": "1-10 rubric; an IDK may score below a 'fair' response with hallucinations"},
    {"benchmark": "BBH", "scoring_method": "Multiple-choice / exact-match",
     "binary_grading": True, "idk_credit": "none", "lm_graded": False, "note": ""},
    {"benchmark": "MATH (L5 split)", "scoring_method": "Equivalence grading",
     "binary_grading": True, "idk_credit": "none", "lm_graded": True, "note": ""},
    {"benchmark": "MuSR", "scoring_method": "Multiple-choice accuracy",
     "binary_grading": True, "idk_credit": "none", "lm_graded": False, "note": ""},
    {"benchmark": "SWE-bench", "scoring_method": "Patch passes unit tests",
     "binary_grading": True, "idk_credit": "none", "lm_graded": False, "note": ""},
    {"benchmark": "HLE", "scoring_method": "Multiple-choice / equivalence grading",
     "binary_grading": True, "idk_credit": "none", "lm_graded": True, "note": ""},
]  # fmt: skip


def benchmarks() -> Any:
    """KNVZ Table 2 as a pyarrow Table.

    Columns: benchmark, scoring_method, binary_grading, idk_credit, lm_graded, note.

    WildBench's rubric may even score an IDK below a "fair" hallucinated answer.

    >>> t = benchmarks()
    >>> t.num_rows, t.column("idk_credit").to_pylist().count("partial")
    (10, 1)
    """
    schema = pa.schema(
        [
            ("benchmark", pa.string()),
            ("scoring_method", pa.string()),
            ("binary_grading", pa.bool_()),
            ("idk_credit", pa.string()),
            ("lm_graded", pa.bool_()),
            ("note", pa.string()),
        ]
    )
    return pa.Table.from_pylist([dict(b) for b in BENCHMARKS], schema=schema)


# --------------------------------------------------------------------------------------------
# Reading results


def read_results(results: Any) -> Any:
    """Evaluation results as a pyarrow Table.

    Accepts a pyarrow Table/RecordBatch, a polars DataFrame, anything with
    ``__arrow_c_stream__``, a list of dicts, a dict of columns, or a path to a Parquet, CSV or
    JSONL file.

    >>> read_results([{"question_id": 1, "answer": "Paris", "correct": True}]).num_rows
    1
    """
    if isinstance(results, pa.Table):
        return results
    if isinstance(results, pa.RecordBatch):
        return pa.Table.from_batches([results])
    if isinstance(results, (str, os.PathLike)):
        return _read_path(os.fspath(results))
    if isinstance(results, dict):
        try:
            return pa.table(results)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
            raise ConfigError(f"cannot build a results table from the dict: {exc}") from None
    if isinstance(results, list):
        if not results:
            raise ConfigError("no results given (empty list)")
        if not all(isinstance(x, dict) for x in results):
            raise ConfigError("a list of results must hold dicts (one per evaluated question)")
        try:
            return pa.Table.from_pylist(results)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise ConfigError(f"cannot build a results table from the list: {exc}") from None
    to_arrow = getattr(results, "to_arrow", None)
    if callable(to_arrow):
        out = to_arrow()
        return out.read_all() if isinstance(out, pa.RecordBatchReader) else out
    if hasattr(results, "__arrow_c_stream__"):
        return pa.table(results)
    raise ConfigError(
        f"cannot read evaluation results from {type(results).__name__}: give an Arrow or "
        "polars table, a list of dicts, or a path to a .parquet, .csv or .jsonl file"
    )


def _read_path(path: str) -> Any:
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file")
    low = path.lower()
    for comp in (".gz", ".zst", ".bz2"):
        low = low.removesuffix(comp)
    try:
        if low.endswith((".parquet", ".pq")):
            import pyarrow.parquet as pq

            return pq.read_table(path)
        if low.endswith((".csv", ".tsv")):
            import pyarrow.csv as pcsv

            parse = pcsv.ParseOptions(delimiter="\t" if low.endswith(".tsv") else ",")
            return pcsv.read_csv(path, parse_options=parse)
        if low.endswith((".jsonl", ".ndjson", ".json")):
            import pyarrow.json as pjson

            return pjson.read_json(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: cannot read results: {exc}") from None
    raise ConfigError(f"{path}: unknown results format (use .parquet, .csv or .jsonl)")


def _bool_column(col: Any, name: str) -> tuple[BoolArray, BoolArray]:
    """(values, is_null) of a correctness column: bool, or numbers 0/1."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    nulls = np.asarray(pc.is_null(col).to_numpy(zero_copy_only=False), dtype=bool)
    if pa.types.is_null(col.type):
        return np.zeros(len(col), dtype=bool), nulls
    if pa.types.is_boolean(col.type):
        vals = np.asarray(col.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
        return vals, nulls
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
        v = np.asarray(col.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.float64)
        if np.any((v != 0) & (v != 1)):
            raise ConfigError(f"column {name!r} must be boolean (or 0/1), found other numbers")
        return v == 1, nulls
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        low = pc.utf8_lower(pc.utf8_trim_whitespace(col))
        is_t = np.asarray(
            pc.is_in(low, value_set=pa.array(["true", "yes", "1"])).to_numpy(zero_copy_only=False),
            dtype=bool,
        )
        is_f = np.asarray(
            pc.is_in(low, value_set=pa.array(["false", "no", "0"])).to_numpy(zero_copy_only=False),
            dtype=bool,
        )
        if np.any(~(is_t | is_f | nulls)):
            raise ConfigError(f"column {name!r} must be boolean, found other strings")
        return is_t, nulls
    raise ConfigError(f"column {name!r} must be boolean, got type {col.type}")


# --------------------------------------------------------------------------------------------
# Grades


@dataclass(frozen=True)
class TargetGrade:
    """Scores under one confidence target t (penalty ``t/(1-t)`` for a wrong answer).

    - ``score``: mean score of the model's own answers (IDK = 0) under target t.
    - ``calibrated``: behavioral calibration, accuracy among answered items > t (None when
      nothing was answered).
    With confidences (else None):
    - ``threshold_score``: score when answering only items with confidence > t (the policy a
      calibrated model should follow); ``threshold_answered``: share answered by it;
      ``threshold_calibrated``: its accuracy among answered > t.
    - ``best_min_confidence`` / ``best_score``: the best policy "answer iff confidence >= s"
      over all observed s (``best_min_confidence`` None: abstaining on everything is best).
    - ``binary_score_always`` vs ``binary_score_abstaining``: binary score of answering every
      item the model answered vs the confidence > t policy; ``guessing_gain`` their
      difference: what bluffing earns under binary grading.

    >>> rows = [{"answer": "a", "correct": True, "confidence": 0.9},
    ...         {"answer": "b", "correct": False, "confidence": 0.3}]
    >>> tg = grade(rows, thresholds=[0.75]).targets[0]
    >>> tg.penalty, tg.score, tg.threshold_score, tg.guessing_gain
    (3.0, -1.0, 0.5, 0.0)
    """

    t: float
    penalty: float
    score: float
    calibrated: bool | None
    threshold_score: float | None = None
    threshold_answered: float | None = None
    threshold_calibrated: bool | None = None
    best_min_confidence: float | None = None
    best_score: float | None = None
    binary_score_always: float | None = None
    binary_score_abstaining: float | None = None
    guessing_gain: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain ``dict`` of every field."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Grades:
    """Result of :func:`grade`: overall rates and one :class:`TargetGrade` per target.

    Rates are over all ``n`` items: ``accuracy`` (right), ``error_rate`` (wrong),
    ``abstention_rate`` (IDK); ``binary_score = accuracy`` (binary grading);
    ``accuracy_answered`` is accuracy among answered items (None if none were answered).

    >>> g = grade([{"answer": "a", "correct": True}, {"answer": None, "correct": None}])
    >>> g.accuracy, g.abstention_rate, g.accuracy_answered, g.target(0.9).calibrated
    (0.5, 0.5, 1.0, True)
    >>> g.to_arrow().num_rows
    3
    """

    n: int
    questions: int | None
    answered: int
    abstained: int
    correct: int
    wrong: int
    accuracy: float
    error_rate: float
    abstention_rate: float
    binary_score: float
    accuracy_answered: float | None
    has_confidence: bool
    targets: tuple[TargetGrade, ...]

    def target(self, t: float) -> TargetGrade:
        """The :class:`TargetGrade` of target t."""
        for g in self.targets:
            if math.isclose(g.t, t):
                return g
        raise ConfigError(f"target {t!r} was not graded (targets: {[g.t for g in self.targets]})")

    def to_dict(self) -> dict[str, Any]:
        """Plain ``dict`` (JSON-ready), targets as a list of dicts."""
        d = dict(self.__dict__)
        d["targets"] = [g.to_dict() for g in self.targets]
        return d

    def to_arrow(self) -> Any:
        """pyarrow Table with one row per target; overall rates in the schema metadata."""
        rows = [g.to_dict() for g in self.targets]
        f64 = pa.float64()
        schema = pa.schema(
            [
                ("t", f64),
                ("penalty", f64),
                ("score", f64),
                ("calibrated", pa.bool_()),
                ("threshold_score", f64),
                ("threshold_answered", f64),
                ("threshold_calibrated", pa.bool_()),
                ("best_min_confidence", f64),
                ("best_score", f64),
                ("binary_score_always", f64),
                ("binary_score_abstaining", f64),
                ("guessing_gain", f64),
            ]
        )
        overall = {k: v for k, v in self.to_dict().items() if k != "targets"}
        return pa.Table.from_pylist(rows, schema=schema).replace_schema_metadata(
            {"grades": json.dumps(overall)}
        )

    def __str__(self) -> str:
        def pct(x: float | None) -> str:
            return "-" if x is None else f"{x:.1%}"

        def num(x: float | None) -> str:
            return "-" if x is None else f"{x:+.3f}"

        def yn(x: bool | None) -> str:
            return "-" if x is None else ("yes" if x else "NO")

        lines = [
            (
                f"{self.n} results: {self.correct} right ({pct(self.accuracy)}), "
                f"{self.wrong} wrong ({pct(self.error_rate)}), {self.abstained} IDK "
                f"({pct(self.abstention_rate)}); accuracy among answered "
                f"{pct(self.accuracy_answered)}"
            ),
            f"binary score (IDK = wrong = 0): {self.binary_score:.3f}",
            "",
            f"{'target t':>8} {'penalty':>8} {'score':>8} {'calibrated':>10}"
            + (
                f" {'score@conf>t':>12} {'answered':>8} {'best s':>7} {'best':>7} {'bin gain':>8}"
                if self.has_confidence
                else ""
            ),
        ]
        for g in self.targets:
            line = f"{g.t:>8g} {g.penalty:>8.3g} {g.score:>+8.3f} {yn(g.calibrated):>10}"
            if self.has_confidence:
                bs = "none" if g.best_min_confidence is None else f"{g.best_min_confidence:.3g}"
                line += (
                    f" {num(g.threshold_score):>12} {pct(g.threshold_answered):>8}"
                    f" {'>=' + bs:>7} {num(g.best_score):>7} {num(g.guessing_gain):>8}"
                )
            lines.append(line)
        lines.append("")
        lines.append(
            "score: right +1, IDK 0, wrong -t/(1-t). calibrated: accuracy among answered > t."
        )
        if self.has_confidence:
            lines.append("score@conf>t: answering only when confidence > t (share answered).")
            lines.append("best s: the best policy 'answer iff confidence >= s', and its score.")
            lines.append(
                "bin gain: binary score of answering everything minus that of the conf>t "
                "policy (what guessing earns under binary grading)."
            )
        return "\n".join(lines)


def _first_column(names: Sequence[str], wanted: str | None, options: Iterable[str]) -> str | None:
    if wanted is not None:
        if wanted not in names:
            raise ConfigError(f"results have no column {wanted!r}; found {list(names)}")
        return wanted
    for o in options:
        if o in names:
            return o
    return None


def grade(
    results: Any,
    thresholds: Sequence[float] = (0.5, 0.75, 0.9),
    *,
    question: str | None = None,
    answer: str | None = None,
    correct: str | None = None,
    confidence: str | None = None,
    idk: Iterable[str] = (),
) -> Grades:
    """Grade evaluation results under binary grading and under confidence targets.

    ``results`` has one row per evaluated item with columns: question id (``question_id``,
    ``id`` or ``question``; optional), ``answer`` (IDK when null, empty, "IDK" or "I don't
    know"), ``correct`` (bool; ignored for IDK rows) and optionally ``confidence`` (float in
    [0, 1]). Other names can be given with ``question=``, ``answer=``, ``correct=``,
    ``confidence=``; ``idk`` adds answer strings that mean IDK.

    >>> rows = [
    ...     {"question_id": 1, "answer": "Paris", "correct": True, "confidence": 0.95},
    ...     {"question_id": 2, "answer": "Lyon", "correct": False, "confidence": 0.4},
    ...     {"question_id": 3, "answer": "IDK", "correct": False, "confidence": 0.1},
    ...     {"question_id": 4, "answer": "Rome", "correct": True, "confidence": 0.8},
    ... ]
    >>> g = grade(rows, thresholds=[0.5, 0.75])
    >>> g.accuracy, g.error_rate, g.abstention_rate
    (0.5, 0.25, 0.25)
    >>> [(x.t, x.score, x.threshold_score, x.guessing_gain) for x in g.targets]
    [(0.5, 0.25, 0.5, 0.0), (0.75, -0.25, 0.5, 0.0)]
    """
    ts = [_check_t(t) for t in thresholds]
    if not ts:
        raise ConfigError("give at least one confidence target t")
    table = read_results(results)
    names = list(table.schema.names)
    qcol = _first_column(names, question, ("question_id", "id", "question", "qid"))
    acol = _first_column(names, answer, ("answer", "response", "prediction"))
    ccol = _first_column(names, correct, ("correct", "is_correct"))
    fcol = _first_column(names, confidence, ("confidence",))
    if acol is None:
        raise ConfigError(
            f"results need an 'answer' column (None/'' /'IDK' = abstain); found {names}"
        )
    if ccol is None:
        raise ConfigError(f"results need a boolean 'correct' column; found {names}")
    n = table.num_rows
    if n == 0:
        raise ConfigError("no results to grade (empty table)")
    is_idk = _idk_mask(table.column(acol), tuple(idk))
    right, right_null = _bool_column(table.column(ccol), ccol)
    answered = ~is_idk
    if np.any(right_null & answered):
        raise ConfigError(
            f"column {ccol!r} is null for {int(np.sum(right_null & answered))} answered row(s)"
        )
    right = right & answered
    wrong = answered & ~right
    n_ans = int(answered.sum())
    n_right = int(right.sum())
    n_wrong = int(wrong.sum())
    questions = None
    if qcol is not None:
        questions = int(pc.count_distinct(table.column(qcol)).as_py())

    conf: npt.NDArray[np.float64] | None = None
    if fcol is not None:
        col = table.column(fcol)
        if not (pa.types.is_floating(col.type) or pa.types.is_integer(col.type)
                or pa.types.is_null(col.type)):  # fmt: skip
            raise ConfigError(f"column {fcol!r} must hold numbers in [0, 1], got {col.type}")
        cnull = np.asarray(pc.is_null(col).to_numpy(zero_copy_only=False), dtype=bool)
        if pa.types.is_null(col.type):
            cvals = np.full(n, np.nan)
        else:
            cvals = np.asarray(
                pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
            )
        cvals = np.where(cnull, np.nan, cvals)
        if np.all(np.isnan(cvals)):
            conf = None  # column present but empty: no confidences
        else:
            bad = answered & np.isnan(cvals)
            if np.any(bad):
                raise ConfigError(
                    f"column {fcol!r} is null or NaN for {int(bad.sum())} answered row(s)"
                )
            ok = cvals[~np.isnan(cvals)]
            if np.any((ok < 0) | (ok > 1)):
                raise ConfigError(f"column {fcol!r} must hold confidences in [0, 1]")
            conf = cvals

    targets = []
    acc_ans = n_right / n_ans if n_ans else None
    for t in ts:
        pen = t / (1.0 - t)
        score = (n_right - pen * n_wrong) / n
        calibrated = None if acc_ans is None else acc_ans > t
        if conf is None:
            targets.append(TargetGrade(t=t, penalty=pen, score=score, calibrated=calibrated))
            continue
        keep = answered & (conf > t)
        k_right = int((right & keep).sum())
        k_wrong = int((wrong & keep).sum())
        k_ans = k_right + k_wrong
        best_s, best_score = _best_threshold(conf[answered], right[answered], pen, n)
        targets.append(
            TargetGrade(
                t=t,
                penalty=pen,
                score=score,
                calibrated=calibrated,
                threshold_score=(k_right - pen * k_wrong) / n,
                threshold_answered=k_ans / n,
                threshold_calibrated=(k_right / k_ans > t) if k_ans else None,
                best_min_confidence=best_s,
                best_score=best_score,
                binary_score_always=n_right / n,
                binary_score_abstaining=k_right / n,
                guessing_gain=(n_right - k_right) / n,
            )
        )
    return Grades(
        n=n,
        questions=questions,
        answered=n_ans,
        abstained=n - n_ans,
        correct=n_right,
        wrong=n_wrong,
        accuracy=n_right / n,
        error_rate=n_wrong / n,
        abstention_rate=(n - n_ans) / n,
        binary_score=n_right / n,
        accuracy_answered=acc_ans,
        has_confidence=conf is not None,
        targets=tuple(targets),
    )


def _best_threshold(
    conf: npt.NDArray[np.float64], right: BoolArray, pen: float, n: int
) -> tuple[float | None, float]:
    """Best policy "answer iff confidence >= s" over observed s; ties go to answering more."""
    if conf.size == 0:
        return None, 0.0
    order = np.argsort(-conf, kind="stable")
    c = conf[order]
    r = right[order].astype(np.float64)
    cum_r = np.cumsum(r)
    cum_w = np.cumsum(1.0 - r)
    # last index of each run of equal confidences (answering all items with conf >= c[idx])
    last = np.flatnonzero(np.concatenate((c[1:] != c[:-1], [True])))
    scores = (cum_r[last] - pen * cum_w[last]) / n
    best = float(scores.max())
    if best <= 0.0:
        return None, 0.0
    idx = int(np.flatnonzero(scores >= best - 1e-12)[-1])
    return float(c[last[idx]]), float(scores[idx])
