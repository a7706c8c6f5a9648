"""GET /api/v1/sessions and /api/v1/sessions/{ID}: the recent SMTP sessions (mailcatch's own, beyond Mailpit).

The session log (`smtp/session_log.py`) keeps the most recent sessions in memory, refused
ones too; these routes only read it, on the event loop, where the SMTP side adds to it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mailcatch.errors import NotFound
from mailcatch.smtp.session_log import SessionLog

__all__ = ["routes"]


def _log(request: Request) -> SessionLog:
    session_log: SessionLog = request.app.state.session_log
    return session_log


async def list_sessions(request: Request) -> Response:
    """`{Sessions, Total, Recorded, Max}`: the sessions kept, newest first, as summaries (no lines)."""
    session_log = _log(request)
    sessions = [record.summary() for record in session_log.recent()]
    return JSONResponse(
        {"Sessions": sessions, "Total": len(sessions), "Recorded": session_log.recorded, "Max": session_log.capacity}
    )


async def get_session(request: Request) -> Response:
    """One session with its transcript lines; 404 for one that is unknown or forgotten."""
    session_id = request.path_params["id"]
    record = _log(request).get(session_id)
    if record is None:
        raise NotFound(f"no SMTP session with ID {session_id} in the log (it keeps the most recent ones)")
    return JSONResponse(record.to_json())


def routes() -> list[BaseRoute]:
    """The session log's routes."""
    return [
        Route("/api/v1/sessions", list_sessions, methods=["GET"]),
        Route("/api/v1/sessions/{id}", get_session, methods=["GET"]),
    ]
