"""Fact counts: find every mention of a fact in a corpus and count them.

Three ways to say what a fact is, each yielding (subject, relation, object) samples:

- ``patterns``: regular expressions with named groups ``subject`` and ``object``, one relation
  name per pattern, all matched in one pass (``re.finditer`` semantics per pattern);
- ``knowledge_base``: a table of ``subject, relation, object`` rows (optional ``subject_aliases``
  and ``object_aliases`` list columns); a mention is the subject and the object found in one
  ``window`` (``"sentence"``, ``"line"``, ``"paragraph"``, ``"document"`` or ``"tokens:K"``),
  matched with word boundaries; KB facts never mentioned are listed with count 0;
- ``records``: facts already extracted, just counted (an object of ``None``, ``""``, ``"IDK"``
  or ``"I don't know"`` is an abstention).

The singleton rate is MATH.md section 2's: the prompt is (subject, relation), a prompt is a
singleton when exactly one of its samples has a non-IDK answer, and N counts all samples.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from monofact import _core
from monofact._options import parse_threads
from monofact._progress import Reporter, reporter
from monofact.corpus import as_corpus
from monofact.errors import ConfigError, InputError

if TYPE_CHECKING:
    import polars as pl

IDK_MARKERS = ("", "IDK", "idk", "I don't know", "I do not know")
_WINDOWS = ("sentence", "line", "paragraph", "document")


def _read_table(source: Any, what: str) -> pa.Table:
    """A pyarrow Table from a path (Parquet, CSV, JSONL), Arrow data or a list of dicts."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.exists(path):
            raise ConfigError(f"{what} {path!r} does not exist")
        lower = path.lower()
        try:
            if lower.endswith((".parquet", ".pq")):
                import pyarrow.parquet as pq

                return pq.read_table(path)
            if lower.endswith(".csv"):
                import pyarrow.csv as pcsv

                return pcsv.read_csv(path)
            if lower.endswith((".jsonl", ".ndjson", ".json")):
                import pyarrow.json as pjson

                return pjson.read_json(path)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as e:
            raise InputError(f"{path}: cannot read the {what} table: {e}") from e
        raise ConfigError(f"{what} {path!r}: use a .parquet, .csv or .jsonl file")
    if isinstance(source, list):
        return pa.Table.from_pylist(source)
    if hasattr(source, "__arrow_c_stream__"):
        return pa.table(source)
    if hasattr(source, "to_arrow"):
        return pa.table(source.to_arrow())
    raise ConfigError(
        f"{what} must be a path, Arrow data or a list of dicts, not {type(source).__name__}"
    )


