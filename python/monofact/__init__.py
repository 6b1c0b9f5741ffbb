"""monofact: count what a corpus says once.

Exact n-gram and fact counts of large corpora, their count-of-counts and singleton rates, and
the hallucination floors those imply (Kalai, Nachum, Vempala and Zhang, 2025).
"""

from monofact._core import __version__
from monofact.corpus import Corpus
from monofact.counts import Counts, count_ngrams
from monofact.errors import ConfigError, InputError, MonofactError, ResourceError

__all__ = [
    "__version__",
    "Corpus",
    "Counts",
    "count_ngrams",
    "MonofactError",
    "InputError",
    "ConfigError",
    "ResourceError",
]
