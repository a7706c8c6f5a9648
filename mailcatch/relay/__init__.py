"""Release and relay: sending captured messages on through a real SMTP server.

`config` reads the relay's settings (Mailpit's YAML keys and MP_SMTP_RELAY_* variables),
`rewrite` makes the header changes a release makes, `client` sends through the server on a
thread, and `auto` relays new messages as they arrive (--smtp-relay-all, --smtp-relay-matching).
"""

from mailcatch.relay.client import RelayError, send
from mailcatch.relay.config import RelayConfig, read_relay_config, relay_config_from_env
from mailcatch.relay.rewrite import Released, release_rewrite, sender_of

__all__ = [
    "RelayConfig",
    "RelayError",
    "Released",
    "read_relay_config",
    "relay_config_from_env",
    "release_rewrite",
    "send",
    "sender_of",
]
