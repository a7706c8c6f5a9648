"""The session log: the most recent SMTP sessions, refused ones too, each recorded once when it ends.

It lives in memory and is bounded: at most `MAX_SESSIONS` sessions, each with at most
`MAX_LINES` lines of its transcript (its last ones) and `MAX_SESSION_CHARS` characters of
them. While a session runs, its `SessionTrail` keeps the lines its messages took from the
transcript recorder (the store keeps them with each message); when it ends, the lines not
taken yet are added and the whole is frozen into a `SessionRecord`, which the log keeps and
publishes on the bus as a `session` event (mailcatch's own type: Mailpit's clients ignore it).
Lines are the recorder's, so AUTH secrets are masked and message data summarised already.
Nothing here runs while a reply is due: only at the end of a session.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mailcatch.events import EventBus
from mailcatch.models import Event, SessionInfo, SessionLine, rfc3339

__all__ = ["MAX_LINES", "MAX_SESSIONS", "Ending", "SessionLog", "SessionRecord", "SessionTrail", "record_session"]

MAX_SESSIONS = 200
"""Sessions the log keeps; the oldest is forgotten when a new one ends."""
MAX_LINES = 500
"""Lines of a session's transcript kept: its last ones."""
MAX_SESSION_CHARS = 32 * 1024
"""Characters of a session's kept lines, at most (a client sending long junk lines keeps fewer)."""
MAX_MESSAGE_IDS = 100
"""IDs of a session's stored messages kept: its last ones (MessageCount counts them all)."""
MAX_REFUSED = 10
"""Refusals (4xx and 5xx replies) quoted in a summary, each cut to REFUSAL_CHARS."""
REFUSAL_CHARS = 300

Ending = Literal["quit", "timeout", "dropped", "server closed", "client closed"]
"""How a session ended: the client's QUIT, the idle timeout, a fault rule's drop, the server closing
it after a 421 (too many failed logins, say), or the client closing (or losing) the connection."""


class SessionTrail:
    """What a running session keeps for the log: the last of the lines its messages took, and their IDs."""

    __slots__ = ("chars", "lines", "message_count", "messages", "omitted")

    def __init__(self) -> None:
        self.lines: deque[SessionLine] = deque()
        self.chars = 0
        self.omitted = 0
        """Lines left out (the session's earliest) to keep within MAX_LINES and MAX_SESSION_CHARS."""
        self.messages: deque[str] = deque(maxlen=MAX_MESSAGE_IDS)
        self.message_count = 0

    def add_lines(self, lines: Sequence[SessionLine]) -> None:
        """Keep these lines (the next of the session's), forgetting the earliest beyond the bounds."""
        if len(lines) > MAX_LINES:
            self.omitted += len(lines) - MAX_LINES
            lines = lines[-MAX_LINES:]
        kept = self.lines
        for line in lines:
            kept.append(line)
            self.chars += len(line.text)
        while len(kept) > MAX_LINES or (self.chars > MAX_SESSION_CHARS and len(kept) > 1):
            self.chars -= len(kept.popleft().text)
            self.omitted += 1

    def add_message(self, message_id: str) -> None:
        """A message of this session was stored."""
        self.messages.append(message_id)
        self.message_count += 1


def _ending(lines: Sequence[SessionLine], dropped: bool, timed_out: bool) -> Ending:
    if dropped:
        return "dropped"
    if timed_out:
        return "timeout"
    for line in reversed(lines):
        if line.dir == "S":
            if line.text.startswith("221"):
                return "quit"
            if line.text.startswith("421"):
                return "server closed"
            break
    return "client closed"


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One ended SMTP session, as the log keeps it."""

    info: SessionInfo
    ended: float
    end: Ending
    messages: tuple[str, ...]
    message_count: int
    refusals: int
    """Replies with a 4xx or 5xx code in the whole session."""
    refused: tuple[str, ...]
    """The first of them found in the kept lines (MAX_REFUSED at most)."""
    lines: tuple[SessionLine, ...]
    lines_omitted: int

    def summary(self) -> dict[str, Any]:
        """The summary `GET /api/v1/sessions` lists and the `session` event carries (no lines)."""
        info = self.info
        return {
            "ID": info.id,
            "Peer": info.peer,
            "Helo": info.helo,
            "TLS": info.tls,
            "Username": info.username,
            "Started": rfc3339(info.started),
            "Ended": rfc3339(self.ended),
            "End": self.end,
            "Messages": list(self.messages),
            "MessageCount": self.message_count,
            "Refusals": self.refusals,
            "Refused": list(self.refused),
            "LineCount": len(self.lines) + self.lines_omitted,
        }

    def to_json(self) -> dict[str, Any]:
        """The whole record, `GET /api/v1/sessions/{ID}`: the summary, its kept lines and how many were left out before them."""
        return {
            **self.summary(),
            "LinesOmitted": self.lines_omitted,
            "Lines": [{"Time": rfc3339(line.time), "Dir": line.dir, "Text": line.text} for line in self.lines],
        }


def record_session(
    info: SessionInfo,
    trail: SessionTrail,
    tail: Sequence[SessionLine],
    *,
    refusals: int,
    ended: float,
    dropped: bool = False,
    timed_out: bool = False,
) -> SessionRecord:
    """Freeze a session that ended: `tail` is the lines no message took (the end of its transcript)."""
    trail.add_lines(tail)
    lines = tuple(trail.lines)
    refused = [line.text[:REFUSAL_CHARS] for line in lines if line.dir == "S" and line.text[:1] in ("4", "5")]
    return SessionRecord(
        info=info,
        ended=ended,
        end=_ending(lines, dropped, timed_out),
        messages=tuple(trail.messages),
        message_count=trail.message_count,
        refusals=refusals,
        refused=tuple(refused[:MAX_REFUSED]),
        lines=lines,
        lines_omitted=trail.omitted,
    )


class SessionLog:
    """The most recent sessions (MAX_SESSIONS), newest last; each added is published as a `session` event.

    Used on the event loop only: the SMTP side adds, the web side reads.
    """

    def __init__(self, bus: EventBus | None = None, capacity: int = MAX_SESSIONS) -> None:
        self._bus = bus
        self._capacity = capacity
        self._records: OrderedDict[str, SessionRecord] = OrderedDict()
        self.recorded = 0
        """Sessions recorded since start (older ones are forgotten)."""

    @property
    def capacity(self) -> int:
        return self._capacity

    def add(self, record: SessionRecord) -> None:
        """Keep a session that ended (forgetting the oldest beyond the capacity) and tell the bus."""
        self._records[record.info.id] = record
        self._records.move_to_end(record.info.id)
        while len(self._records) > self._capacity:
            self._records.popitem(last=False)
        self.recorded += 1
        if self._bus is not None:
            self._bus.publish(Event("session", record.summary()))

    def recent(self) -> list[SessionRecord]:
        """The sessions kept, newest first."""
        return list(reversed(self._records.values()))

    def get(self, session_id: str) -> SessionRecord | None:
        return self._records.get(session_id)

    def __len__(self) -> int:
        return len(self._records)
