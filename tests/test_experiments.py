"""monofact.experiments: the arbitrary-facts world, its pipeline, the bounds checks, the CLI."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import monofact as mf
from monofact.experiments import arbitrary_facts, grading_sim, theorem3
from monofact.experiments import cli as cli_module
from monofact.experiments.arbitrary_facts import Config, count_world, run
from monofact.experiments.cli import main as cli_main
from monofact.experiments.models import IDK, Memorizer, Responses, evaluate
from monofact.experiments.world import DATES, make_world

QUICK = dataclasses.replace(Config.quick(), ngram=False)


def test_world_is_deterministic_and_single_token():
    a, b, c = (make_world(500, 400, seed=s) for s in (3, 3, 4))
    assert a.lines() == b.lines() and a.lines() != c.lines()
    assert len(DATES) == 365 and len(set(DATES)) == 365
    for line in a.lines():
        for tok in line.split():
            assert tok == tok.strip()
    assert all(n.isalpha() and " " not in n for n in a.names)
    assert len(set(make_world(3000, 10).names)) == 3000


def test_counts_follow_the_idk_aware_definition():
    # count_facts on the rendered text == count_facts on the records == MATH.md section 2 by hand
    w = make_world(800, 1000, alpha=0.6, exponent=0.7, seed=5)
    facts = count_world(w)
    direct = mf.count_facts(records=pa.table(w.records()), progress="none")
    per_subject = w.answer_counts()
    by_hand = int(np.sum(per_subject == 1)) / w.samples  # N counts the IDK samples too
    assert facts.samples == direct.samples == w.samples
    assert facts.singleton_rate == pytest.approx(direct.singleton_rate, abs=0)
    assert facts.singleton_rate == pytest.approx(by_hand, abs=1e-15)
    assert facts.summary["idk_samples"] == int((~w.sample_answered).sum())


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_uniform_world_expectations_are_t6(alpha):
    w = make_world(10_000, 10_000, alpha=alpha, exponent=0.0, seed=0)
    e = w.expected()
    t6 = mf.floors.arbitrary_facts_expectations(1e4, 1e4, alpha)
    assert e["singleton_rate"] == pytest.approx(t6.singleton_rate, rel=1e-9)
    assert e["missing_mass"] == pytest.approx(t6.missing_mass, rel=1e-9)
    assert e["memorizer_error"] == pytest.approx(t6.memorizer_error, rel=1e-9)
    ref = {1.0: (0.367898, 0.366853), 0.5: (0.303277, 0.302431)}[alpha]
    assert round(e["singleton_rate"], 6) == ref[0] and round(e["memorizer_error"], 6) == ref[1]


def test_memorizer_is_calibrated_and_errs_on_the_missing_mass():
    w = make_world(2000, 2000, alpha=0.8, seed=1)
    facts = count_world(w)
    mem = Memorizer(facts, w)
    r = mem.responses(w, np.random.default_rng(0))
    m = evaluate(r, w, np.random.default_rng(1))
    seen = w.answer_counts() > 0
    mm = float(np.sum(w.mu[~seen])) * w.alpha
    # exact: err = 364/365 * alpha_hat * mu(unseen); delta = mu(unseen) * |alpha_hat - alpha|
    assert m["err"] == pytest.approx(364 / 365 * mem.alpha_hat * mm / w.alpha, rel=1e-12)
    assert m["delta"] == pytest.approx(float(np.sum(w.mu[~seen])) * abs(mem.alpha_hat - 0.8))
    assert m["err_greedy"] == 0.0  # greedy decoding abstains where it has not seen the fact ...
    assert m["delta_greedy"] > 0.3  # ... and pays for it in calibration
    # the memorizer never answers a seen subject wrongly
    wrong = (r.sampled != IDK) & (r.sampled != w.birthday)
    assert not np.any(wrong & seen)


def test_quick_run_passes_every_check():
    res = run(QUICK)
    assert res.ok, res.violations
    names = {c["check"] for c in res.checks}
    assert {"t6_expectation", "theorem1", "theorem2_upper (err)"} <= names
    mem = [r for r in res.rows if r["model"] == "memorizer" and r["decoding"] == "sampled"]
    assert len(mem) == len(QUICK.seeds) * len(QUICK.exponents)
    for r in mem:
        assert r["err"] <= r["upper"] and r["err_model"] <= r["upper"]
        assert r["lower_vacuous"]  # N = 3000: the guaranteed lower bound says nothing yet
    assert res.growth and res.grading


def _oracle(self: Memorizer, world: Any, rng: np.random.Generator) -> Responses:
    """A model that knows every birthday (a stand-in for a bug that drops errors)."""
    k = world.subjects
    z = np.zeros(k)
    return Responses(
        subjects=np.arange(k, dtype=np.int64),
        weights=world.mu,
        p_correct=np.ones(k),
        p_idk=z,
        p_wrong=z,
        p_other=z,
        n_wrong_above=z,
        mass_above=np.ones(k),
        sampled=world.birthday.copy(),
        greedy=world.birthday.copy(),
        p_sampled=np.ones(k),
    )


def test_error_below_a_nonvacuous_lower_bound_fails_loudly(monkeypatch, tmp_path, capsys):
    # An oracle claiming delta = 0 at N = 100,000 (lower bound ~0.03) must be caught.
    monkeypatch.setattr(Memorizer, "responses", _oracle)
    real = arbitrary_facts.evaluate

    def lying(r: Responses, world: Any, rng: Any, **kw: Any) -> dict[str, float]:
        return {**real(r, world, rng, **kw), "delta": 0.0, "delta_greedy": 0.0}

    monkeypatch.setattr(arbitrary_facts, "evaluate", lying)
    cfg = Config(
        subjects=100_000,
        samples=100_000,
        alpha=1.0,
        exponents=(0.0,),
        seeds=(0,),
        ngram=False,
        growth_fractions=(1.0,),
    )
    res = run(cfg)
    bad = [v for v in res.violations if v["check"] == "theorem2_lower"]
    assert bad and not res.ok
    assert "vs guaranteed lower" in bad[0]["detail"]
    monkeypatch.setattr(cli_module, "run", lambda cfg, progress=None: res)
    code = cli_main(["arbitrary-facts", "--quiet", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "VIOLATION [theorem2_lower]" in err and "OUTSIDE A NON-VACUOUS BOUND" in err


def test_grading_ranks_guessing_first_only_under_binary_grading():
    w = make_world(3000, 3000, seed=2)
    rows = grading_sim.run(w, count_world(w), seed=2, questions=2000)
    by = {r["policy"]: r for r in rows}
    guess = by["always answer (guess)"]
    assert guess["rank_binary_score"] == 1
    assert guess["rank_score_t0.75"] == len(rows)  # last under a 0.75 target
    assert by["answer iff confidence > 0.75"]["rank_score_t0.75"] == 1
    assert by["answer iff confidence > 0.9"]["rank_score_t0.9"] == 1


def test_cli_writes_report_and_json(tmp_path, capsys):
    code = cli_main(["arbitrary-facts", "--quick", "--no-ngram", "--quiet", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "memorizer" in out and "Thm2 lower" in out
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["ok"] is True and data["rows"]
    page = (tmp_path / "report.html").read_text()
    assert "Does the floor hold?" in page and "data:image/png;base64," in page
    assert (tmp_path / "bounds.png").stat().st_size > 1000
    md = (tmp_path / "floor-experiment.md").read_text()
    assert md.startswith("## Does the floor hold?") and "| memorizer | sampled |" in md


def test_she_he_theorem3():
    rows = {(r["variant"], r["order"]): r for r in theorem3.run(orders=(3, 6))}
    for variant in ("KNVZ", "short"):
        assert rows[(variant, 3)]["error_rate"] >= 0.5  # Theorem 3 / Corollary 2
    assert rows[("KNVZ", 6)]["error_rate"] >= 0.5  # the pronoun is 8 tokens back
    assert rows[("short", 6)]["error_rate"] == 0.0  # within a 6-gram's reach: right


def test_ngram_models_on_a_small_world():
    cfg = dataclasses.replace(Config.quick(), seeds=(0,), exponents=(0.0,))
    res = run(cfg)
    assert res.ok, res.violations
    err = {r["model"]: r["err"] for r in res.rows if r["decoding"] == "sampled"}
    assert {"3-gram", "5-gram"} <= set(err)
    # a trigram's context ("born on") misses the subject: it guesses nearly always
    assert err["3-gram"] > err["5-gram"]


@pytest.mark.parametrize(
    "name",
    [
        "monofact.experiments",
        "monofact.experiments.world",
        "monofact.experiments.cli",
    ],
)
def test_docstring_examples(name):
    import doctest
    import importlib

    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
