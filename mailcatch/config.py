"""Settings: defaults, MAILCATCH_* environment variables, command-line flags and their validation."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mailcatch import __version__
from mailcatch.errors import ConfigError

if TYPE_CHECKING:
    from mailcatch.auto_tags import TagFilter
    from mailcatch.relay import RelayConfig


@dataclass(frozen=True)
class HostPort:
    """A listening address; port 0 asks the system for a free port."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @classmethod
    def parse(cls, text: str, default_host: str = "127.0.0.1") -> HostPort:
        """Read `HOST:PORT`, `[IPv6]:PORT` or `:PORT`."""
        text = text.strip()
        host, sep, port_text = text.rpartition(":")
        if not sep:
            raise ConfigError(f"{text!r} is not HOST:PORT")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        elif ":" in host:
            raise ConfigError(f"{text!r}: write an IPv6 address in brackets, as [::1]:1025")
        try:
            port = int(port_text)
        except ValueError:
            raise ConfigError(f"{text!r}: the port must be a number") from None
        if not 0 <= port <= 65535:
            raise ConfigError(f"{text!r}: the port must be between 0 and 65535")
        return cls(host or default_host, port)


DEFAULT_MAX_IN_FLIGHT = 100 * 1024 * 1024
"""The default --max-in-flight budget, in bytes (raised to --max-message-size when that is larger)."""


