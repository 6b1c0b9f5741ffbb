"""n-gram language models: modified Kneser-Ney exactly as KenLM's ``lmplz``.

``NGramModel.fit`` counts the corpus with the same engine as ``count_ngrams`` (KenLM sentence
padding, one sentence per line or record) and estimates an interpolated modified Kneser-Ney model
(MATH.md section 7): adjusted continuation counts, three discounts per order from the
count-of-counts, backoff weights, ``<unk>``. Models move to and from KenLM through ARPA files.
Queries run in Rust, in parallel, and return results in input order.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from monofact import _core
from monofact._options import parse_bytes, parse_threads
from monofact._progress import Reporter, reporter
from monofact.corpus import as_corpus
from monofact.errors import ConfigError


@dataclass(frozen=True)
class Choices:
    """Answers to multiple-choice questions (see :meth:`NGramModel.choose`).

    >>> Choices(picks=[0, 1], log10_probs=[[-1.0, -2.0], [-3.0, -0.5]], error_rate=0.5).picks
    [0, 1]
    """

    picks: list[int]
    """Index of the most probable choice of each question (ties: the first)."""
    log10_probs: list[list[float]]
    """log10 probability of every choice as a continuation of its prompt."""
    error_rate: float | None
    """Share of questions whose pick differs from the given answer (None without answers)."""


def _sentences(text: str | Sequence[str]) -> tuple[list[str], bool]:
    if isinstance(text, str):
        return [text], True
    # A list goes to Rust as is (the binding checks each item's type without a Python loop).
    return (text if type(text) is list else list(text)), False


@contextlib.contextmanager
def _strings_only() -> Iterator[None]:
    """Turns the binding's TypeError for a non-string sentence into a ConfigError."""
    try:
        yield
    except TypeError as e:
        raise ConfigError(f"sentences must be strings ({e})") from None


