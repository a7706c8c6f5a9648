"""Tags given to new messages by filters, as Mailpit's --tag and --tags-config set them.

A filter is a match and the tags it gives. A new message gets them when the match is found
anywhere in its raw bytes (ignoring case: headers included), or when the message matches it
as a search (`from:billing@example.com`, `subject:invoice`, plain words). The tags are added
through the store's ordinary tagging (`set_tags`), so the API and the websocket see them as
any other change of tags.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mailcatch.errors import ConfigError, QueryError, StoreError
from mailcatch.mail.tags import clean_tags
from mailcatch.shapes import MessageSummary
from mailcatch.storage import MessageStore

__all__ = ["AutoTagger", "TagFilter", "parse_tag_flag", "read_tags_config", "split_arguments"]

log = logging.getLogger("mailcatch.tags")


@dataclass(frozen=True, slots=True)
class TagFilter:
    """Messages that `match` (a search, or text found in the raw message) get `tags`."""

    match: str
    tags: tuple[str, ...]


def split_arguments(text: str) -> list[str]:
    """Words separated by spaces, a double-quoted part keeping its spaces; the quotes themselves are dropped.

    This is how Mailpit reads --tag: `a=b "Tag 1"="x y"` gives `a=b` and `Tag 1=x y`.
    """
    words: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text + " ":
        if char == '"':
            quoted = not quoted
        elif char == " " and not quoted:
            word = "".join(current).strip()
            if word:
                words.append(word)
            current = []
        else:
            current.append(char)
    return words


def _filter(tags_text: str, match: str, where: str) -> TagFilter:
    match = match.strip()
    if not match:
        raise ConfigError(f"{where}: a filter for {tags_text!r} has nothing to match")
    tags = clean_tags(tags_text.split(","))
    if not tags:
        raise ConfigError(f"{where}: a filter matching {match!r} names no tag")
    return TagFilter(match, tuple(tags))


def parse_tag_flag(text: str) -> list[TagFilter]:
    """The filters of a --tag value: space-separated `tags=match` items, tags split on commas, quotes for spaces.

    The match is everything after the first `=`, lowercased (as Mailpit reads it).
    """
    filters = []
    for item in split_arguments(text):
        tags_text, equals, match = item.partition("=")
        if not equals:
            raise ConfigError(f"--tag: {item!r} is not tag=match")
        filters.append(_filter(tags_text, match.lower(), "--tag"))
    return filters


def read_tags_config(path: str) -> list[TagFilter]:
    """The filters of a --tags-config YAML file: `filters:`, a list of `{match: ..., tags: "Tag 1, Tag 2"}`."""
    import yaml

    where = f"--tags-config {path}"
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"{where}: can't be read: {error}") from None
    items = data.get("filters") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ConfigError(f"{where}: no `filters:` list")
    filters = []
    for item in items:
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: each filter is a `match:` and its `tags:`, not {item!r}")
        tags = item.get("tags")
        tags_text = ",".join(str(t) for t in tags) if isinstance(tags, list) else str(tags or "")
        filters.append(_filter(tags_text, str(item.get("match") or ""), where))
    return filters


class AutoTagger:
    """Gives new messages the tags of the filters they match."""

    def __init__(self, filters: Sequence[TagFilter]) -> None:
        self.filters = list(filters)
        self._needles = [f.match.lower().encode("utf-8") for f in self.filters]

    def __bool__(self) -> bool:
        return bool(self.filters)

    async def tag(self, store: MessageStore, summary: MessageSummary, raw: bytes) -> list[str]:
        """Add the tags of the filters this new message matches; returns the tags it has now."""
        lowered = raw.lower()
        found: list[str] = []
        for needle, tag_filter in zip(self._needles, self.filters, strict=True):
            if needle in lowered or await self._matches(store, summary["ID"], tag_filter.match):
                found.extend(tag_filter.tags)
        tags = list(summary["Tags"])
        if not found:
            return tags
        wanted = clean_tags([*tags, *found])
        if [t.lower() for t in wanted] == [t.lower() for t in tags]:
            return tags
        await store.set_tags([summary["ID"]], wanted)
        return wanted

    @staticmethod
    async def _matches(store: MessageStore, message_id: str, query: str) -> bool:
        try:
            return await store.matches(message_id, query)
        except QueryError:
            return False  # not a search: only text found in the message counts
        except StoreError as error:
            log.warning("tag filter %r not checked for message %s: %s", query, message_id, error)
            return False
