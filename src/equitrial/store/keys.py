"""The audit signing key: an Ed25519 key that lives OUTSIDE the database.

Someone with write access to the database can rewrite the audit trail and recompute every hash;
they cannot sign. The head of the chain is signed with this key at the end of every use case
(:mod:`equitrial.store.anchor`), backups are signed with it (:mod:`equitrial.store.backup`), and
values that must be checkable but not readable by blinded users (an allocation's arm, a password
hash) are written to the trail as HMAC-SHA256 commitments under a key derived from it
(:func:`commit`).

The key is a PKCS#8 PEM file (``EQUITRIAL_AUDIT_KEY_FILE``, see :mod:`equitrial.settings`),
created by ``equitrial db upgrade`` with mode 0600 in a directory of mode 0700. A file that
group or others may read is refused.

References
----------
.. [1] Bernstein et al., "High-speed high-security signatures", J. Cryptogr. Eng. 2 (2012);
   RFC 8032 (EdDSA). RFC 5869 (HKDF), RFC 2104 (HMAC).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from equitrial.errors import ConfigurationError, InvalidInputError
from equitrial.settings import get_settings

__all__ = [
    "SEAL_PREFIX",
    "SigningKey",
    "commit",
    "create_key",
    "load_key",
    "seal",
    "unseal",
    "verify_signature",
]

_HKDF_INFO = b"equitrial audit commitments v1"
_SEAL_INFO = b"equitrial sealed values v1 (AES-SIV-512)"
SEAL_PREFIX = "aes-siv:"


@dataclass(frozen=True)
class SigningKey:
    """A loaded signing key.

    Attributes
    ----------
    path
        Where it was read from.
    key_id
        First 16 hex digits of the SHA-256 of the raw public key (names the key in anchors).
    """

    path: Path
    key_id: str
    _private: Ed25519PrivateKey
    _mac_key: bytes

    def sign(self, message: bytes) -> str:
        """The Ed25519 signature of ``message``, base64."""
        return base64.b64encode(self._private.sign(message)).decode("ascii")

    def public_key(self) -> Ed25519PublicKey:
        """The public half (checks signatures)."""
        return self._private.public_key()

    def mac(self, message: bytes) -> str:
        """HMAC-SHA256 of ``message`` under the derived commitment key, hex."""
        return hmac.new(self._mac_key, message, hashlib.sha256).hexdigest()


_CACHE: dict[tuple[str, int], SigningKey] = {}


def _key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def create_key(path: Path | None = None) -> Path:
    """Create the signing key file if it does not exist (mode 0600); return its path.

    An existing key is never replaced (its signatures would no longer verify).
    """
    target = path or get_settings().key_file
    if target.exists():
        load_key(target)  # refuses a file that is not a key or is readable by others
        return target
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(pem)
    return target


def load_key(path: Path | None = None) -> SigningKey:
    """The signing key of this installation.

    Raises
    ------
    ConfigurationError
        The file is missing (run ``equitrial db upgrade``), readable by group or others, or not
        an Ed25519 private key.
    """
    target = path or get_settings().key_file
    try:
        info = target.stat()
    except OSError:
        raise ConfigurationError(
            f"audit signing key {target} not found; run `equitrial db upgrade` to create it "
            "(or set EQUITRIAL_AUDIT_KEY_FILE)",
            field="audit_key_file",
            value=str(target),
        ) from None
    cached = _CACHE.get((str(target), info.st_mtime_ns))
    if cached is not None:
        return cached
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"audit signing key {target} has mode {stat.S_IMODE(info.st_mode):04o}; "
            "only its owner may read it (chmod 600)",
            field="audit_key_file",
            value=str(target),
        )
    try:
        private = serialization.load_pem_private_key(target.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as error:
        raise ConfigurationError(
            f"audit signing key {target} cannot be read: {error}", field="audit_key_file"
        ) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise ConfigurationError(
            f"audit signing key {target} is not an Ed25519 key", field="audit_key_file"
        )
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    mac_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(raw)
    key = SigningKey(target, _key_id(private.public_key()), private, mac_key)
    _CACHE[(str(target), info.st_mtime_ns)] = key
    return key


def verify_signature(public: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) is a valid Ed25519 signature of ``message``."""
    try:
        public.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def commit(key: SigningKey, table: str, record_id: object, column: str, value: str | None) -> str:
    """The audit-trail text of a concealed value: ``hmac:<HMAC of table, record, column, value>``.

    Whoever holds the key can check a stored value against it; a reader of the trail learns
    nothing (not even that two slots hold the same arm: the record id is part of the message).
    """
    message = "\x1f".join((table, str(record_id), column, "\x00" if value is None else value))
    return "hmac:" + key.mac(message.encode("utf-8"))


_SEAL_CIPHERS: dict[tuple[str, str], AESSIV] = {}


def _seal_cipher(key: SigningKey) -> AESSIV:
    cached = _SEAL_CIPHERS.get((str(key.path), key.key_id))
    if cached is None:
        raw = key._private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        derived = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_SEAL_INFO)
        cached = AESSIV(derived.derive(raw))
        _SEAL_CIPHERS[(str(key.path), key.key_id)] = cached
    return cached


def seal(key: SigningKey, value: str, context: str) -> str:
    """Encrypt and authenticate ``value`` for storage outside the database (a backup, say).

    Parameters
    ----------
    key
        The installation's key; the encryption key is derived from it with HKDF-SHA256 and an
        ``info`` of its own (distinct from the commitment key of :func:`commit`).
    value
        The clear text (an allocation arm, say).
    context
        Where the value belongs (``"table\x1frecord id\x1fcolumn"``): authenticated as
        associated data, so a sealed value moved to another record does not open.

    Returns
    -------
    str
        ``aes-siv:<base64>``. AES-SIV [2]_ is deterministic: the same value in the same context
        always seals to the same text (a backup can be re-checked against a restored
        database), while two records holding the same value seal differently (the context
        differs) and nothing about the value is readable without the key.

    References
    ----------
    .. [2] D. Harkins, "Synthetic Initialization Vector (SIV) Authenticated Encryption Using
       the Advanced Encryption Standard (AES)", RFC 5297 (2008).
    """
    sealed = _seal_cipher(key).encrypt(value.encode("utf-8"), [context.encode("utf-8")])
    return SEAL_PREFIX + base64.b64encode(sealed).decode("ascii")


def unseal(key: SigningKey, token: str, context: str) -> str:
    """The clear text of a value sealed by :func:`seal` in the same ``context``.

    Raises
    ------
    InvalidInputError
        ``token`` is not a sealed value, was altered, belongs to another context, or was sealed
        with another key.
    """
    if not isinstance(token, str) or not token.startswith(SEAL_PREFIX):
        raise InvalidInputError("not a sealed value", field="sealed", expected=SEAL_PREFIX + "...")
    try:
        sealed = base64.b64decode(token[len(SEAL_PREFIX) :], validate=True)
        clear = _seal_cipher(key).decrypt(sealed, [context.encode("utf-8")])
        return clear.decode("utf-8")
    except (InvalidTag, ValueError):
        raise InvalidInputError(
            "a sealed value does not open with this installation's key (altered, moved to "
            "another record, or sealed with another key)",
            field="sealed",
        ) from None
