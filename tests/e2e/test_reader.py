"""The reading pane: the envelope above six views, each showing its part of the message."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import expect

from tests import messages
from tests.e2e.helpers import UI, Tracker

TAB_LABELS = ["HTML", "Text", "Headers", "Raw", "Transcript", "Attachments", "Checks"]


def test_each_tab_shows_its_view(open_ui: Callable[..., UI], tracker: Tracker) -> None:
    ui = open_ui(goto=False)
    ui.send(messages.build("Earlier in the same session"))
    messages.send(ui.catcher, messages.build("First of two in one session"), messages.rich(tracker.url))
    ui.goto()
    ui.open("Your Acme invoice")
    page = ui.page

    # The envelope, above the tabs.
    envelope = page.get_by_role("region", name="SMTP envelope")
    expect(envelope).to_contain_text("MAIL FROM")
    expect(envelope).to_contain_text("<billing@acme.test>")
    expect(envelope).to_contain_text("<ivy@example.com>, <accounts@example.com>")
    expect(envelope.locator(".env-item", has_text="HELO")).to_contain_text("app.local")
    expect(envelope.locator(".env-item", has_text="TLS")).to_contain_text("no")
    expect(envelope.locator(".env-item", has_text="AUTH")).to_contain_text("none")
    expect(envelope.locator(".env-item", has_text="Peer")).to_contain_text("127.0.0.1:")

    # Exactly these tabs, in this order, with role=tab.
    expect(page.get_by_role("tab")).to_have_count(len(TAB_LABELS))
    for index, label in enumerate(TAB_LABELS):
        expect(page.get_by_role("tab").nth(index)).to_have_accessible_name(label)

    # HTML: sandboxed, cid: logo shown, remote content held back until asked for.
    expect(ui.tab("HTML")).to_have_attribute("aria-selected", "true")
    frame_el = page.locator("iframe.html-frame")
    expect(frame_el).to_have_attribute("sandbox", re.compile(r"^(?!.*allow-scripts)(?!.*allow-same-origin).*$"))
    frame = page.frame_locator("iframe.html-frame")
    expect(frame.locator("h1")).to_have_text("Your invoice is ready")
    logo = frame.locator("#logo")
    expect(logo).to_have_attribute("src", re.compile(r"/api/v1/message/[^/]+/part/[\d.]+$"))
    # An opaque origin: the page can't reach into the frame, nor the frame into the page.
    assert page.evaluate("document.querySelector('iframe.html-frame').contentDocument") is None
    expect(logo).to_have_js_property("naturalWidth", 96)
    expect(frame.locator("#tracker")).not_to_have_attribute("src", re.compile("."))
    notice = page.get_by_role("note")
    expect(notice).to_contain_text("Remote content blocked: 2 items")
    page.wait_for_timeout(200)
    assert tracker.hits == []
    ui.shot("message-html")
    page.get_by_role("button", name="Load remote content").click()
    tracker.wait_for("/open.gif")
    tracker.wait_for("/newsletter.css")

    # Width switcher.
    page.get_by_role("button", name=re.compile("^Phone")).click()
    expect(frame_el).to_have_css("width", "375px")
    ui.shot("message-html-phone")
    page.get_by_role("button", name=re.compile("^Tablet")).click()
    expect(frame_el).to_have_css("width", "768px")
    page.get_by_role("button", name=re.compile("^Full")).click()

    # Text: preformatted, links clickable.
    ui.tab("Text").click()
    text = page.locator("pre.text-body")
    expect(text).to_contain_text("Your invoice #2024-0193 for March is ready")
    link = text.get_by_role("link", name="https://billing.acme.test/invoices/2024-0193?ref=email")
    expect(link).to_have_attribute("href", "https://billing.acme.test/invoices/2024-0193?ref=email")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    ui.shot("message-text")

    # Headers: a table, in order.
    ui.tab("Headers").click()
    table = page.locator("table.headers-table")
    expect(table.locator("tbody th").first).to_have_text("From")
    expect(table.locator("tr", has_text="Subject")).to_contain_text("Your Acme invoice #2024-0193 is ready")
    expect(table.locator("tr", has_text="X-Tags")).to_contain_text("billing")
    ui.shot("message-headers")

    # Raw: the source, and the .eml download.
    ui.tab("Raw").click()
    expect(page.locator("pre.raw-body")).to_contain_text("Content-Type: multipart/mixed")
    download_link = page.get_by_role("link", name="Download .eml")
    expect(download_link).to_have_attribute("href", re.compile(r"/raw\?dl=1$"))
    with page.expect_download() as download:
        download_link.click()
    assert download.value.suggested_filename.endswith(".eml")
    ui.shot("message-raw")

    # Transcript: client and server told apart, this message's transaction picked out.
    ui.tab("Transcript").click()
    lines = page.locator("ol.transcript li")
    expect(lines.first).to_contain_text("220")
    expect(page.locator("ol.transcript li.is-client").first).to_contain_text("C:")
    expect(page.locator("ol.transcript li.is-server").first).to_contain_text("S:")
    in_tx = page.locator("ol.transcript li.in-tx")
    expect(in_tx.first).to_contain_text("MAIL FROM:<billing@acme.test>", ignore_case=True)
    expect(in_tx.last).to_contain_text("250")
    expect(page.locator("ol.transcript li", has_text="MAIL FROM:<app@example.com>").first).not_to_have_class(
        re.compile("in-tx")
    )
    expect(lines.first.locator(".t")).to_have_text(re.compile(r"^\+\d+ ms$"))
    client_colour = page.locator("ol.transcript li.is-client .txt").first.evaluate("e => getComputedStyle(e).color")
    server_colour = page.locator("ol.transcript li.is-server .txt").first.evaluate("e => getComputedStyle(e).color")
    assert client_colour != server_colour
    ui.shot("message-transcript")

    # Attachments: name, type, size, download, previews for images.
    ui.tab("Attachments").click()
    cards = page.locator("li.attachment")
    expect(cards).to_have_count(3)
    pdf = cards.filter(has_text="invoice-2024-0193.pdf")
    expect(pdf).to_contain_text("application/pdf")
    expect(pdf).to_contain_text("40 B")
    expect(pdf.get_by_role("link", name="Download invoice-2024-0193.pdf")).to_have_attribute(
        "href", re.compile(r"/part/")
    )
    preview = cards.filter(has_text="usage-chart.png").get_by_role("img")
    expect(preview).to_have_attribute("alt", "Preview of usage-chart.png")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.att-preview img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    ui.shot("message-attachments")

    dark = open_ui(color_scheme="dark", goto=False)
    dark.goto(f"#m={ui.page.url.split('m=')[1]}")
    expect(dark.page.locator("#reader-subject")).to_have_text("Your Acme invoice #2024-0193 is ready")
    dark.shot("message-html-dark")
    dark.tab("Transcript").click()
    expect(dark.page.locator("ol.transcript li.in-tx").first).to_be_visible()
    dark.shot("message-transcript-dark")


def test_a_text_only_message_opens_on_text_and_says_what_is_missing(ui: UI) -> None:
    ui.send(messages.build("Just text", text="Line one\nsee https://example.com/a_(b) and mailto:x@example.com.\n"))
    ui.open("Just text")
    expect(ui.tab("Text")).to_have_attribute("aria-selected", "true")
    text = ui.page.locator("pre.text-body")
    expect(text.get_by_role("link")).to_have_count(2)
    expect(text.get_by_role("link").first).to_have_attribute("href", "https://example.com/a_(b)")
    ui.tab("HTML").click()
    expect(ui.page.get_by_role("tabpanel")).to_contain_text("This message has no HTML part.")
    ui.tab("Attachments").click()
    expect(ui.page.get_by_role("tabpanel")).to_contain_text("This message has no attachments.")


def test_narrow_screen_and_200_percent_zoom_stack_the_panes(open_ui: Callable[..., UI]) -> None:
    # 1280x800 at 200% zoom is a 640x400 CSS-pixel viewport at device scale 2.
    ui = open_ui(viewport={"width": 640, "height": 400}, device_scale_factor=2, goto=False)
    ui.send(messages.rich())
    ui.send(messages.build("Short one"))
    ui.goto()
    expect(ui.rows).to_have_count(2)
    expect(ui.page.locator("#reader")).to_be_hidden()
    ui.shot("zoom200-list")
    ui.open("Your Acme invoice")
    expect(ui.page.locator("#list")).to_be_hidden()
    expect(ui.page.get_by_role("button", name="Back to the list")).to_be_visible()
    for label in TAB_LABELS:
        expect(ui.tab(label)).to_be_attached()
    assert ui.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    ui.shot("zoom200-message")
    ui.page.get_by_role("button", name="Back to the list").click()
    expect(ui.page.locator("#list")).to_be_visible()
    expect(ui.page.locator("#reader")).to_be_hidden()


def test_every_control_has_a_name_and_a_visible_focus(ui: UI) -> None:
    ui.send(messages.rich())
    ui.open("Your Acme invoice")
    snapshot = ui.page.locator("body").aria_snapshot()
    unnamed = [
        line
        for line in snapshot.splitlines()
        if re.fullmatch(r"\s*- (button|link|tab|textbox|searchbox|option|img|separator)( \[[^\]]*\])?:?", line)
    ]
    assert unnamed == [], snapshot
    ui.page.locator("body").focus()
    seen = []
    for _ in range(22):
        ui.page.keyboard.press("Tab")
        seen.append(
            ui.page.evaluate("""() => {
          const el = document.activeElement;
          const style = getComputedStyle(el);
          const ring = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
          const shadow = style.boxShadow !== "none";
          const row = el.id === "list" && !!el.querySelector(".row.is-cursor, .row[aria-selected=true]");
          return { what: el.tagName + (el.id ? "#" + el.id : "") + (el.getAttribute("aria-label") ? "[" + el.getAttribute("aria-label") + "]" : ""),
                   visible: ring || shadow || row || el.tagName === "IFRAME" };
        }""")
        )
    hidden = [item["what"] for item in seen if not item["visible"] and item["what"] != "BODY"]
    assert hidden == [], seen


def test_a_long_session_shows_its_start_and_this_transaction(ui: UI) -> None:
    batch = [messages.build(f"Batch {n:03d}") for n in range(60)]
    messages.send(ui.catcher, *batch)
    expect(ui.page.locator("#list-count")).to_contain_text("60 messages")
    ui.page.get_by_role("searchbox").fill('subject:"Batch 030"')
    ui.page.keyboard.press("Enter")
    expect(ui.rows).to_have_count(1)
    ui.open("Batch 030")
    ui.tab("Transcript").click()
    lines = ui.page.locator("ol.transcript li.line")
    expect(lines.first).to_contain_text("220")
    in_tx = ui.page.locator("ol.transcript li.in-tx")
    expect(in_tx.first).to_contain_text("MAIL FROM", ignore_case=True)
    shown = lines.count()
    assert shown < 60, shown
    gaps = ui.page.locator("ol.transcript li.gap button")
    expect(gaps).to_have_count(2)
    ui.shot("transcript-long-session")
    gaps.first.click()
    expect(gaps).to_have_count(1)
    assert lines.count() > shown
