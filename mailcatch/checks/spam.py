"""A message's spam score from SpamAssassin's spamd, over the SPAMC protocol (--enable-spamassassin).

`spam_check(raw, address, timeout)` sends the message as spamc does (`REPORT SPAMC/1.5`, its length,
the bytes, then a half close), reads spamd's answer and gives Mailpit's `sa-check` JSON:
`{"IsSpam", "Error", "Score", "Rules": [{"Score", "Name", "Description"}]}`. As in Mailpit, a message
is spam from a score of 5 (whatever spamd's own threshold), scores are cut to one decimal, and
what went wrong (spamd unreachable, slow or refusing) is said in `Error`, with a score of 0.
Everything, connecting included, is bounded by the timeout: a check never hangs.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
from dataclasses import dataclass
from typing import TypedDict

from mailcatch.errors import ConfigError

__all__ = [
    "SPAM_SCORE",
    "SpamJSON",
    "SpamRuleJSON",
    "SpamdAddress",
    "parse_report",
    "ping",
    "spam_check",
    "spamd_address",
]

SPAM_SCORE = 5.0
"""The score from which Mailpit calls a message spam."""

MAX_ANSWER = 1024 * 1024
"""The most of spamd's answer read (a report is a few KB)."""


class SpamRuleJSON(TypedDict):
    Score: float
    Name: str
    Description: str


class SpamJSON(TypedDict):
    IsSpam: bool
    Error: str
    Score: float
    Rules: list[SpamRuleJSON]


@dataclass(frozen=True)
class SpamdAddress:
    """Where spamd listens: a TCP address, or a Unix socket's path."""

    host: str = ""
    port: int = 0
    socket_path: str | None = None

    def __str__(self) -> str:
        if self.socket_path:
            return f"unix:{self.socket_path}"
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def spamd_address(text: str) -> SpamdAddress:
    """Read --enable-spamassassin: `HOST:PORT` or `unix:/path/to/socket`; ConfigError otherwise."""
    text = text.strip()
    if text.lower() == "postmark":
        raise ConfigError(
            "--enable-spamassassin: mailcatch doesn't send messages to Postmark's public service;"
            " give the HOST:PORT of a SpamAssassin spamd (or unix:/path/to/socket)"
        )
    if text.startswith("unix:"):
        if not text[5:]:
            raise ConfigError("--enable-spamassassin: unix: needs the path of spamd's socket, as unix:/run/spamd.sock")
        return SpamdAddress(socket_path=text[5:])
    host, sep, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(
            f"--enable-spamassassin: {text!r} is not spamd's HOST:PORT (as 127.0.0.1:783, [::1]:783)"
            " or unix:/path/to/socket"
        )
    return SpamdAddress(host, int(port))


def _round(score: float) -> float:
    """A score cut to one decimal, as Mailpit gives it (1.19 -> 1.1, -0.01 -> -0.1); 2.3 stays 2.3."""
    return math.floor(round(score * 10, 6)) / 10


def _result(score: float = 0.0, rules: list[SpamRuleJSON] | None = None, error: str = "") -> SpamJSON:
    return {"IsSpam": score >= SPAM_SCORE, "Error": error, "Score": _round(score), "Rules": rules or []}


async def spam_check(raw: bytes, address: SpamdAddress, timeout: float = 8) -> SpamJSON:
    """Mailpit's sa-check answer for a message: spamd's score and rules, or what went wrong in Error."""
    try:
        answer = await asyncio.wait_for(_exchange(raw, address), timeout)
    except asyncio.TimeoutError:
        return _result(error=f"spamd at {address} did not answer within {timeout:g} s")
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error) or type(error).__name__
        return _result(error=f"spamd at {address} can't be reached: {reason}")
    return parse_report(answer, f"spamd at {address}")


async def ping(address: SpamdAddress, timeout: float = 3) -> str:
    """ "" when spamd answers `PING` with `PONG`, else what went wrong: what a start-up check says."""
    try:
        answer = await asyncio.wait_for(_exchange(b"", address, b"PING SPAMC/1.5\r\n\r\n"), timeout)
    except asyncio.TimeoutError:
        return f"spamd at {address} did not answer within {timeout:g} s"
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error) or type(error).__name__
        return f"spamd at {address} can't be reached: {reason}"
    status = _STATUS.match(answer.decode("latin-1").strip())
    if status is None or "PONG" not in status[2]:
        return f"spamd at {address} answered {answer[:80]!r}, not SPAMD's PONG"
    return ""


async def _exchange(raw: bytes, address: SpamdAddress, request: bytes | None = None) -> bytes:
    """Send the message as `REPORT` (or another request line and headers) and read spamd's whole answer."""
    if address.socket_path:
        reader, writer = await asyncio.open_unix_connection(address.socket_path)
    else:
        reader, writer = await asyncio.open_connection(address.host, address.port)
    try:
        writer.write(request or b"REPORT SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(raw))
        writer.write(raw)
        if writer.can_write_eof():
            writer.write_eof()  # spamd reads until the client closes its side
        await writer.drain()
        chunks: list[bytes] = []
        size = 0
        while size < MAX_ANSWER:
            chunk = await reader.read(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except BaseException:
        writer.transport.abort()  # timed out or failed: drop what is unsent, never wait on it
        raise
    writer.close()
    return b"".join(chunks)


_STATUS = re.compile(r"SPAMD/[\d.]+\s+(\d+)\s*(.*)")
_SPAM = re.compile(r"Spam:\s*(\w+)\s*;\s*(-?[\d.]+)\s*/\s*(-?[\d.]+)", re.IGNORECASE)
_RULE = re.compile(r"\s{0,3}(-?\d+(?:\.\d+)?)\s+([A-Za-z0-9_]+)\s+(.*)")
_CONTINUED = re.compile(r"\s{8,}(\S.*)")


def parse_report(answer: bytes, where: str = "spamd") -> SpamJSON:
    """Mailpit's sa-check JSON from spamd's answer to REPORT."""
    text = answer.decode("utf-8", "replace")
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    status = _STATUS.match(lines[0])
    if not status:
        shown = repr(lines[0][:80]) if lines[0] else "nothing"
        return _result(error=f"{where} did not answer as spamd does (it said {shown})")
    if status.group(1) != "0":
        return _result(error=f"{where} refused the check: {status.group(1)} {status.group(2).strip()}")
    score = next((float(m.group(2)) for m in map(_SPAM.match, lines[1:]) if m), None)
    if score is None:
        return _result(error=f"{where} answered without a score")
    return _result(score, _rules(body))


def _rules(report: str) -> list[SpamRuleJSON]:
    """The rules of a report's `Content analysis details` table, descriptions joined across lines."""
    rules: list[SpamRuleJSON] = []
    in_table = False
    for line in report.split("\n"):
        if line.startswith("Content analysis details"):
            in_table = True
            continue
        if not in_table or not line.strip() or line.lstrip().startswith(("pts ", "----")):
            continue
        continued = _CONTINUED.fullmatch(line)
        if continued and rules:
            rules[-1]["Description"] = f"{rules[-1]['Description']} {continued.group(1).strip()}"
            continue
        rule = _RULE.fullmatch(line)
        if rule:
            points = float(rule.group(1))
            rules.append({"Score": _round(points), "Name": rule.group(2), "Description": rule.group(3).strip()})
    return rules
