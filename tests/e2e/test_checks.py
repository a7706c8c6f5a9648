"""The Checks tab: lint, DKIM, HTML compatibility, links and spam score, as the routes answer them.

Each test sends real mail over SMTP to a real catcher, opens it in headless chromium and
compares what the tab shows with what the routes answer (asked over HTTP by the test), so a
route's answer the tab drops or garbles fails here. Screenshots: tests/screenshots/checks-*.png.
"""

from __future__ import annotations

import base64
import math
import re
import smtplib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import formatdate, make_msgid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from playwright.sync_api import Page, expect

from mailcatch.config import HostPort
from mailcatch.server import ServerThread
from tests import messages
from tests.checks.spamd import running_spamd
from tests.e2e.helpers import UI

PHONE = {"width": 390, "height": 844}
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


CHECK_ROUTES = ("/lint", "/dkim", "/html-check", "/link-check", "/sa-check")


def send_raw(catcher: ServerThread, raw: bytes, rcpt: str = "user@example.com") -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, local_hostname="app.local") as client:
        client.sendmail("app@example.com", [rcpt], raw)


def latest_id(ui: UI) -> str:
    with ui.api() as client:
        message_id: str = client.get("/api/v1/messages").json()["messages"][0]["ID"]
    return message_id


def route(ui: UI, message_id: str, name: str) -> Any:
    with ui.api() as client:
        response = client.get(f"/api/v1/message/{message_id}/{name}")
    assert response.status_code == 200, response.text
    return response.json()


def check_requests(ui: UI) -> list[str]:
    return [url for url in ui.watch.requests if any(url.split("?")[0].endswith(r) for r in CHECK_ROUTES)]


def percent(value: float) -> str:
    """The tab's rounding of a share (checks_html.js, percent())."""
    if 0 < value < 1:
        return "<1%"
    if 99 < value < 100:
        return ">99%"
    return f"{math.floor(value + 0.5)}%"


def section(page: Page, key: str) -> Any:
    return page.locator(f"section.check-{key}")


def open_checks(ui: UI, subject: str) -> None:
    ui.open(subject)
    ui.tab("Checks").click()
    expect(ui.tab("Checks")).to_have_attribute("aria-selected", "true")


# Messages ---------------------------------------------------------------------------------

BROKEN = (
    b"From: App <app@example.com>\r\n"
    b"From: Other <other@example.com>\r\n"
    b"To: user@example.com\r\n"
    b"Subject: Broken on purpose\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"\r\n"
    b"<p>Only HTML here, and no text alternative.</p>\r\n"
)
"""No Date, no Message-ID, two From headers, HTML without a text part."""