@dataclass(frozen=True)
class Settings:
    """Everything one catcher needs to know; built by `from_args` or directly in tests."""

    smtp: HostPort = HostPort("127.0.0.1", 1025)
    listen: HostPort = HostPort("127.0.0.1", 8025)
    database: str | None = None
    max_messages: int = 5000
    max_message_size: int = 50 * 1024 * 1024
    max_in_flight: int | None = None
    """Bytes of message data all SMTP sessions may hold in memory at once; 0 for no limit, None
    for the default (DEFAULT_MAX_IN_FLIGHT, or max_message_size if that is larger)."""
    smtp_auth_file: str | None = None
    smtp_tls_cert: str | None = None
    smtp_tls_key: str | None = None
    ui_auth_file: str | None = None
    send_api_auth_file: str | None = None
    """Logins for POST /api/v1/send alone (Mailpit's --send-api-auth-file); without it, the route asks for the UI's."""
    send_api_auth_accept_any: bool = False
    """POST /api/v1/send asks for no login, whatever the UI asks (Mailpit's --send-api-auth-accept-any)."""
    api_cors: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    """Host names the web side answers besides localhost and IP addresses (`*`: any); see web/hosts.py."""
    smtp_max_recipients: int = 100
    smtp_timeout: float = 300
    smtp_max_connections: int = 500
    quiet: bool = False
    max_age_hours: int = 0
    """Messages older than this many hours are deleted (0: kept however old), as Mailpit's --max-age."""
    prune_interval: float = 60
    """Seconds between two runs of the --max-age pruning (Mailpit's: a minute); the first runs at start."""
    tag: str | None = None
    """Mailpit's --tag filters: `tag=match tag2,tag3="quoted match"` (see mailcatch.auto_tags)."""
    tags_config: str | None = None
    """A YAML file of tag filters, as Mailpit's --tags-config."""
    tags_from_x_tags: bool = True
    tags_from_plus_addresses: bool = True
    smtp_allowed_recipients: str | None = None
    """A regular expression: RCPT TO addresses it doesn't find anything in are refused with 550."""
    ignore_duplicate_ids: bool = False
    """A message whose Message-ID is already stored is answered 250 and dropped."""
    smtp_require_tls: bool = False
    """Implicit TLS (SMTPS): every SMTP connection is TLS from its first byte (needs the certificate and key)."""
    smtp_require_starttls: bool = False
    """Commands other than EHLO, NOOP, STARTTLS and QUIT are answered 530 until the client has used STARTTLS."""
    enable_chaos: bool = False
    """Fault injection: Mailpit's /api/v1/chaos and mailcatch's fault rules (/api/v1/faults)."""
    chaos_triggers: str | None = None
    """Mailpit's --chaos-triggers (`Sender:451:10,Recipient:550:5`); turns chaos on."""
    allow_internal_http_requests: bool = False
    """The link check may request loopback, private and other non-public addresses (Mailpit's flag)."""
    link_check_timeout: float = 5
    """Seconds the link check waits on each connection and answer; no flag, for tests."""
    smtp_relay_config: str | None = None
    """A YAML file of the relay's settings (Mailpit's keys), read into `relay` at start."""
    relay: RelayConfig | None = None
    """The SMTP server messages are released and relayed through (None: release is off)."""
    smtp_relay_all: bool = False
    """Relay every new message to its envelope recipients."""
    smtp_relay_matching: str | None = None
    """Relay new messages to the envelope recipients this regular expression finds a match in."""
    webhook_url: str | None = None
    """POST each new message's summary to this URL."""
    webhook_limit: int = 1
    """At most this many webhook requests a second (0: no limit)."""
    webhook_timeout: float = 5
    """Seconds a webhook request may take."""
    dkim_keys: str | None = None
    """A file of DKIM key records by `selector._domainkey.domain`, to verify signatures offline (checks/dkim_keys.py)."""
    dkim_dns: bool = False
    """DKIM keys that are not in the file are looked up in DNS."""
    dkim_dns_server: HostPort | None = None
    """The DNS resolver DKIM look-ups ask (None: the system's); no flag, for tests."""
    enable_spamassassin: str | None = None
    """Mailpit's --enable-spamassassin: spamd's `host:port`, or `unix:/path/to/socket`."""
    spamassassin_timeout: float = 8
    """Seconds a spam check may take, connecting included (Mailpit's: 8)."""

    def __post_init__(self) -> None:
        if self.max_messages < 0:
            raise ConfigError("--max must be 0 (no limit) or more")
        if self.max_message_size <= 0:
            raise ConfigError("--max-message-size must be more than 0")
        if self.max_in_flight is not None:
            if self.max_in_flight < 0:
                raise ConfigError("--max-in-flight must be 0 (no limit) or more")
            if 0 < self.max_in_flight < self.max_message_size:
                raise ConfigError(
                    f"--max-in-flight ({_megabytes(self.max_in_flight)} MB) must be at least --max-message-size"
                    f" ({_megabytes(self.max_message_size)} MB): a message that size could never be accepted"
                )
        if self.smtp_max_recipients < 1:
            raise ConfigError("--smtp-max-recipients must be 1 or more")
        if self.smtp_timeout <= 0:
            raise ConfigError("--smtp-timeout must be more than 0 seconds")
        if self.smtp_max_connections < 1:
            raise ConfigError("--smtp-max-connections must be 1 or more")
        if self.max_age_hours < 0:
            raise ConfigError("--max-age must be 0 or more hours")
        if self.prune_interval <= 0:
            raise ConfigError("the pruning interval must be more than 0 seconds")
        if self.smtp_allowed_recipients:
            try:
                re.compile(self.smtp_allowed_recipients)
            except re.error as error:
                raise ConfigError(
                    f"--smtp-allowed-recipients: {self.smtp_allowed_recipients!r} is not a regular expression: {error}"
                ) from None
        if bool(self.smtp_tls_cert) != bool(self.smtp_tls_key):
            raise ConfigError("--smtp-tls-cert and --smtp-tls-key go together: give both or neither")
        self._check_smtp_tls()
        if self.send_api_auth_file and self.send_api_auth_accept_any:
            raise ConfigError("--send-api-auth-file and --send-api-auth-accept-any can't be used together")
        for name in (
            "smtp_auth_file",
            "smtp_tls_cert",
            "smtp_tls_key",
            "ui_auth_file",
            "send_api_auth_file",
            "tags_config",
        ):
            path = getattr(self, name)
            if path and not Path(path).is_file():
                flag = "--" + name.replace("_", "-")
                raise ConfigError(f"{flag}: no such file: {path}")

        self.tag_filters()  # a bad --tag or --tags-config stops the start, with what was wrong
        self._check_relay()
        self._check_webhook()
        self._check_message_checks()

    def _check_smtp_tls(self) -> None:
        """--smtp-require-tls and --smtp-require-starttls need the certificate, and exclude each other (as in Mailpit)."""
        for flag, required in (
            ("--smtp-require-tls", self.smtp_require_tls),
            ("--smtp-require-starttls", self.smtp_require_starttls),
        ):
            if required and not self.smtp_tls_cert:
                raise ConfigError(f"{flag} needs a certificate and key: give --smtp-tls-cert and --smtp-tls-key")
        if self.smtp_require_tls and self.smtp_require_starttls:
            raise ConfigError(
                "--smtp-require-tls and --smtp-require-starttls can't be used together: the first makes every"
                " connection TLS from its start, the second asks for STARTTLS on a plain one"
            )
        if self.chaos_triggers:
            from mailcatch.smtp.faults import parse_chaos_triggers

            parse_chaos_triggers(self.chaos_triggers)  # a bad value stops the start, with what was wrong

    def _check_relay(self) -> None:
        if self.smtp_relay_config and self.relay is None:
            from mailcatch.relay import read_relay_config

            object.__setattr__(self, "relay", read_relay_config(self.smtp_relay_config))
        if self.smtp_relay_all and self.smtp_relay_matching:
            raise ConfigError("--smtp-relay-all and --smtp-relay-matching can't be used together")
        if (self.smtp_relay_all or self.smtp_relay_matching) and self.relay is None:
            flag = "--smtp-relay-all" if self.smtp_relay_all else "--smtp-relay-matching"
            raise ConfigError(f"{flag} needs a relay server: --smtp-relay-config FILE or MP_SMTP_RELAY_HOST")
        if self.smtp_relay_matching:
            try:
                re.compile(self.smtp_relay_matching)
            except re.error as error:
                raise ConfigError(
                    f"--smtp-relay-matching: {self.smtp_relay_matching!r} is not a regular expression: {error}"
                ) from None

    def _check_webhook(self) -> None:
        if self.webhook_limit < 0:
            raise ConfigError("--webhook-limit must be 0 (no limit) or more")
        if self.webhook_timeout <= 0:
            raise ConfigError("the webhook timeout must be more than 0 seconds")
        if self.webhook_url:
            from mailcatch.webhooks import check_webhook_url

            problem = check_webhook_url(self.webhook_url)
            if problem:
                raise ConfigError(f"--webhook-url: {problem}")

    def _check_message_checks(self) -> None:
        """--dkim-keys must be a file that reads; --enable-spamassassin an address spamd can listen on."""
        if self.dkim_keys:
            from mailcatch.checks.dkim_keys import read_dkim_keys

            read_dkim_keys(self.dkim_keys)  # a bad file stops the start, with the line that is wrong
        if self.enable_spamassassin:
            from mailcatch.checks.spam import spamd_address

            spamd_address(self.enable_spamassassin)
        if self.spamassassin_timeout <= 0:
            raise ConfigError("the SpamAssassin timeout must be more than 0 seconds")

    def tag_filters(self) -> list[TagFilter]:
        """The filters of --tag, then those of --tags-config; ConfigError if either can't be read."""
        from mailcatch.auto_tags import parse_tag_flag, read_tags_config

        filters = parse_tag_flag(self.tag) if self.tag else []
        if self.tags_config:
            filters += read_tags_config(self.tags_config)
        return filters

    @property
    def smtp_tls_mode(self) -> str:
        """Which TLS the SMTP server speaks, as the start-up line says it."""
        if not self.smtp_tls_cert:
            return "no TLS"
        if self.smtp_require_tls:
            return "implicit TLS (SMTPS) required"
        return "STARTTLS required" if self.smtp_require_starttls else "STARTTLS optional"

    @property
    def in_flight_budget(self) -> int:
        """Bytes of message data the SMTP sessions may hold in memory at once (0: no limit)."""
        if self.max_in_flight is not None:
            return self.max_in_flight
        return max(DEFAULT_MAX_IN_FLIGHT, self.max_message_size)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


