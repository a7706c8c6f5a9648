"""The error shape: every 4xx is JSON `{"Error": "what was wrong"}`, whichever route and whatever went wrong."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mailcatch.web.requests import MAX_JSON_BODY
from tests.helpers import running


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    """One empty catcher for the whole module: nothing here changes it."""
    with running() as catcher, httpx.Client(base_url=catcher.url, timeout=10) as client:
        yield client


NOT_FOUND = [
    ("GET", "/api/v1/message/nope"),
    ("GET", "/api/v1/message/nope/headers"),
    ("GET", "/api/v1/message/nope/raw"),
    ("GET", "/api/v1/message/nope/part/1"),
    ("GET", "/api/v1/message/nope/transcript"),
    ("GET", "/api/v1/message/latest"),
    ("GET", "/api/v1/message/latest?query=anything"),
    ("GET", "/view/nope.html"),
    ("GET", "/view/nope.txt"),
    ("GET", "/api/v1/messages/nope"),
    ("DELETE", "/api/v1/messages/nope"),
    ("GET", "/api/v1/no-such-route"),
    ("GET", "/api/v3/messages"),
]

BAD: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/api/v1/search", {}),
    ("GET", "/api/v1/search?query=has:inline", {}),
    ("GET", "/api/v1/search?query=x&tz=Nowhere/City", {}),
    ("DELETE", "/api/v1/search", {}),
    ("PUT", "/api/v1/messages", {"content": b"{not json", "headers": {"content-type": "application/json"}}),
    ("PUT", "/api/v1/messages", {"json": ["IDs"]}),
    ("PUT", "/api/v1/messages", {"json": {"IDs": "abc"}}),
    ("PUT", "/api/v1/messages", {"json": {"IDs": [1, 2]}}),
    ("PUT", "/api/v1/messages", {"json": {"Read": "yes"}}),
    ("PUT", "/api/v1/messages", {"json": {"Search": 42, "Read": True}}),
    ("DELETE", "/api/v1/messages", {"content": b"[]", "headers": {"content-type": "application/json"}}),
    ("PUT", "/api/v1/tags", {"json": {"IDs": ["x"]}}),
    ("PUT", "/api/v1/tags/x", {"json": {"Name": ""}}),
    ("GET", "/api/v2/search?kind=cc&query=x", {}),
]


def assert_error_shape(response: httpx.Response, status: int | None = None) -> None:
    assert 400 <= response.status_code < 500, response.text
    if status is not None:
        assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["Error"] and isinstance(body["Error"], str) and body["Error"].strip()


@pytest.mark.parametrize(("method", "path"), NOT_FOUND)
def test_not_found(api: httpx.Client, method: str, path: str) -> None:
    assert_error_shape(api.request(method, path), 404)


@pytest.mark.parametrize(("method", "path", "extra"), BAD)
def test_bad_request(api: httpx.Client, method: str, path: str, extra: dict[str, Any]) -> None:
    assert_error_shape(api.request(method, path, **extra), 400)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/messages"),
        ("PATCH", "/api/v1/message/x"),
        ("POST", "/api/v1/search"),
        ("PUT", "/api/v2/messages"),
    ],
)
def test_method_not_allowed(api: httpx.Client, method: str, path: str) -> None:
    assert_error_shape(api.request(method, path), 405)


def test_body_too_large(api: httpx.Client) -> None:
    response = api.put(
        "/api/v1/messages", content=b" " * (MAX_JSON_BODY + 1), headers={"content-type": "application/json"}
    )
    assert_error_shape(response, 413)


def test_form_bodies_and_field_case_are_accepted(api: httpx.Client) -> None:
    assert api.put("/api/v1/messages", data={"ids": ["nope"], "read": "true"}).text == "ok"
    assert api.put("/api/v1/messages", json={"ids": ["nope"], "read": True}).text == "ok"
    assert api.request("DELETE", "/api/v1/messages", json={"ids": ["nope"]}).text == "ok"
