"""The SMTP side's handler: accepts every transaction, stores each message, forwards nothing."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import socket
import ssl
import time
import weakref
from base64 import b64decode

from aiosmtpd.smtp import MISSING, AuthResult, LoginPassword, Session
from aiosmtpd.smtp import Envelope as SMTPEnvelope

from mailcatch import __version__
from mailcatch.auth_limits import CONNECTION_FAILURES, FailedLogins
from mailcatch.auto_tags import AutoTagger
from mailcatch.config import Settings
from mailcatch.errors import DatabaseUnreachable, StoreError
from mailcatch.logs import limit_repeats
from mailcatch.models import ReceivedEnvelope, Transaction
from mailcatch.passwords import Credentials, TooBusy, read_password_file
from mailcatch.smtp.budget import InFlightBudget
from mailcatch.smtp.faults import FaultInjector
from mailcatch.smtp.message_id import message_id_of
from mailcatch.smtp.protocol import CatcherSMTP, text_argument
from mailcatch.smtp.session_errors import session_error
from mailcatch.smtp.session_log import SessionLog, record_session
from mailcatch.storage import MessageStore

log = logging.getLogger("mailcatch.smtp")
auth_log = limit_repeats(logging.getLogger("mailcatch.smtp.auth"))
"""Refused logins: a line repeated (same user, same address) is said at most once a minute."""

TOO_MANY_FAILURES = "421 4.7.0 Too many failed logins, try again later"
REFUSED_RECIPIENT = "550 5.1.0 Requested action not taken: mailbox unavailable"
"""Mailpit's reply to a recipient --smtp-allowed-recipients doesn't match."""
DUPLICATE_IGNORED = "250 2.0.0 Ok: queued"
"""Mailpit's reply to a message it drops for --ignore-duplicate-ids: accepted, without an ID."""
TOO_BUSY = "454 4.7.0 Temporary authentication failure: too many logins being checked, try again later"
TLS_HANDSHAKE_TIMEOUT = 10.0
"""Seconds an implicit-TLS connection has to complete its handshake (--smtp-require-tls)."""
DROPPED = "421 4.4.2 Connection dropped by a fault rule"
"""What a hook returns once a fault rule dropped the connection: the protocol sends nothing more."""


