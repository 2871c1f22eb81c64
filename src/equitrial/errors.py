"""The one exception tree of equitrial.

Every error the project raises on purpose is an :class:`EquitrialError`. Each class also
subclasses the built-in exception that fits, so callers that only know Python's built-ins
(``except ValueError``) still catch them. Errors carry structured fields (``code``, ``field``,
``value``, ``expected``) as well as a message, so the web layer and the CLI can render them
without parsing text.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigurationError",
    "ConflictError",
    "ConvergenceError",
    "ConvergenceWarning",
    "EquitrialError",
    "EquitrialWarning",
    "InvalidInputError",
    "NotFoundError",
    "PermissionDeniedError",
    "UnknownOptionError",
]


class EquitrialError(Exception):
    """Base class of every error equitrial raises on purpose.

    Parameters
    ----------
    message
        What went wrong and where, in words a user can act on.
    field
        The name of the argument, key or form field at fault, when there is one.
    value
        The offending value, when there is one.
    expected
        What would have been accepted.
    """

    code: str = "equitrial_error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: Any = None,
        expected: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value
        self.expected = expected

    def to_dict(self) -> dict[str, Any]:
        """Structured form for APIs and JSON output."""
        return {
            "code": self.code,
            "message": self.message,
            "field": self.field,
            "value": None if self.value is None else repr(self.value),
            "expected": self.expected,
        }


class InvalidInputError(EquitrialError, ValueError):
    """An argument, a file entry or a form value is not acceptable."""

    code = "invalid_input"


class UnknownOptionError(InvalidInputError):
    """An enumerated option (a ``method=`` or ``scale=`` string, say) is not one of those known."""

    code = "unknown_option"


class ConvergenceError(EquitrialError, ArithmeticError):
    """An iterative numerical method did not converge."""

    code = "convergence"


class NotFoundError(EquitrialError, LookupError):
    """A requested record, term or resource does not exist."""

    code = "not_found"


class PermissionDeniedError(EquitrialError, PermissionError):
    """The acting user's role or site scope does not allow the action."""

    code = "permission_denied"


class ConflictError(EquitrialError, RuntimeError):
    """The action conflicts with the current state (a locked record, a duplicate, ...)."""

    code = "conflict"


class ConfigurationError(EquitrialError, RuntimeError):
    """The installation is not set up for the action (a missing or unreadable signing key, say)."""

    code = "configuration"


class EquitrialWarning(UserWarning):
    """Base class of every warning equitrial issues."""


class ConvergenceWarning(EquitrialWarning):
    """An iterative method stopped early but its result is still returned."""
