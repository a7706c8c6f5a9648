"""Sending a message through the relay's SMTP server: smtplib, run on a thread, every refusal a RelayError.

A refusal carries the server's own reply (`550 5.1.1 no such user`), which the release route
shows its caller and automatic relay logs.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Sequence

from mailcatch.relay.config import RelayConfig

__all__ = ["TIMEOUT", "RelayError", "send"]

TIMEOUT = 30.0
"""Seconds a connection, or one reply of the server, may take."""


class RelayError(Exception):
    """The relay server could not be reached or refused the message; the text says where and why."""


def _reply(error: smtplib.SMTPResponseException) -> str:
    text = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else str(error.smtp_error)
    return f"{error.smtp_code} {' '.join(text.split())}".strip()


def _tls_context(config: RelayConfig) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if config.allow_insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _connect(config: RelayConfig) -> smtplib.SMTP:
    # The local name given in EHLO: the host name, without a DNS lookup (getfqdn can take seconds).
    local = socket.gethostname() or "localhost"
    if config.tls:
        return smtplib.SMTP_SSL(
            config.host, config.port, local_hostname=local, timeout=TIMEOUT, context=_tls_context(config)
        )
    return smtplib.SMTP(config.host, config.port, local_hostname=local, timeout=TIMEOUT)


def _login(client: smtplib.SMTP, config: RelayConfig) -> None:
    if config.auth == "none":
        return
    client.user = config.username
    if config.auth == "cram-md5":
        client.password = config.secret
        client.auth("CRAM-MD5", client.auth_cram_md5)
    elif config.auth == "login":
        client.password = config.password
        client.auth("LOGIN", client.auth_login, initial_response_ok=False)
    else:
        client.password = config.password
        client.auth("PLAIN", client.auth_plain)


def _mail_options(client: smtplib.SMTP, mail_from: str, recipients: Sequence[str], data: bytes) -> list[str]:
    options = []
    if client.has_extn("size"):
        options.append(f"SIZE={len(data)}")
    if client.has_extn("8bitmime") and any(byte > 127 for byte in data):
        options.append("BODY=8BITMIME")
    if not all(address.isascii() for address in (mail_from, *recipients)):
        if not client.has_extn("smtputf8"):
            raise RelayError("an address is not ASCII and the relay server does not offer SMTPUTF8")
        options.append("SMTPUTF8")
    return options


def _transaction(
    client: smtplib.SMTP, mail_from: str, recipients: Sequence[str], data: bytes, partial: bool
) -> dict[str, str]:
    code, reply = client.mail(mail_from, _mail_options(client, mail_from, recipients, data))
    if code != 250:
        raise RelayError(f"MAIL FROM:<{mail_from}> refused: {_reply(smtplib.SMTPResponseException(code, reply))}")
    refused: dict[str, str] = {}
    for address in recipients:
        code, reply = client.rcpt(address)
        if code not in (250, 251):
            refused[address] = _reply(smtplib.SMTPResponseException(code, reply))
    if refused and (not partial or len(refused) == len(recipients)):
        client.rset()
        said = "; ".join(f"RCPT TO:<{address}> refused: {reply}" for address, reply in refused.items())
        raise RelayError(said)
    code, reply = client.data(data)
    if code != 250:
        raise RelayError(f"the message was refused: {_reply(smtplib.SMTPResponseException(code, reply))}")
    return refused


def send(
    config: RelayConfig, mail_from: str, recipients: Sequence[str], data: bytes, *, partial: bool = False
) -> dict[str, str]:
    """Send `data` to `recipients` through the relay; blocks, so call it on a thread.

    Unless `partial`, a recipient the server refuses stops the whole message (nothing is sent);
    with it, the message goes to those accepted and the refused ones are returned with the
    server's reply. Raises RelayError for anything else that went wrong.
    """
    where = config.server
    try:
        client = _connect(config)
    except (OSError, smtplib.SMTPException) as error:
        raise RelayError(f"can't connect to {where}: {_describe(error)}") from None
    try:
        client.ehlo_or_helo_if_needed()
        if config.starttls:
            if not client.has_extn("starttls"):
                raise RelayError(f"{where} does not offer STARTTLS")
            client.starttls(context=_tls_context(config))
            client.ehlo()
        _login(client, config)
        return _transaction(client, mail_from, recipients, data, partial)
    except RelayError:
        raise
    except smtplib.SMTPAuthenticationError as error:
        raise RelayError(f"{where} refused the login: {_reply(error)}") from None
    except (OSError, smtplib.SMTPException) as error:
        raise RelayError(f"{where}: {_describe(error)}") from None
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return _reply(error)
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS certificate not accepted: {error.verify_message} (allow-insecure: true accepts it)"
    if isinstance(error, (socket.timeout, TimeoutError)):
        return f"no answer within {TIMEOUT:g} s"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
