"""--ui-auth-file end to end: a real catcher behind HTTP basic auth, with every kind of stored password."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from mailcatch.errors import ConfigError
from mailcatch.server import ServerThread

PASSWORD = "correct horse"
# Each holds PASSWORD; made with the tool named (see tests/core/test_passwords.py).
USERS = {
    "plain": PASSWORD,
    "bcrypt": "$2y$05$LIAY9stK/xLZX0ARWXKlHO9A88s2Xdf0QgIz.nKBwqiO04jvl49R.",  # htpasswd -nbB -C 5
    "sha512": "$6$NLtGBAXC/lCUKhrm$hjTCLFAz74sKwoRzQklWyVECJ3sfOHEBAD8xC1eCV4BKbdBXC/iUQZQoZqa6rU9Ex2jdtJMroXw1jhk4FpLkq0",
    "sha256": "$5$pp3JalyIJDFjQvRG$06a2idtU9bG4/HXmQ6eRfAC5IgXBkokmznvmT4qIyg2",  # htpasswd -nb -2
    "apr1": "$apr1$1Bd07x1F$WiXGuJhYlGtMXOyrz31Fd.",  # htpasswd -nb (its default)
}


@pytest.fixture
def auth_file(tmp_path: Path) -> Path:
    path = tmp_path / "ui-users"
    path.write_text("# who may read the mail\n" + "".join(f"{user}:{stored}\n" for user, stored in USERS.items()))
    return path


@pytest.fixture
def guarded(start_catcher: Callable[..., ServerThread], auth_file: Path) -> ServerThread:
    """A catcher behind basic auth."""
    return start_catcher(ui_auth_file=str(auth_file))


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Basic realm="mailcatch"')
    assert response.headers["content-type"].startswith("application/json")
    assert set(response.json()) == {"Error"} and response.json()["Error"]


@pytest.mark.parametrize("path", ["/api/v1/messages", "/api/v1/info", "/", "/api/v1/message/latest"])
def test_no_credentials_get_401_with_a_challenge(guarded: ServerThread, path: str) -> None:
    assert_refused(httpx.get(guarded.url + path))


@pytest.mark.parametrize("user", USERS)
def test_each_kind_of_stored_password_lets_its_user_in(guarded: ServerThread, user: str) -> None:
    with httpx.Client(base_url=guarded.url, auth=(user, PASSWORD), timeout=10) as client:
        for _ in range(3):  # the first check hashes, the next are remembered
            response = client.get("/api/v1/messages")
            assert response.status_code == 200
            assert response.json()["total"] == 0
        assert client.get("/").status_code == 200


@pytest.mark.parametrize("user", USERS)
def test_wrong_passwords_are_refused(guarded: ServerThread, user: str) -> None:
    with httpx.Client(base_url=guarded.url, timeout=10) as client:
        assert client.get("/api/v1/messages", auth=(user, PASSWORD)).status_code == 200
        for wrong in (PASSWORD + " ", PASSWORD.upper(), ""):
            assert_refused(client.get("/api/v1/messages", auth=(user, wrong)))
        assert_refused(client.get("/api/v1/messages", auth=("nobody", PASSWORD)))


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer abc",
        "Basic not-base64!",
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Basic " + base64.b64encode(b"plain").decode(),
    ],
)
def test_malformed_authorization_headers_are_refused(guarded: ServerThread, authorization: str) -> None:
    assert_refused(httpx.get(guarded.url + "/api/v1/messages", headers={"Authorization": authorization}))


def test_livez_stays_open(guarded: ServerThread) -> None:
    assert httpx.get(guarded.url + "/livez").status_code == 200


def test_the_websocket_needs_credentials_too(guarded: ServerThread) -> None:
    url = guarded.url.replace("http://", "ws://") + "/api/events"
    with pytest.raises(InvalidStatus):
        connect(url, open_timeout=5).close()
    token = base64.b64encode(f"sha512:{PASSWORD}".encode()).decode()
    with connect(url, open_timeout=5, additional_headers={"Authorization": f"Basic {token}"}) as events:
        assert json.loads(events.recv(timeout=5))["Type"] == "stats"


def test_a_malformed_file_stops_the_start(start_catcher: Callable[..., ServerThread], tmp_path: Path) -> None:
    bad = tmp_path / "ui-users"
    bad.write_text(f"plain:{PASSWORD}\nold:$1$saltsalt$abcdefghijklmnopqrstuv\n")
    with pytest.raises(ConfigError, match=r"ui-users, line 2: unknown password hash \$1\$"):
        start_catcher(ui_auth_file=str(bad))


def test_the_command_reports_a_malformed_file_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "ui-users"
    bad.write_text(f"carol:{USERS['sha512'][:-3]}\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mailcatch",
            "--smtp",
            "127.0.0.1:0",
            "--listen",
            "127.0.0.1:0",
            "--ui-auth-file",
            str(bad),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert f"{bad}, line 1: malformed SHA-512 crypt hash" in result.stderr
    assert "Traceback" not in result.stderr
