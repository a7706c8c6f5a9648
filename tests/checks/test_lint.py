"""GET /api/v1/message/{ID}/lint: a corpus of good mail lints clean and each broken message is caught with its code.

Every message goes through real SMTP (smtplib's `data`, which sends bytes as they are: bare LF, bare
CR and 8-bit bytes included) to a real catcher, and the findings are read over HTTP. The broken
messages of tests/data/lint are named `broken_<code>[_<variant>].eml`: each is a clean message
with one thing wrong, which must be found under that code and be its only error or warning.
"""

from __future__ import annotations

import re
import smtplib
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator

from mailcatch.checks.lint import lint_message
from mailcatch.server import ServerThread
from tests.helpers import running
from tests.messages import build, png

DATA = Path(__file__).resolve().parents[1] / "data"
CORPUS = DATA / "lint"
GOOD = sorted(CORPUS.glob("good_*.eml")) + [
    DATA / name
    for name in (
        "django_alternative.eml",
        "django_cid_mixed.eml",
        "rails_related.eml",
        "outlook_related.eml",
        "apple_mail.eml",
        "iso2022jp.eml",
    )
]
BROKEN = sorted(CORPUS.glob("broken_*.eml"))
SMTPUTF8_ONLY = {"header-not-utf8"}
"""Codes whose message is sent with SMTPUTF8 (the fault is in what that allows)."""


def code_of(path: Path) -> str:
    return path.stem.split("_")[1]


@pytest.fixture(scope="module")
def catcher() -> Iterator[ServerThread]:
    with running() as started:
        yield started


@pytest.fixture(scope="module")
def api(catcher: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=catcher.url, timeout=10) as client:
        yield client


def deliver(catcher: ServerThread, raw: bytes, mail_options: Sequence[str] = ()) -> str:
    """Send bytes as they are over SMTP; the stored message's ID, from the 250 reply."""
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, local_hostname="app.local") as client:
        client.ehlo()
        code, reply = client.mail("app@example.com", list(mail_options))
        assert code == 250, reply
        code, reply = client.rcpt("bob@example.org")
        assert code == 250, reply
        code, reply = client.data(raw)
    assert code == 250, reply
    found = re.search(rb"queued as (\S+)", reply)
    assert found, reply
    return found.group(1).decode()


