"""aiosmtpd's SMTP protocol as mailcatch runs it: every override of aiosmtpd's internals is here."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import secrets
import time
from typing import TYPE_CHECKING, Any, Final, NamedTuple, cast

from aiosmtpd.smtp import MISSING, SMTP, Envelope

from mailcatch.models import SessionInfo
from mailcatch.smtp.session_log import SessionTrail
from mailcatch.smtp.transcript import DATA_END, TranscriptRecorder

if TYPE_CHECKING:
    from mailcatch.smtp.handler import CatchHandler

log = logging.getLogger("mailcatch.smtp")
logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd logs every command and deprecation

# aiosmtpd reads DATA line by line; ours reads it in pieces of up to _DATA_READ_SIZE.
_DATA_START = b"\r\n"
_DATA_READ_SIZE = 256 * 1024
_DEFERRABLE = (b"250", b"354")
_STARTTLS_FIRST = b"530 Must issue a STARTTLS command first"
STARTTLS_FIRST = b"530 5.7.0 Must issue a STARTTLS command first"
"""--smtp-require-starttls: aiosmtpd's answer to a command before STARTTLS, with its enhanced code (as Mailpit's)."""
_SIMPLE_ADDRESS = re.compile(r"\s*<([^<>\s\"\\(),;:@\[\]]+@[A-Za-z0-9.-]+)>")


class PrivateName(NamedTuple):
    """A private name of aiosmtpd's `SMTP` that CatcherSMTP overrides, calls, reads or sets."""

    name: str
    # For a method, the arguments CatcherSMTP passes it (an override takes the same); None for an attribute.
    arguments: tuple[str, ...] | None


# Every private name of aiosmtpd's SMTP that this module relies on. aiosmtpd promises nothing
# about them, so pyproject.toml bounds aiosmtpd below its next major release and
# tests/smtp/test_aiosmtpd_fence.py checks each one (and that this list, CatcherSMTP's
# docstring and the code below name the same ones) against the aiosmtpd installed.
AIOSMTPD_PRIVATE_NAMES: Final[tuple[PrivateName, ...]] = (
    PrivateName("_reset_timeout", ("duration",)),
    PrivateName("_timeout_cb", ()),
    PrivateName("_getaddr", ("arg",)),
    PrivateName("_call_handler_hook", ("command",)),
    PrivateName("_set_post_data_state", ()),
    PrivateName("_timeout_handle", None),
    PrivateName("_timeout_duration", None),
    PrivateName("_auth_required", None),
    PrivateName("_reader", None),
    PrivateName("_writer", None),
)


