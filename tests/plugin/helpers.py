"""What the plugin's tests call (conftest.py keeps the fixtures): sending mail to a Mailbox, a catcher's process."""

from __future__ import annotations

import contextlib
import smtplib
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

from mailcatch.client.http import Mailbox
from tests.helpers import spawned


def send_mail(
    box: Mailbox,
    subject: str = "Hello",
    to: tuple[str, ...] = ("bob@example.com",),
    sender: str = "App <app@example.com>",
    text: str | None = "Hello there.",
    html: str | None = None,
    rcpt: tuple[str, ...] = (),
    attachments: tuple[tuple[str, str, bytes], ...] = (),
    **headers: str,
) -> None:
    """Send one message over SMTP to the catcher; `rcpt` adds envelope-only recipients."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    if text is not None:
        message.set_content(text)
    if html is not None:
        if text is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for filename, content_type, content in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    recipients = [*(addr.rpartition("<")[2].rstrip(">") for addr in to), *rcpt]
    with smtplib.SMTP(box.smtp_host, box.smtp_port) as client:
        client.send_message(message, to_addrs=recipients)


@dataclass
class CatcherProcess:
    """`python -m mailcatch` running in its own process, with the addresses from its startup line."""

    url: str
    smtp: str
    smtp_host: str
    smtp_port: int


@contextlib.contextmanager
def running_catcher_process(*args: str) -> Iterator[CatcherProcess]:
    """`python -m mailcatch` on free ports (with `args`), its real addresses read from its startup line."""
    with spawned(*args) as catcher:
        smtp = f"{catcher.smtp_host}:{catcher.smtp_port}"
        yield CatcherProcess(catcher.url, smtp, catcher.smtp_host, catcher.smtp_port)
