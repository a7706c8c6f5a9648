"""AUTH CRAM-MD5 (RFC 2195): offered only when every password of the --smtp-auth-file is plain text; smtplib,
swaks and raw sockets log in with it, and a wrong answer gets 535."""

from __future__ import annotations

import base64
import hashlib
import hmac
import shutil
import smtplib
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mailcatch.passwords import apr1_md5
from mailcatch.server import ServerThread
from tests.helpers import wait_for_count
from tests.smtp.test_smtp import RawClient

SIMPLE = b"From: app@example.com\r\nTo: bob@example.com\r\nSubject: cram\r\n\r\nHello.\r\n"


@pytest.fixture
def plain(start_catcher: Callable[..., ServerThread], tmp_path: Path) -> ServerThread:
    users = tmp_path / "users"
    users.write_text("app:s3cret\nother:pw\n")
    return start_catcher(smtp_auth_file=str(users))


def auth_line(client: smtplib.SMTP) -> list[str]:
    client.ehlo()
    return client.esmtp_features.get("auth", "").split()


def test_offered_and_used_by_smtplib(plain: ServerThread) -> None:
    with smtplib.SMTP(plain.smtp_host, plain.smtp_port, timeout=10) as client:
        assert sorted(auth_line(client)) == ["CRAM-MD5", "LOGIN", "PLAIN"]
        client.user, client.password = "app", "s3cret"
        code, _ = client.auth("CRAM-MD5", client.auth_cram_md5)
        assert code == 235
        client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)
    with httpx.Client(base_url=plain.url) as api:
        summary = wait_for_count(api, 1)["messages"][0]
        assert summary["Username"] == "app"
        texts = [line["Text"] for line in api.get(f"/api/v1/message/{summary['ID']}/transcript").json()["Lines"]]
    answer_at = texts.index("AUTH CRAM-MD5") + 2
    assert texts[answer_at - 1].startswith("334 ") and texts[answer_at] == "<hidden>"
    assert texts[answer_at + 1].startswith("235")


def test_a_wrong_password_or_user_gets_535(plain: ServerThread) -> None:
    for user, password in (("app", "wrong"), ("nobody", "s3cret")):
        with smtplib.SMTP(plain.smtp_host, plain.smtp_port, timeout=10) as client:
            client.ehlo()
            client.user, client.password = user, password
            with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
                client.auth("CRAM-MD5", client.auth_cram_md5)
            assert refused.value.smtp_code == 535


def test_raw_answers(plain: ServerThread) -> None:
    raw = RawClient(plain.smtp_host, plain.smtp_port)
    try:
        raw.command("EHLO raw.example")
        assert raw.command("AUTH CRAM-MD5 dGVzdA==")[0].startswith(b"501 ")  # no initial response
        challenge = raw.command("AUTH CRAM-MD5")[0]
        assert challenge.startswith(b"334 ")
        assert raw.command(base64.b64encode(b"no-digest"))[0].startswith(b"501 ")
        challenge = base64.b64decode(raw.command("AUTH CRAM-MD5")[0][4:])
        assert challenge.startswith(b"<") and challenge.endswith(b">")
        digest = hmac.new(b"pw", challenge, hashlib.md5).hexdigest()
        assert raw.command(base64.b64encode(b"other " + digest.encode())) == [b"235 2.7.0 Authentication successful"]
    finally:
        raw.close()


def test_swaks_logs_in_with_cram_md5(plain: ServerThread) -> None:
    swaks = shutil.which("swaks")
    assert swaks, "swaks is missing: `bash .ci/run` installs it (apt-get install swaks)"
    result = subprocess.run(
        [
            *(swaks, "--server", f"{plain.smtp_host}:{plain.smtp_port}", "--from", "app@example.com"),
            *("--to", "bob@example.com", "--auth", "CRAM-MD5", "--auth-user", "app", "--auth-password", "s3cret"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "235 2.7.0 Authentication successful" in result.stdout


def test_not_offered_with_a_hashed_password_or_without_a_file(
    start_catcher: Callable[..., ServerThread], tmp_path: Path
) -> None:
    users = tmp_path / "users"
    users.write_text(f"app:s3cret\nhashed:$apr1$salt${apr1_md5(b'pw', b'salt')}\n")
    hashed = start_catcher(smtp_auth_file=str(users))
    for catcher in (hashed, start_catcher()):
        with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, timeout=10) as client:
            assert sorted(auth_line(client)) == ["LOGIN", "PLAIN"]
            assert client.docmd("AUTH", "CRAM-MD5") == (504, b"5.5.4 Unrecognized authentication type")
    with smtplib.SMTP(hashed.smtp_host, hashed.smtp_port, timeout=10) as client:
        client.login("app", "s3cret")  # PLAIN and LOGIN still check the file's passwords
