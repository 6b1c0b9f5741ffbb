"""The report's data sidecars: ``report.json`` and Parquet tables of every plotted number."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from monofact.report.data import Params, ResultData, jsonable

if TYPE_CHECKING:  # figures imports matplotlib; these modules do not need it
    from monofact.report.figures import FigureFile

__all__ = ["FORMAT", "report_json", "write_parquet"]

#: identifies the layout of ``report.json``
FORMAT = "monofact-report/1"


def _key_table(d: ResultData, rows: Sequence[dict[str, Any]]) -> pa.Table:
    cols: dict[str, Any] = {"rank": pa.array(range(1, len(rows) + 1), pa.uint32())}
    for c in d.key_columns:
        cols[c] = pa.array([str(r.get(c, "")) for r in rows], pa.large_string())
    cols["count"] = pa.array([int(r["count"]) for r in rows], pa.uint64())
    if any("documents" in r for r in rows):
        cols["documents"] = pa.array([r.get("documents") for r in rows], pa.uint64())
    return pa.table(cols)


def _tables(d: ResultData) -> dict[str, pa.Table]:
    t: dict[str, pa.Table] = {
        "histogram": pa.table(
            {"r": pa.array(d.hist_r, pa.uint64()), "n_r": pa.array(d.hist_n, pa.uint64())}
        ),
        "floor_vs_samples": pa.table({k: pa.array(v, pa.float64()) for k, v in d.curve.items()}),
        "extrapolated_singleton_rate": pa.table(
            {
                "t": pa.array(d.extrapolation["t"], pa.float64()),
                "factor": pa.array(d.extrapolation["factor"], pa.float64()),
                "samples": pa.array(d.extrapolation["samples"], pa.float64()),
                "singleton_rate": pa.array(d.extrapolation["singleton_rate"], pa.float64()),
                "asymptotic_floor": pa.array(d.extrapolation["asymptotic_floor"], pa.float64()),
                "reliable": pa.array(d.extrapolation["reliable"], pa.bool_()),
                "warning": pa.array(d.extrapolation["warning"], pa.string()),
            }
        ),
        "floor": d.floor.to_arrow(),
    }
    if d.top:
        t["top"] = _key_table(d, d.top)
    if d.bottom:
        t["bottom"] = _key_table(d, d.bottom)
    if d.by_relation:
        t["by_relation"] = pa.Table.from_pylist(d.by_relation)
    return t


def write_parquet(results: Sequence[ResultData], data_dir: Path) -> list[Path]:
    """Write each result's tables as ``data_dir/<slug>_<table>.parquet``; return the paths.

    >>> import tempfile
    >>> from monofact.report.data import collect
    >>> data = collect([{1: 3, 2: 1}], Params(min_wrong=364))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     [p.name for p in write_parquet(data, Path(tmp))][:2]
    ['counts_histogram.parquet', 'counts_floor_vs_samples.parquet']
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for d in results:
        for name, table in _tables(d).items():
            p = data_dir / f"{d.slug}_{name}.parquet"
            pq.write_table(table, p)
            paths.append(p)
    return paths


def report_json(
    results: Sequence[ResultData],
    figures: Sequence[FigureFile],
    params: Params,
    title: str,
    version: str,
    sidecars: Sequence[str],
) -> str:
    """``report.json``: parameters, and per input its summary, histogram, floor (every term),
    the floor-vs-N curve, the extrapolation curve, the top/bottom keys and the per-relation
    rates, i.e. every number the figures and tables show. Non-finite floats become null.

    >>> from monofact.report.data import collect
    >>> p = Params(min_wrong=364)
    >>> doc = json.loads(report_json(collect([{1: 3, 2: 1}], p), [], p, "t", "0", []))
    >>> doc["results"][0]["histogram"]
    {'r': [1, 2], 'n_r': [3, 1]}
    """
    doc: dict[str, Any] = {
        "format": FORMAT,
        "monofact_version": version,
        "title": title,
        "parameters": {
            "min_wrong": params.min_wrong,
            "max_wrong": params.max_wrong,
            "upper_bound_max_wrong": (
                "unbounded (max_wrong not given)" if params.max_wrong is None else params.max_wrong
            ),
            "calibration_gap": params.calibration_gap,
            "confidence": params.confidence,
        },
        "results": [],
        "figures": [
            {
                "name": f.name,
                "title": f.title,
                "caption": f.caption,
                "png": f"figures/{f.png.name}",
                "svg": f"figures/{f.svg.name}",
            }
            for f in figures
        ],
        "sidecars": list(sidecars),
    }
    for d in results:
        f = d.floor
        doc["results"].append(
            {
                "label": d.label,
                "slug": d.slug,
                "kind": d.kind,
                "summary": d.summary,
                "histogram": {"r": d.hist_r, "n_r": d.hist_n},
                "samples": d.samples,
                "distinct": d.distinct,
                "n1": d.n1,
                "singleton_rate": d.singleton_rate,
                "singleton_rate_interval": d.interval,
                "floor": f.to_dict(),
                "floor_terms": f.terms,
                "floor_vs_samples": {
                    "singleton_rate_held_fixed": f.singleton_rate,
                    "corpus_samples": f.samples,
                    "vacuous_below_samples": f.samples_for_nonvacuous,
                    **d.curve,
                },
                "extrapolated_singleton_rate": {
                    "first_unreliable_t": d.first_unreliable_t,
                    **d.extrapolation,
                },
                "top": d.top,
                "bottom": d.bottom,
                "by_relation": d.by_relation,
            }
        )
    return json.dumps(jsonable(doc), indent=1, ensure_ascii=False, allow_nan=False) + "\n"
