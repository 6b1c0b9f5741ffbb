"""Estimators of a count-of-counts (MATH.md sections 2, 5 and 6).

All functions take "counts": a dict ``{r: n_r}``, an Arrow/polars table with columns ``r`` and
``n_r``, a Parquet path, or a counts object with ``.histogram()`` (see
:func:`monofact._histogram.as_histogram`).

- :func:`good_turing`: Good-Turing missing mass ``N1/N``, Good's coverage and the KNVZ
  confidence intervals (Corollary 3; Lemma 1 with IDK).
- :func:`singleton_rate`: the IDK-aware prompt-level singleton rate (KNVZ Definition 2).
- :func:`simple_good_turing`: Gale and Sampson's Simple Good-Turing.
- :func:`good_toulmin`: Good-Toulmin and smoothed Good-Toulmin (Orlitsky-Suresh-Wu) predictions
  of the number of unseen keys in a larger corpus.
- :func:`extrapolate_singleton_rate`: the singleton rate of a corpus ``1 + t`` times larger.

Results flag where a series breaks down (``reliable`` / ``warning``) instead of returning
nonsense silently.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from monofact._histogram import _check_samples, as_histogram, sample_stats, total_samples
from monofact.errors import ConfigError

__all__ = [
    "IDK_STRINGS",
    "GoodToulmin",
    "GoodTuring",
    "SimpleGoodTuring",
    "SingletonRate",
    "SingletonRateExtrapolation",
    "as_histogram",
    "extrapolate_singleton_rate",
    "good_toulmin",
    "good_turing",
    "is_idk",
    "missing_mass_radius",
    "simple_good_turing",
    "singleton_rate",
]

F64Array = npt.NDArray[np.float64]

#: Answers (after stripping, lower-casing and dropping trailing ``.``/``!``) that mean
#: "I don't know". ``None`` is IDK as well.
IDK_STRINGS: frozenset[str] = frozenset(
    {"", "idk", "i don't know", "i do not know", "i don\u2019t know", "i dont know"}
)


def _gamma(confidence: float) -> float:
    c = float(confidence)
    if math.isnan(c) or not 0.0 < c < 1.0:
        raise ConfigError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    return 1.0 - c


# --------------------------------------------------------------------------------------------
# Good-Turing missing mass


def missing_mass_radius(samples: float, confidence: float = 0.99, *, idk: bool = False) -> float:
    """Half-width of the KNVZ confidence interval around the Good-Turing estimate.

    Without IDK (Corollary 3): ``1/N + 2.42 sqrt(ln(4/gamma)/N)``. With IDK (Lemma 1):
    ``4.42 sqrt(ln(5/gamma)/N)``. ``gamma = 1 - confidence``.

    >>> round(missing_mass_radius(1e6, 0.99), 8)
    0.00592455
    >>> round(missing_mass_radius(1e6, 0.99, idk=True), 7)
    0.0110187
    """
    gamma = _gamma(confidence)
    n = float(samples)
    if not n >= 1:
        raise ConfigError(f"samples must be >= 1, got {samples!r}")
    if idk:
        return 4.42 * math.sqrt(math.log(5.0 / gamma) / n)
    return 1.0 / n + 2.42 * math.sqrt(math.log(4.0 / gamma) / n)


@dataclass(frozen=True)
class GoodTuring:
    """Good-Turing missing mass ``N1/N`` (or the IDK-aware singleton rate) with its interval.

    ``missing_mass`` is the estimate of the probability mass of keys never seen;
    ``coverage = 1 - missing_mass`` is Good's coverage. ``low``/``high`` bound the true missing
    mass with probability ``>= confidence`` (clipped to [0, 1]; ``clipped`` says whether the
    clip changed anything). ``bias_bound = 1/N``: ``0 <= E[GT] - E[M] <= 1/N``.

    >>> gt = good_turing({1: 200_000, 2: 400_000}, confidence=0.99)
    >>> gt.missing_mass, round(gt.radius, 8), gt.clipped
    (0.2, 0.00592455, False)
    """

    missing_mass: float
    coverage: float
    n1: int | None
    samples: float
    confidence: float
    radius: float
    low: float
    high: float
    coverage_low: float
    coverage_high: float
    bias_bound: float
    idk: bool
    clipped: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain ``dict`` of every field."""
        return dict(self.__dict__)

    def __str__(self) -> str:
        kind = "IDK-aware singleton rate" if self.idk else "Good-Turing missing mass N1/N"
        return (
            f"{kind}: {self.missing_mass:.6g} over N = {self.samples:,} samples; "
            f"{self.confidence:.0%} interval [{self.low:.6g}, {self.high:.6g}] "
            f"(radius {self.radius:.3g}{', clipped to [0, 1]' if self.clipped else ''}); "
            f"Good's coverage {self.coverage:.6g}"
        )


