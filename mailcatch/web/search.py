"""Mailpit's search routes: GET and DELETE /api/v1/search."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from mailcatch.errors import BadRequest
from mailcatch.shapes import SearchPage
from mailcatch.storage.search import zone_named
from mailcatch.web.requests import page_params, search_query, store_of


def _query(request: Request) -> str:
    query = request.query_params.get("query", "").strip()
    if not query:
        raise BadRequest("no search query: give one as ?query=")
    return search_query(query)


async def search_messages(request: Request) -> Response:
    store = store_of(request)
    query = _query(request)
    start, limit = page_params(request)
    zone = zone_named(request.query_params.get("tz"))
    result = await store.search(query, start, limit, zone)
    page: SearchPage = {
        "total": store.total,
        "unread": store.unread,
        "count": len(result.messages),
        "messages_count": result.count,
        "messages_unread": result.unread,
        "start": start,
        "tags": await store.all_tags(),
        "messages": result.messages,
        "partial": result.partial is not None,
        "partial_reason": result.partial,
        "unindexed": result.unindexed,
    }
    return JSONResponse(page)


async def delete_search(request: Request) -> Response:
    store = store_of(request)
    found = await store.matching_ids(_query(request), zone_named(request.query_params.get("tz")))
    if found:
        await store.delete(found)
    return PlainTextResponse("ok")


def routes() -> list[BaseRoute]:
    """The search routes."""
    return [
        Route("/api/v1/search", search_messages, methods=["GET"]),
        Route("/api/v1/search", delete_search, methods=["DELETE"]),
    ]
