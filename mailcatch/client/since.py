"""Where a view of a shared mailbox begins: mail that was in the mailbox before it is not the view's."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$")


def parse_created(text: str) -> datetime | None:
    """A summary's `Created` (RFC 3339, as mailcatch and Mailpit write it, to the nanosecond) as a UTC datetime."""
    found = _TIME.match(text.strip())
    if found is None:
        return None
    moment = datetime.strptime(found[1], "%Y-%m-%dT%H:%M:%S")
    fraction = found[2] or "0"
    moment += timedelta(microseconds=int(fraction[:6].ljust(6, "0")))
    zone = found[3] or "Z"
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        moment -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Since:
    """The newest message's time when the view began, and the IDs of the messages stored at that very time."""

    created: datetime | None
    ids: frozenset[str]

    @classmethod
    def from_newest(cls, newest_first: list[dict[str, Any]]) -> Since:
        """The start of a view, from the newest summaries (newest first) in the mailbox now."""
        if not newest_first:
            return cls(None, frozenset())
        created = parse_created(str(newest_first[0].get("Created", "")))
        ids = frozenset(
            str(summary["ID"]) for summary in newest_first if parse_created(str(summary.get("Created", ""))) == created
        )
        return cls(created, ids)

    def is_new(self, summary: dict[str, Any]) -> bool:
        """Whether a message arrived after the view began."""
        if self.created is None:
            return True
        created = parse_created(str(summary.get("Created", "")))
        if created is None:
            return str(summary.get("ID")) not in self.ids
        return created > self.created or (created == self.created and str(summary.get("ID")) not in self.ids)
