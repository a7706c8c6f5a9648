"""The relay's settings: the SMTP server released and relayed mail goes through, read from a YAML file or the environment.

The file's keys, and the MP_SMTP_RELAY_* environment variables, are Mailpit's (see the README's
"Release and relay"), so a Mailpit relay configuration works unchanged. MAILCATCH_SMTP_RELAY_*
variables, where set, win over the MP_* ones. Credentials are never command-line flags: a
command line is visible to every user of the machine.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailcatch.errors import ConfigError

__all__ = ["RelayConfig", "read_relay_config", "relay_config_from_env"]

AUTH_METHODS = ("none", "plain", "login", "cram-md5")

_KEYS: dict[str, str] = {
    "host": "host",
    "port": "port",
    "starttls": "starttls",
    "tls": "tls",
    "allow-insecure": "allow_insecure",
    "auth": "auth",
    "username": "username",
    "password": "password",
    "secret": "secret",
    "return-path": "return_path",
    "override-from": "override_from",
    "allowed-recipients": "allowed_recipients",
    "recipient-allowlist": "allowed_recipients",  # Mailpit's older name
    "blocked-recipients": "blocked_recipients",
    "preserve-message-ids": "preserve_message_ids",
}
"""The file's keys (Mailpit's spellings) and the RelayConfig field each sets."""

_SWITCHES = ("starttls", "tls", "allow_insecure", "preserve_message_ids")
_TRUE = ("1", "true", "yes")


@dataclass(frozen=True)
class RelayConfig:
    """Where and how released and relayed messages are sent; validated when built."""

    host: str
    port: int = 25
    starttls: bool = False
    """Upgrade the connection with STARTTLS (and fail if the server doesn't offer it)."""
    tls: bool = False
    """Speak TLS from the first byte (SMTPS, usually port 465)."""
    allow_insecure: bool = False
    """Accept any certificate (self-signed, wrong name)."""
    auth: str = "none"
    """none, plain, login or cram-md5."""
    username: str = ""
    password: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)
    """The CRAM-MD5 secret."""
    return_path: str = ""
    """Released messages get this Return-Path header and envelope sender."""
    override_from: str = ""
    """Relayed messages' From address (and envelope sender) is replaced by this one, the name kept."""
    allowed_recipients: str = ""
    """A regular expression: a release may only go to addresses it finds a match in."""
    blocked_recipients: str = ""
    """A regular expression: addresses it finds a match in are never relayed to."""
    preserve_message_ids: bool = False
    """Released messages keep their Message-ID instead of getting a new one."""

    def __post_init__(self) -> None:
        if not self.host.strip():
            raise ConfigError("SMTP relay: host not set")
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"SMTP relay: port {self.port} is not between 1 and 65535")
        if self.starttls and self.tls:
            raise ConfigError("SMTP relay: starttls and tls can't both be on (tls speaks TLS from the start)")
        auth = _auth_method(self.auth)
        object.__setattr__(self, "auth", auth)
        if auth in ("plain", "login") and not (self.username and self.password):
            raise ConfigError(f"SMTP relay: username or password not set for {auth.upper()} authentication")
        if auth == "cram-md5" and not (self.username and self.secret):
            raise ConfigError("SMTP relay: username or secret not set for CRAM-MD5 authentication")
        for name in ("allowed_recipients", "blocked_recipients"):
            pattern = getattr(self, name)
            try:
                re.compile(pattern)
            except re.error as error:
                key = name.replace("_", "-")
                raise ConfigError(f"SMTP relay: {key} {pattern!r} is not a regular expression: {error}") from None
        if self.override_from:
            object.__setattr__(self, "override_from", _address("override-from", self.override_from))
        if self.return_path:
            object.__setattr__(self, "return_path", _address("return-path", self.return_path))

    @property
    def server(self) -> str:
        """`host:port`, as /api/v1/webui shows it."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def allowed(self, address: str) -> bool:
        """Whether a release may go to this address (allowed-recipients)."""
        return not self.allowed_recipients or re.search(self.allowed_recipients, address) is not None

    def blocked(self, address: str) -> bool:
        """Whether this address is never relayed to (blocked-recipients)."""
        return bool(self.blocked_recipients) and re.search(self.blocked_recipients, address) is not None


def _auth_method(text: str) -> str:
    method = (text or "none").strip().lower()
    if method in ("", "none", "false"):
        return "none"
    if method.startswith("cram"):
        return "cram-md5"
    if method not in AUTH_METHODS:
        raise ConfigError(f"SMTP relay: authentication method {text!r} is not none, plain, login or cram-md5")
    return method


def _address(key: str, text: str) -> str:
    """The bare address of `Name <user@host>` or `user@host`; ConfigError if there is none."""
    _, address = email.utils.parseaddr(text.strip())
    if "@" not in address or any(c.isspace() for c in address):
        raise ConfigError(f"SMTP relay: {key} {text!r} is not an email address")
    return address


def _build(values: Mapping[str, Any], where: str) -> RelayConfig:
    fields: dict[str, Any] = {}
    for key, value in values.items():
        name = _KEYS.get(str(key).lower())
        if name is None:
            known = ", ".join(k for k in _KEYS if k != "recipient-allowlist")
            raise ConfigError(f"{where}: unknown key {key!r} (known: {known})")
        if value is None:
            continue
        if name in _SWITCHES:
            if isinstance(value, str):
                value = value.strip().lower() in _TRUE
            elif not isinstance(value, bool):
                raise ConfigError(f"{where}: {key} must be true or false")
        elif name == "port":
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise ConfigError(f"{where}: port {value!r} is not a number") from None
        else:
            value = str(value)
        if name == "allowed_recipients" and fields.get(name):
            continue  # allowed-recipients wins over the older recipient-allowlist
        fields[name] = value
    if not fields.get("host"):
        raise ConfigError(f"{where}: host not set")
    try:
        return RelayConfig(**fields)
    except ConfigError as error:
        raise ConfigError(f"{where}: {str(error).removeprefix('SMTP relay: ')}") from None


def read_relay_config(path: str) -> RelayConfig:
    """The relay configuration in a YAML file (--smtp-relay-config); ConfigError saying what is wrong."""
    import yaml

    where = f"--smtp-relay-config {path}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"--smtp-relay-config: no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{where}: can't be read: {error}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{where}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: must be a YAML mapping of keys (host: ..., port: ...)")
    return _build(data, where)


def relay_config_from_env(environ: Mapping[str, str]) -> RelayConfig | None:
    """The relay configuration of MAILCATCH_SMTP_RELAY_* / MP_SMTP_RELAY_* variables; None without a host."""
    values: dict[str, str] = {}
    for key in _KEYS:
        if key == "recipient-allowlist":
            continue
        suffix = key.upper().replace("-", "_")
        for prefix in ("MAILCATCH_SMTP_RELAY_", "MP_SMTP_RELAY_"):
            value = environ.get(prefix + suffix)
            if value:
                values[key] = value
                break
    if not values.get("host"):
        return None
    return _build(values, "SMTP relay (environment)")
