"""Record an SMTP session line by line, masking AUTH secrets and summarising message data."""

from __future__ import annotations

import base64
import binascii
import time

from mailcatch.models import Direction, SessionLine

DATA_END = b"\r\n.\r\n"
MAX_LINE_TEXT = 2000
"""Longer client lines (junk, attacks) are cut in the transcript; the raw message is kept apart."""


def _b64_text(blob: bytes) -> str | None:
    try:
        return base64.b64decode(blob.strip(), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None


class TranscriptRecorder:
    """Turns the bytes a client sends and the replies the server pushes into transcript lines.

    Client bytes arrive in arbitrary chunks; they are split at CRLF. Between a 354 reply and
    the CRLF.CRLF that ends DATA, bytes are only counted, then summarised as one line.
    """

    def __init__(self) -> None:
        self.lines: list[SessionLine] = []
        """The lines not yet taken (stored with a message)."""
        self.taken = 0
        """How many lines were taken before these."""
        self.refusals = 0
        """How many 4xx and 5xx replies the session got."""
        self.last_refusal = ""
        self._partial = bytearray()
        self._in_data = False
        self._data_tail = b""
        self._data_bytes = 0
        self._data_lines = 0
        self._auth_expect: list[str] = []
        self._awaiting_auth_reply = False
        self.transaction_start: int | None = None
        """Index (within the session) of the MAIL command that opened the current transaction."""
        self.last_data_line: int | None = None
        """Index (within the session) of the line that summarised the most recent message data."""

    @property
    def position(self) -> int:
        """The index within the session of the next line."""
        return self.taken + len(self.lines)

    @property
    def in_data(self) -> bool:
        """Whether the client was told to send message data and has not ended it."""
        return self._in_data

    def take(self) -> tuple[int, list[SessionLine]]:
        """The lines not yet taken, and the index within the session of the first of them."""
        first, lines = self.taken, self.lines
        self.taken += len(lines)
        self.lines = []
        return first, lines

    def _add(self, direction: Direction, text: str) -> None:
        if len(text) > MAX_LINE_TEXT:
            text = text[:MAX_LINE_TEXT] + f"… ({len(text)} characters)"
        self.lines.append(SessionLine(time.time(), direction, text))

    # Server side -------------------------------------------------------
    def server_line(self, reply: bytes) -> None:
        text = reply.decode("utf-8", "replace")
        self._add("S", text)
        if text[:1] in ("4", "5"):
            self.refusals += 1
            self.last_refusal = text
        elif text.startswith("354"):
            self._start_data()
        self._awaiting_auth_reply = text.startswith("334") and bool(self._auth_expect)
        if not text.startswith("334"):
            self._auth_expect.clear()

    # Client side -------------------------------------------------------
    def client_bytes(self, data: bytes) -> None:
        if self._in_data:
            data = self._consume_data(data)  # a command can't start data mode: only a 354 reply does
        if self._partial:
            self._partial += data
            data = bytes(self._partial)
            self._partial.clear()
        lines = data.split(b"\r\n")
        unfinished = lines.pop()
        for line in lines:
            self._client_line(line)
        if len(unfinished) > 64 * 1024:
            # A client that never ends its line: keep the start, as the server does.
            self._client_line(unfinished[:MAX_LINE_TEXT])
        elif unfinished:
            self._partial += unfinished

    def _client_line(self, line: bytes) -> None:
        if self._awaiting_auth_reply and self._auth_expect:
            self._awaiting_auth_reply = False
            kind = self._auth_expect.pop(0)
            self._add("C", self._masked_response(kind, line))
            return
        text = line.decode("utf-8", "replace")
        verb, _, arg = text.partition(" ")
        verb = verb.upper()
        if verb == "AUTH":
            text = self._auth_command(arg)
        elif verb == "MAIL" and self.transaction_start is None:
            self.transaction_start = self.position
        elif verb in ("RSET", "HELO", "EHLO"):
            self.transaction_start = None
        self._add("C", text)

    def _auth_command(self, arg: str) -> str:
        mechanism, _, initial = arg.strip().partition(" ")
        mechanism = mechanism.upper()
        self._auth_expect.clear()
        if mechanism == "PLAIN":
            if initial:
                return f"AUTH PLAIN {self._masked_response('plain', initial.encode())}"
            self._auth_expect = ["plain"]
        elif mechanism == "LOGIN":
            if initial:
                self._auth_expect = ["password"]
                return f"AUTH LOGIN {self._masked_response('username', initial.encode())}"
            self._auth_expect = ["username", "password"]
        else:
            self._auth_expect = ["secret"] * 8
            return f"AUTH {mechanism} <hidden>" if initial else f"AUTH {mechanism}"
        return f"AUTH {mechanism}"

    @staticmethod
    def _masked_response(kind: str, blob: bytes) -> str:
        if blob.strip() == b"*":
            return "*"
        decoded = _b64_text(blob)
        if kind == "username" and decoded is not None:
            return f'<username "{decoded}">'
        if kind == "plain" and decoded is not None:
            parts = decoded.split("\x00")
            if len(parts) == 3:
                return f'<username "{parts[1]}", password hidden>'
        if kind == "password":
            return "<password hidden>"
        return "<hidden>"

    # Message data ------------------------------------------------------
    def _start_data(self) -> None:
        self._in_data = True
        self._data_tail = b"\r\n"  # DATA starts at the beginning of a line
        self._data_bytes = 0
        self._data_lines = 0
        if self._partial:
            pending = bytes(self._partial)
            self._partial.clear()
            self.client_bytes(pending)

    def _consume_data(self, data: bytes) -> bytes:
        """Count message bytes; return what follows the end of DATA, if it came."""
        window = self._data_tail + data
        end = window.find(DATA_END)
        used = len(data) if end < 0 else end + len(DATA_END) - len(self._data_tail)
        self._data_bytes += used
        self._data_lines += data.count(b"\n", 0, used)
        if end < 0:
            self._data_tail = window[-4:]
            return b""
        self._in_data = False
        self.last_data_line = self.position
        size, lines = self._data_bytes - 3, self._data_lines - 1  # without the closing ".\r\n"
        self._add("C", f"<{size} bytes, {lines} {'line' if lines == 1 else 'lines'} of message data>")
        return data[used:]

    def end_transaction(self) -> None:
        self.transaction_start = None
