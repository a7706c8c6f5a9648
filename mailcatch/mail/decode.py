"""Header and body bytes to text: charsets, RFC 2047 encoded words, unfolding, dates. Never raises."""

from __future__ import annotations

import binascii
import codecs
import datetime
import email.utils
import functools
import re

__all__ = ["b64decode", "codec", "decode_bytes", "decode_words", "header_date", "header_text", "raw_to_str", "unfold"]

# Common codecs that decode ASCII as ASCII and never produce lone surrogates.
_ASCII_SUPERSETS = frozenset(
    {"utf-8", "iso8859-1", "iso8859-2", "iso8859-15", "cp1250", "cp1251", "cp1252", "koi8-r", "koi8-u"}
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_FOLD = re.compile(r"\r?\n[ \t]|[\r\n]")
# Encoded text may end in one unencoded "?" ("=?utf-8?Q?Ready??="), a common encoder slip.
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*(?:\?(?=\?=))?)\?=")
_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")  # for encoded words; bodies use the stdlib decoder


@functools.lru_cache(maxsize=512)
def codec(charset: str) -> str | None:
    """The canonical name of the text codec for a MIME charset label, or None if unknown."""
    label = charset.strip().strip('"').lower().partition("*")[0]  # RFC 2231 "utf-8*en"
    if label in ("", "us-ascii", "ascii", "unknown-8bit", "x-unknown"):
        return None  # 8-bit bytes under these labels are nearly always UTF-8
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError):
        return None
    try:
        b"a".decode(name)
    except LookupError:
        return None  # a bytes-to-bytes codec such as base64
    except ValueError:
        pass  # a text codec that cannot decode b"a" alone (utf-16)
    return name


def decode_bytes(data: bytes, charset: str) -> str:
    """Decode with the declared charset; unknown or missing charset: UTF-8, else Latin-1."""
    name = codec(charset) if charset else None
    if (name is None or name in _ASCII_SUPERSETS) and data.isascii():
        return data.decode("ascii")
    if name is not None:
        try:
            text = data.decode(name, "replace")
        except (LookupError, ValueError):
            pass  # codecs such as idna decode only strictly
        else:
            return text if name in _ASCII_SUPERSETS else _SURROGATE.sub("\ufffd", text)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def raw_to_str(value: str) -> str:
    """Text of a header value whose 8-bit bytes the parser holds as surrogates (read as UTF-8)."""
    if value.isascii():
        return value
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that stands for no byte
        data = value.encode("utf-8", "replace")
    return data.decode("utf-8", "replace")


def unfold(value: str) -> str:
    """A header value on one line: a fold becomes its space, a stray line break goes."""
    if "\n" in value or "\r" in value:
        return _FOLD.sub(lambda m: " " if len(m.group()) > 1 else "", value)
    return value


def b64decode(data: bytes) -> bytes:
    """Base64 of an encoded word, forgiving junk characters and missing padding (b"" if hopeless)."""
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:
        clean = _B64_JUNK.sub(b"", data)
        if len(clean) % 4 == 1:
            clean = clean[:-1]  # a lone trailing character holds no whole byte
        try:
            return binascii.a2b_base64(clean + b"=" * (-len(clean) % 4))
        except binascii.Error:
            return b""


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words; adjacent words in one charset are joined before decoding."""
    if "=?" not in value:
        return value
    out: list[str] = []
    pending = bytearray()
    pending_charset = ""
    pos = 0  # end of the previous encoded word
    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        if pos and gap.isspace():
            gap = ""  # whitespace between two encoded words is not shown
        charset = match.group(1).lower()
        if pending and (gap or charset != pending_charset):
            out.append(decode_bytes(bytes(pending), pending_charset))
            pending.clear()
        out.append(gap)
        encoded = match.group(3).encode("utf-8")
        if match.group(2) in "bB":
            pending += b64decode(encoded)
        else:
            pending += binascii.a2b_qp(encoded, header=True)
        pending_charset = charset
        pos = match.end()
    if pending:
        out.append(decode_bytes(bytes(pending), pending_charset))
    out.append(value[pos:])
    return "".join(out)


def header_text(raw: str) -> str:
    """A header value as the text to show: 8-bit bytes read, unfolded, encoded words decoded."""
    return decode_words(unfold(raw_to_str(raw)))


def header_date(value: str) -> datetime.datetime | None:
    """An RFC 5322 date as an aware datetime, or None if it names no real moment."""
    try:
        parsed = email.utils.parsedate_tz(value)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    try:
        tz = datetime.timezone(datetime.timedelta(seconds=parsed[9] or 0))
    except (ValueError, OverflowError):
        tz = datetime.timezone.utc
    try:
        return datetime.datetime(*parsed[:6], tzinfo=tz)
    except (ValueError, OverflowError):
        return None
