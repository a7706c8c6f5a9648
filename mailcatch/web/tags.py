"""Mailpit's tag routes: list, set, rename and delete tags."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from mailcatch.errors import BadRequest
from mailcatch.mail.tags import clean_tags
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
    name = (await json_body(request)).get("Name")
    if not isinstance(name, str) or not clean_tags([name]):
        raise BadRequest("Name must be the tag's new name")
    await store_of(request).rename_tag(request.path_params["tag"], clean_tags([name])[0])
    return PlainTextResponse("ok")


async def delete_tag(request: Request) -> Response:
    await store_of(request).delete_tag(request.path_params["tag"])
    return PlainTextResponse("ok")


def routes() -> list[BaseRoute]:
    """The tag routes."""
    return [
        Route("/api/v1/tags", list_tags, methods=["GET"]),
        Route("/api/v1/tags", set_tags, methods=["PUT"]),
        Route("/api/v1/tags/{tag:path}", rename_tag, methods=["PUT"]),
        Route("/api/v1/tags/{tag:path}", delete_tag, methods=["DELETE"]),
    ]
