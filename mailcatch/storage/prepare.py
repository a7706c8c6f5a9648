"""A new message made ready to store: parsed once, its ID, summary, row values and search fields computed.

No database work here: it runs on the event loop (or, for a big message, on a worker
thread) before the writer thread's transaction opens.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mailcatch import json_text
from mailcatch.mail.addresses import ParsedAddress
from mailcatch.mail.html_text import html_visible_text
from mailcatch.mail.parse import ParsedMessage, hidden_recipients, parse_message
from mailcatch.mail.tags import clean_tags, with_plus_tags
from mailcatch.models import ReceivedEnvelope, Transaction
from mailcatch.shapes import AddressJSON, MessageSummary, address_json
from mailcatch.storage.rows import lines_json, new_summary
from mailcatch.storage.search.index import Fields

__all__ = ["MAX_INDEXED_BODY", "ROW_COLUMNS", "Prepared", "new_message_id", "prepare_message", "search_fields"]

MAX_INDEXED_BODY = 512 * 1024
"""Characters of a message's text that search indexes; the rest of a giant body is not searchable."""
ROW_COLUMNS = (
    "id, created, size, attachments, subject, message_id, sender, tags, summary, envelope, session_id, tx_start, tx_end"
)
"""The columns of `messages` that `Prepared.row` holds, in its order."""

_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_PAIRS = [high + low for high in _ID_ALPHABET for low in _ID_ALPHABET]
_ID_RANDOM_BITS = 82
"""Of the 130 bits an ID holds; the 48 before them are the time in milliseconds (enough until the year 10889)."""
_ID_RANDOM = random.Random()  # seeded from the operating system's randomness
os.register_at_fork(after_in_child=_ID_RANDOM.seed)  # a forked process must not repeat its parent's IDs


def new_message_id() -> str:
    """A 22-character base62 ID, the shape of Mailpit's: the time in milliseconds, then 82 random bits.

    The time first makes IDs sort (nearly) in the order messages arrive, so that the index
    of IDs grows at its end, where a random ID would change a page anywhere in it for each
    message. IDs name messages, they don't grant access (the API's authentication does), so
    their random part comes from a seeded generator rather than a system call per message.
    """
    number = (time.time_ns() // 1_000_000) << _ID_RANDOM_BITS | _ID_RANDOM.getrandbits(_ID_RANDOM_BITS)
    pairs = []
    for _ in range(11):  # two base-62 digits at a time, the last ones first
        number, pair = divmod(number, 62 * 62)
        pairs.append(_ID_PAIRS[pair])
    return "".join(reversed(pairs))


def _addresses(addresses: Sequence[ParsedAddress]) -> list[AddressJSON]:
    return [address_json(a) for a in addresses]


def _address_text(addresses: Sequence[ParsedAddress]) -> str:
    return " ".join(f"{a.name} <{a.address}>" if a.name else a.address for a in addresses)


@dataclass(slots=True)
class Prepared:
    """A new message with what the writer thread needs of it before its transaction opens."""

    raw: bytes
    tx: Transaction
    summary: MessageSummary
    row: tuple[Any, ...]
    """Its `messages` row (ROW_COLUMNS), without the seq, which the writer thread gives."""
    fields: Callable[[], Fields]
    """The message's search fields, computed later by the index thread."""
    transcript: str
    """The lines of its session recorded since the previous message, as stored."""
    tags: list[str]
    pieces: int | None = None
    """The owner key of its bytes in `message_pieces`, when it was stored in pieces."""


def prepare_message(
    message_id: str,
    raw: bytes,
    envelope: ReceivedEnvelope,
    tx: Transaction,
    *,
    x_tags: bool = True,
    plus_tags: bool = True,
) -> Prepared:
    """Parse a new message and compute its rows (no database work); `x_tags` and `plus_tags` say which
    automatic tags it gets (its X-Tags header's, its plus-addressed recipients')."""
    # Only the start of a huge body is indexed (MAX_INDEXED_BODY): only that much is decoded.
    parsed = parse_message(raw, measure_parts=False, text_limit=MAX_INDEXED_BODY, html_as_text=False)
    own_tags = parsed.tags if x_tags else []
    if plus_tags:
        own_tags = with_plus_tags(own_tags, [*envelope.rcpt_to, *(a.address for a in (*parsed.to, *parsed.cc))])
    parsed.tags = clean_tags(own_tags)
    bcc = parsed.bcc + hidden_recipients(parsed, envelope.rcpt_to)
    from_json = address_json(parsed.from_) if parsed.from_ else None
    attachments = parsed.attachment_count  # Mailpit's count, which has:attachment also reads
    summary_fixed = {
        "MessageID": parsed.message_id,
        "From": from_json,
        "To": _addresses(parsed.to),
        "Cc": _addresses(parsed.cc),
        "Bcc": _addresses(bcc),
        "ReplyTo": _addresses(parsed.reply_to),
        "Subject": parsed.subject,
        "Username": envelope.username,
        "Size": len(raw),
        "Attachments": attachments,
        "Snippet": parsed.snippet,
    }
    tags = json_text.dumps(parsed.tags)
    fixed_text = json_text.dumps(summary_fixed)
    row = (  # ROW_COLUMNS
        message_id,
        envelope.received,
        len(raw),
        attachments,
        parsed.subject,
        parsed.message_id,
        (parsed.from_.address if parsed.from_ else envelope.mail_from).lower(),
        tags,
        fixed_text,
        json_text.dumps(envelope.to_json()),
        tx.session.id,
        tx.start,
        tx.end,
    )
    summary = new_summary(message_id, envelope.received, False, parsed.tags, summary_fixed)
    return Prepared(
        raw, tx, summary, row, lambda: search_fields(parsed, envelope, bcc), lines_json(tx.lines), parsed.tags
    )


def search_fields(parsed: ParsedMessage, envelope: ReceivedEnvelope, bcc: list[ParsedAddress] | None = None) -> Fields:
    """The text a message is found by: subject, sender, recipients, bodies (HTML as text), file names."""
    if bcc is None:
        bcc = parsed.bcc + hidden_recipients(parsed, envelope.rcpt_to)
    sender = _address_text([parsed.from_]) if parsed.from_ else envelope.mail_from
    body = parsed.text + "\n" + html_visible_text(parsed.html) if parsed.html else parsed.text
    return (
        parsed.subject,
        sender,
        _address_text([*parsed.to, *parsed.cc, *bcc]),
        body[:MAX_INDEXED_BODY],
        " ".join(p.filename for p in (*parsed.attachments, *parsed.inline) if p.filename),
    )
