"""Models of the arbitrary-facts world and how their errors are measured.

- :class:`Memorizer`: the calibrated memorizer of KNVZ Theorem 2's upper bound, built from
  ``count_facts`` output. With ``alpha_hat`` the share of non-IDK training samples, it answers a
  subject seen with an answer from the empirical distribution of that subject's non-IDK answers
  (total mass ``alpha_hat``) and a subject never seen with an answer uniformly over the 365 dates
  (total mass ``alpha_hat``), saying IDK with probability ``1 - alpha_hat`` in both cases. It is
  the posterior predictive of Definition 1 given the data (birthdays uniform a priori), hence
  calibrated: ``delta = |p_hat(A) - p(A)| = 0`` exactly when every ``alpha_c = alpha_hat``, and its
  error is ``364/365`` of the missing mass, which the upper bound ``sr - sr/365 + O(1/sqrt N)``
  covers.
- :func:`ngram_responses`: an ``mf.NGramModel`` asked ``"<name> was born on"``: the probability of
  every date and of the IDK phrase as a continuation (``choose``), one sampled and one greedy
  continuation (``generate``).
- :func:`evaluate`: the generative error (KNVZ ``err``: the probability of a response that is
  neither the true birthday nor IDK, prompts drawn from ``mu``), the Is-It-Valid error of the
  thresholded classifier ``p_hat(r|c) > 1/364``, and the calibration gap delta both exactly
  (the world's p is known) and as ``mf.calibration_gap`` estimates it from samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

import monofact as mf
from monofact.experiments.world import DATES, IDK_PHRASE, QUERY, World

__all__ = [
    "IDK",
    "OTHER",
    "Memorizer",
    "Responses",
    "evaluate",
    "lm_available",
    "ngram_responses",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Response codes besides a date index 0..364.
IDK = -1
OTHER = -2
MIN_WRONG = len(DATES) - 1
THRESHOLD = 1.0 / MIN_WRONG


@dataclass(frozen=True)
class Responses:
    """A model's answers to the birthday question of some subjects (one row per query).

    ``p_correct``, ``p_idk``, ``p_wrong`` (total over wrong dates), ``p_other`` (mass outside the
    dates and IDK): the model's conditional probabilities. ``n_wrong_above``: wrong dates with
    ``p > 1/364``; ``mass_above``: the model's mass on responses with ``p > 1/364``. ``sampled`` and
    ``greedy``: one decoded response each (a date index, :data:`IDK` or :data:`OTHER`), and
    ``p_sampled`` the model's probability of the sampled one.
    """

    subjects: IntArray
    weights: FloatArray
    p_correct: FloatArray
    p_idk: FloatArray
    p_wrong: FloatArray
    p_other: FloatArray
    n_wrong_above: FloatArray
    mass_above: FloatArray
    sampled: IntArray
    greedy: IntArray
    p_sampled: FloatArray


class Memorizer:
    """The calibrated memorizer (see the module docstring), trained on fact counts.

    ``facts``: ``count_facts`` results whose non-IDK objects are ``DD-MM`` dates; ``world`` only
    names the subjects (its truth is not used to train).
    """

    def __init__(self, facts: mf.FactCounts, world: World) -> None:
        s = facts.summary
        n = int(s["samples"])
        table = facts.table()
        objects = table.column("object").to_pylist()
        date_index = {d: i for i, d in enumerate(DATES)}
        agg: dict[tuple[int, int], int] = {}
        for name, obj, m in zip(
            table.column("subject").to_pylist(), objects, table.column("mentions").to_pylist()
        ):
            if obj is None or obj not in date_index or int(m) == 0:
                continue
            key = (world.index[name], date_index[obj])
            agg[key] = agg.get(key, 0) + int(m)
        keys = sorted(agg)
        subj = [k[0] for k in keys]
        ans = [k[1] for k in keys]
        cnt = [agg[k] for k in keys]
        self.subjects = world.subjects
        self.answer_samples = int(sum(cnt))
        self.samples = n
        self.alpha_hat = self.answer_samples / n if n else 0.0
        self._subj = np.asarray(subj, dtype=np.int64)
        self._ans = np.asarray(ans, dtype=np.int64)
        self._cnt = np.asarray(cnt, dtype=np.float64)
        tot = np.bincount(self._subj, weights=self._cnt, minlength=world.subjects)
        self._tot = tot
        self.seen = tot > 0

    def answer_prob(self, subjects: IntArray, answers: IntArray) -> FloatArray:
        """``p_hat(answer | subject)`` for date indices (vectorized)."""
        a = self.alpha_hat
        key = self._subj * len(DATES) + self._ans  # sorted: built from sorted keys
        q = subjects * len(DATES) + answers
        c = np.zeros(len(q))
        if len(key):
            pos = np.minimum(np.searchsorted(key, q), len(key) - 1)
            hit = key[pos] == q
            c = np.where(hit, self._cnt[pos], 0.0)
        seen_p = a * c / np.maximum(self._tot[subjects], 1.0)
        return np.where(self.seen[subjects], seen_p, a / len(DATES))

    def responses(self, world: World, rng: np.random.Generator) -> Responses:
        """Query every subject (weights ``mu``): exact probabilities, one sample, greedy."""
        k = world.subjects
        subs = np.arange(k, dtype=np.int64)
        a = self.alpha_hat
        seen = self.seen
        truth = world.birthday
        p_correct = self.answer_prob(subs, truth)
        p_idk = np.full(k, 1.0 - a)
        p_wrong = a - p_correct
        # wrong answers above the threshold: seen subjects' other memorized answers only
        above = (a * self._cnt / np.maximum(self._tot[self._subj], 1.0)) > THRESHOLD
        wrong_mem = above & (self._ans != truth[self._subj])
        n_wrong_above = np.bincount(self._subj[wrong_mem], minlength=k).astype(np.float64)
        if a / len(DATES) > THRESHOLD:  # never for 365 answers, kept for generality
            n_wrong_above = np.where(seen, n_wrong_above, float(MIN_WRONG))
        mem_mass = np.bincount(
            self._subj[above],
            weights=(a * self._cnt / np.maximum(self._tot[self._subj], 1.0))[above],
            minlength=k,
        )
        unseen_mass = a if a / len(DATES) > THRESHOLD else 0.0
        mass_above = np.where(seen, mem_mass, unseen_mass) + np.where(p_idk > THRESHOLD, p_idk, 0.0)
        # one sample per subject
        says_idk = rng.random(k) >= a
        uniform = rng.integers(0, len(DATES), k).astype(np.int64)
        mem_pick = self._pick_memorized(rng)
        sampled = np.where(seen, mem_pick, uniform)
        sampled = np.where(says_idk, IDK, sampled).astype(np.int64)
        p_sampled = np.where(
            sampled == IDK, 1.0 - a, self.answer_prob(subs, np.maximum(sampled, 0))
        )
        # greedy: the most probable response (ties: IDK, then the first date)
        best_mem = self._best_memorized()
        best_p = np.where(seen, self.answer_prob(subs, best_mem), a / len(DATES))
        best_ans = np.where(seen, best_mem, 0)
        greedy = np.where(1.0 - a >= best_p, IDK, best_ans).astype(np.int64)
        return Responses(
            subjects=subs,
            weights=world.mu,
            p_correct=p_correct,
            p_idk=p_idk,
            p_wrong=p_wrong,
            p_other=np.zeros(k),
            n_wrong_above=n_wrong_above,
            mass_above=mass_above,
            sampled=sampled,
            greedy=greedy,
            p_sampled=p_sampled,
        )

    def _pick_memorized(self, rng: np.random.Generator) -> IntArray:
        """For each seen subject, one answer drawn from its empirical answer distribution."""
        k = self.subjects
        out = np.zeros(k, dtype=np.int64)
        if not len(self._subj):
            return out
        order = np.lexsort((self._ans, self._subj))
        subj, ans, cnt = self._subj[order], self._ans[order], self._cnt[order]
        csum = np.cumsum(cnt)
        starts = np.searchsorted(subj, np.arange(k), side="left")
        ends = np.searchsorted(subj, np.arange(k), side="right")
        base = np.where(starts > 0, csum[np.maximum(starts - 1, 0)], 0.0)
        u = base + rng.random(k) * self._tot
        idx = np.searchsorted(csum, u, side="right")
        idx = np.clip(idx, starts, np.maximum(ends - 1, starts))
        has = ends > starts
        out[has] = ans[np.minimum(idx[has], len(ans) - 1)]
        return out

    def _best_memorized(self) -> IntArray:
        """For each seen subject, its most frequent answer (ties: the earliest date)."""
        k = self.subjects
        out = np.zeros(k, dtype=np.int64)
        order = np.lexsort((self._ans, -self._cnt, self._subj))
        subj = self._subj[order]
        first = np.ones(len(subj), dtype=bool)
        first[1:] = subj[1:] != subj[:-1]
        out[subj[first]] = self._ans[order][first]
        return out


def lm_available() -> bool:
    """Whether ``mf.NGramModel`` exists and can fit a model in this build."""
    cls = getattr(mf, "NGramModel", None)
    if cls is None:
        return False
    try:
        cls.fit(
            pa.table({"text": ["a b c", "a b d", "a c d", "b c d"]}),
            order=2,
            discount_fallback=True,
            progress="none",
        )
    except Exception:  # noqa: BLE001 - any failure means "not usable here"
        return False
    return True


def _parse(text: str) -> int:
    toks = text.split()
    if not toks:
        return OTHER
    if toks[0] in _DATE_INDEX:
        return _DATE_INDEX[toks[0]]
    if toks[0] == IDK_PHRASE.split()[0]:
        return IDK
    return OTHER


_DATE_INDEX = {d: i for i, d in enumerate(DATES)}


def ngram_responses(lm: Any, world: World, queries: IntArray, seed: int) -> Responses:
    """Ask an n-gram model the birthday of each queried subject (``queries`` drawn from mu).

    Probabilities come from ``lm.choose`` (every date and the IDK phrase scored as continuations
    of ``"<name> was born on"``); ``p_other`` is the rest of the model's mass. One continuation is
    sampled and one decoded greedily with ``lm.generate``; its first token decides the response
    (a date, IDK when it starts the IDK phrase, anything else OTHER).
    """
    names = world.names
    prompts = [QUERY.format(s=names[c]) for c in queries.tolist()]
    choices = [*DATES, IDK_PHRASE]
    got = lm.choose(prompts, [choices] * len(prompts))
    p = np.power(10.0, np.asarray(got.log10_probs, dtype=np.float64))
    dates = p[:, : len(DATES)]
    p_idk = p[:, len(DATES)]
    truth = world.birthday[queries]
    rows = np.arange(len(queries))
    p_correct = dates[rows, truth]
    p_dates = dates.sum(axis=1)
    p_other = np.clip(1.0 - p_dates - p_idk, 0.0, 1.0)
    above = dates > THRESHOLD
    n_wrong_above = above.sum(axis=1) - (p_correct > THRESHOLD)
    mass_above = np.where(above, dates, 0.0).sum(axis=1) + np.where(p_idk > THRESHOLD, p_idk, 0.0)
    sampled = np.asarray(
        [_parse(t) for t in lm.generate(prompts, max_tokens=1, greedy=False, seed=seed)],
        dtype=np.int64,
    )
    greedy = np.asarray(
        [_parse(t) for t in lm.generate(prompts, max_tokens=1, greedy=True, seed=seed)],
        dtype=np.int64,
    )
    p_sampled = np.where(
        sampled >= 0,
        dates[rows, np.maximum(sampled, 0)],
        np.where(sampled == IDK, p_idk, 0.0),
    )
    return Responses(
        subjects=queries,
        weights=np.full(len(queries), 1.0 / len(queries)),
        p_correct=p_correct,
        p_idk=p_idk,
        p_wrong=p_dates - p_correct,
        p_other=p_other,
        n_wrong_above=n_wrong_above.astype(np.float64),
        mass_above=mass_above,
        sampled=sampled,
        greedy=greedy,
        p_sampled=p_sampled,
    )


def evaluate(
    r: Responses, world: World, rng: np.random.Generator, calibration_queries: int = 20_000
) -> dict[str, float]:
    """Error rates, Is-It-Valid error and calibration gaps of a model's responses.

    Keys: ``err`` (expected generative error under the model's own distribution), ``err_sampled``
    and ``err_greedy`` (measured on the decoded responses), ``answered_sampled`` (share not IDK),
    ``err_answered_sampled`` (error among answered), ``other`` (mass outside dates and IDK),
    ``err_iiv``, ``delta`` (exact, p known), ``delta_estimate`` (``mf.calibration_gap`` on
    held-out samples of p vs the model's sampled responses), ``delta_greedy`` (the calibration gap
    of greedy decoding seen as a model: a point mass on the greedy response).
    """
    a = world.alpha
    w = r.weights
    truth = world.birthday[r.subjects]
    err = float(np.sum(w * (r.p_wrong + r.p_other)))

    def wrong(resp: IntArray) -> npt.NDArray[np.bool_]:
        return np.asarray((resp != IDK) & (resp != truth), dtype=bool)

    answered = r.sampled != IDK
    ans_w = float(np.sum(w * answered))
    err_s = float(np.sum(w * wrong(r.sampled)))
    err_g = float(np.sum(w * wrong(r.greedy)))
    miss_valid = a * (r.p_correct <= THRESHOLD) + (1.0 - a) * (r.p_idk <= THRESHOLD)
    err_iiv = 0.5 * float(np.sum(w * miss_valid)) + 0.5 * float(
        np.sum(w * r.n_wrong_above / MIN_WRONG)
    )
    p_a = float(np.sum(w * (a * (r.p_correct > THRESHOLD) + (1 - a) * (r.p_idk > THRESHOLD))))
    delta = abs(float(np.sum(w * r.mass_above)) - p_a)
    p_true_greedy = np.where(r.greedy == truth, a, np.where(r.greedy == IDK, 1.0 - a, 0.0))
    delta_greedy = abs(1.0 - float(np.sum(w * p_true_greedy)))
    # sample-based estimate, as a user would make it: held-out samples of the true p vs the
    # model's generations, both for prompts drawn from mu
    uniform = bool(np.allclose(w, w[0]))
    m = len(r.subjects) if uniform else calibration_queries
    pick = np.arange(m) if uniform else rng.choice(len(r.subjects), size=m, p=w / w.sum())
    says = rng.random(m) < a
    held = np.where(says, r.p_correct[pick], r.p_idk[pick])
    delta_est = mf.calibration_gap(held, np.clip(r.p_sampled[pick], 0.0, 1.0), MIN_WRONG)
    return {
        "err": err,
        "err_sampled": err_s,
        "err_greedy": err_g,
        "answered_sampled": ans_w,
        "err_answered_sampled": err_s / ans_w if ans_w > 0 else float("nan"),
        "other": float(np.sum(w * r.p_other)),
        "err_iiv": err_iiv,
        "delta": delta,
        "delta_estimate": float(delta_est),
        "delta_greedy": delta_greedy,
    }