class FactCounts:
    """Counted facts: the fact table, prompts, count-of-counts and singleton rates."""

    def __init__(self, inner: _core.FactCounts, options: Mapping[str, Any]) -> None:
        self._inner = inner
        self.options = dict(options)
        self._summary: dict[str, Any] = dict(inner.summary())

    @property
    def summary(self) -> dict[str, Any]:
        """Figures of the run: samples N (IDK included), distinct facts, n1, the prompt-level
        ``singleton_rate`` and the fact-level ``fact_singleton_rate``, documents, seconds, ...

        >>> import pyarrow as pa
        >>> text = pa.table({"text": ["Abel the son of Adam.", "Seth the son of Adam", "Abel the son of Adam"]})
        >>> f = count_facts(text, patterns={"father": r"(?P<subject>[A-Z]\\w+) the son of (?P<object>[A-Z]\\w+)"}, progress="none")
        >>> f.summary["samples"], f.summary["distinct"]
        (3, 2)
        """
        return dict(self._summary)

    @property
    def singleton_rate(self) -> float:
        """MATH.md section 2: singleton prompts / all samples.

        >>> import pyarrow as pa
        >>> text = pa.table({"text": ["Abel the son of Adam.", "Seth the son of Adam", "Abel the son of Adam"]})
        >>> f = count_facts(text, patterns={"father": r"(?P<subject>[A-Z]\\w+) the son of (?P<object>[A-Z]\\w+)"}, progress="none")
        >>> f.singleton_rate
        0.3333333333333333
        """
        return float(self._summary["singleton_rate"])

    @property
    def samples(self) -> int:
        """N: all samples, IDK included.

        >>> import pyarrow as pa
        >>> text = pa.table({"text": ["Abel the son of Adam.", "Seth the son of Adam", "Abel the son of Adam"]})
        >>> f = count_facts(text, patterns={"father": r"(?P<subject>[A-Z]\\w+) the son of (?P<object>[A-Z]\\w+)"}, progress="none")
        >>> f.samples
        3
        """
        return int(self._summary["samples"])

    def table(self) -> pa.Table:
        """subject, relation, object, mentions, documents, first_document (0-based corpus
        position), most frequent first.

        >>> import pyarrow as pa
        >>> text = pa.table({"text": ["Abel the son of Adam.", "Seth the son of Adam", "Abel the son of Adam"]})
        >>> f = count_facts(text, patterns={"father": r"(?P<subject>[A-Z]\\w+) the son of (?P<object>[A-Z]\\w+)"}, progress="none")
        >>> f.table().column("mentions").to_pylist()
        [2, 1]
        """
        return pa.table(self._inner.facts())

    def histogram(self, by: str | None = None) -> pa.Table:
        """Count-of-counts of facts (``r``, ``n_r``); ``by="relation"`` adds a ``relation``
        column with one histogram per relation.

        >>> import pyarrow as pa
        >>> text = pa.table({"text": ["Abel the son of Adam.", "Seth the son of Adam", "Abel the son of Adam"]})
        >>> f = count_facts(text, patterns={"father": r"(?P<subject>[A-Z]\\w+) the son of (?P<object>[A-Z]\\w+)"}, progress="none")
        >>> f.histogram().to_pylist()
        [{'r': 1, 'n_r': 1}, {'r': 2, 'n_r': 1}]
        """
        if by is None:
            return pa.table(self._inner.histogram())
        if by != "relation":
            raise ConfigError(f"histogram(by=...) takes 'relation' or None, not {by!r}")
        facts = self.table()
        column = "documents" if self._summary["count_by"] == "document" else "mentions"
        facts = facts.filter(pc.greater(facts[column], 0))
        grouped = facts.group_by(["relation", column]).aggregate([([], "count_all")])
        out = pa.table(
            {
                "relation": grouped["relation"],
                "r": grouped[column].cast(pa.uint64()),
                "n_r": grouped["count_all"].cast(pa.uint64()),
            }
        )
        return out.sort_by([("relation", "ascending"), ("r", "ascending")])

    def prompts(self) -> pa.Table:
        """Per prompt (subject, relation): mentions, answers, idk, distinct_objects, singleton.

        >>> import pyarrow as pa
        >>> text = pa.table({"text": ["Abel the son of Adam.", "Seth the son of Adam", "Abel the son of Adam"]})
        >>> f = count_facts(text, patterns={"father": r"(?P<subject>[A-Z]\\w+) the son of (?P<object>[A-Z]\\w+)"}, progress="none")
        >>> f.prompts().column("subject").to_pylist()
        ['Abel', 'Seth']
        """
        return pa.table(self._inner.prompts())

    def singleton_rates(self, by: str = "relation") -> pa.Table:
        """Per relation: group, samples, singletons, singleton_rate.

        >>> import pyarrow as pa
        >>> text = pa.table({"text": ["Abel the son of Adam.", "Seth the son of Adam", "Abel the son of Adam"]})
        >>> f = count_facts(text, patterns={"father": r"(?P<subject>[A-Z]\\w+) the son of (?P<object>[A-Z]\\w+)"}, progress="none")
        >>> f.singleton_rates().column("singletons").to_pylist()
        [1]
        """
        if by != "relation":
            raise ConfigError(f"singleton_rates(by=...) takes 'relation', not {by!r}")
        return pa.table(self._inner.relations())

    def to_polars(self) -> pl.DataFrame:
        """The fact table as a polars DataFrame.

        >>> import pyarrow as pa
        >>> text = pa.table({"text": ["Abel the son of Adam.", "Seth the son of Adam", "Abel the son of Adam"]})
        >>> f = count_facts(text, patterns={"father": r"(?P<subject>[A-Z]\\w+) the son of (?P<object>[A-Z]\\w+)"}, progress="none")
        >>> f.to_polars().shape
        (2, 6)
        """
        import polars as pl

        frame = pl.from_arrow(self.table())
        assert isinstance(frame, pl.DataFrame)
        return frame

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """Export the fact table through the Arrow PyCapsule interface.

        >>> import pyarrow as pa
        >>> text = pa.table({"text": ["Abel the son of Adam.", "Seth the son of Adam", "Abel the son of Adam"]})
        >>> f = count_facts(text, patterns={"father": r"(?P<subject>[A-Z]\\w+) the son of (?P<object>[A-Z]\\w+)"}, progress="none")
        >>> pa.table(f).num_rows
        2
        """
        return self.table().__arrow_c_stream__(requested_schema)

    def __repr__(self) -> str:
        s = self._summary
        return (
            f"<FactCounts samples={s['samples']:,} facts={s['distinct']:,} n1={s['n1']:,} "
            f"prompts={s['prompts']:,} singleton_rate={s['singleton_rate']:.6f}>"
        )


