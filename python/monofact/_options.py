"""Parsing of the option values shared by every entry point (one place, one set of messages)."""

from __future__ import annotations

import re

from monofact.errors import ConfigError

_UNITS = {
    "": 1,
    "B": 1,
    "K": 1 << 10,
    "KB": 1 << 10,
    "KIB": 1 << 10,
    "M": 1 << 20,
    "MB": 1 << 20,
    "MIB": 1 << 20,
    "G": 1 << 30,
    "GB": 1 << 30,
    "GIB": 1 << 30,
    "T": 1 << 40,
    "TB": 1 << 40,
    "TIB": 1 << 40,
}


def parse_bytes(value: int | str | None, name: str = "memory") -> int | None:
    """Parse a size such as ``"4GB"``, ``"256MB"``, ``"1.5G"`` or an int of bytes.

    Units are binary (1 GB = 2**30 bytes), as memory is.

    >>> parse_bytes("256MB")
    268435456
    >>> parse_bytes(1024)
    1024
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be a size such as '4GB', not {value!r}")
    if isinstance(value, int):
        if value <= 0:
            raise ConfigError(f"{name} must be positive, not {value}")
        return value
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", str(value))
    if not m or m.group(2).upper() not in _UNITS:
        raise ConfigError(f"{name} must be a size such as '4GB' or '512MB', not {value!r}")
    size = int(float(m.group(1)) * _UNITS[m.group(2).upper()])
    if size <= 0:
        raise ConfigError(f"{name} must be positive, not {value!r}")
    return size


def parse_threads(threads: int | None) -> int:
    """``None`` or 0 means all cores."""
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ConfigError(f"threads must be a positive integer or None, not {threads!r}")
    return threads
