"""Structured header values: quoted strings, MIME parameters (RFC 2045 and 2231), file names, <IDs>."""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from mailcatch.mail.decode import decode_bytes, decode_words

__all__ = ["angle_stripped", "clean_filename", "parse_params", "split_params", "unquote"]

_PARAM_SPECIAL = re.compile(r'[\\";]')
# Control characters, and bidi overrides that could disguise an extension ("txt\u202eexe").
_UNSAFE_IN_FILENAME = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_MESSAGE_ID = re.compile(r"<([^<>]*)>")


def unquote(value: str) -> str:
    """Strip a quoted-string's quotes; a backslash escapes only a quote or a backslash."""
    if len(value) < 2 or value[0] != '"':
        return value
    end = len(value) - 1 if value.endswith('"') else len(value)
    body = value[1:end]
    if "\\" in body:
        body = body.replace('\\"', '"').replace("\\\\", "\\")
    return body


def split_params(value: str) -> list[str]:
    """Split on ";" outside double quotes (a backslash escapes only inside quotes)."""
    if '"' not in value:
        return value.split(";")
    pieces: list[str] = []
    start = pos = 0
    quoted = False
    while match := _PARAM_SPECIAL.search(value, pos):
        pos = match.end()
        char = match.group()
        if char == "\\":
            if quoted:
                pos += 1  # the escaped character
        elif char == '"':
            quoted = not quoted
        elif not quoted:
            pieces.append(value[start : match.start()])
            start = pos
    pieces.append(value[start:])
    return pieces


def parse_params(value: str) -> tuple[str, dict[str, str]]:
    """Split 'type/subtype; a=b; c*=utf-8''x' into the lower-cased value and its parameters.

    RFC 2231 extended values and continuations are joined and decoded; they win over plain
    parameters of the same name.
    """
    first, *rest = split_params(value)
    params: dict[str, str] = {}
    sections: dict[str, list[tuple[int, bool, str]]] = {}
    for piece in rest:
        name, sep, val = piece.partition("=")
        name = name.strip().lower()
        if not sep or not name:
            continue
        val = unquote(val.strip())
        if "*" not in name:
            params.setdefault(name, val)
            continue
        base, _, number = name.partition("*")
        number = number.rstrip("*")
        if number and not (number.isascii() and number.isdigit() and len(number) < 5):
            continue
        sections.setdefault(base, []).append((int(number or 0), name.endswith("*"), val))
    for base, chunks in sections.items():
        chunks.sort(key=lambda chunk: chunk[0])
        charset = ""
        data = bytearray()
        for index, (_, extended, val) in enumerate(chunks):
            if extended:
                if index == 0 and val.count("'") >= 2:
                    charset, _, val = val.split("'", 2)
                data += unquote_to_bytes(val)
            else:
                data += val.encode("utf-8")
        params[base] = decode_bytes(bytes(data), charset)
    return first.strip().lower(), params


def clean_filename(name: str) -> str:
    """Decoded file name with any directory part and control characters removed."""
    if "=?" in name:
        name = decode_words(name)
    name = _UNSAFE_IN_FILENAME.sub("", name.replace("\\", "/").rpartition("/")[2]).strip()
    return "" if name in (".", "..") else name


def angle_stripped(value: str) -> str:
    """What the first <...> of a Message-ID, Content-ID or Return-Path holds (else the whole value)."""
    match = _MESSAGE_ID.search(value)
    return (match.group(1) if match else value).strip()
