"""Hash sampling: estimates and the confidence interval for N1/N."""

from __future__ import annotations

from pathlib import Path

import pytest

import monofact as mf
from monofact.counts import singleton_interval


def test_seed_changes_the_kept_keys(kjv_tok: Path) -> None:
    a = mf.count_ngrams(kjv_tok, n=3, sample=0.05, sample_seed=1, progress="none")
    b = mf.count_ngrams(kjv_tok, n=3, sample=0.05, sample_seed=2, progress="none")
    again = mf.count_ngrams(kjv_tok, n=3, sample=0.05, sample_seed=1, progress="none")
    assert a.to_table().equals(again.to_table())
    assert not a.to_table().equals(b.to_table())
    assert a.summary["total_samples"] == b.summary["total_samples"]


def test_sampled_summary_estimates(kjv_tok: Path) -> None:
    exact = mf.count_ngrams(kjv_tok, n=3, tokenizer="whitespace", progress="none")
    c = mf.count_ngrams(kjv_tok, n=3, tokenizer="whitespace", sample=0.2, progress="none")
    s = c.summary
    assert s["sampled"] is True
    assert "sampled" not in exact.summary
    assert s["total_samples"] == exact.summary["samples"]
    assert s["estimated_n1"] == pytest.approx(s["n1"] / 0.2)
    assert s["estimated_distinct"] == pytest.approx(exact.summary["distinct"], rel=0.05)
    assert s["singleton_rate_low"] <= s["singleton_rate"] <= s["singleton_rate_high"]
    assert s["singleton_rate_low"] <= exact.singleton_rate <= s["singleton_rate_high"]
    est = c.estimated_histogram()
    assert est.column("n_r")[0].as_py() == pytest.approx(s["n1"] / 0.2)
    # sample=1 keeps everything: the interval collapses on the exact value.
    full = mf.count_ngrams(kjv_tok, n=3, tokenizer="whitespace", sample=1.0, progress="none")
    assert full.summary["singleton_rate_low"] == pytest.approx(exact.singleton_rate)
    assert full.summary["singleton_rate_high"] == pytest.approx(exact.singleton_rate)


def test_interval_covers_exact_rate_over_seeds(kjv_tok: Path) -> None:
    """KJV trigrams at rate 0.05: the interval covers the exact N1/N for >= 95 of 100 seeds."""
    exact = mf.count_ngrams(kjv_tok, n=3, tokenizer="whitespace", progress="none")
    truth = exact.singleton_rate
    covered = 0
    estimates = []
    for seed in range(100):
        c = mf.count_ngrams(
            kjv_tok,
            n=3,
            tokenizer="whitespace",
            sample=0.05,
            sample_seed=seed,
            progress="none",
        )
        s = c.summary
        estimates.append(s["singleton_rate"])
        covered += s["singleton_rate_low"] <= truth <= s["singleton_rate_high"]
    assert covered >= 95, covered
    mean = sum(estimates) / len(estimates)
    assert mean == pytest.approx(truth, rel=0.01)  # unbiased


def test_interval_edge_cases() -> None:
    assert singleton_interval(0, 0.1, 1000, 0.95)[0] == 0.0
    assert singleton_interval(0, 0.1, 1000, 0.95)[1] > 0.0
    assert singleton_interval(5, 0.1, 0) == (0.0, 0.0)
    with pytest.raises(mf.ConfigError):
        singleton_interval(5, 0.1, 10, 1.5)
    with pytest.raises(mf.ConfigError):
        mf.count_ngrams(["x"], sample_seed=3, progress="none")
