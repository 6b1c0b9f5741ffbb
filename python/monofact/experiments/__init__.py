"""Reproducible experiments that put the theory to the test (``monofact experiment NAME``).

- ``arbitrary-facts``: KNVZ's arbitrary-facts world (Definition 1) rendered as text, counted with
  ``mf.count_facts``, models trained on it (the calibrated memorizer of Theorem 2, n-gram models
  with ``mf.NGramModel``), their measured hallucination rates against Theorems 1-3 and MATH.md
  T6, the error as the corpus grows against ``Floor.extrapolate``, and a grading experiment.

>>> sorted(EXPERIMENTS)
['arbitrary-facts']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from monofact.experiments import arbitrary_facts
from monofact.experiments.arbitrary_facts import Config, Result, run
from monofact.experiments.world import World, make_world

__all__ = ["EXPERIMENTS", "Config", "Result", "World", "arbitrary_facts", "make_world", "run"]

#: Experiment name -> function running it with a :class:`Config`.
EXPERIMENTS: dict[str, Callable[..., Any]] = {"arbitrary-facts": run}
