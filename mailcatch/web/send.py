"""POST /api/v1/send: Mailpit's send API. The JSON body becomes a MIME message (mail.compose),
stored as a message that arrived by SMTP is: tags, --tag filters, the websocket's `new`,
search, retention and limits all apply; its transcript says it came over HTTP, and from where."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import secrets
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mailcatch.auto_tags import AutoTagger
from mailcatch.config import Settings
from mailcatch.errors import BadRequest, PayloadTooLarge, StoreError
from mailcatch.mail.compose import Composed, ComposeError, compose
from mailcatch.mail.tags import clean_tags
from mailcatch.models import ReceivedEnvelope, SessionInfo, SessionLine, Transaction
from mailcatch.shapes import MessageSummary
from mailcatch.smtp.budget import InFlightBudget
from mailcatch.storage import MessageStore
from mailcatch.web.cors import foreign_page
from mailcatch.web.requests import json_object, store_of

__all__ = ["SEND_PATH", "accepted_over_http", "routes"]

SEND_PATH = "/api/v1/send"
OFF_LOOP = 256 * 1024
"""Bodies this big or bigger are decoded and built into a message on a thread, not on the event loop."""

log = logging.getLogger("mailcatch.send")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body; 413 past `limit` bytes (--max-message-size, as Mailpit caps it), read no further."""
    too_large = f"request body too large: more than --max-message-size ({_megabytes(limit)} MB)"
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(too_large)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(too_large)
    return bytes(body)


def _build(body: bytes) -> Composed:
    """The message a request body describes; BadRequest for a body that isn't a JSON object or a message."""
    if not body.strip():
        raise BadRequest("the request body is empty: send a JSON object with From, To and the message")
    data = json_object(body, "a JSON object with From, To and the message")
    try:
        return compose(data)
    except ComposeError as error:
        raise BadRequest(str(error)) from None


def _login_user(request: Request) -> str:
    """The user of the request's basic Authorization header ("" without one), as Mailpit records it."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        return base64.b64decode(token, validate=True).decode("utf-8").partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return ""


def _peer(request: Request) -> str:
    if request.client is None:
        return ""
    host, port = request.client.host, request.client.port
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _transaction(request: Request, body: bytes, message: Composed, username: str) -> Transaction:
    """The transcript of a message sent over HTTP: the request, and what mailcatch made of it."""
    started = time.time()
    session = SessionInfo(
        id=secrets.token_hex(8),
        peer=_peer(request),
        started=started,
        tls=request.url.scheme == "https",
        username=username,
    )
    recipients = ", ".join(f"<{address}>" for address in message.recipients)
    lines = [
        SessionLine(started, "C", f"POST {SEND_PATH} HTTP/{request.scope.get('http_version', '1.1')}"),
        SessionLine(started, "C", f"<{len(body)} bytes of JSON>"),
        SessionLine(
            time.time(),
            "S",
            f"message built by mailcatch: {len(message.raw)} bytes, from <{message.sender}> to {recipients}",
        ),
        SessionLine(time.time(), "S", "200 OK"),
    ]
    return Transaction(session, 0, len(lines), lines, 0)


def _tagger(request: Request, settings: Settings) -> AutoTagger:
    """The --tag filters: the SMTP side's, or (in an app without one) made from the settings once."""
    handler = getattr(request.app.state, "smtp_handler", None)
    tagger = getattr(handler, "auto_tagger", None)
    if isinstance(tagger, AutoTagger):
        return tagger
    made = getattr(request.app.state, "send_tagger", None)
    if not isinstance(made, AutoTagger):
        made = request.app.state.send_tagger = AutoTagger(settings.tag_filters())
    return made


async def _tag(request: Request, store: MessageStore, summary: MessageSummary, message: Composed) -> None:
    """Give the stored message the request's Tags (split on commas, as its X-Tags header is), then the --tag filters'."""
    wanted = clean_tags([*summary["Tags"], *(part for tag in message.tags for part in tag.split(","))])
    if [t.lower() for t in wanted] != [t.lower() for t in summary["Tags"]]:
        await store.set_tags([summary["ID"]], wanted)
        summary = {**summary, "Tags": wanted}
    tagger = _tagger(request, request.app.state.settings)
    if tagger:
        await tagger.tag(store, summary, message.raw)


async def send_message(request: Request) -> Response:
    """Build the message the JSON body describes and store it; `{"ID": ...}`."""
    settings: Settings = request.app.state.settings
    foreign = foreign_page(request, settings.api_cors)
    if foreign is not None:
        log.warning("send from a page at %r refused: its origin is not allowed by --api-cors", foreign)
        return JSONResponse(
            {"Error": f"a page at {foreign} may not send mail through this catcher (--api-cors does not allow it)"},
            status_code=403,
        )
    body = await _read_body(request, settings.max_message_size)
    message = await asyncio.to_thread(_build, body) if len(body) >= OFF_LOOP else _build(body)
    if len(message.raw) > settings.max_message_size:
        raise PayloadTooLarge(
            f"message too large: {len(message.raw)} bytes, more than --max-message-size"
            f" ({_megabytes(settings.max_message_size)} MB)"
        )
    store = store_of(request)
    if settings.ignore_duplicate_ids and message.message_id and await store.has_message_id(message.message_id):
        log.info("message sent over HTTP with Message-ID <%s> already stored: ignored", message.message_id)
        return JSONResponse({"ID": ""})  # as Mailpit answers a duplicate it drops
    budget: InFlightBudget | None = getattr(getattr(request.app.state, "smtp_handler", None), "budget", None)
    held = len(message.raw) if budget is not None else 0
    if budget is not None and not budget.take(held):
        return JSONResponse(
            {"Error": f"too much mail being received at once (--max-in-flight {budget.megabytes} MB), try again later"},
            status_code=503,
            headers={"Retry-After": "1"},
        )
    username = _login_user(request)
    tx = _transaction(request, body, message, username)
    envelope = ReceivedEnvelope(
        mail_from=message.sender,
        mail_options=[],
        rcpt_to=message.recipients,
        peer=tx.session.peer,
        helo="",
        username=username,
        tls=tx.session.tls,
        received=time.time(),
    )
    try:
        summary = await store.add(message.raw, envelope, tx)
    finally:
        if budget is not None:
            budget.give(held)
    request.app.state.send_accepted_size = accepted_over_http(request) + len(message.raw)
    try:
        await _tag(request, store, summary, message)
    except StoreError as error:
        log.warning("message %s stored, but its tags not set: %s", summary["ID"], error)
    log.info(
        "message %s sent over HTTP by %s from <%s> to %s, subject %r, %d bytes",
        summary["ID"],
        tx.session.peer,
        message.sender,
        ", ".join(f"<{r}>" for r in message.recipients),
        summary["Subject"],
        len(message.raw),
    )
    return JSONResponse({"ID": summary["ID"]})


def accepted_over_http(request: Request) -> int:
    """Bytes of the messages this app has stored from POST /api/v1/send since start."""
    return int(getattr(request.app.state, "send_accepted_size", 0))


def routes() -> list[BaseRoute]:
    """The send route."""
    return [Route(SEND_PATH, send_message, methods=["POST"])]
