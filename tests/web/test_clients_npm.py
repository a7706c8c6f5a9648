"""The npm client `mailpit-api` (pinned in tests/clients_js/package.json), every method, against a real catcher.

tests/clients_js/run.mjs calls each method of its MailpitClient and prints what it returned; this
test sends known mail, runs it with node and checks each value as Mailpit would answer. Methods
whose routes mailcatch doesn't serve (release, chaos) get the catcher's JSON error, which is
checked too; the SpamAssassin check asks a real spamd (tests/checks/spamd.py). CI (`CI` set) runs `npm ci` there first
(.ci/run); without node or the installed client the test fails in CI and is skipped elsewhere.
"""

from __future__ import annotations

import datetime
import json
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mailcatch.server import ServerThread
from tests.checks.spamd import Spamd, running_spamd
from tests.helpers import CLIENTS_JS, node_with, wait_for_count
from tests.messages import build, png, send

NOT_SERVED = {
    # Chaos is off unless the catcher runs with --enable-chaos (tests/web/test_chaos.py):
    "getChaosTriggers": "400 Bad Request at GET",
    "setChaosTriggers": "400 Bad Request at PUT",
    # Release is off unless a relay server is configured (tests/web/test_release.py):
    "releaseMessage": "400 Bad Request at POST",
}
"""Methods whose routes mailcatch doesn't serve (yet), and the error status each gets now."""


@pytest.fixture(scope="module")
def spamd() -> Iterator[Spamd]:
    with running_spamd() as server:
        yield server


@pytest.fixture
def catcher(start_catcher: Callable[..., ServerThread], spamd: Spamd) -> ServerThread:
    """A fresh catcher whose SpamAssassin check asks the real spamd."""
    return start_catcher(enable_spamassassin=spamd.address)