# (flag, environment variable, metavar, help); the table the README documents.
FLAGS: tuple[tuple[str, str | None, str | None, str], ...] = (
    (
        "--smtp",
        "MAILCATCH_SMTP",
        "HOST:PORT",
        "SMTP address to listen on (default 127.0.0.1:1025; port 0 picks a free port)",
    ),
    ("--listen", "MAILCATCH_LISTEN", "HOST:PORT", "HTTP address of the web UI and API (default 127.0.0.1:8025)"),
    (
        "--database",
        "MAILCATCH_DATABASE",
        "PATH",
        "keep messages in this SQLite file, or in PostgreSQL: a postgresql:// URL (default: in memory)",
    ),
    ("--max", "MAILCATCH_MAX", "N", "keep only the newest N messages, 0 for no limit (default 5000)"),
    (
        "--max-message-size",
        "MAILCATCH_MAX_MESSAGE_SIZE",
        "MB",
        "largest message accepted, in MB; larger ones get 552 (default 50)",
    ),
    (
        "--max-in-flight",
        "MAILCATCH_MAX_IN_FLIGHT",
        "MB",
        "message data all SMTP sessions may hold in memory at once, in MB, 0 for no limit; a message that"
        " would go beyond it gets 452, try again later (default 100, or --max-message-size if larger)",
    ),
    (
        "--smtp-auth-file",
        "MAILCATCH_SMTP_AUTH_FILE",
        "FILE",
        "file of user:password lines (plain, or htpasswd hashes: bcrypt, $6$, $5$, $apr1$): only these may log in, and login is required (default: any credentials accepted, login optional)",
    ),
    (
        "--smtp-tls-cert",
        None,
        "FILE",
        "PEM certificate for STARTTLS, or for implicit TLS with --smtp-require-tls (with --smtp-tls-key)",
    ),
    ("--smtp-tls-key", None, "FILE", "PEM private key of --smtp-tls-cert"),
    (
        "--smtp-require-tls",
        "MAILCATCH_SMTP_REQUIRE_TLS",
        None,
        "implicit TLS (SMTPS, as on port 465): every SMTP connection is TLS from its first byte, with the"
        " --smtp-tls-cert certificate, and no STARTTLS (default: plain connections, STARTTLS offered with a certificate)",
    ),
    (
        "--smtp-require-starttls",
        "MAILCATCH_SMTP_REQUIRE_STARTTLS",
        None,
        "commands other than EHLO, NOOP, STARTTLS and QUIT get 530 5.7.0 until the client has used STARTTLS"
        " (needs --smtp-tls-cert; also --smtp-tls-required)",
    ),
    (
        "--ui-auth-file",
        "MAILCATCH_UI_AUTH_FILE",
        "FILE",
        "file of user:password lines (plain, or htpasswd hashes: bcrypt, $6$, $5$, $apr1$): HTTP basic auth over the UI, API and websocket (default: none)",
    ),
    (
        "--send-api-auth-file",
        "MAILCATCH_SEND_API_AUTH_FILE",
        "FILE",
        "file of user:password lines (as --ui-auth-file's): the logins POST /api/v1/send asks for, in place of"
        " the UI's; they open nothing else (default: the --ui-auth-file login, if any)",
    ),
    (
        "--send-api-auth-accept-any",
        "MAILCATCH_SEND_API_AUTH_ACCEPT_ANY",
        None,
        "POST /api/v1/send asks for no login (any, or none, is accepted), whatever --ui-auth-file asks of the rest",
    ),
    (
        "--api-cors",
        "MAILCATCH_API_CORS",
        "ORIGINS",
        "comma-separated origins (https://app.example.com, or a bare host name for any scheme and port) whose pages may call the API and open the websocket; * for any (default: none, same origin only)",
    ),
    (
        "--allowed-hosts",
        "MAILCATCH_ALLOWED_HOSTS",
        "HOSTS",
        "comma-separated host names the web UI and API answer besides localhost and IP addresses"
        " (mailcatch.internal, or *.example.test for its subdomains); requests naming another host"
        " get 403, against DNS rebinding; * answers any (default: none)",
    ),
    (
        "--smtp-max-recipients",
        "MAILCATCH_SMTP_MAX_RECIPIENTS",
        "N",
        "recipients per message; more get 452 (default 100)",
    ),
    (
        "--smtp-timeout",
        "MAILCATCH_SMTP_TIMEOUT",
        "SECONDS",
        "close an idle SMTP connection with 421 after this long (default 300)",
    ),
    (
        "--smtp-max-connections",
        "MAILCATCH_SMTP_MAX_CONNECTIONS",
        "N",
        "SMTP connections at once; more get 421 (default 500)",
    ),
    (
        "--max-age",
        "MAILCATCH_MAX_AGE",
        "AGE",
        "delete messages older than this, in hours (36h) or days (14d), checked at start and every minute"
        " (default: kept however old)",
    ),
    (
        "--tag",
        "MAILCATCH_TAG",
        "FILTERS",
        "tag new messages matching filters: space-separated tag=match items, several tags split by commas,"
        ' quotes around spaces: \'invoice=subject:invoice "Tag 1,Tag 2"="X-Mailer: app"\'; a match is a search'
        " (from:, subject:, words...) or text found anywhere in the raw message, case ignored",
    ),
    (
        "--tags-config",
        "MAILCATCH_TAGS_CONFIG",
        "FILE",
        "YAML file of tag filters, added to --tag's: `filters:`, a list of `- match: ...` with `tags: Tag 1, Tag 2`",
    ),
    (
        "--tags-disable",
        "MAILCATCH_TAGS_DISABLE",
        "SOURCES",
        "comma-separated automatic tags not to give: plus-addresses (user+tag@example.com), x-tags (the"
        " X-Tags header) (default: both given)",
    ),
    (
        "--smtp-allowed-recipients",
        "MAILCATCH_SMTP_ALLOWED_RECIPIENTS",
        "REGEXP",
        "accept only RCPT TO addresses in which this regular expression finds a match ('@example\\.com$');"
        " others get 550 5.1.0 (default: all accepted)",
    ),
    (
        "--ignore-duplicate-ids",
        "MAILCATCH_IGNORE_DUPLICATE_IDS",
        None,
        "a message whose Message-ID is already stored is answered 250 and dropped (also --smtp-ignore-duplicate-ids)",
    ),
    (
        "--smtp-relay-config",
        "MAILCATCH_SMTP_RELAY_CONFIG",
        "FILE",
        "YAML file of the SMTP server messages are released through (Mailpit's keys: host, port, starttls, tls,"
        " allow-insecure, auth, username, password, secret, return-path, override-from, allowed-recipients,"
        " blocked-recipients, preserve-message-ids); MP_SMTP_RELAY_HOST and the other MP_SMTP_RELAY_*"
        " variables set it without a file (default: release off)",
    ),
    (
        "--smtp-relay-all",
        "MAILCATCH_SMTP_RELAY_ALL",
        None,
        "also relay every new message to its envelope recipients through the relay server (caution!)",
    ),
    (
        "--smtp-relay-matching",
        "MAILCATCH_SMTP_RELAY_MATCHING",
        "REGEXP",
        "relay new messages to the envelope recipients in which this regular expression finds a match"
        " ('@example\\.com$') through the relay server",
    ),
    (
        "--webhook-url",
        "MAILCATCH_WEBHOOK_URL",
        "URL",
        "POST each new message's summary (JSON) to this URL; user:password@ in it is basic auth (default: none)",
    ),
    (
        "--webhook-limit",
        "MAILCATCH_WEBHOOK_LIMIT",
        "N",
        "webhook requests a second at most, 0 for no limit; messages beyond it get none (default 1)",
    ),
    (
        "--allow-internal-http-requests",
        "MAILCATCH_ALLOW_INTERNAL_HTTP_REQUESTS",
        None,
        "let the link check (GET /api/v1/message/{ID}/link-check) request loopback, private, link-local and"
        " other non-public addresses, which a message's links could use to reach services on the catcher's"
        " network (default: such links are reported blocked and never requested)",
    ),
    (
        "--enable-chaos",
        "MAILCATCH_ENABLE_CHAOS",
        None,
        "fault injection, for testing an app's retry paths: Mailpit's chaos (PUT /api/v1/chaos) and"
        " mailcatch's fault rules (POST /api/v1/faults) (default: off)",
    ),
    (
        "--chaos-triggers",
        "MAILCATCH_CHAOS_TRIGGERS",
        "TRIGGERS",
        "turn chaos on with these triggers: comma-separated key:code:probability, keys Sender, Recipient and"
        " Authentication, probability 0-100 percent ('Sender:451:10,Recipient:550:5')",
    ),
    (
        "--dkim-keys",
        "MAILCATCH_DKIM_KEYS",
        "FILE",
        "DKIM public keys for GET /api/v1/message/{ID}/dkim, offline: lines `selector._domainkey.example.com"
        " v=DKIM1; k=rsa; p=...` or zone-file TXT records, # comments (default: none)",
    ),
    (
        "--dkim-dns",
        "MAILCATCH_DKIM_DNS",
        None,
        "look up DKIM keys that --dkim-keys lacks in DNS (default: off, the catcher stays offline)",
    ),
    (
        "--enable-spamassassin",
        "MAILCATCH_ENABLE_SPAMASSASSIN",
        "HOST:PORT",
        "score messages with this SpamAssassin spamd (or unix:/path/to/socket):"
        " GET /api/v1/message/{ID}/sa-check (default: off)",
    ),
    (
        "--quiet",
        None,
        None,
        "log only warnings and errors, not each message (the start-up and shutdown lines are still shown)",
    ),
)

