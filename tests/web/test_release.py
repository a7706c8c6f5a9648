"""Release and relay: messages sent on through a second catcher on loopback, over plain SMTP,
STARTTLS with a certificate the test makes, and AUTH against the second catcher's --smtp-auth-file."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import smtplib
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailcatch.config import from_args
from mailcatch.errors import ConfigError
from mailcatch.relay import RelayConfig, read_relay_config, release_rewrite, sender_of
from mailcatch.relay.rewrite import override_from
from mailcatch.server import ServerThread
from tests.certificates import self_signed
from tests.helpers import spawned, wait_for_count
from tests.messages import SMTPTarget

Start = Callable[..., ServerThread]

RAW = (
    b"From: App <app@example.com>\r\n"
    b"To: User <user@example.com>\r\n"
    b"Bcc: hidden@example.com\r\n"
    b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= from the app\r\n"
    b"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
    b"Message-ID: <original-1@app.example.com>\r\n"
    b"X-Folded: one\r\n"
    b"  two\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Hello \xc3\xbc\r\n"
    b".a line that starts with a dot\r\n"
    b"\r\n"
    b"Bcc: not a header, a line of the body\r\n"
)


def _send(catcher: SMTPTarget, raw: bytes = RAW, mail_from: str = "bounce@app.example.com", to: Any = None) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, local_hostname="app.local", timeout=10) as client:
        client.sendmail(mail_from, to or ["user@example.com", "hidden@example.com"], raw)


def _relay_to(target: ServerThread, **options: Any) -> RelayConfig:
    return RelayConfig(host=target.smtp_host, port=target.smtp_port, **options)


def _raw(api: httpx.Client, message_id: str = "latest") -> bytes:
    response = api.get(f"/api/v1/message/{message_id}/raw")
    assert response.status_code == 200
    return response.content


def _headers(raw: bytes) -> tuple[list[bytes], bytes]:
    """The header lines (folded ones kept apart) and the body, split at the first blank line."""
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.split(b"\r\n"), body


def _pair(start: Start, **relay: Any) -> tuple[ServerThread, ServerThread]:
    """A relay target, and a catcher that releases through it."""
    target = start()
    source = start(relay=_relay_to(target, **relay))
    return source, target


def _release(source: ServerThread, to: Any, message_id: str = "latest") -> httpx.Response:
    with httpx.Client(base_url=source.url, timeout=60) as api:
        return api.post(f"/api/v1/message/{message_id}/release", json={"To": to})


def test_release_arrives_byte_for_byte_apart_from_date_message_id_and_bcc(start_catcher: Start) -> None:
    source, target = _pair(start_catcher)
    _send(source)
    with httpx.Client(base_url=source.url, timeout=10) as api:
        wait_for_count(api, 1)
        original = _raw(api)
    assert original == RAW
    response = _release(source, ["Someone <someone@example.net>", "other@example.org"])
    assert response.status_code == 200, response.text
    assert response.text == "ok"
    with httpx.Client(base_url=target.url, timeout=10) as api:
        assert wait_for_count(api, 1)["total"] == 1
        relayed = _raw(api)
        envelope = api.get("/api/v1/message/latest").json()["Envelope"]
    assert envelope["From"] == "app@example.com"  # the From header's address
    assert envelope["To"] == ["someone@example.net", "other@example.org"]

    before, body_before = _headers(original)
    after, body_after = _headers(relayed)
    assert body_after == body_before  # the body, dot line and a body line that looks like Bcc included
    changed = {b"Date", b"Message-ID"}

    def kept(lines: list[bytes]) -> list[bytes]:
        return [line for line in lines if line.split(b":", 1)[0] not in changed]

    assert kept(after) == [line for line in kept(before) if not line.startswith(b"Bcc:")]
    new_date = next(line for line in after if line.startswith(b"Date: "))
    new_id = next(line for line in after if line.startswith(b"Message-ID: "))
    assert new_date != b"Date: Mon, 01 Jan 2024 10:00:00 +0000"
    assert new_id.startswith(b"Message-ID: <") and new_id.endswith(b"@mailcatch>")
    # Date and Message-ID keep their places among the headers
    assert after.index(new_date) == before.index(b"Date: Mon, 01 Jan 2024 10:00:00 +0000") - 1  # Bcc above is gone
    assert after.index(new_id) == before.index(b"Message-ID: <original-1@app.example.com>") - 1


def test_a_page_elsewhere_may_not_release(start_catcher: Start) -> None:
    """A browser page on another site can POST text/plain without a preflight: a release it asks for is
    refused (403), unless --api-cors allows its origin; the catcher's own pages and clients without an
    Origin release as before."""
    target = start_catcher()
    source = start_catcher(relay=_relay_to(target), api_cors=("https://tools.example",))
    _send(source)
    body = json.dumps({"To": ["someone@example.net"]})
    with httpx.Client(base_url=source.url, timeout=60) as api:
        wait_for_count(api, 1)
        for origin in ("https://evil.example", "null", "http://localhost:1"):
            refused = api.post(
                "/api/v1/message/latest/release", content=body, headers={"Origin": origin, "Content-Type": "text/plain"}
            )
            assert refused.status_code == 403, origin
            assert refused.json() == {
                "Error": f"a page at {origin} may not release mail through this catcher (--api-cors does not allow it)"
            }
        with httpx.Client(base_url=target.url, timeout=10) as target_api:
            assert target_api.get("/api/v1/messages").json()["total"] == 0
        for origin in ("https://tools.example", source.url, None):
            headers = {"Origin": origin} if origin else {}
            allowed = api.post("/api/v1/message/latest/release", content=body, headers=headers)
            assert allowed.status_code == 200, (origin, allowed.text)
    with httpx.Client(base_url=target.url, timeout=10) as target_api:
        assert wait_for_count(target_api, 3)["total"] == 3


def test_release_with_return_path_override_from_and_kept_message_id(start_catcher: Start) -> None:
    source, target = _pair(
        start_catcher,
        return_path="bounces@relay.example.com",
        override_from="Relay Account <sender@relay.example.com>",
        preserve_message_ids=True,
    )
    _send(source)
    with httpx.Client(base_url=source.url, timeout=10) as api:
        wait_for_count(api, 1)
        assert api.get("/api/v1/webui").json()["MessageRelay"] == {
            "Enabled": True,
            "SMTPServer": f"{target.smtp_host}:{target.smtp_port}",
            "ReturnPath": "bounces@relay.example.com",
            "AllowedRecipients": "",
            "BlockedRecipients": "",
            "DefaultReleaseTo": "",
            "OverrideFrom": "sender@relay.example.com",
            "PreserveMessageIDs": True,
            "RecipientAllowlist": "",
        }
    assert _release(source, ["someone@example.net"]).status_code == 200
    with httpx.Client(base_url=target.url, timeout=10) as api:
        wait_for_count(api, 1)
        relayed = _raw(api)
        full = api.get("/api/v1/message/latest").json()
    lines, _ = _headers(relayed)
    assert lines[0] == b"Return-Path: <bounces@relay.example.com>"
    assert b"X-Original-From: app@example.com" in lines
    assert b"From: App <sender@relay.example.com>" in lines
    assert b"Message-ID: <original-1@app.example.com>" in lines
    assert full["Envelope"]["From"] == "sender@relay.example.com"


@pytest.fixture
def released_from(start_catcher: Start) -> Callable[..., tuple[ServerThread, ServerThread]]:
    def make(**relay: Any) -> tuple[ServerThread, ServerThread]:
        source, target = _pair(start_catcher, **relay)
        _send(source)
        with httpx.Client(base_url=source.url, timeout=10) as api:
            wait_for_count(api, 1)
        return source, target

    return make


@pytest.mark.parametrize(
    ("relay", "to", "error"),
    [
        (
            {"allowed_recipients": r"@example\.net$"},
            ["a@example.net", "b@example.org"],
            r"Failed: 1 address does not match the allowlist (@example\.net$): b@example.org",
        ),
        (
            {"allowed_recipients": r"@example\.net$"},
            ["a@example.com", "b@example.org"],
            r"Failed: 2 addresses do not match the allowlist (@example\.net$): a@example.com, b@example.org",
        ),
        (
            {"blocked_recipients": r"^ceo@"},
            ["ceo@example.net"],
            "Failed: 1 address found on the blocklist: ceo@example.net",
        ),
        ({}, ["not an address"], "Invalid email address: not an address"),
        ({}, [], "No valid addresses found"),
        ({}, "user@example.net", 'To must be a list of email addresses, as {"To": ["user@example.com"]}'),
    ],
)
def test_refused_releases_say_why_and_send_nothing(
    released_from: Callable[..., tuple[ServerThread, ServerThread]], relay: dict[str, str], to: Any, error: str
) -> None:
    source, target = released_from(**relay)
    response = _release(source, to)
    assert response.status_code == 400
    assert response.json() == {"Error": error}
    with httpx.Client(base_url=target.url, timeout=10) as api:
        assert api.get("/api/v1/messages").json()["total"] == 0


CLIENTS_JS = Path(__file__).resolve().parents[1] / "clients_js"
RELEASE_JS = """
import { MailpitClient } from "mailpit-api";
const [url, to] = process.argv.slice(1);
console.log(JSON.stringify(await new MailpitClient(url).releaseMessage("latest", { To: [to] })));
"""


def test_the_npm_clients_release_message(start_catcher: Start) -> None:
    """Mailpit's npm client (tests/clients_js, `npm ci` there) releases through the same route."""
    node = shutil.which("node")
    if node is None or not (CLIENTS_JS / "node_modules" / "mailpit-api").is_dir():
        problem = "node and the npm client (npm ci in tests/clients_js) are needed"
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    source, target = _pair(start_catcher)
    _send(source)
    with httpx.Client(base_url=source.url, timeout=10) as api:
        wait_for_count(api, 1)
    command = [node, "--input-type=module", "-e", RELEASE_JS, source.url, "npm@example.net"]
    done = subprocess.run(command, cwd=CLIENTS_JS, capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout) == "ok"
    with httpx.Client(base_url=target.url, timeout=10) as api:
        wait_for_count(api, 1)
        assert api.get("/api/v1/message/latest").json()["Envelope"]["To"] == ["npm@example.net"]


