"""`mailcatch sendmail` (also `mailcatch-sendmail`): a sendmail for apps that shell out to one.

PHP's mail(), cron, and Rails and Django set-ups that deliver through a sendmail binary run it
with a message on standard input; this command sends that message to a catcher over SMTP and
exits as sendmail does (sysexits). It speaks sendmail's flags that matter to such callers:

  -t              recipients from the To, Cc and Bcc headers too (the Bcc headers are then removed)
  -i, -oi         a line with a single "." is message text, not the end of input
  -f ADDR, -r ADDR  envelope sender (default: MAILCATCH_SENDMAIL_FROM or MP_SENDMAIL_FROM, else user@host)
  -bm             deliver the message on standard input (the default)
  -bs             speak SMTP on standard input and output, relayed to the catcher
  -S HOST:PORT, --smtp-addr HOST:PORT  the catcher (default: MAILCATCH_SENDMAIL_SMTP_ADDR or
                  MP_SENDMAIL_SMTP_ADDR, else 127.0.0.1:1025)
  -v              show the SMTP dialogue on standard error

Recipients are the arguments (each may be a comma-separated list); without any, or with -t,
those of the headers. Other sendmail flags callers pass out of habit (-F, -o..., -O, -B, -N,
-R, -V, -X, -L, -C, -d, -e, -p, -G, -I, -m, -n, -U) are accepted and ignored. The message is
sent as it is read: no header is added.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import smtplib
import socket
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import BinaryIO

from mailcatch.config import HostPort
from mailcatch.errors import ConfigError
from mailcatch.mail.addresses import parse_address_list
from mailcatch.mail.compose import valid_address

__all__ = ["EX_DATAERR", "EX_NOHOST", "EX_NOINPUT", "EX_NOUSER", "EX_TEMPFAIL", "EX_UNAVAILABLE", "EX_USAGE", "main"]

# sysexits.h, as sendmail exits
EX_OK = 0
EX_USAGE = 64
"""A bad flag or argument, or no recipient."""
EX_DATAERR = 65
"""The message can't be read: its To, Cc or Bcc header holds something that isn't an address."""
EX_NOINPUT = 66
"""Nothing on standard input."""
EX_NOUSER = 67
"""The catcher refused every recipient."""
EX_NOHOST = 68
"""The catcher's host name is unknown."""
EX_UNAVAILABLE = 69
"""The catcher refused the message for good (a 5xx reply)."""
EX_TEMPFAIL = 75
"""The catcher can't be reached, or asked to try again later (a 4xx reply)."""

DEFAULT_SMTP = "127.0.0.1:1025"
TIMEOUT = 60
_WITH_ARGUMENT = set("bfFrSBCdeLNOopRVX")
"""Single-letter flags that take a value (attached, -fuser@host, or the next argument)."""
_SWITCHES = set("tivhGImnUs")
_HOST_CHARACTERS = re.compile(r"[^A-Za-z0-9.-]")
_RECIPIENT_HEADERS = ("To", "Cc", "Bcc")
_BCC = re.compile(rb"bcc[ \t]*:", re.IGNORECASE)
_LINE_END = re.compile(rb"\r?\n")
_QUIT = re.compile(rb"(?:^|\n)QUIT[ \t]*\r?\n[ \t\r\n]*$", re.IGNORECASE)

USAGE = """usage: {prog} [flags] [recipient ...] < message

Send the message on standard input to a mailcatch catcher, as sendmail does.

  -S HOST:PORT, --smtp-addr HOST:PORT
                  the catcher's SMTP address (default {smtp})
  -f ADDR, -r ADDR, --from ADDR
                  envelope sender (default {sender})
  -t              also take recipients from the To, Cc and Bcc headers (removing Bcc)
  -i, -oi         a line with a single "." does not end the message
  -bm             deliver the message on standard input (the default)
  -bs             speak SMTP on standard input and output, relayed to the catcher
  -v              show the SMTP dialogue on standard error
  -h, --help      this help

Without recipients (or with -t) those of the To, Cc and Bcc headers are used. Other sendmail
flags (-F, -o..., -O, -B, -N, -R, -V, -X, -L, -C, -d, -e, -p, -G, -I, -m, -n, -U) are ignored.
Environment: MAILCATCH_SENDMAIL_SMTP_ADDR (or MP_SENDMAIL_SMTP_ADDR), MAILCATCH_SENDMAIL_FROM
(or MP_SENDMAIL_FROM). Exit codes (sysexits): 0 sent, 64 usage, 65 unreadable message,
66 no input, 67 every recipient refused, 68 unknown host, 69 refused, 75 try again later
(the catcher unreachable, or a 4xx reply).
"""


