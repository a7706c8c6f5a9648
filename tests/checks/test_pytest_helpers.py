"""The message objects' checks, as a test uses them: `message.lint()`, `message.check()` (lint, DKIM, HTML),
the findings a failing `assert message.lint() == []` shows, and docs/pytest.md's "Message checks" example
run as printed. Real catchers, real SMTP, real HTTP; pytest runs of their own in a subprocess."""

from __future__ import annotations

import base64
import os
import smtplib
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import dkim  # type: ignore[import-untyped]
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailcatch.client.captured import Checks, DkimCheck, HtmlCheck, LintFinding, LintFindings, LintWhere, Message
from mailcatch.client.http import Mailbox
from mailcatch.server import ServerThread
from tests.helpers import make_settings

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "lint"
INNER_INI = """[pytest]
filterwarnings = error
addopts = -p no:cacheprovider -p no:hypothesispytest -p no:benchmark -p no:anyio -p no:django -p no:xdist
"""
SIGNED = [b"from", b"to", b"subject", b"date", b"message-id"]
RECEIPT = (
    b"From: Shop <shop@example.com>\r\n"
    b"To: ann@example.org\r\n"
    b"Subject: Your receipt\r\n"
    b"Date: Sun, 06 Dec 2026 05:00:00 +0000\r\n"
    b"Message-ID: <receipt-1@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/alternative; boundary="b"\r\n'
    b"\r\n"
    b"--b\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Thank you for your order.\r\n"
    b"--b\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"\r\n"
    b'<div style="display:flex"><p>Thank you for your order.</p></div>\r\n'
    b"--b--\r\n"
)


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, Path]:
    """A private key to sign with, and a --dkim-keys file holding its public half for sel._domainkey.example.com."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    path = tmp_path_factory.mktemp("dkim") / "keys.txt"
    path.write_text(f"sel._domainkey.example.com v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}\n")
    return pem, path


@pytest.fixture(scope="module")
def catcher(key: tuple[bytes, Path]) -> Iterator[ServerThread]:
    started = ServerThread(make_settings(dkim_keys=str(key[1]))).start()
    yield started
    started.stop()


@pytest.fixture
def mailbox(catcher: ServerThread) -> Mailbox:
    box = Mailbox(catcher.url, catcher.smtp_host, catcher.smtp_port)
    box.clear()
    return box


def deliver(mailbox: Mailbox, raw: bytes) -> Message:
    """Send bytes as they are; the message as the fixture's objects give it."""
    with smtplib.SMTP(mailbox.smtp_host, mailbox.smtp_port, local_hostname="app.local") as client:
        client.sendmail("shop@example.com", ["ann@example.org"], raw)
    return mailbox.latest()  # stored before the 250 reply


def signed(raw: bytes, pem: bytes) -> bytes:
    header: bytes = dkim.sign(raw, b"sel", b"example.com", pem, include_headers=SIGNED)
    return header + raw


def test_lint_gives_finding_objects(mailbox: Mailbox) -> None:
    message = deliver(mailbox, (CORPUS / "broken_duplicate-header.eml").read_bytes())
    findings = message.lint()
    assert isinstance(findings, LintFindings)
    assert findings == [
        LintFinding(
            "error",
            "duplicate-header",
            "Date appears more than once (the first is on line 1): mail programs disagree on which to believe",
            "RFC 5322 section 3.6.1",
            LintWhere("Date", 7, ""),
        )
    ]
    assert repr(findings[0]) == (
        "<error duplicate-header (header Date, line 7): Date appears more than once (the first is on line 1): "
        "mail programs disagree on which to believe [RFC 5322 section 3.6.1]>"
    )
    assert findings.codes() == ["duplicate-header"]
    assert findings.problems == findings


def test_a_clean_message_lints_to_an_empty_list(mailbox: Mailbox) -> None:
    message = deliver(mailbox, (CORPUS / "good_smtplib.eml").read_bytes())
    assert message.lint() == []
    newsletter = deliver(mailbox, (CORPUS / "good_newsletter.eml").read_bytes())
    findings = newsletter.lint()
    assert findings.codes() == ["line-over-78"]  # an info only
    assert findings.problems == []
    assert isinstance(findings.problems, LintFindings)  # a failing assert on it lists them too


