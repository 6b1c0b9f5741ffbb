"""Tests of ``mf.report`` / ``monofact report``: files, sidecar numbers, escaping, offline HTML,
and a real headless browser (Debian's chromium) rendering the page with no network request."""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import monofact
import monofact.cli
from monofact.counts import count_ngrams
from monofact.errors import ConfigError
from monofact.floors import hallucination_floor
from monofact.report import ReportPaths, report
from monofact.report.cli import add_report_subcommand

SCRIPT_SUBJECT = '<script>alert("x")</script>'
NASTY = [
    SCRIPT_SUBJECT,
    'O\'Brien & "Sons"',
    "<img src=x onerror=alert(1)>",
    "Ada $x^2$ Lovelace",
    "a -- b --> c <!-- d",
]


class FakeFacts:
    """Stands in for ``count_facts`` results (the interface the report duck-types)."""

    def __init__(self) -> None:
        rows: list[tuple[str, str, str, int, int]] = []
        relations = ["born", 'capital "of"', "died & buried"]
        for i in range(240):
            subject = NASTY[i % len(NASTY)] + f" #{i}" if i % 7 == 0 else f"person {i:03d}"
            rel = relations[i % 3]
            obj = (
                f"{1 + i % 28:02d}-{1 + i % 12:02d}" if rel != 'capital "of"' else "Paris & <Rome>"
            )
            mentions = 1 if i % 3 else 1 + (i * 7) % 13
            rows.append((subject, rel, obj, mentions, max(1, mentions - 1)))
        rows.append((SCRIPT_SUBJECT, "born", "1815-12-10", 50, 40))  # the most frequent fact
        self._rows = rows
        hist = Counter(r[3] for r in rows)
        self._hist = dict(sorted(hist.items()))
        samples = sum(r[3] for r in rows)
        n1 = hist.get(1, 0)
        self.summary = {
            "mentions": samples,
            "samples": samples,
            "facts": len(rows),
            "n1": n1,
            # the prompt-level IDK-aware rate differs from n1/N; the report must use this one
            "singleton_rate": 0.9 * n1 / samples,
        }

    def histogram(self) -> pa.Table:
        return pa.table(
            {
                "r": pa.array(list(self._hist), pa.uint64()),
                "n_r": pa.array(list(self._hist.values()), pa.uint64()),
            }
        )

    def table(self) -> pa.Table:
        cols = list(zip(*self._rows))
        return pa.table(
            {
                "subject": pa.array(cols[0], pa.string()),
                "relation": pa.array(cols[1], pa.string()),
                "object": pa.array(cols[2], pa.string()),
                "mentions": pa.array(cols[3], pa.uint64()),
                "documents": pa.array(cols[4], pa.uint64()),
                "first_document": pa.array(range(len(self._rows)), pa.uint64()),
            }
        )

    def singleton_rates(self, by: str = "relation") -> pa.Table:
        assert by == "relation"
        groups: dict[str, list[int]] = {}
        for _s, rel, _o, m, _d in self._rows:
            g = groups.setdefault(rel, [0, 0])
            g[0] += m
            g[1] += 1 if m == 1 else 0
        names = sorted(groups)
        return pa.table(
            {
                "group": pa.array(names, pa.string()),
                "samples": pa.array([groups[g][0] for g in names], pa.uint64()),
                "singletons": pa.array([groups[g][1] for g in names], pa.uint64()),
                "singleton_rate": pa.array(
                    [groups[g][1] / groups[g][0] for g in names], pa.float64()
                ),
            }
        )


@pytest.fixture(scope="module")
def ngrams() -> Any:
    return count_ngrams(str(monofact.cli.sample_corpus()), n=3, progress="none")


@pytest.fixture(scope="module")
def facts() -> FakeFacts:
    return FakeFacts()


@pytest.fixture(scope="module")
def rep(tmp_path_factory: pytest.TempPathFactory, ngrams: Any, facts: FakeFacts) -> ReportPaths:
    out = tmp_path_factory.mktemp("report") / "out"
    return report(ngrams, facts, out=out, min_wrong=364, title='KJV & "facts" <test>')


