"""Mailpit's chaos (GET/PUT /api/v1/chaos, --enable-chaos, --chaos-triggers) on a real catcher: probability 0
never fires and 100 always does, so each test is deterministic."""

from __future__ import annotations

import smtplib
from typing import Any

import httpx
import pytest

from mailcatch.config import from_args
from mailcatch.errors import ConfigError
from tests.helpers import wait_for_count

SIMPLE = b"From: app@example.com\r\nTo: bob@example.com\r\nSubject: chaos\r\n\r\nHello.\r\n"
DEFAULTS = {
    "Sender": {"ErrorCode": 451, "Probability": 0},
    "Recipient": {"ErrorCode": 451, "Probability": 0},
    "Authentication": {"ErrorCode": 535, "Probability": 0},
}


def test_chaos_is_off_by_default(catcher, api: httpx.Client) -> None:
    for response in (api.get("/api/v1/chaos"), api.put("/api/v1/chaos", json={})):
        assert response.status_code == 400
        assert response.json() == {"Error": "Chaos is not enabled"}
    assert api.get("/api/v1/webui").json()["ChaosEnabled"] is False


def test_chaos_triggers_as_mailpit_shapes_them(start_catcher) -> None:
    catcher = start_catcher(enable_chaos=True)
    with httpx.Client(base_url=catcher.url) as api:
        assert api.get("/api/v1/webui").json()["ChaosEnabled"] is True
        assert api.get("/api/v1/chaos").json() == DEFAULTS
        answered = api.put("/api/v1/chaos", json={"Sender": {"ErrorCode": 452, "Probability": 100}})
        assert answered.status_code == 200
        assert answered.json() == {**DEFAULTS, "Sender": {"ErrorCode": 452, "Probability": 100}}
        with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
            for _ in range(5):
                with pytest.raises(smtplib.SMTPSenderRefused) as refused:
                    client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)
                assert (refused.value.smtp_code, refused.value.smtp_error) == (452, b"Chaos sender error")
        # A trigger left out is reset; {} resets them all.
        assert api.put("/api/v1/chaos", json={"Recipient": {"Probability": 100}}).json() == {
            **DEFAULTS,
            "Recipient": {"ErrorCode": 451, "Probability": 100},
        }
        with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
            with pytest.raises(smtplib.SMTPRecipientsRefused) as refused_all:
                client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)
            assert refused_all.value.recipients == {"bob@example.com": (451, b"Chaos recipient error")}
        assert api.put("/api/v1/chaos", json={}).json() == DEFAULTS
        with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
            for _ in range(20):  # probability 0: never
                client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)
        assert wait_for_count(api, 20)["total"] == 20


def test_the_injected_reply_is_in_the_transcript(start_catcher) -> None:
    catcher = start_catcher(enable_chaos=True)
    with httpx.Client(base_url=catcher.url) as api:
        api.put("/api/v1/chaos", json={"Recipient": {"ErrorCode": 550, "Probability": 100}})
        with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)
            api.put("/api/v1/chaos", json={})
            client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)  # the retry, same session
        summary = wait_for_count(api, 1)["messages"][0]
        lines = api.get(f"/api/v1/message/{summary['ID']}/transcript").json()["Lines"]
        texts = [line["Text"] for line in lines]
        assert texts[texts.index("550 Chaos recipient error") - 1] == "rcpt TO:<bob@example.com>"


def test_authentication_chaos(start_catcher, tmp_path) -> None:
    users = tmp_path / "users"
    users.write_text("app:secret\n")
    catcher = start_catcher(chaos_triggers="Authentication:535:100", smtp_auth_file=str(users))
    with httpx.Client(base_url=catcher.url) as api:
        assert api.get("/api/v1/chaos").json()["Authentication"] == {"ErrorCode": 535, "Probability": 100}
        with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
            with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
                client.login("app", "secret")
            assert refused.value.smtp_error == b"Chaos authentication error"
        api.put("/api/v1/chaos", json={"Authentication": {"Probability": 0}})
        with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
            client.login("app", "secret")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"Sender": {"ErrorCode": 399, "Probability": 5}}, "error code must be between 400 and 599"),
        ({"Recipient": {"ErrorCode": 600}}, "error code must be between 400 and 599"),
        ({"Authentication": {"Probability": 101}}, "probability must be between 0 and 100"),
        ({"Sender": {"Probability": -1}}, "probability must be between 0 and 100"),
        ({"Sender": {"Probability": 5.5}}, "Sender.Probability must be a whole number"),
        ({"Sender": {"ErrorCode": "451"}}, "Sender.ErrorCode must be a whole number"),
        ({"Sender": 5}, "Sender must be an object: {ErrorCode, Probability}"),
        ([1, 2], "the request body must be a JSON object"),
    ],
)
def test_bad_triggers_get_400_and_change_nothing(start_catcher, body: Any, error: str) -> None:
    catcher = start_catcher(chaos_triggers="Sender:451:100")
    with httpx.Client(base_url=catcher.url) as api:
        response = api.put("/api/v1/chaos", json=body)
        assert response.status_code == 400 and response.json() == {"Error": error}
        assert api.get("/api/v1/chaos").json()["Sender"] == {"ErrorCode": 451, "Probability": 100}


def test_the_flags_and_mailpit_variables() -> None:
    assert from_args([], {"MP_ENABLE_CHAOS": "true"}).enable_chaos is True
    assert from_args([], {}).enable_chaos is False
    settings = from_args([], {"MP_CHAOS_TRIGGERS": "Sender:451:10, recipients:550:5"})
    assert settings.chaos_triggers == "Sender:451:10, recipients:550:5"
    for value, error in (
        ("Sender:451", "--chaos-triggers: invalid argument 'Sender:451'"),
        ("Helo:451:5", "--chaos-triggers: unknown key 'Helo'"),
        ("Sender:200:5", "--chaos-triggers: Sender:200:5: error code must be between 400 and 599"),
        ("Auth:535:500", "--chaos-triggers: Auth:535:500: probability must be between 0 and 100"),
    ):
        with pytest.raises(ConfigError) as refused:
            from_args(["--chaos-triggers", value], {})
        assert str(refused.value).startswith(error)