ALIASES: dict[str, tuple[str, ...]] = {
    "--ignore-duplicate-ids": ("--smtp-ignore-duplicate-ids",),
    "--smtp-require-starttls": ("--smtp-tls-required",),
}
"""Other names a flag is accepted under."""

MAILPIT_ENV: dict[str, tuple[str, ...]] = {
    "--smtp": ("MP_SMTP_BIND_ADDR",),
    "--listen": ("MP_UI_BIND_ADDR",),
    "--database": ("MP_DATABASE", "MP_DATA_FILE"),
    "--max": ("MP_MAX_MESSAGES",),
    "--smtp-auth-file": ("MP_SMTP_AUTH_FILE",),
    "--smtp-tls-cert": ("MP_SMTP_TLS_CERT",),
    "--smtp-tls-key": ("MP_SMTP_TLS_KEY",),
    "--ui-auth-file": ("MP_UI_AUTH_FILE",),
    "--send-api-auth-file": ("MP_SEND_API_AUTH_FILE",),
    "--send-api-auth-accept-any": ("MP_SEND_API_AUTH_ACCEPT_ANY",),
    "--api-cors": ("MP_API_CORS",),
    "--smtp-max-recipients": ("MP_SMTP_MAX_RECIPIENTS",),
    "--max-age": ("MP_MAX_AGE",),
    "--tag": ("MP_TAG",),
    "--tags-config": ("MP_TAGS_CONFIG",),
    "--tags-disable": ("MP_TAGS_DISABLE",),
    "--smtp-allowed-recipients": ("MP_SMTP_ALLOWED_RECIPIENTS",),
    "--ignore-duplicate-ids": ("MP_IGNORE_DUPLICATE_IDS",),
    "--smtp-require-tls": ("MP_SMTP_REQUIRE_TLS",),
    "--smtp-require-starttls": ("MP_SMTP_REQUIRE_STARTTLS", "MP_SMTP_TLS_REQUIRED"),
    "--enable-chaos": ("MP_ENABLE_CHAOS",),
    "--chaos-triggers": ("MP_CHAOS_TRIGGERS",),
    "--allow-internal-http-requests": ("MP_ALLOW_INTERNAL_HTTP_REQUESTS",),
    "--smtp-relay-config": ("MP_SMTP_RELAY_CONFIG",),
    "--smtp-relay-all": ("MP_SMTP_RELAY_ALL",),
    "--smtp-relay-matching": ("MP_SMTP_RELAY_MATCHING",),
    "--webhook-url": ("MP_WEBHOOK_URL",),
    "--webhook-limit": ("MP_WEBHOOK_LIMIT",),
    "--enable-spamassassin": ("MP_ENABLE_SPAMASSASSIN",),
    "--quiet": ("MP_QUIET",),
}
"""Mailpit's environment variables read for our flags, so that a Mailpit compose file works unchanged;
a flag given, then its MAILCATCH_* variable, win over them."""

