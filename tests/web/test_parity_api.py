"""Query parameters and search filters read as Mailpit reads them (issue 17, point 10)."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import wait_for_count
from tests.messages import build, send

pytestmark = pytest.mark.both_backends  # each test runs on in-memory SQLite and on PostgreSQL


def test_limit_zero_is_everything_and_bad_numbers_are_ignored(catcher, api: httpx.Client) -> None:
    send(catcher, *[build(f"m{i}") for i in range(55)])
    wait_for_count(api, 55)
    assert len(api.get("/api/v1/messages", params={"limit": 0}).json()["messages"]) == 55
    assert len(api.get("/api/v1/search", params={"query": "m", "limit": 0}).json()["messages"]) == 55
    for params in ({"limit": "abc"}, {"limit": "-5"}, {"start": "-1"}, {"start": "abc"}):
        page = api.get("/api/v1/messages", params=params)
        assert page.status_code == 200 and len(page.json()["messages"]) == 50 and page.json()["start"] == 0


def test_unknown_filters_are_text_and_unreadable_dates_ignored(catcher, api: httpx.Client) -> None:
    send(catcher, build("hello"))
    wait_for_count(api, 1)
    starred = api.get("/api/v1/search", params={"query": "is:starred"})
    assert starred.status_code == 200 and starred.json()["messages_count"] == 0
    assert api.get("/api/v1/search", params={"query": "hello before:yesterday"}).json()["messages_count"] == 1
    assert api.get("/api/v1/search", params={"query": "larger:huge"}).json()["messages_count"] == 0
