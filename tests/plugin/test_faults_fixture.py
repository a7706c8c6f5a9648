"""The fixture's fault methods as users meet them: fail_next(), its context manager, faults(), clear_faults(),
in real pytest runs (through pytester) against the fixture's own catcher."""

from __future__ import annotations

import pytest

from mailcatch import Catcher
from mailcatch.client.http import ApiError
from tests.plugin.test_pytest_plugin import SEND

SUITE = (
    SEND
    + """
import smtplib

import pytest

from mailcatch.client import ApiError


def plain(mailcatch):
    return smtplib.SMTP(mailcatch.smtp_host, mailcatch.smtp_port)


def test_the_app_retries_after_a_temporary_failure(mailcatch):
    fault = mailcatch.fail_next("DATA", 451, "4.3.0 Try again later")
    assert fault.reply == "451 4.3.0 Try again later"
    with plain(mailcatch) as client:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("app@example.com", ["bob@example.com"], b"Subject: retried\\r\\n\\r\\nHi\\r\\n")
        assert refused.value.smtp_code == 451
        client.sendmail("app@example.com", ["bob@example.com"], b"Subject: retried\\r\\n\\r\\nHi\\r\\n")
    assert (fault.fired, fault.remaining) == (1, 0)
    assert fault.firings[0]["Reply"] == "451 4.3.0 Try again later"
    message = mailcatch.wait_for(to="bob@example.com")
    assert "S: 451 4.3.0 Try again later" in [str(line) for line in message.transcript]


def test_a_rule_left_behind(mailcatch):
    mailcatch.fail_next("MAIL", times=0)  # every time; this test never removes it


def test_is_gone_in_the_next_test(mailcatch):
    assert mailcatch.faults() == []
    send(mailcatch, "bob@example.com", "after")
    assert mailcatch.wait_for().subject == "after"


def test_the_context_manager_removes_its_rule(mailcatch):
    with mailcatch.fail_next("RCPT", 550, "5.1.1 No such user", recipient="^bob@", times=0) as fault:
        assert [rule.id for rule in mailcatch.faults()] == [fault.id]
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            send(mailcatch, "bob@example.com", "refused")
        send(mailcatch, "ann@example.com", "accepted")
        assert fault.remaining is None and fault.fired == 1
    assert mailcatch.faults() == []
    send(mailcatch, "bob@example.com", "after")
    assert [m.subject for m in mailcatch.wait_for(2)] == ["accepted", "after"]


def test_a_dropped_connection_and_a_default_code(mailcatch):
    with mailcatch.fail_next("MAIL", drop=True):
        with pytest.raises(smtplib.SMTPServerDisconnected):
            send(mailcatch, "bob@example.com", "dropped")
    with mailcatch.fail_next("AUTH", times=3) as fault:
        assert fault.reply.startswith("454 4.0.0 Fault injected by mailcatch")
    mailcatch.fail_next("MAIL", sender="^app@")
    mailcatch.clear_faults()
    assert mailcatch.faults() == []
    mailcatch.assert_no_mail()


def test_bad_rules_say_why(mailcatch):
    with pytest.raises(ApiError, match="Delay must be between 0 and 60 seconds"):
        mailcatch.fail_next("DATA", delay=100)
    with pytest.raises(ValueError, match="stage must be one of MAIL, RCPT, DATA, AUTH"):
        mailcatch.fail_next("HELO")
"""
)


def test_fault_methods_in_a_real_pytest_run(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_faults=SUITE)
    result = inner.runpytest_inprocess("-v")
    result.assert_outcomes(passed=6)


def test_a_catcher_without_fault_injection_says_how_to_turn_it_on(mail: Catcher) -> None:
    with pytest.raises(ApiError) as refused:
        mail.fail_next("MAIL")
    assert str(refused.value) == (
        "POST /api/v1/faults answered 400: fault injection is not enabled:"
        " start mailcatch with --enable-chaos (MP_ENABLE_CHAOS=true)"
    )
