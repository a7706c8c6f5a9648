"""A message's HTML can't act on the catcher: /view/{ID}.html loads only the message's own parts
(remote content with ?remote=1), and a message loaded as an image or style is not marked read."""

from __future__ import annotations

import httpx
import pytest

from mailcatch.server import ServerThread
from tests.helpers import wait_for_count
from tests.messages import build, send


@pytest.fixture
def ids(catcher: ServerThread, api: httpx.Client) -> dict[str, str]:
    send(catcher, build("target"))
    target = wait_for_count(api, 1)["messages"][0]["ID"]
    html = f'<p>hi</p><img src="{catcher.url}/api/v1/message/{target}"><img src="https://cdn.example/x.png">'
    send(catcher, build("attacker", html=html))
    found = {m["Subject"]: m["ID"] for m in wait_for_count(api, 2)["messages"]}
    return found


def policy_of(response: httpx.Response) -> dict[str, str]:
    directives = [d.strip().split(" ", 1) for d in response.headers["content-security-policy"].split(";")]
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def test_view_loads_only_its_own_parts(catcher: ServerThread, ids: dict[str, str], api: httpx.Client) -> None:
    policy = policy_of(api.get(f"/view/{ids['attacker']}.html"))
    assert policy["sandbox"] == "allow-popups allow-popups-to-escape-sandbox"  # still no scripts, no same origin
    assert policy["default-src"] == "'none'"
    parts = f"{catcher.url}/api/v1/message/{ids['attacker']}/part/"
    assert policy["img-src"].split() == [parts, "data:"]
    for directive in ("img-src", "style-src", "font-src", "media-src"):
        assert "'self'" not in policy[directive] and "http:" not in policy[directive].split()
        assert catcher.url + " " not in policy[directive] + " "
    for directive in ("object-src", "frame-src", "child-src", "script-src"):
        assert directive not in policy  # default-src 'none' holds: no frames, objects, embeds


def test_view_loads_remote_content_when_asked(ids: dict[str, str], api: httpx.Client) -> None:
    for asked in ("1", "true"):
        policy = policy_of(api.get(f"/view/{ids['attacker']}.html", params={"remote": asked}))
        assert policy["img-src"].split()[-2:] == ["http:", "https:"]
        assert policy["default-src"] == "'none'"  # frames, objects and embeds stay out
    assert "http:" not in policy_of(api.get(f"/view/{ids['attacker']}.html", params={"remote": "0"}))["img-src"].split()


def read(api: httpx.Client, message_id: str) -> bool:
    listed = api.get("/api/v1/messages").json()["messages"]
    return bool(next(m for m in listed if m["ID"] == message_id)["Read"])


@pytest.mark.parametrize("dest", ["image", "style", "iframe", "object", "embed", "font", "script"])
def test_a_message_loaded_by_a_page_is_not_marked_read(ids: dict[str, str], api: httpx.Client, dest: str) -> None:
    response = api.get(
        f"/api/v1/message/{ids['target']}", headers={"Sec-Fetch-Dest": dest, "Sec-Fetch-Mode": "no-cors"}
    )
    assert response.status_code == 200
    assert not read(api, ids["target"])


@pytest.mark.parametrize(
    "headers", [{}, {"Sec-Fetch-Dest": "empty", "Sec-Fetch-Mode": "cors"}, {"Sec-Fetch-Dest": "document"}]
)
def test_a_reader_marks_it_read(ids: dict[str, str], api: httpx.Client, headers: dict[str, str]) -> None:
    assert api.get(f"/api/v1/message/{ids['target']}", headers=headers).status_code == 200
    assert read(api, ids["target"])
