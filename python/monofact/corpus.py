"""What a corpus is: paths, globs and directories, or Arrow data, with how to read them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Union

from monofact._options import parse_bytes
from monofact.errors import ConfigError

PathLike = Union[str, "os.PathLike[str]"]


def _is_arrow(obj: object) -> bool:
    return hasattr(obj, "__arrow_c_stream__") or hasattr(obj, "to_arrow")


@dataclass(frozen=True)
class Corpus:
    """A corpus and how to read it.

    ``source`` is a path, a glob (``"data/**/*.jsonl.zst"``), a directory (read recursively,
    hidden files and ``_``-prefixed files skipped), a list of these, or Arrow data (anything with
    ``__arrow_c_stream__``: a pyarrow Table, a polars DataFrame, ...).

    Format and compression come from the file extension (``.txt``, ``.jsonl``/``.ndjson``/
    ``.json``, ``.parquet``; ``.gz``, ``.zst``), or set them with ``format=`` and
    ``compression=``. A document is a line of a text file (``doc_per="file"``: a whole file), a
    JSON record's ``text_field`` (dotted paths such as ``"meta.text"`` reach nested fields), or a
    Parquet/Arrow row's ``text_field`` column.

    ``on_invalid``: ``"replace"`` replaces invalid UTF-8 and counts the bytes in the summary,
    ``"error"`` raises. ``on_bad_record``: ``"error"`` raises on a malformed JSON line, a missing
    or non-text field, a null, or a document longer than ``max_document_bytes``; ``"skip"`` skips
    it and counts it as ``skipped_documents``.

    >>> Corpus("corpus/*.txt").paths
    ['corpus/*.txt']
    """

    source: Any
    text_field: str = "text"
    format: str | None = None
    compression: str | None = None
    doc_per: str = "line"
    on_invalid: str = "replace"
    on_bad_record: str = "error"
    max_document_bytes: int | str = 64 << 20
    shard_bytes: int | str | None = None
    paths: list[str] | None = field(init=False, default=None)
    table: Any = field(init=False, default=None)

    def __post_init__(self) -> None:
        src = self.source
        if isinstance(src, Corpus):
            raise ConfigError("Corpus(Corpus(...)): pass the inner corpus itself")
        if isinstance(src, (str, os.PathLike)):
            object.__setattr__(self, "paths", [os.fspath(src)])
        elif isinstance(src, (list, tuple)):
            if not src:
                raise ConfigError(
                    "an empty list of paths: give at least one file, glob or directory"
                )
            bad = [p for p in src if not isinstance(p, (str, os.PathLike))]
            if bad:
                raise ConfigError(
                    f"paths must be strings or path objects, not {type(bad[0]).__name__}"
                )
            object.__setattr__(self, "paths", [os.fspath(p) for p in src])
        elif _is_arrow(src):
            table = src
            if not hasattr(table, "__arrow_c_stream__") and hasattr(table, "to_arrow"):
                table = table.to_arrow()
            object.__setattr__(self, "table", table)
        else:
            raise ConfigError(
                "a corpus is a path, a glob, a directory, a list of those, or Arrow data "
                f"(with __arrow_c_stream__), not {type(src).__name__}"
            )

    def reader_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the core's readers."""
        return {
            "format": self.format,
            "compression": self.compression,
            "doc_per": self.doc_per,
            "text_field": self.text_field,
            "on_invalid": self.on_invalid,
            "on_bad_record": self.on_bad_record,
            "max_document_bytes": parse_bytes(self.max_document_bytes, "max_document_bytes"),
            "shard_bytes": parse_bytes(self.shard_bytes, "shard_bytes") or 0,
        }

    def source_args(self) -> tuple[list[str] | None, Any]:
        return self.paths, self.table


def as_corpus(corpus: Any, **kwargs: Any) -> Corpus:
    """A Corpus from a Corpus, a path, a glob, a list of paths, or Arrow data."""
    if isinstance(corpus, Corpus):
        if kwargs:
            raise ConfigError(
                f"reader options ({', '.join(sorted(kwargs))}) go into Corpus(...) when you pass a Corpus"
            )
        return corpus
    return Corpus(corpus, **kwargs)
