"""--smtp-require-tls (implicit TLS, SMTPS) and --smtp-require-starttls, with real clients: smtplib.SMTP_SSL,
swaks --tlsc, nodemailer's `secure: true`, and raw sockets for what a client set up wrongly gets."""

from __future__ import annotations

import json
import logging
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
from collections.abc import Callable

import httpx
import pytest

from mailcatch.config import from_args
from mailcatch.errors import ConfigError
from mailcatch.server import ServerThread
from tests.certificates import self_signed
from tests.helpers import CLIENTS_JS, make_settings, node_with, wait_for_count
from tests.smtp.test_smtp import RawClient

SIMPLE = b"From: app@example.com\r\nTo: bob@example.com\r\nSubject: over TLS\r\n\r\nHello.\r\n"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for localhost and 127.0.0.1, and its key (PEM files)."""
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def smtps(start_catcher: Callable[..., ServerThread], certificate: tuple[str, str]) -> ServerThread:
    cert, key = certificate
    return start_catcher(smtp_tls_cert=cert, smtp_tls_key=key, smtp_require_tls=True)


def trusting(certificate: tuple[str, str]) -> ssl.SSLContext:
    """A client context that trusts only the test certificate, and checks the host name."""
    return ssl.create_default_context(cafile=certificate[0])


def stored_tls(catcher: ServerThread) -> tuple[dict, dict]:
    with httpx.Client(base_url=catcher.url) as api:
        summary = wait_for_count(api, 1)["messages"][0]
        message = api.get(f"/api/v1/message/{summary['ID']}").json()
        transcript = api.get(f"/api/v1/message/{summary['ID']}/transcript").json()
    return message, transcript


def test_smtplib_smtp_ssl(smtps: ServerThread, certificate: tuple[str, str]) -> None:
    with smtplib.SMTP_SSL(smtps.smtp_host, smtps.smtp_port, context=trusting(certificate), timeout=10) as client:
        client.ehlo()
        assert "starttls" not in client.esmtp_features  # already encrypted
        client.login("tls-user", "pw")
        client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)
    message, transcript = stored_tls(smtps)
    assert message["Envelope"]["TLS"] is True and message["Username"] == "tls-user"
    assert transcript["Session"]["TLS"] is True
    texts = [line["Text"] for line in transcript["Lines"]]
    assert texts[0].startswith("220 ") and "STARTTLS" not in texts
    assert not any("pw" in text.split() for text in texts)


def test_swaks_tls_on_connect(smtps: ServerThread) -> None:
    swaks = shutil.which("swaks")
    assert swaks, "swaks is missing: `bash .ci/run` installs it (apt-get install swaks)"
    result = subprocess.run(
        [
            *(swaks, "--server", f"{smtps.smtp_host}:{smtps.smtp_port}", "--tlsc", "--from", "app@example.com"),
            *("--to", "bob@example.com", "--header", "Subject: swaks over SMTPS"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "TLS started" in result.stdout and "250 2.0.0 Ok: queued as" in result.stdout
    message, transcript = stored_tls(smtps)
    assert message["Subject"] == "swaks over SMTPS" and message["Envelope"]["TLS"] is True
    assert transcript["Session"]["TLS"] is True


def test_nodemailer_secure_true(smtps: ServerThread, certificate: tuple[str, str]) -> None:
    node = node_with("nodemailer")
    done = subprocess.run(
        [node, "send_smtps.mjs", smtps.smtp_host, str(smtps.smtp_port), certificate[0], "node-user", "pw"],
        cwd=CLIENTS_JS,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["ok"], answer
    assert answer["response"].startswith("250 2.0.0 Ok: queued as") and answer["accepted"] == ["bob@example.com"]
    message, transcript = stored_tls(smtps)
    assert message["Subject"] == "from nodemailer over TLS" and message["Username"] == "node-user"
    assert message["Envelope"]["TLS"] is True and transcript["Session"]["TLS"] is True


DJANGO_SEND = """
import sys
import django
from django.conf import settings

host, port = sys.argv[1], int(sys.argv[2])
settings.configure(
    EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    EMAIL_HOST=host,
    EMAIL_PORT=port,
    EMAIL_USE_SSL=True,
    EMAIL_HOST_USER="django-user",
    EMAIL_HOST_PASSWORD="pw",
)
django.setup()
from django.core.mail import send_mail

