"""The one exception hierarchy of monofact.

The Rust core raises these same classes (the binding imports them from here), so
``except monofact.InputError`` catches a corrupt gzip member and a malformed JSON line alike.
"""

from __future__ import annotations


class MonofactError(Exception):
    """Base class of every error monofact raises on purpose."""


class InputError(MonofactError, ValueError):
    """Input that cannot be read: missing, unreadable, corrupt or malformed.

    The message names the file and the position (line, byte offset or record).
    """


class ConfigError(MonofactError, ValueError):
    """Arguments that do not make sense (bad option values, missing columns, bad regex)."""


class ResourceError(MonofactError, RuntimeError):
    """A resource ran out: the memory budget is too small, or the disk is full."""


__all__ = ["ConfigError", "InputError", "MonofactError", "ResourceError"]
