"""The `error` event: an SMTP session that met an error, told to the web UI as Mailpit tells it."""

from __future__ import annotations

from mailcatch.models import Event, SessionInfo
from mailcatch.smtp.transcript import TranscriptRecorder

__all__ = ["session_error"]


def session_error(info: SessionInfo, recorder: TranscriptRecorder) -> Event | None:
    """An `error` event for a session that was refused something (a 4xx or 5xx reply) or that the
    client left in the middle of DATA; None for a session that went well.

    Its data is `{Level, Type, IP, Message}`, Mailpit's shape for errors it shows in the web UI;
    the message quotes the last refusal.
    """
    if recorder.refusals:
        more = f" (and {recorder.refusals - 1} more)" if recorder.refusals > 1 else ""
        message = f"SMTP session from {info.peer} was refused: {recorder.last_refusal}{more}"
    elif recorder.in_data:
        message = f"SMTP session from {info.peer} was cut off in the middle of a message (DATA)"
    else:
        return None
    host = info.peer.rsplit(":", 1)[0].strip("[]")
    return Event("error", {"Level": "error", "Type": "smtpd", "IP": host, "Message": message})
