"""Settings: defaults, MAILCATCH_* environment variables, command-line flags and their validation."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mailcatch import __version__
from mailcatch.errors import ConfigError


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
        if bool(self.smtp_tls_cert) != bool(self.smtp_tls_key):
            raise ConfigError("--smtp-tls-cert and --smtp-tls-key go together: give both or neither")
        for name in ("smtp_auth_file", "smtp_tls_cert", "smtp_tls_key", "ui_auth_file"):
            path = getattr(self, name)
            if path and not Path(path).is_file():
                flag = "--" + name.replace("_", "-")
                raise ConfigError(f"{flag}: no such file: {path}")

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
    ("--quiet", None, None, "log only warnings and errors, not each message"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mailcatch",
        description="Catch the mail your app sends: a fake SMTP server that keeps every message "
        "and shows it in a web UI, a Mailpit-compatible API and a pytest plugin.",
        epilog="Each flag with an environment variable in brackets can also be set through it; "
        "a flag given on the command line wins.",
    )
    for flag, env, metavar, text in FLAGS:
        help_text = f"{text} [{env}]" if env else text
        if metavar is None:
            parser.add_argument(flag, action="store_true", help=help_text)
        else:
            parser.add_argument(flag, metavar=metavar, help=help_text)
    parser.add_argument("--version", action="version", version=f"mailcatch {__version__}")
    return parser


def _number(flag: str, text: str, kind: type[int] | type[float]) -> float:
    try:
        return kind(text)
    except ValueError:
        raise ConfigError(f"{flag}: {text!r} is not a {'whole ' if kind is int else ''}number") from None


def from_args(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from command-line flags, falling back to MAILCATCH_* variables, then defaults."""
    environ = os.environ if environ is None else environ
    args = vars(build_parser().parse_args(argv))
    values: dict[str, str] = {}
    for flag, env, metavar, _ in FLAGS:
        key = flag[2:].replace("-", "_")
        given = args.get(key)
        if metavar is None:
            continue
        if given is None and env and environ.get(env):
            given = environ[env]
        if given is not None:
            values[flag] = given
    kwargs: dict[str, object] = {"quiet": bool(args.get("quiet"))}
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
