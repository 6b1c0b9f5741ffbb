"""The report's HTML: one self-contained page from a plain string template.

Every piece of text that comes from the corpus or the caller (n-grams, subjects, relations,
objects, titles, summary keys) goes through :func:`html.escape`. Figures are inlined as base64
PNG ``data:`` URIs; the CSS is inline; there is no script and no external URL, and a
Content-Security-Policy forbids the page from loading anything but its own ``data:`` images.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from monofact.report.data import Params, ResultData

if TYPE_CHECKING:  # figures imports matplotlib; these modules do not need it
    from monofact.report.figures import FigureFile

__all__ = ["render_html"]

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

CSS = """
:root {
  --ink: #111827; --text: #1f2937; --muted: #6b7280; --line: #e5e7eb; --soft: #f9fafb;
  --accent: #2563eb; --warn-bg: #fffbeb; --warn-line: #f59e0b; --bad: #b45309;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: #fff; color: var(--text);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans",
    "Liberation Sans", "DejaVu Sans", Arial, sans-serif;
  font-size: 16px; line-height: 1.55;
}
main { max-width: 980px; margin: 0 auto; padding: 2.2rem 1.4rem 4rem; }
h1 { font-size: 1.9rem; line-height: 1.2; margin: 0 0 .35rem; color: var(--ink); letter-spacing: -.01em; }
h2 { font-size: 1.35rem; margin: 2.6rem 0 .8rem; padding-bottom: .3rem; border-bottom: 1px solid var(--line); color: var(--ink); }
h3 { font-size: 1.08rem; margin: 1.6rem 0 .6rem; color: var(--ink); }
p { margin: .55rem 0; }
.meta { color: var(--muted); font-size: .92rem; margin: 0 0 1.2rem; }
nav.toc { font-size: .92rem; color: var(--muted); margin: 0 0 1rem; }
nav.toc a { color: var(--accent); text-decoration: none; margin-right: .9rem; }
nav.toc a:hover { text-decoration: underline; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: .7rem; margin: .8rem 0 1rem; }
.card { border: 1px solid var(--line); border-radius: 10px; padding: .7rem .9rem; background: var(--soft); }
.card .k { font-size: .78rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.card .v { font-size: 1.45rem; font-weight: 650; color: var(--ink); font-variant-numeric: tabular-nums; }
.card .s { font-size: .82rem; color: var(--muted); }
.card.floor { border-color: #bfdbfe; background: #eff6ff; }
.card.guarantee { border-color: #d1d5db; }
.card.guarantee.vacuous { border-color: #fcd34d; background: var(--warn-bg); }
.badge { display: inline-block; font-size: .72rem; font-weight: 600; padding: .05rem .45rem; border-radius: 999px; vertical-align: middle; }
.badge.vacuous { background: #fef3c7; color: var(--bad); }
.badge.ok { background: #dcfce7; color: #166534; }
.caveat { border-left: 4px solid var(--warn-line); background: var(--warn-bg); padding: .7rem 1rem; border-radius: 0 8px 8px 0; margin: 1.2rem 0; font-size: .95rem; }
figure { margin: 1.8rem 0 2.4rem; }
figure img { display: block; width: 100%; height: auto; border: 1px solid var(--line); border-radius: 8px; }
figcaption { color: #4b5563; font-size: .9rem; margin-top: .55rem; }
figcaption .files { display: block; color: var(--muted); font-size: .8rem; margin-top: .25rem; }
.tablewrap { overflow-x: auto; margin: .5rem 0 1.4rem; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; }
caption { text-align: left; font-weight: 600; color: var(--ink); padding: 0 0 .4rem; }
th, td { padding: .34rem .6rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; color: #374151; border-bottom: 2px solid var(--line); white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fcfcfd; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.text { word-break: break-word; max-width: 28rem; }
td.rank { color: var(--muted); width: 2.5rem; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: .86em; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 1.2rem; }
@media (max-width: 760px) { .two { grid-template-columns: 1fr; } }
footer { margin-top: 3rem; padding-top: 1rem; border-top: 1px solid var(--line); color: var(--muted); font-size: .85rem; }
@media print { main { max-width: none; } figure, table { break-inside: avoid; } }
"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _pct(x: float | None, digits: int = 2) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{100.0 * x:.{digits}f}%"


def _num(x: Any) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        if not math.isfinite(x):
            return "n/a" if math.isnan(x) else ("\u221e" if x > 0 else "\u2212\u221e")
        if x == int(x) and abs(x) < 1e15:
            return f"{int(x):,}"
        return f"{x:.6g}"
    return str(x)


def _big(n: float) -> str:
    if n >= 1e7:
        mant, exp = f"{n:.2e}".split("e")
        return f"{mant}e{int(exp)}"
    return f"{n:,.0f}"


def _png_size(data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 0, 0


def _card(key: str, value: str, sub: str = "", cls: str = "") -> str:
    sub_html = f'<div class="s">{sub}</div>' if sub else ""
    return (
        f'<div class="card {cls}"><div class="k">{_e(key)}</div>'
        f'<div class="v">{value}</div>{sub_html}</div>'
    )


def _noun(d: ResultData) -> tuple[str, str]:
    """(what a sample is, what a singleton is) in words."""
    if d.kind == "facts":
        return (
            "fact mentions",
            "mentions whose (subject, relation) prompt is stated exactly once with an answer",
        )
    if d.kind == "ngrams":
        return (f"{d.label[:-1]} occurrences", f"occurrences of {d.label} seen exactly once")
    return ("samples", "samples of keys seen exactly once")


def _plain_words(d: ResultData, params: Params) -> str:
    f = d.floor
    samples_noun, single = _noun(d)
    lo, hi = d.interval.get("low"), d.interval.get("high")
    conf = f"{100 * params.confidence:g}%"
    s = d.summary
    extra = []
    if d.kind == "ngrams" and "tokens" in s and "documents" in s:
        extra.append(f" ({_num(s['tokens'])} tokens in {_num(s['documents'])} documents)")
    keys = "facts" if d.kind == "facts" else d.label if d.kind == "ngrams" else "keys"
    parts = [
        (
            f"This corpus has <strong>N = {_e(_big(d.samples))}</strong> {_e(samples_noun)}"
            f"{_e(''.join(extra))}, of {_e(f'{d.distinct:,}')} distinct {_e(keys)}. "
            f"<strong>{_e(_pct(d.singleton_rate))}</strong> of them are {_e(single)}: "
            f"that is the singleton rate ({_e(conf)} interval for the missing mass "
            f"{_e(_pct(lo))} to {_e(_pct(hi))})."
        )
    ]
    parts.append(
        f" By Kalai, Nachum, Vempala and Zhang (2025, Theorem 2), with at least "
        f"{_e(f'{params.min_wrong:g}')} plausible wrong answers per prompt and calibration gap "
        f"{_e(f'{params.calibration_gap:g}')}, the <strong>asymptotic floor</strong> is "
        f"<strong>{_e(_pct(f.asymptotic))}</strong>: the error rate that a base model trained "
        "on a corpus like this one cannot go below as the corpus grows at this singleton rate."
        + (
            " Here it is not positive (the singleton rate is not above 2/min_wrong plus the "
            "calibration gap), so the theorem gives no floor even for large corpora."
            if f.asymptotic <= 0
            else ""
        )
    )
    if f.vacuous:
        why = (
            f"the finite-sample slack {_pct(f.slack)} exceeds the asymptotic floor"
            if f.asymptotic > 0
            else "the asymptotic floor itself is not positive"
        )
        nv = f.samples_for_nonvacuous
        when = (
            f" At this singleton rate it would become positive from about N = "
            f"{_e(_big(nv))} samples."
            if nv is not None and math.isfinite(nv)
            else ""
        )
        parts.append(
            f" The <strong>guaranteed lower bound</strong> at this N is "
            f"<strong>{_e(_pct(f.lower))}</strong>: not positive, so it guarantees nothing "
            f"(vacuous), because {_e(why)}.{when}"
        )
    else:
        parts.append(
            f" The <strong>guaranteed lower bound</strong> at this N is "
            f"<strong>{_e(_pct(f.lower))}</strong>: with probability at least {_e(conf)} over "
            f"the training set, any base model trained on this corpus errs at least that "
            f"often. It is the asymptotic floor minus a finite-sample slack of "
            f"{_e(_pct(f.slack))}."
        )
    if f.upper is not None:
        how = (
            f"with at most {params.max_wrong:g} wrong answers per prompt"
            if params.max_wrong is not None
            else "max_wrong not given, so taken as unbounded"
        )
        parts.append(
            f" A calibrated model that memorizes its training data stays below the "
            f"<strong>upper bound</strong> of {_e(_pct(f.upper))} ({_e(how)})"
            + ("; at or above 100% it says nothing at this N." if f.upper >= 1.0 else ".")
        )
    if d.kind == "ngrams":
        parts.append(
            " For n-grams these bounds are an analogy (each n-gram occurrence read as a fact "
            "mention); the theorem is about facts."
        )
    return "<p>" + "".join(parts) + "</p>"


def _cards(d: ResultData, params: Params) -> str:
    f = d.floor
    vac = (
        '<span class="badge vacuous">vacuous</span>'
        if f.vacuous
        else '<span class="badge ok">holds</span>'
    )
    conf = f"{100 * params.confidence:g}%"
    cards = [
        _card("samples N", _e(_big(d.samples)), _e(f"{d.distinct:,} distinct")),
        _card(
            "singleton rate",
            _e(_pct(d.singleton_rate)),
            _e(f"{conf} interval {_pct(d.interval.get('low'))} to {_pct(d.interval.get('high'))}"),
        ),
        _card(
            "asymptotic floor",
            _e(_pct(f.asymptotic)),
            _e("as N grows; not guaranteed at this N"),
            "floor",
        ),
        _card(
            "guaranteed lower bound",
            _e(_pct(f.lower)) + " " + vac,
            _e(f"probability \u2265 {params.confidence:g}, at this N"),
            "guarantee vacuous" if f.vacuous else "guarantee",
        ),
    ]
    if f.upper is not None:
        cards.append(
            _card(
                "upper bound",
                _e(_pct(f.upper)),
                _e("calibrated memorizer" + ("" if params.max_wrong else "; max_wrong unbounded")),
            )
        )
    return '<div class="cards">' + "".join(cards) + "</div>"


def _table(
    headers: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[tuple[str, str]]],
    caption: str = "",
) -> str:
    """``headers``: (text, css class); ``rows``: cells of (escaped html, css class)."""
    head = "".join(f'<th class="{c}">{_e(h)}</th>' for h, c in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="{c}">{v}</td>' for v, c in row) + "</tr>" for row in rows
    )
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    return (
        f'<div class="tablewrap"><table>{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _key_rows(d: ResultData, rows: Sequence[Mapping[str, Any]], caption: str) -> str:
    cols = d.key_columns
    has_docs = any("documents" in r for r in rows)
    headers = [("#", "rank")] + [(c, "") for c in cols]
    headers.append(("mentions" if d.kind == "facts" else "count", "num"))
    if has_docs:
        headers.append(("documents", "num"))
    body = []
    for i, r in enumerate(rows, 1):
        cells = [(str(i), "rank")] + [(_e(r.get(c, "")), "text") for c in cols]
        cells.append((_e(_num(int(r["count"]))), "num"))
        if has_docs:
            cells.append((_e(_num(r.get("documents"))), "num"))
        body.append(cells)
    return _table(headers, body, caption)


def _floor_table(d: ResultData) -> str:
    f = d.floor
    rows: list[tuple[str, Any, str]] = [
        ("singleton rate sr", f.singleton_rate, f"source: {f.source}"),
        ("2 / min_wrong", f.missing_term, f"min_wrong = {f.min_wrong:g}"),
        ("calibration gap \u03b4", f.calibration_gap, ""),
        ("finite-sample slack 6 ln(3N/\u03b3)/\u221aN", f.slack, f"\u03b3 = {f.gamma:.3g}"),
        ("asymptotic floor sr \u2212 2/min_wrong \u2212 \u03b4", f.asymptotic, "not guaranteed"),
        ("guaranteed lower bound", f.lower, "vacuous (\u2264 0)" if f.vacuous else "holds"),
    ]
    if f.lower_paper is not None:
        rows.append(("  paper's \u03b3 = 0.01 form (35 + 6 ln N)/\u221aN", f.lower_paper, ""))
    if f.upper is not None:
        rows.append(("upper bound", f.upper, "calibrated memorizer"))
    if f.upper_paper is not None:
        rows.append(("  paper's form + 13/\u221aN", f.upper_paper, ""))
    nv = f.samples_for_nonvacuous
    finite = nv is not None and math.isfinite(nv)
    rows.append(
        (
            "guarantee positive from N \u2248",
            _big(nv) if nv is not None and finite else None,
            "" if finite else "never",
        )
    )
    body = [[(_e(k), ""), (_e(_num(v)), "num"), (_e(note), "")] for k, v, note in rows]
    return _table([("term", ""), ("value", "num"), ("note", "")], body, "Floor terms")


def _summary_table(d: ResultData) -> str:
    body = [[(_e(k), "mono"), (_e(_num(v)), "num")] for k, v in d.summary.items()]
    if not body:
        body = [[(_e("samples"), "mono"), (_e(_num(d.samples)), "num")]]
    return _table([("key", ""), ("value", "num")], body, "Summary")


def _relation_table(d: ResultData) -> str:
    headers = [
        ("relation", ""),
        ("mentions N", "num"),
        ("singletons", "num"),
        ("singleton rate", "num"),
        ("asymptotic floor", "num"),
        ("guaranteed lower", "num"),
        ("", ""),
    ]
    body = []
    for r in d.by_relation:
        body.append(
            [
                (_e(r["group"]), "text"),
                (_e(_num(int(r["samples"]))), "num"),
                (_e(_num(int(r["singletons"]))), "num"),
                (_e(_pct(r["singleton_rate"])), "num"),
                (_e(_pct(r["asymptotic"])), "num"),
                (_e(_pct(r["lower"])), "num"),
                ('<span class="badge vacuous">vacuous</span>' if r["vacuous"] else "", ""),
            ]
        )
    return _table(headers, body, "Singleton rate and floor by relation")


def _figure(i: int, fig: FigureFile) -> str:
    w, h = _png_size(fig.png_bytes)
    b64 = base64.b64encode(fig.png_bytes).decode("ascii")
    size = f' width="{w}" height="{h}"' if w and h else ""
    return (
        f'<figure id="fig-{_e(fig.name)}"><img src="data:image/png;base64,{b64}"{size} '
        f'alt="{_e(fig.title)}"><figcaption><strong>Figure {i}. {_e(fig.title)}.</strong> '
        f"{_e(fig.caption)}"
        f'<span class="files">figures/{_e(fig.name)}.png, figures/{_e(fig.name)}.svg</span>'
        "</figcaption></figure>"
    )


def render_html(
    results: Sequence[ResultData],
    figures: Sequence[FigureFile],
    params: Params,
    title: str,
    sidecars: Sequence[str],
    version: str,
) -> str:
    """The whole page as a string (UTF-8, no script, no external reference).

    >>> from monofact.report.data import collect
    >>> p = Params(min_wrong=364)
    >>> page = render_html(collect([{1: 3, 2: 1}], p), [], p, "<b>T</b>", [], "0")
    >>> "&lt;b&gt;T&lt;/b&gt;" in page, "<script" in page
    (True, False)
    """
    labels = ", ".join(d.label for d in results)
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{_e(title)}</title>",
        f"<style>{CSS}</style>",
        "</head><body><main>",
        f"<h1>{_e(title)}</h1>",
        (
            f'<p class="meta">monofact {_e(version)} \u00b7 {_e(labels)} \u00b7 min_wrong = '
            f"{_e(f'{params.min_wrong:g}')}, max_wrong = "
            f"{_e('unknown' if params.max_wrong is None else f'{params.max_wrong:g}')}, "
            f"calibration gap = {_e(f'{params.calibration_gap:g}')}, confidence = "
            f"{_e(f'{params.confidence:g}')}</p>"
        ),
        (
            '<nav class="toc"><a href="#summary">Summary</a><a href="#figures">Figures</a>'
            '<a href="#tables">Tables</a><a href="#files">Files</a></nav>'
        ),
        '<section id="summary"><h2>Summary</h2>',
    ]
    for d in results:
        if len(results) > 1:
            out.append(f"<h3>{_e(d.label)}</h3>")
        out.append(_cards(d, params))
        out.append(_plain_words(d, params))
    out.append(
        '<div class="caveat"><strong>Finite samples.</strong> The guaranteed lower bound holds '
        f"with probability at least {_e(f'{params.confidence:g}')} over the training set, at "
        "this corpus's N. It subtracts a finite-sample slack, 6 ln(3N/\u03b3)/\u221aN, that "
        "shrinks only slowly as N grows, so for small corpora it is negative and says nothing "
        "(vacuous). The asymptotic floor leaves the slack out: it is the value the guarantee "
        "approaches for ever larger corpora with the same singleton rate, not a guarantee at "
        "this N. No number here is clipped at zero.</div>"
    )
    out.append("</section>")
    out.append('<section id="figures"><h2>Figures</h2>')
    for i, fig in enumerate(figures, 1):
        out.append(_figure(i, fig))
    out.append("</section>")
    out.append('<section id="tables"><h2>Tables</h2>')
    for d in results:
        out.append(f"<h3>{_e(d.label)}</h3>")
        out.append('<div class="two">' + _floor_table(d) + _summary_table(d) + "</div>")
        if d.by_relation:
            out.append(_relation_table(d))
        noun = "facts" if d.kind == "facts" else d.label
        top = _key_rows(d, d.top, f"Most frequent {noun} (top {len(d.top)})") if d.top else ""
        bottom = (
            _key_rows(
                d, d.bottom, f"Least frequent {noun} (bottom {len(d.bottom)}, ties alphabetical)"
            )
            if d.bottom
            else ""
        )
        if d.kind == "facts":  # three text columns: full width
            out.append(top + bottom)
        else:
            out.append('<div class="two">' + top + bottom + "</div>")
    out.append("</section>")
    files = "".join(f"<li><code>{_e(s)}</code></li>" for s in sidecars)
    out.append(
        '<section id="files"><h2>Files</h2><p>Every plotted number is in the sidecars next to '
        "this page: <code>report.json</code> (summaries, floor terms, histograms, curves, "
        "tables) and Parquet tables. The figures are also saved as PNG and SVG in "
        f"<code>figures/</code>.</p><ul>{files}</ul></section>"
    )
    out.append(
        "<footer>Kalai, Nachum, Vempala and Zhang, \u201cWhy Language Models Hallucinate\u201d "
        "(2025), arXiv 2509.04664, Theorem 2; Good (1953); Good and Toulmin (1956). "
        "Generated by monofact; this page loads nothing from the network.</footer>"
    )
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"
