"""A world where the truth is known: KNVZ's arbitrary facts (Definition 1), rendered as text.

K subjects, each with a birthday drawn uniformly from the 365 days of a non-leap year (``DD-MM``).
Subject ``c`` is mentioned with probability ``mu_c`` (a Zipf law ``mu_c ~ rank^-s`` over a random
ranking, or Pareto-distributed weights); each of the N samples picks a subject from ``mu`` and,
with probability ``alpha``, states its birthday, otherwise it is an IDK sample ("... was born on an
unknown date"). Sentences come in several phrasings with filler sentences between them, one
sentence per line, every fact a single whitespace token. Everything is seeded and deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt

from monofact.errors import ConfigError

__all__ = [
    "DATES",
    "IDK_PHRASE",
    "PATTERNS",
    "PHRASINGS",
    "World",
    "make_world",
    "subject_names",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
#: The 365 possible answers, ``DD-MM`` in calendar order.
DATES: tuple[str, ...] = tuple(
    f"{d:02d}-{m:02d}" for m, n in enumerate(_MONTH_DAYS, start=1) for d in range(1, n + 1)
)
#: What an IDK sample says instead of a date.
IDK_PHRASE = "an unknown date"
#: The phrasings of a fact; ``{s}`` is the subject, ``{o}`` a date or :data:`IDK_PHRASE`.
PHRASINGS: tuple[str, ...] = (
    "{s} was born on {o} .",
    "{s} 's birthday is {o} .",
    "the old records say that {s} came into the world on {o} .",
)
_OBJ = r"(?P<object>\d\d-\d\d|an unknown date)"
_SUBJ = r"(?P<subject>[A-Z][a-z]+)"
#: ``count_facts`` templates, one relation per phrasing (regex group names cannot repeat).
PATTERNS: dict[str, str] = {
    "born_1": rf"{_SUBJ} was born on {_OBJ}",
    "born_2": rf"{_SUBJ} 's birthday is {_OBJ}",
    "born_3": rf"{_SUBJ} came into the world on {_OBJ}",
}
#: The query prompt (phrasing 1 without its object) and what the models are asked to continue.
QUERY = "{s} was born on"

_FILLER = (
    "the harvest was late that year and the river ran high .",
    "nobody in the village remembers who built the old mill .",
    "letters from that time are kept in a box in the attic .",
    "the school closed for a week when the snow came .",
    "a new road was laid between the two market towns .",
    "most of the family moved to the coast after the war .",
    "the parish register was damaged by water long ago .",
    "some say the bridge is older than the church .",
    "the bakery still uses the same oven as a century ago .",
    "travellers often stopped at the inn by the crossroads .",
)
_SYLLABLES = [c + v for c in "bdklmnrstv" for v in "aeiou"]


def subject_names(k: int) -> list[str]:
    """``k`` distinct single-token names (capitalized letters only), deterministic.

    >>> subject_names(3)
    ['Baba', 'Babe', 'Babi']
    """
    if k < 1:
        raise ConfigError(f"need at least one subject, got {k}")
    b = len(_SYLLABLES)
    width = max(2, math.ceil(math.log(k, b)) if k > 1 else 2)
    out = []
    for i in range(k):
        digits = []
        x = i
        for _ in range(width):
            x, d = divmod(x, b)
            digits.append(_SYLLABLES[d])
        out.append("".join(reversed(digits)).capitalize())
    return out


@dataclass(frozen=True)
class World:
    """One arbitrary-facts world and its N training samples.

    ``mu`` is the prompt distribution, ``birthday[c]`` the index into :data:`DATES` of subject c's
    single valid answer; ``sample_subject``/``sample_answered`` are the N samples in corpus order
    (``sample_answered`` False for an IDK sample).
    """

    subjects: int
    samples: int
    alpha: float
    law: str
    exponent: float
    seed: int
    mu: FloatArray = field(repr=False)
    birthday: IntArray = field(repr=False)
    sample_subject: IntArray = field(repr=False)
    sample_answered: BoolArray = field(repr=False)
    sample_phrasing: IntArray = field(repr=False)
    filler_after: IntArray = field(repr=False)

    @cached_property
    def names(self) -> list[str]:
        """Subject names, index-aligned with ``mu``."""
        return subject_names(self.subjects)

    @cached_property
    def index(self) -> dict[str, int]:
        """Subject name -> index."""
        return {n: i for i, n in enumerate(self.names)}

    def prefix(self, n: int) -> World:
        """The same world with only its first ``n`` samples (a smaller corpus of it)."""
        if not 1 <= n <= self.samples:
            raise ConfigError(f"prefix length must lie in [1, {self.samples}], got {n}")
        return World(
            subjects=self.subjects,
            samples=n,
            alpha=self.alpha,
            law=self.law,
            exponent=self.exponent,
            seed=self.seed,
            mu=self.mu,
            birthday=self.birthday,
            sample_subject=self.sample_subject[:n],
            sample_answered=self.sample_answered[:n],
            sample_phrasing=self.sample_phrasing[:n],
            filler_after=self.filler_after[:n],
        )

    def lines(self) -> list[str]:
        """The corpus: one sentence per line, fact sentences in sample order, filler between."""
        names = self.names
        out: list[str] = []
        dates = DATES
        for s, ans, ph, fill in zip(
            self.sample_subject.tolist(),
            self.sample_answered.tolist(),
            self.sample_phrasing.tolist(),
            self.filler_after.tolist(),
        ):
            obj = dates[self.birthday[s]] if ans else IDK_PHRASE
            out.append(PHRASINGS[ph].format(s=names[s], o=obj))
            if fill >= 0:
                out.append(_FILLER[fill])
        return out

    def records(self) -> dict[str, list[str | None]]:
        """The N samples as (subject, relation, object) records, IDK samples with object None."""
        names = self.names
        return {
            "subject": [names[s] for s in self.sample_subject.tolist()],
            "relation": ["birthday"] * self.samples,
            "object": [
                DATES[self.birthday[s]] if a else None
                for s, a in zip(self.sample_subject.tolist(), self.sample_answered.tolist())
            ],
        }

    def answer_counts(self) -> IntArray:
        """Non-IDK samples per subject (length K)."""
        return np.bincount(
            self.sample_subject[self.sample_answered], minlength=self.subjects
        ).astype(np.int64)

    def expected(self) -> dict[str, float]:
        """Exact expectations over the training draw (MATH.md T6, generalized to any ``mu``).

        A subject's answered samples are Binomial(N, alpha mu_c), so
        ``E[sr] = sum_c mu_c alpha (1 - alpha mu_c)^(N-1)``,
        ``E[MM] = sum_c mu_c alpha (1 - alpha mu_c)^N`` and the calibrated memorizer's
        ``E[err] = 364/365 E[MM]``; ``mm_sd`` bounds the standard deviation of MM (the unseen
        indicators are negatively associated, so their variances add to an upper bound).
        """
        a, n, mu = self.alpha, float(self.samples), self.mu
        q = np.log1p(-a * mu)
        sr = float(np.sum(mu * a * np.exp((n - 1) * q)))
        p_unseen = np.exp(n * q)
        mm = float(np.sum(mu * a * p_unseen))
        var = float(np.sum((mu * a) ** 2 * p_unseen * (1 - p_unseen)))
        return {
            "singleton_rate": sr,
            "missing_mass": mm,
            "memorizer_error": (len(DATES) - 1) / len(DATES) * mm,
            "mm_sd": math.sqrt(var),
        }


def make_world(
    subjects: int,
    samples: int,
    alpha: float = 0.8,
    law: str = "zipf",
    exponent: float = 0.0,
    seed: int = 0,
    filler: float = 0.3,
) -> World:
    """Draw a world: birthdays, mention weights, N samples, phrasings and filler positions.

    ``law="zipf"``: ``mu_c ~ rank_c^-exponent`` over a random ranking (``exponent=0`` is the
    uniform world of MATH.md T6). ``law="pareto"``: weights ``1 + Pareto(exponent)`` (shape
    ``exponent > 0``; smaller is heavier-tailed). ``filler`` is the chance of a filler sentence
    after each fact sentence.

    >>> w = make_world(100, 50, alpha=0.5, seed=1)
    >>> w.samples, len(w.lines()) >= 50, round(float(w.mu.sum()), 12)
    (50, True, 1.0)
    """
    if subjects < 1 or samples < 1:
        raise ConfigError("subjects and samples must be >= 1")
    if not 0.0 < alpha <= 1.0:
        raise ConfigError(f"alpha must lie in (0, 1], got {alpha!r}")
    if not 0.0 <= filler < 1.0:
        raise ConfigError(f"filler must lie in [0, 1), got {filler!r}")
    rng = np.random.default_rng([seed, 20250904])
    birthday = rng.integers(0, len(DATES), subjects).astype(np.int64)
    if law == "zipf":
        if exponent < 0:
            raise ConfigError(f"the Zipf exponent must be >= 0, got {exponent!r}")
        ranks = rng.permutation(subjects).astype(np.float64) + 1.0
        w = ranks ** (-float(exponent))
    elif law == "pareto":
        if exponent <= 0:
            raise ConfigError(f"the Pareto shape must be > 0, got {exponent!r}")
        w = 1.0 + rng.pareto(float(exponent), subjects)
    else:
        raise ConfigError(f"law must be 'zipf' or 'pareto', not {law!r}")
    mu = w / w.sum()
    sample_subject = rng.choice(subjects, size=samples, p=mu).astype(np.int64)
    sample_answered = rng.random(samples) < alpha
    sample_phrasing = rng.integers(0, len(PHRASINGS), samples).astype(np.int64)
    fill = rng.random(samples) < filler
    filler_after = np.where(fill, rng.integers(0, len(_FILLER), samples), -1).astype(np.int64)
    return World(
        subjects=subjects,
        samples=samples,
        alpha=float(alpha),
        law=law,
        exponent=float(exponent),
        seed=seed,
        mu=mu,
        birthday=birthday,
        sample_subject=sample_subject,
        sample_answered=sample_answered,
        sample_phrasing=sample_phrasing,
        filler_after=filler_after,
    )
