"""Limits answer with clear SMTP replies, and bad input never crashes or corrupts the store."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.test_cli import Process
from tests.helpers import wait_for_count
from tests.smtp.test_smtp import SIMPLE, RawClient


def test_too_many_recipients_get_452(start_catcher) -> None:
    catcher = start_catcher(smtp_max_recipients=3)
    client = RawClient(catcher.smtp_host, catcher.smtp_port)
    try:
        client.command("EHLO app.test")
        client.command("MAIL FROM:<a@example.com>")
        codes = [client.command(f"RCPT TO:<r{n}@example.com>")[0][:3] for n in range(5)]
        assert codes == [b"250", b"250", b"250", b"452", b"452"]
        assert b"at most 3" in client.command("RCPT TO:<x@example.com>")[0]
        client.command("DATA")
        assert client.command(SIMPLE + b".")[0].startswith(b"250")
    finally:
        client.close()
    with httpx.Client(verify=False, base_url=catcher.url) as api:
        summary = wait_for_count(api, 1)["messages"][0]
        envelope = api.get(f"/api/v1/message/{summary['ID']}").json()["Envelope"]
        assert envelope["To"] == ["r0@example.com", "r1@example.com", "r2@example.com"]


def test_overlong_command_line_gets_500_and_the_session_goes_on(catcher) -> None:
    client = RawClient(catcher.smtp_host, catcher.smtp_port)
    try:
        client.command("EHLO app.test")
        assert client.command("MAIL FROM:<" + "a" * 2000 + "@example.com>")[0].startswith(b"500")
        assert client.command("NOOP " + "x" * 100_000)[0].startswith(b"500")
        assert client.command("MAIL FROM:<a@example.com>")[0].startswith(b"250")
    finally:
        client.close()


def test_idle_connection_is_closed_with_421(start_catcher) -> None:
    catcher = start_catcher(smtp_timeout=0.3)
    client = RawClient(catcher.smtp_host, catcher.smtp_port)
    try:
        client.command("EHLO app.test")
        started = time.monotonic()
        reply = client.reply()
        assert reply[0].startswith(b"421 4.4.2")
        assert time.monotonic() - started < 5
        with pytest.raises(ConnectionError):
            client.line()
    finally:
        client.close()


def test_a_client_that_keeps_talking_is_not_timed_out(start_catcher) -> None:
    catcher = start_catcher(smtp_timeout=0.4)
    client = RawClient(catcher.smtp_host, catcher.smtp_port)
    try:
        client.command("EHLO app.test")
        started = time.monotonic()
        while time.monotonic() - started < 1.2:  # three timeouts long, a command every 0.1 s
            assert client.command("NOOP")[0].startswith(b"250")
            time.sleep(0.1)
        assert client.reply()[0].startswith(b"421 4.4.2")
        assert time.monotonic() - started >= 1.2
    finally:
        client.close()


def test_connections_beyond_the_limit_get_421(start_catcher) -> None:
    catcher = start_catcher(smtp_max_connections=2)
    first = RawClient(catcher.smtp_host, catcher.smtp_port)
    second = RawClient(catcher.smtp_host, catcher.smtp_port)
    try:
        assert first.greeting[0].startswith(b"220") and second.greeting[0].startswith(b"220")
        third = RawClient(catcher.smtp_host, catcher.smtp_port)
        assert third.greeting[0].startswith(b"421")
        third.close()
        first.command("QUIT")
        first.close()
        deadline = time.monotonic() + 5
        while True:  # the slot frees once the server has seen the first connection close
            fourth = RawClient(catcher.smtp_host, catcher.smtp_port)
            if fourth.greeting[0].startswith(b"220") or time.monotonic() > deadline:
                break
            fourth.close()
            time.sleep(0.05)
        assert fourth.greeting[0].startswith(b"220")
        fourth.close()
    finally:
        second.close()


def test_client_vanishing_mid_data_stores_nothing(catcher, api: httpx.Client) -> None:
    client = RawClient(catcher.smtp_host, catcher.smtp_port)
    client.command("EHLO app.test")
    client.command("MAIL FROM:<a@example.com>")
    client.command("RCPT TO:<b@example.com>")
    client.command("DATA")
    client.send(b"Subject: half\r\n\r\nthe first half of a message")
    client.sock.close()
    other = RawClient(catcher.smtp_host, catcher.smtp_port)
    try:
        other.command("EHLO app.test")
        other.command("MAIL FROM:<a@example.com")
    finally:
        other.close()
    time.sleep(0.2)
    assert api.get("/api/v1/messages").json()["total"] == 0


@pytest.mark.parametrize(
    "junk",
    [
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n",
        b"\x00\x00\x00\r\n\xff\xfe\r\nEHLO \xc3\x28\r\nMAIL FROM:<\xff@x>\r\n",
        b"\n\n\n\r\n\r\n.\r\n",
    ],
)
def test_garbage_on_the_smtp_port_is_answered_not_fatal(catcher, api: httpx.Client, junk: bytes) -> None:
    with socket.create_connection((catcher.smtp_host, catcher.smtp_port), timeout=5) as sock:
        sock.recv(1024)
        sock.sendall(junk)
        time.sleep(0.1)
        reply = sock.recv(65536)
        assert reply[:1] in (b"5", b"4", b"2")
    client = RawClient(catcher.smtp_host, catcher.smtp_port)
    try:
        client.command("EHLO app.test")
        client.command("MAIL FROM:<a@example.com>")
        client.command("RCPT TO:<b@example.com>")
        client.command("DATA")
        assert client.command(SIMPLE + b".")[0].startswith(b"250")
    finally:
        client.close()
    assert wait_for_count(api, 1)["total"] == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small file system needs root (CI runs as root)")
def test_full_disk_gives_451_and_loses_nothing_acknowledged(tmp_path: Path) -> None:
    mount = tmp_path / "tiny"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], check=True)
    process = Process(
        "--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--max", "0", "--database", str(mount / "mail.db")
    )
    try:
        process.started()
        acknowledged, codes = [], set()
        client = RawClient("127.0.0.1", process.smtp_port)
        client.command("EHLO app.test")
        body = b"Subject: filler\r\n\r\n" + (b"z" * 76 + b"\r\n") * 700
        for _ in range(100):
            client.command("MAIL FROM:<a@example.com>")
            client.command("RCPT TO:<b@example.com>")
            client.command("DATA")
            reply = client.command(body + b".")[0].decode()
            codes.add(reply[:3])
            if reply.startswith("250"):
                acknowledged.append(reply.rsplit(" ", 1)[1])
        client.close()
        assert "451" in codes, codes
        assert codes <= {"250", "451"}
        assert acknowledged
        with httpx.Client(verify=False, base_url=process.url) as api:
            for message_id in acknowledged:
                assert api.get(f"/api/v1/message/{message_id}/raw").status_code == 200
        log_line = process.wait_for_line(r"not stored, answered 451")
        assert "full" in log_line.string
    finally:
        process.kill()
        subprocess.run(["umount", str(mount)], check=False)