def good_turing(
    counts: Any,
    confidence: float = 0.95,
    *,
    idk: bool = False,
    singleton_rate: float | None = None,
    samples: int | None = None,
) -> GoodTuring:
    """Good-Turing missing mass, Good's coverage and their confidence interval.

    With ``idk=False`` (default) the estimate is ``N1/N`` from the histogram and the radius is
    KNVZ Corollary 3. With ``idk=True`` the estimate is the IDK-aware singleton rate (taken from
    ``counts.summary`` when present, as for fact counts, or from ``singleton_rate=``) and the
    radius is KNVZ Lemma 1.

    >>> gt = good_turing({1: 10, 2: 6, 3: 4, 5: 2, 8: 1}, confidence=0.95)
    >>> round(gt.missing_mass, 6), round(gt.coverage, 6), gt.samples
    (0.192308, 0.807692, 52)
    >>> gt.low, gt.clipped  # tiny N: the interval is wide and clipped at 0
    (0.0, True)
    """
    _gamma(confidence)
    if idk:
        st = sample_stats(counts, singleton_rate=singleton_rate, samples=samples)
        n_total, mm, n1 = st.samples, st.singleton_rate, None
    else:
        if counts is None:
            if singleton_rate is None or samples is None:
                raise ConfigError("good_turing needs counts, or singleton_rate= and samples=")
            st = sample_stats(None, singleton_rate=singleton_rate, samples=samples)
            n_total, mm, n1 = st.samples, st.singleton_rate, None
        else:
            r, n = as_histogram(counts)
            hist_n = total_samples(r, n)
            n1 = int(n[0]) if int(r[0]) == 1 else 0
            st = sample_stats(
                None,
                singleton_rate=n1 / hist_n if singleton_rate is None else singleton_rate,
                samples=hist_n if samples is None else samples,
            )
            n_total, mm = st.samples, st.singleton_rate
    rad = missing_mass_radius(n_total, confidence, idk=idk)
    lo_raw, hi_raw = mm - rad, mm + rad
    lo, hi = max(0.0, lo_raw), min(1.0, hi_raw)
    return GoodTuring(
        missing_mass=mm,
        coverage=1.0 - mm,
        n1=n1,
        samples=n_total,
        confidence=float(confidence),
        radius=rad,
        low=lo,
        high=hi,
        coverage_low=1.0 - hi,
        coverage_high=1.0 - lo,
        bias_bound=1.0 / n_total,
        idk=idk,
        clipped=(lo != lo_raw) or (hi != hi_raw),
    )


# --------------------------------------------------------------------------------------------
# IDK-aware singleton rate


def is_idk(answer: Any, extra: Iterable[str] = ()) -> bool:
    """True when ``answer`` means "I don't know": ``None``, empty, "IDK", "I don't know".

    Comparison ignores case, surrounding spaces and a trailing ``.`` or ``!``.

    >>> [is_idk(a) for a in (None, "", " IDK ", "I don't know.", "Paris")]
    [True, True, True, True, False]
    """
    if answer is None:
        return True
    if isinstance(answer, float) and math.isnan(answer):
        return True
    if not isinstance(answer, str):
        return False
    a = answer.strip().lower().rstrip(".!").strip()
    return a in IDK_STRINGS or a in {e.strip().lower() for e in extra}


