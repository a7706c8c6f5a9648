"""Hostile input gets 400 with a JSON error, never a 500: lone surrogates, deep JSON, huge sizes, huge queries."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailcatch.server import ServerThread
from mailcatch.web.requests import MAX_QUERY_TERMS
from tests.helpers import running
from tests.messages import build, send
from tests.postgres.databases import fresh_database

JSON_ROUTES = [
    ("PUT", "/api/v1/messages"),
    ("DELETE", "/api/v1/messages"),
    ("PUT", "/api/v1/tags"),
    ("PUT", "/api/v1/tags/old"),
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def catcher(request: pytest.FixtureRequest) -> Iterator[ServerThread]:
    """A catcher holding two messages: in memory, then on a fresh PostgreSQL database."""
    with contextlib.ExitStack() as stack:
        database = stack.enter_context(fresh_database()) if request.param == "postgresql" else None
        catcher = stack.enter_context(running(database=database))
        send(catcher, build("Hello"), build("Invoice", X_Tags="old"))
        yield catcher


@pytest.fixture(scope="module")
def api(catcher: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=catcher.url, timeout=30) as client:
        yield client


def refused(response: httpx.Response) -> str:
    assert response.status_code == 400, (response.status_code, response.text[:300])
    assert response.headers["content-type"] == "application/json"
    error = response.json()["Error"]
    assert isinstance(error, str) and error
    return error


def send_json(api: httpx.Client, method: str, path: str, text: str) -> httpx.Response:
    return api.request(method, path, content=text.encode(), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(("method", "path"), JSON_ROUTES)
@pytest.mark.parametrize("field", ["IDs", "Search", "Tags", "Name"])
def test_lone_surrogate(api: httpx.Client, method: str, path: str, field: str) -> None:
    value = '"\\ud800"' if field in ("Search", "Name") else '["\\ud800"]'
    error = refused(send_json(api, method, path, f'{{"{field}": {value}, "Read": true}}'))
    assert "surrogate" in error
    refused(send_json(api, method, path, '{"\\udfff": 1}'))  # in a key too


def test_surrogate_pairs_are_text(api: httpx.Client) -> None:
    """A pair (an emoji written as two escapes) is one character, not a lone surrogate."""
    response = send_json(api, "PUT", "/api/v1/messages", '{"Search": "\\ud83d\\ude00", "Read": true}')
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("method", "path"), JSON_ROUTES)
def test_deeply_nested_json(api: httpx.Client, method: str, path: str) -> None:
    for text in ("[" * 100_000 + "]" * 100_000, '{"IDs": ' + "[" * 100_000 + "]" * 100_000 + "}"):
        assert "deep" in refused(send_json(api, method, path, text))


@pytest.mark.parametrize(
    "query", ["larger:99999999999999999999GB", "smaller:9999999999999999999", "larger:" + "9" * 400 + "k"]
)
def test_sizes_beyond_any_number(api: httpx.Client, query: str) -> None:
    for method in ("GET", "DELETE"):
        response = api.request(method, "/api/v1/search", params={"query": query})
        assert "too large" in refused(response)
    assert "too large" in refused(send_json(api, "PUT", "/api/v1/messages", json.dumps({"Search": query})))
    assert "too large" in refused(api.get("/api/v1/message/latest", params={"query": query}))
    assert "too large" in refused(api.get("/view/latest.html", params={"query": query}))


def test_a_size_that_fits_is_searched(api: httpx.Client) -> None:
    for query in ("larger:8000000000GB", "smaller:9000000000000000000", "larger:2MB"):
        assert api.get("/api/v1/search", params={"query": query}).status_code == 200


@pytest.mark.parametrize("term", ["x", "-x", "subject:x", "-addressed:q", "is:read"])
def test_too_many_terms(api: httpx.Client, term: str) -> None:
    query = " ".join([term] * 20_000)
    error = refused(send_json(api, "PUT", "/api/v1/messages", json.dumps({"Search": query, "Read": True})))
    assert "too long" in error
    short = " ".join([term] * 1_000)
    for method in ("GET", "DELETE"):
        assert "too long" in refused(api.request(method, "/api/v1/search", params={"query": short}))
    assert "too long" in refused(api.get("/api/v1/message/latest", params={"query": short}))


def test_the_most_terms_allowed_are_searched(api: httpx.Client) -> None:
    kinds = ["w{i}", "-x{i}", "subject:s{i}", "-addressed:a{i}", "is:read", "-has:attachment", "larger:{i}", "tag:t{i}"]
    query = " ".join(kinds[i % len(kinds)].format(i=i) for i in range(MAX_QUERY_TERMS))
    assert api.get("/api/v1/search", params={"query": query}).status_code == 200
    assert api.delete("/api/v1/search", params={"query": query}).status_code == 200


# Hypothesis: JSON bodies with lone surrogates anywhere, and nesting of any depth, on every JSON route.
_SURROGATE_TEXT = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3)
_TEXT = st.one_of(
    st.text(max_size=5), st.builds(lambda a, s, b: a + s + b, st.text(max_size=3), _SURROGATE_TEXT, st.text(max_size=3))
)


@st.composite
def hostile_bodies(draw: st.DrawFn) -> str:
    field = draw(st.sampled_from(["IDs", "Search", "Tags", "Name", "Read"]))
    if draw(st.booleans()):
        depth = draw(st.integers(min_value=1, max_value=200_000))
        inner = "[" * depth + "]" * depth
        return f'{{"{field}": {inner}}}' if draw(st.booleans()) else inner
    value = draw(st.one_of(_TEXT, st.lists(_TEXT, max_size=3)))
    key = field if draw(st.booleans()) else draw(_TEXT)
    return json.dumps({key: value, "Read": True})  # ensure_ascii writes a lone surrogate as \udXXX


@given(route=st.sampled_from(JSON_ROUTES), body=hostile_bodies())
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_hostile_bodies_never_a_server_error(api: httpx.Client, route: tuple[str, str], body: str) -> None:
    response = send_json(api, *route, body)
    assert response.status_code < 500, (route, body[:200], response.text[:300])
    if response.status_code >= 400:
        assert isinstance(response.json()["Error"], str)


@pytest.mark.parametrize(
    "head",
    [b"GET /api/v1/search?query=" + b"w" * 20_000, b"\x16\x03\x01 not http\r\n\r\n"],
    ids=["request-line-over-16KB", "not-http"],
)
def test_a_request_http_cant_read_gets_a_json_400(catcher: ServerThread, head: bytes) -> None:
    """A request line over h11's limit (a long search URL) or bytes that are not HTTP at all."""
    host, port = catcher.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status, _, rest = answer.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"content-type: application/json" in headers.lower()
    assert "could not be read as HTTP" in json.loads(body)["Error"]
