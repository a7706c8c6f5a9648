"""The web application: API routes, the static UI, error rendering and security headers."""

from __future__ import annotations

import base64
import binascii
import logging
import math
import re
import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailcatch.auth_limits import FailedLogins
from mailcatch.config import Settings
from mailcatch.errors import DatabaseDamaged, HTTPError, MessageNotFound, QueryError, ReadFailed, StoreError
from mailcatch.events import EventBus
from mailcatch.logs import limit_repeats
from mailcatch.passwords import Credentials, TooBusy, read_password_file
from mailcatch.smtp.session_log import SessionLog
from mailcatch.storage import MessageStore
from mailcatch.web import api, check_dkim, check_spam, info, mailhog, openapi, release, send, sessions, views, ws
from mailcatch.web import check_html as html_checks
from mailcatch.web import check_lint as lint_api
from mailcatch.web import faults as faults_api
from mailcatch.web import search as search_api
from mailcatch.web import tags as tags_api
from mailcatch.web.cors import ApiOptions, any_origin, cors_options, origin_pattern
from mailcatch.web.hosts import HostCheck, HostPolicy
from mailcatch.web.ui_files import UiFiles

auth_log = limit_repeats(logging.getLogger("mailcatch.web.auth"))
"""Refused logins: a line repeated (same user, same address) is said at most once a minute."""

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        # The message HTML is shown in an <iframe sandbox srcdoc>, which inherits this policy:
        # its inline styles, and the remote images, styles and fonts a reader chooses to load,
        # must pass here. The UI narrows them again with a policy inside the srcdoc.
        # Its only other frame is a PDF attachment's preview, the part route's `?inline=1`:
        # frame-src 'self' (a path of its own would break the UI behind a proxy's sub-path).
        b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline' http: https:; "
        b"img-src 'self' data: blob: http: https:; font-src 'self' data: http: https:; "
        b"media-src 'self' data: http: https:; connect-src 'self'; frame-src 'self'; "
        b"object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
]


class SecurityHeaders:
    """Adds security headers to every HTTP response that doesn't set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in SECURITY_HEADERS if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BasicAuth:
    """HTTP basic auth over every route, websocket included; /livez stays open for health checks.

    Passwords are checked off the event loop (`Credentials.check_off_loop`). Failed logins are
    counted per client address (`FailedLogins`): later ones are answered more slowly, and too many
    block the address for a while, every login from it answered 429 with Retry-After.
    """

    def __init__(
        self, app: ASGIApp, credentials: Credentials, guards: Callable[[str], bool] | None = None, label: str = "UI"
    ) -> None:
        self.app = app
        self.credentials = credentials
        self.guards = guards
        """Which paths it asks a login for (None: all but /livez)."""
        self.label = label
        """What the log calls this login ("UI", "send API")."""
        self.failed_logins = FailedLogins()

    @staticmethod
    def _login(scope: Scope) -> tuple[str, str] | None:
        """The user and password of the request's basic Authorization header, if it has one."""
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() != "basic":
                    return None
                try:
                    user, _, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
                except (binascii.Error, UnicodeDecodeError):
                    return None
                return user, password
        return None

    async def _refusal(self, scope: Scope) -> Response | None:
        """None when the request may pass; otherwise the response that refuses it."""
        peer = str(scope["client"][0]) if scope.get("client") else ""
        blocked = self.failed_logins.blocked_for(peer)
        if blocked:
            return _too_many(blocked)
        login = self._login(scope)
        if login is None:  # no login yet (a browser's first request): not a failure
            return _unauthorized()
        try:
            if await self.credentials.check_off_loop(*login):
                return None
        except TooBusy:
            auth_log.warning("%s login from %s answered 503: too many logins being checked at once", self.label, peer)
            return JSONResponse(
                {"Error": "too many logins being checked at once, try again later"},
                status_code=503,
                headers={"Retry-After": "1"},
            )
        verdict = await self.failed_logins.refused(peer, login[0], self.label, auth_log)
        return _too_many(verdict.blocked) if verdict.blocked else _unauthorized()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] not in ("http", "websocket")
            or scope["path"] == "/livez"
            or (self.guards is not None and not self.guards(scope["path"]))
        ):
            await self.app(scope, receive, send)
            return
        refusal = await self._refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            await refusal(scope, receive, send)


