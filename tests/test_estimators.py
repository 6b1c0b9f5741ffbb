"""Estimators of a count-of-counts: MATH.md sections 2, 5, 6 and test vectors T3, T4, T8, T9."""

from __future__ import annotations

import collections
import importlib
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monofact import estimators as est
from monofact._histogram import as_histogram, sample_stats
from monofact.errors import ConfigError

PHI = {1: 10, 2: 6, 3: 4, 5: 2, 8: 1}
KJV = Path("/work/shared/data/kjv/kjv.tok.txt")


def close_to_digits(x: float, printed: str) -> bool:
    """True when x rounds to the printed vector (|x - v| <= half a unit in its last digit)."""
    v = float(printed)
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return abs(x - v) <= 0.5 * 10.0**-decimals + 1e-12


# ------------------------------------------------------------------------------------------
# as_histogram: inputs


class FakeCounts:
    def __init__(self, hist: Any, summary: dict[str, Any] | None = None) -> None:
        self._h = hist
        if summary is not None:
            self.summary = summary

    def histogram(self) -> Any:
        return self._h


class CapsuleOnly:
    """Only exports __arrow_c_stream__ (like a DuckDB relation or an Arrow-backed frame)."""

    def __init__(self, table: pa.Table) -> None:
        self._t = table

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._t.__arrow_c_stream__(requested_schema)


def test_as_histogram_accepts_every_shape(tmp_path: Path) -> None:
    pl = importlib.import_module("polars")
    table = pa.table(
        {
            "r": pa.array([3, 1, 2, 5, 8], pa.uint64()),
            "n_r": pa.array([4, 10, 6, 2, 1], pa.uint64()),
        }
    )
    path = tmp_path / "h.parquet"
    pq.write_table(table, path)
    shapes: list[Any] = [
        PHI,
        {str(k): v for k, v in PHI.items()},
        {"r": [1, 2, 3, 5, 8], "n_r": [10, 6, 4, 2, 1]},
        table,
        table.to_batches()[0],
        pl.from_arrow(table),
        CapsuleOnly(table),
        str(path),
        path,
        FakeCounts(table),
        FakeCounts(PHI),
        pa.table({"r": [1.0, 2.0, 3.0, 5.0, 8.0], "n_r": [10, 6, 4, 2, 1]}),
        pa.table({"r": pa.array([1, 2, 3, 5, 8], pa.int32()), "n_r": [10, 6, 4, 2, 1]}),
    ]
    for obj in shapes:
        r, n = as_histogram(obj)
        assert r.dtype == np.uint64 and n.dtype == np.uint64
        assert r.tolist() == [1, 2, 3, 5, 8], type(obj)
        assert n.tolist() == [10, 6, 4, 2, 1], type(obj)


