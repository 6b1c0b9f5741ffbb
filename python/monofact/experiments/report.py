"""Tables, figures and the HTML + JSON report of the arbitrary-facts experiment."""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from monofact.experiments.arbitrary_facts import Result
from monofact.report.figures import COLORS, DPI, _log_axis, _style

__all__ = [
    "format_extras",
    "format_growth",
    "format_table",
    "jsonable",
    "summary_rows",
    "write_report",
]


def _mean(xs: Sequence[float]) -> float:
    v = [x for x in xs if x is not None and not math.isnan(x)]
    return float(np.mean(v)) if v else float("nan")


def _sd(xs: Sequence[float]) -> float:
    v = [x for x in xs if x is not None and not math.isnan(x)]
    return float(np.std(v, ddof=1)) if len(v) > 1 else float("nan")


def jsonable(x: Any) -> Any:
    """``x`` with NaN/inf floats as None and numpy scalars as Python numbers (strict JSON)."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def summary_rows(result: Result) -> list[dict[str, Any]]:
    """One row per (exponent, model, decoding): means over seeds (and the seed-to-seed sd of the
    error), with the status of every check of that group."""
    groups: dict[tuple[float, str, str], list[dict[str, Any]]] = {}
    for r in result.rows:
        groups.setdefault((r["exponent"], r["model"], r["decoding"]), []).append(r)
    failed = {
        (c.get("seed"), c.get("exponent"), c.get("model"), c.get("decoding"))
        for c in result.violations
    }
    warned = {
        (c.get("seed"), c.get("exponent"), c.get("model"), c.get("decoding"))
        for c in result.warnings
    }
    out = []
    for (exp, model, dec), rows in groups.items():
        errs = [r["err"] for r in rows]
        bad = any((r["seed"], exp, model, dec) in failed for r in rows)
        warn = any((r["seed"], exp, model, dec) in warned for r in rows)
        vac = all(r["lower_vacuous"] for r in rows)
        out.append(
            {
                "exponent": exp,
                "model": model,
                "decoding": dec,
                "seeds": len(rows),
                "samples": rows[0]["samples"],
                "sr": _mean([r["singleton_rate"] for r in rows]),
                "E_sr": _mean([r["expected_singleton_rate"] for r in rows]),
                "err": _mean(errs),
                "err_sd": _sd(errs),
                "E_err_memorizer": _mean([r["expected_memorizer_error"] for r in rows])
                if model == "memorizer"
                else float("nan"),
                "delta": _mean([r["delta"] for r in rows]),
                "lower": _mean([r["lower"] for r in rows]),
                "asymptotic": _mean([r["asymptotic"] for r in rows]),
                "upper": _mean([r["upper"] for r in rows]),
                "theorem1": _mean([r["theorem1_bound"] for r in rows]),
                "status": "VIOLATION"
                if bad
                else "below asymptotic floor"
                if warn
                else ("lower vacuous" if vac else "ok"),
            }
        )
    return out


_COLS = [
    ("exponent", "s", "{:g}"),
    ("model", "model", "{}"),
    ("decoding", "decoding", "{}"),
    ("seeds", "seeds", "{}"),
    ("sr", "sr", "{:.4f}"),
    ("E_sr", "E[sr]", "{:.4f}"),
    ("err", "err", "{:.4f}"),
    ("err_sd", "sd", "{:.4f}"),
    ("E_err_memorizer", "E[err] mem.", "{:.4f}"),
    ("delta", "delta", "{:.3f}"),
    ("lower", "Thm2 lower", "{:+.3f}"),
    ("asymptotic", "asympt. floor", "{:+.3f}"),
    ("upper", "Thm2 upper", "{:.3f}"),
    ("theorem1", "Thm1 bound", "{:+.3f}"),
    ("status", "status", "{}"),
]


def _cell(fmt: str, v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return fmt.format(v)


def format_table(rows: Sequence[dict[str, Any]], markdown: bool = False) -> str:
    """The summary table as aligned text, or as a Markdown table."""
    return _format(rows, _COLS, markdown)


def format_growth(result: Result, markdown: bool = False) -> str:
    """The growth series (prefixes of one corpus) as text or Markdown."""
    cols = [
        ("exponent", "s", "{:g}"),
        ("samples", "N", "{:,}"),
        ("singleton_rate", "sr", "{:.4f}"),
        ("expected_singleton_rate", "E[sr]", "{:.4f}"),
        ("memorizer_err", "memorizer err", "{:.4f}"),
        ("lower", "Thm2 lower", "{:+.3f}"),
        ("upper", "Thm2 upper", "{:.3f}"),
        ("extrapolated_singleton_rate", "sr from N/2 (extrapolate)", "{:.4f}"),
        ("extrapolated_reliable", "reliable", "{}"),
    ]
    return _format(result.growth, cols, markdown)


def format_extras(result: Result) -> str:
    """Theorem 3 (she/he) and the grading ranking as short text."""
    lines = []
    for r in result.theorem3:
        lines.append(
            f"Theorem 3, {r['variant']} sentences, {r['order']}-gram: picks {r['picks']}, "
            f"error {r['error_rate']:.2f} (bound {r['bound']:.2f}; context reaches the "
            f"pronoun: {r['sees_pronoun']})"
        )
    if result.grading:
        lines.append("Grading (rank 1 = best): policy | binary | t=0.5 | t=0.75 | t=0.9")
        for r in result.grading:
            lines.append(
                f"  {r['policy']:<30} binary {r['binary_score']:+.3f} (#{r['rank_binary_score']})"
                + "".join(
                    f"  t={k[7:]} {r[k]:+.3f} (#{r['rank_' + k]})"
                    for k in r
                    if k.startswith("score_t")
                )
            )
    return "\n".join(lines)


def _format(
    rows: Sequence[dict[str, Any]], cols: Sequence[tuple[str, str, str]], markdown: bool
) -> str:
    head = [h for _, h, _ in cols]
    body = [[_cell(f, r.get(k)) for k, _, f in cols] for r in rows]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(b) + " |" for b in body]
        return "\n".join(lines)
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    return "\n".join([fmt.format(*head), *(fmt.format(*b) for b in body)])


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _fig_bounds(result: Result) -> bytes:
    with _style():
        exps = sorted({r["exponent"] for r in result.rows})
        fig = Figure(figsize=(11, 3.6 * max(1, len(exps))), layout="constrained")
        axes = fig.subplots(len(exps), 1, squeeze=False)[:, 0]
        for ax, exp in zip(axes, exps):
            rows = [r for r in result.rows if r["exponent"] == exp]
            labels = list(dict.fromkeys(f"{r['model']}\n{r['decoding']}" for r in rows))
            x = {lab: i for i, lab in enumerate(labels)}
            for r in rows:
                lab = f"{r['model']}\n{r['decoding']}"
                color = COLORS[0] if r["decoding"] == "sampled" else COLORS[1]
                ax.plot(x[lab], r["err"], "o", color=color, ms=5, alpha=0.8)
                lo = r["lower"]
                ax.plot(x[lab], lo, "_", color="#dc2626", ms=16, mew=2)
                if not math.isnan(r["theorem1_bound"]):
                    ax.plot(x[lab], r["theorem1_bound"], "x", color=COLORS[3], ms=6)
            sr = _mean([r["singleton_rate"] for r in rows])
            up = _mean([r["upper"] for r in rows])
            asym0 = _mean([r["singleton_rate"] - 2 / 364 for r in rows])
            ax.axhline(up, color=COLORS[2], ls="--", lw=1.2, label=f"Thm 2 upper {up:.3f}")
            ax.axhline(
                asym0,
                color="#6b7280",
                ls=":",
                lw=1.2,
                label=f"asymptotic floor (delta=0) {asym0:.3f}",
            )
            ax.axhline(sr, color="#9ca3af", ls="-", lw=0.8, label=f"sr {sr:.3f}")
            ax.plot([], [], "o", color=COLORS[0], label="measured err, sampling")
            ax.plot([], [], "o", color=COLORS[1], label="measured err, greedy")
            ax.plot([], [], "_", color="#dc2626", mew=2, label="Thm 2 guaranteed lower (own delta)")
            ax.plot([], [], "x", color=COLORS[3], label="Thm 1 bound")
            ax.set_xticks(range(len(labels)), labels, fontsize=7.5)
            ax.set_ylim(max(-0.5, min(0.0, ax.get_ylim()[0])), min(1.05, ax.get_ylim()[1]))
            ax.set_ylabel("error rate")
            ax.set_title(f"Zipf exponent {exp:g}: measured error vs the bounds (all seeds)")
            ax.axhline(0, color="#111827", lw=0.6)
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        return _png(fig)


def _fig_growth(result: Result) -> bytes:
    with _style():
        fig = Figure(figsize=(10, 4.6), layout="constrained")
        ax = fig.add_subplot()
        for i, exp in enumerate(sorted({g["exponent"] for g in result.growth})):
            rows = [g for g in result.growth if g["exponent"] == exp]
            n = [g["samples"] for g in rows]
            c = COLORS[i % len(COLORS)]
            ax.plot(
                n,
                [g["memorizer_err"] for g in rows],
                "o-",
                color=c,
                label=f"s={exp:g} memorizer err",
            )
            ax.plot(
                n,
                [g["singleton_rate"] for g in rows],
                "s--",
                color=c,
                alpha=0.6,
                label=f"s={exp:g} sr",
            )
            ax.plot(n, [g["lower"] for g in rows], ":", color=c, label=f"s={exp:g} Thm 2 lower")
            ex = [
                (g["samples"], g["extrapolated_singleton_rate"])
                for g in rows
                if g["extrapolated_singleton_rate"] is not None
            ]
            if ex:
                ax.plot(
                    *zip(*ex),
                    "^",
                    color=c,
                    mfc="none",
                    ms=8,
                    label=f"s={exp:g} sr extrapolated from N/2",
                )
        ax.set_xscale("log")
        _log_axis(ax.xaxis)
        ax.set_ylim(-0.3, 1.0)
        ax.axhline(0, color="#111827", lw=0.6)
        ax.set_xlabel("training samples N (prefixes of one corpus)")
        ax.set_ylabel("rate")
        ax.set_title("As the corpus grows: error, singleton rate, bound, extrapolation")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        return _png(fig)


def _fig_grading(result: Result) -> bytes:
    with _style():
        fig = Figure(figsize=(8.5, 3.8), layout="constrained")
        ax = fig.add_subplot()
        keys = ["binary_score"] + [k for k in result.grading[0] if k.startswith("score_t")]
        width = 0.8 / len(result.grading)
        for i, row in enumerate(result.grading):
            xs = np.arange(len(keys)) + i * width
            ax.bar(
                xs,
                [max(row[k], -1.5) for k in keys],
                width,
                label=row["policy"],
                color=COLORS[i % len(COLORS)],
            )
        ax.set_xticks(
            np.arange(len(keys)) + 0.4 - width / 2,
            ["binary"] + [k.replace("score_", "target ") for k in keys[1:]],
        )
        ax.axhline(0, color="#111827", lw=0.6)
        ax.set_ylabel("mean score (clipped at -1.5)")
        ax.set_title("Guessing vs abstaining: binary grading and confidence targets")
        ax.legend(fontsize=7)
        return _png(fig)


def _html_table(rows: Sequence[dict[str, Any]], cols: Sequence[str] | None = None) -> str:
    if not rows:
        return "<p><em>none</em></p>"
    cols = list(cols or rows[0].keys())

    def f(v: Any) -> str:
        if isinstance(v, float):
            return "-" if math.isnan(v) else f"{v:.4g}"
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr"
        + (' class="bad"' if r.get("status") == "VIOLATION" or r.get("passed") is False else "")
        + ">"
        + "".join(f"<td>{f(r.get(c))}</td>" for c in cols)
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(data: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode()}">'


_HEAD = (
    "<!doctype html><html><head><meta charset='utf-8'><title>monofact experiment: "
    "arbitrary facts</title><style>body{font-family:sans-serif;max-width:1100px;margin:2em "
    "auto;color:#111827}table{border-collapse:collapse;font-size:12px;margin:1em 0}"
    "td,th{border:1px solid #e5e7eb;padding:3px 6px;text-align:right}th{background:#f3f4f6}"
    ".bad{color:#b91c1c;background:#fee2e2}.ok{color:#15803d}img{max-width:100%}</style>"
    "</head><body>"
)


_EXPLAIN = """
<p><strong>What is measured.</strong> <em>err</em> is KNVZ's generative error: the probability,
for a prompt drawn from the mention distribution mu, that the model's response is neither the
true birthday nor IDK (IDK is valid). <em>sampled</em>: one response sampled per query;
<em>greedy</em>: the most probable response. <em>delta</em> is the calibration gap
|p_model(A) - p(A)|, A = {(c, r): p_model(r|c) &gt; 1/364}, computed exactly from the known
world (greedy decoding is scored as the point-mass model it is). <em>Thm2 lower</em> is the
guaranteed bound sr - 2/364 - 6 ln(3N/gamma)/sqrt(N) - delta (gamma = 0.01), with each row's own
delta; <em>asympt. floor</em> drops the finite-sample slack (not guaranteed at this N);
<em>Thm2 upper</em> = sr - sr/365 + 5 sqrt(ln(5/gamma)/N), reached by a calibrated memorizer;
<em>Thm1 bound</em> = 2 err_iiv - max_valid/364 - delta; <em>E[sr]</em>, <em>E[err] mem.</em>:
MATH.md T6's exact expectations for this mu. A check fails (VIOLATION) only where the guaranteed
bound is not vacuous.</p>
<p><strong>The memorizer</strong> is trained on the fact counts: with alpha_hat the share of
non-IDK samples, it answers a subject seen with an answer from that subject's empirical answer
distribution (mass alpha_hat), a subject never seen with an answer uniformly over the 365
dates (mass alpha_hat), and says IDK otherwise. It is the posterior predictive of KNVZ
Definition 1, calibrated (delta = mu(unseen) |alpha_hat - alpha|), and errs on 364/365 of the
missing mass. Greedy decoding of the same model says IDK on every unseen subject, so it does
not hallucinate here, and pays for it in calibration: its delta makes its floor vacuous.
The n-gram models are asked "NAME was born on"; a context that does not reach NAME (orders 2-4)
cannot tell subjects apart.</p>
"""


def write_report(result: Result, out: str | Path) -> dict[str, Path]:
    """Write ``report.html`` (tables, inline figures), ``results.json`` and the figures' PNGs."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figs = {"bounds": _fig_bounds(result)}
    if result.growth:
        figs["growth"] = _fig_growth(result)
    if result.grading:
        figs["grading"] = _fig_grading(result)
    paths: dict[str, Path] = {}
    for name, data in figs.items():
        p = out / f"{name}.png"
        p.write_bytes(data)
        paths[name] = p
    js = out / "results.json"
    js.write_text(json.dumps(jsonable(result.to_dict()), indent=1) + "\n")
    paths["json"] = js
    summ = summary_rows(result)
    viol = result.violations
    banner = (
        '<p class="bad"><strong>VIOLATION: a measured error fell outside a non-vacuous bound '
        f"({len(viol)} failed check(s), listed below).</strong></p>"
        if viol
        else f'<p class="ok">All {len(result.checks)} checks passed.</p>'
    )
    cfg = result.config
    parts = [
        _HEAD,
        "<h1>Does the floor hold? The arbitrary-facts experiment</h1>",
        (
            f"<p>K = {cfg.subjects:,} subjects, N = {cfg.samples:,} samples, alpha = {cfg.alpha}, "
            f"{cfg.law} exponents {list(cfg.exponents)}, seeds {list(cfg.seeds)}; "
            f"n-gram models: {'yes' if result.ngram_available else 'not available'}; "
            f"{result.seconds:.1f} s.</p>"
        ),
        banner,
        *(f"<p><em>{html.escape(n)}</em></p>" for n in result.notes),
        _EXPLAIN,
        "<h2>Measured error vs the bounds (means over seeds)</h2>",
        _html_table(summ),
        _img(figs["bounds"], "measured error vs bounds"),
        "<h2>As the corpus grows</h2>",
        _html_table(result.growth),
    ]
    if "growth" in figs:
        parts.append(_img(figs["growth"], "growth"))
    parts += ["<h2>Theorem 3: she/he</h2>", _html_table(result.theorem3)]
    parts += ["<h2>Grading: guessing vs abstaining</h2>", _html_table(result.grading)]
    if "grading" in figs:
        parts.append(_img(figs["grading"], "grading"))
    parts += [
        "<h2>Checks</h2>",
        _html_table(result.checks),
        "<h2>All rows</h2>",
        _html_table(result.rows),
        "</body></html>",
    ]
    md = out / "floor-experiment.md"
    md.write_text(markdown_section(result))
    paths["markdown"] = md
    page = out / "report.html"
    page.write_text("\n".join(parts))
    paths["html"] = page
    return paths


