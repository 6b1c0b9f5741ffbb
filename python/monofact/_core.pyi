"""Type stubs of the compiled core (rust/python). Checked against the binary by mypy.stubtest."""

from collections.abc import Callable
from typing import Any, final

__all__ = [
    "FactCounts",
    "NGramModel",
    "NgramCounts",
    "__version__",
    "count_fact_records",
    "count_facts",
    "count_ngrams",
    "fit_ngram_model",
    "load_arpa",
    "text_partitions",
]
__version__: str

@final
class NgramCounts:
    def summary(self) -> dict[str, Any]: ...
    def histogram(self) -> Any: ...
    def keys(
        self,
        min_count: int | None = None,
        max_count: int | None = None,
        top_k: int | None = None,
        batch_rows: int = 65536,
    ) -> Any: ...

@final
class FactCounts:
    def summary(self) -> dict[str, Any]: ...
    def facts(self) -> Any: ...
    def histogram(self) -> Any: ...
    def relations(self) -> Any: ...
    def prompts(self) -> Any: ...

def count_ngrams(
    paths: list[str] | None = None,
    table: Any = None,
    *,
    n: int = 3,
    pad: bool = False,
    tokenizer: str = "words",
    lowercase: bool = False,
    threads: int = 0,
    memory_bytes: int | None = None,
    sample: float | None = None,
    sample_seed: int | None = None,
    spill_dir: str | None = None,
    spill_every: int | None = None,
    checkpoint_dir: str | None = None,
    format: str | None = None,
    compression: str | None = None,
    doc_per: str = "line",
    text_field: str = "text",
    on_invalid: str = "replace",
    on_bad_record: str = "error",
    max_document_bytes: int = ...,
    shard_bytes: int = 0,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> NgramCounts: ...
def text_partitions(ngrams: Any) -> Any: ...
def count_facts(
    paths: list[str] | None = None,
    table: Any = None,
    *,
    patterns: list[tuple[str, str]] | None = None,
    knowledge_base: Any = None,
    window: str = "sentence",
    count_by: str = "mention",
    lowercase: bool = False,
    normalize_whitespace: bool = False,
    case_insensitive: bool = False,
    threads: int = 0,
    format: str | None = None,
    compression: str | None = None,
    doc_per: str = "line",
    text_field: str = "text",
    on_invalid: str = "replace",
    on_bad_record: str = "error",
    max_document_bytes: int = ...,
    shard_bytes: int = 0,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> FactCounts: ...
def count_fact_records(
    records: Any, *, idk: list[str] = ..., count_by: str = "mention"
) -> FactCounts: ...

@final
class NGramModel:
    @property
    def order(self) -> int: ...
    def ngram_counts(self) -> list[int]: ...
    def discounts(self) -> list[tuple[float, float, float]]: ...
    def vocabulary(self) -> list[str]: ...
    def tokenizer(self) -> str | None: ...
    def save_arpa(self, path: str) -> None: ...
    def score(
        self, sentences: list[str], bos: bool = True, eos: bool = True
    ) -> list[tuple[float, list[float], int]]: ...
    def score_totals(
        self, sentences: list[str], bos: bool = True, eos: bool = True
    ) -> list[float]: ...
    def perplexity(
        self, sentences: list[str], bos: bool = True, eos: bool = True
    ) -> dict[str, Any]: ...
    def generate(
        self,
        prefixes: list[str],
        max_tokens: int = 50,
        greedy: bool = False,
        seed: int = 0,
        bos: bool = True,
    ) -> list[tuple[list[str], bool, float]]: ...
    def choose(
        self, prompts: list[str], choices: list[list[str]], eos: bool = False
    ) -> list[tuple[int, list[float]]]: ...

def load_arpa(path: str) -> NGramModel: ...
def fit_ngram_model(
    paths: list[str] | None = None,
    table: Any = None,
    *,
    order: int = 3,
    tokenizer: str = "whitespace",
    lowercase: bool = False,
    interpolate_unigrams: bool = True,
    discount_fallback: tuple[float, float, float] | None = None,
    prune: list[int] = ...,
    threads: int = 0,
    memory_bytes: int | None = None,
    format: str | None = None,
    compression: str | None = None,
    doc_per: str = "line",
    text_field: str = "text",
    on_invalid: str = "replace",
    on_bad_record: str = "error",
    max_document_bytes: int = ...,
    shard_bytes: int = 0,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> NGramModel: ...