def test_as_histogram_drops_zero_rows_and_handles_big_counts() -> None:
    r, n = as_histogram({1: 3, 2: 0, 2**40: 2**40})
    assert r.tolist() == [1, 2**40] and n.tolist() == [3, 2**40]
    stats = sample_stats({1: 2**40, 2**30: 2**30})
    assert stats.samples == 2**40 + 2**60


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({}, "empty"),
        ({1: 0}, "empty"),
        ({1: -3}, "negative"),
        ({-1: 3}, "negative"),
        ({1: 2.5}, "non-integer"),
        ({1.5: 2}, "non-integer"),
        ({1: float("nan")}, "NaN"),
        ({0: 4}, "r = 0"),
        ({"x": 4}, "not an integer"),
        ({1: True}, "non-integer"),
        ({1: None}, "non-integer"),
        (pa.table({"r": [1, 1], "n_r": [2, 3]}), "duplicate"),
        (pa.table({"r": [1, 2], "n_r": [2, -3]}), "negative"),
        (pa.table({"r": [1.0, 2.0], "n_r": [2.0, float("nan")]}), "NaN"),
        (pa.table({"r": [1, 2], "n_r": [2.0, 0.5]}), "non-integer"),
        (pa.table({"r": [1, None], "n_r": [2, 3]}), "null"),
        (pa.table({"r": ["1"], "n_r": [2]}), "non-negative integers"),
        (pa.table({"count": [1], "n": [2]}), "columns 'r' and 'n_r'"),
        (pa.table({"r": pa.array([], pa.uint64()), "n_r": pa.array([], pa.uint64())}), "empty"),
        (None, "None"),
        (3.5, "cannot read a histogram"),
        ("/nonexistent/h.parquet", "not a file"),
    ],
)
def test_as_histogram_rejects_bad_input(obj: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        as_histogram(obj)


def test_bad_parquet_path(tmp_path: Path) -> None:
    p = tmp_path / "x.parquet"
    p.write_text("not parquet")
    with pytest.raises(ConfigError, match="Parquet"):
        as_histogram(p)


def test_sample_stats_prefers_summary_and_overrides() -> None:
    fake = FakeCounts(PHI, summary={"samples": 1000, "singleton_rate": 0.3})
    s = sample_stats(fake)
    assert (s.samples, s.singleton_rate, s.source) == (1000, 0.3, "summary")
    s = sample_stats(fake, singleton_rate=0.1)
    assert (s.samples, s.singleton_rate) == (1000, 0.1)
    s = sample_stats(PHI, samples=104)
    assert s.samples == 104 and s.singleton_rate == pytest.approx(10 / 52)
    with pytest.raises(ConfigError, match="singleton_rate= and samples="):
        sample_stats(None, singleton_rate=0.2)
    with pytest.raises(ConfigError, match="finite number >= 1"):
        sample_stats(None, singleton_rate=0.2, samples=0)
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        sample_stats(None, singleton_rate=1.5, samples=10)


# ------------------------------------------------------------------------------------------
# Good-Turing (section 2, T3)


def test_t3_radii() -> None:
    assert close_to_digits(est.missing_mass_radius(1e6, 0.99), "0.00592455")
    assert close_to_digits(est.missing_mass_radius(1e6, 0.99, idk=True), "0.0110187")
    assert est.missing_mass_radius(1e6, 0.99) == pytest.approx(
        1e-6 + 2.42 * math.sqrt(math.log(400) / 1e6), abs=1e-15
    )


def test_good_turing_values() -> None:
    gt = est.good_turing(PHI, confidence=0.99)
    assert gt.missing_mass == pytest.approx(10 / 52, abs=1e-15)
    assert gt.coverage == pytest.approx(42 / 52, abs=1e-15)
    assert gt.n1 == 10 and gt.samples == 52
    assert gt.bias_bound == pytest.approx(1 / 52)
    assert gt.low == 0.0 and gt.high == 1.0 and gt.clipped
    big = est.good_turing({1: 200_000, 2: 400_000}, confidence=0.99)
    assert big.samples == 10**6
    assert big.radius == pytest.approx(est.missing_mass_radius(1e6, 0.99))
    assert big.low == pytest.approx(0.2 - big.radius) and not big.clipped
    assert big.coverage_low == pytest.approx(1 - big.high)
    assert "Good-Turing" in str(big)


def test_good_turing_idk_uses_summary_and_lemma1() -> None:
    fake = FakeCounts(PHI, summary={"samples": 10**6, "singleton_rate": 0.25})
    gt = est.good_turing(fake, confidence=0.99, idk=True)
    assert gt.missing_mass == 0.25
    assert gt.radius == pytest.approx(4.42 * math.sqrt(math.log(500) / 1e6))
    plain = est.good_turing(fake, confidence=0.99)
    assert plain.missing_mass == pytest.approx(10 / 52)


@pytest.mark.parametrize("confidence", [0.0, 1.0, -0.5, 1.5, float("nan")])
def test_confidence_outside_unit_interval(confidence: float) -> None:
    with pytest.raises(ConfigError, match="confidence"):
        est.good_turing(PHI, confidence=confidence)
    with pytest.raises(ConfigError, match="confidence"):
        est.missing_mass_radius(100, confidence)


histograms = st.dictionaries(
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=1, max_value=10**7),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(
    hist=histograms,
    confidence=st.floats(min_value=0.01, max_value=0.999999),
    idk=st.booleans(),
)
def test_interval_contains_estimate_and_lies_in_unit_interval(
    hist: dict[int, int], confidence: float, idk: bool
) -> None:
    gt = est.good_turing(hist, confidence=confidence, idk=idk)
    assert 0.0 <= gt.low <= gt.missing_mass <= gt.high <= 1.0
    assert 0.0 <= gt.coverage_low <= gt.coverage <= gt.coverage_high <= 1.0
    assert gt.radius > 0


# ------------------------------------------------------------------------------------------
# IDK-aware singleton rate (T4)

T4 = [
    ("c1", "a"),
    ("c1", "a"),
    ("c2", "b"),
    ("c3", "IDK"),
    ("c3", "x"),
    ("c4", "y"),
    ("c5", "IDK"),
    ("c6", "z"),
    ("c6", "IDK"),
    ("c7", "w"),
]


def test_t4_singleton_rate() -> None:
    s = est.singleton_rate(T4)
    assert s.samples == 10
    assert s.singletons == 5
    assert s.singleton_rate == 0.5
    assert float(s) == 0.5
    assert s.idk_samples == 3 and s.prompts == 7


def test_t4_singleton_rate_arrow_and_polars_and_fact_columns() -> None:
    pl = importlib.import_module("polars")
    table = pa.table({"prompt": [c for c, _ in T4], "response": [r for _, r in T4]})
    assert est.singleton_rate(table).singleton_rate == 0.5
    assert est.singleton_rate(pl.from_arrow(table)).singleton_rate == 0.5
    facts = pa.table(
        {
            "subject": [c for c, _ in T4],
            "relation": ["born"] * 10,
            "object": [None if r == "IDK" else r for _, r in T4],
        }
    )
    s = est.singleton_rate(facts, prompt=["subject", "relation"], response="object")
    assert (s.singleton_rate, s.singletons, s.idk_samples) == (0.5, 5, 3)
    with pytest.raises(ConfigError, match="lacks column"):
        est.singleton_rate(facts)


def test_singleton_rate_bad_input() -> None:
    with pytest.raises(ConfigError, match="no samples"):
        est.singleton_rate([])
    with pytest.raises(ConfigError, match="pair"):
        est.singleton_rate([("a", "b", "c")])


IDK_FORMS = [None, "", "IDK", "idk ", "I don't know", "I don't know."]

samples_strategy = st.lists(
    st.tuples(
        st.sampled_from(["p0", "p1", "p2", "p3", "p4", "p5"]),
        st.one_of(st.sampled_from(["a", "b", "c"]), st.sampled_from(IDK_FORMS)),
    ),
    min_size=1,
    max_size=40,
)


def oracle_singleton_rate(samples: list[tuple[str, str | None]]) -> float:
    """Brute force straight from KNVZ Definition 2."""
    idk = {None, "", "idk", "i don't know"}
    singles = 0
    for prompt in {c for c, _ in samples}:
        answers = [
            r
            for c, r in samples
            if c == prompt and (r.strip().lower().rstrip(".") if r is not None else None) not in idk
        ]
        singles += len(answers) == 1
    return singles / len(samples)


@settings(max_examples=200, deadline=None)
@given(samples=samples_strategy)
def test_singleton_rate_equals_brute_force_oracle(samples: list[tuple[str, str | None]]) -> None:
    expected = oracle_singleton_rate(samples)
    assert est.singleton_rate(samples).singleton_rate == expected
    table = pa.table(
        {
            "prompt": [c for c, _ in samples],
            "response": pa.array([r for _, r in samples], pa.string()),
        }
    )
    assert est.singleton_rate(table).singleton_rate == expected


# ------------------------------------------------------------------------------------------
# Simple Good-Turing (T8)


def test_t8_simple_good_turing() -> None:
    sgt = est.simple_good_turing(PHI)
    assert close_to_digits(sgt.p0, "0.1923")
    assert sgt.p0 == pytest.approx(10 / 52, abs=1e-12)
    for got, want in zip(sgt.p, ["0.01203", "0.02951", "0.04814", "0.08647", "0.1448"]):
        assert close_to_digits(float(got), want)
    assert close_to_digits(sgt.b, "-1.710818")
    assert close_to_digits(sgt.a, "2.625959")
    for got, want in zip(sgt.r_star, ["0.61097", "1.49921", "2.44519", "4.39224", "7.35749"]):
        assert close_to_digits(float(got), want)
    # Every r* here comes from the line: at r = 1, |x - y| is within 1.96 sd.
    assert sgt.switch_r == 1 and sgt.smoothed.all()
    # Probabilities sum to one with the unseen mass.
    assert float(np.sum(sgt.p * sgt.n_r)) + sgt.p0 == pytest.approx(1.0, abs=1e-12)
    assert sgt.prob(0) == sgt.p0 and sgt.prob(5) == pytest.approx(float(sgt.p[3]))
    with pytest.raises(ConfigError, match="exactly 4 times"):
        sgt.prob(4)
    t = sgt.to_arrow()
    assert t.column_names == ["r", "n_r", "z", "r_star", "p", "smoothed"]
    assert float(t.schema.metadata[b"b"]) == sgt.b
    assert sgt.to_dict()["switch_r"] == 1
    assert "Simple Good-Turing" in str(sgt)


def test_sgt_errors() -> None:
    with pytest.raises(ConfigError, match="at least 5 distinct"):
        est.simple_good_turing({1: 10, 2: 5, 3: 2, 4: 1})
    with pytest.raises(ConfigError, match="not below -1"):
        est.simple_good_turing({1: 1, 2: 1, 3: 1, 4: 1, 5: 1})
    with pytest.raises(ConfigError, match="z must be"):
        est.simple_good_turing(PHI, z=-1)


def test_sgt_switch_uses_turing_estimates_before_the_switch() -> None:
    # A large histogram whose first counts stray from the power law: the first r* are
    # Turing's x = (r+1) n_{r+1}/n_r, significantly different from the line.
    hist = {r: int(1e6 / r**2.5) for r in range(1, 40)}
    hist[1] = int(hist[1] * 1.3)
    hist[2] = int(hist[2] * 1.1)
    sgt = est.simple_good_turing(hist)
    assert sgt.switch_r == 3
    for j in range(sgt.switch_r - 1):
        r = j + 1
        assert not sgt.smoothed[j]
        assert sgt.r_star[j] == pytest.approx((r + 1) * hist[r + 1] / hist[r])
    # z = 0 never finds x and y indistinguishable: the switch moves to the first gap (r = 39).
    assert est.simple_good_turing(hist, z=0.0).switch_r == 39
    # A huge z switches at once.
    assert est.simple_good_turing(hist, z=1e9).switch_r == 1


# ------------------------------------------------------------------------------------------
# Simple Good-Turing vs NLTK on the KJV trigrams
#
# Findings (nltk 3.10): on the 406,968 distinct trigrams of the KJV (308 distinct r) NLTK's
# SimpleGoodTuringProbDist and ours agree to ~1e-17 on every per-count probability, on a, b,
# the switch point and P0. Current NLTK follows Gale and Sampson on all three points usually
# cited as deviations: Z of the last r uses k = 2 r - i; the switch rule is G&S's (switch at
# the first r where r+1 is unobserved or |x - y| <= 1.96 sd, never switch back); and the
# renormalisation keeps P0 = N1/N and scales the seen mass to 1 - P0, as G&S do.
# Where NLTK does deviate from Gale and Sampson (tested below):
# 1. A slope b >= -1 only warns and goes on; G&S require b < -1 (we raise ConfigError).
#    Fewer than 5 distinct r is accepted silently (we raise).
# 2. discount() returns S(1)/N (the fitted line at r = 1), not the unseen mass P0 = N1/N of
#    G&S and of its own prob() for unseen samples.
# 3. The 1.96 confidence factor is hard-coded (ours is the `z` parameter).
# 4. prob() of an unseen sample divides P0 evenly over `bins - B` unseen bins (B + 1 by
#    default, so the single default unseen bin gets all of P0); G&S give only the total P0.
# 5. (not tested: a plain bug) check() raises AttributeError (it reads a missing self._Nr).


@pytest.fixture(scope="module")
def kjv_trigrams() -> collections.Counter[tuple[str, str, str]]:
    assert KJV.exists(), f"test data missing: {KJV}"
    toks = KJV.read_text(encoding="utf-8").split()
    return collections.Counter(zip(toks, toks[1:], toks[2:]))


def test_sgt_agrees_with_nltk_on_kjv_trigrams(
    kjv_trigrams: collections.Counter[tuple[str, str, str]],
) -> None:
    prob = importlib.import_module("nltk.probability")
    coc = collections.Counter(kjv_trigrams.values())
    ours = est.simple_good_turing(dict(coc))
    nl = prob.SimpleGoodTuringProbDist(prob.FreqDist(kjv_trigrams))
    assert ours.r.size == len(coc) > 300
    assert ours.b == pytest.approx(nl._slope, rel=1e-12)
    assert ours.a == pytest.approx(nl._intercept, rel=1e-12)
    assert ours.switch_r == nl._switch_at
    representative: dict[int, tuple[str, str, str]] = {}
    for key, c in kjv_trigrams.items():
        representative.setdefault(c, key)
    theirs = np.array([nl.prob(representative[int(r)]) for r in ours.r])
    np.testing.assert_allclose(ours.p, theirs, rtol=1e-9, atol=1e-12)
    assert np.max(np.abs(ours.p - theirs)) < 1e-6
    # Unseen mass: NLTK's prob() of an unseen trigram (default bins = B + 1) is P0 = N1/N.
    assert nl.prob(("no", "such", "trigram")) == pytest.approx(ours.p0, rel=1e-12)
    # Deviation 2: discount() is S(1)/N, not P0.
    assert nl.discount() == pytest.approx(math.exp(ours.a) / ours.samples, rel=1e-12)
    assert abs(nl.discount() - ours.p0) > 0.01


def test_sgt_agrees_with_nltk_on_t8() -> None:
    prob = importlib.import_module("nltk.probability")
    counts = [1] * 10 + [2] * 6 + [3] * 4 + [5] * 2 + [8]
    nl = prob.SimpleGoodTuringProbDist(prob.FreqDist({f"k{i}": c for i, c in enumerate(counts)}))
    ours = est.simple_good_turing(PHI)
    first_key = {1: "k0", 2: "k10", 3: "k16", 5: "k20", 8: "k22"}
    for r, p in zip(ours.r.tolist(), ours.p.tolist()):
        assert nl.prob(first_key[r]) == pytest.approx(p, rel=1e-12)
    assert (nl._slope, nl._switch_at) == (pytest.approx(ours.b, rel=1e-12), ours.switch_r)


def test_nltk_deviation_on_flat_slope() -> None:
    prob = importlib.import_module("nltk.probability")
    fd = prob.FreqDist({f"k{r}_{j}": r for r in range(1, 6) for j in range(1)})
    with pytest.warns(UserWarning, match="best fit"):
        prob.SimpleGoodTuringProbDist(fd)  # NLTK carries on with b = 0
    with pytest.raises(ConfigError, match="not below -1"):
        est.simple_good_turing(dict(collections.Counter(fd.values())))


def test_nltk_hardcodes_the_confidence_factor() -> None:
    prob = importlib.import_module("nltk.probability")
    hist = {r: int(1e5 / r**2.5) for r in range(1, 30)}
    fd = prob.FreqDist({(r, j): r for r, n in hist.items() for j in range(n)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nl = prob.SimpleGoodTuringProbDist(fd)
    assert est.simple_good_turing(hist).switch_r == nl._switch_at
    assert est.simple_good_turing(hist, z=0.0).switch_r != nl._switch_at


@settings(max_examples=60, deadline=None)
@given(
    alpha=st.floats(min_value=1.3, max_value=3.0),
    scale=st.integers(min_value=200, max_value=10**6),
    m=st.integers(min_value=5, max_value=30),
)
def test_sgt_is_a_distribution(alpha: float, scale: int, m: int) -> None:
    hist = {r: max(1, int(scale / r**alpha)) for r in range(1, m + 1)}
    try:
        sgt = est.simple_good_turing(hist)
    except ConfigError as exc:
        assert "not below -1" in str(exc)
        return
    assert sgt.b < -1
    assert float(np.sum(sgt.p * sgt.n_r)) + sgt.p0 == pytest.approx(1.0, abs=1e-9)
    assert np.all(sgt.p > 0)


# ------------------------------------------------------------------------------------------
# Good-Toulmin (T9)


def test_t9_good_toulmin() -> None:
    assert close_to_digits(est.good_toulmin(PHI, 0.5).new_keys, "4.058594")
    u1 = est.good_toulmin(PHI, 1.0)
    assert u1.new_keys == pytest.approx(9.0, abs=1e-12) and u1.reliable
    assert u1.distinct == 23 and u1.distinct_after == pytest.approx(32.0)
    u2 = est.good_toulmin(PHI, 2.0)
    assert u2.new_keys == pytest.approx(-164.0, abs=1e-9)
    assert not u2.reliable
    assert "beyond t = 1" in u2.warning and "negative" in u2.warning
    assert "no trustworthy prediction" in str(u2)

    b = est.good_toulmin(PHI, 2.0, smoothing="binomial")
    assert (b.k, b.q) == (3, 0.5)
    assert b.new_keys == pytest.approx(9.5, abs=1e-9) and b.reliable
    p = est.good_toulmin(PHI, 2.0, smoothing="poisson")
    assert close_to_digits(p.poisson_r or 0.0, "1.537117")
    assert close_to_digits(p.new_keys, "12.461415")
    b3 = est.good_toulmin(PHI, 2.0, smoothing="binomial", q="1/(t+1)")
    assert b3.k == 4 and b3.q == pytest.approx(1 / 3)
    assert close_to_digits(b3.new_keys, "9.827160")


def test_t9_singleton_rate_extrapolation() -> None:
    s0 = est.extrapolate_singleton_rate(PHI, 0.0)
    assert close_to_digits(s0.singleton_rate, "0.192308") and s0.reliable
    s05 = est.extrapolate_singleton_rate(PHI, 0.5)
    assert close_to_digits(s05.singleton_rate, "0.145433")
    s1 = est.extrapolate_singleton_rate(PHI, 1.0)
    assert close_to_digits(s1.singleton_rate, "0.230769")
    assert not s1.reliable
    assert "non-monotone" in s1.warning and "t = 1 > 0.5" in s1.warning
    # sr(0.5) < sr(0) but sr(1) > sr(0.5): the T9 non-monotone flag. On this tiny histogram
    # the series already bottoms out at t ~ 0.41, so sr(0.5) is flagged too (stricter than
    # comparing the three points).
    assert s05.singleton_rate < s0.singleton_rate < s1.singleton_rate
    assert not s05.reliable and "non-monotone" in s05.warning
    s025 = est.extrapolate_singleton_rate(PHI, 0.25)
    assert s025.reliable and s025.singleton_rate < s0.singleton_rate
    assert "no trustworthy prediction" in str(s1)


def test_good_toulmin_errors() -> None:
    with pytest.raises(ConfigError, match="t > 1"):
        est.good_toulmin(PHI, 0.5, smoothing="poisson")
    with pytest.raises(ConfigError, match=">= 0"):
        est.good_toulmin(PHI, -1.0)
    with pytest.raises(ConfigError, match="smoothing"):
        est.good_toulmin(PHI, 2.0, smoothing="gaussian")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="q must be"):
        est.good_toulmin(PHI, 2.0, smoothing="binomial", q="1/2")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=">= 0"):
        est.extrapolate_singleton_rate(PHI, float("nan"))


def test_good_toulmin_flags_smoothed_beyond_log_n() -> None:
    g = est.good_toulmin(PHI, 5.0, smoothing="poisson")
    assert not g.reliable and "ln(n)" in g.warning


@settings(max_examples=80, deadline=None)
@given(lam=st.floats(min_value=0.05, max_value=3.0), keys=st.integers(100, 20_000))
def test_good_toulmin_on_poisson_fingerprints_is_reliable_for_small_t(
    lam: float, keys: int
) -> None:
    # Expected Poisson fingerprint of `keys` keys with rate lam: phi_i = keys e^-lam lam^i/i!.
    hist = {}
    for i in range(1, 60):
        v = round(keys * math.exp(-lam) * lam**i / math.factorial(i))
        if v:
            hist[i] = v
    if not hist:
        return
    g = est.good_toulmin(hist, 0.5)
    # Expected new keys: keys e^-lam (1 - e^-(t lam)), up to rounding of the fingerprint.
    want = keys * math.exp(-lam) * (1 - math.exp(-0.5 * lam))
    assert g.new_keys == pytest.approx(want, rel=0.05, abs=3.0)


def test_huge_counts_do_not_overflow_into_nonsense() -> None:
    hist = {r: max(1, int(1e9 / r**2)) for r in range(1, 2000)}
    hist[10**9] = 1
    hist[10**12] = 3
    small = est.good_toulmin(hist, 0.3)
    assert small.reliable and math.isfinite(small.new_keys) and small.new_keys > 0
    for smoothing in ("binomial", "poisson"):
        g = est.good_toulmin(hist, 3.0, smoothing=smoothing)
        assert math.isfinite(g.new_keys) and g.new_keys > small.new_keys
    blown = est.good_toulmin(hist, 2.0)
    assert not blown.reliable and "overflowed" in blown.warning
    e = est.extrapolate_singleton_rate(hist, 0.3)
    assert e.reliable and 0 < e.singleton_rate < e.singleton_rate_now


def test_histogram_attribute_and_incomplete_summary() -> None:
    class WithAttr:
        def __init__(self) -> None:
            self.histogram = pa.table({"r": [1, 2], "n_r": [4, 3]})
            self.summary = {"samples": None, "singleton_rate": None}

    assert as_histogram(WithAttr())[1].tolist() == [4, 3]
    s = sample_stats(WithAttr())
    assert (s.samples, s.singleton_rate, s.source) == (10, 0.4, "histogram")
