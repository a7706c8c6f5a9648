"""GET /api/v1/message/{ID}/lint: the standards lint of a stored message (mailcatch's own, beyond Mailpit)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mailcatch.checks.lint import lint_json, lint_message
from mailcatch.web.requests import latest_query, store_of

__all__ = ["routes"]


async def get_lint(request: Request) -> Response:
    """The findings about the message's bytes and envelope, errors first; `{ID}` may be `latest`."""
    store = store_of(request)
    message = await store.get(await store.resolve_id(request.path_params["id"], latest_query(request)))
    findings = await run_in_threadpool(lint_message, message.raw, message.envelope.mail_options)
    return JSONResponse(lint_json(findings))


def routes() -> list[BaseRoute]:
    """The lint's route."""
    return [Route("/api/v1/message/{id}/lint", get_lint, methods=["GET"])]
