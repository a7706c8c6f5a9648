"""The SMTP side: an aiosmtpd server that records each session and stores every message."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import socket
import ssl
import time
from typing import Any, cast

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope as SMTPEnvelope, LoginPassword, Session

from mailcatch import __version__
from mailcatch.config import Settings
from mailcatch.errors import StoreError
from mailcatch.models import Envelope, SessionInfo, Transaction
from mailcatch.passwords import Credentials, read_password_file
from mailcatch.session_errors import session_error
from mailcatch.store import Store
from mailcatch.transcript import DATA_END, TranscriptRecorder

log = logging.getLogger("mailcatch.smtp")
logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd logs every command and deprecation

# aiosmtpd reads DATA line by line; ours reads it in pieces of up to _DATA_READ_SIZE.
_DATA_START = b"\r\n"
_DATA_READ_SIZE = 256 * 1024
_DEFERRABLE = (b"250", b"354")
_SIMPLE_ADDRESS = re.compile(r"\s*<([^<>\s\"\\(),;:@\[\]]+@[A-Za-z0-9.-]+)>")


def _text(argument: str) -> str:
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
    """

    def __init__(self, handler: CatchHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.recorder = TranscriptRecorder()
        self.info: SessionInfo | None = None
        self.pending: list[asyncio.Future[Any]] = []
        self._outgoing = bytearray()
        self._flush_scheduled = False
        self._refused = False
        self._active_at = 0.0
        if handler.credentials is not None:
            self._auth_required = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        handler: CatchHandler = self.event_handler
        if self.info is None and handler.connections >= handler.max_connections:
            self._refused = True
            log.warning("SMTP connection from %s refused: already %d open (--smtp-max-connections)",
                        _peer_text(transport.get_extra_info("peername")), handler.connections)
            cast(asyncio.Transport, transport).write(b"421 4.7.0 Too many connections, try again later\r\n")
            transport.close()
            return
        if self.info is None:
            handler.connections += 1
            self.info = SessionInfo(
                id=secrets.token_hex(8),
                peer=_peer_text(transport.get_extra_info("peername")),
                started=time.time(),
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
        super()._timeout_cb()  # type: ignore[no-untyped-call]

    async def push(self, status: str | bytes) -> None:
        """Send a reply; 250 and 354 replies are held until the loop turns, so pipelined replies go out together."""
        reply = status.encode("utf-8") if isinstance(status, str) else status
        self.recorder.server_line(reply)
        self._outgoing += reply + b"\r\n"
        if reply[:3] in _DEFERRABLE and len(self._outgoing) < 65536:
            if not self._flush_scheduled:
                self._flush_scheduled = True
                self.loop.call_soon(self._flush)
            return
        self._flush()
        await self._writer.drain()

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._outgoing and self.transport is not None and not self.transport.is_closing():
            cast(asyncio.Transport, self.transport).write(bytes(self._outgoing))
        self._outgoing.clear()

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """aiosmtpd's address parsing, with a fast path for the plain `<user@domain>` everyone sends."""
        simple = _SIMPLE_ADDRESS.match(arg)
        if simple:
            return simple[1], arg[simple.end():]
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
        content = await self._read_data()
        if content is None:
            await self.push("552 5.3.4 Error: message size exceeds the limit of "
                            f"{self.data_size_limit} bytes")
            self._set_post_data_state()  # type: ignore[no-untyped-call]
            return
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        await self.push("250 OK" if status is MISSING else status)

    async def _read_data(self) -> bytes | None:
        """Read message data up to CRLF.CRLF, dot-unstuffed; None when it was over the size limit.

        Only CRLF.CRLF ends DATA (never a bare-LF variant, which would allow SMTP
        smuggling). Data is unstuffed piece by piece as it arrives, each piece cut after a
        complete line, so a huge message never costs one long copy that would hold up other
        sessions. The size limit is enforced while reading: beyond it, pieces are dropped
        until the end of DATA. Bytes after CRLF.CRLF (pipelined commands) stay in the reader.
        """
        reader: Any = self._reader
        limit = self.data_size_limit or 0
        pieces: list[bytes] = []
        size = 0
        first = True
        pending = _DATA_START  # DATA begins at the start of a line
        while True:
            data = await reader.read(_DATA_READ_SIZE)
            if not data:
                raise asyncio.IncompleteReadError(b"".join(pieces), None)
            window = pending + data
            end = window.find(DATA_END)
            if end >= 0:
                piece, rest = window[:end + 2], window[end + len(DATA_END):]
                if rest:
                    reader._buffer[:0] = rest  # the next commands, already received
            else:
                # Keep the unfinished last line (from its CRLF): its dot, or CRLF.CRLF, may follow.
                # Once it is longer than that, only a final CR needs keeping.
                cut = window.rfind(b"\r\n")
                if cut < 0 or (cut == 0 and len(window) >= len(DATA_END)):
                    cut = len(window) - 1 if window.endswith(b"\r") else len(window)
                piece, pending = window[:cut], window[cut:]
            piece = piece.replace(b"\r\n.", b"\r\n")
            if first and piece:  # the first piece begins with the line start put before DATA
                piece, first = piece[len(_DATA_START):], False
            size += len(piece)
            if limit and size > limit:
                pieces.clear()  # too big: keep counting, stop keeping
            else:
                pieces.append(piece)
            if end >= 0:
                return None if limit and size > limit else b"".join(pieces)


class CatchHandler:
    """aiosmtpd handler: accepts every sender and recipient, stores each message, forwards nothing."""

    def __init__(self, store: Store, credentials: Credentials | None = None, *,
                 max_recipients: int = 100, max_connections: int = 500) -> None:
        self.store = store
        self.credentials = credentials
        self.max_recipients = max_recipients
        self.max_connections = max_connections
        self.connections = 0
        self._tails: set[asyncio.Task[None]] = set()

    async def handle_RCPT(self, server: CatcherSMTP, session: Session, envelope: SMTPEnvelope,
                          address: str, rcpt_options: list[str]) -> str:
        if len(envelope.rcpt_tos) >= self.max_recipients:
            return f"452 4.5.3 Too many recipients: at most {self.max_recipients} per message"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_EHLO(self, server: CatcherSMTP, session: Session, envelope: SMTPEnvelope,
                          hostname: str, responses: list[str]) -> list[str]:
        session.host_name = hostname
        assert server.info is not None
        server.info.helo = _text(hostname)
        server.recorder.end_transaction()
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_HELO(self, server: CatcherSMTP, session: Session, envelope: SMTPEnvelope,
                          hostname: str) -> str:
        session.host_name = hostname
        assert server.info is not None
        server.info.helo = _text(hostname)
        return f"250 {server.hostname}"

    def authenticate(self, server: CatcherSMTP, session: Session, envelope: SMTPEnvelope,
                     mechanism: str, auth_data: Any) -> AuthResult:
        """Any credentials pass, unless an auth file names who may log in."""
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        username = auth_data.login.decode("utf-8", "replace")
        if self.credentials is not None:
            given = auth_data.password.decode("utf-8", "replace")
            if not self.credentials.check(username, given):
                log.warning("SMTP login refused for %r from %s", username, server.info and server.info.peer)
                return AuthResult(success=False, handled=False)
        if server.info is not None:
            server.info.username = username
        return AuthResult(success=True, auth_data=auth_data)

    async def handle_DATA(self, server: CatcherSMTP, session: Session, envelope: SMTPEnvelope) -> str:
        info = server.info
        assert info is not None
        recorder = server.recorder
        data_line = recorder.last_data_line if recorder.last_data_line is not None else recorder.position - 1
        start = recorder.transaction_start if recorder.transaction_start is not None else data_line
        first, lines = recorder.take()  # this message stores them: a long session keeps no lines in memory
        tx = Transaction(info, start, data_line + 2, lines, first)
        recorder.end_transaction()
        raw = envelope.original_content or b""
        captured = Envelope(
            mail_from=_text(envelope.mail_from or ""),
            mail_options=[_text(option) for option in envelope.mail_options],
            rcpt_to=[_text(address) for address in envelope.rcpt_tos],
            peer=info.peer,
            helo=info.helo,
            username=info.username,
            tls=info.tls,
            received=time.time(),
        )
        adding = asyncio.ensure_future(self.store.add(raw, captured, tx))
        server.pending.append(adding)
        try:
            summary = await asyncio.shield(adding)
        except Exception as error:
            log.error("message from %s not stored, answered 451: %s", info.peer, error)
            return "451 4.3.0 Temporary failure: the message could not be stored, try again later"
        finally:
            if adding.done():
                server.pending.remove(adding)
        log.info("message %s from <%s> to %s, subject %r, %d bytes", summary["ID"], captured.mail_from,
                 ", ".join(f"<{r}>" for r in captured.rcpt_to), summary["Subject"], len(raw))
        return f"250 2.0.0 Ok: queued as {summary['ID']}"

    def session_closed(self, server: CatcherSMTP) -> None:
        """Store the end of a session's transcript once its messages are stored; publish an `error` if it failed."""
        if server.info is not None and (error := session_error(server.info, server.recorder)):
            self.store.bus.publish(error)
        if server.info is None or server.recorder.taken == 0 and not server.pending:
            return
        task = asyncio.ensure_future(self._save_tail(server))
        self._tails.add(task)
        task.add_done_callback(self._tails.discard)

    async def _save_tail(self, server: CatcherSMTP) -> None:
        if server.pending:
            await asyncio.gather(*server.pending, return_exceptions=True)
        assert server.info is not None
        first, tail = server.recorder.take()
        try:
            await self.store.save_transcript_tail(server.info, first, tail)
        except StoreError as error:
            log.warning("end of SMTP transcript for %s not stored: %s", server.info.peer, error)

    async def drain(self) -> None:
        """Wait for transcripts still being saved."""
        if self._tails:
            await asyncio.gather(*self._tails, return_exceptions=True)


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def start_smtp(settings: Settings, store: Store) -> tuple[asyncio.Server, CatchHandler]:
    """Listen for SMTP on the running loop; returns the server and its handler."""
    credentials = Credentials(read_password_file(settings.smtp_auth_file)) if settings.smtp_auth_file else None
    handler = CatchHandler(store, credentials, max_recipients=settings.smtp_max_recipients,
                           max_connections=settings.smtp_max_connections)
    context = tls_context(settings.smtp_tls_cert, settings.smtp_tls_key) if settings.smtp_tls_cert and settings.smtp_tls_key else None
    hostname = socket.gethostname() or "mailcatch"
    loop = asyncio.get_running_loop()

    def factory() -> CatcherSMTP:
        return CatcherSMTP(
            handler,
            data_size_limit=settings.max_message_size,
            enable_SMTPUTF8=True,
            hostname=hostname,
            ident=f"mailcatch {__version__} ESMTP",
            tls_context=context,
            auth_require_tls=False,
            authenticator=handler.authenticate,
            timeout=settings.smtp_timeout,
            loop=loop,
        )

    server = await loop.create_server(factory, settings.smtp.host, settings.smtp.port, backlog=1024)
    return server, handler
