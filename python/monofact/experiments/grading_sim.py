"""The grading experiment: binary grading vs confidence targets on the birthday questions.

A simulated model with known, calibrated confidences answers birthday questions of a world
(questions drawn from ``mu``): it recalls a subject's birthday with probability
``1 - (1 - recall)^m`` after ``m`` answered training mentions, otherwise guesses uniformly, so its
chance of being right is ``q = r + (1 - r)/365`` and it knows q. Policies: always answer (guess),
answer only when ``q > t`` for t = 0.5, 0.75, 0.9, and always abstain. ``mf.grade`` scores each:
under binary grading guessing ranks first; under confidence targets the matching abstention
policy does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import monofact as mf
from monofact.experiments.world import DATES, World

__all__ = ["TARGETS", "run"]

TARGETS = (0.5, 0.75, 0.9)


def run(
    world: World, facts: mf.FactCounts, seed: int = 0, questions: int = 5000, recall: float = 0.6
) -> list[dict[str, Any]]:
    """One row per policy: answered, accuracy, error, binary score and the score at each t."""
    rng = np.random.default_rng([seed, 4])
    mentions = np.zeros(world.subjects)
    t = facts.table()
    for name, obj, m in zip(
        t.column("subject").to_pylist(),
        t.column("object").to_pylist(),
        t.column("mentions").to_pylist(),
    ):
        if obj is not None:
            mentions[world.index[name]] += int(m)
    qs = rng.choice(world.subjects, size=questions, p=world.mu)
    r = 1.0 - (1.0 - recall) ** mentions[qs]
    q = r + (1.0 - r) / len(DATES)
    right = rng.random(questions) < q
    policies: list[tuple[str, float | None]] = [("always answer (guess)", 0.0)]
    policies += [(f"answer iff confidence > {x:g}", x) for x in TARGETS]
    policies.append(("always abstain (IDK)", None))
    rows: list[dict[str, Any]] = []
    for name, thr in policies:
        answers = np.zeros(questions, dtype=bool) if thr is None else q > thr
        results = [
            {
                "question_id": int(c),
                "answer": "date" if a else None,
                "correct": bool(ok) if a else None,
                "confidence": float(conf),
            }
            for c, a, ok, conf in zip(qs.tolist(), answers.tolist(), right.tolist(), q.tolist())
        ]
        g = mf.grade(results, thresholds=TARGETS)
        row: dict[str, Any] = {
            "policy": name,
            "answered": g.answered / g.n,
            "accuracy": g.accuracy,
            "error_rate": g.error_rate,
            "binary_score": g.binary_score,
        }
        for x in TARGETS:
            row[f"score_t{x:g}"] = g.target(x).score
        rows.append(row)
    for key in ["binary_score", *[f"score_t{x:g}" for x in TARGETS]]:
        for row in rows:  # ties share the best rank
            row[f"rank_{key}"] = 1 + sum(o[key] > row[key] + 1e-12 for o in rows)
    return rows
