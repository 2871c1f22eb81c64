"""equitrial: a randomized two-arm biosimilar equivalence trial, end to end."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("equitrial")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
