"""CORS: off by default; --api-cors lets the listed origins call the API from a browser."""

from __future__ import annotations

from pathlib import Path

import httpx

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


def test_any_origin(start_catcher) -> None:
    catcher = start_catcher(api_cors=("*",))
    response = httpx.get(catcher.url + "/api/v1/messages", headers={"Origin": "https://anywhere.example"})
    assert response.headers["access-control-allow-origin"] == "https://anywhere.example"


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
