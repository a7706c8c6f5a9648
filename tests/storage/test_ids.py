"""Message IDs: Mailpit's shape (22 base-62 characters), unique, and in the order messages arrive."""

from __future__ import annotations

import re
import time

from mailcatch.storage.prepare import new_message_id


def test_ids_have_mailpits_shape_and_never_repeat() -> None:
    ids = [new_message_id() for _ in range(20_000)]
    assert all(re.fullmatch(r"[0-9A-Za-z]{22}", message_id) for message_id in ids)
    assert len(set(ids)) == len(ids)


def test_ids_made_later_sort_after_earlier_ones() -> None:
    """So that the index of IDs grows at its end (a page or two per commit, not one per message)."""
    earlier = [new_message_id() for _ in range(100)]
    time.sleep(0.002)  # the next millisecond
    later = new_message_id()
    assert max(earlier) < later
