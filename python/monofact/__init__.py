"""monofact: count what a corpus says once.

Exact n-gram and fact counts of large corpora, their count-of-counts and singleton rates, and
the hallucination floors those imply (Kalai, Nachum, Vempala and Zhang, 2025).
"""

from monofact import estimators, floors, grading
from monofact._core import __version__
from monofact._histogram import as_histogram
from monofact.corpus import Corpus
from monofact.counts import Counts, count_ngrams
from monofact.errors import ConfigError, InputError, MonofactError, ResourceError
from monofact.facts import FactCounts, count_facts
from monofact.floors import (
    Floor,
    calibration_gap,
    hallucination_floor,
    iiv_bound,
    kalai_vempala_bound,
    multiple_choice_bound,
)
from monofact.grading import BENCHMARKS, Grades, benchmarks, grade
from monofact.lm import Choices, NGramModel
from monofact.report import ReportPaths, report

__all__ = [
    "BENCHMARKS",
    "Choices",
    "ConfigError",
    "Corpus",
    "Counts",
    "FactCounts",
    "Floor",
    "Grades",
    "InputError",
    "MonofactError",
    "NGramModel",
    "ReportPaths",
    "ResourceError",
    "__version__",
    "as_histogram",
    "benchmarks",
    "calibration_gap",
    "count_facts",
    "count_ngrams",
    "estimators",
    "floors",
    "grade",
    "grading",
    "hallucination_floor",
    "iiv_bound",
    "kalai_vempala_bound",
    "multiple_choice_bound",
    "report",
]
