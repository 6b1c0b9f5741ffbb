"""Progress display for long calls: a bar on a terminal, JSON lines otherwise.

The Rust core counts bytes, documents and tokens in atomics; the binding's wait loop calls the
reporter made here about four times a second. Nothing is shown for calls that end within a
second, so quick calls in scripts and tests stay quiet.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from monofact.errors import ConfigError

Reporter = Callable[[dict[str, Any]], None]

_MODES = ("auto", "bar", "json", "none")
_QUIET_SECONDS = 1.0


def _human(n: float, unit: str = "") -> str:
    for suffix in ("", "k", "M", "G", "T"):
        if abs(n) < 1000:
            return f"{n:.0f}{suffix}{unit}" if suffix == "" else f"{n:.1f}{suffix}{unit}"
        n /= 1000
    return f"{n:.1f}P{unit}"


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    get_ipython = getattr(shell, "get_ipython", None)
    ip = get_ipython() if callable(get_ipython) else None
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


class _Bar:
    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.shown = False

    def __call__(self, s: dict[str, Any]) -> None:
        if s["seconds"] < _QUIET_SECONDS and not self.shown:
            return
        self.shown = True
        done, total, secs = s["bytes_done"], s["bytes_total"], max(s["seconds"], 1e-9)
        frac = min(done / total, 1.0) if total else 0.0
        width = 24
        filled = int(frac * width)
        bar = "#" * filled + "-" * (width - filled)
        rate = done / secs
        eta = (total - done) / rate if rate > 0 and total > done else 0.0
        line = (
            f"\r{self.label} [{bar}] {frac * 100:5.1f}% {_human(done, 'B')}/{_human(total, 'B')} "
            f"{_human(s['documents'] / secs)} docs/s {_human(s['tokens'] / secs)} tok/s "
            f"ETA {eta:4.0f}s {s['phase']}"
        )
        self.stream.write(line)
        if s.get("done"):
            self.stream.write("\n")
        self.stream.flush()


class _JsonLines:
    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.shown = False

    def __call__(self, s: dict[str, Any]) -> None:
        if s["seconds"] < _QUIET_SECONDS and not self.shown:
            return
        self.shown = True
        self.stream.write(json.dumps({"task": self.label, **s}) + "\n")
        self.stream.flush()


def reporter(progress: str | Reporter | None, label: str = "monofact") -> Reporter | None:
    """The callback for ``progress="auto"|"bar"|"json"|"none"`` (or a callable of your own,
    called with a dict of ``phase, bytes_done, bytes_total, documents, tokens, seconds``)."""
    if progress is None or progress == "none":
        return None
    if callable(progress):
        return progress
    if progress not in _MODES:
        raise ConfigError(
            f"progress must be one of {', '.join(_MODES)} or a callable, not {progress!r}"
        )
    stream = sys.stderr
    if progress == "auto":
        progress = "bar" if (stream.isatty() or _in_notebook()) else "json"
    if progress == "bar":
        return _Bar(stream, label)
    return _JsonLines(stream, label)
