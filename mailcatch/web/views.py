"""A message's HTML or text part on a page of its own: /view/{ID}.html and /view/{ID}.txt;
and the UI's deep links as Mailpit's UI writes them (/view/{ID}, /view/latest, /search?q=).

The HTML page is served sandboxed (`Content-Security-Policy: sandbox`), so even opened
directly in a tab its scripts never run, with the policy of the UI's frame: it loads the
message's own parts (its `cid:` references point at them in the API) and `data:` images,
and nothing else, not the catcher's other URLs, not loopback, not remote content, unless
asked with `?remote=1` (then remote images, styles, fonts and media; never frames,
objects or embeds).
"""

from __future__ import annotations

import re
import urllib.parse

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from mailcatch.errors import MessageNotFound, NotFound
from mailcatch.mail.parse import ParsedMessage, parse_message
from mailcatch.storage import StoredMessage
from mailcatch.web.requests import latest_query, store_of

__all__ = ["link_inline_parts", "routes"]

_NETLOC = re.compile(r"[A-Za-z0-9._\-]+(?::[0-9]+)?|\[[0-9A-Fa-f:.]+\](?::[0-9]+)?")
_CID = re.compile(r"""\bcid:([^"'\s)>]+)""", re.IGNORECASE)


def link_inline_parts(html: str, message_id: str, parsed: ParsedMessage) -> str:
    """The HTML with each `cid:` reference to one of the message's parts replaced by that part's API URL."""
    parts = {p.content_id.strip("<>").lower(): p.part_id for p in (*parsed.inline, *parsed.attachments) if p.content_id}
    quoted = urllib.parse.quote(message_id, safe="")

    def replace(found: re.Match[str]) -> str:
        part_id = parts.get(urllib.parse.unquote(found.group(1)).strip("<>").lower())
        return f"../api/v1/message/{quoted}/part/{part_id}" if part_id else found.group(0)

    return _CID.sub(replace, html)


async def _message(request: Request) -> tuple[StoredMessage, ParsedMessage]:
    store = store_of(request)
    message_id = await store.resolve_id(request.path_params["id"], latest_query(request))
    message = await store.get(message_id)
    return message, await run_in_threadpool(parse_message, message.raw)


def view_policy(parts_url: str, remote: bool) -> str:
    """The Content-Security-Policy of a message's HTML page: its own parts (`parts_url`, a path
    prefix), inline styles and data: images and fonts; remote ones only when `remote`."""
    own = f"{parts_url} data:"
    more = " http: https:" if remote else ""
    return (
        "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; "
        f"img-src {own}{more}; style-src 'unsafe-inline' {parts_url}{more}; font-src {own}{more}; "
        f"media-src {own}{more}; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
    )


async def view_html(request: Request) -> Response:
    message, parsed = await _message(request)
    if not parsed.html:
        raise NotFound(f"message {message.id} has no HTML part")
    netloc = request.url.netloc
    if not _NETLOC.fullmatch(netloc):  # only with --allowed-hosts '*': keep the policy's syntax whole
        netloc = "localhost"
    parts_url = f"{request.url.scheme}://{netloc}/api/v1/message/{urllib.parse.quote(message.id, safe='')}/part/"
    remote = request.query_params.get("remote") in ("1", "true")
    return HTMLResponse(
        link_inline_parts(parsed.html, message.id, parsed),
        headers={"Content-Security-Policy": view_policy(parts_url, remote), "Referrer-Policy": "no-referrer"},
    )


async def view_text(request: Request) -> Response:
    _, parsed = await _message(request)
    return PlainTextResponse(parsed.text)


async def open_in_ui(request: Request) -> Response:
    """/view/{ID} (or /view/latest): the UI, showing that message (its location names it after `#m=`)."""
    store = store_of(request)
    try:
        message = await store.get(await store.resolve_id(request.path_params["id"], latest_query(request)), raw=False)
    except MessageNotFound:
        return RedirectResponse("/", status_code=302)  # the UI shows the inbox
    return RedirectResponse("/#" + urllib.parse.urlencode({"m": message.id}), status_code=302)


async def search_in_ui(request: Request) -> Response:
    """/search?q=...: the UI, running that search."""
    query = request.query_params.get("q", "")
    return RedirectResponse("/#" + urllib.parse.urlencode({"q": query}) if query else "/", status_code=302)


def routes() -> list[BaseRoute]:
    """The view routes, and the UI's deep links."""
    return [
        Route("/view/{id}.html", view_html, methods=["GET"]),
        Route("/view/{id}.txt", view_text, methods=["GET"]),
        Route("/view/{id}", open_in_ui, methods=["GET"]),
        Route("/search", search_in_ui, methods=["GET"]),
    ]
