"""``[enrolment]``: how screening numbers are written, and their normalization at enrolment."""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Final, NoReturn

from pydantic import Field

from equitrial.errors import InvalidInputError
from equitrial.protocol._base import Model

__all__ = ["MAX_SCREENING_DIGITS", "MAX_SCREENING_LENGTH", "Enrolment"]

MAX_SCREENING_DIGITS: Final = 18
"""At most this many significant digits in a screening number (it then fits a 64-bit integer)."""

MAX_SCREENING_LENGTH: Final = 40
"""At most this many characters in a screening number, prefix included (before normalization)."""

_FORM: Final = re.compile(r"(?:([A-Z][A-Z0-9]{0,15})-)?([0-9]+)")
_NEGATIVE: Final = re.compile(r"[-\u2212][0-9]+")
_EXPECTED: Final = "digits, optionally after a prefix of letters and digits and '-' (12, SCR-012)"


class Enrolment(Model):
    """``[enrolment]`` (optional): the form of the sites' screening numbers.

    A screening number is ``DIGITS`` or ``PREFIX-DIGITS`` (the prefix a letter followed by up to
    15 letters or digits, e.g. ``SCR-012``). At enrolment it is normalized before it is stored
    or compared (:meth:`screening_number`): Unicode NFKC (fullwidth ``１２`` is ``12``), spaces
    around it removed, the prefix in upper case, and the digits written with
    ``screening_number_digits`` digits (zeros added on the left; a number that needs more digits
    is refused). Without ``screening_number_digits`` leading zeros are dropped. Either way
    ``007`` and ``7`` are the same screening number.

    Attributes
    ----------
    screening_number_digits
        Width of the number part, 1 to 18 (default: none, leading zeros dropped).
    """

    screening_number_digits: int | None = Field(default=None, ge=1, le=MAX_SCREENING_DIGITS)

    def screening_number(self, raw: Any) -> str:
        """The canonical form of a screening number as typed at a site.

        Parameters
        ----------
        raw
            The screening number as entered.

        Returns
        -------
        str
            ``"12"``, ``"SCR-012"`` (with ``screening_number_digits = 3``), ...

        Raises
        ------
        InvalidInputError
            ``field="screening_number"``: not text, empty, negative, longer than
            :data:`MAX_SCREENING_LENGTH` characters, more digits than allowed, or not of the
            form ``[PREFIX-]DIGITS``.
        """
        if not isinstance(raw, str):
            _refuse(raw, f"must be text, got {type(raw).__name__}")
        if len(raw) > MAX_SCREENING_LENGTH:
            _refuse(raw[:50] + "...", f"is longer than {MAX_SCREENING_LENGTH} characters")
        text = unicodedata.normalize("NFKC", raw).strip().upper()
        if not text:
            _refuse(raw, "is empty")
        if _NEGATIVE.fullmatch(text):
            _refuse(raw, "is negative; expected a whole number >= 0")
        match = _FORM.fullmatch(text)
        if match is None:
            _refuse(raw, f"is malformed; expected {_EXPECTED}")
        prefix, digits = match.group(1), match.group(2).lstrip("0") or "0"
        width = self.screening_number_digits
        limit = width or MAX_SCREENING_DIGITS
        if len(digits) > limit:
            _refuse(raw, f"has {len(digits)} digits; expected at most {limit}")
        number = digits.zfill(width or 1)
        return number if prefix is None else f"{prefix}-{number}"


def _refuse(value: Any, problem: str) -> NoReturn:
    raise InvalidInputError(
        f"screening number {value!r} {problem}",
        field="screening_number",
        value=value,
        expected=_EXPECTED,
    )