NEWSLETTER_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Spring news</title>
<style>
  .row { display: flex; gap: 12px; }
  .ribbon { position: absolute; top: 0; right: 0; }
  .card { border-radius: 8px; background: #fff; }
</style></head>
<body>
<div class="row" style="display:flex">
  <div class="card"><span class="ribbon" style="position:absolute;top:4px">New</span>
    <h1>Spring collection</h1><p>Fresh picks for you.</p></div>
  <div class="card"><p>Second column</p></div>
</div>
</body></html>
"""


def newsletter() -> bytes:
    message = messages.build("Spring newsletter", text="Spring collection: fresh picks for you.", html=NEWSLETTER_HTML)
    message.add_attachment(messages.png(), maintype="image", subtype="png", filename="spring.png")  # a badge on Files
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(domain="example.com")
    return message.as_bytes().replace(b"\n", b"\r\n")


def rsa_key() -> tuple[bytes, str]:
    """A fresh 2048-bit key: its PEM, and the public half as a DKIM TXT record's text."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"


def signed_message(subject: str, pem: bytes, *, tamper: bool = False) -> bytes:
    message = messages.build(subject, sender="news@shop.test", text="Your order has shipped.\n")
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(domain="shop.test")
    raw = message.as_bytes().replace(b"\n", b"\r\n")
    signature = dkim.sign(
        raw, b"mail2026", b"shop.test", pem, include_headers=[b"from", b"to", b"subject", b"date", b"message-id"]
    )
    raw = signature + raw
    if tamper:
        raw = raw.replace(b"Your order has shipped.", b"Your order was cancelled.")
    return raw


# The loopback site the link check requests -------------------------------------------------


class LinkSite:
    def __init__(self) -> None:
        self.hits: list[tuple[str, str]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self, method: str) -> None:
                site.hits.append((method, self.path))
                if self.path == "/nohead" and method == "HEAD":
                    status, headers = 405, {"Allow": "GET"}
                elif self.path == "/moved":
                    status, headers = 301, {"Location": "/ok"}
                elif self.path in ("/ok", "/nohead", "/logo.png"):
                    status, headers = 200, {}
                else:
                    status, headers = 404, {}
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_HEAD(self) -> None:
                self.answer("HEAD")

            def do_GET(self) -> None:
                self.answer("GET")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def link_site() -> Iterator[LinkSite]:
    site = LinkSite()
    yield site
    site.close()


def links_message(base: str) -> bytes:
    html = (
        f'<p><a href="{base}/ok">Shop</a> · <a href="{base}/gone">Old sale</a> · <a href="{base}/moved">Moved</a></p>'
        f'<img src="{base}/logo.png" alt="logo">'
    )
    message = messages.build("Links to check", text=f"Read more: {base}/nohead\n", html=html)
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(domain="example.com")
    return message.as_bytes().replace(b"\n", b"\r\n")


# Tests ------------------------------------------------------------------------------------


def test_lint_findings_are_grouped_with_their_references_and_places(open_ui: Callable[..., UI]) -> None:
    ui = open_ui()
    send_raw(ui.catcher, BROKEN)
    expect(ui.rows).to_have_count(1)
    ui.open("Broken on purpose")
    page = ui.page
    page.wait_for_timeout(300)
    assert check_requests(ui) == [], "a check ran before the Checks tab was opened"
    ui.tab("Checks").click()

    lint = route(ui, latest_id(ui), "lint")
    findings = lint["Findings"]
    errors = [f for f in findings if f["Severity"] == "error"]
    assert any("Date" in (f["Where"].get("Header") or "") + f["Message"] for f in errors), findings
    items = section(page, "lint").locator(".lint-item")
    expect(items).to_have_count(len(findings))
    for finding in findings:
        text = finding["Message"][0].upper() + finding["Message"][1:]
        item = items.filter(has=page.locator(".lint-message", has_text=text)).first
        expect(item.locator(".lint-message")).to_have_text(text)
        expect(item).to_be_visible()
        if finding.get("Code"):
            expect(item.locator(".lint-code")).to_have_text(finding["Code"])
        if finding.get("Reference"):
            expect(item.locator(".check-ref")).to_have_text(finding["Reference"])
        if finding["Where"].get("Header"):
            expect(item.locator(".lint-where", has_text="header")).to_contain_text(finding["Where"]["Header"])
        kind = {"error": "is-bad", "warning": "is-warn"}.get(finding["Severity"], "is-info")
        expect(item).to_have_class(re.compile(kind))
    # Errors first, under a heading that counts them; the summary card says how many.
    expect(section(page, "lint").locator("h4").first).to_contain_text(f"Errors ({len(errors)})")
    card = page.locator(".check-card[data-check=lint]")
    expect(card).to_contain_text(f"{lint['Errors']} errors · {lint['Warnings']} warnings")
    expect(card).to_have_attribute("data-kind", "bad")
    # An RFC reference links to the RFC's section.
    with_rfc = [f for f in findings if re.match(r"RFC \d+ section [\d.]+", f.get("Reference") or "")]
    assert with_rfc, findings
    number, where = re.match(r"RFC (\d+) section ([\d.]+\d|\d+)", with_rfc[0]["Reference"]).groups()  # type: ignore[union-attr]
    expect(items.filter(has_text=with_rfc[0]["Code"]).first.locator("a.check-ref")).to_have_attribute(
        "href", f"https://www.rfc-editor.org/rfc/rfc{number}#section-{where}"
    )
    # SpamAssassin is off: no spam section, and no request for it.
    expect(section(page, "spam")).to_be_hidden()
    expect(page.locator(".check-card[data-check=spam]")).to_be_hidden()
    # lint, dkim and html-check ran when the tab opened, each once; the link check never.
    expect(section(page, "html").locator(".html-total-num")).to_have_text("100%")
    requested = [url.split("/")[-1] for url in check_requests(ui)]
    assert sorted(requested) == ["dkim", "html-check", "lint"], requested
    ui.shot("checks-lint")


def test_dkim_pass_and_fail_beside_the_envelope_and_in_the_tab(
    open_ui: Callable[..., UI], start_catcher: Callable[..., ServerThread], tmp_path: Path
) -> None:
    pem, record = rsa_key()
    keys = tmp_path / "dkim-keys.txt"
    keys.write_text(f"mail2026._domainkey.shop.test {record}\n")
    catcher = start_catcher(dkim_keys=str(keys))
    send_raw(catcher, signed_message("Shipped, signed", pem))
    send_raw(catcher, signed_message("Shipped, tampered", pem, tamper=True))
    ui = open_ui(on=catcher)
    expect(ui.rows).to_have_count(2)
    page = ui.page

    # Beside the envelope: nothing is verified until asked; then the result, linking to the tab.
    ui.open("Shipped, signed")
    envelope = page.get_by_role("region", name="SMTP envelope")
    verify = envelope.get_by_role("button", name="Verify DKIM signatures")
    expect(verify).to_be_visible()
    page.wait_for_timeout(200)
    assert check_requests(ui) == []
    verify.click()
    badge = envelope.locator(".dkim-badge-btn")
    expect(badge).to_have_attribute("data-result", "pass")
    expect(badge).to_have_text("pass (shop.test)")
    ui.shot("checks-dkim-envelope")
    badge.click()
    expect(ui.tab("Checks")).to_have_attribute("aria-selected", "true")
    dkim_section = section(page, "dkim")
    expect(dkim_section.locator("h3")).to_be_focused()
    sig = dkim_section.locator(".dkim-sig")
    expect(sig).to_have_count(1)
    expect(sig.locator(".check-pill")).to_have_text("pass")
    expect(sig).to_contain_text("d=shop.test")
    expect(sig).to_contain_text("s=mail2026")
    expect(sig).to_contain_text("rsa-sha256")
    answer = route(ui, latest_id_of(ui, "Shipped, signed"), "dkim")
    assert answer["Signatures"][0]["KeySource"] == "file", answer
    expect(sig).to_contain_text("Key from the --dkim-keys file")
    expect(sig).to_contain_text("signs 5 headers: from to subject date message-id")
    expect(page.locator(".check-card[data-check=dkim]")).to_have_attribute("data-kind", "ok")
    # The badge asked /dkim once; the tab reused its answer. A text-only message has no HTML to check.
    assert len([url for url in check_requests(ui) if url.endswith("/dkim")]) == 1
    expect(section(page, "html")).to_contain_text("no HTML part")
    assert not [url for url in check_requests(ui) if url.endswith("/html-check")]

    # A body changed after signing fails, with the reason.
    page.locator("#list").focus()
    ui.open("Shipped, tampered")
    expect(ui.tab("Checks")).to_have_attribute("aria-selected", "true")  # the tab is remembered
    failed = route(ui, latest_id_of(ui, "Shipped, tampered"), "dkim")["Signatures"][0]
    assert failed["Result"] == "fail", failed
    sig = section(page, "dkim").locator(".dkim-sig")
    expect(sig.locator(".check-pill")).to_have_text("fail")
    expect(sig).to_have_class(re.compile("is-bad"))
    if failed.get("Reason"):
        expect(sig.locator(".dkim-reason")).to_have_text(failed["Reason"])
    # The tab verified it, so the envelope shows the result too.
    expect(page.locator(".dkim-badge-btn")).to_have_attribute("data-result", "fail")
    ui.shot("checks-dkim-fail")


def test_a_routes_error_is_shown_as_it_says_and_try_again_asks_again(
    open_ui: Callable[..., UI], start_catcher: Callable[..., ServerThread], tmp_path: Path
) -> None:
    pem, record = rsa_key()
    keys = tmp_path / "dkim-keys.txt"
    keys.write_text(f"mail2026._domainkey.shop.test {record}\n")
    catcher = start_catcher(dkim_keys=str(keys))
    send_raw(catcher, signed_message("Shipped, signed", pem))
    keys.write_text("this line is no key record\n")  # edited after the start: the route says what is wrong
    ui = open_ui(on=catcher)
    expect(ui.rows).to_have_count(1)
    open_checks(ui, "Shipped, signed")
    with ui.api() as client:
        answer = client.get(f"/api/v1/message/{latest_id(ui)}/dkim")
    assert answer.status_code >= 400, answer.text
    problem = section(ui.page, "dkim").locator(".check-state.is-error")
    expect(problem).to_contain_text(f"Couldn't verify the signatures (HTTP {answer.status_code}): ")
    expect(problem).to_contain_text(answer.json()["Error"])
    expect(ui.page.locator(".check-card[data-check=dkim]")).to_have_attribute("data-kind", "bad")
    expect(ui.page.locator(".dkim-badge-btn")).to_have_text("couldn't verify")  # beside the envelope too
    ui.shot("checks-error")
    keys.write_text(f"mail2026._domainkey.shop.test {record}\n")
    problem.get_by_role("button", name="Try again").click()
    expect(section(ui.page, "dkim").locator(".dkim-sig .check-pill")).to_have_text("pass")
    expect(ui.page.locator(".dkim-badge-btn")).to_have_attribute("data-result", "pass")
    assert len([url for url in check_requests(ui) if url.endswith("/dkim")]) == 2


def test_a_slow_check_shows_it_is_running_and_moving_on_cancels_it(
    open_ui: Callable[..., UI], start_catcher: Callable[..., ServerThread]
) -> None:
    # DKIM keys looked up in a DNS server that never answers: the check takes its 4 s timeout.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        catcher = start_catcher(dkim_dns=True, dkim_dns_server=HostPort("127.0.0.1", silent.getsockname()[1]))
        pem, _ = rsa_key()
        send_raw(catcher, signed_message("Slow to verify", pem))
        send_raw(catcher, newsletter())
        ui = open_ui(on=catcher)
        expect(ui.rows).to_have_count(2)
        page = ui.page
        failed: list[tuple[str, str | None]] = []
        page.on("requestfailed", lambda request: failed.append((request.url, request.failure)))
        open_checks(ui, "Slow to verify")
        dkim_section = section(page, "dkim")
        expect(dkim_section.locator(".check-state.is-loading")).to_have_text("Verifying…")
        expect(dkim_section.locator(".check-body")).to_have_attribute("aria-busy", "true")
        expect(page.locator(".check-card[data-check=dkim]")).to_contain_text("checking…")
        expect(page.locator(".dkim-verify")).to_have_text("verifying…")
        expect(page.locator(".dkim-verify")).to_be_disabled()
        expect(section(page, "lint").locator(".check-clean")).to_be_visible()  # the others don't wait for it
        ui.shot("checks-loading")
        page.keyboard.press("k")  # the message above: its checks run, the slow one is cancelled
        expect(page.locator("#reader-subject")).to_have_text("Spring newsletter")
        expect(section(page, "html").locator(".html-total-num")).to_be_visible()
        expect(section(page, "dkim")).to_contain_text("no DKIM signature")
        deadline = time.monotonic() + 5
        while not [url for url, _ in failed if url.endswith("/dkim")] and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        assert [why for url, why in failed if url.endswith("/dkim")] == ["net::ERR_ABORTED"], failed


def latest_id_of(ui: UI, subject: str) -> str:
    with ui.api() as client:
        found = client.get("/api/v1/search", params={"query": f'subject:"{subject}"'}).json()["messages"]
    assert found, subject
    message_id: str = found[0]["ID"]
    return message_id


def test_html_compatibility_table_total_and_platform_filter(open_ui: Callable[..., UI]) -> None:
    ui = open_ui()
    send_raw(ui.catcher, newsletter())
    expect(ui.rows).to_have_count(1)
    open_checks(ui, "Spring newsletter")
    page = ui.page
    data = route(ui, latest_id(ui), "html-check")
    warnings = data["Warnings"]
    titles = [w["Title"] for w in warnings]
    flex = next(w for w in warnings if "flex" in w["Slug"])
    assert any("position" in w["Slug"] for w in warnings), titles

    html = section(page, "html")
    rows = html.locator("tr.html-row")
    # Features some client lacks are listed; those every client supports only when asked.
    lacking = [w for w in warnings if w["Score"]["Partial"] > 0 or w["Score"]["Unsupported"] > 0]
    assert 0 < len(lacking) < len(warnings), titles
    expect(rows).to_have_count(len(lacking))
    for warning in lacking:
        expect(html.locator(f"tr[data-slug='{warning['Slug']}'] .html-title")).to_have_text(warning["Title"])
    html.get_by_label(re.compile("Show fully supported")).check()
    expect(rows).to_have_count(len(warnings))
    html.get_by_label(re.compile("Show fully supported")).uncheck()
    expect(rows).to_have_count(len(lacking))
    expect(html.locator(".html-total-num")).to_have_text(percent(data["Total"]["Supported"]))
    flex_row = html.locator(f"tr.html-row[data-slug='{flex['Slug']}']")
    expect(flex_row.locator(".html-shares .is-ok")).to_have_text(percent(flex["Score"]["Supported"]))
    lines = sorted({place["Line"] for place in flex["Where"]})
    expect(flex_row.locator(".html-where")).to_have_text(
        f"line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))}"
    )
    expect(flex_row.locator(".support-bar")).to_have_attribute(
        "aria-label", re.compile(r"supported, .* partial, .* unsupported")
    )
    ui.shot("checks-html")

    # Filtered to one platform, the shares are that platform's clients' only.
    platform = next(p for p in sorted(data["Platforms"]) if any(r["Platform"] == p for r in flex["Results"]))
    results = [r for r in flex["Results"] if r["Platform"] == platform]
    yes = 100 * sum(r["Support"] == "yes" for r in results) / len(results)
    html.get_by_label("Platform").select_option(platform)
    expect(html.locator(".html-total-label")).to_contain_text("supported on")
    expect(flex_row.locator(".html-shares .is-ok")).to_have_text(percent(yes))

    # A row opens (keyboard too) to the description, the places and each client's support.
    toggle = flex_row.locator(".html-toggle")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(html.locator(".html-toggle[aria-expanded=true]")).to_have_count(1)
    detail = html.locator(".html-detail-row")
    expect(detail.locator(".html-client")).to_have_count(len(results))
    expect(detail).to_contain_text("Support by client")
    places = detail.locator(".html-places li")
    expect(places).to_have_count(len(flex["Where"]))
    first = flex["Where"][0]
    expect(places.first).to_have_text(f"line {first['Line']}:{first['Column']}{first['Snippet']}")
    ui.shot("checks-html-detail")
    html.get_by_label("Platform").select_option("")
    expect(html.locator(".html-total-num")).to_have_text(percent(data["Total"]["Supported"]))


def test_link_check_runs_only_on_the_button_and_shows_each_status(
    open_ui: Callable[..., UI], start_catcher: Callable[..., ServerThread], link_site: LinkSite
) -> None:
    catcher = start_catcher(allow_internal_http_requests=True)
    send_raw(catcher, links_message(link_site.url))
    ui = open_ui(on=catcher)
    expect(ui.rows).to_have_count(1)
    open_checks(ui, "Links to check")
    page = ui.page
    links = section(page, "links")
    expect(links).to_contain_text("Not run")
    page.wait_for_timeout(400)
    assert link_site.hits == [], "the link check ran without being asked"

    button = links.get_by_role("button", name="Check links")
    follow = links.get_by_label("Follow redirects")
    expect(follow).to_be_checked()
    button.click()
    rows = links.locator("tbody tr")
    expect(rows).to_have_count(5)
    gone = rows.filter(has_text=f"{link_site.url}/gone")
    expect(gone).to_have_class(re.compile("is-failed"))
    expect(gone.locator(".check-pill")).to_have_text("404")
    expect(rows.first).to_contain_text("/gone")  # failures first
    for path in ("/ok", "/logo.png", "/nohead", "/moved"):
        expect(rows.filter(has_text=f"{link_site.url}{path}").locator(".check-pill")).to_have_text("200")
    expect(links.locator("tr.is-failed")).to_have_count(1)
    expect(page.locator(".check-card[data-check=links]")).to_contain_text("1 of 5 failed")
    assert ("GET", "/nohead") in link_site.hits  # HEAD refused: asked again with GET
    page.locator(".check-card[data-check=links]").click()
    expect(links.locator("h3")).to_be_focused()
    ui.shot("checks-links")

    # Without following redirects, the redirect itself is the answer.
    follow.uncheck()
    links.get_by_role("button", name="Check again").click()
    expect(rows.filter(has_text=f"{link_site.url}/moved").locator(".check-pill")).to_have_text("301")


def test_spam_score_shows_only_when_enabled_and_says_why_it_failed(
    open_ui: Callable[..., UI], start_catcher: Callable[..., ServerThread]
) -> None:
    # A spamd address where nothing listens: the route answers with an Error the tab shows.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    catcher = start_catcher(enable_spamassassin=f"127.0.0.1:{closed}")
    send_raw(catcher, newsletter())
    ui = open_ui(on=catcher)
    expect(ui.rows).to_have_count(1)
    open_checks(ui, "Spring newsletter")
    answer = route_any(ui, latest_id(ui), "sa-check")
    assert answer["Error"], answer
    spam = section(ui.page, "spam")
    problem = spam.locator(".check-state.is-error")
    expect(problem).to_contain_text("Couldn't get the spam score")
    expect(problem).to_contain_text(answer["Error"])
    expect(problem.get_by_role("button", name="Try again")).to_be_visible()
    card = ui.page.locator(".check-card[data-check=spam]")
    expect(card).to_have_attribute("data-kind", "bad")
    card.click()
    expect(spam.locator("h3")).to_be_focused()
    ui.shot("checks-spam-error")


def test_spam_score_and_rules_from_a_real_spamd(
    open_ui: Callable[..., UI], start_catcher: Callable[..., ServerThread]
) -> None:
    with running_spamd() as spamd:
        catcher = start_catcher(enable_spamassassin=spamd.address)
        message = messages.build("Test spam", text=f"Hello,\n\n{GTUBE}\n")
        message["Date"] = formatdate()
        message["Message-ID"] = make_msgid(domain="example.com")
        send_raw(catcher, message.as_bytes().replace(b"\n", b"\r\n"))
        ui = open_ui(on=catcher)
        expect(ui.rows).to_have_count(1)
        open_checks(ui, "Test spam")
        answer = route(ui, latest_id(ui), "sa-check")
        assert answer["IsSpam"] and not answer["Error"], answer
        spam = section(ui.page, "spam")
        expect(spam.locator(".spam-score")).to_have_text(f"{answer['Score']:.1f}")
        expect(spam.locator(".spam-head .check-pill")).to_have_text("spam")
        rows = spam.locator("tbody tr")
        expect(rows).to_have_count(len(answer["Rules"]))
        highest = max(answer["Rules"], key=lambda rule: rule["Score"])
        expect(rows.first.locator("td").nth(1)).to_have_text(highest["Name"])  # highest score first
        expect(rows.first.locator("td").first).to_have_text(f"+{highest['Score']:.1f}")
        expect(rows.first.locator("td").nth(2)).to_have_text(highest["Description"])
        card = ui.page.locator(".check-card[data-check=spam]")
        expect(card).to_have_attribute("data-kind", "bad")
        card.click()
        expect(spam.locator("h3")).to_be_focused()
        ui.shot("checks-spam")


def route_any(ui: UI, message_id: str, name: str) -> Any:
    """A route's JSON whatever its status (an error answer included)."""
    with ui.api() as client:
        return client.get(f"/api/v1/message/{message_id}/{name}").json()


def test_checks_in_dark_mode_on_a_phone_and_by_keyboard(open_ui: Callable[..., UI], catcher: ServerThread) -> None:
    send_raw(catcher, newsletter())
    send_raw(catcher, BROKEN)
    for scheme, viewport in (("dark", None), ("light", PHONE), ("dark", PHONE)):
        ui = open_ui(color_scheme=scheme, viewport=viewport)
        expect(ui.rows).to_have_count(2)
        page = ui.page
        ui.open("Spring newsletter")
        if viewport:
            expect(ui.tab("Attachments")).to_contain_text("1")
            tabs = page.get_by_role("tab")
            expect(tabs).to_have_count(7)
            for i in range(7):
                box = tabs.nth(i).bounding_box()
                assert box is not None
                assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (i, box)
            assert page.locator(".tabs").evaluate("el => el.scrollWidth <= el.clientWidth"), "the tab strip scrolls"
        # 7 opens the Checks tab; the summary cards lead to their sections.
        page.keyboard.press("7")
        expect(ui.tab("Checks")).to_have_attribute("aria-selected", "true")
        expect(section(page, "html").locator("tr.html-row").first).to_be_visible()
        card = page.locator(".check-card[data-check=html]")
        card.focus()
        page.keyboard.press("Enter")
        expect(section(page, "html").locator("h3")).to_be_focused()
        expect(section(page, "html").locator("h3")).to_be_in_viewport()
        # Only the reading pane scrolled to the section: the page itself stays put.
        assert page.evaluate("document.documentElement.scrollTop + document.body.scrollTop") == 0
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.locator("#reader").evaluate("el => el.scrollWidth <= el.clientWidth + 1"), (
            "the checks are wider than the pane"
        )
        name = f"checks-{'phone' if viewport else 'desktop'}-{scheme}"
        ui.shot(f"{name}-html")
        page.locator("#reader").evaluate("el => el.scrollTo(0, 0)")
        ui.shot(name)
        # k opens the message above; the Checks tab stays, with that message's findings.
        page.keyboard.press("k")
        expect(page.locator("#reader-subject")).to_have_text("Broken on purpose")
        expect(section(page, "lint").locator(".lint-item.is-bad").first).to_be_visible()
        ui.shot(f"{name}-lint")
