"""The HTTP API: Mailpit's /api/v1 routes, plus the SMTP transcript of each message."""

from __future__ import annotations

import contextlib
import datetime
import re
import urllib.parse

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from mailcatch.errors import BadRequest, NotFound, StoreError
from mailcatch.mail.parse import ParsedMessage, Part, hidden_recipients, parse_message, part_content, raw_headers
from mailcatch.mail.unsubscribe import list_unsubscribe
from mailcatch.shapes import (
    MessageJSON,
    MessagesPage,
    address_json,
    calendar_json,
    list_unsubscribe_json,
    part_json,
)
from mailcatch.storage import StoredMessage
from mailcatch.storage.search import zone_named
from mailcatch.web.requests import id_list, json_body, latest_query, page_params, search_query, store_of
from mailcatch.web.thumbnails import thumbnail_jpeg

_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._ ()+-]")
PDF = "application/pdf"
INLINE_PDF_POLICY = "frame-ancestors 'self'"
"""The policy of a PDF shown inline (`?inline=1`): only the catcher's own pages may frame it. Nothing
else: Chrome draws a PDF with an <embed> in a page of its own making, under this policy, and
`object-src 'none'` (or `default-src 'none'`) can block its viewer (crbug.com/271452)."""


def content_disposition(kind: str, filename: str) -> str:
    """A Content-Disposition header value that is safe for any file name."""
    filename = filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    ascii_name = _SAFE_FILENAME.sub("_", filename)
    quoted = urllib.parse.quote(filename, safe="")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}"


def canonical_header(name: str) -> str:
    """A header name spelled as Mailpit returns it (Go's canonical form): `Message-Id`, `Mime-Version`."""
    return "-".join(word[:1].upper() + word[1:].lower() for word in name.split("-"))


# Listing -------------------------------------------------------------
async def list_messages(request: Request) -> Response:
    store = store_of(request)
    start, limit = page_params(request)
    messages, tags = await store.summaries(start, limit)
    total, unread = store.total, store.unread
    page: MessagesPage = {
        "total": total,
        "unread": unread,
        "count": len(messages),
        "messages_count": total,
        "messages_unread": unread,
        "start": start,
        "tags": tags,
        "messages": messages,
    }
    return JSONResponse(page)


async def delete_messages(request: Request) -> Response:
    ids = id_list(await json_body(request))
    await store_of(request).delete(ids)
    return PlainTextResponse("ok")


async def set_read(request: Request) -> Response:
    data = await json_body(request)
    read = data.get("Read", False)
    if not isinstance(read, bool):
        raise BadRequest("Read must be true or false")
    store = store_of(request)
    query = data.get("Search")
    if query is not None and not isinstance(query, str):
        raise BadRequest("Search must be a search query string")
    if query and query.strip():
        found = await store.matching_ids(search_query(query), zone_named(request.query_params.get("tz")))
        if found:
            await store.set_read(found, read)
        return PlainTextResponse("ok")
    await store.set_read(id_list(data), read)
    return PlainTextResponse("ok")


# One message ---------------------------------------------------------
async def _message(request: Request, raw: bool = True) -> StoredMessage:
    store = store_of(request)
    message_id = await store.resolve_id(request.path_params["id"], latest_query(request))
    return await store.get(message_id, raw=raw)


def date_json(moment: datetime.datetime) -> str:
    """A date as Mailpit gives a message's: RFC 3339 with milliseconds in its own offset, Z for UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    text = moment.isoformat(timespec="milliseconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _first_header(parsed: ParsedMessage, name: str) -> str | None:
    """The first value of a header, decoded (None if absent)."""
    return next((value for key, value in parsed.headers if key.lower() == name), None)


def message_json(message: StoredMessage, parsed: ParsedMessage) -> MessageJSON:
    """The full message as Mailpit's GET /api/v1/message/{ID} gives it, with mailcatch's `Calendar` and `Envelope`."""
    summary = message.summary
    received = datetime.datetime.fromtimestamp(message.created, datetime.timezone.utc)
    date = parsed.date or received
    unsubscribe = list_unsubscribe(
        _first_header(parsed, "list-unsubscribe"), _first_header(parsed, "list-unsubscribe-post")
    )
    return {
        "ID": message.id,
        "MessageID": parsed.message_id,
        "Read": True,
        "From": summary["From"],
        "To": summary["To"],
        "Cc": summary["Cc"],
        "Bcc": [address_json(a) for a in (*parsed.bcc, *hidden_recipients(parsed, message.envelope.rcpt_to))],
        "ReplyTo": summary["ReplyTo"],
        "ReturnPath": parsed.return_path or message.envelope.mail_from,
        "Subject": parsed.subject,
        "ListUnsubscribe": list_unsubscribe_json(unsubscribe),
        "Date": date_json(date),
        "Created": summary["Created"],
        "Tags": message.tags,
        "Username": message.envelope.username,
        "Text": parsed.text,
        "TextFromHTML": parsed.text_from_html,
        "HTML": parsed.html,
        "Size": len(message.raw),
        "Inline": [part_json(p) for p in parsed.inline],
        "Attachments": [part_json(p) for p in parsed.attachments],
        "Calendar": [calendar_json(p) for p in parsed.calendar],
        "Envelope": message.envelope.to_json(),
    }


def _read_by_a_reader(request: Request) -> bool:
    """Whether the request is a reader's, which marks the message read: a client's or a script's
    (`Sec-Fetch-Dest: empty`) or a page's, not an image, style or frame loaded by some page (a
    message's HTML pointing at another message must not mark it read)."""
    return request.headers.get("sec-fetch-dest", "empty") in ("empty", "document")


