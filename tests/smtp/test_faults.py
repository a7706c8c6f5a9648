"""Fault rules (/api/v1/faults): real SMTP replies injected at MAIL, RCPT, DATA and AUTH, seen by smtplib,
swaks and raw sockets, and in the transcript; bad rules refused with 400."""

from __future__ import annotations

import shutil
import smtplib
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mailcatch.server import ServerThread
from tests.helpers import running, wait_for_count
from tests.smtp.test_smtp import RawClient

SIMPLE = b"From: app@example.com\r\nTo: bob@example.com\r\nSubject: retry me\r\n\r\nHello.\r\n"


@pytest.fixture(scope="module")
def faulty() -> Iterator[ServerThread]:
    """One catcher with fault injection on, for the module."""
    with running(enable_chaos=True) as catcher:
        yield catcher


@pytest.fixture
def api(faulty: ServerThread) -> Iterator[httpx.Client]:
    """Its API, with no rules and no messages at the start of each test."""
    with httpx.Client(base_url=faulty.url, timeout=10) as client:
        assert client.delete("/api/v1/faults").status_code == 200
        client.delete("/api/v1/messages")
        yield client


def add(api: httpx.Client, **rule: Any) -> dict[str, Any]:
    response = api.post("/api/v1/faults", json=rule)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def smtp(catcher: ServerThread) -> smtplib.SMTP:
    return smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, timeout=10)


def transcript_texts(api: httpx.Client, message_id: str) -> list[str]:
    return [line["Text"] for line in api.get(f"/api/v1/message/{message_id}/transcript").json()["Lines"]]


def test_off_by_default(catcher: ServerThread) -> None:
    with httpx.Client(base_url=catcher.url) as api:
        for method, path in (("GET", "/api/v1/faults"), ("POST", "/api/v1/faults"), ("DELETE", "/api/v1/faults")):
            response = api.request(method, path, json={"Stage": "MAIL", "Code": 451})
            assert response.status_code == 400
            assert response.json() == {
                "Error": "fault injection is not enabled: start mailcatch with --enable-chaos (MP_ENABLE_CHAOS=true)"
            }
    with smtp(catcher) as client:
        client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)


def test_the_next_mail_from_fails_once_then_the_retry_in_the_same_session_is_stored(
    faulty: ServerThread, api: httpx.Client
) -> None:
    rule = add(api, Stage="MAIL", Code=451, Text="4.3.2 Try again later")
    assert (rule["Times"], rule["Remaining"], rule["Fired"], rule["Reply"]) == (1, 1, 0, "451 4.3.2 Try again later")
    with smtp(faulty) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)
        assert (refused.value.smtp_code, refused.value.smtp_error) == (451, b"4.3.2 Try again later")
        client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)  # smtplib sent RSET after the refusal
    summary = wait_for_count(api, 1)["messages"][0]
    texts = transcript_texts(api, summary["ID"])
    refused_at = texts.index("451 4.3.2 Try again later")
    assert texts[refused_at - 1].lower().startswith("mail from:<app@example.com>")
    assert texts[refused_at + 1 :].count("250 OK") >= 1  # the retry went on
    spent = api.get(f"/api/v1/faults/{rule['ID']}").json()
    assert (spent["Remaining"], spent["Fired"]) == (0, 1)
    assert spent["Firings"][0]["Reply"] == "451 4.3.2 Try again later"
    assert spent["Firings"][0]["Sender"] == "app@example.com"


def test_recipients_matching_a_pattern_are_refused_the_others_get_the_message(
    faulty: ServerThread, api: httpx.Client
) -> None:
    add(api, Stage="RCPT", Recipient="^bob@", Code=550, Text="5.1.1 No such user", Times=0)
    with smtp(faulty) as client:
        refused = client.sendmail("app@example.com", ["bob@example.com", "ann@example.com"], SIMPLE)
        assert refused == {"bob@example.com": (550, b"5.1.1 No such user")}
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail("app@example.com", ["bob@example.org"], SIMPLE)  # Times 0: every time
    summary = wait_for_count(api, 1)["messages"][0]
    message = api.get(f"/api/v1/message/{summary['ID']}").json()
    assert message["Envelope"]["To"] == ["ann@example.com"]
    texts = transcript_texts(api, summary["ID"])
    assert texts[texts.index("rcpt TO:<bob@example.com>") + 1] == "550 5.1.1 No such user"  # smtplib's spelling
    rule = api.get("/api/v1/faults").json()[0]
    assert (rule["Remaining"], rule["Fired"]) == (None, 2)


