"""GET /api/v1/message/{ID}/html-check and /link-check: Mailpit's HTML compatibility and link checks.

Both run only when asked, off the event loop. The HTML check reads caniemail's data shipped in the
package (mailcatch.checks.html_compat); the link check requests the message's links
(mailcatch.checks.links), never internal addresses unless the catcher runs with
--allow-internal-http-requests.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mailcatch.checks.html_compat import check_html
from mailcatch.checks.links import link_check
from mailcatch.errors import BadRequest
from mailcatch.mail.parse import ParsedMessage, parse_message
from mailcatch.web.requests import latest_query, store_of

__all__ = ["routes"]


async def _parsed(request: Request) -> ParsedMessage:
    store = store_of(request)
    message_id = await store.resolve_id(request.path_params["id"], latest_query(request))
    message = await store.get(message_id)
    return await run_in_threadpool(parse_message, message.raw, measure_parts=False, html_as_text=False)


async def html_check(request: Request) -> Response:
    parsed = await _parsed(request)
    if not parsed.html.strip():
        raise BadRequest("message does not contain HTML")
    return JSONResponse(await run_in_threadpool(check_html, parsed.html))


async def links_check(request: Request) -> Response:
    follow = request.query_params.get("follow", "").strip().lower() in ("1", "true")
    parsed = await _parsed(request)
    settings = request.app.state.settings
    result = await run_in_threadpool(
        link_check,
        parsed.html,
        parsed.text,
        follow,
        settings.allow_internal_http_requests,
        settings.link_check_timeout,
    )
    return JSONResponse(result)


def routes() -> list[BaseRoute]:
    """The HTML and link check routes."""
    return [
        Route("/api/v1/message/{id}/html-check", html_check, methods=["GET"]),
        Route("/api/v1/message/{id}/link-check", links_check, methods=["GET"]),
    ]
