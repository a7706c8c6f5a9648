"""docs/pytest.md's examples that call an app's own functions (send_newsletter, invite, run_digest_job): each
block taken from the Markdown and run as printed in a pytest subprocess, after an import of those functions from
an app module that sends real SMTP to the fixture's catcher."""

from __future__ import annotations

from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "pytest.md"

IMPORT = "from myapp import invite, run_digest_job, send_newsletter\n"
CONFTEST = """
import pytest

import myapp


@pytest.fixture(autouse=True)
def _the_apps_mail_server(mailcatch_server):
    myapp.SERVER.update(host=mailcatch_server.smtp_host, port=mailcatch_server.smtp_port)
"""
APP = '''
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage

SERVER = {}


def _message(to, subject, body="Hello."):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "app@example.com", to, subject
    message.set_content(body)
    return message


def send_newsletter(host, port):
    """Sends the newsletter, once more on the same connection after a temporary refusal."""
    message = _message("readers@example.com", "Newsletter")
    with smtplib.SMTP(host, port) as smtp:
        try:
            smtp.send_message(message)
        except smtplib.SMTPDataError as error:
            if not 400 <= error.smtp_code < 500:
                raise
            smtp.rset()
            smtp.send_message(message)


@dataclass
class Invited:
    failed: list = field(default_factory=list)


def invite(addresses):
    """One invitation to all; the addresses the server refused are reported."""
    with smtplib.SMTP(SERVER["host"], SERVER["port"]) as smtp:
        refused = smtp.send_message(_message(", ".join(addresses), "You're invited"))
    return Invited(failed=sorted(refused))


def run_digest_job():
    """Each reader's weekly digest, and an invoice with its PDF."""
    with smtplib.SMTP(SERVER["host"], SERVER["port"]) as smtp:
        for reader in ("alice@example.com", "bob@example.com"):
            smtp.send_message(_message(reader, "Your weekly digest: 3 new posts"))
        invoice = _message("billing@example.com", "Invoice 42")
        invoice.add_attachment(b"%PDF-1.4 the invoice", maintype="application", subtype="pdf", filename="42.pdf")
        smtp.send_message(invoice)
'''


def block_after(heading: str, containing: str) -> str:
    """The ```python block of docs/pytest.md after `heading` that holds `containing`."""
    text = DOCS.read_text(encoding="utf-8")
    assert heading in text, heading
    blocks = [block.split("```", 1)[0] for block in text.split(heading, 1)[1].split("```python\n")[1:]]
    return next(block for block in blocks if containing in block)


def test_the_fault_injection_examples_pass(inner: pytest.Pytester) -> None:
    example = block_after("## Failures on purpose", "def test_the_newsletter_is_retried")
    inner.makeconftest(CONFTEST)
    inner.makepyfile(myapp=APP, test_faults=IMPORT + example)
    result = inner.runpytest_subprocess("-p", "no:django", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["*test_the_newsletter_is_retried PASSED*", "*test_a_refused_recipient_is_reported PASSED*"]
    )


def test_the_several_messages_example_passes(inner: pytest.Pytester) -> None:
    example = block_after("### Several messages, regexes and search", "def test_digest")
    inner.makeconftest(CONFTEST)
    inner.makepyfile(myapp=APP, test_digest=IMPORT + example)
    result = inner.runpytest_subprocess("-p", "no:django", "-v")
    result.assert_outcomes(passed=1)
