"""MailHog's API as a second face: /api/v2/messages, /api/v2/search and the v1 deletes, in MailHog's shapes.

Messages are shown the way MailHog shows them: envelope sender and recipients as paths
(`{Relays, Mailbox, Domain, Params}`), headers as lists of raw (undecoded, unfolded)
values, the body as sent, and multipart bodies split into parts, recursively. Unlike
MailHog, nothing is added to the headers: the message is shown exactly as received.
"""

from __future__ import annotations

import email.message
import re
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mailcatch.errors import BadRequest, NotFound
from mailcatch.models import rfc3339
from mailcatch.shapes import MailHogContent, MailHogMessage, MailHogMIME, MailHogPage, MailHogPath
from mailcatch.storage.search import Term
from mailcatch.web.requests import mailhog_page_params, store_of

__all__ = ["content", "mailhog_message", "routes"]

_KINDS = {"from": "sender", "to": "recipients", "containing": "text"}
_HEAD_END = re.compile(r"\r?\n\r?\n")
_FOLDED = re.compile(r"\r?\n(?=[ \t])")
MAX_MIME_DEPTH = 20
"""Multipart levels split into `MIME.Parts`; a deeper multipart is shown as its body alone."""


def _path(address: str, params: str = "") -> MailHogPath:
    mailbox, at, domain = address.rpartition("@")
    if not at:
        mailbox, domain = address, ""
    return {"Relays": None, "Mailbox": mailbox, "Domain": domain, "Params": params}


def _headers(head: str) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for line in _FOLDED.sub("", head).splitlines():
        name, colon, value = line.partition(":")
        if colon and name.strip():
            headers.setdefault(name.strip(), []).append(value.strip())
    return headers


def _parts(body: str, boundary: str) -> list[str]:
    """The parts of a multipart body between its `--boundary` lines, up to the closing one."""
    delimiter = re.compile(r"(?m)^--" + re.escape(boundary) + r"(--)?[ \t]*\r?$\n?")
    parts: list[str] = []
    start: int | None = None
    for found in delimiter.finditer(body):
        if start is not None:
            end = found.start()
            end -= 2 if body[end - 2 : end] == "\r\n" else 1 if body[end - 1 : end] == "\n" else 0
            parts.append(body[start : max(start, end)])
        if found.group(1):
            break
        start = found.end()
    return parts


def content(text: str, depth: int = 0) -> MailHogContent:
    """MailHog's `Content` of a message or part: `{Headers, Body, Size, MIME}`."""
    split = _HEAD_END.search(text)
    head, body = (text[: split.start()], text[split.end() :]) if split else (text, "")
    headers = _headers(head)
    mime: MailHogMIME | None = None
    content_type = next((v[0] for k, v in headers.items() if k.lower() == "content-type"), "")
    if content_type.lower().startswith("multipart/") and depth < MAX_MIME_DEPTH:
        holder = email.message.Message()
        holder["Content-Type"] = content_type
        boundary = holder.get_boundary()
        if boundary:
            mime = {"Parts": [content(part, depth + 1) for part in _parts(body, boundary)]}
    return {"Headers": headers, "Body": body, "Size": len(text), "MIME": mime}


def mailhog_message(message_id: str, created: float, envelope: Mapping[str, Any], raw: bytes) -> MailHogMessage:
    """One message in MailHog's shape."""
    text = raw.decode("utf-8", "replace")
    whole = content(text)
    mime, whole["MIME"] = whole["MIME"], None
    return {
        "ID": message_id,
        "From": _path(envelope["From"], " ".join(envelope.get("MailOptions", []))),
        "To": [_path(recipient) for recipient in envelope["To"]],
        "Content": whole,
        "Created": rfc3339(created),
        "MIME": mime,
        "Raw": {"From": envelope["From"], "To": envelope["To"], "Data": text, "Helo": envelope.get("Helo", "")},
    }


async def _page(request: Request, terms: list[Term]) -> Response:
    start, limit = mailhog_page_params(request)
    total, messages = await store_of(request).raw_page(terms, start, limit)
    items = [mailhog_message(m.id, m.created, m.envelope.to_json(), m.raw) for m in messages]
    page: MailHogPage = {"total": total, "count": len(items), "start": start, "items": items}
    return JSONResponse(page)


async def list_messages(request: Request) -> Response:
    return await _page(request, [])


async def search_messages(request: Request) -> Response:
    kind = request.query_params.get("kind", "containing")
    if kind not in _KINDS:
        raise BadRequest(f"kind must be from, to or containing, not {kind!r}")
    query = request.query_params.get("query", "")
    return await _page(request, [Term(_KINDS[kind], query)] if query else [])


async def get_message(request: Request) -> Response:
    message = await store_of(request).get(request.path_params["id"])
    return JSONResponse(mailhog_message(message.id, message.created, message.envelope.to_json(), message.raw))


async def delete_message(request: Request) -> Response:
    message_id = request.path_params["id"]
    if not await store_of(request).delete([message_id]):
        raise NotFound(f"message {message_id!r} not found")
    # MailHog's answer: 200 with no body (its npm client reads any body as JSON and fails on "ok").
    return Response(b"", media_type="text/json")


def routes() -> list[BaseRoute]:
    """MailHog's routes (its `DELETE /api/v1/messages` is Mailpit's, which deletes all without a body)."""
    return [
        Route("/api/v2/messages", list_messages, methods=["GET"]),
        Route("/api/v2/search", search_messages, methods=["GET"]),
        Route("/api/v1/messages/{id}", get_message, methods=["GET"]),
        Route("/api/v1/messages/{id}", delete_message, methods=["DELETE"]),
    ]