@pytest.fixture
def results(catcher: ServerThread, api: httpx.Client) -> dict[str, Any]:
    """What each client method returned, after two known messages were sent."""
    node = node_with("mailpit-api")
    send(
        catcher,
        build(
            "Welcome",
            "Shop <shop@example.com>",
            "Ann <ann@example.com>",
            "Hello Ann",
            Date="Sat, 28 Nov 2026 10:00:00 +0100",
            Message_ID="<welcome-1@example.com>",
        ),
    )
    invoice = build(
        "Invoice",
        "billing@example.com",
        "Bob <bob+billing@example.org>",
        "See attached",
        html="<p>See <b>attached</b></p>",
        X_Tags="finance",
        Date="Sat, 28 Nov 2026 11:00:00 +0100",
    )
    invoice.add_attachment(b"id,total\n1,9.99\n", maintype="text", subtype="csv", filename="invoice.csv")
    invoice.add_attachment(png(), maintype="image", subtype="png", filename="chart.png")
    send(catcher, invoice)
    invoice_id, welcome_id = [m["ID"] for m in wait_for_count(api, 2)["messages"]]
    attachments = {a["FileName"]: a["PartID"] for a in api.get(f"/api/v1/message/{invoice_id}").json()["Attachments"]}
    api.put("/api/v1/messages", json={"IDs": [invoice_id], "Read": False})  # opening it marked it read
    done = subprocess.run(
        [node, "run.mjs", catcher.url, welcome_id, invoice_id, attachments["invoice.csv"], attachments["chart.png"]],
        cwd=CLIENTS_JS,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    found["ids"] = {"welcome": welcome_id, "invoice": invoice_id}
    return found


def value(results: dict[str, Any], step: str) -> Any:
    """What a step returned; fails with the client's error if it threw."""
    result = results[step]
    assert result["ok"], f"{step}: {result['error']}"
    return result["value"]


def test_info_and_configuration(results: dict[str, Any]) -> None:
    info = value(results, "getInfo")
    assert (info["Messages"], info["Unread"]) == (2, 2)
    assert info["Tags"] == {"billing": 1, "finance": 1}
    assert isinstance(info["Version"], str) and info["Version"]
    assert isinstance(info["RuntimeStats"]["Uptime"], int)
    config = value(results, "getConfiguration")
    assert config["MessageRelay"]["Enabled"] is False
    assert (config["SpamAssassin"], config["ChaosEnabled"], config["DuplicatesIgnored"]) == (True, False, False)


def test_listing_searching_and_waiting(results: dict[str, Any]) -> None:
    ids = results["ids"]
    listing = value(results, "listMessages")
    assert (listing["total"], listing["unread"], listing["count"], listing["start"]) == (2, 2, 2, 0)
    assert [m["ID"] for m in listing["messages"]] == [ids["invoice"], ids["welcome"]]
    assert listing["tags"] == ["billing", "finance"]
    invoice = listing["messages"][0]
    assert invoice["From"] == {"Name": "", "Address": "billing@example.com"}
    assert invoice["To"] == [{"Name": "Bob", "Address": "bob+billing@example.org"}]
    assert (invoice["Attachments"], invoice["Read"], invoice["Tags"]) == (2, False, ["billing", "finance"])
    assert invoice["Snippet"] == "See attached"
    page = value(results, "listMessages(1,1)")
    assert (page["start"], page["count"], page["total"]) == (1, 1, 2)
    assert [m["ID"] for m in page["messages"]] == [ids["welcome"]]
    found = value(results, "searchMessages")
    assert (found["messages_count"], [m["Subject"] for m in found["messages"]]) == (1, ["Invoice"])
    waited = value(results, "waitForMessage")
    assert (waited["ID"], waited["Subject"], waited["Text"].strip()) == (ids["welcome"], "Welcome", "Hello Ann")
    assert value(results, "waitForMessages")["messages_count"] == 2
    exact = value(results, "waitForMessages(query,exact)")
    assert [m["ID"] for m in exact["messages"]] == [ids["invoice"]]
    assert results["waitForMessages(timeout)"] == {
        "ok": False,
        "error": 'Timeout waiting for messages matching query "subject:never-sent"',
    }


def test_one_message_its_headers_source_parts_and_views(results: dict[str, Any]) -> None:
    ids = results["ids"]
    latest = value(results, "getMessageSummary(latest)")
    assert (latest["ID"], latest["Subject"]) == (ids["invoice"], "Invoice")
    assert [a["FileName"] for a in latest["Attachments"]] == ["invoice.csv", "chart.png"]
    assert "<b>attached</b>" in latest["HTML"]
    welcome = value(results, "getMessageSummary")
    assert welcome["MessageID"] == "welcome-1@example.com"
    # Mailpit writes "2026-11-28T10:00:00+01:00" (Go drops zero fractions); the same instant and offset
    date = datetime.datetime.fromisoformat(welcome["Date"])
    assert date == datetime.datetime(2026, 11, 28, 9, tzinfo=datetime.timezone.utc)
    assert date.utcoffset() == datetime.timedelta(hours=1)
    assert welcome["From"] == {"Name": "Shop", "Address": "shop@example.com"}
    headers = value(results, "getMessageHeaders")
    assert headers["Subject"] == ["Welcome"] and headers["Message-Id"] == ["<welcome-1@example.com>"]
    source = value(results, "getMessageSource")
    assert "Subject: Welcome" in source and "Hello Ann" in source
    attachment = value(results, "getMessageAttachment")
    assert (attachment["size"], attachment["text"]) == (16, "id,total\n1,9.99\n")
    # Mailpit sends the part's own type, "text/csv"; mailcatch's response adds "; charset=utf-8" to it
    assert attachment["type"].split(";")[0] == "text/csv"
    html = value(results, "renderMessageHTML")
    assert "<b>attached</b>" in html
    assert value(results, "renderMessageText").strip() == "Hello Ann"


def test_attachment_thumbnail(results: dict[str, Any]) -> None:
    thumbnail = value(results, "getAttachmentThumbnail")  # Mailpit: a 180 x 120 JPEG of the image
    assert thumbnail["type"] == "image/jpeg" and thumbnail["size"] > 100


def test_tags(results: dict[str, Any]) -> None:
    assert value(results, "getTags") == ["billing", "finance"]
    assert [value(results, s) for s in ("setTags", "renameTag", "deleteTag")] == ["ok", "ok", "ok"]
    assert value(results, "getTags(after)") == ["billing", "finance", "VIP Customer"]
    assert value(results, "getMessageSummary(tags)")["Tags"] == ["VIP Customer"]


def test_read_state_and_deleting(results: dict[str, Any]) -> None:
    ids = results["ids"]
    assert value(results, "setReadStatus(IDs)") == "ok"
    assert value(results, "listMessages(after unread)")["unread"] == 1  # the invoice was read by getMessageSummary
    assert value(results, "setReadStatus(Search)") == "ok"
    after = value(results, "listMessages(after search read)")
    assert after["unread"] == 0 and all(m["Read"] for m in after["messages"])
    assert value(results, "deleteMessagesBySearch") == "ok"
    assert [m["ID"] for m in value(results, "listMessages(after search delete)")["messages"]] == [ids["invoice"]]
    assert value(results, "deleteMessages(IDs)") == "ok"
    assert value(results, "listMessages(after delete)")["total"] == 0
    assert value(results, "deleteMessages(all)") == "ok"
    assert value(results, "listMessages(empty)")["messages"] == []


def test_html_and_link_checks(results: dict[str, Any]) -> None:
    """The invoice's HTML (`<p>See <b>attached</b></p>`) checked against caniemail's data; it has no links."""
    check = value(results, "htmlCheck")
    assert check["Total"]["Nodes"] == 2 and check["Total"]["Tests"] > 100
    assert {"html-p"} <= {w["Slug"] for w in check["Warnings"]}
    assert "ios" in check["Platforms"]
    links = value(results, "linkCheck")
    assert (links["Errors"], links["Links"]) == (0, [])


def test_spam_assassin_check(results: dict[str, Any]) -> None:
    """The invoice scored by spamd, in Mailpit's shape: not spam, and the rules it matched."""
    check = value(results, "spamAssassinCheck")
    assert (check["IsSpam"], check["Error"]) == (False, "")
    assert isinstance(check["Score"], (int, float)) and check["Score"] < 5
    assert check["Rules"] and all(set(rule) == {"Score", "Name", "Description"} for rule in check["Rules"])


@pytest.mark.parametrize(("step", "status"), NOT_SERVED.items())
def test_methods_without_a_route_get_a_clear_json_error(results: dict[str, Any], step: str, status: str) -> None:
    result = results[step]
    assert not result["ok"]
    said, _, body = result["error"].partition(": {")
    assert said.startswith(f"Mailpit API Error: {status} "), result["error"]
    assert isinstance(json.loads("{" + body)["Error"], str)


def test_send_message(results: dict[str, Any]) -> None:
    """sendMessage's message is stored as Mailpit stores it: addresses, bodies, parts, tags, headers."""
    sent_id = value(results, "sendMessage")["ID"]
    message = value(results, "getMessageSummary(sent)")
    assert message["ID"] == sent_id
    assert message["From"] == {"Name": "App", "Address": "app@example.com"}
    assert message["To"] == [{"Name": "Ann", "Address": "ann@example.com"}]
    assert message["Cc"] == [{"Name": "", "Address": "cc@example.com"}]
    assert message["Bcc"] == [{"Name": "", "Address": "hidden@example.com"}]
    assert message["ReplyTo"] == [{"Name": "", "Address": "help@example.com"}]
    assert (message["Subject"], message["Text"], message["HTML"]) == (
        "Sent over HTTP",
        "hi Ann",
        '<p>hi <img src="cid:dot"></p>',
    )
    assert [(a["FileName"], a["ContentType"]) for a in message["Attachments"]] == [("data.csv", "text/csv")]
    assert [(a["FileName"], a["ContentID"]) for a in message["Inline"]] == [("dot.gif", "dot")]
    assert message["Tags"] == ["npm", "Sent"]
    assert value(results, "deleteMessages(sent)") == "ok"
    refused = results["sendMessage(no recipient)"]
    assert not refused["ok"]
    said, _, body = refused["error"].partition(": {")
    assert said.startswith("Mailpit API Error: 400 Bad Request at POST"), refused["error"]
    assert json.loads("{" + body) == {"Error": "error building message: no recipients (to, cc, bcc) set"}
