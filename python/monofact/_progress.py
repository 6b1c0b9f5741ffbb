"""Progress display for long calls: a bar on a terminal, JSON lines otherwise.

The Rust core counts bytes, documents and tokens in atomics; the binding's wait loop calls the
reporter made here about four times a second. Nothing is shown for calls that end within a
second, so quick calls in scripts and tests stay quiet.
"""

from __future__ import annotations

import html
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


def _figures(s: dict[str, Any]) -> tuple[float, str]:
    """(fraction done, "12.3MB/45.6MB 1.2k docs/s 3.4M tok/s ETA 5s phase")."""
    done, total, secs = s["bytes_done"], s["bytes_total"], max(s["seconds"], 1e-9)
    frac = min(done / total, 1.0) if total else 0.0
    rate = done / secs
    eta = (total - done) / rate if rate > 0 and total > done else 0.0
    text = (
        f"{_human(done, 'B')}/{_human(total, 'B')} {_human(s['documents'] / secs)} docs/s "
        f"{_human(s['tokens'] / secs)} tok/s ETA {eta:4.0f}s {s['phase']}"
    )
    return frac, text


class _Bar:
    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.shown = False

    def __call__(self, s: dict[str, Any]) -> None:
        if s["seconds"] < _QUIET_SECONDS and not self.shown:
            return
        self.shown = True
        frac, text = _figures(s)
        width = 24
        filled = int(frac * width)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {frac * 100:5.1f}% {text}")
        if s.get("done"):
            self.stream.write("\n")
        self.stream.flush()


class _NotebookBar:
    """An HTML <progress> bar updated in place in a Jupyter notebook."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.handle: Any = None

    def __call__(self, s: dict[str, Any]) -> None:
        if s["seconds"] < _QUIET_SECONDS and self.handle is None:
            return
        from IPython.display import HTML, display

        frac, text = _figures(s)
        page = (
            f'<div style="font-family: monospace">{html.escape(self.label)} '
            f'<progress value="{frac * 100:.1f}" max="100" style="width: 30%"></progress> '
            f"{frac * 100:5.1f}% {html.escape(text)}</div>"
        )
        if self.handle is None:
            self.handle = display(HTML(page), display_id=True)
        else:
            self.handle.update(HTML(page))


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
    if progress in ("auto", "bar") and _in_notebook():
        return _NotebookBar(label)
    if progress == "auto":
        progress = "bar" if stream.isatty() else "json"
    if progress == "bar":
        return _Bar(stream, label)
    return _JsonLines(stream, label)
