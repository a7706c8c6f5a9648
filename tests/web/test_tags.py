"""Tags as Mailpit has them: X-Tags, plus-addressing, and the tag routes."""

from __future__ import annotations

import urllib.parse

import httpx
import pytest

from mailcatch.mail.tags import clean_tags, plus_tags, with_plus_tags
from tests.helpers import wait_for_count
from tests.messages import build, send


def test_plus_tags_and_cleaning() -> None:
    assert plus_tags(["ann+promo@example.com", "bob@example.com", "c+@x.io", "d+a+b@x.io", "e+x@", "f+y"]) == [
        "promo",
        "a+b",
        "x",
    ]
    assert clean_tags(["  Needs   review ", "needs review", "", "Urgent", "URGENT"]) == ["Needs review", "Urgent"]
    assert with_plus_tags(["billing", "Promo"], ["x+promo@example.com", "y+new@example.com"]) == [
        "billing",
        "Promo",
        "new",
    ]


@pytest.fixture
def ids(catcher, api: httpx.Client) -> list[str]:
    """Three messages, oldest first: X-Tags, plus-addressed To/Cc, and a plus-addressed envelope-only Bcc."""
    send(catcher, build("tagged", X_Tags="billing, Needs Review"))
    send(catcher, build("plus", to="ann+promo@example.com", Cc="bob+vip@example.com"))
    send(catcher, build("hidden"), rcpt=["user@example.com", "audit+secret@example.com"])
    listing = wait_for_count(api, 3)
    return [m["ID"] for m in reversed(listing["messages"])]


def tags_of(api: httpx.Client) -> dict[str, list[str]]:
    return {m["Subject"]: m["Tags"] for m in api.get("/api/v1/messages").json()["messages"]}


def test_tags_from_headers_and_addresses(ids: list[str], api: httpx.Client) -> None:
    assert tags_of(api) == {"tagged": ["billing", "Needs Review"], "plus": ["promo", "vip"], "hidden": ["secret"]}
    assert api.get("/api/v1/tags").json() == ["billing", "Needs Review", "promo", "secret", "vip"]
    assert api.get("/api/v1/messages").json()["tags"] == api.get("/api/v1/tags").json()
    assert api.get(f"/api/v1/message/{ids[1]}").json()["Tags"] == ["promo", "vip"]
    found = api.get("/api/v1/search", params={"query": 'tag:"needs review"'}).json()
    assert [m["Subject"] for m in found["messages"]] == ["tagged"]


def test_set_rename_and_delete(ids: list[str], api: httpx.Client) -> None:
    assert api.put("/api/v1/tags", json={"IDs": ids[:2], "Tags": ["Later", " later ", "Team/QA"]}).text == "ok"
    assert tags_of(api) == {"tagged": ["Later", "Team/QA"], "plus": ["Later", "Team/QA"], "hidden": ["secret"]}
    assert api.get("/api/v1/tags").json() == ["Later", "secret", "Team/QA"]

    renamed = api.put("/api/v1/tags/" + urllib.parse.quote("Team/QA", safe=""), json={"Name": "Team QA"})
    assert renamed.text == "ok"
    assert tags_of(api)["plus"] == ["Later", "Team QA"]
    assert api.get("/api/v1/search", params={"query": 'tag:"Team QA"'}).json()["messages_count"] == 2

    assert api.delete("/api/v1/tags/later").text == "ok"  # tags are matched ignoring case
    assert tags_of(api) == {"tagged": ["Team QA"], "plus": ["Team QA"], "hidden": ["secret"]}
    assert api.get("/api/v1/message/" + ids[0]).json()["Tags"] == ["Team QA"]

    assert api.put("/api/v1/tags", json={"IDs": [ids[0]], "Tags": []}).text == "ok"
    assert tags_of(api)["tagged"] == []
    assert api.get("/api/v1/search", params={"query": "is:tagged"}).json()["messages_count"] == 2
    assert api.delete("/api/v1/tags/no-such-tag").text == "ok"


def test_rename_onto_an_existing_tag_merges(ids: list[str], api: httpx.Client) -> None:
    api.put("/api/v1/tags", json={"IDs": [ids[1]], "Tags": ["promo", "vip"]})
    api.put("/api/v1/tags/vip", json={"Name": "Promo"})
    assert tags_of(api)["plus"] == ["promo"]


@pytest.mark.parametrize(
    ("method", "path", "body", "fragment"),
    [
        ("PUT", "/api/v1/tags", {"Tags": ["x"]}, "IDs"),
        ("PUT", "/api/v1/tags", {"IDs": ["a"], "Tags": "x"}, "Tags"),
        ("PUT", "/api/v1/tags", {"IDs": ["a"], "Tags": [1]}, "Tags"),
        ("PUT", "/api/v1/tags/x", {}, "Name"),
        ("PUT", "/api/v1/tags/x", {"Name": "   "}, "Name"),
    ],
)
def test_bad_requests(api: httpx.Client, method: str, path: str, body: dict[str, object], fragment: str) -> None:
    response = api.request(method, path, json=body)
    assert response.status_code == 400 and fragment in response.json()["Error"]
