"""Value objects shared by the SMTP, storage and web layers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from mailcatch.shapes import EnvelopeJSON

Direction = Literal["C", "S"]


@dataclass(slots=True)
class SessionLine:
    """One line of an SMTP session's dialogue: who sent it, when (Unix time) and what.

    (The client's `TranscriptLine` is the same line as a test reads it from the API.)
    """

    time: float
    dir: Direction
    text: str


@dataclass(slots=True)
class SessionInfo:
    """An SMTP connection: its ID, peer, greeting name, TLS and AUTH state."""

    id: str
    peer: str
    started: float
    helo: str = ""
    tls: bool = False
    username: str = ""


@dataclass(slots=True)
class ReceivedEnvelope:
    """The SMTP envelope of one message, as the client gave it, with the session's facts; stored with it.

    Not aiosmtpd's `Envelope` (the transaction in progress) nor the client's (what a test reads).
    """

    mail_from: str
    mail_options: list[str]
    rcpt_to: list[str]
    peer: str
    helo: str
    username: str
    tls: bool
    received: float

    def to_json(self) -> EnvelopeJSON:
        return {
            "From": self.mail_from,
            "MailOptions": self.mail_options,
            "To": self.rcpt_to,
            "Peer": self.peer,
            "Helo": self.helo,
            "Username": self.username,
            "TLS": self.tls,
            "Received": rfc3339(self.received),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], received: float) -> ReceivedEnvelope:
        return cls(
            mail_from=data["From"],
            mail_options=data["MailOptions"],
            rcpt_to=data["To"],
            peer=data["Peer"],
            helo=data["Helo"],
            username=data["Username"],
            tls=data["TLS"],
            received=received,
        )


@dataclass(slots=True)
class Transaction:
    """Where one message's transaction sits in its session's transcript."""

    session: SessionInfo
    start: int
    end: int
    lines: list[SessionLine] = field(default_factory=list)
    """The lines recorded since the previous message of the session was stored."""

    first_line: int = 0
    """Index of `lines[0]` within the whole session transcript."""


@dataclass(frozen=True, slots=True)
class Event:
    """A change pushed to websocket clients as `{"Type": type, "Data": data}`."""

    type: str
    data: Any


_second_text: tuple[int, str] = (-1, "")


def rfc3339(timestamp: float) -> str:
    """Unix time as RFC 3339 in UTC with milliseconds, the way Mailpit writes times."""
    global _second_text
    second = int(timestamp // 1)
    cached = _second_text
    if cached[0] != second:  # formatting is slow; times come in runs within one second
        cached = _second_text = (second, time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second)))
    return f"{cached[1]}{int((timestamp - second) * 1000):03d}Z"
