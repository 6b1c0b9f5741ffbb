"""The one exception hierarchy of monofact.

The Rust core raises these same classes (the binding imports them from here), so
``except monofact.InputError`` catches a corrupt gzip member and a malformed JSON line alike.
"""

from __future__ import annotations


class MonofactError(Exception):
    """Base class of every error monofact raises on purpose.

    >>> issubclass(InputError, MonofactError) and issubclass(ConfigError, MonofactError)
    True
    """


class InputError(MonofactError, ValueError):
    """Input that cannot be read: missing, unreadable, corrupt or malformed.

    The message names the file and the position (line, byte offset or record); the attributes
    ``path``, ``line`` and ``offset`` hold them too.

    >>> import monofact as mf
    >>> try:
    ...     mf.count_ngrams("no/such/file.txt", progress="none")
    ... except InputError as e:
    ...     print(e.path)
    no/such/file.txt
    """


class ConfigError(MonofactError, ValueError):
    """Arguments that do not make sense (bad option values, missing columns, bad regex).

    >>> import monofact as mf
    >>> try:
    ...     mf.count_ngrams("corpus.txt", n=0)
    ... except ConfigError as e:
    ...     print(e)
    n must be an integer from 1 to 8, not 0
    """


class ResourceError(MonofactError, RuntimeError):
    """A resource ran out: the memory budget is too small, or the disk is full.

    >>> issubclass(ResourceError, RuntimeError)
    True
    """


__all__ = ["ConfigError", "InputError", "MonofactError", "ResourceError"]