def test_release_without_a_relay_is_refused(catcher: ServerThread, api: httpx.Client) -> None:
    _send(catcher)
    wait_for_count(api, 1)
    response = api.post("/api/v1/message/latest/release", json={"To": ["a@example.com"]})
    assert response.status_code == 400
    assert "message relaying is not configured" in response.json()["Error"]
    assert api.get("/api/v1/webui").json()["MessageRelay"]["Enabled"] is False


def test_release_of_an_unknown_message_is_404_and_bad_json_400(
    released_from: Callable[..., tuple[ServerThread, ServerThread]],
) -> None:
    source, _ = released_from()
    assert _release(source, ["a@example.com"], message_id="nosuchid").status_code == 404
    with httpx.Client(base_url=source.url, timeout=10) as api:
        response = api.post(
            "/api/v1/message/latest/release", content=b"{nope", headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["Error"]


def test_a_message_without_a_sender_is_refused(start_catcher: Start) -> None:
    source, _ = _pair(start_catcher)
    _send(source, raw=b"Subject: from no one\r\n\r\nHello\r\n")
    with httpx.Client(base_url=source.url, timeout=10) as api:
        wait_for_count(api, 1)
    response = _release(source, ["someone@example.net"])
    assert response.status_code == 400
    assert response.json() == {"Error": "No From header found: the message has no sender to release it from"}


def test_the_relay_servers_refusal_is_a_400_with_its_reply(start_catcher: Start) -> None:
    target = start_catcher(smtp_allowed_recipients=r"@example\.net$")
    source = start_catcher(relay=_relay_to(target))
    _send(source)
    with httpx.Client(base_url=source.url, timeout=10) as api:
        wait_for_count(api, 1)
    response = _release(source, ["a@example.net", "nobody@example.org"])
    assert response.status_code == 400
    error = response.json()["Error"]
    assert error.startswith("SMTP error: RCPT TO:<nobody@example.org> refused: 550 5.1.0")
    with httpx.Client(base_url=target.url, timeout=10) as api:  # all or nothing: a@example.net got nothing either
        assert api.get("/api/v1/messages").json()["total"] == 0


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_relay_is_a_400_and_the_message_stays(start_catcher: Start) -> None:
    source = start_catcher(relay=RelayConfig(host="127.0.0.1", port=_closed_port()))
    _send(source)
    with httpx.Client(base_url=source.url, timeout=10) as api:
        wait_for_count(api, 1)
        response = api.post("/api/v1/message/latest/release", json={"To": ["a@example.com"]})
        assert response.status_code == 400
        assert response.json()["Error"].startswith("SMTP error: can't connect to 127.0.0.1:")
        assert "refused" in response.json()["Error"].lower()
        assert _raw(api) == RAW


# STARTTLS and AUTH ---------------------------------------------------------------------------


@pytest.mark.parametrize("auth", ["plain", "login"])
def test_release_over_starttls_with_auth_against_the_targets_auth_file(
    start_catcher: Start, tmp_path: Path, auth: str
) -> None:
    cert, key = self_signed(tmp_path / "relay")
    users = tmp_path / "users"
    users.write_text("relay-user:s3cret pass\n")
    target = start_catcher(smtp_tls_cert=cert, smtp_tls_key=key, smtp_auth_file=str(users))
    relay = _relay_to(
        target, starttls=True, allow_insecure=True, auth=auth, username="relay-user", password="s3cret pass"
    )
    source = start_catcher(relay=relay)
    _send(source)
    with httpx.Client(base_url=source.url, timeout=10) as api:
        wait_for_count(api, 1)
        original = _raw(api)
    assert _release(source, ["someone@example.net"]).status_code == 200
    with httpx.Client(base_url=target.url, timeout=10) as api:
        wait_for_count(api, 1)
        full = api.get("/api/v1/message/latest").json()
        transcript = api.get("/api/v1/message/latest/transcript").json()
        relayed = _raw(api)
    assert full["Envelope"]["TLS"] is True
    assert full["Username"] == "relay-user"
    texts = [line["Text"] for line in transcript["Lines"]]
    assert texts.index("STARTTLS") < next(i for i, t in enumerate(texts) if t.startswith("AUTH"))
    assert _headers(relayed)[1] == _headers(original)[1]


def test_release_over_implicit_tls_with_cram_md5(start_catcher: Start, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path / "relay")
    users = tmp_path / "users"
    users.write_text("cram-user:the secret\n")  # plain text: the target offers CRAM-MD5
    target = start_catcher(smtp_tls_cert=cert, smtp_tls_key=key, smtp_require_tls=True, smtp_auth_file=str(users))
    relay = _relay_to(target, tls=True, allow_insecure=True, auth="CRAM-MD5", username="cram-user", secret="the secret")
    source = start_catcher(relay=relay)
    _send(source)
    with httpx.Client(base_url=source.url, timeout=10) as api:
        wait_for_count(api, 1)
    assert _release(source, ["someone@example.net"]).status_code == 200
    with httpx.Client(base_url=target.url, timeout=10) as api:
        wait_for_count(api, 1)
        full = api.get("/api/v1/message/latest").json()
        texts = [line["Text"] for line in api.get("/api/v1/message/latest/transcript").json()["Lines"]]
    assert full["Envelope"]["TLS"] is True and full["Username"] == "cram-user"
    assert "STARTTLS" not in texts  # TLS from the first byte
    assert any(text.startswith("AUTH CRAM-MD5") for text in texts)


def test_a_wrong_password_is_a_400_with_the_servers_reply(start_catcher: Start, tmp_path: Path) -> None:
    users = tmp_path / "users"
    users.write_text("relay-user:right\n")
    target = start_catcher(smtp_auth_file=str(users))
    source = start_catcher(relay=_relay_to(target, auth="plain", username="relay-user", password="wrong"))
    _send(source)
    with httpx.Client(base_url=source.url, timeout=10) as api:
        wait_for_count(api, 1)
    response = _release(source, ["someone@example.net"])
    assert response.status_code == 400
    error = response.json()["Error"]
    assert error.startswith(f"SMTP error: {target.smtp_host}:{target.smtp_port} refused the login: 535")


def test_an_untrusted_certificate_is_refused_unless_allow_insecure(start_catcher: Start, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path / "relay")
    target = start_catcher(smtp_tls_cert=cert, smtp_tls_key=key)
    source = start_catcher(relay=_relay_to(target, starttls=True))
    _send(source)
    with httpx.Client(base_url=source.url, timeout=10) as api:
        wait_for_count(api, 1)
    response = _release(source, ["someone@example.net"])
    assert response.status_code == 400
    assert "TLS certificate not accepted" in response.json()["Error"]
    assert "allow-insecure" in response.json()["Error"]


def test_starttls_asked_of_a_server_without_it_is_refused(start_catcher: Start) -> None:
    target = start_catcher()
    source = start_catcher(relay=_relay_to(target, starttls=True))
    _send(source)
    with httpx.Client(base_url=source.url, timeout=10) as api:
        wait_for_count(api, 1)
    response = _release(source, ["someone@example.net"])
    assert response.status_code == 400
    assert response.json()["Error"] == f"SMTP error: {target.smtp_host}:{target.smtp_port} does not offer STARTTLS"


# Automatic relay -----------------------------------------------------------------------------


def test_relay_all_sends_each_new_message_unchanged_to_its_envelope_recipients(start_catcher: Start) -> None:
    target = start_catcher()
    source = start_catcher(relay=_relay_to(target, blocked_recipients=r"^hidden@"), smtp_relay_all=True)
    _send(source, to=["user@example.com", "hidden@example.com", "third@example.org"])
    with httpx.Client(base_url=target.url, timeout=10) as api:
        assert wait_for_count(api, 1)["total"] == 1
        assert _raw(api) == RAW  # not a byte changed
        envelope = api.get("/api/v1/message/latest").json()["Envelope"]
    assert envelope["From"] == "bounce@app.example.com"
    assert envelope["To"] == ["user@example.com", "third@example.org"]
    with httpx.Client(base_url=source.url, timeout=10) as api:
        assert _raw(api) == RAW


def test_relay_matching_sends_only_to_matching_recipients(start_catcher: Start) -> None:
    target = start_catcher()
    source = start_catcher(relay=_relay_to(target), smtp_relay_matching=r"@example\.org$")
    _send(source, raw=RAW.replace(b"original-1", b"not-relayed"), to=["user@example.com"])
    _send(source, to=["user@example.com", "third@example.org"])
    with httpx.Client(base_url=source.url, timeout=10) as api:
        assert wait_for_count(api, 2)["total"] == 2
    with httpx.Client(base_url=target.url, timeout=10) as api:
        listing = wait_for_count(api, 1)
        assert listing["total"] == 1
        assert api.get("/api/v1/message/latest").json()["Envelope"]["To"] == ["third@example.org"]
        assert b"original-1" in _raw(api)


def test_a_failing_automatic_relay_is_logged_and_loses_nothing(
    start_catcher: Start, caplog: pytest.LogCaptureFixture
) -> None:
    port = _closed_port()
    source = start_catcher(relay=RelayConfig(host="127.0.0.1", port=port), smtp_relay_all=True)
    with caplog.at_level(logging.WARNING, logger="mailcatch.relay"):
        for number in range(3):
            _send(source, raw=RAW.replace(b"original-1", f"kept-{number}".encode()))
        with httpx.Client(base_url=source.url, timeout=10) as api:
            assert wait_for_count(api, 3)["total"] == 3
        relay = source.server.auto_relay
        assert relay is not None
        deadline = time.monotonic() + 30
        while relay.failed < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert relay.failed == 3 and relay.relayed == 0
    said = [r.getMessage() for r in caplog.records if r.name == "mailcatch.relay"]
    assert said and said[0].startswith(f"automatic relay via 127.0.0.1:{port} failed (the message stays caught)")
    assert len(said) == 1  # the same failure again is held back


def test_a_hanging_relay_server_never_holds_up_smtp_replies(start_catcher: Start) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    accepted = threading.Event()

    def hold() -> None:  # accept, then say nothing: not even a greeting
        with contextlib.suppress(OSError):
            while True:
                connection, _ = listener.accept()
                held.append(connection)
                accepted.set()

    accepting = threading.Thread(target=hold, daemon=True)
    accepting.start()
    try:
        source = start_catcher(relay=RelayConfig(host="127.0.0.1", port=listener.getsockname()[1]), smtp_relay_all=True)
        _send(source, raw=RAW.replace(b"original-1", b"first"))
        assert accepted.wait(10)  # the relay of the first message waits on the silent server...
        for number in range(5):  # ...while every new message is answered and kept
            _send(source, raw=RAW.replace(b"original-1", f"next-{number}".encode()))
        with httpx.Client(base_url=source.url, timeout=10) as api:
            assert wait_for_count(api, 6)["total"] == 6
        relay = source.server.auto_relay
        assert relay is not None and relay.relayed == 0 and relay.failed == 0  # still waiting
    finally:
        listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() waiting in `hold`
        listener.close()
        accepting.join(10)
        for connection in held:
            connection.close()


def test_the_command_line_relays_and_releases(start_catcher: Start, tmp_path: Path) -> None:
    target = start_catcher()
    config = tmp_path / "relay.yaml"
    config.write_text(f"host: {target.smtp_host}\nport: {target.smtp_port}\nblocked-recipients: '^ceo@'\n")
    with spawned("--smtp-relay-config", str(config), "--smtp-relay-matching", r"@example\.org$") as catcher:
        _send(catcher, to=["user@example.com", "third@example.org", "ceo@example.org"])
        with httpx.Client(base_url=target.url, timeout=10) as api:
            assert wait_for_count(api, 1)["total"] == 1
            assert api.get("/api/v1/message/latest").json()["Envelope"]["To"] == ["third@example.org"]
        with httpx.Client(base_url=catcher.url, timeout=10) as api:
            relay = api.get("/api/v1/webui").json()["MessageRelay"]
            assert relay["Enabled"] is True and relay["BlockedRecipients"] == "^ceo@"
            released = api.post("/api/v1/message/latest/release", json={"To": ["someone@example.net"]})
            assert released.status_code == 200, released.text
            assert api.post("/api/v1/message/latest/release", json={"To": ["ceo@example.net"]}).status_code == 400
        with httpx.Client(base_url=target.url, timeout=10) as api:
            assert wait_for_count(api, 2)["total"] == 2


# Configuration -------------------------------------------------------------------------------


def test_a_mailpit_relay_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "relay.yaml"
    path.write_text(
        "host: smtp.example.com\nport: 587\nstarttls: true\nauth: cram-md5\nusername: me\nsecret: s\n"
        "return-path: bounces@example.com\noverride-from: '\"Me\" <me@example.com>'\n"
        "recipient-allowlist: '@example\\.com$'\nblocked-recipients: '^ceo@'\npreserve-message-ids: true\n"
    )
    relay = read_relay_config(str(path))
    assert relay == RelayConfig(
        host="smtp.example.com",
        port=587,
        starttls=True,
        auth="cram-md5",
        username="me",
        secret="s",
        return_path="bounces@example.com",
        override_from="me@example.com",
        allowed_recipients=r"@example\.com$",
        blocked_recipients="^ceo@",
        preserve_message_ids=True,
    )
    assert "secret=" not in repr(relay)  # nor password: a repr may be logged
    settings = from_args(["--smtp-relay-config", str(path), "--smtp-relay-matching", "@example"], environ={})
    assert settings.relay == relay and settings.smtp_relay_matching == "@example"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("port: 25\n", "host not set"),
        ("host: h\nhots: x\n", "unknown key 'hots'"),
        ("host: h\nauth: digest\n", "authentication method 'digest' is not none, plain, login or cram-md5"),
        ("host: h\nauth: plain\nusername: u\n", "username or password not set for PLAIN authentication"),
        ("host: h\nauth: CRAM-MD5\nusername: u\npassword: p\n", "username or secret not set for CRAM-MD5"),
        ("host: h\nstarttls: true\ntls: true\n", "starttls and tls can't both be on"),
        ("host: h\nport: smtp\n", "port 'smtp' is not a number"),
        ("host: h\nallowed-recipients: '(['\n", "allowed-recipients '([' is not a regular expression"),
        ("host: h\noverride-from: nobody\n", "override-from 'nobody' is not an email address"),
        ("- host: h\n", "must be a YAML mapping"),
        ("host: [\n", "not valid YAML"),
    ],
)
def test_a_bad_relay_file_says_what_is_wrong(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "relay.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="--smtp-relay-config") as raised:
        from_args(["--smtp-relay-config", str(path)], environ={})
    assert error in str(raised.value)


def test_the_relay_from_mailpits_environment_variables() -> None:
    environ = {
        "MP_SMTP_RELAY_HOST": "relay.example.com",
        "MP_SMTP_RELAY_PORT": "2525",
        "MP_SMTP_RELAY_TLS": "true",
        "MP_SMTP_RELAY_AUTH": "login",
        "MP_SMTP_RELAY_USERNAME": "mp-user",
        "MAILCATCH_SMTP_RELAY_USERNAME": "our-user",
        "MP_SMTP_RELAY_PASSWORD": "pw",
        "MP_SMTP_RELAY_ALL": "1",
    }
    settings = from_args([], environ=environ)
    assert settings.relay == RelayConfig(
        host="relay.example.com", port=2525, tls=True, auth="login", username="our-user", password="pw"
    )
    assert settings.smtp_relay_all is True
    assert from_args([], environ={}).relay is None


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--smtp-relay-all"], "--smtp-relay-all needs a relay server"),
        (["--smtp-relay-matching", "x"], "--smtp-relay-matching needs a relay server"),
        (["--smtp-relay-config", "/nonexistent/relay.yaml"], "--smtp-relay-config: no such file"),
    ],
)
def test_relay_flags_without_a_relay_are_refused(argv: list[str], error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        from_args(argv, environ={})


def test_relay_all_and_matching_together_are_refused() -> None:
    environ = {"MP_SMTP_RELAY_HOST": "h"}
    with pytest.raises(ConfigError, match="can't be used together"):
        from_args(["--smtp-relay-all", "--smtp-relay-matching", "x"], environ=environ)
    with pytest.raises(ConfigError, match="is not a regular expression"):
        from_args(["--smtp-relay-matching", "(["], environ=environ)


# A release's changes, on the bytes ----------------------------------------------------------


def test_the_changes_keep_the_messages_own_line_endings_and_folding() -> None:
    raw = (
        b"From: =?utf-8?q?J=C3=B6rg?= <j@x.test>\nTo: a@b.test\nBcc: x@y.test,\n  z@w.test\n"
        b"Subject: s\n\tfolded\n\nbody\nBcc: stays in the body\n"
    )
    relay = RelayConfig(host="h", override_from="me@relay.test", return_path="bounces@relay.test")
    released = release_rewrite(raw, relay, now=0)
    head, _, body = released.data.partition(b"\n\n")
    assert body == b"body\nBcc: stays in the body\n"
    lines = head.split(b"\n")
    assert lines[:4] == [
        b"Return-Path: <bounces@relay.test>",
        b"X-Original-From: j@x.test",
        b"From: =?utf-8?q?J=C3=B6rg?= <me@relay.test>",
        b"To: a@b.test",
    ]
    assert lines[4:6] == [b"Subject: s", b"\tfolded"]
    assert lines[6] == b"Date: Thu, 01 Jan 1970 00:00:00 +0000"
    assert lines[7].startswith(b"Message-ID: <") and len(lines) == 8
    assert b"\r" not in released.data
    assert released.mail_from == "me@relay.test"


def test_a_message_without_a_body_or_from_still_gets_its_headers() -> None:
    released = release_rewrite(b"Subject: no body", RelayConfig(host="h"), now=0)
    assert released.data.startswith(b"Subject: no body\nDate: Thu, 01 Jan 1970 00:00:00 +0000\nMessage-ID: <")
    assert released.mail_from == ""  # the release route answers 400: no sender to release it from
    assert sender_of(b"From: a@x.test\r\nSender: Bot <bot@x.test>\r\n\r\n") == "bot@x.test"
    assert override_from(b'From: "Doe, John" <j@x.test>\r\n\r\nb', "me@relay.test") == (
        b'X-Original-From: j@x.test\r\nFrom: "Doe, John" <me@relay.test>\r\n\r\nb'
    )


_NAMES = st.sampled_from(["From", "To", "Subject", "X-Custom", "Bcc", "Date", "Message-ID", "Received", "bcc"])
_VALUES = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"") or b"x")
_FIELDS = st.lists(
    st.tuples(_NAMES, _VALUES, st.lists(_VALUES.map(lambda v: b" " + v), max_size=2)), min_size=1, max_size=8
)


