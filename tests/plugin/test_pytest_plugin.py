"""The plugin as users meet it: real pytest runs (through pytester) of test files that use the fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailcatch.client.http import Mailbox
from tests.plugin.helpers import CatcherProcess

# Helpers the inner test files share: plain smtplib, as an app's own code would send.
SEND = """
import smtplib
from email.message import EmailMessage


def send(mailbox, to, subject, text="Hello.", html=None):
    message = EmailMessage()
    message["From"] = "App <app@example.com>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    with smtplib.SMTP(mailbox.smtp_host, mailbox.smtp_port) as client:
        client.send_message(message)
"""

SUITE = (
    SEND
    + """
import os
import re
import time


def record(mailcatch):
    with open(LOG, "a") as log:
        log.write(f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')} {mailcatch.url}\\n")


def test_welcome_mail(mailcatch):
    record(mailcatch)
    send(mailcatch, "Bob <bob@example.com>", "Welcome, Bob",
         text="Confirm your address: https://example.com/confirm?token=abc.",
         html='<p><a href="https://example.com/confirm?token=abc">Confirm</a></p>')
    message = mailcatch.wait_for(to="bob@example.com", subject=re.compile(r"^Welcome"))
    assert message.subject == "Welcome, Bob"
    assert message.from_ == "app@example.com" and message.from_.name == "App"
    assert message.to == ["bob@example.com"]
    assert message.links == ["https://example.com/confirm?token=abc"]
    assert message.envelope.rcpt_to == ["bob@example.com"]
    assert message.transcript[-1].text.startswith("221")


def test_mailbox_starts_empty(mailcatch):
    record(mailcatch)
    assert mailcatch.messages() == []
    mailcatch.assert_no_mail()


def test_two_messages_in_arrival_order(mailcatch):
    record(mailcatch)
    send(mailcatch, "alice@example.com", "Reset your password")
    send(mailcatch, "bob@example.com", "Reset your password")
    first, second = mailcatch.wait_for(2, subject="Reset")
    assert [first.to, second.to] == [["alice@example.com"], ["bob@example.com"]]
    assert mailcatch.latest().to == ["bob@example.com"]
    mailcatch.assert_no_mail(to="carol@example.com")


def test_search_query(mailcatch):
    record(mailcatch)
    send(mailcatch, "ops@example.com", "Newsletter")
    send(mailcatch, "ops@example.com", "Invoice 42")
    assert mailcatch.wait_for(query='subject:"Invoice 42"').subject == "Invoice 42"


def test_each_test_sees_only_its_own_mail(mailcatch):
    record(mailcatch)
    send(mailcatch, "dave@example.com", "Only mine")
    time.sleep(0.05)
    assert [m.subject for m in mailcatch.messages()] == ["Only mine"]


def test_clear(mailcatch):
    record(mailcatch)
    send(mailcatch, "erin@example.com", "Soon gone")
    mailcatch.wait_for()
    mailcatch.clear()
    assert mailcatch.messages() == []


def test_session_fixture_is_the_same_catcher(mailcatch, mailcatch_server):
    record(mailcatch)
    assert (mailcatch.smtp_host, mailcatch.smtp_port, mailcatch.url) == (
        mailcatch_server.smtp_host, mailcatch_server.smtp_port, mailcatch_server.url)
    assert mailcatch.url.startswith("http://127.0.0.1:")


def test_html_only_mail_has_text(mailcatch):
    record(mailcatch)
    message = EmailMessage()
    message["From"] = "app@example.com"
    message["To"] = "frank@example.com"
    message["Subject"] = "HTML only"
    message.set_content("<h1>Hi Frank</h1><p>Your code is <b>1234</b></p>", subtype="html")
    with smtplib.SMTP(mailcatch.smtp_host, mailcatch.smtp_port) as client:
        client.send_message(message)
    assert mailcatch.wait_for(to="frank@").text == "Hi Frank\\nYour code is 1234"
"""
)
SUITE_TESTS = 8


def write_suite(pytester: pytest.Pytester) -> Path:
    """The passing suite as test_mail.py; returns the file its tests log (worker, catcher URL) lines to."""
    log = pytester.path / "workers.log"
    pytester.makepyfile(test_mail=f"LOG = {str(log)!r}\n" + SUITE)
    return log


def workers_and_urls(log: Path) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {}
    for line in log.read_text().splitlines():
        worker, url = line.split()
        seen.setdefault(worker, set()).add(url)
    return seen


LAZY = """
import sys


def test_nothing_is_imported_before_a_test_asks_for_mail(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("mailcatch")
    # Only mailcatch's own modules: other installed plugins may import what they like.
    loaded = sorted(name for name in sys.modules if name.startswith("mailcatch"))
    assert loaded == ["mailcatch", "mailcatch.pytest_plugin"]
"""


def test_a_suite_of_mail_tests_passes_with_no_conftest(inner: pytest.Pytester) -> None:
    log = write_suite(inner)
    inner.makepyfile(test_1_lazy=LAZY)
    result = inner.runpytest_subprocess("-v")
    result.assert_outcomes(passed=SUITE_TESTS + 1)
    result.stdout.fnmatch_lines(["test_1_lazy.py::test_nothing_is_imported_before_a_test_asks_for_mail PASSED*"])
    result.stdout.fnmatch_lines(["mailcatch: a catcher on free ports in this process (started when first used)"])
    assert not list(inner.path.glob("conftest.py"))
    seen = workers_and_urls(log)
    assert list(seen) == ["main"] and len(seen["main"]) == 1, "one catcher for the whole session"


def test_the_same_suite_under_xdist_gets_one_catcher_per_worker(inner: pytest.Pytester) -> None:
    log = write_suite(inner)
    result = inner.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=SUITE_TESTS)
    seen = workers_and_urls(log)
    assert sorted(seen) == ["gw0", "gw1"]
    assert all(len(urls) == 1 for urls in seen.values()), seen
    assert seen["gw0"] != seen["gw1"]


TIMEOUTS = (
    SEND
    + """

def test_invoice_is_mailed(mailcatch):
    send(mailcatch, "alice@example.com", "Welcome")
    send(mailcatch, "Bob <bob@example.com>", "Password reset")
    mailcatch.wait_for(to="carol@example.com", subject="Invoice", timeout=0.5)


def test_two_reminders(mailcatch):
    send(mailcatch, "alice@example.com", "Reminder 1")
    send(mailcatch, "alice@example.com", "Welcome")
    mailcatch.wait_for(2, subject="Reminder", timeout=0.2)


def test_nothing_sent(mailcatch):
    mailcatch.wait_for(timeout=0.1)


def test_no_mail_to_bob(mailcatch):
    send(mailcatch, "bob@example.com", "Oops")
    mailcatch.assert_no_mail(to="bob@")
"""
)


def test_a_timeout_explains_itself(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_timeouts=TIMEOUTS)
    result = inner.runpytest_inprocess()
    result.assert_outcomes(failed=4)
    result.stdout.fnmatch_lines(
        [
            "*_ test_invoice_is_mailed _*",
            '>       mailcatch.wait_for(to="carol@example.com", subject="Invoice", timeout=0.5)',
            "E       mailcatch.MailTimeout: no message matching to='carol@example.com', subject='Invoice' "
            "arrived within 0.5s",
            "E       2 messages arrived:",
            "E         from app@example.com to alice@example.com: 'Welcome'",
            "E         from app@example.com to bob@example.com: 'Password reset'",
            "*_ test_two_reminders _*",
            "E       mailcatch.MailTimeout: only 1 of the 2 messages matching subject='Reminder' arrived within 0.2s",
            "E       2 messages arrived (> marks a match):",
            "E       > from app@example.com to alice@example.com: 'Reminder 1'",
            "E         from app@example.com to alice@example.com: 'Welcome'",
            "*_ test_nothing_sent _*",
            "E       mailcatch.MailTimeout: no message arrived within 0.1s",
            "E       the mailbox is empty: no message arrived at all",
            "*_ test_no_mail_to_bob _*",
            "E       AssertionError: expected no message matching to='bob@', but 1 message arrived:",
            "E         from app@example.com to bob@example.com: 'Oops'",
        ]
    )
    output = result.stdout.str()
    assert "client.py" not in output, "the plugin's own frames are hidden from the traceback"


EXTERNAL = (
    SEND
    + """
import os


def test_uses_the_running_catcher(mailcatch, mailcatch_server):
    assert mailcatch.url == os.environ["EXPECT_URL"]
    assert f"{mailcatch.smtp_host}:{mailcatch.smtp_port}" == os.environ["EXPECT_SMTP"]
    send(mailcatch, "ops@example.com", "Sent through the service container")
    assert mailcatch.wait_for(to="ops@example.com").subject == "Sent through the service container"
"""
)


@pytest.mark.parametrize("how", ["flags", "environment"])
def test_external_mode_uses_a_catcher_in_another_process(
    inner: pytest.Pytester, catcher_process: CatcherProcess, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    inner.makepyfile(test_external=EXTERNAL)
    monkeypatch.setenv("EXPECT_URL", catcher_process.url)
    monkeypatch.setenv("EXPECT_SMTP", catcher_process.smtp)
    if how == "flags":
        args = ["--mailcatch-url", catcher_process.url, "--mailcatch-smtp", catcher_process.smtp]
    else:
        monkeypatch.setenv("MAILCATCH_URL", catcher_process.url)
        monkeypatch.setenv("MAILCATCH_SMTP", catcher_process.smtp)
        args = []
    result = inner.runpytest_inprocess(*args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"mailcatch: the catcher at {catcher_process.url}, SMTP {catcher_process.smtp}"])
    external = Mailbox(catcher_process.url, catcher_process.smtp_host, catcher_process.smtp_port)
    assert external.latest().subject == "Sent through the service container"  # kept: nothing was deleted


def test_external_mode_refuses_xdist_workers_sharing_a_mailbox(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_external=EXTERNAL)
    result = inner.runpytest_inprocess("-n", "2", "--mailcatch-url", "http://127.0.0.1:8025")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --mailcatch-url (or MAILCATCH_URL): the 2 xdist workers would share one mailbox*"]
    )


def test_external_mode_names_an_unreachable_catcher(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_external=EXTERNAL)
    result = inner.runpytest_inprocess("--mailcatch-url", "http://127.0.0.1:9/")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ApiError: can't reach mailcatch at http://127.0.0.1:9: *"])


def test_the_smtp_address_defaults_to_the_url_host_on_port_1025(inner: pytest.Pytester) -> None:
    inner.makepyfile("def test_nothing():\n    assert True\n")
    result = inner.runpytest_inprocess("--mailcatch-url", "http://mail.internal:8025")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["mailcatch: the catcher at http://mail.internal:8025, SMTP mail.internal:1025"])


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--mailcatch-smtp", "127.0.0.1:1025"], "--mailcatch-smtp needs --mailcatch-url*"),
        (["--mailcatch-url", "mail.internal:8025"], "--mailcatch-url: 'mail.internal:8025' is not an http*"),
        (
            ["--mailcatch-url", "http://mail.internal", "--mailcatch-smtp", "mail.internal"],
            "--mailcatch-smtp: 'mail.internal' is not HOST:PORT",
        ),
    ],
)
def test_bad_options_are_usage_errors(inner: pytest.Pytester, args: list[str], error: str) -> None:
    result = inner.runpytest_inprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {error}"])


def python_blocks(path: Path) -> list[str]:
    """The ```python blocks of a Markdown file, in order."""
    text = path.read_text(encoding="utf-8")
    return [block.split("```", 1)[0] for block in text.split("```python\n")[1:]]


def test_the_docs_first_example_and_unittest_recipe_pass(inner: pytest.Pytester) -> None:
    blocks = python_blocks(Path(__file__).parents[2] / "docs" / "pytest.md")
    first = blocks[0]
    unittest_recipe = next(block for block in blocks if "class SignupTest(unittest.TestCase)" in block)
    inner.makepyfile(test_docs=first + "\n\n" + unittest_recipe)
    result = inner.runpytest_inprocess("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_welcome_mail PASSED*", "*SignupTest::test_welcome PASSED*"])
