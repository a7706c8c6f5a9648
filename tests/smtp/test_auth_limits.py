"""Failed SMTP logins: answered 535, then 421 and closed, per connection and per client address;
an unknown user answered like a known one; hash checks off the event loop."""

from __future__ import annotations

import asyncio
import base64
import smtplib
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import bcrypt
import httpx
import pytest

from mailcatch.auth_limits import CONNECTION_FAILURES, PEER_FAILURES
from mailcatch.passwords import stand_in
from mailcatch.server import ServerThread
from tests.helpers import run_async

PASSWORD = "s3cret"
MESSAGE = b"From: app@example.com\r\nTo: user@example.com\r\nSubject: limits\r\n\r\nHello\r\n"


def plain(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


class RawSMTP:
    """One SMTP connection over a plain socket: a command, its reply lines."""

    def __init__(self, catcher: ServerThread) -> None:
        self.socket = socket.create_connection((catcher.smtp_host, catcher.smtp_port), timeout=10)
        self.reader = self.socket.makefile("rb")
        assert self.reply()[0].startswith(b"220")

    def reply(self) -> list[bytes]:
        lines = []
        while (line := self.reader.readline()) and line[3:4] == b"-":
            lines.append(line)
        return [*lines, line]

    def command(self, line: str) -> list[bytes]:
        self.socket.sendall(line.encode() + b"\r\n")
        return self.reply()

    def closed(self) -> bool:
        """Whether the catcher closed the connection (the next read finds its end)."""
        return self.reader.read() == b""

    def close(self) -> None:
        self.reader.close()
        self.socket.close()


@pytest.fixture
def catcher(start_catcher: Callable[..., ServerThread], tmp_path: Path) -> ServerThread:
    users = tmp_path / "smtp-users"
    users.write_text(f"alice:{PASSWORD}\n")
    return start_catcher(smtp_auth_file=str(users))


def test_a_connection_failing_again_and_again_gets_535s_then_421_and_is_closed(catcher: ServerThread) -> None:
    client = RawSMTP(catcher)
    try:
        client.command("EHLO client.test")
        replies = [client.command(f"AUTH PLAIN {plain('alice', f'guess{n}')}")[-1] for n in range(CONNECTION_FAILURES)]
        assert all(reply.startswith(b"535 5.7.8") for reply in replies[:-1])
        assert replies[-1] == b"421 4.7.0 Too many failed logins, try again later\r\n"
        assert client.closed()
    finally:
        client.close()


def test_pipelined_guesses_are_cut_off_too(catcher: ServerThread) -> None:
    client = RawSMTP(catcher)
    try:
        client.command("EHLO client.test")
        guesses = "".join(f"AUTH PLAIN {plain('alice', f'guess{n}')}\r\n" for n in range(50))
        client.socket.sendall(guesses.encode())
        replies = client.reader.read().splitlines()  # to the end: the catcher closes the connection
        assert [reply[:3] for reply in replies] == [b"535"] * (CONNECTION_FAILURES - 1) + [b"421"]
    finally:
        client.close()


async def _fail_once(host: str, port: int) -> bytes:
    """A connection that logs in with a wrong password once; the last reply line."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(f"EHLO client.test\r\nAUTH PLAIN {plain('alice', 'wrong')}\r\n".encode())
        replies = []
        while len(replies) < 3:  # the greeting, EHLO's last line, AUTH's
            reply = await reader.readline()
            if reply[3:4] != b"-":
                replies.append(reply)
        return replies[-1]
    finally:
        writer.close()


def test_another_connection_from_the_same_address_is_refused_while_the_block_lasts(catcher: ServerThread) -> None:
    async def fail_at_once() -> list[bytes]:
        # one failure on each of PEER_FAILURES connections at once: the delays run side by side
        return await asyncio.gather(*(_fail_once(catcher.smtp_host, catcher.smtp_port) for _ in range(PEER_FAILURES)))

    replies = run_async(fail_at_once())
    assert sorted(reply[:3] for reply in replies) == [b"421"] + [b"535"] * (PEER_FAILURES - 1)
    client = RawSMTP(catcher)
    try:
        client.command("EHLO client.test")
        assert client.command(f"AUTH PLAIN {plain('alice', PASSWORD)}")[-1].startswith(b"421 4.7.0")
        assert client.closed()
    finally:
        client.close()
    with httpx.Client(base_url=catcher.url, timeout=10) as api:  # the web side counts its own failures
        assert api.get("/livez").status_code == 200
        assert api.get("/api/v1/messages").status_code == 200


def test_a_correct_login_before_the_limit_still_works(catcher: ServerThread) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, timeout=10) as client:
        client.ehlo()
        client.user, client.password = "alice", "wrong"  # smtplib's login() would try PLAIN, then LOGIN
        for _ in range(CONNECTION_FAILURES - 1):
            with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
                client.auth("PLAIN", client.auth_plain, initial_response_ok=True)
            assert refused.value.smtp_code == 535
        client.login("alice", PASSWORD)
        assert client.sendmail("app@example.com", ["user@example.com"], MESSAGE) == {}


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_an_unknown_user_gets_the_same_reply_as_a_wrong_password(catcher: ServerThread, mechanism: str) -> None:
    replies = []
    for user in ("alice", "nobody"):
        with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, timeout=10) as client:
            client.ehlo()
            client.user, client.password = user, "wrong"
            with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
                client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"), initial_response_ok=True)
            replies.append((refused.value.smtp_code, refused.value.smtp_error))
    assert replies[0] == replies[1] == (535, b"5.7.8 Authentication credentials invalid")


def test_an_unknown_user_is_checked_against_a_hash_of_the_same_kind_and_cost() -> None:
    costly = "$2b$12$" + "a" * 53
    cheap = "$2b$05$" + "b" * 53
    assert stand_in({"alice": costly, "bob": costly.replace("a", "c"), "carol": cheap}).startswith("$2b$12$")
    assert stand_in({"alice": "plain text"}) == "plain text"


def test_the_event_loop_answers_while_two_connections_flood_wrong_logins_against_bcrypt(
    start_catcher: Callable[..., ServerThread], tmp_path: Path
) -> None:
    users = tmp_path / "smtp-users"
    stored = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=10)).decode()
    users.write_text(f"alice:{stored}\n")
    catcher = start_catcher(smtp_auth_file=str(users))
    codes: list[bytes] = []
    done = threading.Event()

    def flood() -> None:
        while not done.is_set():
            client = RawSMTP(catcher)
            try:
                client.command("EHLO flood.test")
                for n in range(CONNECTION_FAILURES):
                    code = client.command(f"AUTH PLAIN {plain('alice', f'guess{n}')}")[-1][:3]
                    codes.append(code)
                    if code != b"535":
                        break
            finally:
                client.close()

    floods = [threading.Thread(target=flood, daemon=True) for _ in range(2)]
    for thread in floods:
        thread.start()
    try:
        with httpx.Client(base_url=catcher.url, timeout=10) as api:
            answers = [api.get("/livez").status_code for _ in range(20)]
    finally:
        done.set()
        for thread in floods:
            thread.join(30)
    assert answers == [200] * 20
    assert b"535" in codes and b"421" in codes
    assert set(codes) <= {b"535", b"421"}
