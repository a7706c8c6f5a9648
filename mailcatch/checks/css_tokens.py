"""A small CSS reader for the HTML check: the declarations, rules, at-rules and comments of a style sheet
or a `style` attribute, each with its offset in the text.

It reads what email CSS holds (rules, `@media` and other at-rules, nested rules, comments, strings,
functions) in one pass, linear in the text, and never fails: broken CSS gives what could be read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["AtRule", "Comment", "Declaration", "Rule", "read_declarations", "read_stylesheet"]

_STOPS = re.compile(r"""[{};()"'/]""")
_IMPORTANT = re.compile(r"!\s*important\s*$", re.IGNORECASE)
_AT_NAME = re.compile(r"@(-?[a-zA-Z][\w-]*)")
_RULE_BLOCKS = frozenset({"media", "supports", "document", "-moz-document", "container", "layer", "scope"})
"""At-rules whose block holds rules (the others', such as @font-face's and @page's, hold declarations)."""
_KEYFRAMES = re.compile(r"(-[a-z]+-)?keyframes")
_STRING_ENDS = {quote: re.compile(rf"[{quote}\\\n]") for quote in "\"'"}


@dataclass(frozen=True, slots=True)
class Declaration:
    """`property: value` (the property lower-cased, the value without `!important`)."""

    property: str
    value: str
    important: bool
    start: int
    text: str


@dataclass(frozen=True, slots=True)
class Rule:
    """A style rule's selector list; `nested` when it is inside another style rule (CSS nesting)."""

    selector: str
    start: int
    nested: bool


@dataclass(frozen=True, slots=True)
class AtRule:
    """An at-rule: its lower-case name (without `@`) and its prelude (`screen and (max-width: 600px)`)."""

    name: str
    prelude: str
    start: int


@dataclass(frozen=True, slots=True)
class Comment:
    """A `/* ... */` comment."""

    start: int


Item = Declaration | Rule | AtRule | Comment

# What a block holds.
_RULES, _DECLARATIONS, _KEYFRAME_RULES = "rules", "declarations", "keyframes"


def _declarations(css: str, start: int, end: int) -> Iterator[Declaration]:
    """The declaration `css[start:end]` holds, if it holds one."""
    text = css[start:end]
    stripped = text.strip()
    if not stripped:
        return
    name, colon, value = stripped.partition(":")
    name = name.strip()
    if not colon or not name or not re.fullmatch(r"-?-?[a-zA-Z_][\w-]*", name):
        return
    value = value.strip()
    important = bool(_IMPORTANT.search(value))
    if important:
        value = _IMPORTANT.sub("", value).rstrip()
    lead = len(text) - len(text.lstrip())
    yield Declaration(name if name.startswith("--") else name.lower(), value, important, start + lead, stripped)


def _prelude(css: str, start: int, end: int) -> tuple[str, int]:
    text = css[start:end]
    return text.strip(), start + len(text) - len(text.lstrip())


def _read(css: str, outer: str) -> Iterator[Item]:
    """Everything in `css`, read as the content of a block of kind `outer`."""
    blocks = [outer]
    segment = 0  # where the current prelude or declaration began
    depth = 0  # open parentheses
    position = 0
    length = len(css)
    while position < length:
        found = _STOPS.search(css, position)
        if found is None:
            break
        at = found.start()
        char = css[at]
        position = at + 1
        if char == "/":
            if css.startswith("/*", at):
                end = css.find("*/", at + 2)
                yield Comment(at)
                position = length if end < 0 else end + 2
                if not css[segment:at].strip():  # a comment before a rule or declaration is not part of it
                    segment = position
            continue
        if char in "\"'":
            while True:  # to the closing quote, past escapes; a line break ends a broken string
                quote_end = _STRING_ENDS[char].search(css, position)
                if quote_end is None:
                    position = length
                    break
                position = quote_end.end()
                if css[quote_end.start()] == "\\":
                    position += 1
                    continue
                break
            continue
        if char == "(":
            depth += 1
            continue
        if char == ")":
            depth = max(0, depth - 1)
            continue
        if depth:
            continue
        kind = blocks[-1]
        if char == "{":
            prelude, start = _prelude(css, segment, at)
            if prelude.startswith("@"):
                name_match = _AT_NAME.match(prelude)
                name = name_match[1].lower() if name_match else ""
                yield AtRule(name, prelude[name_match.end() if name_match else 1 :].strip(), start)
                if name in _RULE_BLOCKS:
                    blocks.append(_RULES)
                elif _KEYFRAMES.fullmatch(name):
                    blocks.append(_KEYFRAME_RULES)
                else:
                    blocks.append(_DECLARATIONS)
            elif kind == _KEYFRAME_RULES:
                blocks.append(_DECLARATIONS)  # `from`, `to`, `50%`: not selectors
            else:
                yield Rule(prelude, start, nested=kind == _DECLARATIONS)
                blocks.append(_DECLARATIONS)
            segment = position
        elif char == ";":
            if kind == _DECLARATIONS:
                yield from _declarations(css, segment, at)
            else:
                prelude, start = _prelude(css, segment, at)
                name_match = _AT_NAME.match(prelude)
                if name_match:  # @import, @charset, @namespace
                    yield AtRule(name_match[1].lower(), prelude[name_match.end() :].strip(), start)
            segment = position
        elif char == "}":
            if kind == _DECLARATIONS:
                yield from _declarations(css, segment, at)
            if len(blocks) > 1:
                blocks.pop()
            segment = position
    if blocks[-1] == _DECLARATIONS:
        yield from _declarations(css, segment, length)


def read_stylesheet(css: str) -> Iterator[Item]:
    """The items of a style sheet (a `<style>` element's text), in order."""
    return _read(css, _RULES)


def read_declarations(css: str) -> Iterator[Item]:
    """The declarations (and comments) of a `style` attribute, in order."""
    return _read(css, _DECLARATIONS)
