"""Credentials: usernames (normalized), password strength, argon2id hashing, unknown-name labels.

Re-exported by :mod:`equitrial.services.auth`; kept apart so the login flow stays readable.

Usernames are compared and stored in one normal form: NFKC, trimmed, case-folded (Unicode
identifier comparison, UAX #31 / UTS #39 [1]_), then restricted to a conservative ASCII set, so
lookalikes are either refused (a Cyrillic "а", a zero-width space) or fold to the name they
imitate and collide with it (fullwidth "ａｄｍｉｎ" is "admin").

References
----------
.. [1] Unicode Standard Annex #15 (normalization forms, NFKC) and Unicode Technical Standard
   #39 (security mechanisms: confusable detection); Python ``str.casefold`` (Unicode 3.13
   default case folding).
.. [2] NIST SP 800-63B rev. 3, section 5.1.1.2 (memorized secrets: length, comparison with
   context-specific words such as the username).
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from equitrial.errors import InvalidInputError
from equitrial.store import keys

__all__ = [
    "PASSWORD_MAX_LENGTH",
    "PASSWORD_MIN_LENGTH",
    "USERNAME_PATTERN",
    "check_password",
    "dummy_hash",
    "fold_username",
    "hash_password",
    "normalize_username",
    "unknown_username_label",
    "verify_password",
]

PASSWORD_MIN_LENGTH: Final = 12
PASSWORD_MAX_LENGTH: Final = 1024
"""Longer passwords are refused: argon2 would hash them, but a megabyte "password" is an attack."""
USERNAME_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
"""A normalized username: 2 to 64 of ``a-z 0-9 . _ -``, starting with a letter or digit (so a
name is never read as a command-line option)."""

# argon2id with the library's defaults (RFC 9106 second recommended option as of argon2-cffi 23)
_HASHER = PasswordHasher()
_CLASSES: Final = (
    ("lowercase letters", str.islower),
    ("uppercase letters", str.isupper),
    ("digits", str.isdigit),
)


def fold_username(text: str) -> str:
    """NFKC-normalize, trim and case-fold ``text`` (no validation)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).strip().casefold())


def normalize_username(username: object) -> str:
    """The stored form of a username: NFKC, trimmed, case-folded, from ``[a-z0-9._-]``.

    Parameters
    ----------
    username
        What the user typed.

    Returns
    -------
    str
        The normalized name: ``" Alice "`` -> ``"alice"``; fullwidth ``"ａｌｉｃｅ"`` too.

    Raises
    ------
    InvalidInputError
        (``field="username"``) not a string, or, once normalized, shorter than 2 or longer than
        64 characters, or holding a character outside ``a-z 0-9 . _ -`` (a Cyrillic or Greek
        lookalike, a zero-width or other invisible character, a space), or not starting with a
        letter or digit.
    """
    if not isinstance(username, str):
        raise InvalidInputError("username must be text", field="username", value=username)
    folded = fold_username(username)
    if not USERNAME_PATTERN.fullmatch(folded):
        odd = sorted({f"U+{ord(c):04X}" for c in folded if not re.fullmatch(r"[a-z0-9._-]", c)})
        detail = f" (characters not allowed: {', '.join(odd)})" if odd else ""
        raise InvalidInputError(
            f"username {username!r} is not allowed{detail}: use 2 to 64 of a-z, 0-9, '.', '_' "
            "and '-', starting with a letter or digit (names are case-insensitive)",
            field="username",
            value=username,
            expected="2 to 64 characters from a-z 0-9 . _ -",
        )
    return folded


def _classes(password: str) -> set[str]:
    found = {name for name, test in _CLASSES if any(test(c) for c in password)}
    if any(not (c.islower() or c.isupper() or c.isdigit()) for c in password):
        found.add("other characters")
    return found


def check_password(password: object, username: str) -> str:
    """Refuse a weak password; return it unchanged when it is acceptable.

    Parameters
    ----------
    password
        The proposed password.
    username
        The account's (normalized) username, which the password must not contain.

    Returns
    -------
    str
        ``password``.

    Raises
    ------
    InvalidInputError
        (``field="password"``) not text; shorter than 12 or longer than 1024 characters; made of
        one character class only; equal to or containing the username (case-insensitive).

    Notes
    -----
    The classes are lowercase letters, uppercase letters, digits and other characters (a space
    or punctuation is "other"), by Unicode category, so "correct horse battery" (letters and
    spaces) has two. Length matters more than composition [2]_; the class rule only refuses the
    weakest shapes (a word, a number).
    """
    if not isinstance(password, str):
        raise InvalidInputError("password must be text", field="password")
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        raise InvalidInputError(
            f"password must have {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters "
            f"(it has {len(password)})",
            field="password",
            expected=f"at least {PASSWORD_MIN_LENGTH} characters",
        )
    if len(_classes(password)) < 2:
        raise InvalidInputError(
            "password must mix at least two of: lowercase letters, uppercase letters, digits, "
            "other characters (spaces, punctuation)",
            field="password",
        )
    if username and fold_username(username) in fold_username(password):
        raise InvalidInputError("password must not contain the username", field="password")
    return password


def hash_password(password: str, username: str) -> str:
    """The argon2id hash of ``password`` once :func:`check_password` accepts it."""
    return _HASHER.hash(check_password(password, username))


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (argon2 verification; slow by design)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def dummy_hash() -> str:
    """A hash no password matches, verified for an unknown user (same time as a bad password).

    Made at the first failed look-up, not at import: an argon2 hash costs every command that
    imports the services (most never log anyone in) a fifth of a second.
    """
    return _HASHER.hash(os.urandom(16).hex())


def unknown_username_label(attempted: object) -> str:
    """How a failed login with an unknown name is attributed: ``unknown:<16 hex digits>``.

    The attempted text may be a password typed into the name field (``--as``), so it is never
    stored: the label is the first 16 hex digits of an HMAC-SHA256 of the folded text under the
    installation's key (:meth:`equitrial.store.keys.SigningKey.mac`). Repeated attempts with the
    same text get the same label; the text cannot be recovered without the key.
    """
    text = fold_username(attempted) if isinstance(attempted, str) else repr(attempted)
    digest = keys.load_key().mac(b"equitrial login name\x1f" + text.encode("utf-8"))
    return f"unknown:{digest[:16]}"
