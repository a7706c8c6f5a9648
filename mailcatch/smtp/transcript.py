"""Record an SMTP session line by line, masking AUTH secrets and summarising message data."""

from __future__ import annotations

import base64
import binascii
import time

from mailcatch.models import Direction, SessionLine

DATA_END = b"\r\n.\r\n"
MAX_LINE_TEXT = 2000
"""Longer client lines (junk, attacks) are cut in the transcript; the raw message is kept apart."""
MAX_PENDING_LINES = 1000
"""Lines a session keeps in memory until a message stores them (or the session ends)..."""
MAX_PENDING_CHARS = 256 * 1024
"""...and characters of them. Past either, lines after the first KEEP_FIRST_LINES are folded
into one line that counts them, so that a client sending NOOP (or junk) for ever keeps the
first lines and the last ones, never more."""
KEEP_FIRST_LINES = 100
LONG_LINE = 64 * 1024
"""A client line longer than this is kept only in its first MAX_LINE_TEXT bytes."""


def _b64_text(blob: bytes) -> str | None:
    try:
        return base64.b64decode(blob.strip(), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None


class TranscriptRecorder:
    """Turns the bytes a client sends and the replies the server pushes into transcript lines.

    Client bytes arrive in arbitrary chunks, and a client may pipeline commands, AUTH answers
    and even message data in one write; they wait in `_unread` and each line is recorded when
    the server begins its reply to it, so the record follows the protocol's state: an AUTH
    answer is known (and masked) as one, and message data is never taken for commands. Between
    a 354 reply and the CRLF.CRLF that ends DATA, bytes are only counted, then summarised as
    one line.
    """

    def __init__(self) -> None:
        self.lines: list[SessionLine] = []
        """The lines not yet taken (stored with a message)."""
        self._chars = 0
        """Characters of text in `lines`."""
        self._folded = 0
        """Lines folded into the line at index KEEP_FIRST_LINES of `lines` (0: none yet)."""
        self.taken = 0
        """How many lines were taken before these."""
        self.refusals = 0
        """How many 4xx and 5xx replies the session got."""
        self.last_refusal = ""
        self._unread = bytearray()
        """Client bytes not yet answered: a line is recorded when the reply to it begins, so the
        transcript follows the protocol's turns whatever the client pipelined in one write."""
        self._skipping = False
        """The rest of an over-long line is being dropped (its start is kept in `_unread`)."""
        self._reply_begins = True
        """The next server line begins a reply (the one before ended one)."""
        self._answered_data = False
        """Message data ended: the next reply answers it, not a command."""
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
        self._chars = self._folded = 0
        return first, lines

    def _add(self, direction: Direction, text: str) -> None:
        if len(text) > MAX_LINE_TEXT:
            text = text[:MAX_LINE_TEXT] + f"… ({len(text)} characters)"
        self.lines.append(SessionLine(time.time(), direction, text))
        self._chars += len(text)
        while len(self.lines) > MAX_PENDING_LINES or self._chars > MAX_PENDING_CHARS:
            if len(self.lines) <= KEEP_FIRST_LINES + 2:
                break
            self._fold()

    def _fold(self) -> None:
        """Fold the oldest line after the first KEEP_FIRST_LINES into the line that counts those folded.

        Lines are known by their index within the session (where a message's transaction
        starts, where its data was summarised): those past a removed line move down by one.
        """
        at = KEEP_FIRST_LINES
        if self._folded:  # remove the line after the counting line
            removed = self.taken + at + 1
            self._chars -= len(self.lines.pop(at + 1).text)
            if self.transaction_start is not None and self.transaction_start >= removed:
                self.transaction_start -= 1
            if self.last_data_line is not None and self.last_data_line >= removed:
                self.last_data_line -= 1
        # (the first fold turns the line at `at` itself into the counting line)
        self._folded += 1
        first = self.lines[at]
        text = f"<{self._folded} {'line' if self._folded == 1 else 'lines'} not kept: a session keeps its first and last lines>"
        self._chars += len(text) - len(first.text)
        self.lines[at] = SessionLine(first.time, "C", text)

    # Server side -------------------------------------------------------
    def server_line(self, reply: bytes) -> None:
        if self._reply_begins:
            if self._answered_data:
                self._answered_data = False
            else:
                self._answer_client_line()
        self._reply_begins = reply[3:4] != b"-"
        text = reply.decode("utf-8", "replace")
        self._add("S", text)
        if text[:1] in ("4", "5"):
            self.refusals += 1
            self.last_refusal = text
        elif text.startswith("354"):
            self._start_data()
        if not self._reply_begins:
            return
        self._awaiting_auth_reply = text.startswith("334") and bool(self._auth_expect)
        if not text.startswith("334"):
            self._auth_expect.clear()

    # Client side -------------------------------------------------------
    def client_bytes(self, data: bytes) -> None:
        if self._in_data:
            data = self._consume_data(data)
        if self._skipping:  # the rest of an over-long line, dropped up to its end
            end = data.find(b"\r\n")
            if end < 0:
                return
            data, self._skipping = data[end:], False
        self._unread += data
        line_start = self._unread.rfind(b"\r\n") + 2 if b"\r\n" in self._unread else 0
        if len(self._unread) - line_start > LONG_LINE:
            # A client that never ends its line: keep its start, as the server does.
            del self._unread[line_start + MAX_LINE_TEXT :]
            self._skipping = True

    def _answer_client_line(self) -> None:
        """Record the client line the reply now beginning answers (none: a greeting, a timeout)."""
        end = self._unread.find(b"\r\n")
        if end < 0:
            return
        line = bytes(self._unread[:end])
        del self._unread[: end + 2]
        self._client_line(line)

    def end_of_session(self) -> None:
        """Record what the client sent that got no reply (after QUIT, or before hanging up)."""
        while b"\r\n" in self._unread:
            self._answer_client_line()
        if self._unread:
            self._client_line(bytes(self._unread))
            self._unread.clear()

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
        if self._unread:  # message data sent with the DATA command, before its 354
            pending = bytes(self._unread)
            self._unread.clear()
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
        self._answered_data = True
        self.last_data_line = self.position
        size, lines = self._data_bytes - 3, self._data_lines - 1  # without the closing ".\r\n"
        self._add("C", f"<{size} bytes, {lines} {'line' if lines == 1 else 'lines'} of message data>")
        return data[used:]

    def end_transaction(self) -> None:
        self.transaction_start = None
