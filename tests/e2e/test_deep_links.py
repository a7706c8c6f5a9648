"""Deep links as Mailpit's UI writes them open the right thing in mailcatch's UI."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests import messages
from tests.e2e.helpers import UI


def test_view_latest_and_search_links(open_ui: Callable[..., UI]) -> None:
    ui = open_ui(goto=False)
    ui.send(messages.build("Older invoice"))
    ui.send(messages.build("Newest welcome"))
    ui.page.goto(ui.catcher.url + "/view/latest")
    expect(ui.page.locator("#reader")).to_contain_text("Newest welcome")
    ui.page.goto(ui.catcher.url + "/search?q=invoice")
    expect(ui.page.locator("#search")).to_have_value("invoice")
    expect(ui.rows).to_have_count(1)
    expect(ui.rows.first).to_contain_text("Older invoice")