print(send_mail("from Django over TLS", "Hello.", "app@example.com", ["bob@example.com"]))
"""


def test_django_email_use_ssl(smtps: ServerThread, certificate: tuple[str, str]) -> None:
    """Django's SMTP backend with EMAIL_USE_SSL=True, trusting the certificate as a user would (SSL_CERT_FILE)."""
    done = subprocess.run(
        [sys.executable, "-c", DJANGO_SEND, "localhost", str(smtps.smtp_port)],
        env={**os.environ, "SSL_CERT_FILE": certificate[0]},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
    message, transcript = stored_tls(smtps)
    assert message["Subject"] == "from Django over TLS" and message["Username"] == "django-user"
    assert message["Envelope"]["TLS"] is True and transcript["Session"]["TLS"] is True


def test_a_plain_client_is_closed_not_left_hanging(smtps: ServerThread, certificate: tuple[str, str]) -> None:
    with socket.create_connection((smtps.smtp_host, smtps.smtp_port), timeout=10) as plain:
        plain.sendall(b"EHLO plain.example\r\n")
        received = b""
        while chunk := plain.recv(4096):  # a TLS alert at most, then the end of the connection
            received += chunk
        assert b"250" not in received
    with smtplib.SMTP_SSL(smtps.smtp_host, smtps.smtp_port, context=trusting(certificate), timeout=10) as client:
        assert client.noop()[0] == 250  # the server goes on


def test_require_starttls(start_catcher: Callable[..., ServerThread], certificate: tuple[str, str]) -> None:
    cert, key = certificate
    catcher = start_catcher(smtp_tls_cert=cert, smtp_tls_key=key, smtp_require_starttls=True)
    raw = RawClient(catcher.smtp_host, catcher.smtp_port)
    try:
        features = raw.command("EHLO raw.example")
        assert b"250-STARTTLS" in features and not any(b"AUTH" in line for line in features)
        for command in ("MAIL FROM:<app@example.com>", "RCPT TO:<bob@example.com>", "DATA", "AUTH PLAIN AGFAYg=="):
            assert raw.command(command) == [b"530 5.7.0 Must issue a STARTTLS command first"]
    finally:
        raw.close()
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)
        assert refused.value.smtp_code == 530
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, timeout=10) as client:
        client.starttls(context=trusting(certificate))
        client.ehlo()
        assert "auth" in client.esmtp_features
        client.login("user", "pw")
        client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)
    message, transcript = stored_tls(catcher)
    assert message["Envelope"]["TLS"] is True
    texts = [line["Text"] for line in transcript["Lines"]]
    assert "530 5.7.0 Must issue a STARTTLS command first" not in texts  # that session stored nothing


def test_the_start_up_line_names_the_tls_mode(
    start_catcher: Callable[..., ServerThread], certificate: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    cert, key = certificate
    caplog.set_level(logging.INFO, "mailcatch.lifecycle")
    start_catcher()
    start_catcher(smtp_tls_cert=cert, smtp_tls_key=key)
    start_catcher(smtp_tls_cert=cert, smtp_tls_key=key, smtp_require_starttls=True)
    start_catcher(smtp_tls_cert=cert, smtp_tls_key=key, smtp_require_tls=True)
    lines = [record.getMessage() for record in caplog.records if "web UI and API on" in record.getMessage()]
    modes = [line.rsplit("SMTP with ", 1)[1] for line in lines]
    assert modes == ["no TLS)", "STARTTLS optional)", "STARTTLS required)", "implicit TLS (SMTPS) required)"]


def test_flags_need_a_certificate_and_exclude_each_other(certificate: tuple[str, str]) -> None:
    cert, key = certificate
    for flag, name in (
        ("--smtp-require-tls", "smtp_require_tls"),
        ("--smtp-require-starttls", "smtp_require_starttls"),
    ):
        with pytest.raises(ConfigError) as refused:
            make_settings(**{name: True})
        assert str(refused.value) == f"{flag} needs a certificate and key: give --smtp-tls-cert and --smtp-tls-key"
    with pytest.raises(ConfigError, match="can't be used together"):
        make_settings(smtp_tls_cert=cert, smtp_tls_key=key, smtp_require_tls=True, smtp_require_starttls=True)
    tls = {"MP_SMTP_TLS_CERT": cert, "MP_SMTP_TLS_KEY": key}
    assert from_args([], {**tls, "MP_SMTP_REQUIRE_TLS": "true"}).smtp_require_tls is True
    assert from_args([], {**tls, "MP_SMTP_TLS_REQUIRED": "1"}).smtp_require_starttls is True
    assert from_args(["--smtp-tls-required"], tls).smtp_require_starttls is True