def lint_of(api: httpx.Client, message_id: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/message/{message_id}/lint")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def problems(lint: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in lint["Findings"] if f["Severity"] != "info"]


def shown(lint: dict[str, Any]) -> str:
    return "\n".join(f"{f['Severity']} {f['Code']} {f['Where']}: {f['Message']}" for f in lint["Findings"])


@pytest.mark.parametrize("path", GOOD, ids=lambda path: path.name)
def test_good_mail_lints_clean(catcher: ServerThread, api: httpx.Client, path: Path) -> None:
    lint = lint_of(api, deliver(catcher, path.read_bytes()))
    assert problems(lint) == [], shown(lint)
    assert lint["Errors"] == lint["Warnings"] == 0


@pytest.mark.parametrize("path", BROKEN, ids=lambda path: path.stem.removeprefix("broken_"))
def test_broken_mail_is_caught_with_its_code(catcher: ServerThread, api: httpx.Client, path: Path) -> None:
    code = code_of(path)
    options = ["SMTPUTF8"] if code in SMTPUTF8_ONLY else []
    lint = lint_of(api, deliver(catcher, path.read_bytes(), options))
    assert code in [f["Code"] for f in lint["Findings"]], shown(lint)
    assert {f["Code"] for f in problems(lint)} == {code}, shown(lint)


def test_the_corpus_covers_every_code_the_issue_names() -> None:
    named = {
        "missing-date",
        "missing-from",
        "missing-message-id",
        "duplicate-header",
        "line-too-long",
        "bare-cr",
        "bare-lf",
        "8bit-header",
        "encoded-word-charset",
        "encoded-word-data",
        "encoded-word-in-quoted-string",
        "charset-mismatch",
        "multipart-not-closed",
        "html-without-text",
        "list-unsubscribe-post-value",
        "one-click-without-https",
        "one-click-not-signed",
        "address-invalid",
        "content-type-mismatch",
        "missing-mime-version",
        "date-invalid",
        "message-id-syntax",
    }
    assert named <= {code_of(path) for path in BROKEN}


def test_the_json_shape_and_order(catcher: ServerThread, api: httpx.Client) -> None:
    raw = (CORPUS / "broken_missing-date.eml").read_bytes()
    raw = raw.replace(b"Message-ID: <lint-corpus@example.com>\r\n", b"")  # a warning, after the error
    raw = raw.replace(b"Subject: Lint corpus\r\n", b"Subject: Gr\xc3\xbc\xc3\x9fe\r\n")  # an error on line 3
    raw = raw.replace(b"7bit", b"8bit").replace(b"Hello Bob.", b"Gr\xc3\xbc\xc3\x9fe, Bob.")  # an info on line 8
    lint = lint_of(api, deliver(catcher, raw))
    assert set(lint) == {"Findings", "Errors", "Warnings", "Infos"}
    for finding in lint["Findings"]:
        assert set(finding) == {"Severity", "Code", "Message", "Reference", "Where"}
        assert set(finding["Where"]) == {"Header", "Line", "PartID"}
    assert [(f["Severity"], f["Code"], f["Where"]) for f in lint["Findings"]] == [
        ("error", "missing-date", {"Header": "", "Line": 0, "PartID": ""}),
        ("error", "8bit-header", {"Header": "Subject", "Line": 3, "PartID": ""}),
        ("warning", "missing-message-id", {"Header": "", "Line": 0, "PartID": ""}),
        ("info", "8bit-without-8bitmime", {"Header": "", "Line": 8, "PartID": "1"}),
    ]
    assert (lint["Errors"], lint["Warnings"], lint["Infos"]) == (2, 1, 1)
    spec = api.get("/api/v1/swagger.json").json()
    OAS30Validator({"$ref": "#/components/schemas/LintCheck", "components": spec["components"]}).validate(lint)
    assert "/api/v1/message/{ID}/lint" in spec["paths"]
    assert lint["Findings"][0]["Reference"] == "RFC 5322 section 3.6"
    assert lint["Findings"][1]["Reference"] == "RFC 6532 section 3"


@pytest.mark.parametrize(
    ("name", "code", "where"),
    [
        ("broken_duplicate-header.eml", "duplicate-header", {"Header": "Date", "Line": 7, "PartID": ""}),
        ("broken_line-too-long.eml", "line-too-long", {"Header": "X-Long", "Line": 7, "PartID": ""}),
        ("broken_line-too-long_body.eml", "line-too-long", {"Header": "", "Line": 11, "PartID": "1"}),
        ("broken_bare-lf.eml", "bare-lf", {"Header": "", "Line": 10, "PartID": "1"}),
        (
            "broken_multipart-not-closed.eml",
            "multipart-not-closed",
            {"Header": "Content-Type", "Line": 7, "PartID": ""},
        ),
        (
            "broken_content-type-mismatch.eml",
            "content-type-mismatch",
            {"Header": "Content-Type", "Line": 14, "PartID": "2"},
        ),
        ("broken_cid-not-found.eml", "cid-not-found", {"Header": "", "Line": 17, "PartID": "2.1"}),
        ("broken_charset-mismatch.eml", "charset-mismatch", {"Header": "Content-Type", "Line": 7, "PartID": "1"}),
        ("broken_alternative-order.eml", "alternative-order", {"Header": "Content-Type", "Line": 7, "PartID": ""}),
    ],
)
def test_where_a_finding_is(
    catcher: ServerThread, api: httpx.Client, name: str, code: str, where: dict[str, Any]
) -> None:
    lint = lint_of(api, deliver(catcher, (CORPUS / name).read_bytes()))
    assert [f["Where"] for f in lint["Findings"] if f["Code"] == code] == [where], shown(lint)


def test_a_part_id_names_the_part_the_part_route_serves(catcher: ServerThread, api: httpx.Client) -> None:
    message_id = deliver(catcher, (CORPUS / "broken_content-type-mismatch.eml").read_bytes())
    [finding] = [f for f in lint_of(api, message_id)["Findings"] if f["Code"] == "content-type-mismatch"]
    part = api.get(f"/api/v1/message/{message_id}/part/{finding['Where']['PartID']}")
    assert part.headers["content-type"].startswith("image/png")
    assert part.content.startswith(b"%PDF-")


def test_8bit_headers_are_fine_with_smtputf8(catcher: ServerThread, api: httpx.Client) -> None:
    raw = (DATA / "smtputf8.eml").read_bytes()
    with_it = lint_of(api, deliver(catcher, raw, ["SMTPUTF8", "BODY=8BITMIME"]))
    assert with_it["Findings"] == [], shown(with_it)
    without = lint_of(api, deliver(catcher, raw))
    assert [(f["Code"], f["Where"]["Header"], f["Where"]["Line"]) for f in problems(without)] == [
        ("8bit-header", "From", 1),
        ("8bit-header", "To", 2),
        ("8bit-header", "Subject", 3),
        ("8bit-header", "Message-ID", 5),
    ]


def test_mail_from_smtplib_email_message_lints_clean(catcher: ServerThread, api: httpx.Client) -> None:
    message = build(
        "Ünïcode subject with a long tail, long enough that the header must be folded by the library",
        "Ann Müller <ann@example.com>",
        '"Doe, John" <john@example.org>, bob@example.org',
        "Hello\nüber alles\n",
        "<p>Hello <img src='cid:logo@example.com'></p>",
        Date="Tue, 02 Jun 2026 07:45:12 +0000",
        Message_ID="<live.1@example.com>",
    )
    html = message.get_payload()[1]
    html.add_related(png(), "image", "png", cid="<logo@example.com>")
    message.add_attachment(b"%PDF-1.4\n%%EOF\n", maintype="application", subtype="pdf", filename="é.pdf")
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, local_hostname="app.local") as client:
        client.send_message(message)
    lint = lint_of(api, "latest")
    assert problems(lint) == [], shown(lint)