@pytest.fixture(scope="module")
def page(rep: ReportPaths) -> str:
    return rep.html.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def doc(rep: ReportPaths) -> Any:
    return json.loads((rep.dir / "report.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------
# files


def test_report_directory_has_every_file(rep: ReportPaths) -> None:
    assert rep.html == rep.dir / "report.html" and rep.html.is_file()
    names = {p.name for p in rep.figures}
    stems = {
        "count_of_counts",
        "singleton_share_by_relation_facts",
        "floor_vs_samples_3-grams",
        "floor_vs_samples_facts",
        "extrapolated_singleton_rate",
        "frequent_3-grams",
        "frequent_facts",
    }
    assert names == {f"{s}.{ext}" for s in stems for ext in ("png", "svg")}
    for p in rep.figures:
        assert p.is_file() and p.stat().st_size > 1000, p
        assert p.parent == rep.dir / "figures"
    for p in rep.figures:
        if p.suffix == ".svg":
            text = p.read_text(encoding="utf-8")
            assert text.lstrip().startswith("<?xml") and "<svg" in text
            assert "<dc:date>" not in text  # no timestamp
            root = ET.fromstring(text)  # corpus text in labels keeps the SVG well-formed
            assert not [e for e in root.iter() if str(e.tag).endswith("script")]
    assert rep.sidecars[0] == rep.dir / "report.json"
    parquet = {p.name for p in rep.sidecars[1:]}
    for slug in ("3-grams", "facts"):
        for table in ("histogram", "floor_vs_samples", "extrapolated_singleton_rate", "floor"):
            assert f"{slug}_{table}.parquet" in parquet
        assert f"{slug}_top.parquet" in parquet and f"{slug}_bottom.parquet" in parquet
    assert "facts_by_relation.parquet" in parquet
    assert all(p.is_file() for p in rep.sidecars)


def test_json_numbers_equal_the_inputs(doc: Any, ngrams: Any, facts: FakeFacts) -> None:
    assert doc["format"] == "monofact-report/1"
    assert doc["parameters"]["min_wrong"] == 364 and doc["parameters"]["max_wrong"] is None
    by_label = {r["label"]: r for r in doc["results"]}
    assert list(by_label) == ["3-grams", "facts"]
    for label, obj in (("3-grams", ngrams), ("facts", facts)):
        res = by_label[label]
        h = obj.histogram()
        assert res["histogram"]["r"] == h.column("r").to_pylist()
        assert res["histogram"]["n_r"] == h.column("n_r").to_pylist()
        floor = hallucination_floor(obj, min_wrong=364, max_wrong=float("inf"))
        assert res["floor_terms"] == floor.terms
        assert res["floor"]["lower"] == floor.lower
        assert res["floor"]["asymptotic"] == floor.asymptotic
        assert res["floor"]["upper"] == floor.upper
        assert res["samples"] == obj.summary["samples"]
        assert res["singleton_rate"] == obj.summary["singleton_rate"]
        # the plotted curve: singleton rate held fixed, the corpus inside the range
        curve = res["floor_vs_samples"]
        assert curve["singleton_rate_held_fixed"] == obj.summary["singleton_rate"]
        assert curve["samples"][0] <= 1e3
        assert curve["samples"][-1] >= 100 * obj.summary["samples"] * (1 - 1e-12)
        nv = curve["vacuous_below_samples"]
        assert nv is not None and curve["samples"][0] < nv < curve["samples"][-1]
        i = len(curve["samples"]) // 2
        f_i = hallucination_floor(
            singleton_rate=obj.summary["singleton_rate"],
            samples=curve["samples"][i],
            min_wrong=364,
            max_wrong=float("inf"),
        )
        assert curve["lower"][i] == f_i.lower and curve["upper"][i] == f_i.upper
        ext = res["extrapolated_singleton_rate"]
        assert ext["t"][0] == 0 and ext["t"][-1] == 1
        assert ext["singleton_rate"][0] == pytest.approx(obj.summary["singleton_rate"])
        assert ext["reliable"][-1] is False  # t = 1 > 0.5 is always flagged
        assert ext["first_unreliable_t"] is not None
    # the IDK-aware rate of the facts summary wins over n1/N
    fr = by_label["facts"]
    assert fr["singleton_rate"] != fr["n1"] / fr["samples"]
    # n-gram summary and top keys
    assert by_label["3-grams"]["summary"]["distinct"] == ngrams.summary["distinct"]
    top = ngrams.to_arrow(top_k=20).read_all().to_pylist()
    assert [(r["ngram"], r["count"]) for r in by_label["3-grams"]["top"]] == [
        (r["ngram"], r["count"]) for r in top
    ]
    assert all(r["count"] == 1 for r in by_label["3-grams"]["bottom"])
    # facts: most frequent first; per-relation rates as given
    assert fr["top"][0]["subject"] == SCRIPT_SUBJECT and fr["top"][0]["count"] == 50
    rates = facts.singleton_rates().to_pylist()
    got = {r["group"]: r for r in fr["by_relation"]}
    for r in rates:
        assert got[r["group"]]["singleton_rate"] == r["singleton_rate"]
        assert got[r["group"]]["samples"] == r["samples"]
    assert {f["name"] for f in doc["figures"]} >= {"count_of_counts", "extrapolated_singleton_rate"}


def test_parquet_sidecars_hold_the_plotted_tables(rep: ReportPaths, ngrams: Any) -> None:
    data = rep.dir / "data"
    hist = pq.read_table(data / "3-grams_histogram.parquet")
    assert hist.equals(ngrams.histogram().cast(hist.schema))
    top = pq.read_table(data / "3-grams_top.parquet")
    assert top.column("ngram").to_pylist() == ngrams.to_table(top_k=20).column("ngram").to_pylist()
    rel = pq.read_table(data / "facts_by_relation.parquet")
    assert set(rel.column_names) >= {"group", "samples", "singleton_rate", "lower", "asymptotic"}
    facts_top = pq.read_table(data / "facts_top.parquet")
    assert facts_top.column("subject")[0].as_py() == SCRIPT_SUBJECT  # stored raw, not escaped


# ------------------------------------------------------------------------------------------
# the HTML


def test_corpus_text_is_escaped(page: str) -> None:
    assert "<script" not in page.lower()  # no script element at all, and no raw corpus markup
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "O&#x27;Brien &amp; &quot;Sons&quot;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x" not in page
    assert "Paris &amp; &lt;Rome&gt;" in page
    assert "capital &quot;of&quot;" in page
    assert "<title>KJV &amp; &quot;facts&quot; &lt;test&gt;</title>" in page
    assert "onerror" not in re.sub(r"&lt;img src=x onerror=alert\(1\)&gt;", "", page)


def test_html_has_no_external_reference(page: str) -> None:
    assert (
        "http://" not in page
        and "https://" not in page
        and "//" not in re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    )
    for attr in re.findall(r'\b(?:src|href|action|srcset|poster)\s*=\s*"([^"]*)"', page):
        assert attr.startswith(("data:image/png;base64,", "#")), attr[:60]
    assert "url(" not in page and "@import" not in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in html.unescape(page)


def test_html_summary_says_what_is_guaranteed(page: str) -> None:
    assert "asymptotic floor" in page and "guaranteed lower bound" in page
    assert "Finite samples." in page and "vacuous" in page
    assert "holding the singleton rate fixed" in page


def test_images_are_inline_valid_pngs(rep: ReportPaths, page: str) -> None:
    from PIL import Image

    srcs = re.findall(r'<img src="([^"]+)"', page)
    pngs = [p for p in rep.figures if p.suffix == ".png"]
    assert len(srcs) == len(pngs) > 0
    for src, path in zip(srcs, pngs):
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        raw = base64.b64decode(src[len(prefix) :], validate=True)
        assert raw[:8] == b"\x89PNG\r\n\x1a\n"
        assert raw == path.read_bytes()
        with Image.open(io.BytesIO(raw)) as im:
            im.verify()
        with Image.open(io.BytesIO(raw)) as im:
            assert im.size[0] >= 1000 and im.size[1] >= 300


def test_small_input_is_vacuous_deterministic_and_reproducible(tmp_path: Path) -> None:
    hist = {1: 10, 2: 6, 3: 4, 5: 2, 8: 1}
    a = report(hist, out=tmp_path / "a", min_wrong=364, max_wrong=364)
    b = report(hist, out=tmp_path / "b", min_wrong=364, max_wrong=364)
    files_a = sorted(p.relative_to(a.dir) for p in a.dir.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b.dir) for p in b.dir.rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (a.dir / rel).read_bytes() == (b.dir / rel).read_bytes(), rel
    text = a.html.read_text(encoding="utf-8")
    assert "vacuous" in text and "max_wrong = 364" in text
    d = json.loads((a.dir / "report.json").read_text())
    assert d["results"][0]["floor"]["vacuous"] is True
    assert d["results"][0]["floor"]["lower"] < 0  # shown, not clipped


def test_least_frequent_when_few_keys_share_the_smallest_count() -> None:
    from monofact.report.data import Params, collect

    c = count_ngrams(
        pa.table({"text": ["a b c a b c a b c d e", "a b c x y"]}), n=2, progress="none"
    )
    d = collect([c], Params(min_wrong=364))[0]
    assert [(r["ngram"], r["count"]) for r in d.bottom] == [
        ("c d", 1),
        ("c x", 1),
        ("d e", 1),
        ("x y", 1),
        ("c a", 2),
        ("a b", 4),
        ("b c", 4),
    ]
    assert d.top[0] == {"ngram": "a b", "count": 4}


def test_fact_summary_with_mentions_only_keeps_its_rate() -> None:
    from monofact.report.data import Params, collect

    facts = FakeFacts()
    del facts.summary["samples"]
    d = collect([facts], Params(min_wrong=364))[0]
    assert d.samples == facts.summary["mentions"]
    assert d.singleton_rate == facts.summary["singleton_rate"]
    assert [r["group"] for r in d.by_relation] == ["born", 'capital "of"', "died & buried"]


def test_text_without_glyphs_or_with_dollars_renders(tmp_path: Path) -> None:
    # Missing glyphs and "$...$" must neither warn (warnings are errors here) nor be parsed.
    from monofact.report.data import Params, collect
    from monofact.report.figures import _frequent, _style

    text = ["\U0001f600 \u6f22\u5b57 $x$ a", "b c $x$ \U0001f600 \u6f22\u5b57"] * 3
    c = count_ngrams(pa.table({"text": text}), n=2, progress="none")
    d = collect([c], Params(min_wrong=10))[0]
    assert any("$" in r["ngram"] for r in d.top)
    with _style():
        fig = _frequent(d, tmp_path / "frequent")
    assert fig.png.stat().st_size > 1000 and fig.svg.is_file()


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        report(out=tmp_path)
    with pytest.raises(ConfigError):
        report({1: 3, 2: 1}, out=tmp_path, min_wrong=364, max_wrong=10)
    with pytest.raises(ConfigError):
        report({1: 3, 2: 1}, out=tmp_path, min_wrong=0)
    with pytest.raises(ConfigError):
        report(object(), out=tmp_path)


# ------------------------------------------------------------------------------------------
# the CLI


def _run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="monofact")
    add_report_subcommand(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["report", *argv])
    code: int = args.func(args)
    return code


@pytest.fixture()
def tiny_corpus(tmp_path: Path) -> Path:
    p = tmp_path / "bios.txt"
    lines = [
        'Ada <b>"Lovelace"</b> was born on 10 December.',
        "Alan Turing was born on 23 June.",
        "Alan Turing was born on 23 June.",
        "Grace Hopper was born on 9 December & <script>x</script>.",
    ]
    p.write_text("\n".join(lines * 3) + "\n", encoding="utf-8")
    return p


def test_cli_table_output_says_where(
    tiny_corpus: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    calls: list[dict[str, Any]] = []

    def fake_report(*results: Any, **kw: Any) -> ReportPaths:
        calls.append({"results": results, **kw})
        d = Path(kw["out"])
        return ReportPaths(d / "report.html", [d / "figures/a.png"], [d / "report.json"], d)

    monkeypatch.setattr(sys.modules["monofact.report"], "report", fake_report)
    out = tmp_path / "rep"
    assert _run_cli([str(tiny_corpus), "--out", str(out), "--progress", "none"]) == 0
    text = capsys.readouterr().out
    assert f"wrote {out / 'report.html'}" in text and "file://" in text
    (call,) = calls
    assert call["min_wrong"] == 364 and call["max_wrong"] is None and call["title"] is None
    assert call["results"][0].summary["n"] == 3


def test_cli_facts_pattern_without_fact_counting_exits_2(
    tiny_corpus: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(monofact, "count_facts", raising=False)
    code = _run_cli(
        [
            str(tiny_corpus),
            "--facts-pattern",
            r"born=(?P<subject>\w+ \w+) was born on (?P<object>\d+ \w+)",
            "--out",
            str(tmp_path / "rep"),
            "--progress",
            "none",
        ]
    )
    assert code == 2
    assert "fact counting is not available" in capsys.readouterr().err
    assert not (tmp_path / "rep").exists()


def test_cli_facts_pattern_uses_count_facts(
    tiny_corpus: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}

    def fake_count_facts(corpus: Any, patterns: dict[str, str], progress: str = "auto") -> Any:
        seen.update(corpus=corpus, patterns=patterns, progress=progress)
        return FakeFacts()

    monkeypatch.setattr(monofact, "count_facts", fake_count_facts, raising=False)
    out = tmp_path / "rep"
    argv = [str(tiny_corpus), "--n", "2", "--out", str(out), "--progress", "none"]
    pattern = "born=(?P<subject>.+) was born on (?P<object>.+)"
    code = _run_cli([*argv, "--facts-pattern", pattern, "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert seen["patterns"] == {"born": "(?P<subject>.+) was born on (?P<object>.+)"}
    assert seen["progress"] == "none" and seen["corpus"] == [str(tiny_corpus)]
    printed = json.loads(captured.out)
    assert printed["html"] == str(out / "report.html")
    assert str(out / "figures" / "singleton_share_by_relation_facts.png") in printed["figures"]
    assert all(Path(p).is_file() for p in printed["figures"] + printed["sidecars"])
    page = (out / "report.html").read_text(encoding="utf-8")
    # the corpus's own markup, tokenized into 2-grams, is escaped too
    assert "2-grams" in page and "<script" not in page and "<b>" not in page
    assert "script &gt;" in page and "&quot;" in page


@pytest.mark.parametrize(
    "extra",
    [["--facts-pattern", "=nope"], ["--min-wrong", "0"], ["--n", "0"]],
)
def test_cli_bad_input_exits_2(
    tiny_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    code = _run_cli([str(tiny_corpus), "--out", str(tmp_path / "r"), "--progress", "none", *extra])
    assert code == 2
    assert "monofact report: error:" in capsys.readouterr().err


def test_cli_missing_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = _run_cli(
        [str(tmp_path / "nope.txt"), "--out", str(tmp_path / "r"), "--progress", "none"]
    )
    assert code == 2


# ------------------------------------------------------------------------------------------
# a real browser


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


_BROWSER = _chromium()
needs_browser = pytest.mark.skipif(
    _BROWSER is None and not os.environ.get("CI"),
    reason="chromium is not installed (apt-get install chromium); required when CI is set",
)


def _render(html: Path, work: Path, tag: str) -> tuple[Path, list[str]]:
    """Open ``html`` in headless chromium: screenshot, and the URLs the page requested."""
    assert _BROWSER is not None, "CI is set but chromium is not installed"
    shot = work / f"{tag}.png"
    netlog = work / f"{tag}-netlog.json"
    cmd = [
        _BROWSER,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        f"--user-data-dir={work / (tag + '-profile')}",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
        f"--log-net-log={netlog}",
        "--net-log-capture-mode=Default",
        f"--screenshot={shot}",
        "--window-size=1200,3000",
        html.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert shot.is_file(), proc.stderr[-2000:]
    text = netlog.read_text(encoding="utf-8", errors="replace")
    try:
        log = json.loads(text)
    except json.JSONDecodeError:  # a log cut short: close it
        log = json.loads(text.rstrip().rstrip(",") + "]}")
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    page_urls = []
    for ev in log.get("events", []):
        if types.get(ev.get("type")) != "URL_REQUEST_START_JOB":
            continue
        params = ev.get("params", {})
        # Requests made by the page carry its file:// origin; chromium's own background
        # requests (component updates, account checks) are "not an origin".
        nik = str(params.get("network_isolation_key", ""))
        if "file://" in nik or params.get("initiator") in ("null", "file://"):
            page_urls.append(str(params.get("url", "")))
    return shot, page_urls


@needs_browser
def test_report_renders_offline_in_headless_chromium(rep: ReportPaths, tmp_path: Path) -> None:
    import numpy as np
    from matplotlib.image import imread

    # The detector works: a page with external references is caught.
    canary = tmp_path / "canary.html"
    canary.write_text(
        '<html><body><img src="http://canary.invalid/x.png">'
        '<link rel="stylesheet" href="https://canary.invalid/s.css"></body></html>'
    )
    _, urls = _render(canary, tmp_path, "canary")
    assert any("canary.invalid" in u for u in urls), urls

    shot, urls = _render(rep.html, tmp_path, "report")
    assert [u for u in urls if not u.startswith(("data:", "file:"))] == []

    img = imread(shot)
    assert img.shape[0] == 3000 and img.shape[1] == 1200
    rgb = img[..., :3].astype(float)
    if rgb.max() > 1.0:
        rgb = rgb / 255.0
    non_white = np.mean(rgb.min(axis=2) < 0.93)
    assert non_white > 0.03, non_white  # text, cards and figures, not a blank page
    # Figures (below the summary) have saturated plot colors; broken-image icons would not.
    saturation = rgb.max(axis=2) - rgb.min(axis=2)
    lower = saturation[900:, :]
    assert int(np.sum(lower > 0.35)) > 5000
    if os.environ.get("MONOFACT_REPORT_SCREENSHOT"):
        shutil.copy(shot, os.environ["MONOFACT_REPORT_SCREENSHOT"])
