"""Mailpit's tag routes: list, set, rename and delete tags."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from mailcatch.errors import BadRequest
from mailcatch.mail.tags import clean_tag
from mailcatch.web.requests import id_list, json_body, store_of


async def list_tags(request: Request) -> Response:
    return JSONResponse(await store_of(request).all_tags())


async def set_tags(request: Request) -> Response:
    data = await json_body(request)
    new_tags = data.get("Tags")
    if not isinstance(new_tags, list) or not all(isinstance(tag, str) for tag in new_tags):
        raise BadRequest("Tags must be a list of tag strings (an empty list removes every tag)")
    ids = id_list(data)
    if not ids:
        raise BadRequest("IDs must list the messages to tag")
    await store_of(request).set_tags(ids, new_tags)
    return PlainTextResponse("ok")


async def rename_tag(request: Request) -> Response:
    """Rename a tag, as Mailpit does: the new name is cleaned, and it may not be another tag's."""
    tag = request.path_params["tag"]
    name = (await json_body(request)).get("Name")
    if not isinstance(name, str):
        raise BadRequest("Name must be the tag's new name")
    new_name = clean_tag(name)
    if not new_name:
        raise BadRequest(f"invalid tag name: {new_name}: Name must be the tag's new name")
    if new_name == tag:
        return PlainTextResponse("ok")
    store = store_of(request)
    in_use = {existing.lower() for existing in await store.all_tags()}
    if tag.lower() not in in_use:
        raise BadRequest(f"tag not found: {tag}")
    if new_name.lower() != tag.lower() and new_name.lower() in in_use:
        raise BadRequest(f"tag already exists: {new_name}")
    await store.rename_tag(tag, new_name)
    return PlainTextResponse("ok")


async def delete_tag(request: Request) -> Response:
    tag = request.path_params["tag"]
    if not await store_of(request).delete_tag(tag):
        raise BadRequest(f"tag not found: {tag}")
    return PlainTextResponse("ok")


def routes() -> list[BaseRoute]:
    """The tag routes."""
    return [
        Route("/api/v1/tags", list_tags, methods=["GET"]),
        Route("/api/v1/tags", set_tags, methods=["PUT"]),
        Route("/api/v1/tags/{tag:path}", rename_tag, methods=["PUT"]),
        Route("/api/v1/tags/{tag:path}", delete_tag, methods=["DELETE"]),
    ]
