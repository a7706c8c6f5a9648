"""Failed UI logins: counted per client address, then answered 429 with Retry-After."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mailcatch.auth_limits import BLOCK_SECONDS, PEER_FAILURES
from mailcatch.server import ServerThread
from tests.helpers import run_async

PASSWORD = "correct horse"


@pytest.fixture
def guarded(start_catcher: Callable[..., ServerThread], tmp_path: Path) -> ServerThread:
    users = tmp_path / "ui-users"
    users.write_text(f"alice:{PASSWORD}\n")
    return start_catcher(ui_auth_file=str(users))


async def _wrong_logins_at_once(url: str, count: int) -> list[int]:
    """`count` requests with a wrong password, all at once (their delays run side by side)."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        responses = await asyncio.gather(
            *(client.get("/api/v1/messages", auth=("alice", f"guess{n}")) for n in range(count))
        )
    return [response.status_code for response in responses]


def test_repeated_failures_get_429_with_retry_after(guarded: ServerThread) -> None:
    statuses = run_async(_wrong_logins_at_once(guarded.url, PEER_FAILURES))
    assert sorted(statuses) == [401] * (PEER_FAILURES - 1) + [429]
    with httpx.Client(base_url=guarded.url, timeout=10) as client:
        for auth in (("alice", "wrong again"), ("alice", PASSWORD)):  # while blocked, even the right password
            blocked = client.get("/api/v1/messages", auth=auth)
            assert blocked.status_code == 429
            assert 1 <= int(blocked.headers["retry-after"]) <= BLOCK_SECONDS
            assert set(blocked.json()) == {"Error"}
        assert client.get("/livez").status_code == 200


def test_a_correct_login_before_the_limit_still_works(guarded: ServerThread) -> None:
    with httpx.Client(base_url=guarded.url, timeout=10) as client:
        for _ in range(3):
            assert client.get("/api/v1/messages", auth=("alice", "wrong")).status_code == 401
        assert client.get("/api/v1/messages", auth=("alice", PASSWORD)).status_code == 200


def test_requests_without_a_login_are_not_failures(guarded: ServerThread) -> None:
    with httpx.Client(base_url=guarded.url, timeout=10) as client:
        for _ in range(PEER_FAILURES + 2):
            assert client.get("/api/v1/messages").status_code == 401
        assert client.get("/api/v1/messages", auth=("alice", PASSWORD)).status_code == 200


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(guarded: ServerThread) -> None:
    with httpx.Client(base_url=guarded.url, timeout=10) as client:
        known = client.get("/api/v1/messages", auth=("alice", "wrong"))
        unknown = client.get("/api/v1/messages", auth=("nobody", "wrong"))
    assert known.status_code == unknown.status_code == 401
    assert known.json() == unknown.json()
    assert known.headers["www-authenticate"] == unknown.headers["www-authenticate"]
