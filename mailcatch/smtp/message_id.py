"""The Message-ID of a message just received, read from its header alone (for --ignore-duplicate-ids)."""

from __future__ import annotations

import re
from email.parser import BytesHeaderParser
from email.policy import compat32

from mailcatch.mail.params import angle_stripped

__all__ = ["message_id_of"]

_HEADER_END = re.compile(rb"\r?\n\r?\n")


def message_id_of(raw: bytes) -> str:
    """The Message-ID header's value without its angle brackets ("" if there is none)."""
    end = _HEADER_END.search(raw)
    head = raw[: end.start() + 1] if end else raw
    value = BytesHeaderParser(policy=compat32).parsebytes(head).get("Message-ID")
    return angle_stripped(str(value)) if value else ""
