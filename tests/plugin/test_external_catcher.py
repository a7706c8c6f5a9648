"""The fixture with a catcher others use (--mailcatch-url): each test sees only the mail sent during it and
nothing is deleted, unless --mailcatch-clear says so; real pytest runs against a catcher in another process,
kept in memory and on PostgreSQL (as a team's shared catcher)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from mailcatch.client.http import Mailbox
from mailcatch.client.since import Since, parse_created
from tests.plugin.helpers import CatcherProcess, running_catcher_process, send_mail
from tests.postgres.databases import fresh_database

SUITE = """
import smtplib
from email.message import EmailMessage


def send(mailbox, subject):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "app@example.com", "bob@example.com", subject
    message.set_content("Hello.")
    with smtplib.SMTP(mailbox.smtp_host, mailbox.smtp_port) as client:
        client.send_message(message)


def test_first(mailcatch):
    send(mailcatch, "First test")
    assert mailcatch.wait_for(to="bob@example.com").subject == "First test"
    assert [m.subject for m in mailcatch.messages()] == ["First test"]
    assert mailcatch.latest().subject == "First test"


def test_second(mailcatch):
    mailcatch.assert_no_mail()  # neither the developer's mail nor the first test's
    send(mailcatch, "Second test")
    send(mailcatch, "Second test, again")
    assert [m.subject for m in mailcatch.wait_for(2)] == ["Second test", "Second test, again"]
    mailcatch.clear()  # only what this test sees
    assert mailcatch.messages() == []
"""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def catcher_process(request: pytest.FixtureRequest) -> Iterator[CatcherProcess]:
    """The shared catcher, in memory and on a PostgreSQL database of its own (a team's shared catcher)."""
    if request.param == "sqlite":
        with running_catcher_process() as process:
            yield process
        return
    with fresh_database() as url, running_catcher_process("--database", url) as process:
        yield process


@pytest.fixture
def external(catcher_process: CatcherProcess) -> Iterator[Mailbox]:
    """The catcher process's whole mailbox, emptied before and after."""
    box = Mailbox(catcher_process.url, catcher_process.smtp_host, catcher_process.smtp_port)
    box.clear()
    yield box
    box.clear()


def _args(catcher_process: CatcherProcess) -> list[str]:
    return ["--mailcatch-url", catcher_process.url, "--mailcatch-smtp", catcher_process.smtp]


def test_the_mail_a_developer_reads_survives_a_test_run(
    inner: pytest.Pytester, catcher_process: CatcherProcess, external: Mailbox
) -> None:
    send_mail(external, subject="Being read in the web UI")
    inner.makepyfile(test_shared=SUITE)
    result = inner.runpytest_inprocess(*_args(catcher_process))
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["mailcatch: each test sees only the mail that arrives during it (nothing is deleted)"])
    assert [m.subject for m in external.messages()] == ["Being read in the web UI", "First test"]


def test_mailcatch_clear_empties_the_catcher_before_each_test_and_says_so(
    inner: pytest.Pytester, catcher_process: CatcherProcess, external: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    send_mail(external, subject="Being read in the web UI")
    inner.makepyfile(
        test_cleared="""
def test_empty(mailcatch, mailcatch_server):
    assert mailcatch is mailcatch_server
    mailcatch.assert_no_mail()
"""
    )
    monkeypatch.setenv("MAILCATCH_CLEAR", "1")
    result = inner.runpytest_inprocess(*_args(catcher_process))
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["mailcatch: its mailbox emptied before each test (--mailcatch-clear): the mail already in it is deleted"]
    )
    assert external.messages() == []


def test_mailcatch_clear_needs_a_catcher_to_empty(inner: pytest.Pytester) -> None:
    result = inner.runpytest_inprocess("--mailcatch-clear")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --mailcatch-clear (or MAILCATCH_CLEAR) needs --mailcatch-url*"])


def test_a_view_ignores_what_came_before_it(external: Mailbox) -> None:
    send_mail(external, subject="Old")
    view = external.since_now()
    assert view.messages() == []
    with pytest.raises(AssertionError, match="the mailbox is empty since the test began"):
        view.latest()
    with pytest.raises(AssertionError, match="no message arrived at all since the test began"):
        view.wait_for(timeout=0.1)
    send_mail(external, subject="New")
    assert [m.subject for m in view.messages()] == ["New"]
    assert [m.subject for m in external.messages()] == ["Old", "New"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-06T03:10:11.123Z", datetime(2026, 12, 6, 3, 10, 11, 123000, timezone.utc)),
        ("2026-12-06T04:10:11.123456789+01:00", datetime(2026, 12, 6, 3, 10, 11, 123456, timezone.utc)),
        ("2026-12-05T22:10:11-05:00", datetime(2026, 12, 6, 3, 10, 11, 0, timezone.utc)),
        ("yesterday", None),
    ],
)
def test_created_times_as_mailcatch_and_mailpit_write_them(text: str, expected: datetime | None) -> None:
    assert parse_created(text) == expected


def test_messages_stored_in_the_same_millisecond_as_the_newest_are_told_apart() -> None:
    at = "2026-12-06T03:10:11.123Z"
    since = Since.from_newest([{"ID": "b", "Created": at}, {"ID": "a", "Created": at}])
    assert since.ids == frozenset({"a", "b"})
    assert not since.is_new({"ID": "a", "Created": at})
    assert since.is_new({"ID": "c", "Created": at})
    assert since.is_new({"ID": "d", "Created": "2026-12-06T03:10:11.124Z"})
    assert not since.is_new({"ID": "e", "Created": "2026-12-06T03:10:11.122Z"})
    assert Since.from_newest([]).is_new({"ID": "x", "Created": at})
