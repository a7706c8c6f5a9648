"""The header changes a release makes to a stored message's bytes; everything else stays byte for byte.

A released message gets a new Date and (unless preserve-message-ids) a new Message-ID, loses
its Bcc header, gets the configured Return-Path, and with override-from a new From address
(the display name kept) and an X-Original-From header with the old one. Automatic relay makes
only the override-from change. Header lines keep their own line endings and folding.
"""

from __future__ import annotations

import email.utils
import re
import uuid
from dataclasses import dataclass

from mailcatch.relay.config import RelayConfig

__all__ = ["Released", "override_from", "release_rewrite", "sender_of"]

_HEADER_NAME = re.compile(rb"^([!-9;-~]+)[ \t]*:")


@dataclass
class _Header:
    name: str
    """Lower case."""
    lines: bytes
    """The header's bytes, continuation lines and line ending included."""


def _split(raw: bytes) -> tuple[list[_Header], bytes, bytes]:
    """The header fields, the line ending the message uses, and everything from the blank line on."""
    headers: list[_Header] = []
    eol = b"\r\n" if b"\r\n" in raw[:4096] or not raw else b"\n"
    position = 0
    while position < len(raw):
        end = raw.find(b"\n", position)
        end = len(raw) if end < 0 else end + 1
        line = raw[position:end]
        if line in (b"\r\n", b"\n"):
            break
        if line[:1] in (b" ", b"\t") and headers:
            headers[-1].lines += line
        else:
            found = _HEADER_NAME.match(line)
            if found is None:  # not a header line: the body starts here (no blank line)
                break
            headers.append(_Header(found.group(1).decode("ascii").lower(), line))
        position = end
    return headers, eol, raw[position:]


def _join(headers: list[_Header], rest: bytes, eol: bytes) -> bytes:
    # A header block that ended without a line ending (no body) gets one where a header follows it.
    lines = [
        h.lines if h.lines.endswith(b"\n") or i == len(headers) - 1 else h.lines + eol for i, h in enumerate(headers)
    ]
    return b"".join(lines) + rest


def _value(header: _Header) -> str:
    """The header's value, unfolded, as text (bytes that aren't UTF-8 replaced)."""
    text = header.lines.decode("utf-8", "replace")
    return re.sub(r"\r?\n[ \t]", " ", text.split(":", 1)[1]).strip()


def _field(name: str, value: str, eol: bytes) -> _Header:
    return _Header(name.lower(), f"{name}: {value}".encode() + eol)


def _set(headers: list[_Header], name: str, value: str, eol: bytes) -> None:
    """Replace the first `name` header in place (dropping any others), or add one at the end."""
    key = name.lower()
    places = [i for i, h in enumerate(headers) if h.name == key]
    new = _field(name, value, eol)
    if not places:
        headers.append(new)
        return
    headers[places[0]] = new
    for i in reversed(places[1:]):
        del headers[i]


def _first(headers: list[_Header], name: str) -> str | None:
    return next((_value(h) for h in headers if h.name == name), None)


def sender_of(raw: bytes) -> str:
    """The address a release sends from: the Sender header's, else the first From address; "" if neither."""
    headers, _, _ = _split(raw)
    for name in ("sender", "from"):
        value = _first(headers, name)
        if value:
            addresses = [a for _, a in email.utils.getaddresses([value]) if a]
            if addresses:
                return addresses[0]
    return ""


def _override_from(headers: list[_Header], address: str, eol: bytes) -> None:
    place = next((i for i, h in enumerate(headers) if h.name == "from"), None)
    if place is None:
        headers.append(_field("From", address, eol))
        return
    original = _value(headers[place])
    pairs = email.utils.getaddresses([original])
    name, old = pairs[0] if pairs else ("", original)
    headers[place] = _field("From", email.utils.formataddr((name, address)) if name else address, eol)
    headers.insert(place, _field("X-Original-From", old or original, eol))


def override_from(raw: bytes, address: str) -> bytes:
    """The message with its From address replaced (name kept) and the old one in X-Original-From."""
    headers, eol, rest = _split(raw)
    _override_from(headers, address, eol)
    return _join(headers, rest, eol)


@dataclass(frozen=True)
class Released:
    """A message ready to be released: its bytes and envelope sender."""

    data: bytes
    mail_from: str


def release_rewrite(raw: bytes, config: RelayConfig, now: float | None = None) -> Released:
    """The bytes and envelope sender of a release of `raw` through the relay `config` describes."""
    mail_from = sender_of(raw)
    headers, eol, rest = _split(raw)
    headers = [h for h in headers if h.name != "bcc"]
    if config.return_path:
        headers = [h for h in headers if h.name != "return-path"]
        headers.insert(0, _field("Return-Path", f"<{config.return_path}>", eol))
        mail_from = config.return_path
    _set(headers, "Date", email.utils.formatdate(now, localtime=True), eol)
    if not config.preserve_message_ids:
        _set(headers, "Message-ID", f"<{uuid.uuid4().hex}@mailcatch>", eol)
    if config.override_from:
        _override_from(headers, config.override_from, eol)
        mail_from = config.override_from
    return Released(_join(headers, rest, eol), mail_from)
