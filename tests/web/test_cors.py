"""CORS: off by default; --api-cors lets the listed origins call the API from a browser."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from mailcatch.config import from_args

PREFLIGHT = {"Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "content-type"}


def test_off_by_default(api: httpx.Client) -> None:
    response = api.get("/api/v1/messages", headers={"Origin": "https://tools.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    preflight = api.options("/api/v1/messages", headers={"Origin": "https://tools.example", **PREFLIGHT})
    assert "access-control-allow-origin" not in preflight.headers


def test_listed_origins_allowed(start_catcher) -> None:
    catcher = start_catcher(api_cors=("https://tools.example", "dev.test"))
    with httpx.Client(base_url=catcher.url) as api:
        for origin in ("https://tools.example", "http://dev.test:5173", "https://dev.test"):
            response = api.get("/api/v1/messages", headers={"Origin": origin})
            assert response.headers["access-control-allow-origin"] == origin
            preflight = api.options("/api/v1/messages", headers={"Origin": origin, **PREFLIGHT})
            assert preflight.status_code == 200
            assert "DELETE" in preflight.headers["access-control-allow-methods"]
        for origin in ("https://evil.example", "https://tools.example.evil", "http://xdev.test"):
            response = api.get("/api/v1/messages", headers={"Origin": origin})
            assert "access-control-allow-origin" not in response.headers
            assert api.options("/api/v1/messages", headers={"Origin": origin, **PREFLIGHT}).status_code == 400


def test_any_origin_is_the_wildcard_without_credentials(start_catcher, tmp_path: Path) -> None:
    """`*` is Mailpit's literal wildcard: a page elsewhere (or a sandboxed one, Origin `null`) never
    gets to use the visitor's saved login, which would let it read and delete mail."""
    users = tmp_path / "users"
    users.write_text("ann:secret\n")
    for auth_file in (None, str(users)):
        catcher = start_catcher(api_cors=("*",), ui_auth_file=auth_file)
        with httpx.Client(base_url=catcher.url, auth=("ann", "secret")) as api:
            for origin in ("https://anywhere.example", "null"):
                response = api.get("/api/v1/messages", headers={"Origin": origin})
                assert response.status_code == 200
                assert response.headers["access-control-allow-origin"] == "*"
                assert "access-control-allow-credentials" not in response.headers
                preflight = api.options("/api/v1/messages", headers={"Origin": origin, **PREFLIGHT})
                assert preflight.status_code == 200
                assert preflight.headers["access-control-allow-origin"] == "*"
                assert "access-control-allow-credentials" not in preflight.headers


def test_named_origins_get_credentials(start_catcher) -> None:
    catcher = start_catcher(api_cors=("https://tools.example",))
    response = httpx.get(catcher.url + "/api/v1/messages", headers={"Origin": "https://tools.example"})
    assert response.headers["access-control-allow-credentials"] == "true"
    assert (
        "access-control-allow-origin"
        not in httpx.get(catcher.url + "/api/v1/messages", headers={"Origin": "null"}).headers
    )


def test_any_origin_opens_the_websocket_only_without_a_login(start_catcher, tmp_path: Path) -> None:
    """A browser sends its saved login with a websocket handshake: with `*` and a login, other origins are refused."""
    users = tmp_path / "users"
    users.write_text("ann:secret\n")
    login = {"Authorization": "Basic " + base64.b64encode(b"ann:secret").decode()}
    open_catcher = start_catcher(api_cors=("*",))
    with connect(open_catcher.url.replace("http", "ws") + "/api/events", origin="https://anywhere.example") as ws:  # type: ignore[arg-type]
        assert '"stats"' in ws.recv(timeout=5)
    guarded = start_catcher(api_cors=("*",), ui_auth_file=str(users))
    with pytest.raises(InvalidStatus) as refused:
        connect(
            guarded.url.replace("http", "ws") + "/api/events",
            origin="https://anywhere.example",  # type: ignore[arg-type]
            additional_headers=login,
            open_timeout=5,
        )
    assert refused.value.response.status_code == 403
    with connect(guarded.url.replace("http", "ws") + "/api/events", additional_headers=login, open_timeout=5) as ws:
        assert '"stats"' in ws.recv(timeout=5)


def test_preflight_answered_before_basic_auth(start_catcher, tmp_path: Path) -> None:
    users = tmp_path / "users"
    users.write_text("ann:secret\n")
    catcher = start_catcher(api_cors=("https://tools.example",), ui_auth_file=str(users))
    with httpx.Client(base_url=catcher.url) as api:
        preflight = api.options("/api/v1/messages", headers={"Origin": "https://tools.example", **PREFLIGHT})
        assert preflight.status_code == 200
        assert api.get("/api/v1/messages", headers={"Origin": "https://tools.example"}).status_code == 401
        allowed = api.get("/api/v1/messages", headers={"Origin": "https://tools.example"}, auth=("ann", "secret"))
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://tools.example"


def test_flag_and_environment() -> None:
    assert from_args([]).api_cors == ()
    assert from_args(["--api-cors", "dev.test, https://tools.example,"]).api_cors == (
        "dev.test",
        "https://tools.example",
    )
    assert from_args([], {"MAILCATCH_API_CORS": "*"}).api_cors == ("*",)
    assert from_args(["--api-cors", "a.test"], {"MAILCATCH_API_CORS": "*"}).api_cors == ("a.test",)
