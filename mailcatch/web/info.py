"""GET /api/v1/info and GET /api/v1/webui: Mailpit's fields where they apply, plus where to send mail."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mailcatch import __version__
from mailcatch.config import HostPort, Settings
from mailcatch.storage import shown_database
from mailcatch.web.requests import store_of
from mailcatch.web.send import accepted_over_http
from mailcatch.web.ws import EventsHub

__all__ = ["memory_in_use", "routes", "smtp_address"]


def memory_in_use() -> int:
    """This process's resident memory in bytes (its peak where the current figure isn't available)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def smtp_address(request: Request) -> HostPort:
    """The SMTP address clients should send to: the bound one (a port 0 resolved), wildcards as loopback."""
    settings: Settings = request.app.state.settings
    address: HostPort = getattr(request.app.state, "smtp_address", None) or settings.smtp
    if address.host in ("0.0.0.0", "::", ""):
        return HostPort("127.0.0.1" if address.host != "::" else "::1", address.port)
    return address


def _smtp_json(request: Request) -> dict[str, Any]:
    address = smtp_address(request)
    return {"Host": address.host, "Port": address.port, "Address": str(address)}


async def info(request: Request) -> Response:
    store = store_of(request)
    settings: Settings = request.app.state.settings
    usage = await store.usage()
    started: float = getattr(request.app.state, "started", time.time())
    hub: EventsHub = request.app.state.hub
    smtp = getattr(request.app.state, "smtp_handler", None)  # the SMTP handler, with its runtime counters
    return JSONResponse(
        {
            "Version": __version__,
            "LatestVersion": "",
            "Database": shown_database(settings.database),  # a PostgreSQL URL without its password
            "DatabaseSize": usage.size,
            "Messages": store.total,
            "Unread": store.unread,
            "Tags": await store.tag_counts(),
            "RuntimeStats": {
                "Uptime": int(time.time() - started),
                "Memory": memory_in_use(),
                "SMTPAccepted": usage.accepted,
                # Mailpit counts the send API's messages here too
                "SMTPAcceptedSize": getattr(smtp, "accepted_size", 0) + accepted_over_http(request),
                "SMTPRejected": getattr(smtp, "rejected", 0),
                "MessagesDeleted": max(0, usage.accepted - store.total),
                "SMTPIgnored": getattr(smtp, "ignored", 0),
                "WebsocketClients": hub.clients,
                "WebsocketDropped": hub.dropped,
            },
            "SMTP": _smtp_json(request),
        }
    )


def _message_relay(settings: Settings) -> dict[str, Any]:
    """Mailpit's `MessageRelay`: whether release is on, and the relay's settings the UI shows."""
    relay = getattr(settings, "relay", None)
    return {
        "Enabled": relay is not None,
        "SMTPServer": relay.server if relay else "",
        "ReturnPath": relay.return_path if relay else "",
        "AllowedRecipients": relay.allowed_recipients if relay else "",
        "BlockedRecipients": relay.blocked_recipients if relay else "",
        "DefaultReleaseTo": "",
        "OverrideFrom": relay.override_from if relay else "",
        "PreserveMessageIDs": relay.preserve_message_ids if relay else False,
        "RecipientAllowlist": relay.allowed_recipients if relay else "",  # Mailpit's older name, still sent
    }


async def webui(request: Request) -> Response:
    return JSONResponse(
        {
            "Label": "",
            "MessageRelay": _message_relay(request.app.state.settings),
            "SpamAssassin": bool(request.app.state.settings.enable_spamassassin),
            "ChaosEnabled": bool(getattr(request.app.state, "faults", None) and request.app.state.faults.enabled),
            "DuplicatesIgnored": bool(getattr(request.app.state.settings, "ignore_duplicate_ids", False)),
            "HideDeleteAllButton": False,
            "Version": __version__,
            "SMTP": _smtp_json(request),
        }
    )


def routes() -> list[BaseRoute]:
    """The application information routes."""
    return [
        Route("/api/v1/info", info, methods=["GET"]),
        Route("/api/v1/webui", webui, methods=["GET"]),
    ]
