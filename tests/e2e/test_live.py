"""Staying in sync: polling when the websocket is blocked, re-sync after a restart, big mailboxes."""

from __future__ import annotations

import smtplib
import threading
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import WebSocketRoute, expect

from mailcatch.config import HostPort
from mailcatch.server import ServerThread
from mailcatch.storage.store import BULK_CHANGE
from tests import messages
from tests.e2e.helpers import UI


def test_polling_takes_over_when_a_proxy_blocks_the_websocket(open_ui: Callable[..., UI]) -> None:
    ui = open_ui(goto=False)

    def refuse(ws: WebSocketRoute) -> None:
        ws.close(code=1008, reason="blocked by proxy")

    ui.page.route_web_socket("**/api/events", refuse)
    ui.send(messages.build("Before the page"))
    ui.goto()
    expect(ui.rows).to_have_count(1)
    expect(ui.page.locator("#conn")).to_have_attribute("data-state", "polling")
    expect(ui.page.locator("#conn")).to_have_text("Polling")
    ui.shot("polling")
    ui.send(messages.build("Found by polling"))
    expect(ui.rows.first).to_contain_text("Found by polling", timeout=8000)
    expect(ui.page).to_have_title("(2) mailcatch")


def test_the_list_resyncs_after_the_server_restarts(
    open_ui: Callable[..., UI], start_catcher: Callable[..., ServerThread], tmp_path: Path
) -> None:
    database = str(tmp_path / "mail.db")
    first = start_catcher(database=database)
    smtp = HostPort(first.smtp_host, first.smtp_port)
    listen = HostPort("127.0.0.1", int(first.url.rsplit(":", 1)[1]))
    ui = open_ui(on=first)
    ui.send(messages.build("Kept across the restart"))
    expect(ui.rows).to_have_count(1)
    expect(ui.page.locator("#conn")).to_have_attribute("data-state", "live")

    first.stop()
    expect(ui.page.locator("#conn")).to_have_attribute("data-state", "offline")
    ui.shot("offline")

    second = start_catcher(database=database, smtp=smtp, listen=listen)
    ui.catcher = second
    # Sent before the page reconnects: only a re-sync can show it.
    ui.send(messages.build("Sent while the page was away"))
    expect(ui.page.locator("#conn")).to_have_attribute("data-state", "live", timeout=15_000)
    expect(ui.rows).to_have_count(2)
    expect(ui.rows.first).to_contain_text("Sent while the page was away")
    expect(ui.rows.nth(1)).to_contain_text("Kept across the restart")
    expect(ui.page).to_have_title("(2) mailcatch")
    # And live again afterwards.
    ui.send(messages.build("After the reconnect"))
    expect(ui.rows.first).to_contain_text("After the reconnect")


def test_a_big_mailbox_renders_only_the_rows_in_view(open_ui: Callable[..., UI]) -> None:
    ui = open_ui(goto=False)
    total = 300
    batch = [messages.build(f"Bulk message {n:04d}", to=f"user{n}@example.com") for n in range(total)]
    started = time.monotonic()
    messages.send(ui.catcher, *batch)
    sent_in = time.monotonic() - started
    with ui.api() as api:
        deadline = time.monotonic() + 20
        while api.get("/api/v1/messages?limit=0").json()["total"] < total and time.monotonic() < deadline:
            time.sleep(0.05)
    list_requests: list[str] = []
    ui.page.on(
        "request", lambda request: list_requests.append(request.url) if "/api/v1/messages?" in request.url else None
    )
    ui.goto()
    page = ui.page
    expect(page.locator("#list-count")).to_contain_text(f"{total:,} messages")
    expect(ui.rows.first).to_contain_text(f"Bulk message {total - 1:04d}")
    rendered = page.locator("#list .row").count()
    assert 10 <= rendered <= 60, rendered

    page.locator("#list").focus()
    page.keyboard.press("End")
    expect(page.locator("#list .row[aria-selected=true] .row-subject")).to_have_text("Bulk message 0000")
    assert page.locator("#list .row").count() <= 60
    page.keyboard.press("PageUp")
    page.keyboard.press("Enter")
    expect(page.locator("#reader-subject")).to_contain_text("Bulk message 00")
    ui.shot("big-mailbox")

    # Scroll to the middle: only that page is asked for, and never the whole list.
    page.locator("#list").evaluate("el => { el.scrollTop = el.scrollHeight / 2; }")
    # Settled in the middle: rendered for the new scroll position (until then the rows from
    # the bottom stay in the DOM) and with the middle page loaded (until then placeholders).
    # Every subject starts "Bulk message 0": only the "01" tells the middle's 0100-0199 from the
    # bottom's 0000-0099, and a row taken before this may be one the next render removes.
    expect(page.locator("#list .row[data-id]").first).to_contain_text("Bulk message 01")
    expect(page.locator("#list .row.is-placeholder")).to_have_count(0)
    for url in list_requests:
        limit = int(url.split("limit=")[1].split("&")[0])
        assert limit <= 100, url
    assert page.locator("#list .row").count() <= 60

    # Mail arriving while scrolled down doesn't move the rows in view; a pill says it came.
    top_id = page.locator("#list .row[data-id]").nth(3).get_attribute("data-id")
    top_row = page.locator(f"#list .row[data-id='{top_id}']")  # that row, wherever the list puts it
    box = top_row.bounding_box()
    ui.send(messages.build("Arrived while you scrolled"))
    expect(page.locator("#new-pill")).to_have_text("↑ 1 new message")
    assert top_row.bounding_box() == box
    page.locator("#new-pill").click()
    expect(ui.rows.first).to_contain_text("Arrived while you scrolled")
    expect(page.locator("#new-pill")).to_be_hidden()
    assert sent_in < 60


