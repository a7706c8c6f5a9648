"""Messages built to attack the viewer never run anything, and the UI asks no third party for anything."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests import messages
from tests.e2e.helpers import UI, Tracker


def test_hostile_message_runs_nothing_and_loads_nothing_remote(open_ui: Callable[..., UI], tracker: Tracker) -> None:
    ui = open_ui(goto=False)
    ui.send(messages.hostile(tracker.url))
    ui.goto()
    page = ui.page
    expect(ui.rows).to_have_count(1)
    row = ui.rows.first
    # The hostile subject, sender and tag are text, nothing more.
    expect(row.locator(".row-subject")).to_contain_text("Hostile <img src=x onerror=")
    expect(row.locator(".row-from")).to_contain_text("<img src=x onerror=")
    expect(row.locator("img, script, b")).to_have_count(0)
    expect(row.locator(".tag")).to_have_text("img src x onerror alert 2")  # cleaned as Mailpit cleans tags

    row.click()
    expect(page.locator("#reader-subject")).to_contain_text('"quotes" & <b>bold</b>')
    assert page.locator("#reader img, #reader script, #reader b").count() == 0
    frame_el = page.locator("iframe.html-frame")
    sandbox = frame_el.get_attribute("sandbox") or ""
    assert "allow-scripts" not in sandbox and "allow-same-origin" not in sandbox and "allow-forms" not in sandbox
    frame = page.frame_locator("iframe.html-frame")
    expect(frame.locator("#hello")).to_have_text("Hello from a hostile message")
    ui.shot("hostile-html")

    # What the message tried: nothing of it is left to run.
    expect(frame.locator("script")).to_have_count(0)
    expect(frame.locator("[onerror], [onload], [onmouseover]")).to_have_count(0)
    expect(frame.locator("iframe, object, embed, base, meta[http-equiv=refresh]")).to_have_count(0)
    expect(frame.locator("#js-link")).not_to_have_attribute("href", "javascript:window.__pwned='link';alert(9)")
    expect(frame.locator("a[href^='javascript:' i], a[href^='data:' i]")).to_have_count(0)
    expect(frame.locator("#evil-form")).not_to_have_attribute("action", f"{tracker.url}form")

    # Poke at it the way a curious developer would.
    frame.locator("#js-link").click()
    frame.locator("svg a").click(force=True)
    frame.locator("#hover-me").hover()
    frame.locator("#evil-submit").click()
    page.wait_for_timeout(1500)  # past the meta refresh's 1 second
    message_frame = next(f for f in page.frames if f != page.main_frame)
    assert message_frame.url == "about:srcdoc"
    assert message_frame.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.title") == "mailcatch"
    assert tracker.hits == [], f"the hostile message reached a third party: {tracker.hits}"

    # Text view: javascript: is not a link; plain URLs are.
    ui.tab("Text").click()
    text = page.locator("pre.text-body")
    expect(text).to_contain_text("javascript:alert(3)")
    expect(text.get_by_role("link")).to_have_count(1)
    expect(text.get_by_role("link")).to_have_attribute("href", "http://safe.example/ok")

    # Hostile file names are names; the SVG preview is an <img>, which never runs script.
    ui.tab("Attachments").click()
    cards = page.locator("li.attachment")
    expect(cards).to_have_count(2)
    expect(cards.first.locator(".att-name")).to_have_text('<img src=x onerror="alert(21)">.svg')
    expect(cards.nth(1).locator(".att-name")).to_have_text('"><svg onload=alert(23)>.html')
    expect(cards.first.get_by_role("link")).to_have_attribute("download", '<img src=x onerror="alert(21)">.svg')
    page.wait_for_function("() => [...document.querySelectorAll('.att-preview img')].every(i => i.complete)")
    assert page.locator("#reader script").count() == 0
    ui.shot("hostile-attachments")

    # Raw and headers show the source as text.
    ui.tab("Raw").click()
    expect(page.locator("pre.raw-body")).to_contain_text("<script>alert(4)</script>")
    ui.tab("Headers").click()
    expect(page.locator("table.headers-table")).to_contain_text("<img src=x onerror=alert(2)>")

    # Asking for remote content loads images and styles, and still runs nothing.
    ui.tab("HTML").click()
    page.get_by_role("button", name="Load remote content").click()
    tracker.wait_for("/pixel.png")
    tracker.wait_for("/css-bg")
    page.wait_for_timeout(500)
    assert not [
        hit
        for hit in tracker.hits
        if "ran" in hit or "form" in hit or "refresh" in hit or "object" in hit or "embed" in hit or "base" in hit
    ], tracker.hits
    message_frame = next(f for f in page.frames if f != page.main_frame)
    assert message_frame.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("typeof window.__pwned") == "undefined"
    # The dialog watcher (in the fixture) fails the test if any alert() fired.


def test_the_ui_asks_no_third_party_and_keeps_its_policy(ui: UI) -> None:
    ui.send(messages.rich("http://203.0.113.7/"))
    ui.open("Your Acme invoice")
    for label in ["Text", "Headers", "Raw", "Transcript", "Attachments", "HTML"]:
        ui.tab(label).click()
        expect(ui.page.get_by_role("tabpanel")).not_to_contain_text("Loading")
    origin = urlsplit(ui.catcher.url).netloc
    foreign = [
        url
        for url in ui.watch.requests
        if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).netloc != origin
    ]
    assert foreign == []
    with ui.api() as api:
        policy = api.get("/").headers["content-security-policy"]
    directives = dict(([*d.split(" ", 1), ""])[:2] for d in (part.strip() for part in policy.split(";")))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in policy
    assert not [e for e in ui.watch.console_errors if "Content Security Policy" in e], ui.watch.console_errors
    html = ui.page.content()
    assert "<script>" not in html.replace('<script type="module" src="app.js"></script>', "")
