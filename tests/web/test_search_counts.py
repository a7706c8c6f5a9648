"""A search's counts stay exact while they are kept between searches: new mail is counted on top,
and any other change (read state, tags, deletion, pruning) counts again."""

from __future__ import annotations

import smtplib

import httpx
import pytest

from mailcatch.storage.search import counts
from tests.helpers import wait_for_count

pytestmark = pytest.mark.both_backends  # each test runs on in-memory SQLite and on PostgreSQL


@pytest.fixture(params=["whole", "split", "listed", "probe-set"], autouse=True)
def counting(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test counts over the whole range at once, and split in parts counted side by side (the
    few read or unread messages looked up one by one); then with them listed in the count's SQL,
    and probed as a set (as when they are more)."""
    if request.param == "split":
        monkeypatch.setattr(counts, "SPLIT_SPAN", 1)
    elif request.param == "listed":
        monkeypatch.setattr(counts, "LOOKED_UP", 0)
    elif request.param == "probe-set":
        monkeypatch.setattr(counts, "FEW_PROBED", 0)


def _send(catcher, *subjects: str) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        for subject in subjects:
            client.sendmail("a@example.com", ["b@example.com"], f"Subject: {subject}\r\n\r\nbody\r\n".encode())


def _counts(api: httpx.Client, query: str, **params: object) -> tuple[int, int, int]:
    found = api.get("/api/v1/search", params={"query": query, **params}).json()
    return found["messages_count"], found["messages_unread"], len(found["messages"])


def test_counts_follow_new_mail_and_every_other_change(catcher, api: httpx.Client) -> None:
    _send(catcher, "alpha 1", "alpha 2", "alpha 3", "beta 1")
    wait_for_count(api, 4)
    assert _counts(api, "alpha") == (3, 3, 3)
    assert _counts(api, "alpha", start=1, limit=1) == (3, 3, 1)
    assert _counts(api, "is:unread") == (4, 4, 4)
    _send(catcher, "alpha 4", "beta 2")
    assert _counts(api, "alpha") == (4, 4, 4)  # counted on top of the kept counts
    assert _counts(api, "is:unread") == (6, 6, 6)
    ids = {m["Subject"]: m["ID"] for m in api.get("/api/v1/messages").json()["messages"]}
    api.put("/api/v1/messages", json={"IDs": [ids["alpha 2"]], "Read": True})
    assert _counts(api, "alpha") == (4, 3, 4)
    assert _counts(api, "is:unread") == (5, 5, 5)
    api.put("/api/v1/tags", json={"IDs": [ids["alpha 3"]], "Tags": ["kept"]})
    assert _counts(api, "alpha tag:kept") == (1, 1, 1)
    api.put("/api/v1/tags", json={"IDs": [ids["alpha 3"]], "Tags": []})
    assert _counts(api, "alpha tag:kept") == (0, 0, 0)
    api.request("DELETE", "/api/v1/messages", json={"IDs": [ids["alpha 1"]]})
    assert _counts(api, "alpha") == (3, 2, 3)
    api.put("/api/v1/messages", json={"Read": True})
    assert _counts(api, "alpha") == (3, 0, 3)
    assert _counts(api, "is:unread") == (0, 0, 0)
    api.delete("/api/v1/messages")
    assert _counts(api, "alpha") == (0, 0, 0)
    _send(catcher, "alpha 5")
    assert _counts(api, "alpha") == (1, 1, 1)


def test_counts_follow_pruning(start_catcher) -> None:
    catcher = start_catcher(max_messages=3)
    _send(catcher, "alpha 1", "alpha 2")
    with httpx.Client(verify=False, base_url=catcher.url) as api:
        assert _counts(api, "alpha") == (2, 2, 2)
        _send(catcher, "alpha 3", "alpha 4", "alpha 5")
        assert _counts(api, "alpha") == (3, 3, 3)


def test_counts_when_few_are_unread(catcher, api: httpx.Client) -> None:
    """With most messages read, the unread are the ones probed (or looked up, or listed)."""
    _send(catcher, "alpha 1", "alpha 2", "alpha 3", "beta 1", "beta 2")
    wait_for_count(api, 5)
    api.put("/api/v1/messages", json={"Read": True})
    ids = {m["Subject"]: m["ID"] for m in api.get("/api/v1/messages").json()["messages"]}
    api.put("/api/v1/messages", json={"IDs": [ids["alpha 2"], ids["beta 1"]], "Read": False})
    assert _counts(api, "alpha") == (3, 1, 3)
    assert _counts(api, "beta") == (2, 1, 2)
    assert _counts(api, "is:unread") == (2, 2, 2)
    assert _counts(api, "alpha -is:unread") == (2, 0, 2)
