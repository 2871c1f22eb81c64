"""The exception tree: one root, each class also the built-in that fits."""

import pytest

from equitrial import errors


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (errors.InvalidInputError, ValueError),
        (errors.UnknownOptionError, ValueError),
        (errors.ConvergenceError, ArithmeticError),
        (errors.NotFoundError, LookupError),
        (errors.PermissionDeniedError, PermissionError),
        (errors.ConflictError, RuntimeError),
    ],
)
def test_each_error_is_also_the_fitting_builtin(cls: type, builtin: type) -> None:
    assert issubclass(cls, errors.EquitrialError)
    assert issubclass(cls, builtin)


def test_error_carries_structured_fields() -> None:
    err = errors.InvalidInputError("x must not exceed n", field="x", value=7, expected="x <= 5")
    d = err.to_dict()
    assert d == {
        "code": "invalid_input",
        "message": "x must not exceed n",
        "field": "x",
        "value": "7",
        "expected": "x <= 5",
    }
    assert str(err) == "x must not exceed n"
