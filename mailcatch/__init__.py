"""mailcatch: a developer mail catcher with a live web UI, a Mailpit-compatible API and a pytest plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Catcher", "MailTimeout", "Mailbox", "Message", "__version__"]

if TYPE_CHECKING:
    from mailcatch.catcher import Catcher
    from mailcatch.client.captured import Message
    from mailcatch.client.http import Mailbox, MailTimeout

_LAZY = {
    "Catcher": "mailcatch.catcher",
    "MailTimeout": "mailcatch.client.http",
    "Mailbox": "mailcatch.client.http",
    "Message": "mailcatch.client.captured",
}


def __getattr__(name: str) -> Any:
    """Import the public classes on first use, so `import mailcatch` (and the pytest plugin) stay cheap."""
    if name not in _LAZY:
        raise AttributeError(f"module 'mailcatch' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
