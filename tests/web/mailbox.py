"""Helpers for the web tests: build messages, send them over SMTP, run catchers shared by a module."""

from __future__ import annotations

import os
import re
import smtplib
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from mailcatch.server import ServerThread
from tests.conftest import make_settings

_STARTED = re.compile(r"SMTP on (\S+), web UI and API on (\S+) ")


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


@dataclass
class Spawned:
    """A catcher running as `python -m mailcatch` in a process of its own."""

    smtp_host: str
    smtp_port: int
    url: str


@contextmanager
def spawned(*args: str) -> Iterator[Spawned]:
    """Run `python -m mailcatch` on free loopback ports (for load tests: no GIL shared with the test)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILCATCH_")}
    command = [sys.executable, "-m", "mailcatch", "--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--quiet", *args]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stderr is not None
    drain = threading.Thread(target=process.stderr.read, daemon=True)
    try:
        for line in process.stderr:
            found = _STARTED.search(line)
            if found:
                break
        else:
            raise RuntimeError(f"mailcatch exited with {process.wait()} before it started")
        drain.start()
        host, port = found.group(1).rsplit(":", 1)
        yield Spawned(host, int(port), found.group(2))
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if drain.is_alive():
            drain.join()
        process.stderr.close()
