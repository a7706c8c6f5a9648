"""/api/v1/swagger.json: a valid OpenAPI document that names every route, and real responses that fit it."""

from __future__ import annotations

import re
import smtplib
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate as validate_spec
from starlette.routing import Route, WebSocketRoute

from mailcatch.events import EventBus
from mailcatch.storage.store import Store
from mailcatch.web.app import create_app
from mailcatch.web.openapi import document
from tests.helpers import make_settings, wait_for_count
from tests.messages import build, send


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return document()


def test_is_valid_openapi(api: httpx.Client, spec: dict[str, Any]) -> None:
    served = api.get("/api/v1/swagger.json")
    assert served.headers["content-type"] == "application/json"
    assert served.json() == spec
    validate_spec(spec)


def test_every_route_is_described(spec: dict[str, Any]) -> None:
    app = create_app(make_settings(), Store(None, EventBus()), EventBus())
    for route in app.routes:
        if isinstance(route, WebSocketRoute):
            assert "get" in spec["paths"][route.path]
        elif isinstance(route, Route):
            path = re.sub(r"\{id\}", "{ID}", route.path)
            path = path.replace("{part_id}", "{PartID}").replace("{tag:path}", "{Tag}")
            assert path in spec["paths"], path
            for method in route.methods or ():
                if method != "HEAD":
                    assert method.lower() in spec["paths"][path], (method, path)


def check(spec: dict[str, Any], name: str, instance: Any) -> None:
    """Validate a response body against a schema of the document."""
    OAS30Validator({"$ref": f"#/components/schemas/{name}", "components": spec["components"]}).validate(instance)


def test_responses_fit_the_schemas(catcher, api: httpx.Client, spec: dict[str, Any]) -> None:
    message = build("Fits", "Ann <ann@example.com>", "bob@example.org", "text", "<p>html</p>", X_Tags="t")
    message.add_attachment(b"a,b\n", maintype="text", subtype="csv", filename="data.csv")
    send(catcher, message)
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        client.sendmail("", ["x@example.com"], b"no headers at all\r\n")
    ids = [m["ID"] for m in wait_for_count(api, 2)["messages"]]
    check(spec, "MessagesSummary", api.get("/api/v1/messages").json())
    check(spec, "MessagesSummary", api.get("/api/v1/search", params={"query": "fits"}).json())
    for message_id in ids:
        check(spec, "Message", api.get(f"/api/v1/message/{message_id}").json())
        check(spec, "Transcript", api.get(f"/api/v1/message/{message_id}/transcript").json())
        check(spec, "MailHogMessage", api.get(f"/api/v1/messages/{message_id}").json())
    check(spec, "AppInformation", api.get("/api/v1/info").json())
    check(spec, "WebUIConfiguration", api.get("/api/v1/webui").json())
    check(spec, "MailHogMessages", api.get("/api/v2/messages").json())
    check(spec, "MailHogMessages", api.get("/api/v2/search", params={"kind": "to", "query": "bob"}).json())
    check(spec, "Error", api.get("/api/v1/message/nope").json())
