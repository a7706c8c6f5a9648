"""Routes Mailpit's UI and clients use that are not messages' JSON: deep links into the UI, and OPTIONS."""

from __future__ import annotations

import urllib.parse

import httpx

from mailcatch.server import ServerThread
from tests.helpers import wait_for_count
from tests.messages import build, send


def location(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    return response.headers["location"]


def test_view_links_open_the_message_in_the_ui(catcher: ServerThread, api: httpx.Client) -> None:
    send(catcher, build("First", "a@example.com", "b@example.com", "one"))
    send(catcher, build("Second", "a@example.com", "b@example.com", "two"))
    wait_for_count(api, 2)
    newest, older = (m["ID"] for m in api.get("/api/v1/messages").json()["messages"])
    assert location(api.get(f"/view/{older}")) == f"/#m={older}"
    assert location(api.get("/view/latest")) == f"/#m={newest}"
    assert location(api.get("/view/latest", params={"query": "subject:First"})) == f"/#m={older}"
    assert location(api.get("/view/no-such-message")) == "/"  # the inbox, not a JSON error in a tab
    assert api.get(f"/view/{older}.txt").text.strip() == "one"  # the part views are unchanged


def test_search_links_run_the_search_in_the_ui(api: httpx.Client) -> None:
    target = location(api.get("/search", params={"q": 'from:"Ann Lee" is:unread'}))
    assert target.startswith("/#") and urllib.parse.parse_qs(target[2:]) == {"q": ['from:"Ann Lee" is:unread']}
    assert location(api.get("/search")) == "/"


def test_options_on_api_routes_answers_200_without_cors(api: httpx.Client) -> None:
    for path in ("/api/v1/messages", "/api/v1/message/latest", "/api/v1/info", "/api/v1/tags"):
        answer = api.options(path)
        assert (answer.status_code, answer.text) == (200, ""), path
        assert "access-control-allow-origin" not in answer.headers  # no cross-origin access granted by it
    assert api.options("/livez").status_code == 405  # outside the API, routes answer for themselves
