"""Normalize the many shapes of a count-of-counts into two validated numpy arrays.

Every estimator and floor in monofact accepts "counts": a dict ``{r: n_r}``, a pyarrow
Table/RecordBatch (or anything exporting ``__arrow_c_stream__``) with columns ``r`` and ``n_r``,
a polars DataFrame, a path to a Parquet file with those columns, or any object with a
``.histogram()`` method returning one of these (``count_ngrams`` results, fact counts, loaded
counts). :func:`as_histogram` turns all of them into ``(r, n_r)``: ``uint64`` arrays sorted by
``r`` with ``n_r > 0``. :func:`sample_stats` additionally resolves the sample count ``N`` and the
singleton rate, preferring an object's ``summary`` (whose ``singleton_rate`` is the IDK-aware
prompt-level rate for fact counts) over ``n_1 / N`` computed from the histogram.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from monofact.errors import ConfigError

U64Array = npt.NDArray[np.uint64]

__all__ = ["SampleStats", "U64Array", "as_histogram", "sample_stats"]

_TWO_53 = 2**53


def _integer_array(values: Any, name: str) -> U64Array:
    """Validate one column of counts (numpy-convertible) and return it as uint64."""
    arr: npt.NDArray[Any]
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        if values.null_count:
            raise ConfigError(f"histogram column {name!r} has {values.null_count} null value(s)")
        if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
            raise ConfigError(
                f"histogram column {name!r} must hold non-negative integers, got {values.type}"
            )
        arr = values.to_numpy(zero_copy_only=False)
    else:
        arr = np.asarray(values)
    if arr.dtype == object:
        # Python ints (possibly beyond int64) or mixed objects: check each element.
        out = np.empty(arr.shape[0], dtype=np.uint64)
        for i, v in enumerate(arr.tolist()):
            out[i] = _python_count(v, name)
        return out
    kind = arr.dtype.kind
    if kind == "u":
        return arr.astype(np.uint64, copy=False)
    if kind == "i":
        if arr.size and int(arr.min()) < 0:
            raise ConfigError(f"histogram column {name!r} has a negative count ({int(arr.min())})")
        return arr.astype(np.uint64)
    if kind == "f":
        if arr.size and not np.all(np.isfinite(arr)):
            raise ConfigError(f"histogram column {name!r} has a NaN or infinite count")
        if arr.size and float(arr.min()) < 0:
            raise ConfigError(f"histogram column {name!r} has a negative count ({arr.min()!r})")
        if np.any(arr != np.floor(arr)):
            bad = arr[arr != np.floor(arr)][0]
            raise ConfigError(f"histogram column {name!r} has a non-integer count ({bad!r})")
        if arr.size and float(arr.max()) >= 2.0**64:
            raise ConfigError(f"histogram column {name!r} has a count beyond uint64")
        return arr.astype(np.uint64)
    raise ConfigError(
        f"histogram column {name!r} must hold non-negative integers, got dtype {arr.dtype}"
    )


def _python_count(v: Any, name: str) -> int:
    if isinstance(v, bool) or v is None:
        raise ConfigError(f"histogram column {name!r} has a non-integer count ({v!r})")
    if isinstance(v, (int, np.integer)):
        iv = int(v)
    elif isinstance(v, (float, np.floating)):
        fv = float(v)
        if math.isnan(fv) or math.isinf(fv):
            raise ConfigError(f"histogram column {name!r} has a NaN or infinite count")
        if fv != math.floor(fv):
            raise ConfigError(f"histogram column {name!r} has a non-integer count ({v!r})")
        iv = int(fv)
    else:
        raise ConfigError(f"histogram column {name!r} has a non-integer count ({v!r})")
    if iv < 0:
        raise ConfigError(f"histogram column {name!r} has a negative count ({iv})")
    if iv >= 2**64:
        raise ConfigError(f"histogram column {name!r} has a count beyond uint64 ({iv})")
    return iv


def _from_table(table: Any) -> tuple[U64Array, U64Array]:
    names = list(table.schema.names)
    if "r" not in names or "n_r" not in names:
        raise ConfigError(f"a histogram table needs columns 'r' and 'n_r'; found columns {names}")
    return (
        _integer_array(table.column("r"), "r"),
        _integer_array(table.column("n_r"), "n_r"),
    )


def _from_mapping(d: Mapping[Any, Any]) -> tuple[U64Array, U64Array]:
    keys = list(d.keys())
    if keys and all(isinstance(k, str) for k in keys) and set(keys) >= {"r", "n_r"}:
        # column dict {"r": [...], "n_r": [...]}
        return _integer_array(np.asarray(d["r"]), "r"), _integer_array(np.asarray(d["n_r"]), "n_r")
    r = np.empty(len(keys), dtype=np.uint64)
    n = np.empty(len(keys), dtype=np.uint64)
    for i, (k, v) in enumerate(d.items()):
        if isinstance(k, str):
            try:
                k = int(k.strip())
            except ValueError:
                raise ConfigError(f"histogram key {k!r} is not an integer count r") from None
        r[i] = _python_count(k, "r")
        n[i] = _python_count(v, "n_r")
    return r, n


def _raw(obj: Any, depth: int = 0) -> tuple[U64Array, U64Array]:
    if depth > 3:
        raise ConfigError("histogram() returned an object that is not a histogram")
    if obj is None:
        raise ConfigError("no counts given (got None)")
    if isinstance(obj, Mapping):
        return _from_mapping(obj)
    if isinstance(obj, (pa.Table, pa.RecordBatch)):
        return _from_table(obj)
    if isinstance(obj, pa.RecordBatchReader):
        return _from_table(obj.read_all())
    if isinstance(obj, (str, os.PathLike)):
        path = os.fspath(obj)
        if not os.path.isfile(path):
            raise ConfigError(f"histogram path {path!r} is not a file")
        try:
            table = pq.read_table(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise ConfigError(f"cannot read {path!r} as a Parquet histogram: {exc}") from None
        return _from_table(table)
    hist = getattr(obj, "histogram", None)
    if callable(hist):
        return _raw(hist(), depth + 1)
    if hist is not None:  # a `histogram` attribute holding the table itself
        return _raw(hist, depth + 1)
    to_arrow = getattr(obj, "to_arrow", None)
    if callable(to_arrow):  # polars DataFrame
        return _raw(to_arrow(), depth + 1)
    if hasattr(obj, "__arrow_c_stream__"):
        return _from_table(pa.table(obj))
    raise ConfigError(
        f"cannot read a histogram from {type(obj).__name__}: give a dict {{r: n_r}}, an "
        "Arrow/polars table with columns r and n_r, a Parquet path, or a counts object"
    )


def as_histogram(obj: Any) -> tuple[U64Array, U64Array]:
    """Return a count-of-counts as ``(r, n_r)`` uint64 arrays, ascending ``r``, ``n_r > 0``.

    Accepts a dict ``{r: n_r}``, an Arrow table/record batch (or any ``__arrow_c_stream__``
    exporter) or polars DataFrame with columns ``r`` and ``n_r``, a Parquet path, or an object
    with a ``.histogram()`` method. Rows with ``n_r == 0`` carry no information and are dropped.

    Raises :class:`monofact.errors.ConfigError` for negative, non-integer, NaN or null counts,
    a duplicate ``r``, ``r == 0``, or an empty histogram.

    >>> r, n_r = as_histogram({2: 6, 1: 10, 3: 4})
    >>> r.tolist(), n_r.tolist()
    ([1, 2, 3], [10, 6, 4])
    >>> as_histogram({0: 5})
    Traceback (most recent call last):
    ...
    monofact.errors.ConfigError: histogram has r = 0: a count-of-counts starts at r = 1
    """
    r, n = _raw(obj)
    if r.shape != n.shape:
        raise ConfigError("histogram columns r and n_r have different lengths")
    if r.size and int(r.min()) == 0:
        raise ConfigError("histogram has r = 0: a count-of-counts starts at r = 1")
    order = np.argsort(r, kind="stable")
    r = r[order]
    n = n[order]
    if r.size > 1:
        dup = r[1:] == r[:-1]
        if np.any(dup):
            raise ConfigError(f"histogram has a duplicate r ({int(r[1:][dup][0])})")
    keep = n > 0
    if not np.all(keep):
        r = r[keep]
        n = n[keep]
    if r.size == 0:
        raise ConfigError("histogram is empty (no key was counted)")
    return np.ascontiguousarray(r), np.ascontiguousarray(n)


def total_samples(r: U64Array, n: U64Array) -> int:
    """``N = sum r * n_r`` exactly (float64 while exact, Python ints beyond 2**53)."""
    fr = r.astype(np.float64)
    fn = n.astype(np.float64)
    if float(fr.max()) < _TWO_53 and float(fn.max()) < _TWO_53:
        total = float(np.dot(fr, fn))
        if total < _TWO_53 and np.all(fr * fn < _TWO_53):
            return int(total)
    return sum(int(a) * int(b) for a, b in zip(r.tolist(), n.tolist()))


@dataclass(frozen=True)
class SampleStats:
    """The sample count and singleton rate a floor needs, and where they came from.

    >>> SampleStats(samples=10, singleton_rate=0.5, source="given").samples
    10
    """

    samples: float
    singleton_rate: float
    source: str


def _summary(obj: Any) -> Mapping[str, Any] | None:
    if obj is None or isinstance(obj, (Mapping, str, os.PathLike, pa.Table, pa.RecordBatch)):
        return None
    s = getattr(obj, "summary", None)
    if callable(s):
        s = s()
    if isinstance(s, Mapping):
        return s
    return None


def sample_stats(
    counts: Any,
    *,
    singleton_rate: float | None = None,
    samples: float | None = None,
) -> SampleStats:
    """Resolve ``N`` and the singleton rate of ``counts`` (explicit keywords win).

    Order: explicit ``singleton_rate=``/``samples=``; then ``counts.summary`` (a dict with
    ``samples`` and ``singleton_rate``); then the histogram (``N = sum r n_r``, ``sr = n_1/N``).

    >>> sample_stats({1: 10, 2: 6, 3: 4, 5: 2, 8: 1})
    SampleStats(samples=52, singleton_rate=0.19230769230769232, source='histogram')
    >>> sample_stats(None, singleton_rate=0.2, samples=10_000).samples
    10000
    """
    src: list[str] = []
    n_val: float | None = None
    sr_val: float | None = None
    if samples is not None:
        n_val = _check_samples(samples)
        src.append("samples=")
    if singleton_rate is not None:
        sr_val = float(singleton_rate)
        src.append("singleton_rate=")
    if (n_val is None or sr_val is None) and counts is not None:
        summ = _summary(counts)
        if (
            summ is not None
            and summ.get("samples") is not None
            and summ.get("singleton_rate") is not None
        ):
            if n_val is None:
                n_val = _check_samples(summ["samples"])
            if sr_val is None:
                sr_val = float(summ["singleton_rate"])
            src.append("summary")
        else:
            r, n = as_histogram(counts)
            total = total_samples(r, n)
            n1 = int(n[0]) if int(r[0]) == 1 else 0
            if n_val is None:
                n_val = total
            if sr_val is None:
                sr_val = n1 / total
            src.append("histogram")
    if n_val is None or sr_val is None:
        raise ConfigError(
            "need counts, or both singleton_rate= and samples= (the number of samples N)"
        )
    if math.isnan(sr_val) or not 0.0 <= sr_val <= 1.0:
        raise ConfigError(f"singleton rate must lie in [0, 1], got {sr_val!r}")
    return SampleStats(samples=n_val, singleton_rate=sr_val, source="+".join(src))


def _check_samples(samples: Any) -> float:
    """A sample count: a finite number >= 1 (kept an int when integral; a scaled estimate of a
    sampled run may be fractional)."""
    try:
        f = float(samples)
    except (TypeError, ValueError):
        raise ConfigError(f"samples must be a number >= 1, got {samples!r}") from None
    if math.isnan(f) or math.isinf(f) or f < 1:
        raise ConfigError(f"samples (N) must be a finite number >= 1, got {samples!r}")
    if isinstance(samples, (int, np.integer)):
        return int(samples)
    return int(f) if f == math.floor(f) and f < _TWO_53 else f