class Failure(Exception):
    """Why the command stops, and its exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Options:
    """What the command line asks for."""

    smtp: str = DEFAULT_SMTP
    sender: str | None = None
    recipients: list[str] = field(default_factory=list)
    from_headers: bool = False
    """-t: recipients from the headers too."""
    dots_end: bool = True
    """Without -i, a line with a single "." ends the input."""
    mode: str = "m"
    verbose: bool = False
    help: bool = False


def _host_name() -> str:
    """This machine's name, fit for an address and EHLO (no DNS look-up)."""
    return _HOST_CHARACTERS.sub("-", socket.gethostname()) or "localhost"


def default_sender() -> str:
    """user@host, as sendmail names the one who runs it."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "nobody"
    return f"{_HOST_CHARACTERS.sub('-', user) or 'nobody'}@{_host_name()}"


def parse_arguments(argv: Sequence[str], environ: dict[str, str]) -> Options:
    """The options of a sendmail command line (Failure with EX_USAGE for a bad one)."""
    options = Options(
        smtp=environ.get("MAILCATCH_SENDMAIL_SMTP_ADDR") or environ.get("MP_SENDMAIL_SMTP_ADDR") or DEFAULT_SMTP,
        sender=environ.get("MAILCATCH_SENDMAIL_FROM") or environ.get("MP_SENDMAIL_FROM") or None,
    )
    arguments = list(argv)
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        index += 1
        if argument == "--":
            options.recipients.extend(arguments[index:])
            break
        if argument.startswith("--"):
            name, equals, value = argument[2:].partition("=")
            if name == "help":
                options.help = True
                continue
            if name not in ("smtp-addr", "from"):
                raise Failure(f"unknown option {argument}", EX_USAGE)
            if not equals:
                if index >= len(arguments):
                    raise Failure(f"option --{name} needs a value", EX_USAGE)
                value = arguments[index]
                index += 1
            _set(options, "S" if name == "smtp-addr" else "f", value)
            continue
        if not argument.startswith("-") or argument == "-":
            options.recipients.append(argument)
            continue
        letters = argument[1:]
        while letters:
            letter, letters = letters[0], letters[1:]
            if letter in _SWITCHES:
                _set(options, letter, "")
            elif letter == "o" and not letters and (index >= len(arguments) or arguments[index].startswith("-")):
                pass  # a bare -o (Mailpit takes it as a switch)
            elif letter in _WITH_ARGUMENT:
                if not letters:
                    if index >= len(arguments):
                        raise Failure(f"option -{letter} needs a value", EX_USAGE)
                    letters = arguments[index]
                    index += 1
                _set(options, letter, letters)
                letters = ""
            elif letter == "q":
                raise Failure("-q: mailcatch sendmail keeps no queue: each message is sent at once", EX_USAGE)
            else:
                raise Failure(f"unknown option -{letter}", EX_USAGE)
    return options


def _set(options: Options, letter: str, value: str) -> None:
    if letter == "t":
        options.from_headers = True
    elif letter == "i":
        options.dots_end = False
    elif letter == "o":
        if value == "i":
            options.dots_end = False
    elif letter == "v":
        options.verbose = True
    elif letter == "h":
        options.help = True
    elif letter == "S":
        options.smtp = value
    elif letter in "fr":
        options.sender = value
    elif letter == "b":
        if value not in ("m", "s"):
            raise Failure(
                f"-b{value}: mailcatch sendmail delivers a message (-bm) or speaks SMTP (-bs), nothing else", EX_USAGE
            )
        options.mode = value
    # the others are accepted and ignored


def read_message(reader: BinaryIO, dots_end: bool) -> bytes:
    """Standard input's message; without -i, up to a line with a single "." (which is not kept)."""
    if not dots_end:
        return reader.read()
    lines = []
    for line in iter(reader.readline, b""):
        if line.rstrip(b"\r\n") == b".":
            break
        lines.append(line)
    return b"".join(lines)