_TRUE = ("1", "true", "yes")
"""Values of an environment variable that turn a switch on (Mailpit's, case ignored)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mailcatch",
        description="Catch the mail your app sends: a fake SMTP server that keeps every message "
        "and shows it in a web UI, a Mailpit-compatible API and a pytest plugin.",
        epilog="Each flag with environment variables in brackets can also be set through them (a switch"
        " with 1, true or yes); a flag given on the command line wins, then MAILCATCH_*, then Mailpit's MP_*."
        " `mailcatch sendmail [flags] [recipient ...] < message` sends a message to a catcher as sendmail"
        " does (see `mailcatch sendmail --help`).",
    )
    for flag, env, metavar, text in FLAGS:
        variables = [v for v in (env, *MAILPIT_ENV.get(flag, ())) if v]
        help_text = f"{text} [{', '.join(variables)}]" if variables else text
        names = (flag, *ALIASES.get(flag, ()))
        if metavar is None:
            parser.add_argument(*names, action="store_true", default=None, help=help_text)
        else:
            parser.add_argument(*names, metavar=metavar, help=help_text)
    parser.add_argument("--version", action="version", version=f"mailcatch {__version__}")
    return parser


def _number(flag: str, text: str, kind: type[int] | type[float]) -> float:
    try:
        return kind(text)
    except ValueError:
        raise ConfigError(f"{flag}: {text!r} is not a {'whole ' if kind is int else ''}number") from None


def max_age_hours(text: str) -> int:
    """Mailpit's --max-age: a whole number of hours (`36h`) or days (`14d`); `0h` keeps messages however old."""
    found = re.fullmatch(r"(\d+)([hd])", text.strip())
    if not found:
        raise ConfigError(f"--max-age: {text!r} must be a whole number of hours or days, as 36h or 14d")
    number = int(found.group(1))
    return number * 24 if found.group(2) == "d" else number


