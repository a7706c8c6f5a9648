"""Browser notifications of new mail: off until the user turns them on, then shown while the page is in the background."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests import messages
from tests.e2e.helpers import UI

# Record each notification the page shows, then show it as the browser would.
RECORD = """
(() => {
  const Real = window.Notification;
  window.__shown = [];
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      window.__shown.push({ title, body: (options || {}).body || "" });
    }
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Recorded.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Recorded;
})();
"""


def test_notifications_are_opt_in_and_shown_in_the_background(open_ui: Callable[..., UI]) -> None:
    ui = open_ui(goto=False)
    ui.page.context.grant_permissions(["notifications"], origin=ui.catcher.url)
    ui.page.add_init_script(RECORD)
    ui.goto()
    page = ui.page
    bell = page.get_by_role("button", name="Notifications of new mail")
    expect(bell).to_have_attribute("aria-pressed", "false")

    ui.send(messages.build("Before opting in"))
    expect(ui.rows).to_have_count(1)
    page.evaluate("window.dispatchEvent(new Event('blur'))")
    ui.send(messages.build("Still not asked for"))
    expect(ui.rows).to_have_count(2)
    assert page.evaluate("window.__shown") == []

    bell.click()
    expect(bell).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".toast")).to_contain_text("notified of new mail")
    ui.shot("notifications-on")
    page.reload()  # remembered: on after a reload, without asking again
    page.wait_for_selector("html[data-ready=true]")
    expect(bell).to_have_attribute("aria-pressed", "true")
    page.evaluate("window.dispatchEvent(new Event('blur'))")  # another window has the focus
    ui.send(messages.build("Your order shipped", sender="Shop <shop@example.com>"))
    expect(ui.rows).to_have_count(3)
    page.wait_for_function("window.__shown.length === 1")
    assert page.evaluate("window.__shown") == [{"title": "Shop", "body": "Your order shipped"}]

    # Back in front: nothing more is announced.
    page.evaluate("window.dispatchEvent(new Event('focus'))")
    ui.send(messages.build("Seen in the list"))
    expect(ui.rows).to_have_count(4)
    assert len(page.evaluate("window.__shown")) == 1

    # Off again: remembered across a reload.
    bell.click()
    expect(bell).to_have_attribute("aria-pressed", "false")
    page.reload()
    page.wait_for_selector("html[data-ready=true]")
    expect(bell).to_have_attribute("aria-pressed", "false")
    page.evaluate("window.dispatchEvent(new Event('blur'))")
    ui.send(messages.build("After turning it off"))
    expect(ui.rows).to_have_count(5)
    assert page.evaluate("window.__shown") == []
