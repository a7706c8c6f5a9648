"""Message HTML pointing at the catcher itself: nothing loads, in the reader's frame or on /view/{ID}.html.

`<img src="http://127.0.0.1:8025/api/v1/message/A">` in message B used to mark A read when B was
shown: the reader let URLs at its own origin through, and the standalone view fetched everything.
"""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import expect

from tests.e2e.helpers import UI, Tracker
from tests.helpers import wait_for_count
from tests.messages import build


def unread(ui: UI, message_id: str) -> bool:
    with ui.api() as api:
        listed = api.get("/api/v1/messages").json()["messages"]
    return not next(m for m in listed if m["ID"] == message_id)["Read"]


def attack(ui: UI, tracker: Tracker) -> tuple[str, str]:
    """Message A, and message B whose HTML points at A through every alias of the catcher."""
    ui.send(build("Target A"))
    with ui.api() as api:
        target = wait_for_count(api, 1)["messages"][0]["ID"]
    port = httpx.URL(ui.catcher.url).port
    html = "".join(
        [
            "<h1>Attacker B</h1>",
            f'<img id=own src="{ui.catcher.url}/api/v1/message/{target}">',
            f'<img id=alias src="http://localhost:{port}/api/v1/message/{target}/raw">',
            f'<div id=css style="background:url({ui.catcher.url}/api/v1/message/{target}/headers)">x</div>',
            f'<img id=part src="{ui.catcher.url}/api/v1/message/{target}/part/1">',
            f'<img id=remote src="{tracker.url}pixel.png">',
        ]
    )
    ui.send(build("Attacker B", html=html))
    with ui.api() as api:
        attacker = next(m["ID"] for m in wait_for_count(api, 2)["messages"] if m["Subject"] == "Attacker B")
    return target, attacker


def test_the_reader_never_loads_the_catcher(ui: UI, tracker: Tracker) -> None:
    target, _ = attack(ui, tracker)
    page = ui.goto().page
    ui.open("Attacker B")
    frame = page.frame_locator("iframe.html-frame")
    expect(frame.locator("h1")).to_have_text("Attacker B")
    expect(page.get_by_role("note")).to_contain_text("Remote content blocked: 5 items")
    page.get_by_role("button", name="Load remote content").click()
    tracker.wait_for("/pixel.png")  # remote content loads once asked for ...
    element = page.locator("iframe.html-frame").element_handle()
    content = element.content_frame()
    assert content is not None
    content.wait_for_load_state("load")  # every image has loaded or failed
    srcs: dict[str, Any] = content.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('[id]')].map("
        "(el) => [el.id, el.getAttribute('src') ?? el.getAttribute('style')]))"
    )
    # ... but nothing at the catcher: not its origin, not its port on localhost, not another message's part.
    assert srcs["remote"] == f"{tracker.url}pixel.png"
    assert srcs["own"] is None and srcs["alias"] is None and srcs["part"] is None
    assert "/api/v1/" not in (srcs["css"] or "")
    assert unread(ui, target)


def test_the_standalone_view_loads_no_remote_content(ui: UI, tracker: Tracker) -> None:
    target, attacker = attack(ui, tracker)
    page = ui.page
    page.goto(f"{ui.catcher.url}/view/{attacker}.html", wait_until="load")
    expect(page.locator("h1")).to_have_text("Attacker B")
    assert tracker.hits == []  # the load event came after every image was fetched or refused
    assert unread(ui, target)
    # Asked for, remote content loads; a message loaded as an image still isn't marked read.
    page.goto(f"{ui.catcher.url}/view/{attacker}.html?remote=1", wait_until="load")
    tracker.wait_for("/pixel.png")
    assert unread(ui, target)
