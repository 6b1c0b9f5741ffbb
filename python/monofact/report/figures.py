"""The report's figures (matplotlib, Agg, no pyplot state, deterministic output).

Figures are drawn on :class:`matplotlib.figure.Figure` objects directly, so the report neither
switches the caller's matplotlib backend nor leaves figures open. Output is reproducible: fixed
sizes and DPI, ``svg.hashsalt`` fixed, no date or software version in the metadata, and
``text.parse_math`` off so corpus text containing ``$`` is drawn as typed.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter, PercentFormatter

from monofact.report.data import Params, ResultData

__all__ = ["DPI", "FigureFile", "render"]

DPI = 144
WIDTH = 8.5  # inches: 1224 px at DPI

COLORS = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04"]
INK = "#111827"
MUTED = "#6b7280"
RED = "#dc2626"
BLUE = "#2563eb"
GREEN = "#15803d"
AMBER_BG = "#fef3c7"
GRAY_BG = "#f3f4f6"

_RC: dict[str, Any] = {
    "svg.hashsalt": "monofact-report",
    "svg.fonttype": "path",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9.5,
    "axes.titlesize": 11.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titlepad": 10,
    "axes.labelsize": 9.5,
    "axes.labelcolor": "#374151",
    "axes.edgecolor": "#9ca3af",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e5e7eb",
    "grid.linewidth": 0.8,
    "xtick.color": "#4b5563",
    "ytick.color": "#4b5563",
    "legend.frameon": True,
    "legend.framealpha": 0.92,
    "legend.edgecolor": "#e5e7eb",
    "legend.fontsize": 8.5,
    "text.parse_math": False,
    "text.usetex": False,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}


@dataclass(frozen=True)
class FigureFile:
    """One rendered figure: its PNG and SVG files, the PNG bytes (inlined in the HTML), and
    the caption text.

    >>> FigureFile("f", "t", "c", Path("f.png"), Path("f.svg"), b"").name
    'f'
    """

    name: str
    title: str
    caption: str
    png: Path
    svg: Path
    png_bytes: bytes


@contextmanager
def _style() -> Iterator[None]:
    rc: Any = _RC
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        # Corpus text may hold glyphs the font lacks; a box is drawn instead. Not an error.
        warnings.filterwarnings("ignore", message=r".*[Gg]lyph.*missing", category=UserWarning)
        warnings.filterwarnings("ignore", message=r".*constrained_layout", category=UserWarning)
        yield


def _save(fig: Figure, base: Path) -> tuple[Path, Path, bytes]:
    png, svg = base.with_suffix(".png"), base.with_suffix(".svg")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    data = buf.getvalue()
    png.write_bytes(data)
    # The layout is settled by the first save: keep it (same geometry, half the work).
    fig.set_layout_engine("none")
    fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return png, svg, data


def _fmt_n(n: float) -> str:
    if n >= 1e7:
        mant, exp = f"{n:.2e}".split("e")
        return f"{mant}e{int(exp)}"
    return f"{n:,.0f}"


def _pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}%"


def _short(text: str, width: int = 46) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "\u2026"


_SUPER = str.maketrans(
    "-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
)


def _pow10(v: float, _pos: Any = None) -> str:
    """Tick label ``10\u00b3`` for exact powers of ten (mathtext is off), blank otherwise."""
    if v <= 0:
        return ""
    e = math.log10(v)
    if abs(e - round(e)) > 1e-9:
        return ""
    k = round(e)
    return "1" if k == 0 else "10" if k == 1 else "10" + str(k).translate(_SUPER)


def _log_axis(axis: Any) -> None:
    axis.set_major_formatter(FuncFormatter(_pow10))
    axis.set_minor_formatter(NullFormatter())


def _key_label(row: dict[str, Any]) -> str:
    if "ngram" in row:
        return _short(str(row["ngram"]))
    return _short(f"{row['subject']} \u00b7 {row['relation']} \u00b7 {row['object']}")


# ------------------------------------------------------------------------------------------


def _count_of_counts(results: Sequence[ResultData], base: Path) -> FigureFile:
    fig = Figure(figsize=(WIDTH, 4.6), layout="constrained")
    ax = fig.add_subplot()
    for i, d in enumerate(results):
        marker = "s" if d.kind == "facts" else "o"
        ax.plot(
            d.hist_r,
            d.hist_n,
            marker=marker,
            ms=3.4,
            ls="none",
            alpha=0.8,
            color=COLORS[i % len(COLORS)],
            label=f"{d.label}: N = {_fmt_n(d.samples)}, {d.distinct:,} distinct, N1 = {d.n1:,}",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    _log_axis(ax.xaxis)
    _log_axis(ax.yaxis)
    ax.set_xlabel("r: times a key occurs (log scale)")
    ax.set_ylabel("n_r: keys seen exactly r times (log scale)")
    ax.set_title("Count-of-counts")
    ax.legend(loc="upper right")
    png, svg, data = _save(fig, base)
    parts = ", ".join(
        f"{d.label} (n_1 = {d.n1:,} of {d.distinct:,} distinct keys)" for d in results
    )
    caption = (
        "How many distinct keys occur exactly r times, on log-log axes: "
        f"{parts}. The leftmost point, n_1, is the number of keys seen once; the singleton "
        "rate n_1/N behind the floor is that count over all N samples."
    )
    return FigureFile("count_of_counts", "Count-of-counts", caption, png, svg, data)


def _by_relation(d: ResultData, base: Path) -> FigureFile:
    rows = d.by_relation[:25]
    k = len(rows)
    fig = Figure(figsize=(WIDTH, max(2.6, 1.1 + 0.34 * k)), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(k)
    rates = [float(r["singleton_rate"]) for r in rows]
    ax.barh(y, rates, color=COLORS[1], height=0.62)
    hi = max([*rates, d.singleton_rate, 0.01])
    xmax = min(1.0, hi * 1.45 + 0.04)
    for yi, r in zip(y, rows):
        rate = float(r["singleton_rate"])
        inside = rate > 0.72 * xmax  # no room to the right: write on the bar
        ax.text(
            rate - xmax * 0.012 if inside else rate + xmax * 0.012,
            float(yi),
            f"{_pct(rate)}  (N = {int(r['samples']):,})",
            va="center",
            ha="right" if inside else "left",
            fontsize=8.5,
            color="white" if inside else "#374151",
        )
    ax.axvline(d.singleton_rate, color=INK, ls="--", lw=1.1)
    ax.text(
        d.singleton_rate,
        -0.9 if k else 0,
        f" all relations: {_pct(d.singleton_rate)}",
        va="bottom",
        fontsize=8.5,
        color=INK,
    )
    ax.set_yticks(y, [_short(str(r["group"]), 30) for r in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, xmax)
    ax.set_ylim(k - 0.5, -1.1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("singleton rate: share of mentions whose (subject, relation) is a singleton")
    ax.set_title(f"Singleton share by relation ({d.label})")
    png, svg, data = _save(fig, base)
    more = (
        f" The 25 relations with the most mentions of {len(d.by_relation)} are shown."
        if (len(d.by_relation) > 25)
        else ""
    )
    caption = (
        "Singleton rate per relation (prompt-level, IDK-aware), with its number of mentions N; "
        f"the dashed line is the rate over all relations ({_pct(d.singleton_rate, 2)}). "
        "Relations with a higher singleton share have a higher hallucination floor." + more
    )
    return FigureFile(
        f"singleton_share_by_relation_{d.slug}",
        f"Singleton share by relation ({d.label})",
        caption,
        png,
        svg,
        data,
    )


def _finite(vals: Sequence[float | None]) -> list[float]:
    return [float(v) for v in vals if v is not None and math.isfinite(float(v))]


def _floor_vs_samples(d: ResultData, params: Params, base: Path) -> FigureFile:
    f = d.floor
    c = d.curve
    x = np.asarray(c["samples"], dtype=float)
    lower = np.asarray(c["lower"], dtype=float)
    asym = np.asarray(c["asymptotic"], dtype=float)
    upper = np.asarray(c["upper"], dtype=float)
    fig = Figure(figsize=(WIDTH, 5.3), layout="constrained")
    ax = fig.add_subplot()
    ax.set_xscale("log")
    lo = max(min(_finite(c["lower"]) + [0.0]), -1.0) - 0.06
    hi = min(max(_finite(c["upper"]) + [f.asymptotic, 0.1]), 1.0) + 0.06
    nv = f.samples_for_nonvacuous
    if nv is None or not math.isfinite(nv):
        ax.axvspan(x[0], x[-1], color=GRAY_BG, zorder=0, lw=0)
        vac_text = "guaranteed bound vacuous (\u2264 0) at every N"
        ax.text(x[0] * 1.15, -0.025, vac_text, fontsize=8.5, color=MUTED, va="top")
    elif nv > x[0]:
        ax.axvspan(x[0], min(nv, x[-1]), color=GRAY_BG, zorder=0, lw=0)
        ax.text(
            x[0] * 1.15,
            -0.025,
            f"guaranteed bound vacuous (\u2264 0)\nbelow N \u2248 {_fmt_n(nv)}",
            fontsize=8.5,
            color=MUTED,
            va="top",
        )
    ax.axhline(0.0, color=MUTED, lw=1.0, zorder=1)
    up_label = (
        "upper bound (a calibrated memorizer reaches it)"
        if params.max_wrong is not None
        else "upper bound (max_wrong unknown: taken unbounded)"
    )
    ax.plot(x, upper, color=RED, lw=1.6, label=up_label)
    ax.plot(
        x,
        asym,
        color=BLUE,
        lw=1.6,
        ls="--",
        label="asymptotic floor  sr \u2212 2/min_wrong \u2212 \u03b4",
    )
    ax.plot(
        x,
        lower,
        color=INK,
        lw=2.2,
        label=f"guaranteed lower bound (probability \u2265 {params.confidence:g})",
    )
    lows = _finite(c["lower"])
    if lows and max(lows) < lo:
        ax.text(
            x[-1] / 1.15,
            lo + 0.02,
            "guaranteed lower bound: below the plotted range throughout \u2193",
            fontsize=8.5,
            color=INK,
            ha="right",
            va="bottom",
        )
    n0 = float(f.samples)
    ax.axvline(n0, color=GREEN, ls=":", lw=1.4)
    pts = [(f.lower, INK), (f.asymptotic, BLUE)]
    if f.upper is not None:
        pts.append((f.upper, RED))
    for yv, col in pts:
        if lo <= yv <= hi:
            ax.plot([n0], [yv], "o", color=col, ms=6, mec="white", mew=1.2, zorder=5)
    ax.annotate(
        f"this corpus\nN = {_fmt_n(n0)}",
        xy=(n0, hi),
        xytext=(4, -4),
        textcoords="offset points",
        va="top",
        ha="left",
        fontsize=8.5,
        color=GREEN,
    )
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(lo, hi)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    _log_axis(ax.xaxis)
    ax.set_xlabel("N: samples in the corpus (log scale)")
    ax.set_ylabel("error rate of any base model")
    ax.set_title(
        f"Hallucination floor vs corpus size ({d.label}, singleton rate held at "
        f"{_pct(f.singleton_rate, 2)})"
    )
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, frameon=False)
    png, svg, data = _save(fig, base)
    if nv is None:
        vac = (
            "The guaranteed bound is vacuous at every N: the asymptotic floor itself is "
            f"{_pct(f.asymptotic, 2)} \u2264 0."
        )
    elif not math.isfinite(nv):
        vac = "The guaranteed bound stays vacuous at every N."
    else:
        vac = f"The guaranteed bound is vacuous (\u2264 0) below N \u2248 {_fmt_n(nv)} (shaded)."
    up = (
        f"upper bound sr \u2212 sr/(max_wrong + 1) + 5\u221a(ln(5/\u03b3)/N) with max_wrong = "
        f"{params.max_wrong:g}"
        if params.max_wrong is not None
        else "upper bound sr + 5\u221a(ln(5/\u03b3)/N) (max_wrong not given, so taken as "
        "unbounded: the loosest valid form)"
    )
    caption = (
        f"KNVZ Theorem 2 as a function of the number of samples N, holding the singleton rate "
        f"fixed at this corpus's {_pct(f.singleton_rate, 2)} (what a larger corpus would show "
        "only if its singleton rate stayed the same; see the extrapolation figure). "
        f"Guaranteed lower bound sr \u2212 2/min_wrong \u2212 6 ln(3N/\u03b3)/\u221aN \u2212 \u03b4 "
        f"(min_wrong = {params.min_wrong:g}, \u03b4 = {params.calibration_gap:g}, "
        f"\u03b3 = {f.gamma:.3g}); asymptotic floor sr \u2212 2/min_wrong \u2212 \u03b4; {up}. "
        f"{vac} The dotted green line marks this corpus (N = {_fmt_n(n0)}); curves leaving the "
        "plotted range continue off-scale."
    )
    return FigureFile(
        f"floor_vs_samples_{d.slug}",
        f"Hallucination floor vs corpus size ({d.label})",
        caption,
        png,
        svg,
        data,
    )


def _plus_one(v: Any) -> Any:
    return v + 1.0


def _minus_one(v: Any) -> Any:
    return v - 1.0


def _extrapolation(results: Sequence[ResultData], base: Path) -> FigureFile:
    fig = Figure(figsize=(WIDTH, 4.5), layout="constrained")
    ax = fig.add_subplot()
    firsts = [d.first_unreliable_t for d in results if d.first_unreliable_t is not None]
    if firsts:
        ax.axvspan(min(firsts), 1.0, color=AMBER_BG, zorder=0, lw=0, alpha=0.8)
    shown: list[float] = []
    for i, d in enumerate(results):
        col = COLORS[i % len(COLORS)]
        e = d.extrapolation
        t = np.asarray(e["t"], dtype=float)
        sr = np.asarray(e["singleton_rate"], dtype=float)
        ok = np.asarray(e["reliable"], dtype=bool)
        good = np.where(ok, sr, np.nan)
        bad_mask = ~ok
        # draw the unreliable part from the last reliable point so the line is continuous
        edge = np.flatnonzero(bad_mask)
        if edge.size and edge[0] > 0:
            bad_mask[edge[0] - 1] = True
        bad = np.where(bad_mask & (sr >= -0.5) & (sr <= 1.5), sr, np.nan)
        ax.plot(t, good, color=col, lw=2.2, label=f"{d.label}: reliable")
        ax.plot(t, bad, color=col, lw=1.4, ls="--", label=f"{d.label}: flagged unreliable")
        if d.first_unreliable_t is not None:
            j = int(np.flatnonzero(~ok)[0])
            if math.isfinite(sr[j]) and 0 <= sr[j] <= 1:
                ax.plot([t[j]], [sr[j]], marker="X", color=col, ms=8, mec="white", zorder=5)
        shown.extend(float(v) for v in sr if math.isfinite(v) and 0.0 <= v <= 1.0)
    top = min(1.0, max([*shown, 0.05]) * 1.18)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, top)
    if firsts:
        ax.text(
            min(firsts) + 0.01,
            top * 0.97,
            "flagged unreliable",
            fontsize=8.5,
            color="#92400e",
            va="top",
        )
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("t: the corpus grows to (1 + t) \u00d7 N")
    ax.set_ylabel("predicted singleton rate sr(t)")
    sec = ax.secondary_xaxis("top", functions=(_plus_one, _minus_one))
    sec.set_xlabel("corpus size (\u00d7 this corpus)")
    ax.set_title("Extrapolated singleton rate for larger corpora")
    ax.legend(loc="lower left")
    png, svg, data = _save(fig, base)
    notes = []
    for d in results:
        if d.first_unreliable_t is None:
            notes.append(f"{d.label}: reliable over the whole range")
        else:
            j = d.extrapolation["t"].index(d.first_unreliable_t)
            notes.append(
                f"{d.label}: flagged from t = {d.first_unreliable_t:.3g} "
                f"({d.extrapolation['warning'][j]})"
            )
    caption = (
        "Predicted singleton rate of a corpus (1 + t) times as large, "
        "sr(t) = (1/N) \u03a3 i (\u2212t)^(i\u22121) n_i (the Good-Toulmin-type Poisson series "
        "of MATH.md section 6; for facts scaled to the IDK-aware rate). Solid where the "
        "estimator reports it reliable, dashed where it flags it (t > 0.5, or the series "
        "rises or leaves [0, 1]); an X marks the first flagged point. " + "; ".join(notes) + "."
    )
    return FigureFile(
        "extrapolated_singleton_rate",
        "Extrapolated singleton rate",
        caption,
        png,
        svg,
        data,
    )


def _frequent(d: ResultData, base: Path) -> FigureFile:
    noun = "facts" if d.kind == "facts" else d.label
    fig = Figure(figsize=(WIDTH, 9.6), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    cmax = max([int(r["count"]) for r in [*d.top, *d.bottom]] + [1])
    left = 0.7
    for ax, rows, title, col in (
        (axes[0], d.top, f"Most frequent {noun}", COLORS[0]),
        (axes[1], d.bottom, f"Least frequent {noun} (ties in alphabetical order)", COLORS[1]),
    ):
        y = np.arange(len(rows))
        counts = [int(r["count"]) for r in rows]
        ax.hlines(y, left, counts, color="#d1d5db", lw=1.4)
        ax.plot(counts, y, "o", color=col, ms=6.5, mec="white", mew=0.8)
        for yi, cnt in zip(y, counts):
            ax.annotate(
                f"{cnt:,}",
                (cnt, float(yi)),
                xytext=(7, 0),
                textcoords="offset points",
                va="center",
                fontsize=7.5,
                color="#374151",
            )
        ax.set_yticks(y, [_key_label(r) for r in rows], fontsize=8)
        ax.set_ylim(len(rows) - 0.4, -0.6)
        ax.grid(axis="y", visible=False)
        ax.set_title(title)
    ax = axes[1]
    ax.set_xscale("log")
    ax.set_xlim(left, cmax * 2.2)
    _log_axis(ax.xaxis)
    axes[0].tick_params(labelbottom=True)
    ax.set_xlabel(("mentions" if d.kind == "facts" else "occurrences") + " (log scale)")
    png, svg, data = _save(fig, base)
    caption = (
        f"The {len(d.top)} most and {len(d.bottom)} least frequent {noun} with their counts, "
        "on one log scale (long keys shortened; the full text is in the tables below and in "
        "the Parquet sidecars)."
    )
    return FigureFile(
        f"frequent_{d.slug}",
        f"Most and least frequent {noun}",
        caption,
        png,
        svg,
        data,
    )


def render(results: Sequence[ResultData], params: Params, fig_dir: Path) -> list[FigureFile]:
    """Draw every figure of the report into ``fig_dir`` (PNG and SVG); return them in order.

    >>> import tempfile
    >>> from monofact.report.data import collect
    >>> data = collect([{1: 10, 2: 6, 3: 4, 5: 2, 8: 1}], Params(min_wrong=364))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     [f.name for f in render(data, Params(min_wrong=364), Path(tmp))]
    ['count_of_counts', 'floor_vs_samples_counts', 'extrapolated_singleton_rate']
    """
    fig_dir.mkdir(parents=True, exist_ok=True)
    out: list[FigureFile] = []
    with _style():
        out.append(_count_of_counts(results, fig_dir / "count_of_counts"))
        for d in results:
            if d.by_relation:
                out.append(_by_relation(d, fig_dir / f"singleton_share_by_relation_{d.slug}"))
        for d in results:
            out.append(_floor_vs_samples(d, params, fig_dir / f"floor_vs_samples_{d.slug}"))
        out.append(_extrapolation(results, fig_dir / "extrapolated_singleton_rate"))
        for d in results:
            if d.top or d.bottom:
                out.append(_frequent(d, fig_dir / f"frequent_{d.slug}"))
    return out
