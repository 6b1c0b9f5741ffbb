"""Every number a report shows, computed once with monofact's floors and estimators.

:func:`collect` turns each input (n-gram ``Counts``, fact counts, or any histogram) into a
:class:`ResultData`; the figures, the HTML and the sidecars all read from it, so the JSON
sidecar holds exactly the numbers that were plotted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from monofact._histogram import as_histogram
from monofact.errors import ConfigError
from monofact.estimators import good_turing
from monofact.floors import Floor, hallucination_floor

__all__ = ["Params", "ResultData", "collect", "jsonable"]

#: rows in the most / least frequent tables
TOP_K = 20
#: points of the floor-vs-N curves and of the extrapolation curves
CURVE_POINTS = 121
EXTRAPOLATION_POINTS = 81


@dataclass(frozen=True)
class Params:
    """The user's floor parameters (``max_wrong=None``: unknown).

    >>> Params(min_wrong=364).confidence
    0.99
    """

    min_wrong: float
    max_wrong: float | None = None
    calibration_gap: float = 0.0
    confidence: float = 0.99

    @property
    def max_wrong_for_upper(self) -> float:
        """``max_wrong`` for the upper bound: unbounded (inf) when unknown, which gives the
        loosest valid upper bound ``sr + 5 sqrt(ln(5/gamma)/N)``."""
        return math.inf if self.max_wrong is None else float(self.max_wrong)


@dataclass
class ResultData:
    """The numbers of one input to the report (built by :func:`collect`).

    >>> d = collect([{1: 3, 2: 1}], Params(min_wrong=364))[0]
    >>> d.kind, d.key_columns, d.hist_r, d.hist_n, d.floor.vacuous
    ('histogram', ['ngram'], [1, 2], [3, 1], True)
    """

    label: str
    slug: str
    kind: str  # "ngrams" | "facts" | "histogram"
    summary: dict[str, Any]
    hist_r: list[int]
    hist_n: list[int]
    samples: float
    distinct: int
    n1: int
    floor: Floor
    interval: dict[str, Any]
    curve: dict[str, list[float | None]]
    extrapolation: dict[str, list[Any]]
    first_unreliable_t: float | None
    top: list[dict[str, Any]] = field(default_factory=list)
    bottom: list[dict[str, Any]] = field(default_factory=list)
    by_relation: list[dict[str, Any]] = field(default_factory=list)

    @property
    def singleton_rate(self) -> float:
        """The singleton rate the floor uses (IDK-aware for facts)."""
        return self.floor.singleton_rate

    @property
    def key_columns(self) -> list[str]:
        """Columns naming a key in ``top``/``bottom``."""
        if self.kind == "facts":
            return ["subject", "relation", "object"]
        return ["ngram"]


def jsonable(x: Any) -> Any:
    """Plain JSON data: numpy scalars to Python, non-finite floats to None, paths to str.

    >>> jsonable({"a": float("inf"), "b": np.uint64(3), "c": (1.5,)})
    {'a': None, 'b': 3, 'c': [1.5]}
    """
    if x is None or isinstance(x, str):
        return x
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        f = float(x)
        return f if math.isfinite(f) else None
    if isinstance(x, Mapping):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in list(x)]
    return str(x)


def _kind(obj: Any) -> str:
    if callable(getattr(obj, "table", None)) and callable(getattr(obj, "singleton_rates", None)):
        return "facts"
    summ = getattr(obj, "summary", None)
    if callable(getattr(obj, "to_arrow", None)) and isinstance(summ, Mapping) and "n" in summ:
        return "ngrams"
    return "histogram"


def _label(kind: str, summary: Mapping[str, Any]) -> str:
    if kind == "facts":
        return "facts"
    if kind == "ngrams":
        return f"{int(summary['n'])}-grams"
    return "counts"


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "counts"


def _summary_of(obj: Any) -> dict[str, Any]:
    s = getattr(obj, "summary", None)
    if callable(s):
        s = s()
    return dict(s) if isinstance(s, Mapping) else {}


def _curve(floor: Floor, params: Params) -> dict[str, list[float | None]]:
    """Floor terms at N on a log grid, holding the singleton rate fixed: from about 1e3 to
    100 N, or further when the guaranteed bound only turns positive beyond that."""
    n0 = float(floor.samples)
    lo = min(1e3, n0 / 10.0) if n0 > 10 else 1.0
    hi = max(100.0 * n0, 10.0)
    nv = floor.samples_for_nonvacuous
    if nv is not None and math.isfinite(nv) and nv * 3.0 > hi:
        hi = min(nv * 3.0, 1e18)  # show where the guarantee turns positive
    grid = np.geomspace(max(lo, 1.0), hi, CURVE_POINTS)
    out: dict[str, list[float | None]] = {
        "samples": [],
        "lower": [],
        "asymptotic": [],
        "upper": [],
        "finite_sample_slack": [],
    }
    for n in grid.tolist():
        f = hallucination_floor(
            singleton_rate=floor.singleton_rate,
            samples=float(n),
            min_wrong=params.min_wrong,
            max_wrong=params.max_wrong_for_upper,
            calibration_gap=params.calibration_gap,
            confidence=params.confidence,
        )
        out["samples"].append(float(n))
        out["lower"].append(f.lower)
        out["asymptotic"].append(f.asymptotic)
        out["upper"].append(f.upper)
        out["finite_sample_slack"].append(f.slack)
    return out


def _extrapolation(floor: Floor) -> tuple[dict[str, list[Any]], float | None]:
    """sr(t) on t in [0, 1] from ``Floor.extrapolate`` (the Good-Toulmin-type series)."""
    ts = np.linspace(0.0, 1.0, EXTRAPOLATION_POINTS).tolist()
    out: dict[str, list[Any]] = {
        "t": [],
        "factor": [],
        "samples": [],
        "singleton_rate": [],
        "asymptotic_floor": [],
        "reliable": [],
        "warning": [],
    }
    first_bad: float | None = None
    for t in ts:
        e = floor.extrapolate(factor=1.0 + float(t))
        out["t"].append(float(t))
        out["factor"].append(1.0 + float(t))
        out["samples"].append(float(e.samples))
        out["singleton_rate"].append(float(e.singleton_rate))
        out["asymptotic_floor"].append(float(e.asymptotic))
        out["reliable"].append(bool(e.reliable))
        out["warning"].append(e.warning)
        if not e.reliable and first_bad is None:
            first_bad = float(t)
    return out, first_bad


def _ngram_rows(obj: Any, hist_r: Sequence[int], hist_n: Sequence[int]) -> tuple[list[Any], ...]:
    top_tbl = obj.to_arrow(top_k=TOP_K).read_all()
    top = [{"ngram": str(row["ngram"]), "count": int(row["count"])} for row in top_tbl.to_pylist()]
    # Least frequent: the stream is ordered by count descending, then tokens ascending, so the
    # first rows at the smallest count are the least frequent keys (ties alphabetical).
    if hist_n and hist_n[0] >= TOP_K:
        reader = obj.to_arrow(max_count=int(hist_r[0]), batch_rows=TOP_K)
        try:
            batch = reader.read_next_batch()
            rows = batch.to_pylist()
        except StopIteration:
            rows = []
    else:
        acc, cut = 0, int(hist_r[-1]) if hist_r else 0
        for r, n in zip(hist_r, hist_n):
            acc += int(n)
            if acc >= TOP_K:
                cut = int(r)
                break
        tbl = obj.to_arrow(max_count=cut).read_all()
        tbl = tbl.sort_by([("count", "ascending"), ("ngram", "ascending")])
        rows = tbl.slice(0, TOP_K).to_pylist()
    bottom = [{"ngram": str(r["ngram"]), "count": int(r["count"])} for r in rows[:TOP_K]]
    bottom.sort(key=lambda d: (d["count"], d["ngram"]))
    return top, bottom


def _fact_rows(obj: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    tbl = obj.table()
    if not isinstance(tbl, pa.Table):
        tbl = pa.table(tbl)
    need = ["subject", "relation", "object", "mentions"]
    missing = [c for c in need if c not in tbl.schema.names]
    if missing:
        raise ConfigError(f"fact table lacks column(s) {missing}")
    keep = [c for c in [*need, "documents"] if c in tbl.schema.names]
    tbl = tbl.select(keep)
    # Cast the text columns so that sorting is defined for dictionary or view types too.
    for c in ("subject", "relation", "object"):
        i = tbl.schema.get_field_index(c)
        tbl = tbl.set_column(i, c, pc.cast(tbl.column(c), pa.large_string()))
    keys = [("subject", "ascending"), ("relation", "ascending"), ("object", "ascending")]

    def pick(order: str) -> list[dict[str, Any]]:
        sort_keys = [("mentions", order), *keys]
        k = min(TOP_K, tbl.num_rows)
        if k == 0:
            return []
        idx = pc.select_k_unstable(tbl, k, sort_keys=sort_keys)
        part = tbl.take(idx).sort_by(sort_keys)
        rows = []
        for row in part.to_pylist():
            d: dict[str, Any] = {
                c: ("" if row[c] is None else str(row[c])) for c in ("subject", "relation")
            }
            d["object"] = "" if row["object"] is None else str(row["object"])
            d["count"] = int(row["mentions"])
            if "documents" in row and row["documents"] is not None:
                d["documents"] = int(row["documents"])
            rows.append(d)
        return rows

    return pick("descending"), pick("ascending")


def _relation_rows(floor: Floor) -> list[dict[str, Any]]:
    tbl = floor.by_group("relation")
    rows: list[dict[str, Any]] = tbl.to_pylist()
    rows.sort(key=lambda d: (-int(d["samples"]), str(d["group"])))
    return rows


def collect(results: Sequence[Any], params: Params) -> list[ResultData]:
    """Compute the numbers of every input (see the module docstring).

    >>> d = collect([{1: 10, 2: 6, 3: 4, 5: 2, 8: 1}], Params(min_wrong=364))[0]
    >>> d.label, d.samples, d.n1, round(d.singleton_rate, 6)
    ('counts', 52, 10, 0.192308)
    """
    if not results:
        raise ConfigError("report() needs at least one counts object")
    out: list[ResultData] = []
    seen: dict[str, int] = {}
    for obj in results:
        kind = _kind(obj)
        summary = _summary_of(obj)
        label = _label(kind, summary)
        seen[label] = count = seen.get(label, 0) + 1
        slug = _slug(label)
        if count > 1:
            label, slug = f"{label} #{count}", f"{slug}-{count}"
        r, n = as_histogram(obj)
        hist_r = [int(v) for v in r.tolist()]
        hist_n = [int(v) for v in n.tolist()]
        explicit: dict[str, Any] = {}
        # A fact summary that counts its samples as "mentions": keep its IDK-aware rate.
        if (
            kind == "facts"
            and "samples" not in summary
            and summary.get("singleton_rate") is not None
            and summary.get("mentions") is not None
        ):
            explicit = {
                "samples": summary["mentions"],
                "singleton_rate": summary["singleton_rate"],
            }
        floor = hallucination_floor(
            obj,
            **explicit,
            min_wrong=params.min_wrong,
            max_wrong=params.max_wrong_for_upper,
            calibration_gap=params.calibration_gap,
            confidence=params.confidence,
        )
        gt = good_turing(
            obj,
            confidence=params.confidence,
            idk=(kind == "facts"),
            singleton_rate=explicit.get("singleton_rate"),
            samples=explicit.get("samples"),
        )
        curve = _curve(floor, params)
        extra, first_bad = _extrapolation(floor)
        data = ResultData(
            label=label,
            slug=slug,
            kind=kind,
            summary=summary,
            hist_r=hist_r,
            hist_n=hist_n,
            samples=int(floor.samples) if float(floor.samples).is_integer() else floor.samples,
            distinct=int(sum(hist_n)),
            n1=hist_n[0] if hist_r and hist_r[0] == 1 else 0,
            floor=floor,
            interval=gt.to_dict(),
            curve=curve,
            extrapolation=extra,
            first_unreliable_t=first_bad,
        )
        if kind == "ngrams":
            data.top, data.bottom = _ngram_rows(obj, hist_r, hist_n)
        elif kind == "facts":
            data.top, data.bottom = _fact_rows(obj)
            data.by_relation = _relation_rows(floor)
        out.append(data)
    return out
