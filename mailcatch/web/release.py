"""POST /api/v1/message/{ID}/release: send a captured message on through the relay server, as Mailpit does.

The body is `{"To": ["user@example.com", ...]}`. The message goes out with the changes a
release makes (mailcatch.relay.rewrite: new Date and Message-ID, no Bcc, Return-Path and From
as configured); the stored message is never changed. Every refusal is a 400 whose `Error` says
why: relaying not configured, an address that isn't one, or isn't allowed, and the relay
server's own reply when it refused.
"""

from __future__ import annotations

import email.utils
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from mailcatch.errors import BadRequest
from mailcatch.logs import limit_repeats
from mailcatch.relay import RelayConfig, RelayError, release_rewrite, send
from mailcatch.web.cors import foreign_page
from mailcatch.web.requests import json_body, latest_query, store_of

__all__ = ["routes"]

log = limit_repeats(logging.getLogger("mailcatch.relay"))


def _relay(request: Request) -> RelayConfig:
    relay: RelayConfig | None = getattr(request.app.state.settings, "relay", None)
    if relay is None:
        raise BadRequest(
            "message relaying is not configured: start mailcatch with --smtp-relay-config FILE (or MP_SMTP_RELAY_HOST)"
        )
    return relay


def _addresses(data: dict[str, Any]) -> list[str]:
    """The bare addresses of the body's `To` (its key matched ignoring case, as Mailpit reads it)."""
    given = next((value for key, value in data.items() if key.lower() == "to"), None)
    if given is None:
        given = []
    if not isinstance(given, list) or not all(isinstance(item, str) for item in given):
        raise BadRequest('To must be a list of email addresses, as {"To": ["user@example.com"]}')
    addresses = []
    for item in given:
        _, address = email.utils.parseaddr(item)
        if "@" not in address or any(c.isspace() or c in "<>" for c in address):
            raise BadRequest(f"Invalid email address: {item}")
        addresses.append(address)
    return addresses


def _count(addresses: list[str]) -> str:
    return f"{len(addresses)} address" if len(addresses) == 1 else f"{len(addresses)} addresses"


def _check(relay: RelayConfig, addresses: list[str]) -> None:
    not_allowed = [a for a in addresses if not relay.allowed(a)]
    if not_allowed:
        verb = "does" if len(not_allowed) == 1 else "do"
        raise BadRequest(
            f"Failed: {_count(not_allowed)} {verb} not match the allowlist"
            f" ({relay.allowed_recipients}): {', '.join(not_allowed)}"
        )
    blocked = [a for a in addresses if relay.blocked(a)]
    if blocked:
        raise BadRequest(f"Failed: {_count(blocked)} found on the blocklist: {', '.join(blocked)}")
    if not addresses:
        raise BadRequest("No valid addresses found")


async def release(request: Request) -> Response:
    relay = _relay(request)
    foreign = foreign_page(request, request.app.state.settings.api_cors)
    if foreign is not None:
        log.warning("release from a page at %r refused: its origin is not allowed by --api-cors", foreign)
        return JSONResponse(
            {"Error": f"a page at {foreign} may not release mail through this catcher (--api-cors does not allow it)"},
            status_code=403,
        )
    store = store_of(request)
    message_id = await store.resolve_id(request.path_params["id"], latest_query(request))
    message = await store.get(message_id)
    addresses = _addresses(await json_body(request))
    _check(relay, addresses)
    released = await run_in_threadpool(release_rewrite, message.raw, relay)
    if not released.mail_from:
        raise BadRequest("No From header found: the message has no sender to release it from")
    try:
        await run_in_threadpool(send, relay, released.mail_from, addresses, released.data)
    except RelayError as error:
        log.warning("release of a message via %s failed: %s", relay.server, error)
        raise BadRequest(f"SMTP error: {error}") from None
    log.info("released %s to %s via %s", message.id, ", ".join(addresses), relay.server)
    return PlainTextResponse("ok")


def routes() -> list[BaseRoute]:
    """The release route."""
    return [Route("/api/v1/message/{id}/release", release, methods=["POST"])]
