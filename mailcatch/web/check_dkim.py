"""GET /api/v1/message/{ID}/dkim: each DKIM and ARC signature's result, and the ARC chain's (mailcatch's own).

Keys come from the --dkim-keys file (read again for each check, so edits need no restart) and, with
--dkim-dns, from DNS; verification runs on a thread, never on the event loop.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mailcatch.checks.dkim import DkimJSON, verify_message
from mailcatch.checks.dkim_dns import KeySources
from mailcatch.checks.dkim_keys import read_dkim_keys
from mailcatch.config import Settings
from mailcatch.errors import ConfigError, HTTPError
from mailcatch.web.requests import latest_query, store_of

__all__ = ["routes"]


def _check(raw: bytes, settings: Settings) -> DkimJSON:
    """The check, with the keys file as it is now (on a thread: it reads a file and may ask DNS)."""
    try:
        records = read_dkim_keys(settings.dkim_keys) if settings.dkim_keys else {}
    except ConfigError as error:  # the file changed since the start and no longer reads
        raise HTTPError(str(error)) from None
    server = settings.dkim_dns_server
    sources = KeySources(
        records=records,
        keys_file=settings.dkim_keys,
        dns=settings.dkim_dns,
        dns_server=(server.host, server.port) if server else None,
    )
    return verify_message(raw, sources)


async def dkim_check(request: Request) -> Response:
    store = store_of(request)
    message_id = await store.resolve_id(request.path_params["id"], latest_query(request))
    message = await store.get(message_id, raw=True)
    return JSONResponse(await run_in_threadpool(_check, message.raw, request.app.state.settings))


def routes() -> list[BaseRoute]:
    """The DKIM check's route."""
    return [Route("/api/v1/message/{id}/dkim", dkim_check, methods=["GET"])]