def _one_line(text: str, limit: int = 400) -> str:
    """Text fit for an SMTP reply: one line, not too long."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _peer_address(server: CatcherSMTP) -> str:
    """The client's IP address, without its port: failed logins are counted per address."""
    peer = server.session.peer if server.session is not None else None
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return str(peer or "")


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
        allowed_recipients: re.Pattern[str] | None = None,
        ignore_duplicate_ids: bool = False,
        auto_tagger: AutoTagger | None = None,
        faults: FaultInjector | None = None,
        session_log: SessionLog | None = None,
    ) -> None:
        self.store = store
        self.session_log = session_log
        """The recent sessions, each recorded when it ends (GET /api/v1/sessions); None: not kept."""
        self.faults = faults if faults is not None else FaultInjector()
        """Fault rules and Mailpit's chaos (--enable-chaos): replies injected at MAIL, RCPT, DATA and AUTH."""
        self.allowed_recipients = allowed_recipients
        """--smtp-allowed-recipients: RCPT TO addresses it finds nothing in get 550."""
        self.ignore_duplicate_ids = ignore_duplicate_ids
        """--ignore-duplicate-ids: a message whose Message-ID is stored already is answered 250 and dropped."""
        self.auto_tagger = auto_tagger if auto_tagger else None
        """--tag, --tags-config: tags given to new messages matching filters, before the 250."""
        self.budget = budget if budget is not None else InFlightBudget(0)
        """Bytes of message data the sessions may hold in memory at once (--max-in-flight)."""
        self.credentials = credentials
        self.max_recipients = max_recipients
        self.max_connections = max_connections
        self.connections = 0
        self._tails: set[asyncio.Task[None]] = set()
        self.failed_logins = FailedLogins()
        """Failed logins per client address: slowed down, then refused (auth_limits)."""
        self._connection_failures: weakref.WeakKeyDictionary[CatcherSMTP, int] = weakref.WeakKeyDictionary()
        # Mailpit's runtime SMTP counters, read by GET /api/v1/info (RuntimeStats).
        self.accepted_size = 0
        """Bytes of the messages stored since start (SMTPAcceptedSize)."""
        self.rejected = 0
        """Messages refused at DATA since start: not stored, answered 451 (SMTPRejected)."""
        self.ignored = 0
        """Messages dropped by --ignore-duplicate-ids since start (SMTPIgnored)."""

    async def handle_MAIL(
        self, server: CatcherSMTP, session: Session, envelope: SMTPEnvelope, address: str, mail_options: list[str]
    ) -> str:
        """Accept the sender; hold room in the in-flight budget for the size a SIZE= parameter declares."""
        if self.faults.enabled and (injected := await self._inject(server, "MAIL", address, [])) is not None:
            return injected
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
        if self.faults.enabled and (injected := await self._inject(server, "RCPT", envelope.mail_from, [address])):
            return injected
        if len(envelope.rcpt_tos) >= self.max_recipients:
            return f"452 4.5.3 Too many recipients: at most {self.max_recipients} per message"
        if self.allowed_recipients is not None and not self.allowed_recipients.search(address):
            log.warning("recipient <%s> refused with 550: not matched by --smtp-allowed-recipients", address)
            self.rejected += 1  # Mailpit counts each refused recipient in SMTPRejected
            return REFUSED_RECIPIENT
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

    # AUTH: aiosmtpd calls these in place of its own PLAIN and LOGIN mechanisms -----------
    async def auth_PLAIN(self, server: CatcherSMTP, args: list[str]) -> AuthResult:
        """`AUTH PLAIN [initial-response]` (RFC 4616): authorization identity, user and password."""
        if await self._refuse_blocked(server):
            return AuthResult(success=False, handled=True)
        blob: object
        if len(args) == 1:
            blob = await server.challenge_auth("")
            if blob is MISSING:  # aborted with "*" or not base64: challenge_auth has answered
                return AuthResult(success=False, handled=True)
            assert isinstance(blob, bytes)
        else:
            try:
                blob = b64decode(args[1], validate=True)
            except ValueError:
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        parts = blob.split(b"\0")
        if len(parts) != 3:
            await server.push("501 5.5.2 Can't split auth value")
            return AuthResult(success=False, handled=True)
        return await self._log_in(server, parts[1], parts[2])

    async def auth_LOGIN(self, server: CatcherSMTP, args: list[str]) -> AuthResult:
        """`AUTH LOGIN [user]`: the user (unless given) and the password, each asked for with a 334."""
        if await self._refuse_blocked(server):
            return AuthResult(success=False, handled=True)
        login: object
        if len(args) == 1:
            login = await server.challenge_auth(server.AuthLoginUsernameChallenge)
        else:
            try:
                login = b64decode(args[1], validate=True)
            except ValueError:
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        if login is MISSING:
            return AuthResult(success=False, handled=True)
        password = await server.challenge_auth(server.AuthLoginPasswordChallenge)
        if password is MISSING:
            return AuthResult(success=False, handled=True)
        assert isinstance(login, bytes) and isinstance(password, bytes)
        return await self._log_in(server, login, password)

    async def auth_CRAM__MD5(self, server: CatcherSMTP, args: list[str]) -> AuthResult:
        """`AUTH CRAM-MD5` (RFC 2195): a challenge, answered with the user and the HMAC-MD5 of the
        challenge keyed by their password; offered only when every password in the auth file is plain text."""
        if await self._refuse_blocked(server):
            return AuthResult(success=False, handled=True)
        if len(args) != 1:
            await server.push("501 5.5.4 AUTH CRAM-MD5 takes no initial response")
            return AuthResult(success=False, handled=True)
        challenge = f"<{secrets.token_hex(8)}.{int(time.time())}@{server.hostname}>".encode()
        answer = await server.challenge_auth(challenge)
        if answer is MISSING:  # aborted with "*" or not base64: challenge_auth has answered
            return AuthResult(success=False, handled=True)
        assert isinstance(answer, bytes)
        login, _, digest = answer.decode("utf-8", "replace").rpartition(" ")
        if not login or not digest:
            await server.push("501 5.5.2 Can't split auth value: expected user and digest")
            return AuthResult(success=False, handled=True)
        if self.credentials is None or not self.credentials.check_cram_md5(login, challenge, digest):
            return await self._refused(server, login, _peer_address(server))
        if server.info is not None:
            server.info.username = login
        return AuthResult(success=True, auth_data=LoginPassword(login.encode(), b""))

    async def handle_AUTH(
        self, server: CatcherSMTP, session: Session, envelope: SMTPEnvelope, args: list[str]
    ) -> object:
        """A fault rule or chaos at AUTH answers in place of the mechanism (MISSING: carry on with it)."""
        if not self.faults.enabled:
            return MISSING
        injected = await self._inject(server, "AUTH", None, [])
        if injected is None:
            return MISSING
        return None if injected == DROPPED else injected  # None: aiosmtpd sends nothing

    async def _inject(self, server: CatcherSMTP, stage: str, sender: str | None, recipients: list[str]) -> str | None:
        """Apply the fault rule (or chaos) that matches this command: wait its delay, then the reply to
        send in place of the usual one (DROPPED once the connection is closed); None to carry on."""
        fault = self.faults.decide(stage, server.info, sender, recipients)
        if fault is None:
            return None
        peer = server.info.peer if server.info else "?"
        what = "dropped the connection" if fault.drop else f"answered {fault.reply!r}" if fault.reply else "waited"
        log.info("%s at %s from %s: %s", f"fault rule {fault.rule}" if fault.rule else "chaos", stage, peer, what)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop:
            server.drop(f"<connection dropped by fault rule {fault.rule}>")
            return DROPPED
        return fault.reply

    async def _refuse_blocked(self, server: CatcherSMTP) -> bool:
        """Answer 421 and close the connection when the client's address is blocked for failed logins
        (True); True without an answer for a command read after the connection was closed."""
        if server.transport is None or server.transport.is_closing():
            return True
        if self.credentials is None or not self.failed_logins.blocked_for(_peer_address(server)):
            return False
        await self._cut_off(server)
        return True

    async def _cut_off(self, server: CatcherSMTP) -> None:
        await server.push(TOO_MANY_FAILURES)
        if server.transport is not None:
            server.transport.close()

    async def _log_in(self, server: CatcherSMTP, login: bytes, password: bytes) -> AuthResult:
        """Any credentials pass, unless an auth file names who may log in. The password is checked
        off the event loop; a wrong one (or an unknown user, which costs the same) is answered 535,
        later ones more slowly, and too many get 421 and the connection closed."""
        username = login.decode("utf-8", "replace")
        if self.credentials is not None:
            peer = _peer_address(server)
            try:
                passed = await self.credentials.check_off_loop(username, password.decode("utf-8", "replace"))
            except TooBusy:
                auth_log.warning("SMTP login from %s answered 454: too many logins being checked at once", peer)
                return AuthResult(success=False, handled=False, message=TOO_BUSY)
            if not passed:
                return await self._refused(server, username, peer)
        if server.info is not None:
            server.info.username = username
        return AuthResult(success=True, auth_data=LoginPassword(login, password))

    async def _refused(self, server: CatcherSMTP, username: str, peer: str) -> AuthResult:
        failures = self._connection_failures.get(server, 0) + 1
        self._connection_failures[server] = failures
        verdict = await self.failed_logins.refused(peer, username, "SMTP", auth_log)
        if verdict.blocked or failures >= CONNECTION_FAILURES:
            await self._cut_off(server)
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False)  # aiosmtpd answers 535 5.7.8

    async def handle_DATA(self, server: CatcherSMTP, session: Session, envelope: SMTPEnvelope) -> str:
        info = server.info
        assert info is not None
        recorder = server.recorder
        data_line = recorder.last_data_line if recorder.last_data_line is not None else recorder.position - 1
        start = recorder.transaction_start if recorder.transaction_start is not None else data_line
        raw = envelope.original_content or b""
        if self.faults.enabled and (
            injected := await self._inject(server, "DATA", envelope.mail_from, envelope.rcpt_tos)
        ):
            recorder.end_transaction()  # not stored: its lines stay, for the session's next message or its end
            server.release_held()
            return injected
        if self.ignore_duplicate_ids and (duplicate := await self._duplicate_id(raw)):
            recorder.end_transaction()  # its lines stay, for the session's next message or its end
            server.release_held()
            log.info("message from %s with Message-ID <%s> already stored: ignored", info.peer, duplicate)
            self.ignored += 1
            return DUPLICATE_IGNORED
        first, lines = recorder.take()  # this message stores them: a long session keeps no lines in memory
        if self.session_log is not None:
            server.trail.add_lines(lines)  # but its last ones, for the session log
        tx = Transaction(info, start, data_line + 2, lines, first)
        recorder.end_transaction()
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
        except DatabaseUnreachable as error:
            # The store has logged the outage once, and logs when it ends: not once more per message.
            log.info("message from %s not stored, answered 451: %s", info.peer, error)
            self.rejected += 1
            return f"451 4.3.0 Temporary failure: {_one_line(str(error))}, try again later"
        except Exception as error:
            log.error("message from %s not stored, answered 451: %s", info.peer, error)
            self.rejected += 1
            return "451 4.3.0 Temporary failure: the message could not be stored, try again later"
        finally:
            if adding.done():
                server.pending.remove(adding)
        server.trail.add_message(summary["ID"])
        self.accepted_size += len(raw)
        if self.auto_tagger is not None:
            try:
                await self.auto_tagger.tag(self.store, summary, raw)
            except StoreError as error:
                log.warning("message %s stored, but its --tag filters not applied: %s", summary["ID"], error)
        log.info(
            "message %s from <%s> to %s, subject %r, %d bytes",
            summary["ID"],
            captured.mail_from,
            ", ".join(f"<{r}>" for r in captured.rcpt_to),
            summary["Subject"],
            len(raw),
        )
        return f"250 2.0.0 Ok: queued as {summary['ID']}"

    async def _duplicate_id(self, raw: bytes) -> str | None:
        """The message's Message-ID if a stored message has it already (else None)."""
        message_id = message_id_of(raw)
        if message_id and await self.store.has_message_id(message_id):
            return message_id
        return None

    def session_closed(self, server: CatcherSMTP) -> None:
        """Store the end of a session's transcript once its messages are stored; publish an `error` if it
        failed; record it in the session log."""
        if server.info is not None and (error := session_error(server.info, server.recorder)):
            self.store.bus.publish(error)
        if server.info is not None and self.session_log is not None:
            self._log_session(server)
        if server.info is None or (server.recorder.taken == 0 and not server.pending):
            return
        task = asyncio.ensure_future(self._save_tail(server))
        self._tails.add(task)
        task.add_done_callback(self._tails.discard)

    def _log_session(self, server: CatcherSMTP) -> None:
        """Record the session that ended in the session log: now, or once the messages it left
        being stored (its connection lost before their 250) are stored, so that their IDs are known."""
        assert server.info is not None and self.session_log is not None
        session_log, info, trail = self.session_log, server.info, server.trail
        tail = list(server.recorder.lines)  # the lines no message took; the transcript's tail saves them too
        refusals, ended, dropped, timed_out = server.recorder.refusals, time.time(), server.dropped, server.timed_out

        def record() -> None:
            session = record_session(
                info, trail, tail, refusals=refusals, ended=ended, dropped=dropped, timed_out=timed_out
            )
            session_log.add(session)

        if not server.pending:
            record()
            return

        async def when_stored(pending: list[asyncio.Future[object]]) -> None:
            for result in await asyncio.gather(*pending, return_exceptions=True):
                if isinstance(result, dict) and "ID" in result:
                    trail.add_message(str(result["ID"]))
            record()

        task = asyncio.ensure_future(when_stored(list(server.pending)))
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
            # An unreachable database is said once by the store, not once more per session.
            level = logging.INFO if isinstance(error, DatabaseUnreachable) else logging.WARNING
            log.log(level, "end of SMTP transcript for %s not stored: %s", server.info.peer, error)

    async def drain(self) -> None:
        """Wait for transcripts still being saved."""
        if self._tails:
            await asyncio.gather(*self._tails, return_exceptions=True)


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def start_smtp(
    settings: Settings,
    store: MessageStore,
    faults: FaultInjector | None = None,
    session_log: SessionLog | None = None,
) -> tuple[asyncio.Server, CatchHandler]:
    """Listen for SMTP on the running loop (with implicit TLS under --smtp-require-tls); returns the server and its handler."""
    credentials = Credentials(read_password_file(settings.smtp_auth_file)) if settings.smtp_auth_file else None
    handler = CatchHandler(
        store,
        credentials,
        max_recipients=settings.smtp_max_recipients,
        max_connections=settings.smtp_max_connections,
        budget=InFlightBudget(settings.in_flight_budget),
        allowed_recipients=re.compile(settings.smtp_allowed_recipients) if settings.smtp_allowed_recipients else None,
        ignore_duplicate_ids=settings.ignore_duplicate_ids,
        auto_tagger=AutoTagger(settings.tag_filters()),
        faults=faults,
        session_log=session_log,
    )
    context = (
        tls_context(settings.smtp_tls_cert, settings.smtp_tls_key)
        if settings.smtp_tls_cert and settings.smtp_tls_key
        else None
    )
    hostname = socket.gethostname() or "mailcatch"
    loop = asyncio.get_running_loop()
    # --smtp-require-tls: every connection is TLS from its first byte (SMTPS), and no STARTTLS is offered.
    implicit = context if settings.smtp_require_tls else None
    # CRAM-MD5 needs each password in plain text, which no hash gives back.
    cram_md5 = credentials is not None and credentials.all_plain

    def factory() -> CatcherSMTP:
        return CatcherSMTP(
            handler,
            data_size_limit=settings.max_message_size,
            enable_SMTPUTF8=True,
            hostname=hostname,
            ident=f"mailcatch {__version__} ESMTP",
            tls_context=None if implicit else context,
            require_starttls=settings.smtp_require_starttls,
            # The handler's auth_PLAIN and auth_LOGIN replace aiosmtpd's; AUTH is offered before
            # STARTTLS unless STARTTLS is required.
            auth_require_tls=settings.smtp_require_starttls,
            auth_exclude_mechanism=() if cram_md5 else ("CRAM-MD5",),
            timeout=settings.smtp_timeout,
            loop=loop,
        )

    server = await loop.create_server(
        factory,
        settings.smtp.host,
        settings.smtp.port,
        backlog=1024,
        ssl=implicit,
        # A plain client waits for a greeting that never comes: it is closed after this, not left hanging.
        ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT if implicit else None,
    )
    return server, handler
