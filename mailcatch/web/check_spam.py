"""GET /api/v1/message/{ID}/sa-check: Mailpit's SpamAssassin check, through the spamd --enable-spamassassin names.

Without --enable-spamassassin the route answers 404, as Mailpit's (which has no such route then), with
a JSON error that says how to turn it on; `GET /api/v1/webui`'s `SpamAssassin` says which.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mailcatch.checks.spam import spam_check, spamd_address
from mailcatch.config import Settings
from mailcatch.errors import NotFound
from mailcatch.web.requests import latest_query, store_of

__all__ = ["routes"]

NOT_ENABLED = "SpamAssassin is not enabled: start mailcatch with --enable-spamassassin HOST:PORT (a spamd)"


async def sa_check(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if not settings.enable_spamassassin:
        raise NotFound(NOT_ENABLED)
    store = store_of(request)
    message_id = await store.resolve_id(request.path_params["id"], latest_query(request))
    message = await store.get(message_id, raw=True)
    address = spamd_address(settings.enable_spamassassin)
    return JSONResponse(await spam_check(message.raw, address, settings.spamassassin_timeout))


def routes() -> list[BaseRoute]:
    """The SpamAssassin check's route."""
    return [Route("/api/v1/message/{id}/sa-check", sa_check, methods=["GET"])]
