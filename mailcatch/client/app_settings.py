"""What points an app's mail at a catcher (Django, Flask-Mail and Flask-Mailman, FastAPI-Mail), and why mail
that a test waited for may have gone elsewhere.

Frameworks are never imported here: `why_no_mail` looks only at those the app under test already imported.
"""

from __future__ import annotations

import sys
from typing import Any

DJANGO_SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def django_settings(host: str, port: int) -> dict[str, Any]:
    """Django's settings that send its mail to the catcher by SMTP (Django's test set-up keeps it in memory)."""
    return {
        "EMAIL_BACKEND": DJANGO_SMTP_BACKEND,
        "EMAIL_HOST": host,
        "EMAIL_PORT": port,
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
    }


def flask_config(host: str, port: int) -> dict[str, Any]:
    """Flask config keys for Flask-Mail and Flask-Mailman: the catcher's address, no TLS, and sending on
    while TESTING is on (Flask-Mail suppresses it, Flask-Mailman keeps mail in memory)."""
    return {
        "MAIL_SERVER": host,
        "MAIL_PORT": port,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_SUPPRESS_SEND": False,
        "MAIL_BACKEND": "smtp",
    }


def fastapi_mail_config(host: str, port: int) -> dict[str, Any]:
    """FastAPI-Mail's ConnectionConfig fields for the catcher (add MAIL_FROM): no TLS, no login, sending on."""
    return {
        "MAIL_SERVER": host,
        "MAIL_PORT": port,
        "MAIL_USERNAME": "",
        "MAIL_PASSWORD": "",
        "MAIL_STARTTLS": False,
        "MAIL_SSL_TLS": False,
        "USE_CREDENTIALS": False,
        "VALIDATE_CERTS": False,
        "SUPPRESS_SEND": 0,
    }


def _same_server(host: str, port: Any, catcher_host: str, catcher_port: int) -> bool:
    if str(port) != str(catcher_port):
        return False
    return host == catcher_host or (host in _LOCAL_HOSTS and catcher_host in _LOCAL_HOSTS)


def _django_reason(catcher_host: str, catcher_port: int) -> str | None:
    conf = sys.modules.get("django.conf")
    settings = getattr(conf, "settings", None)
    if settings is None or not getattr(settings, "configured", False):
        return None
    backend = str(getattr(settings, "EMAIL_BACKEND", ""))
    if "locmem" in backend:
        return (
            f"Django's EMAIL_BACKEND is {backend!r}: Django's test set-up (pytest-django, Django's test runner) "
            "keeps mail in django.core.mail.outbox instead of sending it. The `mailcatch` fixture points Django "
            "at the catcher for the test that uses it; elsewhere set the settings that "
            "mailbox.django_settings() gives (EMAIL_BACKEND = "
            f'"{DJANGO_SMTP_BACKEND}", EMAIL_HOST, EMAIL_PORT)'
        )
    if backend != DJANGO_SMTP_BACKEND:
        return f"Django's EMAIL_BACKEND is {backend!r}, which sends no SMTP: use {DJANGO_SMTP_BACKEND!r}"
    host, port = getattr(settings, "EMAIL_HOST", ""), getattr(settings, "EMAIL_PORT", "")
    if not _same_server(str(host), port, catcher_host, catcher_port):
        return f"Django sends mail to {host}:{port} (EMAIL_HOST, EMAIL_PORT), not to the catcher at {catcher_host}:{catcher_port}"
    return None


def why_no_mail(catcher_host: str, catcher_port: int) -> str | None:
    """The likely reason an app's mail didn't reach the catcher, when the app's framework is set to send it
    elsewhere; None when nothing known says so."""
    try:
        return _django_reason(catcher_host, catcher_port)
    except Exception:  # a half-configured framework must not hide the timeout it is asked to explain
        return None
