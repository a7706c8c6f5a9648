"""Tags from a message, as Mailpit takes them: its X-Tags header and its plus-addressed recipients.

Tag text is cleaned as Mailpit cleans it: every character other than an ASCII letter, a digit,
`-`, `_`, `.` or a space becomes a space, runs of spaces become one, and the ends are trimmed
(`bad/char!` is `bad char`). Tags are one tag whatever their case (the first spelling met is
kept), and a message's tags are listed sorted ignoring case, as Mailpit lists them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = ["MAX_TAG_LENGTH", "clean_tag", "clean_tags", "header_tags", "plus_tags", "with_plus_tags"]

MAX_TAG_LENGTH = 100

_NOT_TAG_TEXT = re.compile(r"[^a-zA-Z0-9\- _.]")
_SPACES = re.compile(r" {2,}")


def clean_tag(text: str) -> str:
    """One tag's text cleaned as Mailpit cleans it; empty when nothing of it is left."""
    return _SPACES.sub(" ", _NOT_TAG_TEXT.sub(" ", text)).strip()[:MAX_TAG_LENGTH].strip()


def header_tags(values: Iterable[str]) -> list[str]:
    """The tags of a message's X-Tags headers (decoded values): split on commas, stripped, repeats dropped.

    Only exact repeats go: `clean_tags` (when stored) is what cleans the text and folds case.
    """
    tags: dict[str, None] = {}
    for value in values:
        for tag in value.split(","):
            tag = tag.strip()
            if tag:
                tags.setdefault(tag, None)
    return list(tags)


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Tags cleaned, empty ones dropped, repeats (ignoring case) removed, sorted ignoring case."""
    seen: dict[str, str] = {}
    for tag in tags:
        tag = clean_tag(tag)
        if tag and tag.lower() not in seen:
            seen[tag.lower()] = tag
    return [seen[key] for key in sorted(seen)]


def plus_tags(addresses: Iterable[str]) -> list[str]:
    """Tags from plus-addressed recipients: `user+tag@example.com` gives `tag`, `user+a+b@example.com` `a` and `b`."""
    tags = []
    for address in addresses:
        plus = address.find("+")
        at = address.find("@", plus + 1) if plus >= 0 else -1
        if at > plus:
            tags += address[plus + 1 : at].split("+")
    return clean_tags(tags)


def with_plus_tags(tags: Sequence[str], addresses: Iterable[str]) -> list[str]:
    """A message's own tags (X-Tags) and those of its plus-addressed recipients, as one sorted list."""
    return clean_tags([*tags, *plus_tags(addresses)])
