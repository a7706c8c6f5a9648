"""Fault injection over HTTP: Mailpit's GET/PUT /api/v1/chaos, and mailcatch's fault rules at /api/v1/faults.

Both answer 400 unless the catcher runs with --enable-chaos (or --chaos-triggers).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from mailcatch.errors import BadRequest, NotFound
from mailcatch.smtp.faults import CHAOS_DEFAULTS, RULE_FIELDS, FaultError, FaultInjector
from mailcatch.web.requests import json_body

__all__ = ["routes"]

CHAOS_OFF = "Chaos is not enabled"
"""Mailpit's answer when chaos is off."""
FAULTS_OFF = "fault injection is not enabled: start mailcatch with --enable-chaos (MP_ENABLE_CHAOS=true)"


def _faults(request: Request, off: str) -> FaultInjector:
    """The catcher's fault injector; BadRequest when fault injection is off."""
    faults: FaultInjector | None = getattr(request.app.state, "faults", None)
    if faults is None or not faults.enabled:
        raise BadRequest(off)
    return faults


def _named(body: dict[str, Any], names: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """Field names spelled in any case, as Mailpit (Go) reads them, turned into ours."""
    spelled = {name.lower(): name for name in names}
    return {spelled.get(key.lower(), key): value for key, value in body.items()}


async def get_chaos(request: Request) -> Response:
    return JSONResponse(_faults(request, CHAOS_OFF).chaos.to_json())


async def set_chaos(request: Request) -> Response:
    """Set every trigger (one left out is reset: its default code, probability 0) and answer them all."""
    faults = _faults(request, CHAOS_OFF)
    body = _named(await json_body(request), list(CHAOS_DEFAULTS))
    body = {
        key: _named(value, ("ErrorCode", "Probability")) if isinstance(value, dict) else value
        for key, value in body.items()
    }
    try:
        faults.chaos.set_from_json(body)
    except FaultError as error:
        raise BadRequest(str(error)) from None
    return JSONResponse(faults.chaos.to_json())


async def list_rules(request: Request) -> Response:
    return JSONResponse([rule.to_json() for rule in _faults(request, FAULTS_OFF).rules])


async def add_rule(request: Request) -> Response:
    faults = _faults(request, FAULTS_OFF)
    body = _named(await json_body(request), RULE_FIELDS)
    try:
        rule = faults.add(body)
    except FaultError as error:
        raise BadRequest(str(error)) from None
    return JSONResponse(rule.to_json(), status_code=201)


async def delete_rules(request: Request) -> Response:
    _faults(request, FAULTS_OFF).clear()
    return PlainTextResponse("ok")


async def get_rule(request: Request) -> Response:
    rule_id = request.path_params["id"]
    rule = _faults(request, FAULTS_OFF).get(rule_id)
    if rule is None:
        raise NotFound(f"no fault rule with ID {rule_id!r}")
    return JSONResponse(rule.to_json())


async def delete_rule(request: Request) -> Response:
    rule_id = request.path_params["id"]
    if not _faults(request, FAULTS_OFF).remove(rule_id):
        raise NotFound(f"no fault rule with ID {rule_id!r}")
    return PlainTextResponse("ok")


def routes() -> list[BaseRoute]:
    """Mailpit's chaos routes and mailcatch's fault rules."""
    return [
        Route("/api/v1/chaos", get_chaos, methods=["GET"]),
        Route("/api/v1/chaos", set_chaos, methods=["PUT"]),
        Route("/api/v1/faults", list_rules, methods=["GET"]),
        Route("/api/v1/faults", add_rule, methods=["POST"]),
        Route("/api/v1/faults", delete_rules, methods=["DELETE"]),
        Route("/api/v1/faults/{id}", get_rule, methods=["GET"]),
        Route("/api/v1/faults/{id}", delete_rule, methods=["DELETE"]),
    ]