def test_check_of_a_signed_message(mailbox: Mailbox, key: tuple[bytes, Path]) -> None:
    message = deliver(mailbox, signed(RECEIPT, key[0]))
    checks = message.check()
    assert isinstance(checks, Checks)
    assert checks.lint == []
    assert isinstance(checks.dkim, DkimCheck)
    [signature] = checks.dkim.signatures
    assert (signature.kind, signature.domain, signature.selector, signature.result) == (
        "DKIM-Signature",
        "example.com",
        "sel",
        "pass",
    )
    assert signature.headers == ["from", "to", "subject", "date", "message-id"]
    assert checks.dkim.arc_result == "none"
    assert isinstance(checks.html, HtmlCheck)
    assert "css-display-flex" in [warning.slug for warning in checks.html.warnings]
    assert 0 < checks.html.supported < 100
    assert checks.problems == []
    assert checks.ok
    assert repr(checks) == f"<Checks of {message.id}: ok>"


def test_check_lists_the_problems(mailbox: Mailbox, key: tuple[bytes, Path]) -> None:
    tampered = signed(RECEIPT, key[0]).replace(
        b"Thank you for your order.\r\n--b\r\nContent-Type: text/html", b"Thank you!\r\n--b\r\nContent-Type: text/html"
    )
    tampered = tampered.replace(b"Date: Sun, 06 Dec 2026 05:00:00 +0000\r\n", b"Date: yesterday\r\n")
    message = deliver(mailbox, tampered)
    checks = message.check()
    [signature] = checks.dkim.signatures
    assert signature.result == "fail"
    line = tampered.split(b"\r\n").index(b"Date: yesterday") + 1  # after the signature's folded lines
    assert checks.problems == [
        f"lint: error date-invalid (header Date, line {line}): the Date 'yesterday' is not a date in RFC 5322 form "
        "[RFC 5322 section 3.3]",
        f"dkim: DKIM-Signature d=example.com s=sel fail: {signature.reason}",
    ]
    assert not checks.ok
    assert "2 problems" in repr(checks)


def test_check_reads_an_arc_chain(mailbox: Mailbox, key: tuple[bytes, Path]) -> None:
    results = b"Authentication-Results: mx.example.com; dkim=pass header.d=example.com\r\n"
    message = signed(RECEIPT, key[0])
    arc_set = dkim.arc_sign(
        results + message, b"sel", b"example.com", key[0], b"mx.example.com", include_headers=SIGNED
    )
    checks = deliver(mailbox, b"".join(arc_set) + results + message).check()
    assert sorted(s.kind for s in checks.dkim.signatures) == ["ARC-Message-Signature", "ARC-Seal", "DKIM-Signature"]
    assert all(s.result == "pass" for s in checks.dkim.signatures), checks.dkim.signatures
    assert (checks.dkim.arc_result, checks.ok) == ("pass", True)


def test_a_message_without_html_has_no_html_check(mailbox: Mailbox) -> None:
    message = deliver(mailbox, (CORPUS / "broken_missing-message-id.eml").read_bytes())
    checks = message.check()
    assert checks.html is None
    assert checks.dkim.signatures == []
    assert [problem.split(" (")[0] for problem in checks.problems] == ["lint: warning missing-message-id"]


def run_pytest(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    """Run pytest on one test file in a process of its own, with the mailcatch plugin as installed."""
    (tmp_path / "pytest.ini").write_text(INNER_INI)
    (tmp_path / "test_inner.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAILCATCH_", "PYTEST_"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "test_inner.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_failing_lint_assertion_shows_every_finding(tmp_path: Path) -> None:
    broken = (
        (CORPUS / "broken_missing-date.eml").read_bytes().replace(b"Message-ID: <lint-corpus@example.com>\r\n", b"")
    )
    source = textwrap.dedent(
        f"""
        import smtplib


        def test_the_mail_is_well_formed(mailcatch):
            with smtplib.SMTP(mailcatch.smtp_host, mailcatch.smtp_port, local_hostname="app.local") as client:
                client.sendmail("app@example.com", ["bob@example.org"], {broken!r})
            assert mailcatch.wait_for().lint() == []
        """
    )
    result = run_pytest(tmp_path, source)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("E ")]
    assert [
        line[1:].strip()
        for line in lines
        if "lint findings ==" in line or line[1:].strip().startswith(("error ", "warning "))
    ] == [
        "assert lint findings == []: 1 error, 1 warning",
        "error missing-date (the message): the message has no Date header, which is required [RFC 5322 section 3.6]",
        "warning missing-message-id (the message): the message has no Message-ID header; every message should have "
        "one (threading and duplicate detection depend on it) [RFC 5322 section 3.6.4]",
    ], result.stdout


def test_the_docs_message_checks_example_runs_as_printed(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "pytest.md").read_text(encoding="utf-8")
    assert "\n## Message checks\n" in text
    section = text.split("\n## Message checks\n", 1)[1].split("\n## ", 1)[0]
    blocks = [block.split("```", 1)[0] for block in section.split("```python\n")[1:]]
    assert blocks, "docs/pytest.md's Message checks section has no ```python example"
    result = run_pytest(tmp_path, "\n\n".join(blocks))
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout
