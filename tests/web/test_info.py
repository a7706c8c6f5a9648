"""GET /api/v1/info and GET /api/v1/webui."""

from __future__ import annotations

import httpx

from mailcatch import __version__
from tests.helpers import wait_for_count
from tests.messages import build, send


def test_info(catcher, api: httpx.Client) -> None:
    send(catcher, build("one", X_Tags="a"), build("two", X_Tags="a, b"), build("three"))
    listed = wait_for_count(api, 3)["messages"]
    ids = [m["ID"] for m in listed]
    api.request("DELETE", "/api/v1/messages", json={"IDs": [ids[0]]})
    api.get(f"/api/v1/message/{ids[1]}")
    info = api.get("/api/v1/info").json()
    assert info["Version"] == __version__
    assert (info["Messages"], info["Unread"], info["Tags"]) == (2, 1, {"a": 2, "b": 1})
    assert info["Database"] == "" and info["DatabaseSize"] > 0
    stats = info["RuntimeStats"]
    assert (stats["SMTPAccepted"], stats["MessagesDeleted"], stats["SMTPIgnored"]) == (3, 1, 0)
    # Mailpit's runtime counters: bytes received over SMTP (deleted messages count), messages refused at DATA.
    assert stats["SMTPAcceptedSize"] == sum(m["Size"] for m in listed)
    assert stats["SMTPRejected"] == 0
    assert set(stats) >= {"Uptime", "Memory", "MessagesDeleted", "SMTPAccepted", "SMTPAcceptedSize", "SMTPRejected"}
    assert stats["Memory"] > 1_000_000 and stats["Uptime"] >= 0
    assert (stats["WebsocketClients"], stats["WebsocketDropped"]) == (0, 0)
    assert info["SMTP"] == {
        "Host": catcher.smtp_host,
        "Port": catcher.smtp_port,
        "Address": f"{catcher.smtp_host}:{catcher.smtp_port}",
    }


def test_info_with_a_database_file(start_catcher, tmp_path) -> None:
    path = tmp_path / "mail.db"
    catcher = start_catcher(database=str(path))
    send(catcher, build("kept"))
    with httpx.Client(base_url=catcher.url) as api:
        wait_for_count(api, 1)
        info = api.get("/api/v1/info").json()
    assert info["Database"] == str(path) and info["DatabaseSize"] >= path.stat().st_size > 0


def test_webui(catcher, api: httpx.Client) -> None:
    webui = api.get("/api/v1/webui").json()
    assert webui["MessageRelay"]["Enabled"] is False and webui["SpamAssassin"] is False
    assert webui["Label"] == "" and webui["Version"] == __version__
    assert webui["SMTP"]["Port"] == catcher.smtp_port
    # Every field of Mailpit's MessageRelay, with the values of a catcher that relays nothing.
    assert webui["MessageRelay"] == {
        "Enabled": False,
        "SMTPServer": "",
        "ReturnPath": "",
        "AllowedRecipients": "",
        "BlockedRecipients": "",
        "DefaultReleaseTo": "",
        "OverrideFrom": "",
        "PreserveMessageIDs": False,
        "RecipientAllowlist": "",
    }
    assert (webui["ChaosEnabled"], webui["DuplicatesIgnored"], webui["HideDeleteAllButton"]) == (False, False, False)
