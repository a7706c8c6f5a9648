"""Helpers for the web tests: build messages, send them over SMTP, run catchers shared by a module."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from mailcatch.thread import ServerThread
from tests.conftest import make_settings


def build(subject: str, sender: str = "app@example.com", to: str = "user@example.com", text: str = "hello",
          html: str | None = None, **headers: str) -> EmailMessage:
    """A message; extra headers are given as keyword arguments (`Reply_To="..."` is Reply-To)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def send(catcher: ServerThread, *messages: EmailMessage, rcpt: Sequence[str] | None = None) -> None:
    """Deliver messages over one SMTP session (envelope recipients from headers unless given)."""
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        for message in messages:
            client.send_message(message, to_addrs=list(rcpt) if rcpt is not None else None)


@contextmanager
def running(**overrides: Any) -> Iterator[ServerThread]:
    """A catcher for a whole module (started once, stopped at the end)."""
    catcher = ServerThread(make_settings(**overrides)).start()
    try:
        yield catcher
    finally:
        catcher.stop()
