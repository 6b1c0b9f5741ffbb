"""Hallucination floors (MATH.md section 3; Kalai, Nachum, Vempala and Zhang 2025).

:func:`hallucination_floor` turns the singleton rate of a corpus into the KNVZ Theorem 2 bounds
on the error of any base model trained on it, term by term, and says plainly when the
guaranteed finite-sample bound is vacuous. The other theorems are plain functions:
:func:`iiv_bound` (Theorem 1), :func:`multiple_choice_bound` (Theorem 3),
:func:`kalai_vempala_bound` (Kalai and Vempala 2023), and :func:`calibration_gap` estimates the
calibration gap ``delta`` from model probabilities.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from monofact._histogram import as_histogram, sample_stats, total_samples
from monofact.errors import ConfigError
from monofact.estimators import extrapolate_singleton_rate

__all__ = [
    "ArbitraryFacts",
    "Floor",
    "arbitrary_facts_expectations",
    "calibration_gap",
    "finite_sample_slack",
    "hallucination_floor",
    "iiv_bound",
    "kalai_vempala_bound",
    "multiple_choice_bound",
]


def _gamma(confidence: float) -> float:
    c = float(confidence)
    if math.isnan(c) or not 0.0 < c < 1.0:
        raise ConfigError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    return 1.0 - c


def _check_min_wrong(min_wrong: Any, name: str = "min_wrong") -> float:
    try:
        m = float(min_wrong)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number >= 1, got {min_wrong!r}") from None
    if math.isnan(m) or m < 1:
        raise ConfigError(
            f"{name} (plausible wrong answers per prompt) must be >= 1, got {min_wrong!r}"
        )
    return m


def _is_paper_gamma(gamma: float) -> bool:
    return math.isclose(gamma, 0.01, rel_tol=1e-9, abs_tol=1e-12)


def finite_sample_slack(samples: float, confidence: float = 0.99, *, paper: bool = False) -> float:
    """The Theorem 2 finite-sample slack: ``6 ln(3N/gamma)/sqrt N``, or ``(35 + 6 ln N)/sqrt N``.

    ``paper=True`` gives the paper's gamma = 0.01 form. The general form decreases in N for
    ``N > e^2 gamma / 3`` (below 2.5 for every gamma in (0, 1)); the paper form for all N >= 1.

    >>> round(finite_sample_slack(1e6), 7), round(finite_sample_slack(1e6, paper=True), 7)
    (0.1171158, 0.1178931)
    """
    gamma = _gamma(confidence)
    n = float(samples)
    if not n >= 1:
        raise ConfigError(f"samples must be >= 1, got {samples!r}")
    if paper:
        return (35.0 + 6.0 * math.log(n)) / math.sqrt(n)
    return 6.0 * math.log(3.0 * n / gamma) / math.sqrt(n)


def _upper_slack(n: float, gamma: float, paper: bool) -> float:
    if paper:
        return 13.0 / math.sqrt(n)
    return 5.0 * math.sqrt(math.log(5.0 / gamma) / n)


def _samples_for_nonvacuous(margin: float, gamma: float) -> float | None:
    """Smallest N with ``6 ln(3N/gamma)/sqrt N < margin`` (None if margin <= 0)."""
    if margin <= 0:
        return None
    lo = max(3.0, math.e**2 * gamma / 3.0)
    if 6.0 * math.log(3.0 * lo / gamma) / math.sqrt(lo) < margin:
        return lo
    hi = lo
    while 6.0 * math.log(3.0 * hi / gamma) / math.sqrt(hi) >= margin:
        hi *= 2.0
        if hi > 1e300:
            return math.inf
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        if 6.0 * math.log(3.0 * mid / gamma) / math.sqrt(mid) < margin:
            hi = mid
        else:
            lo = mid
        if hi / lo < 1 + 1e-12:
            break
    return hi


@dataclass(frozen=True)
class Floor:
    """KNVZ Theorem 2 bounds on the hallucination (error) rate of a base model.

    Terms: ``singleton_rate`` (sr), ``missing_term = 2/min_wrong``, ``slack`` (finite-sample,
    ``6 ln(3N/gamma)/sqrt N``), ``calibration_gap`` (delta).

    - ``lower = sr - 2/min_wrong - slack - delta``: guaranteed with probability ``confidence``
      over the training set; ``vacuous`` when it is <= 0 (it then says nothing).
    - ``lower_paper``: the same with the paper's gamma = 0.01 slack ``(35 + 6 ln N)/sqrt N``
      (None unless ``confidence == 0.99``).
    - ``asymptotic = sr - 2/min_wrong - delta``: the floor as N grows (not guaranteed at this N).
    - ``upper = sr - sr/(max_wrong + 1) + 5 sqrt(ln(5/gamma)/N)`` and ``upper_paper`` (``+ 13/sqrt
      N``): the error a calibrated memorizer reaches (None without ``max_wrong``).

    Values are never clipped: a negative ``lower`` is reported as such, with ``vacuous=True``.
    ``factor``, ``reliable`` and ``warning`` describe an extrapolated floor (see
    :meth:`extrapolate`).

    >>> f = hallucination_floor(singleton_rate=0.2, samples=10_000, min_wrong=364)
    >>> round(f.lower_paper, 6), f.vacuous, round(f.asymptotic, 6)
    (-0.708115, True, 0.194505)
    >>> sorted(f.terms)
    ['calibration_gap', 'finite_sample_slack', 'singleton_rate', 'two_over_min_wrong']
    >>> print(str(f).splitlines()[-2])  # doctest: +ELLIPSIS
      The guaranteed bound is VACUOUS (negative: it says nothing) because the finite-sample ...
    """

    singleton_rate: float
    samples: float
    min_wrong: float
    max_wrong: float | None
    calibration_gap: float
    confidence: float
    missing_term: float
    slack: float
    slack_paper: float | None
    lower: float
    lower_paper: float | None
    asymptotic: float
    upper: float | None
    upper_paper: float | None
    upper_asymptotic: float | None
    vacuous: bool
    samples_for_nonvacuous: float | None
    source: str = "given"
    factor: float = 1.0
    reliable: bool = True
    warning: str = ""
    _counts: Any = field(default=None, repr=False, compare=False)

    @property
    def gamma(self) -> float:
        """``1 - confidence``."""
        return 1.0 - self.confidence

    @property
    def terms(self) -> dict[str, float]:
        """Every term of the lower bound separately."""
        return {
            "singleton_rate": self.singleton_rate,
            "two_over_min_wrong": self.missing_term,
            "finite_sample_slack": self.slack,
            "calibration_gap": self.calibration_gap,
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain ``dict`` of every public field plus ``terms`` (JSON-ready)."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d.pop("_counts")
        d["terms"] = self.terms
        d["gamma"] = self.gamma
        return d

    def to_arrow(self) -> Any:
        """One-row pyarrow Table of :meth:`to_dict` (without the nested ``terms``)."""
        d = self.to_dict()
        d.pop("terms")
        schema = pa.schema(
            [
                (
                    k,
                    pa.bool_()
                    if isinstance(v, bool)
                    else pa.string()
                    if isinstance(v, str)
                    else pa.float64(),
                )
                for k, v in d.items()
            ]
        )
        return pa.Table.from_pylist([d], schema=schema)

    def __str__(self) -> str:
        pct = f"{self.confidence:.4g}"
        lines: list[str] = []
        if self.factor != 1.0:
            lines.append(
                f"Extrapolated to a corpus {self.factor:g}x larger (N = {self.samples:,.0f})."
            )
            if not self.reliable:
                lines.append(f"UNRELIABLE extrapolation: {self.warning}.")
                if not 0.0 <= self.singleton_rate <= 1.0:
                    lines.append(
                        "No floor is reported: the extrapolated singleton rate is not a rate."
                    )
                    return "\n".join(lines)
        lines.append(
            f"Hallucination floor (KNVZ Theorem 2) from N = {self.samples:,.0f} samples, "
            f"singleton rate sr = {self.singleton_rate:.6g}, min_wrong = {self.min_wrong:g}, "
            f"calibration gap = {self.calibration_gap:.6g}, confidence = {pct}:"
        )
        lines.append(
            f"  asymptotic floor  sr - 2/min_wrong - delta = {self.singleton_rate:.6g} - "
            f"{self.missing_term:.6g} - {self.calibration_gap:.6g} = {self.asymptotic:.6g}"
            "  (the floor as N grows; not guaranteed at this N)"
        )
        lines.append(
            f"  guaranteed lower bound = asymptotic - 6 ln(3N/gamma)/sqrt(N) = "
            f"{self.asymptotic:.6g} - {self.slack:.6g} = {self.lower:.6g}"
        )
        if self.lower_paper is not None:
            lines.append(
                f"    (paper's gamma = 0.01 form, slack (35 + 6 ln N)/sqrt(N) = "
                f"{self.slack_paper:.6g}: {self.lower_paper:.6g})"
            )
        if self.vacuous:
            why = (
                f"the finite-sample slack {self.slack:.4g} exceeds the asymptotic floor "
                f"{self.asymptotic:.4g}"
                if self.asymptotic > 0
                else f"the asymptotic floor itself is {self.asymptotic:.4g} <= 0 "
                "(sr is not above 2/min_wrong + delta)"
            )
            lines.append(
                f"  The guaranteed bound is VACUOUS (negative: it says nothing) because {why}."
            )
            if self.samples_for_nonvacuous is not None and math.isfinite(
                self.samples_for_nonvacuous
            ):
                lines.append(
                    f"  At this singleton rate it becomes positive from about "
                    f"N = {self.samples_for_nonvacuous:,.3g} samples."
                )
        else:
            lines.append(
                f"  With probability >= {pct} over the training set, ANY base model trained on "
                f"this corpus has an error rate of at least {self.lower:.4%}."
            )
        if self.upper is not None:
            up = (
                f"  upper bound (a calibrated memorizer reaches it): "
                f"sr - sr/(max_wrong + 1) + 5 sqrt(ln(5/gamma)/N) = {self.upper:.6g}"
            )
            if self.upper_paper is not None:
                up += f" (paper's + 13/sqrt(N) form: {self.upper_paper:.6g})"
            if self.upper >= 1.0:
                up += " -- at or above 1, so uninformative at this N"
            lines.append(up)
        return "\n".join(lines)

    # ---------------------------------------------------------------------------------------

    def by_group(self, by: str = "relation") -> Any:
        """Floor per group (relation) of fact counts, as a pyarrow Table.

        Needs a counts object with ``singleton_rates(by=...)`` returning columns ``group``,
        ``samples``, ``singletons`` and ``singleton_rate`` (fact counts have it). Columns of the
        result: ``group, samples, singletons, singleton_rate, missing_term, slack, lower,
        lower_paper, asymptotic, upper, upper_paper, vacuous``.

        >>> class Facts:  # stands in for count_facts(...) results
        ...     summary = {"samples": 10**9, "singleton_rate": 0.2}
        ...     def singleton_rates(self, by="relation"):
        ...         return pa.table({"group": ["born", "died"], "samples": [10**9, 100],
        ...                          "singletons": [2 * 10**8, 20], "singleton_rate": [0.2, 0.2]})
        >>> t = hallucination_floor(Facts(), min_wrong=364).by_group()
        >>> t.column("group").to_pylist(), t.column("vacuous").to_pylist()
        (['born', 'died'], [False, True])
        """
        fn = getattr(self._counts, "singleton_rates", None)
        if not callable(fn):
            raise ConfigError(
                "by_group() needs fact counts (an object with singleton_rates(by=...)); "
                "this floor was built from a histogram or from plain numbers"
            )
        tbl = fn(by=by)
        if not isinstance(tbl, pa.Table):
            tbl = pa.table(tbl)
        need = ["group", "samples", "singletons", "singleton_rate"]
        missing = [c for c in need if c not in tbl.schema.names]
        if missing:
            raise ConfigError(f"singleton_rates() lacks column(s) {missing}")
        rows = []
        for g, n, s, sr in zip(
            tbl.column("group").to_pylist(),
            tbl.column("samples").to_pylist(),
            tbl.column("singletons").to_pylist(),
            tbl.column("singleton_rate").to_pylist(),
        ):
            f = _make_floor(
                sr=float(sr),
                n=float(n),
                min_wrong=self.min_wrong,
                max_wrong=self.max_wrong,
                delta=self.calibration_gap,
                confidence=self.confidence,
                source=f"group {g}",
                counts=None,
            )
            rows.append(
                {
                    "group": str(g),
                    "samples": int(n),
                    "singletons": int(s),
                    "singleton_rate": float(sr),
                    "missing_term": f.missing_term,
                    "slack": f.slack,
                    "lower": f.lower,
                    "lower_paper": f.lower_paper,
                    "asymptotic": f.asymptotic,
                    "upper": f.upper,
                    "upper_paper": f.upper_paper,
                    "vacuous": f.vacuous,
                }
            )
        schema = pa.schema(
            [
                ("group", pa.string()),
                ("samples", pa.uint64()),
                ("singletons", pa.uint64()),
                ("singleton_rate", pa.float64()),
                ("missing_term", pa.float64()),
                ("slack", pa.float64()),
                ("lower", pa.float64()),
                ("lower_paper", pa.float64()),
                ("asymptotic", pa.float64()),
                ("upper", pa.float64()),
                ("upper_paper", pa.float64()),
                ("vacuous", pa.bool_()),
            ]
        )
        return pa.Table.from_pylist(rows, schema=schema)

    def extrapolate(self, factor: float) -> Floor:
        """The floor of a corpus ``factor`` times larger (same distribution, more samples).

        N becomes ``N * factor`` and the singleton rate ``sr(t)`` of MATH.md section 6 with
        ``t = factor - 1`` (Good-Toulmin-style Poisson series on the histogram). When the floor's
        singleton rate came from a summary rather than the histogram's ``n_1/N`` (IDK-aware fact
        counts), the summary rate is scaled by ``sr_hist(t)/sr_hist(0)``. The result has
        ``reliable=False`` and a ``warning`` when ``t > 0.5`` or the series breaks down.

        >>> big = {1: 300_000, 2: 60_000, 3: 20_000, 4: 8_000, 5: 4_000, 8: 1_000}
        >>> f = hallucination_floor(big, min_wrong=364)
        >>> e = f.extrapolate(factor=1.2)
        >>> e.samples == 1.2 * f.samples, e.singleton_rate < f.singleton_rate, e.reliable
        (True, True, True)
        >>> f.extrapolate(factor=10).reliable
        False
        """
        try:
            k = float(factor)
        except (TypeError, ValueError):
            raise ConfigError(f"factor must be a number >= 1, got {factor!r}") from None
        if math.isnan(k) or math.isinf(k) or k < 1:
            raise ConfigError(f"factor must be a finite number >= 1, got {factor!r}")
        if self._counts is None:
            raise ConfigError(
                "extrapolate() needs the histogram of the counts; this floor was built "
                "from plain numbers"
            )
        r, n = as_histogram(self._counts)
        n_hist = total_samples(r, n)
        t = k - 1.0
        ext = extrapolate_singleton_rate({"r": r, "n_r": n}, t)
        sr_hist0 = (int(n[0]) if int(r[0]) == 1 else 0) / n_hist
        problems = [ext.warning] if ext.warning else []
        if math.isclose(sr_hist0, self.singleton_rate, rel_tol=1e-9, abs_tol=1e-15):
            sr_t = ext.singleton_rate
        elif sr_hist0 > 0:
            sr_t = self.singleton_rate * ext.singleton_rate / sr_hist0
        else:
            sr_t = self.singleton_rate
            problems.append("the histogram has no singletons to extrapolate from")
        out = _make_floor(
            sr=sr_t,
            n=self.samples * k,
            min_wrong=self.min_wrong,
            max_wrong=self.max_wrong,
            delta=self.calibration_gap,
            confidence=self.confidence,
            source=self.source + f" extrapolated x{k:g}",
            counts=None,
            check_sr=False,
        )
        return dataclasses.replace(
            out, factor=k, reliable=not problems, warning="; ".join(problems)
        )


def _make_floor(
    *,
    sr: float,
    n: float,
    min_wrong: float,
    max_wrong: float | None,
    delta: float,
    confidence: float,
    source: str,
    counts: Any,
    check_sr: bool = True,
) -> Floor:
    gamma = _gamma(confidence)
    if check_sr and (math.isnan(sr) or not 0.0 <= sr <= 1.0):
        raise ConfigError(f"singleton rate must lie in [0, 1], got {sr!r}")
    if not n >= 1:
        raise ConfigError(f"samples must be >= 1, got {n!r}")
    missing = 2.0 / min_wrong
    slack = finite_sample_slack(n, confidence)
    asymptotic = sr - missing - delta
    lower = asymptotic - slack
    paper = _is_paper_gamma(gamma)
    slack_paper = finite_sample_slack(n, confidence, paper=True) if paper else None
    lower_paper = asymptotic - slack_paper if slack_paper is not None else None
    if max_wrong is not None:
        up_asym = sr - sr / (max_wrong + 1.0)
        upper: float | None = up_asym + _upper_slack(n, gamma, False)
        upper_paper = up_asym + _upper_slack(n, gamma, True) if paper else None
        upper_asym: float | None = up_asym
    else:
        upper = upper_paper = upper_asym = None
    return Floor(
        singleton_rate=sr,
        samples=n,
        min_wrong=min_wrong,
        max_wrong=max_wrong,
        calibration_gap=delta,
        confidence=float(confidence),
        missing_term=missing,
        slack=slack,
        slack_paper=slack_paper,
        lower=lower,
        lower_paper=lower_paper,
        asymptotic=asymptotic,
        upper=upper,
        upper_paper=upper_paper,
        upper_asymptotic=upper_asym,
        vacuous=lower <= 0.0,
        samples_for_nonvacuous=_samples_for_nonvacuous(asymptotic, gamma),
        source=source,
        _counts=counts,
    )


def hallucination_floor(
    counts: Any = None,
    min_wrong: float | None = None,
    max_wrong: float | None = None,
    calibration_gap: float = 0.0,
    confidence: float = 0.99,
    *,
    singleton_rate: float | None = None,
    samples: float | None = None,
    min_wrong_answers: float | None = None,
) -> Floor:
    """Lower and upper bounds on a base model's hallucination rate (KNVZ Theorem 2).

    ``counts``: n-gram or fact counts (their ``summary`` gives N and the singleton rate; fact
    counts' rate is the IDK-aware prompt-level one), a histogram (dict ``{r: n_r}``, Arrow or
    polars table, Parquet path; ``sr = n_1/N``), or None with ``singleton_rate=`` and
    ``samples=``, which override the counts when given. ``min_wrong`` (alias
    ``min_wrong_answers``) is the smallest number of plausible wrong answers per prompt (364
    for a birthday); ``max_wrong`` the largest (enables the upper bound); ``calibration_gap``
    delta; ``confidence`` = 1 - gamma.

    >>> f = hallucination_floor(singleton_rate=0.2, samples=10**6, min_wrong=364, max_wrong=364)
    >>> round(f.lower, 7), round(f.lower_paper, 7), round(f.asymptotic, 7), f.vacuous
    (0.0773897, 0.0766124, 0.1945055, False)
    >>> round(f.upper, 6), round(f.upper_paper, 6)
    (0.211917, 0.212452)
    >>> hallucination_floor({1: 10, 2: 6, 3: 4, 5: 2, 8: 1}, min_wrong=364).vacuous
    True
    """
    if min_wrong is None:
        min_wrong = min_wrong_answers
    elif min_wrong_answers is not None and float(min_wrong_answers) != float(min_wrong):
        raise ConfigError("give min_wrong or min_wrong_answers, not two different values")
    if min_wrong is None:
        raise ConfigError(
            "min_wrong is required: the smallest number of plausible wrong answers per prompt"
        )
    m = _check_min_wrong(min_wrong)
    mx: float | None = None
    if max_wrong is not None:
        mx = _check_min_wrong(max_wrong, "max_wrong")
        if mx < m:
            raise ConfigError(f"max_wrong ({max_wrong!r}) is below min_wrong ({min_wrong!r})")
    delta = float(calibration_gap)
    if math.isnan(delta) or not 0.0 <= delta <= 1.0:
        raise ConfigError(f"calibration_gap must lie in [0, 1], got {calibration_gap!r}")
    _gamma(confidence)
    st = sample_stats(counts, singleton_rate=singleton_rate, samples=samples)
    return _make_floor(
        sr=st.singleton_rate,
        n=float(st.samples),
        min_wrong=m,
        max_wrong=mx,
        delta=delta,
        confidence=confidence,
        source=st.source,
        counts=counts,
    )


# --------------------------------------------------------------------------------------------
# The other theorems


def iiv_bound(
    err_iiv: float, max_valid: float, min_wrong: float, calibration_gap: float = 0.0
) -> float:
    """KNVZ Theorem 1 / Corollary 1: ``err >= 2 err_iiv - max_valid/min_wrong - delta``.

    ``err_iiv`` is the error of the model's thresholded classifier (valid iff
    ``p(r|c) > 1/min_wrong``) on the Is-It-Valid mixture of valid and random wrong answers.

    >>> round(iiv_bound(0.3, max_valid=2, min_wrong=364, calibration_gap=0.01), 6)
    0.584505
    """
    e = float(err_iiv)
    if math.isnan(e) or not 0.0 <= e <= 1.0:
        raise ConfigError(f"err_iiv must lie in [0, 1], got {err_iiv!r}")
    mv = float(max_valid)
    if math.isnan(mv) or mv < 0:
        raise ConfigError(f"max_valid must be >= 0, got {max_valid!r}")
    m = _check_min_wrong(min_wrong)
    d = float(calibration_gap)
    if math.isnan(d) or not 0.0 <= d <= 1.0:
        raise ConfigError(f"calibration_gap must lie in [0, 1], got {calibration_gap!r}")
    return 2.0 * e - mv / m - d


def multiple_choice_bound(choices: int, opt: float) -> float:
    """KNVZ Theorem 3 (pure multiple choice, one valid answer): ``err >= 2 (1 - 1/C) opt(G)``.

    ``opt`` is the best error of any thresholded classifier of the model family. Corollary 2:
    a trigram model cannot tell "her mind" from "his mind" after "out of", so ``opt = 1/2``.

    >>> multiple_choice_bound(2, 0.5), round(multiple_choice_bound(4, 0.3), 12)
    (0.5, 0.45)
    """
    c = int(choices)
    if c != choices or c < 2:
        raise ConfigError(f"choices must be an integer >= 2, got {choices!r}")
    o = float(opt)
    if math.isnan(o) or not 0.0 <= o <= 1.0:
        raise ConfigError(f"opt must lie in [0, 1], got {opt!r}")
    return 2.0 * (1.0 - 1.0 / c) * o


def kalai_vempala_bound(
    monofact_rate: float,
    miscalibration: float,
    facts: float,
    possible_hallucinations: float,
    documents: float,
) -> float:
    """Kalai and Vempala (2023), 99% form, no prompts.

    ``halluc >= MF - miscalibration - 300 |facts| / |possible hallucinations| - 7/sqrt(n)``
    with ``MF`` the monofact rate (``N1/n``, one fact per document) and n the documents.

    >>> round(kalai_vempala_bound(0.2, 0.01, 1e3, 1e8, 1e6), 6)
    0.18
    """
    mf = float(monofact_rate)
    if math.isnan(mf) or not 0.0 <= mf <= 1.0:
        raise ConfigError(f"monofact_rate must lie in [0, 1], got {monofact_rate!r}")
    mc = float(miscalibration)
    if math.isnan(mc) or mc < 0:
        raise ConfigError(f"miscalibration must be >= 0, got {miscalibration!r}")
    if not float(possible_hallucinations) > 0:
        raise ConfigError("possible_hallucinations must be > 0")
    if not float(facts) >= 0:
        raise ConfigError("facts must be >= 0")
    if not float(documents) >= 1:
        raise ConfigError("documents must be >= 1")
    return (
        mf
        - mc
        - 300.0 * float(facts) / float(possible_hallucinations)
        - 7.0 / math.sqrt(float(documents))
    )


def _probs(x: Any, name: str) -> npt.NDArray[np.float64]:
    if hasattr(x, "to_numpy") and not isinstance(x, np.ndarray):
        x = x.to_numpy()
    try:
        arr = np.asarray(x, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be an array of probabilities") from None
    if arr.size == 0:
        raise ConfigError(f"{name} is empty")
    if np.any(np.isnan(arr)) or np.any((arr < 0) | (arr > 1)):
        raise ConfigError(f"{name} must hold probabilities in [0, 1] (found NaN or out of range)")
    return arr


def calibration_gap(
    train_probs: Iterable[float] | Any, generated_probs: Iterable[float] | Any, min_wrong: float
) -> float:
    """Estimate the KNVZ calibration gap ``delta = |p_model(A) - p_train(A)|``.

    ``A = {(c, r): p_model(r|c) > 1/min_wrong}``. ``train_probs`` are the model's
    probabilities ``p_model(r|c)`` of the training samples, ``generated_probs`` those of the
    model's own generations; delta is the absolute difference of the shares above the threshold.

    >>> calibration_gap([0.5, 0.001, 0.2, 0.0001], [0.9, 0.8, 0.001, 0.3], min_wrong=364)
    0.25
    """
    m = _check_min_wrong(min_wrong)
    tr = _probs(train_probs, "train_probs")
    ge = _probs(generated_probs, "generated_probs")
    thr = 1.0 / m
    return abs(float(np.mean(ge > thr)) - float(np.mean(tr > thr)))


@dataclass(frozen=True)
class ArbitraryFacts:
    """Expectations for KNVZ's arbitrary-facts model (MATH.md T6).

    >>> arbitrary_facts_expectations(1e4, 1e4, 0.5).memorizer_error > 0.30
    True
    """

    singleton_rate: float
    missing_mass: float
    memorizer_error: float


def arbitrary_facts_expectations(
    prompts: float, samples: float, alpha: float, answers: int = 365
) -> ArbitraryFacts:
    """E[sr], E[MM] and a memorizer's E[err] for K uniform prompts, N samples, answer prob alpha.

    ``E[sr] = alpha (1 - alpha/K)^(N-1)``, ``E[MM] = alpha (1 - alpha/K)^N``,
    ``E[err] = (answers - 1)/answers * E[MM]``.

    >>> e = arbitrary_facts_expectations(1e4, 1e4, 1.0)
    >>> round(e.singleton_rate, 6), round(e.missing_mass, 6), round(e.memorizer_error, 6)
    (0.367898, 0.367861, 0.366853)
    """
    k = float(prompts)
    n = float(samples)
    a = float(alpha)
    if not k >= 1 or not n >= 1:
        raise ConfigError("prompts and samples must be >= 1")
    if math.isnan(a) or not 0.0 < a <= 1.0:
        raise ConfigError(f"alpha must lie in (0, 1], got {alpha!r}")
    if int(answers) < 1:
        raise ConfigError("answers must be >= 1")
    base = math.log1p(-a / k) if a / k < 1 else -math.inf
    sr = a * math.exp((n - 1.0) * base)
    mm = a * math.exp(n * base)
    return ArbitraryFacts(
        singleton_rate=sr, missing_mass=mm, memorizer_error=(answers - 1) / answers * mm
    )
