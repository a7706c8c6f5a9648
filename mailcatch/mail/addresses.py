"""Address headers (From, To, Cc, ...) split into mailboxes with decoded display names. Never raises."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailcatch.mail.decode import decode_words, raw_to_str, unfold
from mailcatch.mail.params import unquote

__all__ = ["ParsedAddress", "parse_address_list"]

_COMMENT_SPECIAL = re.compile(r"\\.|[()]", re.DOTALL)
_ADDRESS_SPECIAL = re.compile(r'[\s",;:<(\[]')
_SIMPLE_MAILBOX = re.compile(r'(?:"([^"\\]*)"|([^"\\,;:<>()\[\]@]*?))\s*<([^<>"(),;:\s\\\[\]]*)>')
_ADDRESS_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|<[^>]*>?|\[[^\]]*\]?|[,;:]|\s+|[^\s"(<\[,;:]+', re.DOTALL)


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    """One mailbox from an address header: display name (decoded) and address."""

    name: str
    address: str


def _address(words: list[str], comments: list[str], angle: str | None) -> ParsedAddress | None:
    if angle is not None:
        address = angle.strip()
        if address.startswith("@") and ":" in address:  # obsolete source route: <@relay:user@host>
            address = address.partition(":")[2]
        name = " ".join(words)
    elif words:
        joined = "".join(words)
        address = joined if "@" in joined else " ".join(words)
        name = " ".join(comment for comment in comments if comment)
    else:
        return None
    name = decode_words(name).strip() if name else ""
    return ParsedAddress(name, address) if address or name else None


def _comment_end(value: str, start: int) -> int:
    """Index of the parenthesis closing the (possibly nested) comment opened at start."""
    depth = 0
    for match in _COMMENT_SPECIAL.finditer(value, start):
        char = match.group()
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return match.start()
    return len(value)


def parse_address_list(value: str) -> list[ParsedAddress]:
    """Decode and split an address header value."""
    value = unfold(raw_to_str(value)).strip()
    if not _ADDRESS_SPECIAL.search(value):
        return [ParsedAddress("", value)] if value else []
    simple = _SIMPLE_MAILBOX.fullmatch(value)
    if simple:  # the usual 'Name <a@b>' or '"Name" <a@b>', without the general scanner
        quoted, phrase, address = simple.groups()
        name = decode_words(quoted if quoted is not None else " ".join(phrase.split())).strip()
        return [ParsedAddress(name, address)] if name or address else []
    result: list[ParsedAddress] = []
    words: list[str] = []  # the display name's words, or the pieces of a bare address
    comments: list[str] = []
    angle: str | None = None
    pos = 0
    while pos < len(value):
        if value[pos] == "(":
            end = _comment_end(value, pos)
            comments.append(value[pos + 1 : end].strip())
            pos = end + 1
            continue
        match = _ADDRESS_TOKEN.match(value, pos)
        assert match is not None  # the pattern matches any character but "("
        token = match.group()
        pos = match.end()
        first = token[0]
        if first == '"':
            words.append(unquote(token))
        elif first == "<":
            angle = token[1:-1] if token.endswith(">") else token[1:]
        elif first in ",;":
            address = _address(words, comments, angle)
            if address is not None:
                result.append(address)
            words, comments, angle = [], [], None
        elif first == ":":
            if angle is None:
                words, comments = [], []  # a group's name
        elif not first.isspace():
            words.append(token)
    address = _address(words, comments, angle)
    if address is not None:
        result.append(address)
    return result