def text_argument(argument: str) -> str:
    """A command argument as valid Unicode: bytes that were not UTF-8 (kept by aiosmtpd as lone
    surrogates, which can't be stored) become U+FFFD."""
    if argument.isascii():
        return argument
    return argument.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _peer_text(peer: Any) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        host, port = peer[0], peer[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(peer or "")


class CatcherSMTP(SMTP):
    """aiosmtpd's SMTP protocol, plus a transcript of the session and DATA read in bulk.

    `data_received` sees every byte the client sends (also after STARTTLS, where it gets
    the decrypted bytes) and `push` every reply, so the recorder sees the whole dialogue.

    Private names of aiosmtpd's `SMTP` it relies on (AIOSMTPD_PRIVATE_NAMES, checked by
    tests/smtp/test_aiosmtpd_fence.py):

    - `_reset_timeout(duration)`: overridden, to arm the idle timer once and move it only
      when it fires early; calls aiosmtpd's to arm it.
    - `_timeout_cb()`: overridden, to say why before closing; calls aiosmtpd's to close.
    - `_getaddr(arg)`: overridden, with a fast path for `<user@domain>`; calls aiosmtpd's otherwise.
    - `_call_handler_hook(command)` and `_set_post_data_state()`: called by `smtp_DATA`,
      which replaces aiosmtpd's to read DATA in bulk (`_read_data`, ours).
    - `_timeout_handle`, `_timeout_duration`: the idle timer and its length, read and reset.
    - `_auth_required`: set when the catcher has credentials.
    - `_reader`, `_writer`: the connection's streams, which `_read_data` reads and `push`
      drains. `_read_data` also puts pipelined commands back into asyncio's
      `StreamReader._buffer` (private to asyncio, which the Python version fixes).
    """

    def __init__(self, handler: CatchHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.recorder = TranscriptRecorder()
        self.trail = SessionTrail()
        """What the session log keeps of this session while it runs (the lines its messages took, their IDs)."""
        self.timed_out = False
        """The idle timeout closed the connection."""
        self.info: SessionInfo | None = None
        self.pending: list[asyncio.Future[Any]] = []
        self._outgoing = bytearray()
        self._flush_scheduled = False
        self._refused = False
        self._dropped = False
        """A fault rule closed the connection: nothing more is sent or recorded."""
        self._active_at = 0.0
        self._held = 0
        """Bytes of the in-flight budget this session holds: for the SIZE= its MAIL FROM declared,
        or for the DATA read so far, until its message is handed to the store or dropped."""
        self._held_for: Envelope | None = None
        """The transaction (aiosmtpd's envelope) they were taken for; a new one (RSET, EHLO) frees them."""
        if handler.credentials is not None:
            self._auth_required = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        handler: CatchHandler = self.event_handler
        if self.info is None and handler.connections >= handler.max_connections:
            self._refused = True
            log.warning(
                "SMTP connection from %s refused: already %d open (--smtp-max-connections)",
                _peer_text(transport.get_extra_info("peername")),
                handler.connections,
            )
            cast(asyncio.Transport, transport).write(b"421 4.7.0 Too many connections, try again later\r\n")
            transport.close()
            return
        if self.info is None:
            handler.connections += 1
            self.info = SessionInfo(
                id=secrets.token_hex(8),
                peer=_peer_text(transport.get_extra_info("peername")),
                started=time.time(),
                tls=transport.get_extra_info("ssl_object") is not None,  # implicit TLS (--smtp-require-tls)
            )
        else:  # the same connection again, after STARTTLS
            self.info.tls = True
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self.recorder.client_bytes(data)
        super().data_received(data)

    def connection_lost(self, error: Exception | None) -> None:
        if self._refused:
            return
        super().connection_lost(error)
        self.release_held()
        self.recorder.end_of_session()
        handler: CatchHandler = self.event_handler
        handler.connections -= 1
        handler.session_closed(self)

    def eof_received(self) -> bool | None:
        if self._refused:
            return False
        return super().eof_received()

    def _reset_timeout(self, duration: float | None = None) -> None:
        """Note the client's activity. The idle timer is armed once and moved only when it
        fires early, rather than cancelled and scheduled again for every command."""
        self._active_at = self.loop.time()
        if self._timeout_handle is None or duration is not None:
            super()._reset_timeout(duration)

    def _timeout_cb(self) -> None:
        """Close a connection idle for the timeout, saying why."""
        idle = self.loop.time() - self._active_at
        if idle < self._timeout_duration:
            self._timeout_handle = self.loop.call_later(self._timeout_duration - idle, self._timeout_cb)
            return
        if self.transport is not None and not self.transport.is_closing():
            reply = b"421 4.4.2 Idle too long, closing the connection"
            self.recorder.server_line(reply)
            self._flush()
            cast(asyncio.Transport, self.transport).write(reply + b"\r\n")
        self.timed_out = True
        super()._timeout_cb()  # type: ignore[no-untyped-call]

    async def push(self, status: str | bytes) -> None:
        """Send a reply; 250 and 354 replies are held until the loop turns, so pipelined replies go out together."""
        if self._dropped:
            return
        reply = status.encode("utf-8") if isinstance(status, str) else status
        if reply == _STARTTLS_FIRST:
            reply = STARTTLS_FIRST
        if self._held and self._held_for is not self.envelope:  # RSET, HELO or EHLO ended the transaction
            self.release_held()
        self.recorder.server_line(reply)
        self._outgoing += reply + b"\r\n"
        if reply[:3] in _DEFERRABLE and len(self._outgoing) < 65536:
            if not self._flush_scheduled:
                self._flush_scheduled = True
                self.loop.call_soon(self._flush)
            return
        self._flush()
        await self._writer.drain()

    @property
    def dropped(self) -> bool:
        """A fault rule dropped the connection."""
        return self._dropped

    def drop(self, note: str) -> None:
        """Close the connection without a reply (a fault rule's Drop), after the replies already due; the note goes in the transcript."""
        self.recorder.server_line(note.encode("utf-8"))
        self._flush()
        self._dropped = True
        if self.transport is not None:
            self.transport.close()

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._outgoing and self.transport is not None and not self.transport.is_closing():
            cast(asyncio.Transport, self.transport).write(bytes(self._outgoing))
        self._outgoing.clear()

    # The in-flight budget ------------------------------------------------
    def hold(self, size: int) -> bool:
        """Hold `size` bytes of the budget for this transaction's message (its declared SIZE=),
        beside any held already; False if they don't fit."""
        handler: CatchHandler = self.event_handler
        if not handler.budget.take(size):
            return False
        self._held += size
        self._held_for = self.envelope
        return True

    def hand_over(self) -> int:
        """The bytes held for the message just read, which the caller now gives back when done with it."""
        held, self._held, self._held_for = self._held, 0, None
        return held

    def release_held(self) -> None:
        """Give back what this session holds of the budget."""
        if self._held:
            handler: CatchHandler = self.event_handler
            handler.budget.give(self._held)
            self._held, self._held_for = 0, None

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """aiosmtpd's address parsing, with a fast path for the plain `<user@domain>` everyone sends."""
        simple = _SIMPLE_ADDRESS.match(arg)
        if simple:
            return simple[1], arg[simple.end() :]
        return super()._getaddr(arg)

    async def smtp_DATA(self, arg: str | None) -> None:
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None and self.session is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 5.5.1 Error: need RCPT command")
            return
        if arg:
            await self.push("501 5.5.4 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:
            content = await self._read_data()
            if isinstance(content, str):  # refused: too big, or beyond the in-flight budget
                self.release_held()
                await self.push(content)
                self._set_post_data_state()  # type: ignore[no-untyped-call]
                return
            self.envelope.content = self.envelope.original_content = content
            del content  # the envelope holds it until the store has it
            status = await self._call_handler_hook("DATA")
        finally:
            self.release_held()  # what the handler did not take over (an error, a lost connection)
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        await self.push("250 OK" if status is MISSING else status)

    async def _read_data(self) -> bytes | str:
        """Read message data up to CRLF.CRLF, dot-unstuffed; or, when it is not kept, the reply that says why.

        Only CRLF.CRLF ends DATA (never a bare-LF variant, which would allow SMTP
        smuggling). Data is unstuffed piece by piece as it arrives, each piece cut after a
        complete line, so a huge message never costs one long copy that would hold up other
        sessions. Pieces go into one growing buffer that becomes the message's bytes without
        a copy. The size limit and the in-flight budget are enforced while reading: beyond
        either, pieces are dropped (and what the session held of the budget given back) until
        the end of DATA. Bytes after CRLF.CRLF (pipelined commands) stay in the reader.
        """
        reader: Any = self._reader
        handler: CatchHandler = self.event_handler
        limit = self.data_size_limit or 0
        kept: io.BytesIO | None = io.BytesIO()
        size = 0
        first = True
        pending = _DATA_START  # DATA begins at the start of a line
        while True:
            data = await reader.read(_DATA_READ_SIZE)
            if not data:
                self.release_held()
                raise asyncio.IncompleteReadError(b"", None)
            window = pending + data
            del data
            end = window.find(DATA_END)
            if end >= 0:
                piece, rest = window[: end + 2], window[end + len(DATA_END) :]
                if rest:
                    reader._buffer[:0] = rest  # the next commands, already received
            else:
                # Keep the unfinished last line (from its CRLF): its dot, or CRLF.CRLF, may follow.
                # Once it is longer than that, only a final CR needs keeping.
                cut = window.rfind(b"\r\n")
                if cut < 0 or (cut == 0 and len(window) >= len(DATA_END)):
                    cut = len(window) - 1 if window.endswith(b"\r") else len(window)
                piece, pending = window[:cut], window[cut:]
            del window
            piece = piece.replace(b"\r\n.", b"\r\n")
            if first and piece:  # the first piece begins with the line start put before DATA
                piece, first = piece[len(_DATA_START) :], False
            size += len(piece)
            if kept is not None:
                if limit and size > limit:
                    kept = None  # too big: keep counting, stop keeping
                elif size > self._held and not self.hold(size - self._held):
                    kept = None  # no room: read on to the end, keep nothing
                else:
                    kept.write(piece)
                if kept is None:
                    self.release_held()
            if end >= 0:
                if limit and size > limit:
                    return f"552 5.3.4 Error: message size exceeds the limit of {limit} bytes"
                if kept is None:
                    return handler.budget_refusal(self)
                return kept.getvalue()