def test_latest_with_a_query_and_unknown_ids(catcher: ServerThread, api: httpx.Client) -> None:
    deliver(catcher, (CORPUS / "broken_missing-from.eml").read_bytes().replace(b"Lint corpus", b"Pick me"))
    deliver(catcher, (CORPUS / "good_smtplib.eml").read_bytes())
    picked = api.get("/api/v1/message/latest/lint", params={"query": 'subject:"Pick me"'})
    assert [f["Code"] for f in problems(picked.json())] == ["missing-from"]
    missing = api.get("/api/v1/message/no-such-message/lint")
    assert missing.status_code == 404
    assert "no-such-message" in missing.json()["Error"]
    bad_query = api.get("/api/v1/message/latest/lint", params={"query": "larger:99999999999999999999G"})
    assert bad_query.status_code == 400
    assert bad_query.json()["Error"]


@pytest.mark.parametrize("path", sorted(DATA.glob("*.eml")), ids=lambda path: path.name)
def test_any_stored_message_gets_an_answer(path: Path) -> None:
    """Hostile and broken mail of the parser's corpus: findings, never an exception."""
    for finding in lint_message(path.read_bytes()):
        assert finding.severity in ("error", "warning", "info") and finding.code and finding.reference


def newsletter(size: int) -> bytes:
    """A newsletter of about `size` bytes: HTML tables with inline styles and a text part, quoted-printable,
    List-Unsubscribe one-click, signed headers, and two images."""
    template = (CORPUS / "good_newsletter.eml").read_bytes()
    head, _, _ = template.partition(b"\r\n\r\n")
    article = (
        '<tr><td style=3D"padding:0 24px;font-family:Arial,sans-serif;font-size:15px;line-height:22px;color:#333">'
        '=\r\n<h2 style=3D"font-size:18px;margin:16px 0 8px">Story {n}: what changed</h2>=\r\n'
        "<p>Caf=C3=A9 owners told us about the week they had, and what they would change. =\r\n"
        'Read the whole story on our site.</p><a href=3D"https://acme.example.com/s/{n}?utm_source=3Dnews" =\r\n'
        'style=3D"color:#2f5fd0">Read more</a></td></tr>\r\n'
    )
    text = "Story {n}: what changed\r\nCaf=C3=A9 owners told us about the week they had.\r\nhttps://acme.example.com/s/{n}\r\n\r\n"
    image = png(120, 60)
    import base64

    images = "".join(
        f"--rel\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\nContent-ID: <img{n}@acme.example.com>\r\n"
        f"Content-Disposition: inline; filename=img{n}.png\r\n\r\n{base64.encodebytes(image).decode().replace(chr(10), chr(13) + chr(10))}"
        for n in (1, 2)
    )
    articles, texts, n = [], [], 0
    while sum(map(len, articles)) + sum(map(len, texts)) < size - 6000:
        n += 1
        articles.append(article.replace("{n}", str(n)))
        texts.append(text.replace("{n}", str(n)))
    head = head.replace(b'boundary="=_acme_weekly_37"', b'boundary="alt"')
    body = (
        "\r\n\r\n--alt\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        + "".join(texts)
        + '--alt\r\nContent-Type: multipart/related; boundary="rel"\r\n\r\n--rel\r\n'
        "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        '<html><body><img src=3D"cid:img1@acme.example.com"><table>\r\n'
        + "".join(articles)
        + '</table><img src=3D"cid:img2@acme.example.com"></body></html>\r\n'
        + images
        + "--rel--\r\n--alt--\r\n"
    )
    return head + body.encode("ascii")


