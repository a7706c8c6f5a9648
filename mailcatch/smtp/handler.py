"""The SMTP side's handler: accepts every transaction, stores each message, forwards nothing."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from typing import Any

from aiosmtpd.smtp import AuthResult, LoginPassword, Session
from aiosmtpd.smtp import Envelope as SMTPEnvelope

from mailcatch import __version__
from mailcatch.config import Settings
from mailcatch.errors import StoreError
from mailcatch.models import ReceivedEnvelope, Transaction
from mailcatch.passwords import Credentials, read_password_file
from mailcatch.smtp.budget import InFlightBudget
from mailcatch.smtp.protocol import CatcherSMTP, text_argument
from mailcatch.smtp.session_errors import session_error
from mailcatch.storage import MessageStore

log = logging.getLogger("mailcatch.smtp")


class CatchHandler:
    """aiosmtpd handler: accepts every sender and recipient, stores each message, forwards nothing."""

    def __init__(
        self,
        store: MessageStore,
        credentials: Credentials | None = None,
        *,
        max_recipients: int = 100,
        max_connections: int = 500,
        budget: InFlightBudget | None = None,
    ) -> None:
        self.store = store
        self.budget = budget if budget is not None else InFlightBudget(0)
        """Bytes of message data the sessions may hold in memory at once (--max-in-flight)."""
        self.credentials = credentials
        self.max_recipients = max_recipients
        self.max_connections = max_connections
        self.connections = 0
        self._tails: set[asyncio.Task[None]] = set()

    async def handle_MAIL(
        self, server: CatcherSMTP, session: Session, envelope: SMTPEnvelope, address: str, mail_options: list[str]
    ) -> str:
        """Accept the sender; hold room in the in-flight budget for the size a SIZE= parameter declares."""
        for option in mail_options:
            if option.startswith("SIZE=") and option[5:].isdigit():  # aiosmtpd checked it against the limit
                if not server.hold(int(option[5:])):
                    return self.budget_refusal(server)
                break
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    def budget_refusal(self, server: CatcherSMTP) -> str:
        """The 452 reply to a message that does not fit in the in-flight budget now, logged."""
        log.warning(
            "message from %s refused with 452: messages being received hold the --max-in-flight budget (%s MB)",
            server.info.peer if server.info else "?",
            self.budget.megabytes,
        )
        return (
            f"452 4.3.1 Too much mail being received at once (--max-in-flight {self.budget.megabytes} MB),"
            " try again later"
        )

    async def handle_RCPT(
        self, server: CatcherSMTP, session: Session, envelope: SMTPEnvelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= self.max_recipients:
            return f"452 4.5.3 Too many recipients: at most {self.max_recipients} per message"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_EHLO(
        self, server: CatcherSMTP, session: Session, envelope: SMTPEnvelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        assert server.info is not None
        server.info.helo = text_argument(hostname)
        server.recorder.end_transaction()
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_HELO(self, server: CatcherSMTP, session: Session, envelope: SMTPEnvelope, hostname: str) -> str:
        session.host_name = hostname
        assert server.info is not None
        server.info.helo = text_argument(hostname)
        return f"250 {server.hostname}"

    def authenticate(
        self, server: CatcherSMTP, session: Session, envelope: SMTPEnvelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
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
        captured = ReceivedEnvelope(
            mail_from=text_argument(envelope.mail_from or ""),
            mail_options=[text_argument(option) for option in envelope.mail_options],
            rcpt_to=[text_argument(address) for address in envelope.rcpt_tos],
            peer=info.peer,
            helo=info.helo,
            username=info.username,
            tls=info.tls,
            received=time.time(),
        )
        adding = asyncio.ensure_future(self.store.add(raw, captured, tx))
        held = server.hand_over()  # the message's bytes are the store's until it is done with them
        if held:
            adding.add_done_callback(lambda _: self.budget.give(held))
        server.pending.append(adding)
        try:
            summary = await asyncio.shield(adding)
        except Exception as error:
            log.error("message from %s not stored, answered 451: %s", info.peer, error)
            return "451 4.3.0 Temporary failure: the message could not be stored, try again later"
        finally:
            if adding.done():
                server.pending.remove(adding)
        log.info(
            "message %s from <%s> to %s, subject %r, %d bytes",
            summary["ID"],
            captured.mail_from,
            ", ".join(f"<{r}>" for r in captured.rcpt_to),
            summary["Subject"],
            len(raw),
        )
        return f"250 2.0.0 Ok: queued as {summary['ID']}"

    def session_closed(self, server: CatcherSMTP) -> None:
        """Store the end of a session's transcript once its messages are stored; publish an `error` if it failed."""
        if server.info is not None and (error := session_error(server.info, server.recorder)):
            self.store.bus.publish(error)
        if server.info is None or (server.recorder.taken == 0 and not server.pending):
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


async def start_smtp(settings: Settings, store: MessageStore) -> tuple[asyncio.Server, CatchHandler]:
    """Listen for SMTP on the running loop; returns the server and its handler."""
    credentials = Credentials(read_password_file(settings.smtp_auth_file)) if settings.smtp_auth_file else None
    handler = CatchHandler(
        store,
        credentials,
        max_recipients=settings.smtp_max_recipients,
        max_connections=settings.smtp_max_connections,
        budget=InFlightBudget(settings.in_flight_budget),
    )
    context = (
        tls_context(settings.smtp_tls_cert, settings.smtp_tls_key)
        if settings.smtp_tls_cert and settings.smtp_tls_key
        else None
    )
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
