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
        for name in ("smtp_auth_file", "smtp_tls_cert", "smtp_tls_key", "ui_auth_file", "tags_config"):
            path = getattr(self, name)
            if path and not Path(path).is_file():
                flag = "--" + name.replace("_", "-")
                raise ConfigError(f"{flag}: no such file: {path}")

        self.tag_filters()  # a bad --tag or --tags-config stops the start, with what was wrong

    def tag_filters(self) -> list[TagFilter]:
        """The filters of --tag, then those of --tags-config; ConfigError if either can't be read."""
        from mailcatch.auto_tags import parse_tag_flag, read_tags_config

        filters = parse_tag_flag(self.tag) if self.tag else []
        if self.tags_config:
            filters += read_tags_config(self.tags_config)
        return filters

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
    ("--database", "MAILCATCH_DATABASE", "PATH", "keep messages in this SQLite file (default: in memory)"),
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
    ("--smtp-tls-cert", None, "FILE", "PEM certificate for STARTTLS (with --smtp-tls-key)"),
    ("--smtp-tls-key", None, "FILE", "PEM private key for STARTTLS (with --smtp-tls-cert)"),
    (
        "--ui-auth-file",
        "MAILCATCH_UI_AUTH_FILE",
        "FILE",
        "file of user:password lines (plain, or htpasswd hashes: bcrypt, $6$, $5$, $apr1$): HTTP basic auth over the UI, API and websocket (default: none)",
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
    ("--quiet", None, None, "log only warnings and errors, not each message"),
)

ALIASES: dict[str, tuple[str, ...]] = {"--ignore-duplicate-ids": ("--smtp-ignore-duplicate-ids",)}
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
    "--api-cors": ("MP_API_CORS",),
    "--smtp-max-recipients": ("MP_SMTP_MAX_RECIPIENTS",),
    "--max-age": ("MP_MAX_AGE",),
    "--tag": ("MP_TAG",),
    "--tags-config": ("MP_TAGS_CONFIG",),
    "--tags-disable": ("MP_TAGS_DISABLE",),
    "--smtp-allowed-recipients": ("MP_SMTP_ALLOWED_RECIPIENTS",),
    "--ignore-duplicate-ids": ("MP_IGNORE_DUPLICATE_IDS",),
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
        " with 1, true or yes); a flag given on the command line wins, then MAILCATCH_*, then Mailpit's MP_*.",
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
        "ignore_duplicate_ids": switches["--ignore-duplicate-ids"],
    }
    if "--max-age" in values:
        kwargs["max_age_hours"] = max_age_hours(values["--max-age"])
    if "--tags-disable" in values:
        disabled = tags_disabled(values["--tags-disable"])
        kwargs["tags_from_x_tags"] = "x-tags" not in disabled
        kwargs["tags_from_plus_addresses"] = "plus-addresses" not in disabled
    for flag in ("--tag", "--tags-config", "--smtp-allowed-recipients"):
        if values.get(flag, "").strip():
            kwargs[flag[2:].replace("-", "_")] = values[flag]
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
    for flag in ("--smtp-auth-file", "--smtp-tls-cert", "--smtp-tls-key", "--ui-auth-file"):
        if flag in values:
            kwargs[flag[2:].replace("-", "_")] = values[flag]
    return Settings(**kwargs)  # type: ignore[arg-type]