class NGramModel:
    """An n-gram language model (orders 1-6) with KenLM's modified Kneser-Ney smoothing.

    >>> import pyarrow as pa
    >>> lines = ["the cat sat", "the cat ran", "a dog sat", "the dog ran"] * 3
    >>> lm = NGramModel.fit(pa.table({"text": lines}), order=2, discount_fallback=True, progress="none")
    >>> lm.order, lm.ngram_counts()
    (2, [9, 11])
    >>> round(lm.log10_prob("the cat sat"), 4) < 0
    True
    """

    def __init__(self, inner: _core.NGramModel) -> None:
        self._inner = inner

    @classmethod
    def fit(
        cls,
        corpus: Any,
        order: int = 3,
        tokenizer: str = "whitespace",
        lowercase: bool = False,
        smoothing: str = "modified-kneser-ney",
        interpolate_unigrams: bool = True,
        discount_fallback: bool | tuple[float, float, float] = False,
        prune: Sequence[int] | None = None,
        threads: int | None = None,
        memory: int | str | None = None,
        progress: str | Reporter | None = "auto",
        **reader_options: Any,
    ) -> NGramModel:
        """Fit a model on a corpus (each document a sentence, padded as KenLM does).

        ``discount_fallback=True`` substitutes lmplz's fallback discounts (0.5, 1, 1.5) where the
        count-of-counts leaves them undefined (small or artificial corpora); a tuple gives your
        own. ``prune`` holds lmplz's per-order count thresholds (``[0, 1, 1]`` drops bigrams and
        trigrams seen once). ``tokenizer="whitespace"`` matches KenLM; with ``"words"`` queries
        are tokenized the same way as the corpus.

        >>> import pyarrow as pa
        >>> lm = NGramModel.fit(pa.table({"text": ["the cat sat", "the cat ran", "a dog sat", "the dog ran"] * 3}), order=2, discount_fallback=True, progress="none")
        >>> lm.ngram_counts()
        [9, 11]
        """
        if smoothing != "modified-kneser-ney":
            raise ConfigError(f"smoothing must be 'modified-kneser-ney', not {smoothing!r}")
        if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= 6:
            raise ConfigError(f"order must be an integer from 1 to 6, not {order!r}")
        if discount_fallback is True:
            fallback: tuple[float, float, float] | None = (0.5, 1.0, 1.5)
        elif discount_fallback is False:
            fallback = None
        else:
            fallback = tuple(float(d) for d in discount_fallback)  # type: ignore[assignment]
            if len(fallback) != 3:  # type: ignore[arg-type]
                raise ConfigError("discount_fallback takes True or three discounts (D1, D2, D3+)")
        c = as_corpus(corpus, **reader_options)
        paths, table = c.source_args()
        inner = _core.fit_ngram_model(
            paths,
            table,
            order=order,
            tokenizer=tokenizer,
            lowercase=lowercase,
            interpolate_unigrams=interpolate_unigrams,
            discount_fallback=fallback,
            prune=[int(p) for p in (prune or [])],
            threads=parse_threads(threads),
            memory_bytes=parse_bytes(memory),
            progress=reporter(progress, "lm fit"),
            **c.reader_kwargs(),
        )
        return cls(inner)

    @classmethod
    def load_arpa(cls, path: str | os.PathLike[str]) -> NGramModel:
        """Read an ARPA file (from KenLM, SRILM or :meth:`save_arpa`).

        >>> import pyarrow as pa
        >>> lm = NGramModel.fit(pa.table({"text": ["the cat sat", "the cat ran", "a dog sat", "the dog ran"] * 3}), order=2, discount_fallback=True, progress="none")
        >>> import tempfile, os
        >>> with tempfile.TemporaryDirectory() as d:
        ...     lm.save_arpa(os.path.join(d, "m.arpa"))
        ...     NGramModel.load_arpa(os.path.join(d, "m.arpa")).ngram_counts()
        [9, 11]
        """
        return cls(_core.load_arpa(os.fspath(path)))

    def save_arpa(self, path: str | os.PathLike[str]) -> None:
        """Write the model as an ARPA file.

        >>> import pyarrow as pa
        >>> lm = NGramModel.fit(pa.table({"text": ["the cat sat", "the cat ran", "a dog sat", "the dog ran"] * 3}), order=2, discount_fallback=True, progress="none")
        >>> import tempfile, os, pathlib
        >>> with tempfile.TemporaryDirectory() as d:
        ...     lm.save_arpa(os.path.join(d, "m.arpa"))
        ...     pathlib.Path(d, "m.arpa").read_text().startswith(chr(92) + "data")
        True
        """
        self._inner.save_arpa(os.fspath(path))

    @property
    def order(self) -> int:
        """The order N.

        >>> import pyarrow as pa
        >>> lm = NGramModel.fit(pa.table({"text": ["the cat sat", "the cat ran", "a dog sat", "the dog ran"] * 3}), order=2, discount_fallback=True, progress="none")
        >>> lm.order
        2
        """
        return self._inner.order

    def ngram_counts(self) -> list[int]:
        """Number of n-grams of each order 1..N.

        >>> import pyarrow as pa
        >>> lm = NGramModel.fit(pa.table({"text": ["the cat sat", "the cat ran", "a dog sat", "the dog ran"] * 3}), order=2, discount_fallback=True, progress="none")
        >>> lm.ngram_counts()
        [9, 11]
        """
        return list(self._inner.ngram_counts())

    def discounts(self) -> list[tuple[float, float, float]]:
        """(D1, D2, D3+) per order (empty for a model read from ARPA).

        >>> import pyarrow as pa
        >>> lm = NGramModel.fit(pa.table({"text": ["the cat sat", "the cat ran", "a dog sat", "the dog ran"] * 3}), order=2, discount_fallback=True, progress="none")
        >>> lm.discounts()[1]
        (0.5, 1.0, 1.5)
        """
        return list(self._inner.discounts())

    def vocabulary(self) -> list[str]:
        """The words of the model, ``<unk>``, ``<s>`` and ``</s>`` included.

        >>> import pyarrow as pa
        >>> lm = NGramModel.fit(pa.table({"text": ["the cat sat", "the cat ran", "a dog sat", "the dog ran"] * 3}), order=2, discount_fallback=True, progress="none")
        >>> sorted(lm.vocabulary())[:3]
        ['</s>', '<s>', '<unk>']
        """
        return list(self._inner.vocabulary())

    def log10_prob(self, sentences: str | Sequence[str], bos: bool = True, eos: bool = True) -> Any:
        """log10 probability of a sentence (a float) or of each of many (a list), from ``<s>``
        through ``</s>`` unless ``bos``/``eos`` say otherwise. Unknown words score as ``<unk>``.

        >>> import pyarrow as pa
        >>> lm = NGramModel.fit(pa.table({"text": ["the cat sat", "the cat ran", "a dog sat", "the dog ran"] * 3}), order=2, discount_fallback=True, progress="none")
        >>> lm.log10_prob("the cat sat") > lm.log10_prob("sat cat the")
        True
        """
        texts, single = _sentences(sentences)
        with _strings_only():
            totals = self._inner.score_totals(texts, bos=bos, eos=eos)
        return totals[0] if single else totals

    def token_log10_probs(
        self, sentences: str | Sequence[str], bos: bool = True, eos: bool = True
    ) -> Any:
        """log10 probability of each token (``</s>`` last when ``eos``).

        >>> import pyarrow as pa
        >>> lm = NGramModel.fit(pa.table({"text": ["the cat sat", "the cat ran", "a dog sat", "the dog ran"] * 3}), order=2, discount_fallback=True, progress="none")
        >>> len(lm.token_log10_probs("the cat sat"))
        4
        """
        texts, single = _sentences(sentences)
        with _strings_only():
            per = [s[1] for s in self._inner.score(texts, bos=bos, eos=eos)]
        return per[0] if single else per

    def perplexity(
        self, sentences: str | Sequence[str], bos: bool = True, eos: bool = True
    ) -> float:
        """Perplexity over sentences, as KenLM's ``query`` reports it (OOVs included).

        >>> import pyarrow as pa
        >>> lm = NGramModel.fit(pa.table({"text": ["the cat sat", "the cat ran", "a dog sat", "the dog ran"] * 3}), order=2, discount_fallback=True, progress="none")
        >>> lm.perplexity(["the cat sat"]) > 1
        True
        """
        texts, _ = _sentences(sentences)
        with _strings_only():
            return float(self._inner.perplexity(texts, bos=bos, eos=eos)["perplexity"])

    def generate(
        self,
        prefix: str | Sequence[str] = "",
        max_tokens: int = 50,
        greedy: bool = False,
        seed: int = 0,
    ) -> Any:
        """Continue ``prefix`` (a string, or many): sample with ``seed`` or take the most probable
        word (``greedy``); stop at ``</s>`` or after ``max_tokens``. Returns the continuation
        text (tokens joined by spaces), one per prefix for a list.

        >>> import pyarrow as pa
        >>> lm = NGramModel.fit(pa.table({"text": ["the cat sat", "the cat ran", "a dog sat", "the dog ran"] * 3}), order=2, discount_fallback=True, progress="none")
        >>> lm.generate("the", greedy=True, max_tokens=2) == lm.generate("the", greedy=True, max_tokens=2)
        True
        """
        texts, single = _sentences(prefix)
        if max_tokens < 0:
            raise ConfigError("max_tokens must be >= 0")
        with _strings_only():
            gens = self._inner.generate(texts, max_tokens=max_tokens, greedy=greedy, seed=seed)
        out = [" ".join(tokens) for tokens, _, _ in gens]
        return out[0] if single else out

    def choose(
        self,
        prompts: Sequence[str],
        choices: Sequence[Sequence[str]],
        answers: Sequence[int] | None = None,
        eos: bool = False,
    ) -> Choices:
        """Multiple choice (KNVZ Theorem 3): score every choice as a continuation of its prompt
        and pick the most probable; with ``answers`` (index of the right choice per prompt) also
        the error rate.

        >>> import pyarrow as pa
        >>> lm = NGramModel.fit(pa.table({"text": ["the cat sat", "the cat ran", "a dog sat", "the dog ran"] * 3}), order=2, discount_fallback=True, progress="none")
        >>> lm.choose(["the cat"], [["sat", "the"]], answers=[0]).picks
        [0]
        """
        prompt_list = list(prompts)
        choice_lists = [list(c) for c in choices]
        if answers is not None and len(answers) != len(prompt_list):
            raise ConfigError(f"{len(prompt_list)} prompts but {len(answers)} answers")
        got = self._inner.choose(prompt_list, choice_lists, eos=eos)
        picks = [p for p, _ in got]
        probs = [list(lp) for _, lp in got]
        error = None
        if answers is not None:
            error = sum(p != a for p, a in zip(picks, answers)) / len(picks) if picks else math.nan
        return Choices(picks=picks, log10_probs=probs, error_rate=error)

    def __repr__(self) -> str:
        counts = " ".join(f"{k + 1}={c:,}" for k, c in enumerate(self.ngram_counts()))
        return f"<NGramModel order={self.order} {counts}>"