@settings(max_examples=200, deadline=None)
@given(fields=_FIELDS, body=st.binary(max_size=200), eol=st.sampled_from([b"\r\n", b"\n"]), keep_ids=st.booleans())
def test_a_release_changes_only_what_it_says(
    fields: list[tuple[str, bytes, list[bytes]]], body: bytes, eol: bytes, keep_ids: bool
) -> None:
    """Whatever the headers and body: Bcc fields go, Date (and Message-ID) is set once, every other byte stays."""
    head = [name.encode() + b": " + value + eol + b"".join(c + eol for c in more) for name, value, more in fields]
    raw = b"".join(head) + eol + body
    released = release_rewrite(raw, RelayConfig(host="h", preserve_message_ids=keep_ids), now=0).data
    assert released.endswith(eol + eol + body)  # the body, byte for byte, after the blank line
    kept = _fields_of(released[: len(released) - len(body) - len(eol)], eol)
    replaced = (b"Date: ",) if keep_ids else (b"Date: ", b"Message-ID: ")
    assert [f for f in kept if not f.startswith(replaced)] == [
        f for f in head if not f.lower().startswith(b"bcc:") and not f.startswith(replaced)
    ]
    for name in replaced:
        assert sum(f.startswith(name) for f in kept) == 1


def _fields_of(head: bytes, eol: bytes) -> list[bytes]:
    """A header block's fields, each with its continuation lines and line endings."""
    fields: list[bytes] = []
    for line in head.split(eol)[:-1]:
        if line[:1] == b" " and fields:
            fields[-1] += line + eol
        else:
            fields.append(line + eol)
    return fields
