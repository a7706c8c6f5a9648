import smtplib

import httpx

from tests.helpers import wait_for_count


def test_message_sent_over_smtp_is_listed(catcher, api: httpx.Client) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        client.sendmail("a@example.com", ["b@example.com"], b"Subject: hi\r\n\r\nhello\r\n")
    listing = wait_for_count(api, 1)
    assert listing["messages"][0]["Subject"] == "hi"