def count_facts(
    corpus: Any = None,
    patterns: Mapping[str, str] | None = None,
    knowledge_base: Any = None,
    records: Any = None,
    window: str = "sentence",
    count_by: str = "mention",
    lowercase: bool = False,
    normalize_whitespace: bool = False,
    case_insensitive: bool = False,
    idk: tuple[str, ...] = IDK_MARKERS,
    threads: int | None = None,
    progress: str | Reporter | None = "auto",
    **reader_options: Any,
) -> FactCounts:
    """Count the facts a corpus states (see the module docstring for the three ways).

    ``count_by="document"`` counts a fact once per document that states it. ``lowercase`` and
    ``normalize_whitespace`` normalize template captures; ``case_insensitive`` matches knowledge
    base names regardless of case. Configuration errors (a pattern without ``subject``/``object``
    groups, an invalid regex, a knowledge base missing columns or with empty names) raise
    :class:`ConfigError` before any scanning.

    >>> import pyarrow as pa
    >>> text = pa.table({"text": ["Abel the son of Adam.", "Seth the son of Adam", "Abel the son of Adam"]})
    >>> f = count_facts(text, patterns={"father": r"(?P<subject>[A-Z]\\w+) the son of (?P<object>[A-Z]\\w+)"},
    ...                 progress="none")
    >>> f.summary["samples"], f.summary["distinct"], f.summary["n1"], f.singleton_rate
    (3, 2, 1, 0.3333333333333333)
    """
    chosen = [x is not None for x in (patterns, knowledge_base, records)]
    if sum(chosen) != 1:
        raise ConfigError("give exactly one of patterns=, knowledge_base= or records=")
    if count_by not in ("mention", "document"):
        raise ConfigError(f"count_by must be 'mention' or 'document', not {count_by!r}")
    options = {"count_by": count_by, "window": window}
    if records is not None:
        if corpus is not None:
            raise ConfigError("records= are counted as they are; do not pass a corpus with them")
        table = _read_table(records, "records")
        inner = _core.count_fact_records(table, idk=list(idk), count_by=count_by)
        return FactCounts(inner, options)
    if corpus is None:
        raise ConfigError("count_facts needs a corpus to scan for patterns or knowledge-base facts")
    if patterns is not None:
        if not isinstance(patterns, Mapping) or not patterns:
            raise ConfigError("patterns must be a non-empty dict of {relation: regex}")
        pattern_list = [(str(k), str(v)) for k, v in patterns.items()]
        kb_table = None
    else:
        pattern_list = None
        kb_table = _read_table(knowledge_base, "knowledge_base")
        if not isinstance(window, str):
            raise ConfigError(
                f"window must be one of {', '.join(_WINDOWS)} or 'tokens:K', not {window!r}"
            )
    c = as_corpus(corpus, **reader_options)
    paths, table = c.source_args()
    inner = _core.count_facts(
        paths,
        table,
        patterns=pattern_list,
        knowledge_base=kb_table,
        window=window,
        count_by=count_by,
        lowercase=lowercase,
        normalize_whitespace=normalize_whitespace,
        case_insensitive=case_insensitive,
        threads=parse_threads(threads),
        progress=reporter(progress, "facts"),
        **c.reader_kwargs(),
    )
    return FactCounts(inner, options)
