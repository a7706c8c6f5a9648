"""`mailcatch sendmail` (and `mailcatch-sendmail`) run as apps run sendmail: real subprocesses,
a message on standard input, a real catcher; what arrives, and sendmail's exit codes."""

from __future__ import annotations

import os
import smtplib
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mailcatch.server import ServerThread
from tests.helpers import wait_for_count

BIN = Path(sys.executable).parent
PHP_MAIL = (
    b"To: Ann <ann@example.com>\n"
    b"Subject: Your order\n"
    b"From: Shop <shop@example.com>\n"
    b"Cc: boss@example.com\n"
    b"Bcc: audit@example.net,\n"
    b"  archive@example.net\n"
    b"\n"
    b"Hello Ann,\n"
    b"..a line that starts with dots\n"
    b"Thanks.\n"
)
"""A message as PHP's mail() hands it to `sendmail -t -i`: LF line endings, a folded Bcc header."""


def run(
    catcher: ServerThread | None, *args: str, stdin: bytes = PHP_MAIL, **env: str
) -> subprocess.CompletedProcess[bytes]:
    """`mailcatch-sendmail -S <the catcher> ARGS < stdin`."""
    command = [str(BIN / "mailcatch-sendmail")]
    if catcher is not None:
        command += ["-S", f"{catcher.smtp_host}:{catcher.smtp_port}"]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("MAILCATCH_", "MP_"))}
    full_env.update(env)
    return subprocess.run([*command, *args], input=stdin, capture_output=True, timeout=60, env=full_env)


def stored(catcher: ServerThread, count: int = 1) -> list[dict[str, Any]]:
    """The catcher's messages, newest first, each with its raw bytes under "Raw"."""
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        messages = []
        for summary in wait_for_count(api, count)["messages"]:
            message = api.get(f"/api/v1/message/{summary['ID']}").json()
            message["Raw"] = api.get(f"/api/v1/message/{summary['ID']}/raw").content
            messages.append(message)
        return messages


def test_php_mail_with_t_and_i(catcher: ServerThread) -> None:
    """PHP's sendmail_path = "mailcatch-sendmail -t -i": recipients from the headers, Bcc removed from them."""
    done = run(catcher, "-t", "-i", "-f", "bounces@shop.example")
    assert (done.returncode, done.stderr, done.stdout) == (0, b"", b"")
    (message,) = stored(catcher)
    assert message["Envelope"]["From"] == "bounces@shop.example"
    assert message["Envelope"]["To"] == [
        "ann@example.com",
        "boss@example.com",
        "audit@example.net",
        "archive@example.net",
    ]
    assert message["Raw"] == (
        b"To: Ann <ann@example.com>\r\n"
        b"Subject: Your order\r\n"
        b"From: Shop <shop@example.com>\r\n"
        b"Cc: boss@example.com\r\n"
        b"\r\n"
        b"Hello Ann,\r\n"
        b"..a line that starts with dots\r\n"
        b"Thanks.\r\n"
    )
    assert [b["Address"] for b in message["Bcc"]] == ["audit@example.net", "archive@example.net"]
    assert message["Subject"] == "Your order"


def test_recipients_as_arguments_leave_the_message_as_it_is(catcher: ServerThread) -> None:
    done = run(catcher, "-oi", "-fshop@example.com", "bob@example.org, carol@example.org", "dave@example.org")
    assert done.returncode == 0, done.stderr
    (message,) = stored(catcher)
    assert message["Envelope"]["To"] == ["bob@example.org", "carol@example.org", "dave@example.org"]
    assert b"Bcc: audit@example.net,\r\n  archive@example.net\r\n" in message["Raw"]


def test_t_adds_the_header_recipients_to_the_arguments(catcher: ServerThread) -> None:
    done = run(catcher, "-ti", "bob@example.org")
    assert done.returncode == 0, done.stderr
    (message,) = stored(catcher)
    assert message["Envelope"]["To"][:2] == ["bob@example.org", "ann@example.com"]
    assert b"Bcc:" not in message["Raw"]


def test_without_i_a_lone_dot_ends_the_message(catcher: ServerThread) -> None:
    text = b"Subject: dots\n\nfirst\n.\nnot part of it\n"
    assert run(catcher, "x@example.com", stdin=text).returncode == 0
    assert stored(catcher)[0]["Raw"] == b"Subject: dots\r\n\r\nfirst\r\n"
    assert run(catcher, "-i", "x@example.com", stdin=text).returncode == 0
    assert stored(catcher, 2)[0]["Raw"] == b"Subject: dots\r\n\r\nfirst\r\n.\r\nnot part of it\r\n"


def test_default_sender_and_the_environment(catcher: ServerThread) -> None:
    # The catcher named by Mailpit's variable, the sender by mailcatch's (which wins over MP_SENDMAIL_FROM)
    address = f"{catcher.smtp_host}:{catcher.smtp_port}"
    done = run(
        None,
        "x@example.com",
        MP_SENDMAIL_SMTP_ADDR=address,
        MAILCATCH_SENDMAIL_FROM="cron@example.com",
        MP_SENDMAIL_FROM="other@example.com",
    )
    assert done.returncode == 0, done.stderr
    assert stored(catcher)[0]["Envelope"]["From"] == "cron@example.com"
    assert run(catcher, "x@example.com").returncode == 0
    sender = stored(catcher, 2)[0]["Envelope"]["From"]
    assert sender.endswith("@" + "".join(c if c.isalnum() or c in ".-" else "-" for c in socket.gethostname()))


