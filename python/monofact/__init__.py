"""monofact: count what a corpus says once."""

from monofact._core import __version__
from monofact.errors import ConfigError, InputError, MonofactError, ResourceError

__all__ = ["__version__", "MonofactError", "InputError", "ConfigError", "ResourceError"]
