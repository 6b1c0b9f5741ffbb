"""Exact n-gram counts: ``count_ngrams`` and the ``Counts`` result."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa

from monofact import _core
from monofact._options import parse_bytes, parse_threads
from monofact._progress import Reporter, reporter
from monofact.corpus import as_corpus
from monofact.errors import ConfigError

if TYPE_CHECKING:
    import polars as pl

_TOKENIZERS = ("words", "whitespace")


class Counts:
    """Exact n-gram counts of a corpus.

    ``summary`` holds the figures of MATH.md section 1 (documents, tokens, samples N, distinct
    keys D, N1, N2, singleton rate N1/N, bytes, invalid bytes, seconds); ``histogram()`` the
    count-of-counts; ``to_arrow()`` the n-grams themselves.
    """

    def __init__(self, inner: _core.NgramCounts, options: dict[str, Any]) -> None:
        self._inner = inner
        self.options = dict(options)
        self._summary: dict[str, Any] = dict(inner.summary())

    @property
    def summary(self) -> dict[str, Any]:
        """Figures of the run (a copy)."""
        return dict(self._summary)

    @property
    def n(self) -> int:
        """The n-gram order."""
        return int(self._summary["n"])

    @property
    def samples(self) -> int:
        """N, the number of n-gram occurrences counted."""
        return int(self._summary["samples"])

    @property
    def singleton_rate(self) -> float:
        """N1 / N: the share of n-gram occurrences whose n-gram occurs exactly once."""
        return float(self._summary["singleton_rate"])

    def histogram(self) -> pa.Table:
        """Count-of-counts: a table of ``r`` (uint64) and ``n_r`` (uint64), ascending ``r``."""
        return pa.table(self._inner.histogram())

    def to_arrow(
        self,
        min_count: int | None = None,
        max_count: int | None = None,
        top_k: int | None = None,
        batch_rows: int = 65536,
    ) -> pa.RecordBatchReader:
        """The n-grams as a stream of record batches (``ngram``: large_string, tokens joined by a
        space; ``count``: uint64), ordered by count descending, then tokens ascending.

        ``min_count``/``max_count`` keep counts in that range; ``top_k`` the k most frequent.
        """
        for name, v in (("min_count", min_count), ("max_count", max_count), ("top_k", top_k)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                raise ConfigError(f"{name} must be a non-negative integer, not {v!r}")
        if batch_rows < 1:
            raise ConfigError("batch_rows must be at least 1")
        stream = self._inner.keys(
            min_count=min_count, max_count=max_count, top_k=top_k, batch_rows=batch_rows
        )
        return pa.RecordBatchReader.from_stream(stream)

    def to_table(self, **filters: Any) -> pa.Table:
        """The n-grams as one pyarrow Table (see ``to_arrow`` for the filters)."""
        return self.to_arrow(**filters).read_all()

    def to_polars(self, **filters: Any) -> pl.DataFrame:
        """The n-grams as a polars DataFrame (see ``to_arrow`` for the filters)."""
        import polars as pl

        frame = pl.from_arrow(self.to_table(**filters))
        assert isinstance(frame, pl.DataFrame)
        return frame

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """Export the n-grams through the Arrow PyCapsule interface."""
        return self.to_arrow().__arrow_c_stream__(requested_schema)

    def __repr__(self) -> str:
        s = self._summary
        return (
            f"<Counts n={s['n']} samples={s['samples']:,} distinct={s['distinct']:,} "
            f"N1={s['n1']:,} singleton_rate={s['singleton_rate']:.6f}>"
        )


def count_ngrams(
    corpus: Any,
    n: int = 3,
    tokenizer: str = "words",
    lowercase: bool = False,
    pad: bool = False,
    memory: int | str | None = None,
    threads: int | None = None,
    sample: float | None = None,
    progress: str | Reporter | None = "auto",
    **reader_options: Any,
) -> Counts:
    """Count the n-grams of a corpus exactly.

    ``corpus`` is a :class:`Corpus`, a path, a glob, a directory, a list of them, or Arrow data;
    ``reader_options`` (``text_field``, ``format``, ``doc_per``, ``on_invalid``, ...) go to
    :class:`Corpus`. ``tokenizer="whitespace"`` splits on spaces and tabs as KenLM does;
    ``"words"`` is Unicode-aware with punctuation as separate tokens. ``pad=True`` adds KenLM's
    sentence padding to each document (n-1 ``<s>`` before, one ``</s>`` after). ``memory`` bounds
    the counting tables (``"4GB"``; default half the machine's memory); ``threads`` defaults to
    all cores. Results do not depend on the thread count.

    >>> import pyarrow as pa
    >>> c = count_ngrams(pa.table({"text": ["a b a b", "a b"]}), n=2, progress="none")
    >>> c.summary["samples"], c.summary["distinct"], c.summary["n1"]
    (4, 2, 1)
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 8:
        raise ConfigError(f"n must be an integer from 1 to 8, not {n!r}")
    if tokenizer not in _TOKENIZERS:
        raise ConfigError(f"tokenizer must be one of {', '.join(_TOKENIZERS)}, not {tokenizer!r}")
    if sample is not None and not (isinstance(sample, (int, float)) and 0 < sample <= 1):
        raise ConfigError(f"sample must be a rate in (0, 1], not {sample!r}")
    c = as_corpus(corpus, **reader_options)
    paths, table = c.source_args()
    options = {
        "n": n,
        "tokenizer": tokenizer,
        "lowercase": lowercase,
        "pad": pad,
        "sample": sample,
    }
    inner = _core.count_ngrams(
        paths,
        table,
        n=n,
        pad=pad,
        tokenizer=tokenizer,
        lowercase=lowercase,
        threads=parse_threads(threads),
        memory_bytes=parse_bytes(memory),
        sample=None if sample is None else float(sample),
        progress=reporter(progress, "count"),
        **c.reader_kwargs(),
    )
    return Counts(inner, options)
