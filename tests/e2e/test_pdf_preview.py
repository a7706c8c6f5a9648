"""Previews of PDF attachments: the browser's own viewer in a frame of the part route's `?inline=1`,
which the UI's policy lets it frame and which is served for the catcher's own frames only."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Frame, Page, expect

from tests import messages
from tests.e2e.helpers import UI

REPORT = messages.pdf("Quarterly report")


def _is_viewer(frame: Frame) -> bool:
    return frame.url.startswith("chrome-extension://")


def _viewer(page: Page) -> Frame:
    """Chromium's PDF viewer (an extension's page), once it is in a frame of the page."""
    found = next((frame for frame in page.frames if _is_viewer(frame)), None)
    return found or page.wait_for_event("framenavigated", predicate=_is_viewer)


def test_a_pdf_attachment_is_shown_in_a_frame(ui: UI) -> None:
    message = messages.build("Quarterly figures", text="The report is attached.")
    message.add_attachment(REPORT, maintype="application", subtype="pdf", filename="report.pdf")
    message.add_attachment(b"<p>hi</p>", maintype="text", subtype="html", filename="page.html")
    ui.send(message)
    ui.open("Quarterly figures")
    ui.tab("Attachments").click()
    page = ui.page
    downloads: list[str] = []
    page.on("download", lambda download: downloads.append(download.suggested_filename))
    expect(page.locator(".attachment")).to_have_count(2)
    expect(page.get_by_role("button", name="Preview page.html")).to_have_count(0)  # HTML is never framed

    with page.expect_response(re.compile(r"/part/[^/?]+\?inline=1$")) as answered:
        page.get_by_role("button", name="Preview report.pdf").click()
    response = answered.value
    assert response.status == 200
    headers = response.all_headers()
    assert headers["content-type"] == "application/pdf"
    assert headers["content-disposition"].startswith('inline; filename="report.pdf"')
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in headers["content-security-policy"]
    assert "sandbox" not in headers["content-security-policy"]

    dialog = page.locator("dialog.att-dialog.is-pdf")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="report.pdf")).to_be_visible()
    frame_element = dialog.locator("iframe.att-pdf-frame")
    expect(frame_element).to_have_attribute("title", "Preview of report.pdf")
    frame = frame_element.element_handle().content_frame()
    assert frame is not None
    # Refused by a policy, the frame would show Chromium's error page (chrome-error://) instead.
    frame.wait_for_url(response.url, wait_until="load")
    assert downloads == []  # shown, not downloaded
    viewer = _viewer(page)
    assert viewer.parent_frame == frame  # Chromium's PDF viewer, in the preview's frame
    # The viewer read the document: its one page, named after Content-Disposition (it has no title).
    expect(viewer.get_by_role("tab", name="Thumbnail for page 1")).to_be_visible()
    assert viewer.title() == "report.pdf"
    refused = [e for e in ui.watch.console_errors if "frame" in e.lower() or "Content Security Policy" in e]
    assert refused == []
    ui.shot("attachment-preview-pdf")

    dialog.get_by_role("button", name="Close").click()
    expect(page.locator("dialog.att-dialog")).to_have_count(0)
    with page.expect_download() as saved:
        page.get_by_role("link", name="Download report.pdf").click()
    assert saved.value.suggested_filename == "report.pdf"  # the card still downloads it


def test_the_pdf_preview_fits_a_phone_in_dark_mode(open_ui: Callable[..., UI]) -> None:
    phone = open_ui(color_scheme="dark", viewport={"width": 390, "height": 844})
    message = messages.build("Signed contract", text="Attached.")
    message.add_attachment(REPORT, maintype="application", subtype="pdf", filename="contract.pdf")
    phone.send(message)
    phone.open("Signed contract")
    phone.tab("Attachments").click()
    phone.page.get_by_role("button", name="Preview contract.pdf").click()
    frame = phone.page.locator("dialog.att-dialog.is-pdf iframe.att-pdf-frame")
    expect(frame).to_be_visible()
    box = frame.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390  # no sideways scrolling
    # The viewer names the document once it has read it (narrow, it shows no thumbnails).
    expect(_viewer(phone.page).locator("head > title")).to_have_js_property("textContent", "contract.pdf")
    phone.shot("attachment-preview-pdf-phone-dark")