def tags_disabled(text: str) -> set[str]:
    """The automatic tag sources --tags-disable names: `plus-addresses` and/or `x-tags` (Mailpit's spellings)."""
    spellings = {"plus-addresses": "plus-addresses", "plus-addressing": "plus-addresses", "x-tags": "x-tags"}
    spellings["xtags"] = "x-tags"
    disabled = set()
    for part in text.lower().split(","):
        part = part.strip()
        if part not in spellings:
            raise ConfigError(f"--tags-disable: {part!r} is not plus-addresses or x-tags")
        disabled.add(spellings[part])
    return disabled


def from_args(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from command-line flags, falling back to MAILCATCH_* variables, then defaults."""
    environ = os.environ if environ is None else environ
    args = vars(build_parser().parse_args(argv))
    values: dict[str, str] = {}
    switches: dict[str, bool] = {}
    for flag, env, metavar, _ in FLAGS:
        given = args.get(flag[2:].replace("-", "_"))
        if given is None:
            given = next((environ[v] for v in (env, *MAILPIT_ENV.get(flag, ())) if v and environ.get(v)), None)
        if metavar is None:
            switches[flag] = given is True or (isinstance(given, str) and given.strip().lower() in _TRUE)
        elif given is not None:
            values[flag] = given
    kwargs: dict[str, object] = {
        "quiet": switches["--quiet"],
        "allow_internal_http_requests": switches["--allow-internal-http-requests"],
        "ignore_duplicate_ids": switches["--ignore-duplicate-ids"],
        "smtp_require_tls": switches["--smtp-require-tls"],
        "smtp_require_starttls": switches["--smtp-require-starttls"],
        "enable_chaos": switches["--enable-chaos"],
        "send_api_auth_accept_any": switches["--send-api-auth-accept-any"],
        "smtp_relay_all": switches["--smtp-relay-all"],
        "dkim_dns": switches["--dkim-dns"],
    }
    _relay_kwargs(values, environ, kwargs)
    if "--max-age" in values:
        kwargs["max_age_hours"] = max_age_hours(values["--max-age"])
    if "--tags-disable" in values:
        disabled = tags_disabled(values["--tags-disable"])
        kwargs["tags_from_x_tags"] = "x-tags" not in disabled
        kwargs["tags_from_plus_addresses"] = "plus-addresses" not in disabled
    for flag in ("--tag", "--tags-config", "--smtp-allowed-recipients", "--chaos-triggers", "--dkim-keys"):
        if values.get(flag, "").strip():
            kwargs[flag[2:].replace("-", "_")] = values[flag]
    if values.get("--enable-spamassassin", "").strip():
        kwargs["enable_spamassassin"] = values["--enable-spamassassin"].strip()
    if "--smtp" in values:
        kwargs["smtp"] = HostPort.parse(values["--smtp"])
    if "--listen" in values:
        kwargs["listen"] = HostPort.parse(values["--listen"])
    if "--database" in values:
        kwargs["database"] = values["--database"]
    if "--max" in values:
        kwargs["max_messages"] = int(_number("--max", values["--max"], int))
    if "--max-message-size" in values:
        megabytes = _number("--max-message-size", values["--max-message-size"], float)
        kwargs["max_message_size"] = int(megabytes * 1024 * 1024)
    if "--max-in-flight" in values:
        megabytes = _number("--max-in-flight", values["--max-in-flight"], float)
        kwargs["max_in_flight"] = int(megabytes * 1024 * 1024)
    if "--smtp-max-recipients" in values:
        kwargs["smtp_max_recipients"] = int(_number("--smtp-max-recipients", values["--smtp-max-recipients"], int))
    if "--smtp-timeout" in values:
        kwargs["smtp_timeout"] = _number("--smtp-timeout", values["--smtp-timeout"], float)
    if "--smtp-max-connections" in values:
        kwargs["smtp_max_connections"] = int(_number("--smtp-max-connections", values["--smtp-max-connections"], int))
    if "--api-cors" in values:
        kwargs["api_cors"] = tuple(o.strip() for o in values["--api-cors"].split(",") if o.strip())
    if "--allowed-hosts" in values:
        kwargs["allowed_hosts"] = tuple(h.strip() for h in values["--allowed-hosts"].split(",") if h.strip())
    for flag in ("--smtp-auth-file", "--smtp-tls-cert", "--smtp-tls-key", "--ui-auth-file", "--send-api-auth-file"):
        if flag in values:
            kwargs[flag[2:].replace("-", "_")] = values[flag]
    return Settings(**kwargs)  # type: ignore[arg-type]


def _relay_kwargs(values: dict[str, str], environ: Mapping[str, str], kwargs: dict[str, object]) -> None:
    """The relay's and webhook's settings: its file, or else its MP_SMTP_RELAY_* variables; the URL and limit."""
    from mailcatch.relay import relay_config_from_env

    if values.get("--smtp-relay-config", "").strip():
        kwargs["smtp_relay_config"] = values["--smtp-relay-config"]
    else:
        kwargs["relay"] = relay_config_from_env(environ)
    if values.get("--smtp-relay-matching", "").strip():
        kwargs["smtp_relay_matching"] = values["--smtp-relay-matching"]
    if values.get("--webhook-url", "").strip():
        kwargs["webhook_url"] = values["--webhook-url"].strip()
    if "--webhook-limit" in values:
        kwargs["webhook_limit"] = int(_number("--webhook-limit", values["--webhook-limit"], int))
