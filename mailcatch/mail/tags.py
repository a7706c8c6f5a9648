"""Tags from a message, as Mailpit takes them: its X-Tags header and its plus-addressed recipients."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["MAX_TAG_LENGTH", "clean_tags", "header_tags", "plus_tags", "with_plus_tags"]

MAX_TAG_LENGTH = 100


def header_tags(values: Iterable[str]) -> list[str]:
    """The tags of a message's X-Tags headers (decoded values): split on commas, stripped, repeats dropped.

    Only exact repeats go: `clean_tags` (when stored) is what folds case and whitespace.
    """
    tags: dict[str, None] = {}
    for value in values:
        for tag in value.split(","):
            tag = tag.strip()
            if tag:
                tags.setdefault(tag, None)
    return list(tags)


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Tags with whitespace collapsed, empty ones dropped and repeats (ignoring case) removed, in order."""
    seen: dict[str, str] = {}
    for tag in tags:
        tag = " ".join(tag.split())[:MAX_TAG_LENGTH]
        if tag and tag.lower() not in seen:
            seen[tag.lower()] = tag
    return list(seen.values())


def plus_tags(addresses: Iterable[str]) -> list[str]:
    """Tags from plus-addressed recipients: `user+tag@example.com` gives `tag`."""
    tags = []
    for address in addresses:
        local = address.rpartition("@")[0] if "@" in address else ""
        _, plus, tag = local.partition("+")
        if plus and tag:
            tags.append(tag)
    return clean_tags(tags)


def with_plus_tags(tags: Sequence[str], addresses: Iterable[str]) -> list[str]:
    """A message's own tags (X-Tags) followed by those of its plus-addressed recipients."""
    return clean_tags([*tags, *plus_tags(addresses)])