def _unauthorized() -> Response:
    return JSONResponse(
        {"Error": "authentication required"},
        status_code=401,
        headers={"WWW-Authenticate": 'Basic realm="mailcatch", charset="UTF-8"'},
    )


def _too_many(seconds: float) -> Response:
    wait = max(1, math.ceil(seconds))
    return JSONResponse(
        {"Error": f"too many failed logins from this address, try again in {wait} s"},
        status_code=429,
        headers={"Retry-After": str(wait)},
    )


async def _store_error(request: Request, error: Exception) -> Response:
    """503 for what may pass (a write that failed, a database busy beyond the wait); 500 for a
    read that failed otherwise or a damaged database, which trying again won't mend."""
    status = 500 if isinstance(error, (ReadFailed, DatabaseDamaged)) else 503
    return JSONResponse({"Error": str(error)}, status_code=status)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPError)
    return JSONResponse({"Error": error.detail}, status_code=error.status_code)


async def _query_error(request: Request, error: Exception) -> Response:
    return JSONResponse({"Error": str(error)}, status_code=400)


async def _not_found(request: Request, error: Exception) -> Response:
    return JSONResponse({"Error": str(error)}, status_code=404)


async def _starlette_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    detail = error.detail if error.status_code != 404 else f"no such page: {request.url.path}"
    return JSONResponse({"Error": detail}, status_code=error.status_code, headers=error.headers)


def _websocket_origins(settings: Settings) -> re.Pattern[str] | None:
    """The other origins whose pages may open the websocket: those `--api-cors` names, and with `*`
    any origin, unless there is a login: a browser sends its saved login with a handshake, and `*`
    never lends a page elsewhere the visitor's credentials."""
    if any_origin(settings.api_cors) and not settings.ui_auth_file:
        return re.compile(".*", re.DOTALL)
    return origin_pattern(settings.api_cors)


def create_app(
    settings: Settings, store: MessageStore, bus: EventBus, session_log: SessionLog | None = None
) -> Starlette:
    """The ASGI app for one catcher; the store, bus and session log are passed in, never global."""
    hub = ws.EventsHub(store, bus, _websocket_origins(settings))
    app = Starlette(
        routes=[
            *api.routes(),
            *search_api.routes(),
            *tags_api.routes(),
            *faults_api.routes(),
            *sessions.routes(),
            *html_checks.routes(),
            *send.routes(),
            *ws.routes(hub),
            *views.routes(),
            *info.routes(),
            *openapi.routes(),
            *mailhog.routes(),
            *release.routes(),
            *lint_api.routes(),
            *check_dkim.routes(),
            *check_spam.routes(),
            Mount("/", app=UiFiles(), name="static"),  # read into memory: see ui_files.py
        ],
        exception_handlers={
            HTTPError: _http_error,
            HTTPException: _starlette_error,
            StoreError: _store_error,
            QueryError: _query_error,
            MessageNotFound: _not_found,
        },
    )
    app.state.store = store
    app.state.bus = bus
    app.state.settings = settings
    app.state.hub = hub
    app.state.session_log = session_log if session_log is not None else SessionLog(bus)
    app.state.started = time.time()
    app.state.ready = True
    app.add_middleware(ApiOptions)
    app.add_middleware(SecurityHeaders)
    own_send_login = bool(settings.send_api_auth_file or settings.send_api_auth_accept_any)
    if settings.ui_auth_file:
        app.add_middleware(
            BasicAuth,
            credentials=Credentials(read_password_file(settings.ui_auth_file)),
            guards=(lambda path: path != send.SEND_PATH) if own_send_login else None,
        )
    if settings.send_api_auth_file:  # POST /api/v1/send's own logins, in place of the UI's
        app.add_middleware(
            BasicAuth,
            credentials=Credentials(read_password_file(settings.send_api_auth_file)),
            guards=lambda path: path == send.SEND_PATH,
            label="send API",
        )
    cors = cors_options(settings.api_cors)
    if cors is not None:
        app.add_middleware(CORSMiddleware, **cors)  # preflights are answered before auth
    # Outermost: a request naming a host the catcher isn't known by (DNS rebinding) gets nothing else.
    app.add_middleware(HostCheck, policy=HostPolicy(settings.listen.host, settings.allowed_hosts))
    return app
