"""GET /api/v1/message/{ID}/html-check: the features a message's HTML uses, caniemail's support for each, where each is.

Messages go to a real catcher over SMTP and the route is read over HTTP; the expected support figures
are counted here from the shipped data file itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx
from openapi_schema_validator import OAS30Validator

from mailcatch.checks import css_tokens
from mailcatch.checks.html_compat import check_html
from mailcatch.server import ServerThread
from mailcatch.web.openapi import document
from tests.helpers import wait_for_count
from tests.messages import build, send

ROOT = Path(__file__).resolve().parents[2]
DATA = json.loads((files("mailcatch.checks") / "data" / "caniemail.json").read_bytes())

NEWSLETTER = """<!DOCTYPE html>
<html lang="en">
<head>
<meta name="color-scheme" content="light dark">
<style>
/* layout */
@media screen and (max-width: 600px) { .col > td, p:hover { display: flex !important } }
@media (prefers-color-scheme: dark) { body { background: #111 } }
.btn.primary:nth-child(2n+1) { color: rgba(0, 0, 0, .5); margin: 1rem }
@font-face { font-family: "Brand"; src: url("https://cdn.example.com/brand.woff2") }
</style>
</head>
<body style="margin:0; font-family:&quot;Open Sans&quot;, system-ui">
<table width="600" cellpadding="0" align="center"><tr><td style="display:grid; gap: 10px">
<img src="https://cdn.example.com/logo.webp?v=2" alt="Logo">
<a href="#top">Top</a> <a href="mailto:help@example.com">Help</a>
<script>track()</script>
<!-- footer -->
</td></tr></table>
</body>
</html>
"""


def _send_and_check(catcher: ServerThread, api: httpx.Client, html: str | None, **query: str) -> httpx.Response:
    send(catcher, build("Newsletter", html=html))
    (summary,) = wait_for_count(api, 1)["messages"]
    return api.get(f"/api/v1/message/{summary['ID']}/html-check", params=query)


def _by_slug(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {warning["Slug"]: warning for warning in answer["Warnings"]}


def test_the_check_lists_each_feature_with_caniemails_support_and_where_it_is(
    catcher: ServerThread, api: httpx.Client
) -> None:
    response = _send_and_check(catcher, api, NEWSLETTER)
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"Warnings", "Platforms", "Total"}
    components = document()["components"]
    OAS30Validator({"$ref": "#/components/schemas/HTMLCheckResponse", "components": components}).validate(answer)
    assert set(answer["Total"]) == {"Tests", "Nodes", "Supported", "Partial", "Unsupported"}
    assert answer["Total"]["Nodes"] == 9  # style, body, table, tr, td, img, a, a, script
    assert answer["Platforms"]["macos"] == ["Apple Mail", "Mozilla Thunderbird", "Outlook"]
    warnings = _by_slug(answer)

    # Where each is: line and column in the message's HTML, and the source there.
    where = {slug: [(p["Line"], p["Snippet"]) for p in warnings[slug]["Where"]] for slug in warnings}
    assert where["css-display-flex"] == [(7, "display: flex !important")]
    assert where["css-display-grid"] == [(14, "display:grid")]
    assert where["css-gap"] == [(14, "gap: 10px")]
    assert where["css-at-media"] == [
        (7, "@media screen and (max-width: 600px)"),
        (8, "@media (prefers-color-scheme: dark)"),
    ]
    assert where["css-at-media-prefers-color-scheme"] == [(8, "@media (prefers-color-scheme: dark)")]
    assert where["css-at-font-face"] == [(10, "@font-face")]
    assert where["css-pseudo-class-nth-child"] == [(9, ".btn.primary:nth-child(2n+1)")]
    assert where["css-selector-chaining"] == [(9, ".btn.primary:nth-child(2n+1)")]
    assert where["css-selector-child"] == [(7, ".col > td, p:hover")]
    assert where["css-pseudo-class-hover"] == [(7, ".col > td, p:hover")]
    assert where["css-rgba"] == [(9, "color: rgba(0, 0, 0, .5)")]
    assert where["css-unit-rem"] == [(9, "margin: 1rem")]
    assert where["css-important"] == [(7, "display: flex !important")]
    assert where["css-comments"] == [(6, "/* ... */")]
    assert where["css-sytem-ui"] == [(13, 'font-family:"Open Sans", system-ui')]  # &quot; decoded
    assert where["css-margin"] == [(9, "margin: 1rem"), (13, "margin:0")]
    assert where["image-webp"] == [(15, '<img src="https://cdn.example.com/logo.webp?v=2" alt="Logo">')]
    assert where["html-anchor-links"] == [(16, '<a href="#top">')]
    assert where["html-mailto-links"] == [(16, '<a href="mailto:help@example.com">')]
    assert where["html-meta-color-scheme"] == [(4, '<meta name="color-scheme" content="light dark">')]
    assert where["html-doctype"] == [(1, "<!DOCTYPE html>")]
    assert where["html-comments"] == [(18, "<!-- footer -->")]
    assert where["html-style"] == [(5, "<style>")]
    assert where["html-body"] == [(20, "</body>")]
    assert {"html-lang", "html-align", "html-width", "html-cellpadding", "html-table", "html-img"} <= set(warnings)
    assert "css-display-none" not in warnings and "css-position" not in warnings
    flex = warnings["css-display-flex"]["Where"][0]
    assert NEWSLETTER.splitlines()[flex["Line"] - 1][flex["Column"] - 1 :].startswith("display: flex")

    # Mailpit's own warning: no client runs scripts.
    assert warnings["html-script"]["Score"] == {"Found": 1, "Supported": 0, "Partial": 0, "Unsupported": 100}
    # Sorted as Mailpit sorts: the most used and least supported first.
    weights = [(w["Score"]["Unsupported"] + w["Score"]["Partial"]) * w["Score"]["Found"] for w in answer["Warnings"]]
    assert weights == sorted(weights, reverse=True)
    assert [w["Slug"] for w in answer["Warnings"][:2]] == ["css-at-media", "html-script"]


def test_results_and_scores_are_caniemails(catcher: ServerThread, api: httpx.Client) -> None:
    warnings = _by_slug(_send_and_check(catcher, api, NEWSLETTER).json())
    (raw,) = [feature for feature in DATA["data"] if feature["slug"] == "css-display-flex"]
    values = [
        value for platforms in raw["stats"].values() for versions in platforms.values() for value in versions.values()
    ]
    known = [value for value in values if not value.startswith("u")]
    flex = warnings["css-display-flex"]
    assert flex["Title"] == raw["title"] and flex["URL"] == raw["url"] and flex["Category"] == "css"
    assert len(flex["Results"]) == len(known)
    assert sum(r["Support"] == "yes" for r in flex["Results"]) == sum(v.startswith("y") for v in known)
    assert sum(r["Support"] == "partial" for r in flex["Results"]) == sum(v.startswith("a") for v in known)
    score = flex["Score"]
    assert score["Found"] == 1
    assert abs(score["Supported"] - 100 * sum(v.startswith("y") for v in known) / len(known)) < 0.01
    assert abs(score["Supported"] + score["Partial"] + score["Unsupported"] - 100) < 0.01
    result = flex["Results"][0]
    assert set(result) == {"Name", "Platform", "Family", "Version", "Support", "NoteNumber"}
    gmail = next(r for r in flex["Results"] if r["Family"] == "gmail" and r["Platform"] == "desktop-webmail")
    assert gmail["Name"] == f"Gmail Desktop Webmail ({gmail['Version']})"
    # caniemail's Markdown is HTML, as Mailpit gives it; notes by number, and each partial result's note.
    font_face = warnings["css-at-font-face"]
    assert font_face["Description"].startswith("<code>@font-face</code> in CSS")
    noted = [r for r in font_face["Results"] if r["NoteNumber"]]
    assert noted and all(r["NoteNumber"] in font_face["NotesByNumber"] for r in noted)
    total = _send_total(warnings)
    assert total > 0


def _send_total(warnings: dict[str, dict[str, Any]]) -> int:
    return sum(w["Score"]["Found"] for w in warnings.values())


def test_total_is_weighted_as_mailpits(catcher: ServerThread, api: httpx.Client) -> None:
    answer = _send_and_check(catcher, api, "<p>Hi</p><script>x()</script>").json()
    total = answer["Total"]
    assert total["Nodes"] == 2  # <p>, <script>
    # The script is unsupported everywhere and is one element of two: half the message.
    assert total["Unsupported"] == 50
    assert abs(total["Supported"] + total["Partial"] + total["Unsupported"] - 100) < 0.01


def test_latest_no_html_and_unknown_ids(catcher: ServerThread, api: httpx.Client) -> None:
    no_html = _send_and_check(catcher, api, None)
    assert no_html.status_code == 400
    assert no_html.json() == {"Error": "message does not contain HTML"}
    send(catcher, build("With HTML", html="<div style='display:none'>x</div>"))
    wait_for_count(api, 2)
    latest = api.get("/api/v1/message/latest/html-check")
    assert latest.status_code == 200 and "css-display-none" in _by_slug(latest.json())
    missing = api.get("/api/v1/message/no-such-id/html-check")
    assert missing.status_code == 404 and "Error" in missing.json()


def test_broken_and_hostile_html_is_read_without_failing() -> None:
    broken = (
        '<div style="color:red; font-family:&quot;a;b&quot;; display:none">'
        "<style>p { color: red; content: '}{;' ; .x { @media { } } /* unclosed"
        '<img src="data:image/png;base64,iVBORw0KGgo=">'
    )
    warnings = _by_slug(check_html(broken))
    assert {"css-display-none", "html-div", "html-style"} <= set(warnings)
    started = time.perf_counter()
    check_html("<a" * 50_000 + "<p style='x" * 10_000 + "<style>" + "{(" * 20_000)
    check_html("<style>" + "(" * 50_000 + ")" * 50_000 + "{} :not(" * 5_000 + "</style>")
    assert time.perf_counter() - started < 2


def test_a_100_kb_newsletter_is_checked_within_a_second(catcher: ServerThread, api: httpx.Client) -> None:
    row = (
        '<tr><td class="item" style="padding:12px 24px; font:14px/1.4 Arial, sans-serif; color:#333;'
        ' border-bottom:1px solid #eee; background-color:#fafafa" align="left" valign="top">'
        '<a href="https://shop.example.com/p/{n}?utm_source=news" style="color:#0a66c2; text-decoration:none">'
        '<img src="https://cdn.example.com/p/{n}.jpg" width="120" height="80" alt="Item {n}"'
        ' style="display:block; border:0; max-width:100%"></a>'
        '<p style="margin:0 0 8px; line-height:1.5">Product {n}: a fine thing at a fine price, now 20% off.</p>'
        "</td></tr>\n"
    )
    rows = "".join(row.format(n=n) for n in range(180))
    html = NEWSLETTER.replace("</td></tr></table>", f"</td></tr>{rows}</table>")
    assert 90_000 < len(html.encode()) < 130_000
    send(catcher, build("Big newsletter", html=html))
    (summary,) = wait_for_count(api, 1)["messages"]
    api.get(f"/api/v1/message/{summary['ID']}/html-check").raise_for_status()  # the data is read once, first
    started = time.perf_counter()
    response = api.get(f"/api/v1/message/{summary['ID']}/html-check")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert _by_slug(response.json())["css-display"]["Score"]["Found"] == 180
    print(f"html-check of a {len(html.encode()) // 1024} KB newsletter over HTTP: {elapsed * 1000:.0f} ms")
    assert elapsed < 1


def test_the_css_reader_keeps_strings_comments_and_nesting_apart() -> None:
    css = (
        '/* a { b: c } */ @import url("x;y.css");\n'
        "a[title='{;}'] { content: \"}\"; color: red !important }\n"
        "@media (min-width: 1px) { @supports (display: grid) { .g { display: grid } } }\n"
        ".card { &:hover { color: blue } padding: 0 }\n"
        "@keyframes spin { from { opacity: 0 } 50% { opacity: 1 } }"
    )
    items = list(css_tokens.read_stylesheet(css))
    kinds = [type(item).__name__ for item in items]
    assert kinds[:2] == ["Comment", "AtRule"]
    declarations = [(d.property, d.value, d.important) for d in items if isinstance(d, css_tokens.Declaration)]
    assert declarations == [
        ("content", '"}"', False),
        ("color", "red", True),
        ("display", "grid", False),
        ("color", "blue", False),
        ("padding", "0", False),
        ("opacity", "0", False),
        ("opacity", "1", False),
    ]
    rules = [(r.selector, r.nested) for r in items if isinstance(r, css_tokens.Rule)]
    assert rules == [("a[title='{;}']", False), (".g", False), (".card", False), ("&:hover", True)]
    at_rules = [(a.name, a.prelude) for a in items if isinstance(a, css_tokens.AtRule)]
    assert at_rules == [
        ("import", 'url("x;y.css")'),
        ("media", "(min-width: 1px)"),
        ("supports", "(display: grid)"),
        ("keyframes", "spin"),
    ]
    for item in items:  # every offset points at the item in the text
        if isinstance(item, css_tokens.Declaration):
            assert css[item.start :].startswith(item.property)
    style = list(css_tokens.read_declarations("color: red; font-family: 'a;b', x;; margin:0"))
    assert [(d.property, d.value) for d in style if isinstance(d, css_tokens.Declaration)] == [
        ("color", "red"),
        ("font-family", "'a;b', x"),
        ("margin", "0"),
    ]


def test_the_data_ships_with_its_licence_and_the_refresh_script_checks_it(tmp_path: Path) -> None:
    data_folder = files("mailcatch.checks") / "data"
    notice = (data_folder / "CANIEMAIL.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in notice and "Rémi Parmentier" in notice
    assert DATA["last_update_date"] in notice
    script = ROOT / "scripts" / "refresh_caniemail.py"
    shipped = str(data_folder / "caniemail.json")
    good = subprocess.run([sys.executable, str(script), "--check", shipped], capture_output=True, text=True, timeout=60)
    assert good.returncode == 0, good.stderr
    assert f"last_update_date: {DATA['last_update_date']}" in good.stdout
    broken = tmp_path / "data.json"
    broken.write_text(json.dumps({**DATA, "data": DATA["data"][:5]}))
    refused = subprocess.run(
        [sys.executable, str(script), "--from", str(broken), "--output", str(tmp_path / "out.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0 and "data is not a list of (at least 100) features" in refused.stderr
    assert not (tmp_path / "out.json").exists()