def _idk_mask(arr: Any, extra: Iterable[str] = ()) -> npt.NDArray[np.bool_]:
    """IDK mask of an Arrow array (any type: non-strings are answers unless null)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    is_view = getattr(pa.types, "is_string_view", None)
    if is_view is not None and is_view(arr.type):
        arr = arr.cast(pa.large_string())
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        if pa.types.is_floating(arr.type):
            return np.asarray(
                pc.or_kleene(pc.is_null(arr), pc.is_nan(arr))
                .fill_null(True)
                .to_numpy(zero_copy_only=False),
                dtype=bool,
            )
        return np.asarray(pc.is_null(arr).to_numpy(zero_copy_only=False), dtype=bool)
    norm = pc.utf8_lower(pc.utf8_trim_whitespace(arr))
    norm = pc.utf8_trim_whitespace(pc.utf8_rtrim(norm, characters=".!"))
    vocab = sorted(IDK_STRINGS | {e.strip().lower() for e in extra})
    hit = pc.or_kleene(pc.is_in(norm, value_set=pa.array(vocab, type=pa.string())), pc.is_null(arr))
    return np.asarray(hit.fill_null(True).to_numpy(zero_copy_only=False), dtype=bool)


@dataclass(frozen=True)
class SingletonRate:
    """IDK-aware singleton rate (KNVZ Definition 2): singleton prompts over all samples.

    ``float(result)`` is the rate.

    >>> s = singleton_rate([("c1", "a"), ("c1", "IDK"), ("c2", "b"), ("c2", "c")])
    >>> float(s), s.singletons, s.idk_samples, s.prompts
    (0.25, 1, 1, 2)
    """

    singleton_rate: float
    singletons: int
    samples: int
    idk_samples: int
    prompts: int

    def __float__(self) -> float:
        return self.singleton_rate

    def to_dict(self) -> dict[str, Any]:
        """Plain ``dict`` of every field."""
        return dict(self.__dict__)


def singleton_rate(
    samples: Any,
    *,
    prompt: str | Sequence[str] = "prompt",
    response: str = "response",
    idk: Iterable[str] = (),
) -> SingletonRate:
    """IDK-aware singleton rate of (prompt, response) samples (MATH.md section 2).

    A prompt is a singleton when exactly one of its samples has a non-IDK response (any number
    of IDK samples allowed); the rate divides the number of singleton prompts by ALL samples,
    IDK ones included. ``samples`` is an iterable of ``(prompt, response)`` pairs, or an
    Arrow/polars table (or anything with ``__arrow_c_stream__``) with the columns named by
    ``prompt`` (one name, or several, e.g. ``["subject", "relation"]`` for facts) and
    ``response``. ``idk`` adds answer strings that count as IDK.

    >>> t4 = [("c1", "a"), ("c1", "a"), ("c2", "b"), ("c3", None), ("c3", "x"),
    ...       ("c4", "y"), ("c5", "IDK"), ("c6", "z"), ("c6", "IDK"), ("c7", "w")]
    >>> s = singleton_rate(t4)
    >>> s.singleton_rate, s.singletons, s.samples
    (0.5, 5, 10)
    """
    extra = tuple(idk)
    table: Any = None
    if isinstance(samples, (pa.Table, pa.RecordBatch)):
        table = samples
    elif hasattr(samples, "to_arrow") and callable(samples.to_arrow):
        table = samples.to_arrow()
    elif hasattr(samples, "__arrow_c_stream__"):
        table = pa.table(samples)
    if table is not None:
        if isinstance(table, pa.RecordBatch):
            table = pa.Table.from_batches([table])
        keys = [prompt] if isinstance(prompt, str) else list(prompt)
        missing = [c for c in [*keys, response] if c not in table.schema.names]
        if missing:
            raise ConfigError(
                f"samples table lacks column(s) {missing}; found {table.schema.names} "
                "(set prompt= and response=)"
            )
        n_total = table.num_rows
        mask = _idk_mask(table.column(response), extra)
        n_idk = int(mask.sum())
        answered = table.select(keys).filter(pa.array(~mask))
        grouped = answered.group_by(keys).aggregate([([], "count_all")])
        singles = int(pc.sum(pc.equal(grouped.column("count_all"), 1)).as_py() or 0)
        all_prompts = table.select(keys).group_by(keys).aggregate([]).num_rows
    else:
        answered_counts: Counter[Any] = Counter()
        seen: set[Any] = set()
        n_total = 0
        n_idk = 0
        for item in samples:
            try:
                c, resp = item
            except (TypeError, ValueError):
                raise ConfigError(
                    f"each sample must be a (prompt, response) pair, got {item!r}"
                ) from None
            n_total += 1
            seen.add(c)
            if is_idk(resp, extra):
                n_idk += 1
            else:
                answered_counts[c] += 1
        singles = sum(1 for v in answered_counts.values() if v == 1)
        all_prompts = len(seen)
    if n_total == 0:
        raise ConfigError("no samples given: the singleton rate of an empty corpus is undefined")
    return SingletonRate(
        singleton_rate=singles / n_total,
        singletons=singles,
        samples=n_total,
        idk_samples=n_idk,
        prompts=all_prompts,
    )


# --------------------------------------------------------------------------------------------
# Simple Good-Turing


@dataclass(frozen=True)
class SimpleGoodTuring:
    """Result of Gale and Sampson's Simple Good-Turing (MATH.md section 5).

    Arrays are aligned with ``r`` (observed counts, ascending): ``n_r``, ``z`` (averaged
    ``Z_r``), ``r_star`` (adjusted counts), ``p`` (probability of EACH key seen r times),
    ``smoothed`` (True where ``r*`` comes from the fitted line, i.e. at and after the switch).
    ``p0 = n_1/N`` is the total mass of unseen keys; ``a``, ``b`` the intercept and slope of
    ``ln Z = a + b ln r``; ``switch_r`` the first r estimated from the line.

    >>> sgt = simple_good_turing({1: 10, 2: 6, 3: 4, 5: 2, 8: 1})
    >>> round(sgt.prob(1), 5), round(sgt.prob(0), 4), sgt.to_arrow().num_rows
    (0.01203, 0.1923, 5)
    """

    r: npt.NDArray[np.uint64]
    n_r: npt.NDArray[np.uint64]
    z: F64Array
    r_star: F64Array
    p: F64Array
    smoothed: npt.NDArray[np.bool_]
    p0: float
    a: float
    b: float
    samples: int
    n_prime: float
    switch_r: int
    confidence_factor: float

    def smoothed_count(self, r: float | F64Array) -> float | F64Array:
        """The fitted line ``S(r) = exp(a + b ln r)``."""
        out: float | F64Array = np.exp(self.a + self.b * np.log(r))
        return float(out) if np.ndim(out) == 0 else out

    def prob(self, r: int) -> float:
        """Probability of one key seen ``r`` times (``r = 0``: the total unseen mass ``p0``)."""
        if r == 0:
            return self.p0
        idx = int(np.searchsorted(self.r, r))
        if idx >= self.r.size or int(self.r[idx]) != r:
            raise ConfigError(f"no key was seen exactly {r} times")
        return float(self.p[idx])

    def to_arrow(self) -> Any:
        """pyarrow Table ``r, n_r, z, r_star, p, smoothed`` with ``p0, a, b`` in the metadata."""
        meta = {
            "p0": repr(self.p0),
            "a": repr(self.a),
            "b": repr(self.b),
            "samples": str(self.samples),
            "switch_r": str(self.switch_r),
        }
        return pa.table(
            {
                "r": pa.array(self.r, pa.uint64()),
                "n_r": pa.array(self.n_r, pa.uint64()),
                "z": self.z,
                "r_star": self.r_star,
                "p": self.p,
                "smoothed": self.smoothed,
            }
        ).replace_schema_metadata(meta)

    def to_dict(self) -> dict[str, Any]:
        """Plain ``dict`` (arrays as lists)."""
        return {
            "r": self.r.tolist(),
            "n_r": self.n_r.tolist(),
            "r_star": self.r_star.tolist(),
            "p": self.p.tolist(),
            "smoothed": self.smoothed.tolist(),
            "p0": self.p0,
            "a": self.a,
            "b": self.b,
            "samples": self.samples,
            "n_prime": self.n_prime,
            "switch_r": self.switch_r,
            "confidence_factor": self.confidence_factor,
        }

    def __str__(self) -> str:
        lines = [
            (
                f"Simple Good-Turing over N = {self.samples:,}: P0 = {self.p0:.6g}, "
                f"ln Z = {self.a:.6g} + ({self.b:.6g}) ln r, line used from r = {self.switch_r}"
            ),
            f"{'r':>8} {'n_r':>10} {'r*':>12} {'p':>12}",
        ]
        for i in range(min(self.r.size, 12)):
            lines.append(
                f"{int(self.r[i]):>8} {int(self.n_r[i]):>10} "
                f"{self.r_star[i]:>12.6g} {self.p[i]:>12.6g}"
            )
        if self.r.size > 12:
            lines.append(f"... {self.r.size - 12} more rows")
        return "\n".join(lines)


def simple_good_turing(counts: Any, z: float = 1.96) -> SimpleGoodTuring:
    """Simple Good-Turing (Gale and Sampson 1995) exactly as in MATH.md section 5.

    ``z`` is the confidence factor of the switch rule (1.96 in Gale and Sampson). Raises
    :class:`~monofact.errors.ConfigError` when it cannot apply: fewer than 5 distinct r, or a
    fitted slope ``b >= -1`` (the line would not give a proper distribution).

    >>> sgt = simple_good_turing({1: 10, 2: 6, 3: 4, 5: 2, 8: 1})
    >>> round(sgt.p0, 4), round(sgt.b, 6), round(sgt.a, 6)
    (0.1923, -1.710818, 2.625959)
    >>> [round(float(x), 5) for x in sgt.r_star]
    [0.61097, 1.49921, 2.44519, 4.39224, 7.35749]
    """
    zf = float(z)
    if math.isnan(zf) or zf < 0:
        raise ConfigError(f"confidence factor z must be >= 0, got {z!r}")
    r, n = as_histogram(counts)
    m = r.size
    if m < 5:
        raise ConfigError(
            f"Simple Good-Turing needs at least 5 distinct counts r, got {m}: "
            "the log-log line cannot be fitted reliably"
        )
    n_total = total_samples(r, n)
    rf = r.astype(np.float64)
    nf = n.astype(np.float64)
    p0 = float(nf[0]) / n_total if int(r[0]) == 1 else 0.0
    prev = np.concatenate(([0.0], rf[:-1]))
    nxt = np.concatenate((rf[1:], [2.0 * rf[-1] - prev[-1]]))
    zr = 2.0 * nf / (nxt - prev)
    x = np.log(rf)
    y = np.log(zr)
    xm, ym = float(x.mean()), float(y.mean())
    sxx = float(np.sum((x - xm) ** 2))
    b = float(np.sum((x - xm) * (y - ym))) / sxx
    a = ym - b * xm
    if not b < -1.0:
        raise ConfigError(
            f"Simple Good-Turing: fitted slope b = {b:.6g} is not below -1, so the smoothed "
            "counts would not give a proper distribution; use plain Good-Turing instead"
        )
    # y = (r+1) S(r+1)/S(r) = (r+1) * ((r+1)/r)^b
    y_star = (rf + 1.0) * np.exp(b * (np.log(rf + 1.0) - x))
    has_next = np.concatenate((rf[1:] == rf[:-1] + 1.0, [False]))
    n_next = np.concatenate((nf[1:], [0.0]))
    x_star = (rf + 1.0) * n_next / nf
    sd = np.sqrt((rf + 1.0) ** 2 * n_next / nf**2 * (1.0 + n_next / nf))
    indiff = ~has_next | (np.abs(x_star - y_star) <= zf * sd)
    switch = int(np.argmax(indiff))  # indiff[-1] is always True
    smoothed = np.arange(m) >= switch
    r_star = np.where(smoothed, y_star, x_star)
    n_prime = float(np.sum(nf * r_star))
    p = (1.0 - p0) * r_star / n_prime
    return SimpleGoodTuring(
        r=r,
        n_r=n,
        z=zr,
        r_star=r_star,
        p=p,
        smoothed=smoothed,
        p0=p0,
        a=a,
        b=b,
        samples=n_total,
        n_prime=n_prime,
        switch_r=int(r[switch]),
        confidence_factor=zf,
    )


# --------------------------------------------------------------------------------------------
# Good-Toulmin and its smoothed versions

Smoothing = Literal["binomial", "poisson"]
BinomialQ = Literal["2/(t+2)", "1/(t+1)"]


@dataclass(frozen=True)
class GoodToulmin:
    """Predicted number of new distinct keys when the corpus grows from n to ``(1+t) n``.

    ``new_keys`` is the estimate ``U(t)``; ``distinct_after = distinct + new_keys``. For the
    smoothed estimators, ``k``/``q`` (binomial) or ``poisson_r`` give the smoothing
    distribution. ``reliable`` is False, with the reason in ``warning``, when the series
    breaks down: plain Good-Toulmin beyond t = 1, a negative prediction, more new keys than new
    samples, a plain series that decreases as t grows, or a smoothed one used beyond
    ``t = ln n`` (where the Orlitsky-Suresh-Wu error guarantee ends). The smoothed estimators
    are not checked for monotonicity in t: their k, q or r change with t by design.

    >>> g = good_toulmin({1: 10, 2: 6, 3: 4, 5: 2, 8: 1}, 2.0, smoothing="poisson")
    >>> round(g.new_keys, 6), round(g.poisson_r, 6), g.reliable
    (12.461415, 1.537117, True)
    """

    t: float
    new_keys: float
    distinct: int
    distinct_after: float
    samples: float
    method: str
    k: int | None
    q: float | None
    poisson_r: float | None
    reliable: bool
    warning: str

    def to_dict(self) -> dict[str, Any]:
        """Plain ``dict`` of every field."""
        return dict(self.__dict__)

    def __str__(self) -> str:
        head = f"{self.method}: growing the corpus from {self.samples:,} samples by t = {self.t:g} "
        if not self.reliable:
            return head + f"gives no trustworthy prediction: {self.warning}"
        return head + (
            f"adds about {self.new_keys:,.1f} new distinct keys "
            f"({self.distinct:,} -> {self.distinct_after:,.1f})"
        )


def _binomial_tail(k: int, q: float, i: npt.NDArray[np.int64]) -> F64Array:
    """P(L >= i) for L ~ Binomial(k, q), vectorized over i."""
    pmf = np.array([math.comb(k, j) * q**j * (1.0 - q) ** (k - j) for j in range(k + 1)])
    tail = np.concatenate((np.cumsum(pmf[::-1])[::-1], [0.0]))  # tail[j] = P(L >= j)
    return np.asarray(tail[np.minimum(i, k + 1)], dtype=np.float64)


def _poisson_tail(lam: float, i: npt.NDArray[np.int64]) -> F64Array:
    """P(L >= i) for L ~ Poisson(lam), vectorized over i >= 1.

    Summed from the top (not ``1 - cdf``) so that tiny tails stay accurate: they get multiplied
    by ``t^i``. The pmf is tabulated until it underflows, whatever the largest r.
    """
    pmf = [math.exp(-lam)]
    j = 0
    while j <= lam or pmf[-1] > 1e-320:
        j += 1
        pmf.append(pmf[-1] * lam / j)
    tail = np.concatenate((np.cumsum(np.array(pmf)[::-1])[::-1], [0.0]))  # tail[j] = P(L >= j)
    tail[0] = 1.0
    return np.asarray(tail[np.minimum(i, len(pmf))], dtype=np.float64)


def _signed_power_sum(
    i: F64Array, w: F64Array, t: float, shift: float = 0.0, sign_at_odd: float = 1.0
) -> float:
    """``sum_i s_i t^(i - shift) w_i`` with s_i = sign_at_odd for odd i, -sign_at_odd for even i.

    Computed as ``exp((i - shift) ln t + ln w)`` so huge r neither overflow ``t^i`` nor turn
    ``inf * 0`` into NaN; a truly overflowing series returns inf or NaN (reported as such).
    """
    mask = w > 0
    if not np.any(mask):
        return 0.0
    ii = i[mask]
    expo = ii - shift
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        sign = np.where(np.mod(ii, 2) == 1, sign_at_odd, -sign_at_odd)
        direct = sign * np.power(t, expo) * w[mask]
        if np.all(np.isfinite(direct)):
            return float(np.sum(direct))
        logt = math.log(t) if t > 0 else -math.inf
        logmag = np.where(expo == 0, 0.0, expo * logt) + np.log(w[mask])
        mag = np.exp(logmag)
        return float(np.sum(sign * mag))


def _gt_sum(i: F64Array, phi: F64Array, t: float, weights: F64Array | None = None) -> float:
    # U = -sum (-t)^i w_i phi_i = sum_{i odd} t^i w phi - sum_{i even} t^i w phi
    w = phi if weights is None else phi * weights
    return _signed_power_sum(i, w, t)


def _u_value(
    i: F64Array,
    phi: F64Array,
    n_total: float,
    t: float,
    smoothing: Smoothing | None,
    q_kind: BinomialQ,
) -> tuple[float, int | None, float | None, float | None]:
    ii = i.astype(np.int64)
    if smoothing is None:
        return _gt_sum(i, phi, t), None, None, None
    if smoothing == "binomial":
        if q_kind == "2/(t+2)":
            q = 2.0 / (t + 2.0)
            k = math.ceil(0.5 * math.log(n_total * t * t / (t - 1.0), 3))
        else:
            q = 1.0 / (t + 1.0)
            k = math.ceil(0.5 * math.log2(n_total * t * t / (t - 1.0)))
        k = max(k, 1)
        return _gt_sum(i, phi, t, _binomial_tail(k, q, ii)), k, q, None
    lam = math.log(n_total * (t + 1.0) ** 2 / (t - 1.0)) / (2.0 * t)
    return _gt_sum(i, phi, t, _poisson_tail(lam, ii)), None, None, lam


def good_toulmin(
    counts: Any,
    t: float,
    smoothing: Smoothing | None = None,
    *,
    q: BinomialQ = "2/(t+2)",
    samples: float | None = None,
) -> GoodToulmin:
    """Good-Toulmin prediction of new distinct keys in a corpus ``(1 + t)`` times as large.

    ``smoothing=None``: ``U(t) = -sum_i (-t)^i phi_i`` (reliable for ``t <= 1``).
    ``smoothing="binomial"``: Orlitsky-Suresh-Wu with ``L ~ Binomial(k, q)``; ``q="2/(t+2)"``
    (``k = ceil(log_3(n t^2/(t-1)) / 2)``) or ``q="1/(t+1)"`` (``log_2``).
    ``smoothing="poisson"``: ``L ~ Poisson(ln(n (t+1)^2/(t-1)) / (2t))``. Smoothing needs
    ``t > 1``. ``samples`` overrides ``n = sum r n_r``.

    >>> phi = {1: 10, 2: 6, 3: 4, 5: 2, 8: 1}
    >>> round(good_toulmin(phi, 0.5).new_keys, 6), good_toulmin(phi, 1).new_keys
    (4.058594, 9.0)
    >>> gt2 = good_toulmin(phi, 2)
    >>> gt2.new_keys, gt2.reliable
    (-164.0, False)
    >>> sm = good_toulmin(phi, 2, smoothing="binomial")
    >>> sm.new_keys, sm.k, sm.q
    (9.5, 3, 0.5)
    """
    tf = float(t)
    if math.isnan(tf) or math.isinf(tf) or tf < 0:
        raise ConfigError(f"t (relative growth of the corpus) must be >= 0, got {t!r}")
    if smoothing not in (None, "binomial", "poisson"):
        raise ConfigError(f"smoothing must be None, 'binomial' or 'poisson', got {smoothing!r}")
    if q not in ("2/(t+2)", "1/(t+1)"):
        raise ConfigError(f"q must be '2/(t+2)' or '1/(t+1)', got {q!r}")
    if smoothing is not None and tf <= 1.0:
        raise ConfigError(
            f"smoothed Good-Toulmin is defined for t > 1 (got t = {tf:g}); "
            "for t <= 1 plain Good-Toulmin (smoothing=None) is reliable"
        )
    r, n = as_histogram(counts)
    n_total = total_samples(r, n) if samples is None else _check_samples(samples)
    i = r.astype(np.float64)
    phi = n.astype(np.float64)
    value, k, qv, lam = _u_value(i, phi, n_total, tf, smoothing, q)
    if smoothing is None:
        method = "Good-Toulmin"
    elif smoothing == "binomial":
        method = f"smoothed Good-Toulmin (binomial, q = {q})"
    else:
        method = "smoothed Good-Toulmin (Poisson)"
    problems: list[str] = []
    if smoothing is None and tf > 1.0:
        problems.append(
            "plain Good-Toulmin diverges beyond t = 1 (use smoothing='binomial' or 'poisson')"
        )
    if not math.isfinite(value):
        problems.append("the series overflowed")
    elif value < 0:
        problems.append(f"the prediction {value:.6g} is negative")
    elif value > n_total * tf + 1e-9:
        problems.append(f"the prediction {value:.6g} exceeds the {n_total * tf:.6g} new samples")
    if smoothing is None and 0 < tf and math.isfinite(value):
        # The true expected number of new keys grows with t; the plain series may not.
        grid = np.linspace(0.0, tf, 65)[1:]
        vals = np.array([_gt_sum(i, phi, float(g)) for g in grid])
        if np.any(np.diff(vals) < -1e-9 * max(1.0, float(np.abs(vals).max()))):
            problems.append("the prediction decreases as t grows (non-monotone)")
    if smoothing is not None and tf > math.log(n_total):
        # Orlitsky-Suresh-Wu guarantee a vanishing error only up to t ~ ln n.
        problems.append(
            f"t = {tf:g} exceeds ln(n) = {math.log(n_total):.3g}, beyond which "
            "the smoothed estimator's error guarantee fails"
        )
    distinct = int(sum(int(v) for v in n.tolist()))
    return GoodToulmin(
        t=tf,
        new_keys=value,
        distinct=distinct,
        distinct_after=distinct + value,
        samples=n_total,
        method=method,
        k=k,
        q=qv,
        poisson_r=lam,
        reliable=not problems,
        warning="; ".join(problems),
    )


# --------------------------------------------------------------------------------------------
# Singleton rate of a larger corpus


@dataclass(frozen=True)
class SingletonRateExtrapolation:
    """Predicted singleton rate of a corpus ``(1 + t)`` times as large (Poisson model).

    ``singleton_rate`` is ``sr(t) = (1/n) sum_i i (-t)^(i-1) phi_i``; ``reliable`` is False,
    with the reason in ``warning``, when ``t > 0.5`` or the series breaks down (``sr(s)`` leaves
    [0, 1] or increases somewhere on ``0 <= s <= t``; the true curve is non-increasing).

    >>> e = extrapolate_singleton_rate({1: 10, 2: 6, 3: 4, 5: 2, 8: 1}, 1.0)
    >>> round(e.singleton_rate, 6), e.reliable, "non-monotone" in e.warning
    (0.230769, False, True)
    """

    t: float
    singleton_rate: float
    singleton_rate_now: float
    samples: float
    samples_after: float
    reliable: bool
    warning: str

    def to_dict(self) -> dict[str, Any]:
        """Plain ``dict`` of every field."""
        return dict(self.__dict__)

    def __str__(self) -> str:
        if not self.reliable:
            return (
                f"singleton rate at {1 + self.t:g}x the corpus: no trustworthy prediction "
                f"({self.warning}); raw series value {self.singleton_rate:.6g}"
            )
        return (
            f"singleton rate at {1 + self.t:g}x the corpus: {self.singleton_rate:.6g} "
            f"(now {self.singleton_rate_now:.6g})"
        )


def _sr_series(i: F64Array, phi: F64Array, n_total: float, t: F64Array) -> F64Array:
    # sr(t) = (1/n) sum_i i (-t)^(i-1) phi_i: + for odd i, - for even i.
    w = i * phi
    out = np.array([_signed_power_sum(i, w, float(x), shift=1.0) for x in t])
    return np.asarray(out / n_total, dtype=np.float64)


def extrapolate_singleton_rate(
    counts: Any, t: float, *, max_t: float = 0.5, samples: float | None = None
) -> SingletonRateExtrapolation:
    """Singleton rate of a corpus ``(1 + t)`` times larger (MATH.md section 6, Poisson model).

    ``max_t`` is the largest t still called reliable (0.5 by default).

    >>> phi = {1: 10, 2: 6, 3: 4, 5: 2, 8: 1}
    >>> e = extrapolate_singleton_rate(phi, 0.25)
    >>> round(e.singleton_rate, 6), e.reliable
    (0.14978, True)
    >>> e = extrapolate_singleton_rate(phi, 1.0)
    >>> round(e.singleton_rate, 6), e.reliable
    (0.230769, False)

    On this tiny histogram the series already turns upward at t ~ 0.41, so ``sr(0.5) =
    0.145433`` is flagged (non-monotone) although t <= 0.5.
    """
    tf = float(t)
    if math.isnan(tf) or math.isinf(tf) or tf < 0:
        raise ConfigError(f"t (relative growth of the corpus) must be >= 0, got {t!r}")
    r, n = as_histogram(counts)
    n_total = total_samples(r, n) if samples is None else _check_samples(samples)
    i = r.astype(np.float64)
    phi = n.astype(np.float64)
    grid = np.linspace(0.0, tf, 129) if tf > 0 else np.array([0.0])
    vals = _sr_series(i, phi, n_total, grid)
    value = float(vals[-1])
    now = float(vals[0])
    problems: list[str] = []
    if tf > max_t:
        problems.append(f"t = {tf:g} > {max_t:g}: the series is trustworthy only for small t")
    if not np.all(np.isfinite(vals)):
        problems.append("the series overflowed")
    else:
        if not 0.0 <= value <= 1.0:
            problems.append(f"the predicted rate {value:.6g} is outside [0, 1]")
        elif np.any((vals < 0) | (vals > 1)):
            problems.append("the series leaves [0, 1] between t = 0 and this t")
        if np.any(np.diff(vals) > 1e-12):
            problems.append("the series increases with t (non-monotone), so it has broken down")
    return SingletonRateExtrapolation(
        t=tf,
        singleton_rate=value,
        singleton_rate_now=now,
        samples=n_total,
        samples_after=n_total * (1.0 + tf),
        reliable=not problems,
        warning="; ".join(problems),
    )