def test_data_fails_for_the_next_two_messages_of_a_sender(faulty: ServerThread, api: httpx.Client) -> None:
    add(api, Stage="DATA", Sender="@app\\.example$", Code=452, Times=2)
    with smtp(faulty) as client:
        client.sendmail("other@example.com", ["bob@example.com"], SIMPLE)  # not matched: stored
        for _ in range(2):
            with pytest.raises(smtplib.SMTPDataError) as refused:
                client.sendmail("news@app.example", ["bob@example.com"], SIMPLE)
            assert refused.value.smtp_code == 452
            assert refused.value.smtp_error.startswith(b"4.0.0 Fault injected by mailcatch (rule ")
        client.sendmail("news@app.example", ["bob@example.com"], SIMPLE)  # the third is stored
    listing = wait_for_count(api, 2)
    assert listing["total"] == 2
    stored = api.get(f"/api/v1/message/{listing['messages'][0]['ID']}").json()
    assert stored["Envelope"]["From"] == "news@app.example"
    texts = transcript_texts(api, listing["messages"][0]["ID"])
    assert sum(text.startswith("452 4.0.0 Fault injected") for text in texts) == 2


def test_auth_fails_then_logs_in(faulty: ServerThread, api: httpx.Client) -> None:
    # Two times: smtplib's login tries PLAIN, then LOGIN.
    add(api, Stage="AUTH", Code=454, Text="4.7.0 Temporary authentication failure", Times=2)
    with smtp(faulty) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            client.login("user", "secret")
        assert refused.value.smtp_code == 454
        client.login("user", "secret")
        client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)
    summary = wait_for_count(api, 1)["messages"][0]
    texts = transcript_texts(api, summary["ID"])
    assert "454 4.7.0 Temporary authentication failure" in texts
    assert not any("secret" in text for text in texts)


def test_dropping_the_connection_after_the_data_stores_nothing(faulty: ServerThread, api: httpx.Client) -> None:
    rule = add(api, Stage="DATA", Drop=True)
    client = smtp(faulty)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)
    client.close()
    with smtp(faulty) as again:  # the next connection is served as usual
        again.sendmail("app@example.com", ["bob@example.com"], SIMPLE)
    assert wait_for_count(api, 1)["total"] == 1
    fired = api.get(f"/api/v1/faults/{rule['ID']}").json()
    assert fired["Fired"] == 1 and fired["Reply"] is None and fired["Firings"][0]["Reply"] == ""


def test_a_drop_sends_the_replies_already_due_first(faulty: ServerThread, api: httpx.Client) -> None:
    add(api, Stage="RCPT", Recipient="drop", Drop=True)
    client = RawClient(faulty.smtp_host, faulty.smtp_port)
    try:
        client.command("EHLO raw.example")
        client.send(b"MAIL FROM:<app@example.com>\r\nRCPT TO:<ok@example.com>\r\nRCPT TO:<drop@example.com>\r\n")
        assert client.reply() == [b"250 OK"]
        assert client.reply() == [b"250 OK"]
        with pytest.raises(ConnectionError):
            client.reply()
    finally:
        client.close()


def test_a_delay_alone_lets_the_command_go_on(faulty: ServerThread, api: httpx.Client) -> None:
    rule = add(api, Stage="MAIL", Delay=0.2)
    with smtp(faulty) as client:
        client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)
    assert wait_for_count(api, 1)["total"] == 1
    assert api.get(f"/api/v1/faults/{rule['ID']}").json()["Fired"] == 1


def test_swaks_sees_the_injected_reply(faulty: ServerThread, api: httpx.Client) -> None:
    add(api, Stage="RCPT", Code=421, Text="4.4.5 Server busy, try later")
    swaks = shutil.which("swaks")
    assert swaks, "swaks is missing: `bash .ci/run` installs it (apt-get install swaks)"
    server = f"{faulty.smtp_host}:{faulty.smtp_port}"
    args = [swaks, "--server", server, "--from", "app@example.com", "--to", "bob@example.com"]
    first = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert first.returncode != 0 and "421 4.4.5 Server busy, try later" in first.stdout
    second = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert second.returncode == 0 and "250 2.0.0 Ok: queued as" in second.stdout, second.stdout


