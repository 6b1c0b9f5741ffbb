"""Hallucination floors: MATH.md section 3 and test vectors T1, T2, T5, T6."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from monofact import floors
from monofact.errors import ConfigError
from monofact.floors import Floor, hallucination_floor

PHI = {1: 10, 2: 6, 3: 4, 5: 2, 8: 1}


def close_to_digits(x: float | None, printed: str) -> bool:
    assert x is not None
    v = float(printed)
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return abs(x - v) <= 0.5 * 10.0**-decimals + 1e-12


# ------------------------------------------------------------------------------------------
# Test vectors


def test_t1_iiv_bound() -> None:
    got = floors.iiv_bound(0.3, max_valid=2, min_wrong=364, calibration_gap=0.01)
    assert close_to_digits(got, "0.584505")
    assert got == pytest.approx(0.6 - 2 / 364 - 0.01, abs=1e-15)


@pytest.mark.parametrize(
    ("n", "lower", "lower_gamma", "upper", "upper_gamma"),
    [
        (1e4, "-0.708115", None, "0.329452", None),
        (1e6, "0.0766124", "0.0773897", "0.212452", "0.211917"),
        (1e9, "0.189467", None, "0.199863", None),
    ],
)
def test_t2_theorem2(
    n: float, lower: str, lower_gamma: str | None, upper: str, upper_gamma: str | None
) -> None:
    f = hallucination_floor(
        singleton_rate=0.20, samples=n, min_wrong=364, max_wrong=364, confidence=0.99
    )
    # T2's plain "lower"/"upper" are the paper's gamma = 0.01 forms.
    assert close_to_digits(f.lower_paper, lower)
    assert close_to_digits(f.upper_paper, upper)
    # The general-gamma forms.
    slack = 6 * math.log(3 * n / 0.01) / math.sqrt(n)
    assert f.lower == pytest.approx(0.2 - 2 / 364 - slack, abs=1e-12)
    assert f.upper == pytest.approx(0.2 - 0.2 / 365 + 5 * math.sqrt(math.log(500) / n), abs=1e-12)
    if lower_gamma is not None:
        assert close_to_digits(f.lower, lower_gamma)
    if upper_gamma is not None:
        assert close_to_digits(f.upper, upper_gamma)
    assert f.asymptotic == pytest.approx(0.2 - 2 / 364, abs=1e-15)
    assert f.vacuous is (n == 1e4)
    assert f.terms == {
        "singleton_rate": 0.2,
        "two_over_min_wrong": pytest.approx(2 / 364),
        "finite_sample_slack": pytest.approx(slack),
        "calibration_gap": 0.0,
    }


def test_t2_slack_thresholds_in_math_md() -> None:
    # "(35 + 6 ln N)/sqrt N is below 0.1 only from N ~ 1.44e6 and below 0.01 from N ~ 2.26e8"
    assert floors.finite_sample_slack(1.40e6, paper=True) > 0.1
    assert floors.finite_sample_slack(1.45e6, paper=True) < 0.1
    assert floors.finite_sample_slack(2.25e8, paper=True) > 0.01
    assert floors.finite_sample_slack(2.27e8, paper=True) < 0.01


@pytest.mark.parametrize(("c", "opt", "want"), [(2, 0.5, 0.5), (4, 0.3, 0.45)])
def test_t5_multiple_choice(c: int, opt: float, want: float) -> None:
    assert floors.multiple_choice_bound(c, opt) == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize(
    ("alpha", "sr", "mm", "err"),
    [(1.0, "0.367898", "0.367861", "0.366853"), (0.5, "0.303277", "0.303262", "0.302431")],
)
def test_t6_arbitrary_facts(alpha: float, sr: str, mm: str, err: str) -> None:
    e = floors.arbitrary_facts_expectations(1e4, 1e4, alpha)
    assert close_to_digits(e.singleton_rate, sr)
    assert close_to_digits(e.missing_mass, mm)
    assert close_to_digits(e.memorizer_error, err)
    assert e.memorizer_error == pytest.approx(364 / 365 * e.missing_mass, rel=1e-15)


def test_kalai_vempala() -> None:
    got = floors.kalai_vempala_bound(0.2, 0.01, 1e3, 1e8, 1e6)
    assert got == pytest.approx(0.2 - 0.01 - 300 * 1e3 / 1e8 - 7 / 1e3, abs=1e-15)


def test_calibration_gap() -> None:
    train = [0.5, 0.001, 0.2, 0.0001]
    gen = [0.9, 0.8, 0.001, 0.3]
    assert floors.calibration_gap(train, gen, 364) == 0.25
    assert floors.calibration_gap(gen, train, 364) == 0.25
    assert floors.calibration_gap(pa.array(train), pa.chunked_array([gen]), 364) == 0.25
    # exactly at the threshold is not "above"
    assert floors.calibration_gap([1 / 4], [0.3], 4) == 1.0


# ------------------------------------------------------------------------------------------
# Sources of N and the singleton rate


class FakeFacts:
    """Stands in for fact counts: IDK-aware summary rate, histogram, per-relation rates."""

    def __init__(self) -> None:
        self.summary = {"samples": 2_000_000, "singleton_rate": 0.25, "n1": 123}
        self.calls: list[str] = []

    def histogram(self) -> pa.Table:
        return pa.table(
            {
                "r": pa.array([1, 2, 3, 5, 8], pa.uint64()),
                "n_r": pa.array([10, 6, 4, 2, 1], pa.uint64()),
            }
        )

    def singleton_rates(self, by: str = "relation") -> pa.Table:
        self.calls.append(by)
        return pa.table(
            {
                "group": ["born", "died"],
                "samples": pa.array([1_500_000, 500], pa.uint64()),
                "singletons": pa.array([450_000, 100], pa.uint64()),
                "singleton_rate": [0.3, 0.2],
            }
        )


def test_floor_prefers_summary_and_accepts_overrides() -> None:
    f = hallucination_floor(FakeFacts(), min_wrong=364)
    assert f.samples == 2_000_000 and f.singleton_rate == 0.25
    assert f.source == "summary"
    g = hallucination_floor(FakeFacts(), min_wrong=364, singleton_rate=0.1, samples=10)
    assert (g.samples, g.singleton_rate) == (10, 0.1)
    h = hallucination_floor(PHI, min_wrong=364)
    assert h.samples == 52 and h.singleton_rate == pytest.approx(10 / 52)
    assert h.source == "histogram" and h.upper is None and h.upper_paper is None


def test_min_wrong_answers_alias() -> None:
    a = hallucination_floor(PHI, min_wrong_answers=364)
    assert a.min_wrong == 364
    with pytest.raises(ConfigError, match="not two different"):
        hallucination_floor(PHI, min_wrong=10, min_wrong_answers=364)


def test_by_group() -> None:
    fake = FakeFacts()
    f = hallucination_floor(fake, min_wrong=364, max_wrong=400, calibration_gap=0.01)
    t = f.by_group()
    assert fake.calls == ["relation"]
    assert isinstance(t, pa.Table)
    assert t.column_names[:4] == ["group", "samples", "singletons", "singleton_rate"]
    assert t.schema.field("samples").type == pa.uint64()
    rows = t.to_pylist()
    born = hallucination_floor(
        singleton_rate=0.3, samples=1_500_000, min_wrong=364, max_wrong=400, calibration_gap=0.01
    )
    assert rows[0]["group"] == "born"
    assert rows[0]["lower"] == pytest.approx(born.lower)
    assert rows[0]["upper_paper"] == pytest.approx(born.upper_paper)
    assert rows[0]["vacuous"] is False
    assert rows[1]["vacuous"] is True  # 500 samples
    f.by_group(by="subject")
    assert fake.calls[-1] == "subject"


def test_by_group_needs_fact_counts() -> None:
    with pytest.raises(ConfigError, match="fact counts"):
        hallucination_floor(PHI, min_wrong=364).by_group()
    with pytest.raises(ConfigError, match="fact counts"):
        hallucination_floor(singleton_rate=0.2, samples=100, min_wrong=364).by_group()


def test_extrapolate() -> None:
    big = {1: 300_000, 2: 60_000, 3: 20_000, 4: 8_000, 5: 4_000, 8: 1_000, 20: 100}
    f = hallucination_floor(big, min_wrong=364, max_wrong=364)
    same = f.extrapolate(1)
    assert same.singleton_rate == pytest.approx(f.singleton_rate) and same.reliable
    e = f.extrapolate(factor=1.2)
    assert e.factor == 1.2 and e.samples == pytest.approx(f.samples * 1.2)
    from monofact.estimators import extrapolate_singleton_rate

    assert e.singleton_rate == pytest.approx(extrapolate_singleton_rate(big, 0.2).singleton_rate)
    assert e.singleton_rate < f.singleton_rate
    assert e.reliable and e.warning == ""
    far = f.extrapolate(factor=10)
    assert not far.reliable and "t = 9 > 0.5" in far.warning
    text = str(far)
    assert "UNRELIABLE" in text
    assert "10x larger" in text


def test_extrapolate_breakdown_prints_no_floor() -> None:
    f = hallucination_floor(PHI, min_wrong=364)
    e = f.extrapolate(3)  # sr(2) of T9's histogram is far outside [0, 1]
    assert not e.reliable
    assert not 0 <= e.singleton_rate <= 1
    assert "No floor is reported" in str(e)


def test_extrapolate_scales_summary_rate() -> None:
    fake = FakeFacts()
    f = hallucination_floor(fake, min_wrong=364)
    e = f.extrapolate(1.25)
    from monofact.estimators import extrapolate_singleton_rate

    ratio = extrapolate_singleton_rate(PHI, 0.25).singleton_rate / (10 / 52)
    assert e.singleton_rate == pytest.approx(0.25 * ratio)
    assert e.samples == pytest.approx(2_500_000)


def test_extrapolate_errors() -> None:
    f = hallucination_floor(PHI, min_wrong=364)
    for bad in (0.5, -1, float("nan"), float("inf"), "x"):
        with pytest.raises(ConfigError, match="factor"):
            f.extrapolate(bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="histogram"):
        hallucination_floor(singleton_rate=0.2, samples=100, min_wrong=3).extrapolate(2)


# ------------------------------------------------------------------------------------------
# Output


def test_str_says_when_vacuous_and_why() -> None:
    f = hallucination_floor(singleton_rate=0.2, samples=1e4, min_wrong=364, max_wrong=364)
    s = str(f)
    assert "VACUOUS" in s and "-0.708115" in s and "finite-sample slack" in s
    assert "0.194505" in s  # asymptotic floor, labelled
    assert "asymptotic" in s and "not guaranteed" in s
    assert "becomes positive from about N =" in s
    g = hallucination_floor(singleton_rate=0.001, samples=1e12, min_wrong=364)
    assert g.vacuous and "asymptotic floor itself" in str(g)
    assert g.samples_for_nonvacuous is None
    ok = hallucination_floor(singleton_rate=0.2, samples=1e9, min_wrong=364)
    assert not ok.vacuous and "VACUOUS" not in str(ok) and "at least" in str(ok)


def test_samples_for_nonvacuous() -> None:
    f = hallucination_floor(singleton_rate=0.2, samples=1e4, min_wrong=364)
    n = f.samples_for_nonvacuous
    assert n is not None
    at = hallucination_floor(singleton_rate=0.2, samples=n * 1.001, min_wrong=364)
    below = hallucination_floor(singleton_rate=0.2, samples=n * 0.999, min_wrong=364)
    assert at.lower > 0 > below.lower


def test_to_dict_and_to_arrow() -> None:
    f = hallucination_floor(singleton_rate=0.2, samples=1e6, min_wrong=364, max_wrong=364)
    d = f.to_dict()
    json.dumps(d)
    assert d["lower"] == f.lower and d["terms"]["finite_sample_slack"] == f.slack
    assert "_counts" not in d
    t = f.to_arrow()
    assert t.num_rows == 1 and t.column("lower")[0].as_py() == f.lower
    assert t.column("vacuous")[0].as_py() is False


def test_paper_forms_only_at_99_percent() -> None:
    f = hallucination_floor(singleton_rate=0.2, samples=1e6, min_wrong=364, confidence=0.95)
    assert f.lower_paper is None and f.slack_paper is None
    assert f.slack == pytest.approx(6 * math.log(3e6 / 0.05) / 1e3)


# ------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_wrong": 0}, "min_wrong"),
        ({"min_wrong": 0.5}, "min_wrong"),
        ({"min_wrong": float("nan")}, "min_wrong"),
        ({"min_wrong": "many"}, "min_wrong"),
        ({}, "min_wrong is required"),
        ({"min_wrong": 364, "max_wrong": 0}, "max_wrong"),
        ({"min_wrong": 364, "max_wrong": 10}, "below min_wrong"),
        ({"min_wrong": 364, "confidence": 1.0}, "confidence"),
        ({"min_wrong": 364, "confidence": 0.0}, "confidence"),
        ({"min_wrong": 364, "confidence": 99}, "confidence"),
        ({"min_wrong": 364, "calibration_gap": -0.1}, "calibration_gap"),
        ({"min_wrong": 364, "calibration_gap": 2}, "calibration_gap"),
        ({"min_wrong": 364, "singleton_rate": 1.5}, r"\[0, 1\]"),
        ({"min_wrong": 364, "samples": -5}, "samples"),
    ],
)
def test_floor_bad_input(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        hallucination_floor(PHI, **kwargs)


def test_floor_bad_counts() -> None:
    for bad in ({}, {1: -1}, {1: 0.5}, {0: 3}):
        with pytest.raises(ConfigError):
            hallucination_floor(bad, min_wrong=364)
    with pytest.raises(ConfigError, match="need counts"):
        hallucination_floor(None, min_wrong=364)


def test_other_bounds_bad_input() -> None:
    with pytest.raises(ConfigError, match="min_wrong"):
        floors.iiv_bound(0.3, 2, 0)
    with pytest.raises(ConfigError, match="err_iiv"):
        floors.iiv_bound(1.3, 2, 364)
    with pytest.raises(ConfigError, match="choices"):
        floors.multiple_choice_bound(1, 0.5)
    with pytest.raises(ConfigError, match="opt"):
        floors.multiple_choice_bound(3, -0.5)
    with pytest.raises(ConfigError, match="min_wrong"):
        floors.calibration_gap([0.1], [0.2], 0.5)
    with pytest.raises(ConfigError, match="empty"):
        floors.calibration_gap([], [0.2], 364)
    with pytest.raises(ConfigError, match="probabilities"):
        floors.calibration_gap([1.5], [0.2], 364)
    with pytest.raises(ConfigError, match="probabilities"):
        floors.calibration_gap([float("nan")], [0.2], 364)
    with pytest.raises(ConfigError, match="alpha"):
        floors.arbitrary_facts_expectations(10, 10, 0)
    with pytest.raises(ConfigError, match="documents"):
        floors.kalai_vempala_bound(0.2, 0, 1, 10, 0)


# ------------------------------------------------------------------------------------------
# Properties
#
# The general slack s(N) = 6 ln(3N/gamma)/sqrt(N) has derivative
# 3 (2 - ln(3N/gamma)) / N^1.5, negative iff N > e^2 gamma / 3. For gamma in (0, 1) that is
# N > 2.47, so the lower bound rises with N for every N >= 3 (the region tested). The paper
# form (35 + 6 ln N)/sqrt N decreases for every N >= 1.

rates = st.floats(min_value=0.0, max_value=1.0)
sizes = st.floats(min_value=3.0, max_value=1e15)
confidences = st.floats(min_value=0.001, max_value=0.999999)


@settings(max_examples=300, deadline=None)
@given(sr=rates, n1=sizes, n2=sizes, confidence=confidences, m=st.integers(1, 10_000))
def test_lower_bound_rises_with_n(
    sr: float, n1: float, n2: float, confidence: float, m: int
) -> None:
    lo, hi = sorted((n1, n2))
    assume(hi > lo * (1 + 1e-9))
    a = hallucination_floor(singleton_rate=sr, samples=lo, min_wrong=m, confidence=confidence)
    b = hallucination_floor(singleton_rate=sr, samples=hi, min_wrong=m, confidence=confidence)
    assert b.lower >= a.lower
    assert b.slack <= a.slack
    assert a.asymptotic == b.asymptotic
    if math.isclose(confidence, 0.99):
        assert b.lower_paper is not None and a.lower_paper is not None
        assert b.lower_paper >= a.lower_paper


@settings(max_examples=200, deadline=None)
@given(
    sr=rates,
    n=sizes,
    d1=st.floats(0.0, 1.0),
    d2=st.floats(0.0, 1.0),
    m=st.integers(1, 10_000),
)
def test_lower_bound_falls_with_calibration_gap(
    sr: float, n: float, d1: float, d2: float, m: int
) -> None:
    small, large = sorted((d1, d2))
    a = hallucination_floor(singleton_rate=sr, samples=n, min_wrong=m, calibration_gap=small)
    b = hallucination_floor(singleton_rate=sr, samples=n, min_wrong=m, calibration_gap=large)
    assert b.lower <= a.lower and b.asymptotic <= a.asymptotic
    assert a.lower - b.lower == pytest.approx(large - small, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(sr=rates, n=sizes, m=st.integers(1, 1000), extra=st.integers(0, 1000))
def test_bounds_are_ordered(sr: float, n: float, m: int, extra: int) -> None:
    f = hallucination_floor(singleton_rate=sr, samples=n, min_wrong=m, max_wrong=m + extra)
    assert isinstance(f, Floor)
    assert f.lower <= f.asymptotic
    assert f.upper is not None and f.upper_asymptotic is not None
    assert f.upper >= f.upper_asymptotic >= f.lower
    assert f.vacuous == (f.lower <= 0)


def test_floor_of_real_ngram_counts(tmp_path: Path) -> None:
    import monofact as mf

    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c a b d\na b c e f g\nx y z\n")
    counts = mf.count_ngrams(str(corpus), n=2)
    s = counts.summary
    f = hallucination_floor(counts, min_wrong=10, max_wrong=10)
    assert f.samples == s["samples"] and f.singleton_rate == pytest.approx(s["singleton_rate"])
    assert f.source == "summary"
    from monofact._histogram import as_histogram

    r, n = as_histogram(counts)
    assert int((r * n).sum()) == s["samples"] and int(n[0]) == s["n1"]
