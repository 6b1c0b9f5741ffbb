"""Exact n-gram counts: ``count_ngrams`` and the ``Counts`` result."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from monofact import _core, _persist
from monofact._options import parse_bytes, parse_threads
from monofact._progress import Reporter, reporter
from monofact.corpus import as_corpus
from monofact.errors import ConfigError, InputError

if TYPE_CHECKING:
    import polars as pl

_TOKENIZERS = ("words", "whitespace")


class Counts:
    """Exact n-gram counts of a corpus.

    ``summary`` holds the figures of MATH.md section 1 (documents, tokens, samples N, distinct
    keys D, N1, N2, singleton rate N1/N, bytes, invalid bytes, seconds); ``histogram()`` the
    count-of-counts; ``to_arrow()`` the n-grams themselves.

    **Sampled runs** (``sample=rate``): every distinct n-gram is kept or dropped as a whole by its
    text hash, and the counts of kept n-grams are exact. ``summary["total_samples"]`` is the exact
    N of the whole corpus, ``samples``/``distinct``/``n1`` describe the kept keys. The summary
    then adds ``sampled=True`` and the estimates (``p`` = rate):

    - ``estimated_distinct = distinct / p`` and ``estimated_n1 = n1 / p`` (unbiased);
      ``estimated_histogram()`` is the kept count-of-counts scaled by ``1/p``;
    - ``singleton_rate = n1 / p / total_samples``, the estimate of N1/N (``kept_singleton_rate``
      keeps n1/samples of the kept keys);
    - ``singleton_rate_low``/``singleton_rate_high``: a confidence interval for N1/N at
      ``singleton_rate_confidence`` (default 0.99, the confidence the floors use).

    The interval: each distinct key is kept independently with probability p (a good model of a
    64-bit hash threshold), so the kept singletons are ``X ~ Binomial(N1, p)`` with N1 the
    unknown. The score interval inverts ``(X - N1 p)^2 <= z^2 N1 p (1 - p)`` for N1, with a
    continuity correction (X -/+ 1/2 at the lower/upper end), which gives the closed form
    ``N1 = (2X' + a -/+ sqrt(a^2 + 4 X' a)) / (2p)`` with ``a = z^2 (1 - p)``; the ends are
    divided by the exact N and clipped to [0, 1]. Unlike the plain normal interval
    ``X/p +/- z sqrt(X (1-p))/p`` it stays sensible when few singletons are kept (X = 0 gives
    ``[0, a/p]``), and the score interval with continuity correction covers at least its
    nominal level in practice; the tests check the 0.99 interval covers the exact N1/N of KJV
    trigrams for at least 95 of 100 seeds at p = 0.05. The interval accounts for the sampling
    of keys only: N is exact and the counts of kept keys are exact, so there is no other error.
    """

    def __init__(
        self,
        inner: _core.NgramCounts | None,
        options: dict[str, Any],
        summary: dict[str, Any] | None = None,
        confidence: float = 0.99,
    ) -> None:
        self._inner = inner
        self.options = dict(options)
        #: Input files (path, size, mtime_ns) as recorded in a saved manifest.
        self.inputs: list[dict[str, Any]] = []
        self._keys: Callable[[], pa.Table] | None = None
        self._hist: pa.Table | None = None
        self._dir: Path | None = None
        self._files: list[dict[str, Any]] = []
        base = dict(inner.summary()) if inner is not None else dict(summary or {})
        self._summary: dict[str, Any] = base
        if base.get("sample_rate") is not None:
            self._summary.update(sampled_estimates(base, confidence))

    @property
    def summary(self) -> dict[str, Any]:
        """Figures of the run (a copy).

        >>> import pyarrow as pa
        >>> c = count_ngrams(pa.table({"text": ["a b a b", "a b"]}), n=2, progress="none")
        >>> c.summary["samples"], c.summary["distinct"], c.summary["n1"]
        (4, 2, 1)
        """
        return dict(self._summary)

    @property
    def n(self) -> int:
        """The n-gram order.

        >>> import pyarrow as pa
        >>> c = count_ngrams(pa.table({"text": ["a b a b", "a b"]}), n=2, progress="none")
        >>> c.n
        2
        """
        return int(self._summary["n"])

    @property
    def samples(self) -> int:
        """N, the number of n-gram occurrences counted.

        >>> import pyarrow as pa
        >>> c = count_ngrams(pa.table({"text": ["a b a b", "a b"]}), n=2, progress="none")
        >>> c.samples
        4
        """
        return int(self._summary["samples"])

    @property
    def singleton_rate(self) -> float:
        """N1 / N: the share of n-gram occurrences whose n-gram occurs exactly once.

        >>> import pyarrow as pa
        >>> c = count_ngrams(pa.table({"text": ["a b a b", "a b"]}), n=2, progress="none")
        >>> c.singleton_rate
        0.25
        """
        return float(self._summary["singleton_rate"])

    def histogram(self) -> pa.Table:
        """Count-of-counts: a table of ``r`` (uint64) and ``n_r`` (uint64), ascending ``r``.

        >>> import pyarrow as pa
        >>> c = count_ngrams(pa.table({"text": ["a b a b", "a b"]}), n=2, progress="none")
        >>> c.histogram().to_pylist()
        [{'r': 1, 'n_r': 1}, {'r': 3, 'n_r': 1}]
        """
        if self._inner is None:
            assert self._hist is not None
            return self._hist
        return pa.table(self._inner.histogram())

    def estimated_histogram(self) -> pa.Table:
        """Estimated count-of-counts of the whole corpus: ``r`` (uint64) and ``n_r`` (float64).

        For an exact run this is the histogram itself (as floats); for a sampled run each kept
        ``n_r`` is divided by the rate, an unbiased estimate since each key is kept with
        probability ``rate`` whatever its count.

        >>> import pyarrow as pa
        >>> c = count_ngrams(pa.table({"text": ["a b a b", "a b"]}), n=2, progress="none")
        >>> c.estimated_histogram().column("n_r").to_pylist()
        [1.0, 1.0]
        """
        h = self.histogram()
        rate = self._summary.get("sample_rate") or 1.0
        scaled = [v / rate for v in h.column("n_r").to_pylist()]
        return pa.table({"r": h.column("r"), "n_r": pa.array(scaled, pa.float64())})

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

        >>> import pyarrow as pa
        >>> c = count_ngrams(pa.table({"text": ["a b a b", "a b"]}), n=2, progress="none")
        >>> c.to_arrow(min_count=2).read_all().to_pylist()
        [{'ngram': 'a b', 'count': 3}]
        """
        for name, v in (("min_count", min_count), ("max_count", max_count), ("top_k", top_k)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                raise ConfigError(f"{name} must be a non-negative integer, not {v!r}")
        if batch_rows < 1:
            raise ConfigError("batch_rows must be at least 1")
        if self._inner is None:
            assert self._keys is not None
            t = self._keys()
            if min_count is not None:
                t = t.filter(pc.greater_equal(t.column("count"), min_count))
            if max_count is not None:
                t = t.filter(pc.less_equal(t.column("count"), max_count))
            t = _persist.canonical(t)
            if top_k is not None:
                t = t.slice(0, top_k)
            return pa.RecordBatchReader.from_batches(
                _persist.KEY_SCHEMA, t.to_batches(max_chunksize=batch_rows)
            )
        stream = self._inner.keys(
            min_count=min_count, max_count=max_count, top_k=top_k, batch_rows=batch_rows
        )
        return pa.RecordBatchReader.from_stream(stream)

    def to_table(self, **filters: Any) -> pa.Table:
        """The n-grams as one pyarrow Table (see ``to_arrow`` for the filters).

        >>> import pyarrow as pa
        >>> c = count_ngrams(pa.table({"text": ["a b a b", "a b"]}), n=2, progress="none")
        >>> c.to_table().to_pylist()
        [{'ngram': 'a b', 'count': 3}, {'ngram': 'b a', 'count': 1}]
        """
        return self.to_arrow(**filters).read_all()

    def to_polars(self, **filters: Any) -> pl.DataFrame:
        """The n-grams as a polars DataFrame (see ``to_arrow`` for the filters).

        >>> import pyarrow as pa
        >>> c = count_ngrams(pa.table({"text": ["a b a b", "a b"]}), n=2, progress="none")
        >>> c.to_polars(top_k=1)["ngram"].to_list()
        ['a b']
        """
        import polars as pl

        frame = pl.from_arrow(self.to_table(**filters))
        assert isinstance(frame, pl.DataFrame)
        return frame

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write the counts as a Parquet dataset partitioned by a text hash of the n-gram.

        ``directory/part-XXX.parquet`` (``ngram``, ``count``; one file per non-empty hash
        partition of 256), ``histogram.parquet``, ``summary.json`` and ``manifest.json``
        (inputs with sizes and mtimes, options, library and format version). The manifest is
        written last, atomically, so a directory with a manifest is complete. Read it back with
        :meth:`Counts.load`; combine saved counts of disjoint inputs with :meth:`Counts.merge`.

        >>> import pyarrow as pa, tempfile
        >>> c = count_ngrams(pa.table({"text": ["a b a b", "a b"]}), n=2, progress="none")
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = c.save(d)
        ...     Counts.load(d).to_table().equals(c.to_table())
        True
        """
        return _persist.save(
            directory, self.to_table(), self.histogram(), self.summary, self.options, self.inputs
        )

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> Counts:
        """Counts saved by :meth:`save`. A missing or corrupt manifest raises InputError.

        The summary and histogram are read at once; the keys when asked for.

        >>> import pyarrow as pa, tempfile
        >>> c = count_ngrams(pa.table({"text": ["a b a b", "a b"]}), n=2, progress="none")
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = c.save(d)
        ...     Counts.load(d).summary["n1"]
        1
        """
        d = Path(directory)
        manifest = _persist.read_manifest(d)
        summary = _persist.read_json(d / "summary.json")
        hist = _persist.read_parquet(d / "histogram.parquet", _persist.HIST_SCHEMA)
        c = cls(None, dict(manifest["options"]), summary=summary)
        c._summary = summary
        c.inputs = list(manifest.get("inputs", []))
        c._hist = hist
        c._dir = d
        c._files = list(manifest["files"])
        c._keys = c._read_all_parts
        return c

    def _read_all_parts(self) -> pa.Table:
        tables = [t for _p, t in self._partitions()]
        return pa.concat_tables(tables) if tables else _persist.KEY_SCHEMA.empty_table()

    def _partitions(self) -> Iterator[tuple[int, pa.Table]]:
        """(hash partition, keys of it) for every non-empty partition."""
        if self._dir is not None:
            for f in self._files:
                path = self._dir / str(f["name"])
                t = _persist.read_parquet(path, _persist.KEY_SCHEMA)
                if t.num_rows != f.get("rows", t.num_rows):
                    raise InputError(f"{path}: {t.num_rows} rows, the manifest says {f['rows']}")
                yield int(f["partition"]), t
        else:
            yield from _persist.split_partitions(self.to_table())

    @staticmethod
    def merge(counts: Sequence[Counts]) -> Counts:
        """Counts of the union of DISJOINT inputs (e.g. shards of a corpus counted apart).

        Equal n-grams are summed key by key, partition by partition, and the histogram is
        recomputed from the merged keys (histograms of shards never add: a singleton in one
        shard may recur in another). Counts made with different options (n, tokenizer,
        lowercase, pad, sample, sample_seed) raise ConfigError.

        >>> import pyarrow as pa
        >>> a = count_ngrams(pa.table({"text": ["a b a b"]}), n=2, progress="none")
        >>> b = count_ngrams(pa.table({"text": ["a b"]}), n=2, progress="none")
        >>> Counts.merge([a, b]).to_table().to_pylist()
        [{'ngram': 'a b', 'count': 3}, {'ngram': 'b a', 'count': 1}]
        """
        counts = list(counts)
        options = _persist.check_mergeable([c.options for c in counts])
        keys = _persist.merge_keys([c._partitions() for c in counts])
        hist = _persist.histogram_of(keys.column("count"))
        summary: dict[str, Any] = {"n": options["n"]}
        for k in (
            "documents",
            "tokens",
            "total_samples",
            "bytes",
            "invalid_bytes",
            "skipped_documents",
            "shards",
            "spills",
            "spill_bytes",
        ):
            summary[k] = sum(int(c._summary.get(k) or 0) for c in counts)
        summary["seconds"] = sum(float(c._summary.get("seconds") or 0.0) for c in counts)
        summary["vocabulary"] = None
        summary["threads"] = None
        summary["sample_rate"] = options["sample"]
        summary["sample_seed"] = options["sample_seed"]
        summary["merged_from"] = len(counts)
        summary.update(_persist.summary_figures(hist))
        c = Counts(None, options, summary=summary)
        c.inputs = [i for x in counts for i in x.inputs]
        c._hist = hist
        c._keys = lambda: keys
        return c

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """Export the n-grams through the Arrow PyCapsule interface.

        >>> import pyarrow as pa
        >>> pa.table(count_ngrams(pa.table({"text": ["a b a b", "a b"]}), n=2, progress="none")).num_rows
        2
        """
        return self.to_arrow().__arrow_c_stream__(requested_schema)

    def __repr__(self) -> str:
        s = self._summary
        return (
            f"<Counts n={s['n']} samples={s['samples']:,} distinct={s['distinct']:,} "
            f"N1={s['n1']:,} singleton_rate={s['singleton_rate']:.6f}>"
        )


def singleton_interval(
    kept_n1: int, rate: float, total: int, confidence: float = 0.99
) -> tuple[float, float]:
    """Confidence interval for N1/N from ``kept_n1`` singletons kept at ``rate`` of ``total``.

    Continuity-corrected score interval for the N of a ``Binomial(N1, rate)`` (see
    :class:`Counts`).

    >>> lo, hi = singleton_interval(100, 0.1, 10_000, 0.95)
    >>> round(lo, 3), round(hi, 3)
    (0.083, 0.121)
    >>> singleton_interval(0, 1.0, 10, 0.95)
    (0.0, 0.0)
    """
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must be in (0, 1), not {confidence!r}")
    if total <= 0:
        return (0.0, 0.0)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    a = z * z * (1.0 - rate)

    def end(x: float, sign: float) -> float:
        x = max(x, 0.0)
        return (2 * x + a + sign * math.sqrt(a * a + 4 * x * a)) / (2 * rate)

    low = end(kept_n1 - 0.5, -1.0) if kept_n1 > 0 else 0.0
    high = end(kept_n1 + 0.5, 1.0) if rate < 1 else float(kept_n1)
    if rate >= 1:
        low = float(kept_n1)
    return (min(max(low / total, 0.0), 1.0), min(max(high / total, 0.0), 1.0))


def sampled_estimates(summary: dict[str, Any], confidence: float = 0.99) -> dict[str, Any]:
    """The estimates a sampled run adds to its summary (see :class:`Counts`)."""
    rate = float(summary["sample_rate"])
    total = int(summary["total_samples"])
    n1 = int(summary["n1"])
    low, high = singleton_interval(n1, rate, total, confidence)
    return {
        "sampled": True,
        "estimated_distinct": summary["distinct"] / rate,
        "estimated_n1": n1 / rate,
        "estimated_samples": summary["samples"] / rate,
        "kept_singleton_rate": summary["singleton_rate"],
        "singleton_rate": (n1 / rate / total) if total else 0.0,
        "singleton_rate_low": low,
        "singleton_rate_high": high,
        "singleton_rate_confidence": confidence,
    }


def count_ngrams(
    corpus: Any,
    n: int = 3,
    tokenizer: str = "words",
    lowercase: bool = False,
    pad: bool = False,
    memory: int | str | None = None,
    threads: int | None = None,
    sample: float | None = None,
    sample_seed: int | None = None,
    spill_dir: str | os.PathLike[str] | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    progress: str | Reporter | None = "auto",
    _spill_every: int | None = None,
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

    When a worker's sorted runs outgrow its share of ``memory``, they are written as sorted runs
    to a fresh ``monofact-spill-*`` directory under ``spill_dir`` (default: the system temp
    dir) and each hash partition is reduced at the end by a k-way merge streaming from disk; the
    results are identical to an in-memory run. The directory lives as long as the returned
    counts (the merged partitions stay there until the keys are exported) and is removed
    afterwards, and on errors and Ctrl-C. ``summary["spills"]``/``["spill_bytes"]`` say how
    much was spilled. A budget below 256 KiB per thread raises :class:`ResourceError`, as does
    a full or unwritable spill directory (the message names it).

    ``checkpoint_dir`` makes the run resumable: every finished shard's sorted runs are written
    there with a completion marker (renamed into place last), and a run started again with the
    same arguments -- after a crash, Ctrl-C or SIGKILL -- skips the finished shards and ends with
    exactly the counts of an uninterrupted run (``summary["resumed_shards"]`` says how many were
    skipped). The shard plan then does not depend on ``threads``. When an input file changed
    (size or mtime) or the options differ, the checkpoint is discarded with a warning
    (``summary["checkpoint_discarded"]``) and everything is counted again. The directory is kept
    after a successful run; delete it when done. Needs input files (not Arrow data).

    ``sample=rate`` keeps only the n-grams whose text hash falls below ``rate * 2**64`` (hash
    sampling, each distinct n-gram kept or not as a whole, its count exact); ``sample_seed``
    re-hashes that hash with a seed so that another seed keeps another subset. See
    :class:`Counts` for the estimates of a sampled run.

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
    if sample_seed is not None and (
        isinstance(sample_seed, bool)
        or not isinstance(sample_seed, int)
        or not 0 <= sample_seed < 2**64
    ):
        raise ConfigError(f"sample_seed must be an integer in [0, 2**64), not {sample_seed!r}")
    if sample_seed is not None and sample is None:
        raise ConfigError("sample_seed needs sample=rate")
    c = as_corpus(corpus, **reader_options)
    paths, table = c.source_args()
    options = {
        "n": n,
        "tokenizer": tokenizer,
        "lowercase": lowercase,
        "pad": pad,
        "sample": sample,
        "sample_seed": sample_seed,
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
        sample_seed=sample_seed,
        spill_dir=None if spill_dir is None else os.fspath(spill_dir),
        spill_every=_spill_every,
        checkpoint_dir=None if checkpoint_dir is None else os.fspath(checkpoint_dir),
        progress=reporter(progress, "count"),
        **c.reader_kwargs(),
    )
    result = Counts(inner, options)
    if result.summary.get("checkpoint_discarded"):
        warnings.warn(
            f"checkpoint in {os.fspath(checkpoint_dir or '')} was made with other arguments or "
            "inputs that changed since (size or mtime); it was discarded and counting started "
            "afresh",
            stacklevel=2,
        )
    result.inputs = _persist.describe_inputs(paths)
    return result