def test_rules_are_listed_and_removed(faulty: ServerThread, api: httpx.Client) -> None:
    first = add(api, Stage="mail", Code=451)  # stage in any case
    second = add(api, stage="RCPT", code=550)  # field names too, as Mailpit reads JSON
    assert first["Stage"] == "MAIL" and second["Code"] == 550
    assert [rule["ID"] for rule in api.get("/api/v1/faults").json()] == [first["ID"], second["ID"]]
    assert api.delete(f"/api/v1/faults/{first['ID']}").text == "ok"
    assert [rule["ID"] for rule in api.get("/api/v1/faults").json()] == [second["ID"]]
    missing = api.delete(f"/api/v1/faults/{first['ID']}")
    assert missing.status_code == 404 and missing.json() == {"Error": f"no fault rule with ID '{first['ID']}'"}
    assert api.get("/api/v1/faults/nope").status_code == 404
    assert api.delete("/api/v1/faults").text == "ok"
    assert api.get("/api/v1/faults").json() == []
    with smtp(faulty) as client:
        client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        ([], "the request body must be a JSON object"),
        ({"Code": 451}, "Stage must be one of MAIL, RCPT, DATA, AUTH"),
        ({"Stage": "HELO", "Code": 451}, "Stage must be one of MAIL, RCPT, DATA, AUTH"),
        ({"Stage": "MAIL", "Code": 451, "Colour": "red"}, "unknown field 'Colour'"),
        ({"Stage": "RCPT", "Code": 451, "Recipient": "("}, "Recipient: '(' is not a regular expression"),
        ({"Stage": "MAIL", "Code": 451, "Recipient": "bob"}, "Recipient can't be matched at MAIL"),
        ({"Stage": "AUTH", "Code": 451, "Sender": "app"}, "Sender can't be matched at AUTH"),
        ({"Stage": "MAIL", "Code": 250}, "Code must be between 400 and 599"),
        ({"Stage": "MAIL", "Code": "451"}, "Code must be a whole number"),
        ({"Stage": "MAIL", "Code": 451, "Drop": True}, "not both"),
        ({"Stage": "MAIL"}, "a rule must do something"),
        ({"Stage": "MAIL", "Delay": 61}, "Delay must be between 0 and 60 seconds"),
        ({"Stage": "MAIL", "Delay": -1}, "Delay must be between 0 and 60 seconds"),
        ({"Stage": "MAIL", "Code": 451, "Times": -1}, "Times must be 0 (every time)"),
        ({"Stage": "MAIL", "Code": 451, "Text": "a\r\n250 OK"}, "Text must be one line of printable ASCII"),
        ({"Stage": "MAIL", "Drop": True, "Text": "bye"}, "Text goes with a Code"),
        ({"Stage": "MAIL", "Drop": "yes"}, "Drop must be true or false"),
    ],
)
def test_bad_rules_get_400(api: httpx.Client, rule: Any, error: str) -> None:
    response = api.post("/api/v1/faults", json=rule)
    assert response.status_code == 400
    assert error in response.json()["Error"]
    assert api.get("/api/v1/faults").json() == []


def test_at_most_100_rules_spent_ones_make_room(faulty: ServerThread, api: httpx.Client) -> None:
    spent = add(api, Stage="MAIL", Code=451)
    with smtp(faulty) as client, pytest.raises(smtplib.SMTPSenderRefused):
        client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)
    for _ in range(99):
        add(api, Stage="RCPT", Recipient="nobody-matches-this", Code=451)
    assert len(api.get("/api/v1/faults").json()) == 100
    add(api, Stage="RCPT", Recipient="nobody-matches-this", Code=451)  # takes the spent rule's place
    rules = api.get("/api/v1/faults").json()
    assert len(rules) == 100 and spent["ID"] not in [rule["ID"] for rule in rules]
    full = api.post("/api/v1/faults", json={"Stage": "MAIL", "Code": 451})
    assert full.status_code == 400 and full.json()["Error"] == "at most 100 fault rules at once: delete some first"
