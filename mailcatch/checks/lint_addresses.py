"""Address header syntax (RFC 5322 section 3.4, with RFC 6532's UTF-8): what is wrong with a From, To or Cc value.

A small tokenizer and recursive-descent reader of the RFC's grammar, the obsolete forms readers
must accept included (a phrase with dots, a route in angle brackets), so that only addresses real
mail programs would refuse or misread are reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["AddressSyntax", "check_address_list", "domain_problem"]

# atext, plus any non-ASCII character (RFC 6532 section 3.2): 8-bit text is reported on its own.
_ATEXT = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\U0010ffff]+")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")
_SPECIALS = "<>:;@,."


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    """"atom", "quoted", "literal", or the special character itself."""
    text: str


class AddressSyntax(Exception):
    """An address header value that doesn't follow the grammar; the message says where."""


def _comment_end(value: str, start: int) -> int:
    depth = 0
    position = start
    while position < len(value):
        char = value[position]
        if char == "\\":
            position += 2
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return position + 1
        position += 1
    raise AddressSyntax("a comment in parentheses is not closed")


def _quoted_end(value: str, start: int, close: str) -> int:
    position = start + 1
    while position < len(value):
        char = value[position]
        if char == "\\":
            position += 2
            continue
        if char == close:
            return position + 1
        if close == "]" and char in "[":
            break
        position += 1
    raise AddressSyntax("a quoted string is not closed" if close == '"' else "a domain literal [...] is not closed")


def _tokens(value: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(value):
        char = value[position]
        if char in " \t\r\n":
            position += 1
        elif char == "(":
            position = _comment_end(value, position)
        elif char == '"':
            end = _quoted_end(value, position, '"')
            tokens.append(_Token("quoted", value[position:end]))
            position = end
        elif char == "[":
            end = _quoted_end(value, position, "]")
            tokens.append(_Token("literal", value[position:end]))
            position = end
        elif char in _SPECIALS:
            tokens.append(_Token(char, char))
            position += 1
        elif found := _ATEXT.match(value, position):
            tokens.append(_Token("atom", found.group()))
            position = found.end()
        else:
            shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}"
            raise AddressSyntax(f"{shown} can't appear there outside quotes")
    return tokens


class _Reader:
    """Reads tokens by the RFC's grammar; each read returns the addr-spec it found."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> str:
        return self.tokens[self.at].kind if self.at < len(self.tokens) else ""

    def take(self, kind: str) -> _Token:
        if self.peek() != kind:
            got = f"{self.tokens[self.at].text!r}" if self.at < len(self.tokens) else "the end"
            raise AddressSyntax(f"expected {kind!r} but found {got}")
        self.at += 1
        return self.tokens[self.at - 1]

    def dotted(self, what: str) -> str:
        """word *("." word): a dot-atom or obsolete local part or domain, without empty pieces."""
        pieces: list[str] = []
        while True:
            if self.peek() not in ("atom", "quoted"):
                if not pieces and self.peek() != ".":
                    raise AddressSyntax(f"{what} is missing")
                raise AddressSyntax(f"{what} has an empty piece (a dot at its start or end, or two in a row)")
            pieces.append(self.tokens[self.at].text)
            self.at += 1
            if self.peek() != ".":
                return ".".join(pieces)
            self.at += 1

    def addr_spec(self) -> str:
        local = self.dotted("the part before @")
        self.take("@")
        if self.peek() == "literal":
            return f"{local}@{self.take('literal').text}"
        if self.peek() != "atom":
            raise AddressSyntax(f"{local}@ has no domain")
        domain = self.dotted("the domain")
        if '"' in domain:
            raise AddressSyntax(f"the domain of {local}@{domain} can't be quoted")
        return f"{local}@{domain}"

    def angle_addr(self) -> str:
        self.take("<")
        if self.peek() == "@":  # obsolete route: <@relay,@relay:user@host>
            while self.peek() in ("@", ","):
                self.at += 1
                if self.peek() == "atom":
                    self.dotted("a route")
            self.take(":")
        if self.peek() == ">":
            raise AddressSyntax("<> holds no address")
        address = self.addr_spec()
        self.take(">")
        return address

    def mailbox(self) -> str:
        """name-addr or addr-spec; a phrase is words and (obsolete) dots."""
        start = self.at
        words = 0
        while self.peek() in ("atom", "quoted", "."):
            self.at += 1
            words += 1
        if self.peek() == "<":
            return self.angle_addr()
        if self.peek() == "@":
            self.at = start
            return self.addr_spec()
        if words:
            shown = " ".join(t.text for t in self.tokens[start : self.at])
            raise AddressSyntax(f"{shown!r} is not an address (no @domain, nor <address> after a name)")
        raise AddressSyntax("an address is missing" if self.peek() in ("", ",") else f"unexpected {self.peek()!r}")

    def address(self) -> list[str]:
        """A mailbox, or a group `name: mailbox, ...;` (its addresses)."""
        start = self.at
        while self.peek() in ("atom", "quoted", "."):
            self.at += 1
        if self.peek() == ":" and self.at > start:
            self.at += 1
            found = []
            while self.peek() not in (";", ""):
                if self.peek() == ",":
                    self.at += 1
                    continue
                found.append(self.mailbox())
            self.take(";")
            return found
        self.at = start
        return [self.mailbox()]


def check_address_list(value: str, *, single: bool = False, allow_empty: bool = False) -> list[str]:
    """The addresses of an address header value; AddressSyntax says what is wrong.

    `single`: the header holds one mailbox (Sender). `allow_empty`: it may hold none (Bcc).
    """
    tokens = _tokens(value)
    if not tokens:
        if allow_empty:
            return []
        raise AddressSyntax("it is empty")
    reader = _Reader(tokens)
    found: list[str] = []
    while True:
        while reader.peek() == ",":  # obsolete empty list elements
            reader.at += 1
        if reader.peek() == "":
            break
        found.extend([reader.mailbox()] if single else reader.address())
        if reader.peek() == "":
            break
        if single:
            raise AddressSyntax("it must hold exactly one address")
        reader.take(",")
    if not found and not allow_empty and not any(t.kind == ";" for t in tokens):
        raise AddressSyntax("it holds no address")
    return found


def domain_problem(address: str) -> str:
    """Why the domain of an addr-spec can't be a host name (RFC 5321 section 4.1.2), or ""."""
    domain = address.rpartition("@")[2]
    if domain.startswith("[") or not domain.isascii():
        return ""  # an address literal, or an internationalised name
    if len(domain) > 253:
        return f"the domain of {address} is longer than 253 characters"
    for label in domain.split("."):
        if not _LABEL.match(label):
            return f"the domain of {address} has {label!r}, which is not a host name label (letters, digits, hyphens)"
    return ""
