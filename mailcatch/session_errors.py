"""The `error` event: an SMTP session that met an error, told to the web UI as Mailpit tells it."""

from __future__ import annotations

from collections.abc import Sequence

from mailcatch.models import Event, SessionInfo, TranscriptLine

__all__ = ["session_error"]


def session_error(info: SessionInfo, lines: Sequence[TranscriptLine]) -> Event | None:
    """An `error` event for a session that was refused something (a 4xx or 5xx reply) or that the
    client left in the middle of DATA; None for a session that went well.

    Its data is `{Level, Type, IP, Message}`, Mailpit's shape for errors it shows in the web UI;
    the message quotes the last refusal.
    """
    replies = [(index, line) for index, line in enumerate(lines) if line.dir == "S"]
    refusals = [line.text for _, line in replies if line.text[:1] in ("4", "5")]
    if refusals:
        more = f" (and {len(refusals) - 1} more)" if len(refusals) > 1 else ""
        message = f"SMTP session from {info.peer} was refused: {refusals[-1]}{more}"
    elif replies and replies[-1][1].text.startswith("354") and \
            not any(line.dir == "C" for line in lines[replies[-1][0] + 1:]):
        message = f"SMTP session from {info.peer} was cut off in the middle of a message (DATA)"
    else:
        return None
    host = info.peer.rsplit(":", 1)[0].strip("[]")
    return Event("error", {"Level": "error", "Type": "smtpd", "IP": host, "Message": message})