def test_mailcatch_sendmail_subcommand_and_a_link_named_sendmail(catcher: ServerThread, tmp_path: Path) -> None:
    address = f"{catcher.smtp_host}:{catcher.smtp_port}"
    done = subprocess.run(
        [sys.executable, "-m", "mailcatch", "sendmail", "-S", address, "-t"],
        input=PHP_MAIL,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    link = tmp_path / "sendmail"
    link.symlink_to(BIN / "mailcatch")
    done = subprocess.run([str(link), "--smtp-addr", address, "-t"], input=PHP_MAIL, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [m["Subject"] for m in stored(catcher, 2)] == ["Your order", "Your order"]


def test_bs_relays_an_smtp_session(catcher: ServerThread) -> None:
    session = (
        b"EHLO app.example\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<ann@example.com>\r\nDATA\r\n"
        b"Subject: over -bs\r\n\r\nhello\r\n.\r\n"
    )
    done = run(catcher, "-bs", stdin=session)
    assert done.returncode == 0, done.stderr
    replies = done.stdout.decode().splitlines()
    assert replies[0].startswith("220 ")
    assert any(line.startswith("250 2.0.0 Ok: queued as ") for line in replies)
    assert replies[-1].startswith("221")  # the end of input ended the session with a QUIT
    (message,) = stored(catcher)
    assert (message["Subject"], message["Envelope"]["Helo"]) == ("over -bs", "app.example")


def test_help() -> None:
    done = run(None, "--help")
    assert done.returncode == 0
    assert b"-bs" in done.stdout and b"-S HOST:PORT" in done.stdout and b"64 usage" in done.stdout


@pytest.mark.parametrize(
    ("args", "stdin", "code", "said"),
    [
        (["-Q"], PHP_MAIL, 64, "unknown option -Q"),
        (["--smtp"], PHP_MAIL, 64, "unknown option --smtp"),
        (["-f"], PHP_MAIL, 64, "option -f needs a value"),
        (["-bp"], PHP_MAIL, 64, "-bp: mailcatch sendmail delivers a message (-bm) or speaks SMTP (-bs), nothing else"),
        (["-f", "not an address", "-t"], PHP_MAIL, 64, "-f 'not an address' is not an address"),
        (["nobody"], PHP_MAIL, 64, "recipient 'nobody' is not an address"),
        ([], b"Subject: no one\n\nhi\n", 64, "no recipients: give them as arguments, or in To, Cc or Bcc headers"),
        (["-t"], b"To: Ann\nSubject: x\n\nhi\n", 65, "the To header names 'Ann', which is not an address"),
        (["x@example.com"], b"", 66, "no message on standard input"),
        (["-S", "localhost", "x@example.com"], PHP_MAIL, 64, "-S 'localhost' is not HOST:PORT"),
    ],
)
def test_usage_and_data_errors(catcher: ServerThread, args: list[str], stdin: bytes, code: int, said: str) -> None:
    done = subprocess.run(
        [str(BIN / "mailcatch-sendmail"), "-S", f"{catcher.smtp_host}:{catcher.smtp_port}", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr.decode()) == (code, f"mailcatch sendmail: {said}\n")
    with httpx.Client(base_url=catcher.url) as api:
        assert api.get("/api/v1/messages").json()["total"] == 0


def test_an_unreachable_catcher_is_a_temporary_failure() -> None:
    with socket.socket() as placeholder:  # a port nothing listens on
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
        done = run(None, "-S", f"127.0.0.1:{port}", "x@example.com")
    assert done.returncode == 75
    assert done.stderr.decode() == (
        f"mailcatch sendmail: can't reach the catcher at 127.0.0.1:{port}: Connection refused"
        " (is mailcatch running? -S HOST:PORT names where)\n"
    )
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
        done = run(None, "-S", f"127.0.0.1:{port}", "-bs", stdin=b"QUIT\r\n")
    assert done.returncode == 75
    assert done.stdout.startswith(b"421 4.3.0 mailcatch sendmail: can't reach the catcher")


def test_refusals_map_to_sendmail_exit_codes(start_catcher: Callable[..., ServerThread]) -> None:
    catcher = start_catcher(smtp_allowed_recipients=r"@example\.com$", max_message_size=2048, smtp_max_connections=1)
    # every recipient refused (550): 67; one of two refused: sent, and said on stderr
    done = run(catcher, "x@elsewhere.org")
    assert done.returncode == 67
    assert b"the catcher refused every recipient: <x@elsewhere.org> 550 5.1.0" in done.stderr
    done = run(catcher, "x@elsewhere.org", "ann@example.com")
    assert done.returncode == 0
    assert done.stderr.startswith(b"mailcatch sendmail: <x@elsewhere.org> refused: 550 5.1.0")
    # too big (552): 69, refused for good
    done = run(catcher, "ann@example.com", stdin=b"Subject: big\n\n" + b"x" * 3000 + b"\n")
    assert done.returncode == 69
    assert b"mailcatch sendmail: the catcher refused " in done.stderr and b" 552 " in done.stderr
    # too many connections (421 at the greeting): 75, try again later
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as holder:
        holder.noop()
        done = run(catcher, "ann@example.com")
    assert done.returncode == 75
    assert done.stderr.startswith(b"mailcatch sendmail: the catcher refused the connection: 421 ")
    assert len(stored(catcher)) == 1


def test_verbose_shows_the_dialogue(catcher: ServerThread) -> None:
    done = run(catcher, "-v", "-t")
    assert done.returncode == 0
    assert b"send: 'mail FROM:<" in done.stderr and b"send: 'rcpt TO:<ann@example.com>" in done.stderr
    assert b"reply: retcode (250)" in done.stderr
