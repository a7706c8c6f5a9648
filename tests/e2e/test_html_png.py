"""Save as PNG: a picture of the message's sanitized HTML, as wide as the preview, as tall as the content."""

from __future__ import annotations

import struct
from pathlib import Path

from playwright.sync_api import expect

from tests import messages
from tests.e2e.helpers import SCREENSHOTS, UI, Tracker


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_html_is_saved_as_a_png(ui: UI, tracker: Tracker) -> None:
    ui.send(messages.rich(remote_base=tracker.url))
    ui.open("Your Acme invoice")
    page = ui.page
    expect(page.locator(".html-frame")).to_be_visible()
    save = page.get_by_role("button", name="Save as PNG")
    ui.shot("html-toolbar-save-png")
    page.locator(".segmented").get_by_role("button", name="Phone").click()
    with page.expect_download() as info:
        save.click()
    download = info.value
    assert download.suggested_filename.endswith(".png")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / "saved-html-phone.png"
    download.save_as(path)
    width, height = _png_size(path)
    assert width == 375
    assert 300 < height < 16_000, height  # cut to the content
    assert path.stat().st_size > 5_000  # drawn, not blank
    assert tracker.hits == []  # remote content stays blocked
    expect(save).to_be_enabled()