async def get_message(request: Request) -> Response:
    message = await _message(request)
    parsed = await run_in_threadpool(parse_message, message.raw)
    if not message.read and _read_by_a_reader(request):
        with contextlib.suppress(StoreError):  # reading still works while the database can't be written
            await store_of(request).set_read([message.id], True)
    return JSONResponse(message_json(message, parsed))


async def get_headers(request: Request) -> Response:
    message = await _message(request)
    headers: dict[str, list[str]] = {}
    for name, value in await run_in_threadpool(raw_headers, message.raw):  # encoded words as sent, as in Mailpit
        headers.setdefault(canonical_header(name), []).append(value)
    return JSONResponse(headers)


async def get_raw(request: Request) -> Response:
    message = await _message(request)
    if request.query_params.get("dl") in ("1", "true"):
        return Response(
            message.raw,
            media_type="message/rfc822",
            headers={"Content-Disposition": content_disposition("attachment", f"{message.id}.eml")},
        )
    return Response(message.raw, media_type="text/plain; charset=utf-8")


async def _part(request: Request) -> tuple[Part, bytes]:
    """The part of the message that the path's {part_id} names, and its decoded content (404 if none)."""
    message = await _message(request)
    part_id = request.path_params["part_id"]
    found = await run_in_threadpool(part_content, message.raw, part_id)
    if found is None:
        raise NotFound(f"message {message.id} has no part {part_id!r}")
    return found


def _inline_pdf(part: Part, content: bytes) -> Response:
    """A PDF part for the UI's preview frame: inline, framed by the catcher's own pages only, not
    sandboxed (Chromium's PDF viewer won't run in a sandboxed document). Nothing but a PDF is served
    inline: a part labelled otherwise, or whose bytes aren't a PDF's, could run as a page here."""
    media_type = (part.content_type or "").partition(";")[0].strip().lower()
    if media_type != PDF:
        raise BadRequest(f"inline is for PDF parts only; this part is {media_type or 'untyped'}")
    if not content.startswith(b"%PDF-"):
        raise BadRequest(f"inline is for PDF parts only; this part is labelled {PDF} but doesn't start with %PDF-")
    return Response(
        content,
        media_type=PDF,
        headers={
            "Content-Disposition": content_disposition("inline", part.filename or f"part-{part.part_id}.pdf"),
            "Content-Security-Policy": INLINE_PDF_POLICY,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "SAMEORIGIN",
        },
    )


async def get_part(request: Request) -> Response:
    part, content = await _part(request)
    if request.query_params.get("inline") in ("1", "true"):
        return _inline_pdf(part, content)
    return Response(
        content,
        media_type=part.content_type or "application/octet-stream",
        headers={
            "Content-Disposition": content_disposition("attachment", part.filename or f"part-{part.part_id}"),
            "Content-Security-Policy": "sandbox",
        },
    )


async def get_thumbnail(request: Request) -> Response:
    """A 180 x 120 JPEG of an image part, as Mailpit's UI shows attachments (white for other parts)."""
    part, content = await _part(request)
    jpeg = await run_in_threadpool(thumbnail_jpeg, content)
    name = part.filename or part.content_id or f"part-{part.part_id}"
    return Response(jpeg, media_type="image/jpeg", headers={"Content-Disposition": content_disposition("inline", name)})


async def get_transcript(request: Request) -> Response:
    return JSONResponse(await store_of(request).transcript(request.path_params["id"]))


# Health --------------------------------------------------------------
async def livez(request: Request) -> Response:
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    if not getattr(request.app.state, "ready", False):
        return JSONResponse({"Error": "starting"}, status_code=503)
    # A store on a database server (PostgreSQL) says why it can't serve now: the server out of reach.
    unready = getattr(store_of(request), "unready", None)
    reason = await unready() if unready is not None else None
    if reason:
        return JSONResponse({"Error": reason}, status_code=503)
    return PlainTextResponse("ok")


def routes() -> list[BaseRoute]:
    """Every API route, in one table."""
    return [
        Route("/api/v1/messages", list_messages, methods=["GET"]),
        Route("/api/v1/messages", delete_messages, methods=["DELETE"]),
        Route("/api/v1/messages", set_read, methods=["PUT"]),
        Route("/api/v1/message/{id}", get_message, methods=["GET"]),
        Route("/api/v1/message/{id}/headers", get_headers, methods=["GET"]),
        Route("/api/v1/message/{id}/raw", get_raw, methods=["GET"]),
        Route("/api/v1/message/{id}/part/{part_id}", get_part, methods=["GET"]),
        Route("/api/v1/message/{id}/part/{part_id}/thumb", get_thumbnail, methods=["GET"]),
        Route("/api/v1/message/{id}/transcript", get_transcript, methods=["GET"]),
        Route("/livez", livez, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
