"""Schemathesis against a real catcher's own swagger.json: no 5xx, and every 4xx is JSON {"Error": "..."}."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from mailcatch.server import ServerThread
from tests.helpers import running
from tests.messages import build, send

MAX_EXAMPLES = 30
# A path ID is either what Schemathesis generated, or one that exists (or "latest"), so the happy paths run too.
ID_CHOICES = ["generated", "known", "latest"]


class Mailbox:
    """A catcher with a few messages in it, refilled when a generated DELETE empties it."""

    def __init__(self, catcher: ServerThread) -> None:
        self.catcher = catcher
        self.client = httpx.Client(base_url=catcher.url, timeout=10)

    def fill(self) -> None:
        """Store a few varied messages: plain, HTML with an attachment, tagged."""
        with_part = build("Invoice 42", html="<p>hi <b>there</b></p>", X_Tags="billing, urgent")
        with_part.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="invoice.pdf")
        send(self.catcher, build("Hello"), with_part, build("Reset your password", to="Bob <bob@example.com>"))

    def some_id(self) -> str:
        """The ID of a stored message (refilling the mailbox when it is empty)."""
        for _ in range(50):
            messages: list[dict[str, Any]] = self.client.get("/api/v1/messages", params={"limit": 1}).json()["messages"]
            if messages:
                return str(messages[0]["ID"])
            self.fill()
        raise AssertionError("the mailbox stays empty")


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    """One catcher for every operation, with messages stored before the first request."""
    with running() as catcher:
        box = Mailbox(catcher)
        box.fill()
        try:
            yield box
        finally:
            box.client.close()


@pytest.fixture(scope="module")
def api_schema(mailbox: Mailbox) -> schemathesis.BaseSchema:
    """The catcher's own OpenAPI document, loaded over HTTP, every mode (valid and invalid input)."""
    config = schemathesis.Config.from_dict({"generation": {"mode": "all", "max-examples": MAX_EXAMPLES}})
    loaded = schemathesis.openapi.from_url(f"{mailbox.catcher.url}/api/v1/swagger.json", config=config, timeout=10)
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema").exclude(path="/api/events")  # a websocket


def _deep(depth: int) -> list[Any]:
    nested: list[Any] = []
    for _ in range(depth):
        nested = [nested]
    return nested


HOSTILE_VALUES = {"surrogate": "\ud800", "deep": _deep(500)}
"""Put in place of a generated JSON body's values: a lone surrogate (valid JSON, not text) and deep
nesting (the 100,000-deep body, which no client library will encode, is in test_hostile_input.py)."""


@schema.parametrize()
@schema.given(id_choice=st.sampled_from(ID_CHOICES), hostile=st.sampled_from([None, *HOSTILE_VALUES]))
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case, id_choice: str, hostile: str | None, mailbox: Mailbox) -> None:
    """Whatever is sent: never a 5xx, and each 4xx has a JSON body whose "Error" is a string."""
    if case.path_parameters and "ID" in case.path_parameters and id_choice != "generated":
        case.path_parameters["ID"] = mailbox.some_id() if id_choice == "known" else "latest"
    if hostile is not None and isinstance(case.body, dict) and case.body:
        case.body = {key: HOSTILE_VALUES[hostile] for key in case.body}
    response = case.call(base_url=mailbox.catcher.url, timeout=10)
    request = f"{case.method} {response.request.url}"
    assert response.status_code < 500, f"{request} gave {response.status_code}: {response.text[:500]}"
    if 400 <= response.status_code < 500:
        content_type = ";".join(response.headers.get("content-type", []))
        assert content_type.startswith("application/json"), (request, content_type)
        body = response.json()
        assert isinstance(body, dict) and isinstance(body.get("Error"), str) and body["Error"], (request, body)


@pytest.mark.parametrize(
    "path", ["/api/v1/messages", "/api/v2/messages", "/api/v1/search?query=a", "/api/v2/search?query=a"]
)
@pytest.mark.parametrize("name", ["start", "limit"])
def test_huge_page_numbers(mailbox: Mailbox, path: str, name: str) -> None:
    """Found by Schemathesis: a start past SQLite's 64-bit integers was an OverflowError and a 500."""
    separator = "&" if "?" in path else "?"
    response = mailbox.client.get(f"{path}{separator}{name}={10**20}")
    assert response.status_code == 200, response.text
    assert response.json()["start"] == 0  # past 64 bits: not a number Mailpit (Go's Atoi) reads, so the default


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/search?query=ab%00c", None),
        ("DELETE", "/api/v1/search?query=ab%00c", None),
        ("GET", "/api/v1/message/latest?query=00%00", None),
        ("GET", "/api/v1/message/latest/headers?query=00%00", None),
        ("GET", "/api/v2/search?kind=to&query=ab%00c", None),
        ("PUT", "/api/v1/messages", {"Search": "ab\x00c"}),
    ],
)
def test_nul_in_search(mailbox: Mailbox, method: str, path: str, body: dict[str, Any] | None) -> None:
    """Found by Schemathesis: a NUL in a search ended FTS5's query early ("unterminated string"), a 500."""
    response = mailbox.client.request(method, path, json=body)
    assert response.status_code == 400, response.text
    assert "NUL" in response.json()["Error"]