def test_a_100_kb_newsletter_is_linted_within_a_second(catcher: ServerThread, api: httpx.Client) -> None:
    raw = newsletter(100_000)
    assert 95_000 < len(raw) < 110_000
    message_id = deliver(catcher, raw)
    started = time.perf_counter()
    lint = lint_of(api, message_id)
    elapsed = time.perf_counter() - started
    assert problems(lint) == [], shown(lint)
    assert elapsed < 1.0, f"the lint of a {len(raw)} byte newsletter took {elapsed:.3f} s over HTTP"
    started = time.perf_counter()
    lint_message(raw)
    assert time.perf_counter() - started < 0.5


def test_a_code_is_listed_at_most_20_times(catcher: ServerThread, api: httpx.Client) -> None:
    head = (CORPUS / "good_smtplib.eml").read_bytes().partition(b"Content-Type:")[0]
    part = b"--b\r\nContent-Type: text/plain; charset=x-martian\r\n\r\nHello\r\n"
    raw = head + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + part * 30 + b"--b--\r\n"
    lint = lint_of(api, deliver(catcher, raw))
    assert [f["Where"]["PartID"] for f in lint["Findings"] if f["Code"] == "charset-unknown"] == [
        str(n) for n in range(1, 21)
    ]
    assert [f["Message"] for f in lint["Findings"] if f["Code"] == "findings-omitted"] == [
        "10 more charset-unknown findings are not listed (the first 20 are)"
    ]
    assert (lint["Errors"], lint["Infos"]) == (20, 1)


def test_every_code_is_documented() -> None:
    """docs/pytest.md lists the codes: every code the corpora give is there, and every code there is the lint's."""
    docs = (DATA.parents[1] / "docs" / "pytest.md").read_text(encoding="utf-8")
    codes = docs.split("The codes, by what they look at", 1)[1].split("\n\n", 2)[1]  # the list under it
    listed = set(re.findall(r"`([a-z0-9]+(?:-[a-z0-9]+)+)`", codes))
    found = {code_of(path) for path in BROKEN} | {"findings-omitted"}
    for path in [*GOOD, *DATA.glob("*.eml")]:
        found |= {finding.code for finding in lint_message(path.read_bytes())}
    assert found - listed == set()
    source = "".join(path.read_text() for path in (DATA.parents[1] / "mailcatch" / "checks").glob("lint*.py"))
    assert {code for code in listed if f'"{code}"' not in source} == set()


def test_mail_mailcatch_composes_lints_clean(api: httpx.Client) -> None:
    """POST /api/v1/send builds its message with the standard library: it must pass mailcatch's own lint."""
    sent = api.post(
        "/api/v1/send",
        json={
            "From": {"Email": "app@example.com", "Name": "Äpp, Inc"},
            "To": [{"Email": "bob@example.org", "Name": "Bob"}],
            "Subject": "Grüße ✔",
            "Text": "Hallo Bob, schöne Grüße",
            "HTML": "<p>Hallo <b>Bob</b></p>",
            "Attachments": [{"Content": "JVBERi0xLjQK", "Filename": "a.pdf"}],
        },
    )
    assert sent.status_code == 200, sent.text
    assert lint_of(api, sent.json()["ID"])["Findings"] == []
