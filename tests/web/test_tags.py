"""Tags as Mailpit has them: X-Tags, plus-addressing, and the tag routes."""

from __future__ import annotations

import urllib.parse

import httpx
import pytest

from mailcatch.mail.tags import clean_tag, clean_tags, plus_tags, with_plus_tags
from tests.helpers import wait_for_count
from tests.messages import build, send

pytestmark = pytest.mark.both_backends  # each test runs on in-memory SQLite and on PostgreSQL


def test_plus_tags_and_cleaning() -> None:
    # Mailpit's rules: the text between the first "+" and the "@", split on "+".
    assert plus_tags(["ann+promo@example.com", "bob@example.com", "c+@x.io", "d+a+b@x.io", "e+x@", "f+y"]) == [
        "a",
        "b",
        "promo",
        "x",
    ]
    assert clean_tags(["  Needs   review ", "needs review", "", "Urgent", "URGENT"]) == ["Needs review", "Urgent"]
    # Anything but letters, digits, "-", "_", "." and spaces becomes a space; sorted ignoring case.
    assert clean_tag("bad/char!") == "bad char"
    assert clean_tag("v1.2_beta-3") == "v1.2_beta-3"
    assert clean_tag("\tcafé / ünïcode ") == "caf n code"
    assert clean_tags(["zeta", "Beta", "alpha", "!!!"]) == ["alpha", "Beta", "zeta"]
    assert with_plus_tags(["billing", "Promo"], ["x+promo@example.com", "y+new@example.com"]) == [
        "billing",
        "new",
        "Promo",
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
    assert api.put("/api/v1/tags", json={"IDs": ids[:2], "Tags": ["Team/QA", "Later", " later "]}).text == "ok"
    assert tags_of(api) == {"tagged": ["Later", "Team QA"], "plus": ["Later", "Team QA"], "hidden": ["secret"]}
    assert api.get("/api/v1/tags").json() == ["Later", "secret", "Team QA"]

    renamed = api.put("/api/v1/tags/" + urllib.parse.quote("Team QA", safe=""), json={"Name": "QA: team!"})
    assert renamed.text == "ok"
    assert tags_of(api)["plus"] == ["Later", "QA team"]
    assert api.get("/api/v1/search", params={"query": 'tag:"QA team"'}).json()["messages_count"] == 2

    assert api.delete("/api/v1/tags/later").text == "ok"  # tags are matched ignoring case
    assert tags_of(api) == {"tagged": ["QA team"], "plus": ["QA team"], "hidden": ["secret"]}
    assert api.get("/api/v1/message/" + ids[0]).json()["Tags"] == ["QA team"]

    assert api.put("/api/v1/tags", json={"IDs": [ids[0]], "Tags": []}).text == "ok"
    assert tags_of(api)["tagged"] == []
    assert api.get("/api/v1/search", params={"query": "is:tagged"}).json()["messages_count"] == 2


def test_unknown_tags_are_refused_as_mailpit_refuses_them(ids: list[str], api: httpx.Client) -> None:
    gone = api.delete("/api/v1/tags/no-such-tag")
    assert gone.status_code == 400 and gone.json() == {"Error": "tag not found: no-such-tag"}
    missing = api.put("/api/v1/tags/no-such-tag", json={"Name": "other"})
    assert missing.status_code == 400 and missing.json() == {"Error": "tag not found: no-such-tag"}
    assert api.put("/api/v1/tags/promo", json={"Name": "promo"}).text == "ok"  # the same name: nothing to do


def test_rename_onto_an_existing_tag_is_refused(ids: list[str], api: httpx.Client) -> None:
    api.put("/api/v1/tags", json={"IDs": [ids[1]], "Tags": ["promo", "vip"]})
    taken = api.put("/api/v1/tags/vip", json={"Name": "Promo"})
    assert taken.status_code == 400 and taken.json() == {"Error": "tag already exists: Promo"}
    assert tags_of(api)["plus"] == ["promo", "vip"]
    assert api.put("/api/v1/tags/vip", json={"Name": "VIP"}).text == "ok"  # a new case of its own name is fine
    assert tags_of(api)["plus"] == ["promo", "VIP"]


def test_one_spelling_per_tag_and_sorted_ignoring_case(ids: list[str], api: httpx.Client) -> None:
    api.put("/api/v1/tags", json={"IDs": [ids[0]], "Tags": ["zebra", "Apple", "mango"]})
    api.put("/api/v1/tags", json={"IDs": [ids[2]], "Tags": ["ZEBRA", "apple"]})
    assert tags_of(api)["tagged"] == ["Apple", "mango", "zebra"]
    assert tags_of(api)["hidden"] == ["Apple", "zebra"]  # the spelling already in use is kept


def test_x_tags_and_plus_tags_are_cleaned(catcher, api: httpx.Client) -> None:
    send(catcher, build("dirty", to="ann+a+b@example.com", X_Tags="bad/char!, Zed, alpha"))
    listing = wait_for_count(api, 1)
    assert listing["messages"][0]["Tags"] == ["a", "alpha", "b", "bad char", "Zed"]
    assert api.get("/api/v1/tags").json() == ["a", "alpha", "b", "bad char", "Zed"]


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