_README_COLS = [
    ("exponent", "exponent", "{:g}"),
    ("model", "model", "{}"),
    ("decoding", "decoding", "{}"),
    ("seeds", "seeds", "{}"),
    ("sr", "sr", "{:.4f}"),
    ("err", "measured err", "{:.4f}"),
    ("E_err_memorizer", "T6 E[err]", "{:.4f}"),
    ("delta", "delta", "{:.3f}"),
    ("lower", "Thm 2 lower", "{:+.3f}"),
    ("asymptotic", "asymptotic floor", "{:+.3f}"),
    ("upper", "Thm 2 upper", "{:.3f}"),
    ("theorem1", "Thm 1 bound", "{:+.3f}"),
    ("status", "status", "{}"),
]
_README_MODELS = {
    ("memorizer", "sampled"),
    ("memorizer", "greedy"),
    ("3-gram", "sampled"),
    ("5-gram", "sampled"),
    ("6-gram", "sampled"),
    ("6-gram", "greedy"),
}


def markdown_section(result: Result) -> str:
    """The README section "Does the floor hold?" for this run (Markdown, tables included)."""
    cfg = result.config
    summ = summary_rows(result)
    short = [r for r in summ if (r["model"], r["decoding"]) in _README_MODELS]
    mem = [r for r in summ if r["model"] == "memorizer" and r["decoding"] == "sampled"]
    mem_rows = [r for r in result.rows if r["model"] == "memorizer" and r["decoding"] == "sampled"]
    vac_lines = []
    for g in result.growth:
        if g["samples"] == max(
            x["samples"] for x in result.growth if x["exponent"] == g["exponent"]
        ):
            need = g["samples_for_nonvacuous"]
            state = "vacuous" if g["lower_vacuous"] else "non-vacuous"
            vac_lines.append(
                f"- Zipf s = {g['exponent']:g}: sr = {g['singleton_rate']:.3f}, the guaranteed lower "
                f"bound is {g['lower']:+.3f} ({state}) at N = {g['samples']:,}; at this singleton "
                f"rate it turns positive from N ~ {need:,.0f}."
                if need is not None
                else f"- Zipf s = {g['exponent']:g}: the asymptotic floor itself is <= 0."
            )
    t3 = "\n".join(
        f"| {r['variant']} | {r['order']} | {', '.join(r['picks'])} | {r['error_rate']:.2f} | "
        f"{r['bound']:.2f} | {'yes' if r['sees_pronoun'] else 'no'} |"
        for r in result.theorem3
    )
    grading = "\n".join(
        f"| {r['policy']} | {r['answered']:.1%} | {r['binary_score']:+.3f} (#{r['rank_binary_score']}) | "
        + " | ".join(f"{r[k]:+.3f} (#{r['rank_' + k]})" for k in r if k.startswith("score_t"))
        + " |"
        for r in result.grading
    )
    verdict = (
        "Every measured error lies inside every non-vacuous bound"
        if result.ok
        else f"**{len(result.violations)} check(s) FAILED**"
    )
    mem_line = "; ".join(
        f"s = {r['exponent']:g}: err {r['err']:.4f} vs T6 {r['E_err_memorizer']:.4f}" for r in mem
    )
    warn_line = (
        f"**{len(result.warnings)} measured error(s) fell below the asymptotic floor** (not a "
        "guaranteed bound at this N; listed in the report)."
        if result.warnings
        else "No measured error fell below the asymptotic floor either."
    )
    return f"""## Does the floor hold?

`monofact experiment arbitrary-facts` builds KNVZ's arbitrary-facts world (Definition 1), where
the truth is known: K = {cfg.subjects:,} people, each with a birthday drawn uniformly from the 365
days (`DD-MM`), mentioned N = {cfg.samples:,} times in all with Zipf-distributed frequencies
(exponent s; s = 0 is MATH.md's uniform T6 world); each mention states the birthday with
probability alpha = {cfg.alpha} and is an "unknown date" (IDK) sample otherwise. The mentions are
rendered as a text corpus (three phrasings, filler sentences between) and counted with
`mf.count_facts` (N counts the IDK samples, as the singleton rate's definition requires). Models
trained on it are asked every birthday: the **calibrated memorizer** of Theorem 2's upper bound
(it answers from the counts: a seen person's birthday, a uniformly random date for a person never
seen with one, IDK with probability 1 - alpha_hat) and **n-gram models** (`mf.NGramModel`, orders
2-6, asked "NAME was born on"), each decoded by sampling and greedily. Their measured
hallucination rate (a wrong birthday; IDK is not an error) is compared with the bounds.
{len(cfg.seeds)} seeds x {len(cfg.exponents)} exponents ran in {result.seconds:.0f} s on two cores;
the HTML report and `results.json` hold every row.

**Verdict:** {verdict} ({len(result.checks)} checks). In every seed the memorizer's error is
below the Theorem 2 upper bound, above the guaranteed lower bound wherever that bound is not
vacuous, and on MATH.md T6's expectation within sampling error ({mem_line}).
{warn_line}

{_format(short, _README_COLS, True)}

(Means over seeds; n-gram models on the first seed only. *delta* is each model's own calibration
gap, exact because the world is known; greedy decoding is scored as the point-mass model it is.
*Thm 2 lower* is the guaranteed bound `sr - 2/364 - 6 ln(3N/gamma)/sqrt(N) - delta` at
gamma = 0.01; the *asymptotic floor* drops the finite-sample slack and is not guaranteed at this N.)

What the table says:

- The calibrated memorizer errs on 364/365 of the missing mass, which the singleton rate
  predicts to within sampling error: its error is the floor, within `2/364` of `sr`.
- Greedy decoding of the same model never hallucinates here: for a person it has not seen, IDK
  (probability 1 - alpha) beats any single date (alpha/365). It dodges the floor by being badly
  miscalibrated (delta ~ the missing mass), which is exactly the escape the `- delta` term allows.
- n-gram models of orders 2-4 never see the name inside their context ("was born on"), so they
  answer with the marginal distribution of birthdays: calibrated, but wrong 364/365 of the time
  they answer. Orders 5-6 see the name only in the phrasing they are asked in, so they stay far
  above the memorizer. Theorem 1 (`2 err_iiv - 2/364 - delta`) holds for every model, and is
  nearly tight for the low orders.

Estimating delta: `mf.calibration_gap` compares the model's probabilities of its generations
with its probabilities of samples of the true distribution. Fed held-out samples, it gives the
memorizer delta = {_mean([r["delta_estimate"] for r in mem_rows]):.4f} (exact:
{_mean([r["delta"] for r in mem_rows]):.4f}); fed the model's own *training* samples, it gives
{_mean([r["delta_in_sample"] for r in mem_rows]):.3f}, about the singleton rate, because a
memorizer gives every sample it was trained on a high probability. Estimate delta on held-out
data, or the floor turns vacuous for the wrong reason.

Where the bounds are vacuous:

{chr(10).join(vac_lines)}
- The upper bound `sr - sr/365 + 5 sqrt(ln(5/gamma)/N)` is below 1 at every size here (it needs
  only a few hundred samples); the finite-sample slack of the guaranteed lower bound,
  `6 ln(3N/gamma)/sqrt(N)`, is what keeps it vacuous until N reaches the sizes above.

As the corpus grows (prefixes of the seed-0 corpus; `Floor.extrapolate` from the half corpus):

{format_growth(result, markdown=True)}

Extrapolating by 1.5x (t = 0.5) recovers the measured singleton rate; by 2x (t = 1, flagged
unreliable) the series can break down, as it does for the skewed world.

Theorem 3 (pure multiple choice): a model fit on "she lost it and was completely out of her mind"
and "he lost it and was completely out of his mind" picks between "her mind" and "his mind":

| sentences | order | picks | error | bound | context reaches the pronoun |
|---|---|---|---|---|---|
{t3}

A trigram errs on half, as Corollary 2 says. On the paper's sentences the pronoun is eight
tokens before the answer, so a 6-gram (five tokens of context) errs on half too; on the shorter
"she was out of her mind" a 6-gram gets both right.

Grading (a simulated model with calibrated confidences answering birthday questions, scored by
`mf.grade`; rank 1 is best):

| policy | answered | binary score | t = 0.5 | t = 0.75 | t = 0.9 |
|---|---|---|---|---|---|
{grading}

Binary grading ranks always guessing first; under a stated confidence target t, answering only
when the confidence exceeds t ranks first and guessing ranks last.
"""
