"""``mf.report(...)``: a self-contained HTML report with figures and data sidecars.

The report directory holds ``report.html`` (inline CSS, figures inlined as PNG ``data:`` URIs,
no script, no network access: it opens offline), ``figures/*.png`` and ``figures/*.svg``,
``report.json`` (every plotted number, the summaries and the floor terms) and
``data/*.parquet`` (histograms, floor curves, extrapolations, top/bottom keys, per-relation
rates). Corpus text is HTML-escaped. Uses matplotlib (a dependency of monofact).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ReportPaths", "report"]


@dataclass(frozen=True)
class ReportPaths:
    """Where a report was written: the HTML page, the figure files (PNG and SVG), the data
    sidecars (``report.json`` first, then Parquet) and the report directory.

    >>> p = ReportPaths(Path("r/report.html"), [], [], Path("r"))
    >>> p.html.name
    'report.html'
    """

    html: Path
    figures: list[Path]
    sidecars: list[Path]
    dir: Path


def _flatten(results: tuple[Any, ...]) -> list[Any]:
    out: list[Any] = []
    for r in results:
        if isinstance(r, (list, tuple)) and not isinstance(r, Mapping):
            out.extend(r)
        else:
            out.append(r)
    return out


def report(
    *results: Any,
    out: str | Path = "report/",
    min_wrong: float = 364,
    max_wrong: float | None = None,
    calibration_gap: float = 0.0,
    confidence: float = 0.99,
    title: str | None = None,
) -> ReportPaths:
    """Write an HTML report of n-gram and/or fact counts into the directory ``out``.

    ``results``: any mix of ``count_ngrams`` results, fact counts (``count_facts``), or plain
    histograms (``{r: n_r}``, Arrow table with ``r``/``n_r``); a list of them works too.
    ``min_wrong``, ``max_wrong``, ``calibration_gap`` and ``confidence`` go to
    :func:`monofact.hallucination_floor`; without ``max_wrong`` the upper bound is drawn with
    ``max_wrong`` unbounded (its loosest valid form). Existing files of the same names in
    ``out`` are overwritten; other files are left alone. Nothing depends on the clock: the
    same inputs give byte-identical files (an n-gram summary's run ``seconds`` is an input).

    >>> import tempfile, monofact as mf
    >>> from monofact.cli import sample_corpus
    >>> counts = mf.count_ngrams(sample_corpus(), n=3, progress="none")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = report(counts, out=tmp, min_wrong=364)
    ...     paths.html.name, len(paths.figures) > 0, paths.sidecars[0].name
    ('report.html', True, 'report.json')
    """
    from monofact import __version__
    from monofact.errors import ConfigError

    try:
        from monofact.report.figures import render
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"mf.report needs matplotlib ({exc}); install it with pip install matplotlib"
        ) from exc
    from monofact.report.data import Params, collect
    from monofact.report.html import render_html
    from monofact.report.sidecars import report_json, write_parquet

    items = _flatten(results)
    if not items:
        raise ConfigError("report() needs at least one counts object")
    for name, v in (("min_wrong", min_wrong), ("calibration_gap", calibration_gap)):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ConfigError(f"{name} must be a number, not {v!r}")
    params = Params(
        min_wrong=float(min_wrong),
        max_wrong=None if max_wrong is None else float(max_wrong),
        calibration_gap=float(calibration_gap),
        confidence=float(confidence),
    )
    data = collect(items, params)
    out_dir = Path(out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    if title is None:
        title = "monofact report: " + ", ".join(d.label for d in data)
    figures = render(data, params, out_dir / "figures")
    parquet = write_parquet(data, out_dir / "data")
    json_path = out_dir / "report.json"
    sidecars = [json_path, *parquet]
    rel = [p.relative_to(out_dir).as_posix() for p in sidecars]
    json_path.write_text(
        report_json(data, figures, params, title, __version__, rel), encoding="utf-8"
    )
    html_path = out_dir / "report.html"
    html_path.write_text(
        render_html(data, figures, params, title, rel, __version__), encoding="utf-8"
    )
    fig_paths = [p for f in figures for p in (f.png, f.svg)]
    return ReportPaths(html=html_path, figures=fig_paths, sidecars=sidecars, dir=out_dir)
