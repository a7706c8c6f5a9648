"""A message's Date: the header's, in its own offset; the received time when it is missing or unparsable."""

from __future__ import annotations

import datetime
import smtplib

import httpx
import pytest

from tests.helpers import wait_for_count


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Date: Sat, 28 Nov 2026 10:00:00 +0530\r\n", "2026-11-28T10:00:00.000+05:30"),
        ("Date: Sat, 28 Nov 2026 10:00:00 +0000\r\n", "2026-11-28T10:00:00.000Z"),
        ("Date: Sat, 28 Nov 2026 10:00:00 -0000\r\n", "2026-11-28T10:00:00.000Z"),
        ("Date: sometime next week\r\n", None),
        ("", None),
    ],
)
def test_date(catcher, api: httpx.Client, header: str, expected: str | None) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        client.sendmail("a@example.com", ["b@example.com"], f"{header}Subject: when\r\n\r\nbody\r\n".encode())
    message_id = wait_for_count(api, 1)["messages"][0]["ID"]
    message = api.get(f"/api/v1/message/{message_id}").json()
    if expected is None:
        assert message["Date"] == message["Created"]
        assert datetime.datetime.fromisoformat(message["Date"].replace("Z", "+00:00")).tzinfo is not None
    else:
        assert message["Date"] == expected