def _shown_ids(ui: UI) -> list[tuple[int, str]]:
    pairs: list[tuple[int, str]] = ui.page.evaluate(
        "() => [...document.querySelectorAll('#list .row[data-id]')].map(r => [+r.dataset.index, r.dataset.id])"
    )
    return sorted(pairs)


def _matches_server(ui: UI) -> bool:
    shown = _shown_ids(ui)
    if not shown:
        return False
    first = shown[0][0]
    with ui.api() as api:
        listing = api.get(f"/api/v1/messages?start={first}&limit={len(shown)}").json()
    return [message_id for _, message_id in shown] == [m["ID"] for m in listing["messages"]]


def _eventually(check: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the list never matched the server"
        time.sleep(0.1)


def test_bursts_and_deletes_elsewhere_leave_the_list_exactly_as_the_server_has_it(open_ui: Callable[..., UI]) -> None:
    ui = open_ui(goto=False)
    messages.send(ui.catcher, *[messages.build(f"Early {n:03d}") for n in range(150)])
    ui.goto()
    expect(ui.page.locator("#list-count")).to_contain_text("150 messages")

    def burst(tag: str) -> None:
        messages.send(ui.catcher, *[messages.build(f"Burst {tag} {n:02d}") for n in range(25)])

    senders = [threading.Thread(target=burst, args=(tag,)) for tag in "abc"]
    for sender in senders:
        sender.start()
    # Meanwhile another client deletes some of the older mail.
    with ui.api() as api:
        doomed = [m["ID"] for m in api.get("/api/v1/messages?start=100&limit=20").json()["messages"]]
        api.request("DELETE", "/api/v1/messages", json={"IDs": doomed[:10]})
    for sender in senders:
        sender.join()
    expect(ui.page.locator("#list-count")).to_contain_text("215 messages")
    _eventually(lambda: _matches_server(ui))

    # Scrolled into the middle, with more arriving and more deleted elsewhere.
    ui.page.locator("#list").evaluate("el => { el.scrollTop = el.scrollHeight / 2; }")
    burst("d")
    with ui.api() as api:
        doomed = [m["ID"] for m in api.get("/api/v1/messages?start=105&limit=5").json()["messages"]]
        api.request("DELETE", "/api/v1/messages", json={"IDs": doomed})
    expect(ui.page.locator("#list-count")).to_contain_text("235 messages")
    _eventually(lambda: _matches_server(ui))


def test_a_change_to_many_messages_elsewhere_shows_in_the_list(open_ui: Callable[..., UI]) -> None:
    """Past BULK_CHANGE messages the server sends one `update` frame for them all; the list fetches again."""
    ui = open_ui(goto=False)
    many = BULK_CHANGE + 20
    messages.send(ui.catcher, *[messages.build(f"Bulk {n:03d}") for n in range(many)])
    ui.goto()
    expect(ui.page.locator("#list-count")).to_have_text(f"{many} messages · {many} unread")
    expect(ui.page.locator(".row.is-unread").first).to_be_visible()
    with ui.api() as api:
        api.put("/api/v1/messages", json={"Read": True})
    expect(ui.page.locator("#list-count")).to_have_text(f"{many} messages")
    expect(ui.rows.first).to_be_visible()
    expect(ui.page.locator(".row.is-unread")).to_have_count(0)
    with ui.api() as api:
        api.put("/api/v1/messages", json={"Read": False})
    expect(ui.page.locator("#list-count")).to_have_text(f"{many} messages · {many} unread")
    expect(ui.page.locator(".row:not(.is-unread)")).to_have_count(0)
    expect(ui.page.locator("#conn")).to_have_attribute("data-state", "live")


def test_a_refused_smtp_session_is_reported(ui: UI) -> None:
    expect(ui.page.locator("#conn")).to_have_attribute("data-state", "live")
    with smtplib.SMTP(ui.catcher.smtp_host, ui.catcher.smtp_port) as client:
        code, _ = client.docmd("RCPT TO:<someone@example.com>")  # no MAIL FROM first
        assert code >= 500
    expect(ui.page.locator(".toast.error")).to_contain_text("was refused")
    ui.shot("smtp-error-toast")
