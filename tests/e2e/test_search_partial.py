"""A search answered before the search index caught up shows a note above its results, gone once it has."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import expect

from mailcatch.server import ServerThread
from tests.e2e.helpers import UI
from tests.messages import build, send
from tests.web.test_search_partial import complete, index_held


def test_a_partial_search_says_so_above_its_results(
    open_ui: Callable[..., UI], start_catcher: Callable[..., ServerThread], tmp_path: Path
) -> None:
    database = tmp_path / "mail.db"
    catcher = start_catcher(database=str(database))
    send(catcher, build("first report", text="quarterly numbers"))
    complete(catcher, "quarterly")
    ui = open_ui(on=catcher)
    note = ui.page.locator("#search-partial")

    with index_held(database):
        send(catcher, build("second report", text="quarterly numbers again"))
        ui.page.locator("#search").fill("quarterly")
        ui.page.keyboard.press("Enter")
        expect(note).to_be_visible()
        expect(note).to_have_text("Search results may be incomplete: the search index is 1 message behind.")
        expect(ui.rows).to_have_count(1)
        ui.shot("search-partial")

    complete(catcher, "quarterly")
    ui.page.locator("#search").press("Enter")
    expect(ui.rows).to_have_count(2)
    expect(note).to_be_hidden()
    ui.page.get_by_role("button", name="Clear search").click()
    expect(note).to_be_hidden()
