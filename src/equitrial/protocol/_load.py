"""Reading a protocol from a file, a TOML text or a dict."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from equitrial.errors import InvalidInputError, NotFoundError
from equitrial.protocol._errors import MISSING, ProtocolError, ProtocolIssue
from equitrial.protocol._limits import MAX_PROTOCOL_BYTES
from equitrial.protocol._protocol import Protocol

__all__ = ["load_protocol", "parse_protocol", "protocol_from_dict"]


def load_protocol(path: str | os.PathLike[str]) -> Protocol:
    """Read and validate a protocol file (TOML, UTF-8).

    Parameters
    ----------
    path
        The file, e.g. ``examples/melanoma-pembrolizumab/protocol.toml``.

    Returns
    -------
    Protocol
        The validated, frozen protocol.

    Raises
    ------
    NotFoundError
        The file does not exist.
    InvalidInputError
        The path is a directory, cannot be read, or is larger than 1 MiB
        (:data:`~equitrial.protocol._limits.MAX_PROTOCOL_BYTES`).
    ProtocolError
        (an :class:`~equitrial.errors.InvalidInputError`) the file is not UTF-8, not TOML, or
        not a valid protocol; the message names the file and each key path, value and
        expectation.
    """
    file = Path(path)
    try:
        with file.open("rb") as handle:  # read at most the limit: a device or a FIFO never ends
            raw = handle.read(MAX_PROTOCOL_BYTES + 1)
    except FileNotFoundError:
        msg = f"protocol file {file} does not exist"
        raise NotFoundError(
            msg, field="path", value=str(file), expected="an existing file"
        ) from None
    except OSError as exc:
        msg = f"cannot read protocol file {file}: {exc.strerror or exc}"
        raise InvalidInputError(msg, field="path", value=str(file)) from None
    if len(raw) > MAX_PROTOCOL_BYTES:
        msg = f"protocol file {file} is larger than {MAX_PROTOCOL_BYTES} bytes"
        raise InvalidInputError(msg, field="path", value=str(file), expected="a protocol file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        issue = ProtocolIssue(f"byte {exc.start}", MISSING, "not UTF-8; expected UTF-8 text")
        raise ProtocolError(str(file), [issue]) from None
    return parse_protocol(text, source=str(file))


def parse_protocol(text: str, *, source: str = "<string>") -> Protocol:
    """Validate a protocol given as TOML text.

    Parameters
    ----------
    text
        The TOML document.
    source
        Name used in error messages (a file name).

    Returns
    -------
    Protocol

    Raises
    ------
    ProtocolError
        A TOML syntax error (with line and column) or an invalid protocol (every problem listed).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError.from_toml(exc, source) from None
    return protocol_from_dict(data, source=source)


def protocol_from_dict(data: Mapping[str, Any], *, source: str = "<dict>") -> Protocol:
    """Validate a protocol given as a dict (parsed TOML, or :meth:`Protocol.to_dict` output).

    Raises
    ------
    ProtocolError
        Every problem, each with its key path, value and expectation.
    """
    try:
        return Protocol.model_validate(dict(data))
    except ValidationError as exc:
        raise ProtocolError.from_validation(exc, Protocol, source) from None