def header_recipients(data: bytes) -> list[str]:
    """The addresses in the To, Cc and Bcc headers (Failure with EX_DATAERR for one that isn't an address)."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(data)
    found = []
    for name in _RECIPIENT_HEADERS:
        for value in headers.get_all(name, []):
            for mailbox in parse_address_list(str(value)):
                if not mailbox.address:
                    continue  # a group's name, as undisclosed-recipients:;
                if not valid_address(mailbox.address):
                    raise Failure(f"the {name} header names {mailbox.address!r}, which is not an address", EX_DATAERR)
                found.append(mailbox.address)
    return found


def without_bcc(data: bytes) -> bytes:
    """The message without its Bcc header lines (and their continuations), as sendmail -t sends it."""
    lines = data.splitlines(keepends=True)
    kept: list[bytes] = []
    dropping = False
    for index, line in enumerate(lines):
        if not line.strip(b"\r\n"):  # the blank line: the body follows, untouched
            kept.extend(lines[index:])
            break
        if line[:1] in (b" ", b"\t"):  # a folded header's next line
            if not dropping:
                kept.append(line)
            continue
        dropping = bool(_BCC.match(line))
        if not dropping:
            kept.append(line)
    return b"".join(kept)


def _crlf(data: bytes) -> bytes:
    """The message with CRLF line endings, as SMTP carries it (standard input's lines end in LF)."""
    return _LINE_END.sub(b"\r\n", data)


def argument_recipients(arguments: Sequence[str]) -> list[str]:
    """The addresses of the command line's recipients, each argument an address list."""
    found = []
    for argument in arguments:
        for mailbox in parse_address_list(argument):
            if mailbox.address and valid_address(mailbox.address):
                found.append(mailbox.address)
            elif mailbox.address or mailbox.name:
                raise Failure(f"recipient {argument!r} is not an address", EX_USAGE)
    return found


def _catcher(text: str) -> HostPort:
    try:
        address = HostPort.parse(text)
    except ConfigError as error:
        raise Failure(f"-S {error}", EX_USAGE) from None
    if address.port == 0:
        raise Failure(f"-S {text!r}: name the catcher's SMTP port", EX_USAGE)
    return address


def _unreachable(address: HostPort, error: OSError) -> Failure:
    if isinstance(error, socket.gaierror):
        return Failure(f"unknown host {address.host!r} (-S names the catcher): {error.strerror}", EX_NOHOST)
    reason = error.strerror or str(error) or type(error).__name__
    return Failure(
        f"can't reach the catcher at {address}: {reason} (is mailcatch running? -S HOST:PORT names where)", EX_TEMPFAIL
    )


def _refusal(code: int, reply: bytes | str, what: str) -> Failure:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    exit_code = EX_TEMPFAIL if 400 <= code < 500 else EX_UNAVAILABLE
    return Failure(f"the catcher refused {what}: {code} {text}", exit_code)


def send(options: Options, data: bytes) -> None:
    """Send the message to the catcher; Failure with sendmail's exit code if it isn't taken."""
    address = _catcher(options.smtp)
    sender = options.sender if options.sender is not None else default_sender()
    sender = "" if sender.strip() in ("<>", "") else sender.strip().removeprefix("<").removesuffix(">")
    if sender and not valid_address(sender):
        raise Failure(f"-f {sender!r} is not an address", EX_USAGE)
    if not data.strip():
        raise Failure("no message on standard input", EX_NOINPUT)
    recipients = argument_recipients(options.recipients)
    if options.from_headers or not recipients:
        recipients += header_recipients(data)
        data = without_bcc(data)
    if not recipients:
        raise Failure("no recipients: give them as arguments, or in To, Cc or Bcc headers", EX_USAGE)
    try:
        client = smtplib.SMTP(address.host, address.port, local_hostname=_host_name(), timeout=TIMEOUT)
    except smtplib.SMTPResponseException as error:  # a greeting other than 220, such as 421 (too busy)
        raise _refusal(error.smtp_code, error.smtp_error, "the connection") from None
    except OSError as error:
        raise _unreachable(address, error) from None
    try:
        if options.verbose:
            client.set_debuglevel(1)
        client.ehlo_or_helo_if_needed()
        mail_options = []
        if not all(a.isascii() for a in [sender, *recipients]) and client.has_extn("smtputf8"):
            mail_options.append("SMTPUTF8")
        if not data.isascii() and client.has_extn("8bitmime"):
            mail_options.append("BODY=8BITMIME")
        refused = client.sendmail(sender, recipients, _crlf(data), mail_options)
        for recipient, (code, reply) in refused.items():
            text = reply.decode("utf-8", "replace")
            print(f"mailcatch sendmail: <{recipient}> refused: {code} {text}", file=sys.stderr)
        client.quit()
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        said = "; ".join(f"<{r}> {c} {m.decode('utf-8', 'replace')}" for r, (c, m) in error.recipients.items())
        code = EX_TEMPFAIL if any(400 <= c < 500 for c in codes) else EX_NOUSER
        raise Failure(f"the catcher refused every recipient: {said}", code) from None
    except smtplib.SMTPSenderRefused as error:
        raise _refusal(error.smtp_code, error.smtp_error, f"the sender <{sender}>") from None
    except smtplib.SMTPResponseException as error:
        raise _refusal(error.smtp_code, error.smtp_error, "the message") from None
    except smtplib.SMTPServerDisconnected as error:
        raise Failure(f"the catcher at {address} closed the connection: {error}", EX_TEMPFAIL) from None
    except (smtplib.SMTPException, OSError) as error:
        raise Failure(f"sending to the catcher at {address} failed: {error}", EX_TEMPFAIL) from None
    finally:
        client.close()


def speak_smtp(options: Options) -> None:
    """-bs: relay an SMTP session between standard input/output and the catcher, until either ends it."""
    address = _catcher(options.smtp)
    try:
        connection = socket.create_connection((address.host, address.port), timeout=TIMEOUT)
    except OSError as error:
        failure = _unreachable(address, error)
        os.write(1, f"421 4.3.0 mailcatch sendmail: {failure}\r\n".encode())
        raise failure from None
    connection.settimeout(None)

    def forward_input() -> None:
        said = b""
        with contextlib.suppress(OSError):
            while chunk := os.read(0, 65536):
                connection.sendall(chunk)
                said = (said + chunk)[-64:]
            # The end of input ends the session: a QUIT unless the client sent one (the catcher
            # then answers and closes). Closing our side instead would cut off what the catcher
            # has not answered yet.
            if not _QUIT.search(said):
                connection.sendall(b"QUIT\r\n")

    threading.Thread(target=forward_input, daemon=True).start()
    try:
        with contextlib.suppress(OSError):
            while chunk := connection.recv(65536):
                os.write(1, chunk)
    finally:
        connection.close()


def _program() -> str:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return name if name.endswith("sendmail") else "mailcatch sendmail"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns sendmail's exit code."""
    try:
        options = parse_arguments(sys.argv[1:] if argv is None else argv, dict(os.environ))
        if options.help:
            print(USAGE.format(prog=_program(), smtp=options.smtp, sender=options.sender or default_sender()), end="")
            return EX_OK
        if options.mode == "s":
            speak_smtp(options)
            return EX_OK
        send(options, read_message(sys.stdin.buffer, options.dots_end))
    except Failure as failure:
        print(f"mailcatch sendmail: {failure}", file=sys.stderr)
        return failure.code
    except KeyboardInterrupt:
        return EX_TEMPFAIL
    return EX_OK


if __name__ == "__main__":
    raise SystemExit(main())
