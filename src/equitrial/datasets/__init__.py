"""Analysis datasets (ADaM) derived from the captured data: see :mod:`equitrial.datasets._meta`."""

from equitrial.datasets._meta import Dataset, StudySource, Variable

__all__ = ["Dataset", "StudySource", "Variable"]
