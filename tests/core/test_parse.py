"""Tests for mailcatch.mail.parse: the corpus in tests/data, edge cases, and property tests."""

from __future__ import annotations

import base64
import datetime
import email.header
import email.utils
import html
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailcatch.mail.addresses import ParsedAddress, parse_address_list
from mailcatch.mail.html_text import html_visible_text
from mailcatch.mail.parse import CalendarPart, ParsedMessage, Part, parse_message, part_content
from mailcatch.shapes import address_json, part_json

DATA = Path(__file__).resolve().parent.parent / "data"
CORPUS = sorted(path.name for path in DATA.glob("*.eml"))
PNG_SIZE = 70
PDF_SIZE = 69
UTC = datetime.timezone.utc

# No example database: property tests must not leave files in the work tree.
PROPERTY = settings(database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def parse(name: str) -> ParsedMessage:
    return parse_message(load(name))


def parts(items: list[Part]) -> list[tuple[str, str, str, str, int]]:
    return [(p.part_id, p.filename, p.content_type, p.content_id, p.size) for p in items]


def content(name: str, part_id: str) -> bytes:
    found = part_content(load(name), part_id)
    assert found is not None
    return found[1]


def assert_clean_text(message: ParsedMessage) -> None:
    """Every string in the parsed view is valid Unicode (no lone surrogates)."""
    strings = [message.subject, message.text, message.html, message.snippet, message.message_id]
    strings += [message.return_path, *message.tags]
    strings += [value for header in message.headers for value in header]
    people = [*message.to, *message.cc, *message.bcc, *message.reply_to]
    if message.from_ is not None:
        people.append(message.from_)
    strings += [value for person in people for value in (person.name, person.address)]
    strings += [value for p in message.inline + message.attachments for value in (p.filename, p.content_id)]
    for value in strings:
        value.encode("utf-8")


def assert_parts_consistent(raw: bytes, message: ParsedMessage) -> None:
    listed = message.inline + message.attachments
    assert len({p.part_id for p in listed}) == len(listed)
    for part in listed:
        found = part_content(raw, part.part_id)
        assert found is not None, part
        assert found[0] == part
        assert len(found[1]) == part.size


# --- the corpus ----------------------------------------------------------------------------


def test_corpus_is_present_small_and_crlf() -> None:
    assert len(CORPUS) >= 25
    for name in CORPUS:
        raw = load(name)
        assert len(raw) < 20_000, name
        assert raw.count(b"\n") == raw.count(b"\r\n"), f"{name} has bare LF line endings"


@pytest.mark.parametrize("name", CORPUS)
def test_every_corpus_file_parses_consistently(name: str) -> None:
    raw = load(name)
    message = parse_message(raw)
    assert message.size == len(raw)
    assert len(message.snippet) <= 250
    assert_clean_text(message)
    assert_parts_consistent(raw, message)


@pytest.mark.parametrize("name", CORPUS)
def test_bare_lf_line_endings_give_the_same_view(name: str) -> None:
    crlf = parse(name)
    lf = parse_message(load(name).replace(b"\r\n", b"\n"))
    assert lf.headers == crlf.headers
    assert (lf.from_, lf.to, lf.cc, lf.subject, lf.date) == (crlf.from_, crlf.to, crlf.cc, crlf.subject, crlf.date)
    assert lf.text == crlf.text.replace("\r\n", "\n")  # line endings as sent
    assert lf.html == crlf.html.replace("\r\n", "\n")
    assert [p[:4] for p in parts(lf.inline)] == [p[:4] for p in parts(crlf.inline)]
    assert [p[:4] for p in parts(lf.attachments)] == [p[:4] for p in parts(crlf.attachments)]


def test_plain() -> None:
    m = parse("plain.eml")
    assert m.subject == "Your receipt #1042"
    assert m.from_ == ParsedAddress("Billing", "billing@shop.example")
    assert m.to == [ParsedAddress("", "alice@example.com")]
    assert m.cc == m.bcc == m.reply_to == []
    assert m.date == datetime.datetime(2024, 5, 14, 9, 30, tzinfo=UTC)
    assert m.message_id == "20240514093000.4f2a@shop.example"
    assert m.text == "Hi Alice,\r\n\r\nThanks for your order. Total: 12,50 €.\r\n-- \r\nThe shop\r\n"
    assert m.html == ""
    assert m.inline == m.attachments == []
    assert m.snippet == "Hi Alice, Thanks for your order. Total: 12,50 €. -- The shop"
    assert m.headers[0] == ("Content-Transfer-Encoding", "8bit")
    assert ("Message-Id", "<20240514093000.4f2a@shop.example>") in m.headers
    assert [name for name, _ in m.headers][-1] == "To"


def test_django_alternative() -> None:
    m = parse("django_alternative.eml")
    assert m.subject == "Confirm your email address"
    assert m.from_ == ParsedAddress("Example Site", "noreply@example.org")
    assert m.to == [ParsedAddress("", "bob@example.net")]
    assert m.cc == [ParsedAddress("Support Team", "support@example.org")]
    assert m.reply_to == [ParsedAddress("", "help@example.org")]
    assert m.date == datetime.datetime(2024, 5, 15, 12, 0, 1, tzinfo=UTC)  # "-0000" read as UTC
    assert m.message_id == "171577440112.4242.9823412341234@web-1.example.org"
    assert m.text == "Hello bob,\r\n\r\nPlease confirm your address: https://example.org/confirm/abc123/"
    assert m.html.startswith("<!DOCTYPE html>") and "confirm your address</a>" in m.html
    assert m.tags == ["signup", "onboarding"]
    assert m.inline == m.attachments == []
    # The folded Content-Type is unfolded in the header list.
    assert ("Content-Type", 'multipart/alternative; boundary="===============8723617548915461826=="') in m.headers


def test_rails_related_inline_logo_and_attachment_with_content_id() -> None:
    m = parse("rails_related.eml")
    assert m.subject == "Your invoice for May"
    assert m.to == [ParsedAddress("Carol Danvers", "carol@example.com")]
    assert m.date is not None and m.date.utcoffset() == datetime.timedelta(hours=2)
    assert m.text == "Hello Carol, your invoice is attached.\r\n"
    assert 'src="cid:6645a2de1c5d6_4f1a2b3c4d5e45@worker-3.mail"' in m.html
    assert parts(m.inline) == [("1.2", "logo.png", "image/png", "6645a2de1c5d6_4f1a2b3c4d5e45@worker-3.mail", PNG_SIZE)]
    # Rails gives every attachment a Content-ID; one nobody references stays an attachment.
    assert parts(m.attachments) == [
        ("2", "invoice-2024-05.pdf", "application/pdf", "6645a2de1d2e7_4f1a2b3c4d5e56@worker-3.mail", PDF_SIZE)
    ]
    assert content("rails_related.eml", "1.2").startswith(b"\x89PNG\r\n\x1a\n")
    assert content("rails_related.eml", "2").startswith(b"%PDF-1.4")


def test_outlook_related_windows_1252() -> None:
    m = parse("outlook_related.eml")
    assert m.subject == "\u201cQ2 numbers\u201d \u2013 chart"
    assert m.to == [
        ParsedAddress("Mulder, Fox", "fox.mulder@corp.example"),
        ParsedAddress("Skinner, Walter", "walter.skinner@corp.example"),
    ]
    assert (
        m.text == "Hi team,\r\n\r\nThe \u201cQ2 numbers\u201d are in \u2013 see the chart.\r\n\r\nRegards,\r\nDana\r\n"
    )
    assert "The \u201cQ2 numbers\u201d are in \u2013 see the chart." in m.html
    assert parts(m.inline) == [("2", "image001.png", "image/png", "image001.png@01DAA6B2.3C4D5E60", PNG_SIZE)]
    assert m.attachments == []
    assert ("X-MS-TNEF-Correlator", "") in m.headers
    assert (
        "To",
        '"Mulder, Fox" <fox.mulder@corp.example>, "Skinner, Walter" <walter.skinner@corp.example>',
    ) in m.headers


def test_apple_mail_mixed_inside_alternative() -> None:
    m = parse("apple_mail.eml")
    assert m.from_ == ParsedAddress("Ren\u00e9e Lef\u00e8vre", "renee@icloud.example")
    assert m.subject == "Draft contract"
    assert m.text == "Hi Sam,\r\n\r\nHere is the draft \u2014 comments welcome.\r\n\r\n\r\n\r\nRen\u00e9e\r\n"
    assert m.html.endswith("<div>Here is the draft \u2014 comments welcome.</div><div><br></div></body></html>")
    # RFC 2231 continuation wins over the encoded-word name=; inline disposition with a file name.
    name = "Contrat de prestation \u2013 version d\u00e9finitive sign\u00e9e.pdf"
    assert parts(m.inline) == [("2.2", name, "application/pdf", "", PDF_SIZE)]
    # The second HTML fragment is not the body, and unnamed: listed nowhere (as in Mailpit), still readable.
    assert m.attachments == [] and m.attachment_count == 0
    assert b"Ren&eacute;e" in content("apple_mail.eml", "2.3")
    assert ("Mime-Version", "1.0 (Mac OS X Mail 16.0 \\(3774.500.171.1.1\\))") in m.headers


def test_phpmailer_attachments() -> None:
    m = parse("phpmailer_attachments.eml")
    assert m.subject == "Weekly report \u2014 week 20"
    assert m.to == [ParsedAddress("Dave", "dave@example.com"), ParsedAddress("", "erin@example.com")]
    assert m.text == "Weekly report attached (3 files).\r\n"
    assert m.html == "<p>Weekly report attached (<strong>3</strong> files).</p>\r\n\r\n"
    assert m.inline == []
    assert parts(m.attachments) == [
        ("2", "report-w20.pdf", "application/pdf", "", PDF_SIZE),
        ("3", "donn\u00e9es clients.csv", "text/csv", "", 44),
        ("4", "chart.png", "image/png", "", PNG_SIZE),
    ]
    assert (
        content("phpmailer_attachments.eml", "3").decode()
        == "id,name,city\n1,Zo\u00eb,K\u00f6ln\n2,\u0141ukasz,Gda\u0144sk\n"
    )


def test_go_mixed_quoted_printable_body() -> None:
    m = parse("go_mixed.eml")
    assert m.from_ == ParsedAddress("Mon Service \u00e0 Paris", "service@paris.example")
    assert m.subject == "Rapport quotidien \u2713"
    assert m.date == datetime.datetime(2024, 5, 20, 14, 0, tzinfo=UTC)
    # Soft line breaks are joined.
    assert m.text == (
        "Bonjour Frank, voici le rapport du jour. Les chiffres sont en hausse de 3 % par rapport "
        "\u00e0 hier et cette ligne est volontairement longue pour forcer un retour."
    )
    assert parts(m.attachments) == [("2", "rapport.csv", "text/csv", "", 44)]


def test_rfc2231_filenames() -> None:
    m = parse("rfc2231_filenames.eml")
    assert m.text == "Eight attachments."
    assert [(p.part_id, p.filename) for p in m.attachments] == [
        ("2", "na\u00efve r\u00e9sum\u00e9.pdf"),
        ("3", "\u65e5\u672c\u8a9e\u306e\u30d5\u30a1\u30a4\u30eb.txt"),
        ("4", "a_rather_long_file_name_that_continues_here.txt"),
        ("5", "caf\u00e9 cr\u00e8me.txt"),
        ("6", "passwd"),
        ("7", "report.doc"),
        ("9", "pr\u00e9f\u00e9r\u00e9.txt"),
    ]
    assert content("rfc2231_filenames.eml", "3").decode() == "\u65e5\u672c\u8a9e\u306e\u30d5\u30a1\u30a4\u30eb"
    assert [(p.part_id, p.filename) for p in m.inline] == [("8", "\u00e9clair.png")]  # no disposition: inline


def test_encoded_headers_in_many_charsets() -> None:
    m = parse("encoded_headers.eml")
    assert m.from_ == ParsedAddress("Fran\u00e7ois P\u00e9rez", "francois@example.fr")
    assert m.to == [
        ParsedAddress(
            "\u0414\u043c\u0438\u0442\u0440\u0438\u0439 \u0418\u0432\u0430\u043d\u043e\u0432", "dmitri@example.ru"
        ),
        ParsedAddress("\u5c71\u7530\u592a\u90ce", "taro@example.jp"),
    ]
    assert m.cc == [
        ParsedAddress("\u201cCurly\u201d O\u2019Brien", "curly@example.ie"),
        ParsedAddress("M\u00fcller, J\u00f6rg", "joerg@example.de"),  # encoded word inside quotes, comma in it
    ]
    # A UTF-8 character split across two encoded words is put back together.
    assert m.subject == "R\u00e9sum\u00e9 \u2014 \u65e5\u672c\u8a9e \u2713"
    # Whitespace between adjacent encoded words is dropped; elsewhere it is kept.
    assert ("X-Campaign", "\u00c9t\u00e9 2024rentr\u00e9e and plain text") in m.headers
    assert m.text == "Voil\u00e0 le r\u00e9sum\u00e9 de la r\u00e9union, \u00e0 bient\u00f4t.\r\n"


def test_iso_2022_jp() -> None:
    m = parse("iso2022jp.eml")
    assert m.from_ == ParsedAddress("\u9234\u6728\u4e00\u90ce", "suzuki@example.jp")
    assert m.subject == "\u4f1a\u8b70\u306e\u304a\u77e5\u3089\u305b"
    assert (
        m.text
        == "\u7530\u4e2d\u69d8\r\n\r\n\u660e\u65e5\u306e\u4f1a\u8b70\u306f\u5341\u6642\u304b\u3089\u3067\u3059\u3002\r\n"
    )
    assert m.date is not None and m.date.utcoffset() == datetime.timedelta(hours=9)


def test_koi8_r() -> None:
    m = parse("koi8r.eml")
    assert m.from_ == ParsedAddress("\u041e\u043b\u044c\u0433\u0430", "olga@example.ru")
    assert m.subject == "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440"
    assert (
        m.text
        == "\u0414\u043e\u0431\u0440\u044b\u0439 \u0434\u0435\u043d\u044c! \u041e\u0442\u0447\u0451\u0442 \u0433\u043e\u0442\u043e\u0432.\r\n"
    )


def test_smtputf8_raw_headers() -> None:
    m = parse("smtputf8.eml")
    assert m.from_ == ParsedAddress("Zo\u00eb M\u00fcller", "zo\u00eb@ex\u00e4mple.de")
    assert m.to == [
        ParsedAddress("\u00c5sa Str\u00f6m", "\u00e5sa@example.se"),
        ParsedAddress("\u7530\u4e2d", "tanaka@\u4f8b\u3048.jp"),
    ]
    assert m.subject == "Gr\u00fc\u00dfe aus K\u00f6ln \U0001f389"
    assert m.message_id == "utf8.1@ex\u00e4mple.de"
    assert m.text == "Sch\u00f6ne Gr\u00fc\u00dfe! \U0001f389\r\n"


def test_broken_unterminated_multipart() -> None:
    m = parse("broken_unterminated.eml")
    assert m.subject == "Unterminated multipart"
    assert m.text == "The body survives."
    assert parts(m.attachments) == [("2", "cut.pdf", "application/pdf", "", 22)]
    assert content("broken_unterminated.eml", "2") == b"%PDF-1.4\n1 0 obj<</Typ"


def test_broken_multipart_without_boundary_shows_the_body_as_text() -> None:
    m = parse("broken_no_boundary.eml")
    assert m.text == "--abc\r\nContent-Type: text/plain\r\n\r\nStill readable.\r\n--abc--\r\n"
    assert m.inline == m.attachments == []
    assert m.snippet == "--abc Content-Type: text/plain Still readable. --abc--"


def test_broken_base64_is_decoded_leniently() -> None:
    m = parse("broken_base64.eml")
    assert m.text == "Hello world"
    assert [(p.part_id, p.filename, p.content_type) for p in m.attachments] == [
        ("2", "blob.bin", "application/octet-stream")
    ]
    assert content("broken_base64.eml", "2").startswith(b"\x00\x01\x02")


def test_broken_quoted_printable() -> None:
    m = parse("broken_qp.eml")
    assert m.text == "Caf\u00e9 =ZZ bad escape, 100% lower\u00e9 and a dangling "


def test_unknown_and_wrong_charsets() -> None:
    m = parse("unknown_charset.eml")
    assert m.subject == "Caf\u00e9 menu"  # unknown charset in an encoded word: UTF-8 tried first
    assert m.text == "Declared ASCII, sent UTF-8: na\u00efve"
    assert m.html == "<p>Latin-1 bytes: caf\u00e9</p>"  # not UTF-8, so Latin-1


def test_junk_8bit_headers_and_body() -> None:
    m = parse("junk_8bit.eml")
    assert m.from_ == ParsedAddress("Bad \ufffd\ufffd Name", "junk@example.com")
    assert m.subject == "caf\ufffd \x00 null"
    assert ("X-Binary", "\ufffd\ufffd\ufffd") in m.headers
    assert m.text == "ok \x00\x01\x02 \u00ff\u00fe\u00fd end\r\n"


def test_missing_headers() -> None:
    m = parse("missing_headers.eml")
    assert m.headers == [("X-Mailer", "cron")]
    assert m.from_ is None
    assert m.to == m.cc == m.bcc == m.reply_to == []
    assert (m.subject, m.message_id, m.return_path) == ("", "", "")
    assert m.date is None
    assert m.text == "Output of the nightly job: 0 errors.\r\n"


def test_x_tags_are_trimmed_and_deduplicated_in_order() -> None:
    m = parse("x_tags.eml")
    assert m.tags == ["Newsletter", "billing", "urgent", "weekly"]
    assert m.to == [ParsedAddress("", "ivy+newsletter@example.com")]  # plus-address tags are not added


def test_forwarded_message_is_an_attachment_with_its_bytes() -> None:
    m = parse("forwarded_rfc822.eml")
    assert m.text == "See below."
    assert [(p.part_id, p.filename, p.content_type) for p in m.attachments] == [("2", "Lunch.eml", "message/rfc822")]
    embedded = content("forwarded_rfc822.eml", "2")
    assert embedded.startswith(b"From: liz@example.com\r\n")
    assert b"Subject: Lunch?\r\n" in embedded
    assert embedded.endswith(b"\r\n\r\nNoon at the usual place?")
    assert parse_message(embedded).text == "Noon at the usual place?"


def test_calendar_invite() -> None:
    m = parse("calendar_invite.eml")
    assert m.text == "You have been invited to Planning."
    assert m.html == "<p>You have been invited to <b>Planning</b>.</p>"
    # The invitation inside multipart/alternative is no attachment (as in Mailpit): it is in `calendar`.
    assert [(p.part_id, p.filename, p.content_type) for p in m.attachments] == [("2", "invite.ics", "application/ics")]
    assert m.inline == [] and m.attachment_count == 1
    assert m.calendar == [CalendarPart("1.3", "text/calendar", 204, "REQUEST")]
    assert content("calendar_invite.eml", "1.3").startswith(b"BEGIN:VCALENDAR\r\n")
    assert len(content("calendar_invite.eml", "1.3")) == 204


def test_calendar_method_from_the_content_when_the_type_has_none() -> None:
    raw = (
        b"Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        b"--b\r\nContent-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\nMETHOD:cancel\r\nEND:VCALENDAR\r\n--b--\r\n"
    )
    m = parse_message(raw)
    assert m.calendar == [CalendarPart("2", "text/calendar", 45, "CANCEL")]
    assert m.attachments == m.inline == [] and m.attachment_count == 0


def test_bounce_report() -> None:
    m = parse("bounce_report.eml")
    assert m.return_path == ""
    assert m.from_ == ParsedAddress("Mail Delivery System", "MAILER-DAEMON@mx.example.com")
    assert m.text.startswith("I'm sorry to have to inform you")
    # Unnamed parts without a disposition are listed nowhere (as in Mailpit); they can still be read.
    assert m.attachments == m.inline == [] and m.attachment_count == 0
    status = content("bounce_report.eml", "2")
    assert b"Reporting-MTA: dns; mx.example.com" in status and b"Status: 5.1.1" in status


def test_html_only_text_and_snippet_come_from_the_html() -> None:
    m = parse("html_only.eml")
    assert m.text_from_html and m.text.startswith("Up to 50% off")
    assert m.html.startswith("<!DOCTYPE html>")
    assert m.return_path == "bounce-123@brand.example"
    assert m.snippet == "Up to 50% off Spring sale Fish & chips <3 \u00e9t\u00e9 Item Price"
    stored = parse_message(load("html_only.eml"), html_as_text=False)
    assert stored.text == "" and not stored.text_from_html and stored.snippet == m.snippet


def test_pgp_signature_is_an_attachment() -> None:
    m = parse("pgp_signed.eml")
    assert m.text == "This message is signed."
    assert [(p.part_id, p.filename, p.content_type) for p in m.attachments] == [
        ("2", "signature.asc", "application/pgp-signature")
    ]


def test_cid_reference_makes_a_part_inline_outside_related() -> None:
    m = parse("django_cid_mixed.eml")
    assert m.text == "Welcome!"
    # No disposition, a Content-ID: inline, referenced or not (as in Mailpit).
    assert parts(m.inline) == [
        ("2", "", "image/png", "logo@example.org", PNG_SIZE),
        ("3", "", "image/png", "unused@example.org", PNG_SIZE),
    ]
    assert m.attachments == []


# --- parts ---------------------------------------------------------------------------------


def test_part_content_of_body_parts_and_bad_ids() -> None:
    raw = load("django_alternative.eml")
    found = part_content(raw, "1")
    assert found is not None
    part, data = found
    assert parts([part]) == [("1", "", "text/plain", "", len(data))]
    assert data.startswith(b"Hello bob,\r\n")
    for bad in ["", "0", "3", "01", "1.0", "1.1", "a", "1..2", "1.", " 1", "9" * 40, ".".join(["1"] * 101)]:
        assert part_content(raw, bad) is None, bad


def test_part_content_refuses_containers() -> None:
    raw = load("rails_related.eml")
    assert part_content(raw, "1") is None  # multipart/related
    assert part_content(raw, "1.1") is None  # multipart/alternative
    found = part_content(raw, "1.1.2")
    assert found is not None and found[0].content_type == "text/html"


def test_file_names_lose_control_and_bidi_characters() -> None:
    raw = b'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="a\x07b\xe2\x80\xaefdp.exe"\r\n\r\nx'
    assert [p.filename for p in parse_message(raw).attachments] == ["abfdp.exe"]


def test_root_non_multipart_attachment_is_part_1() -> None:
    raw = (
        b"Subject: export\r\nContent-Type: application/pdf; name=x.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"%PDF-1.4") + b"\r\n"
    )
    m = parse_message(raw)
    assert m.text == m.html == ""
    assert parts(m.attachments) == [("1", "x.pdf", "application/pdf", "", 8)]
    assert part_content(raw, "1") == (m.attachments[0], b"%PDF-1.4")
    assert part_content(raw, "2") is None


def test_text_part_with_attachment_disposition_is_not_the_body() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment\r\n\r\nnotes\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nthe body\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\na second text\r\n--b--\r\n"
    )
    m = parse_message(raw)
    assert m.text == "the body\n--\na second text"  # text parts of a mixed message are joined, as in Mailpit
    assert m.attachments == [] and m.attachment_count == 1  # unnamed: counted, not listed


def test_to_json_shapes() -> None:
    assert address_json(ParsedAddress("Ann", "ann@example.com")) == {"Name": "Ann", "Address": "ann@example.com"}
    assert part_json(Part("1.2", "a.png", "image/png", "cid1", 10)) == {
        "PartID": "1.2",
        "FileName": "a.png",
        "ContentType": "image/png",
        "ContentID": "cid1",
        "Size": 10,
        "Checksums": {"MD5": "", "SHA1": "", "SHA256": ""},  # the part was not measured
    }


def test_content_type_defaults() -> None:
    no_type = parse_message(b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nno headers\r\n--b--\r\n")
    assert no_type.text == "no headers"
    digest = b"Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: inner\r\n\r\nhi\r\n--d--\r\n"
    m = parse_message(digest)
    assert (m.attachments, m.inline) == ([], [])  # an unnamed message/rfc822 part is listed nowhere
    garbage = parse_message(b"Content-Type: garbage\r\n\r\nbody\r\n")
    assert garbage.text == "body\r\n"  # an unusable type is read as text/plain


# --- robustness ----------------------------------------------------------------------------


def nested_multipart(depth: int) -> bytes:
    head = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(depth))
    tail = b"".join(b"\r\n--b%d--" % i for i in reversed(range(depth)))
    return b"Subject: deep\r\n" + head + b"Content-Type: application/octet-stream\r\n\r\nleaf" + tail + b"\r\n"


def test_nesting_deeper_than_the_cap_is_ignored() -> None:
    shallow = parse_message(nested_multipart(100))
    assert shallow.attachment_count == 1  # unnamed: counted, not listed
    assert part_content(nested_multipart(100), ".".join(["1"] * 100)) is not None
    deep = parse_message(nested_multipart(101))
    assert deep.subject == "deep"
    assert deep.attachments == deep.inline == [] and deep.attachment_count == 0


def test_absurd_nesting_does_not_raise() -> None:
    raw = b"Subject: onion\r\n" + b"Content-Type: message/rfc822\r\n\r\n" * 3000 + b"Subject: core\r\n\r\nx\r\n"
    m = parse_message(raw)
    assert m.subject == "onion"
    assert m.attachment_count == 1 and m.attachments == []
    assert_parts_consistent(raw, m)


def test_thousands_of_parts() -> None:
    count = 3000
    body = b"".join(
        b"--p\r\nContent-Type: application/octet-stream; name=f%d.bin\r\n\r\n%d\r\n" % (i, i) for i in range(count)
    )
    raw = b"Content-Type: multipart/mixed; boundary=p\r\n\r\n" + body + b"--p--\r\n"
    m = parse_message(raw)
    assert len(m.attachments) == count
    assert parts(m.attachments[-1:]) == [(str(count), f"f{count - 1}.bin", "application/octet-stream", "", 4)]
    assert part_content(raw, "1234") == (m.attachments[1233], b"1233")


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\r\n",
        b"\x00" * 50,
        b"no header at all",
        b"Subject:",
        b"Subject: x\r\nContent-Type: multipart/mixed; boundary=\r\n\r\n--\r\n",
        b"Content-Type: text/plain; charset=idna\r\n\r\n\xff\xfe",
        b"Content-Type: text/plain; charset=base64\r\n\r\n\xff\xfe",
        b"Content-Type: text/plain; charset=utf\x00\r\n\r\n\xff\xfe",
        b"Content-Type: text/plain; charset=undefined\r\n\r\n\xff\xfe",
        b"Content-Type: text/plain; charset=utf-7\r\n\r\n+2AA-",
        b"Content-Type: text/plain; charset=unicode_escape\r\n\r\n\\ud800\xff",
        b"Content-Type: text/plain; charset=\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 a\r\nzz\r\nend\r\n",
        b"Subject: =?idna?q?=FF?= =?utf-16?b?AA?= =?x?b?!!!?= =?utf-8?q?=?=\r\n\r\n",
        b"Content-Disposition: attachment; filename*=idna''%FF; filename*99999999=x; filename**=\r\n\r\n",
        b"Content-Type: image/png; name*0*=utf-8''%E2; name*1*=%82%AC.png\r\n\r\n",
        b'From: ((((\r\nTo: "unterminated\r\nCc: <<<>>>,,,;;;:::\r\nReply-To: [\r\nBcc: \\\r\n\r\n',
        b"Date: Mon, 2 Jan 99999 25:61:61 +9999\r\nMessage-ID: <<<>\r\n\r\n",
    ],
)
def test_hostile_inputs_do_not_raise(raw: bytes) -> None:
    m = parse_message(raw)
    assert m.size == len(raw)
    assert_clean_text(m)
    assert_parts_consistent(raw, m)


def test_codecs_that_can_produce_surrogates_are_scrubbed() -> None:
    m = parse_message(b"Subject: =?utf-7?q?+2AA-?=\r\nContent-Type: text/plain; charset=utf-7\r\n\r\n+2AA-\xff")
    assert m.subject == "\ufffd"
    assert m.text.startswith("\ufffd")
    assert_clean_text(m)


def test_idna_and_non_text_charsets_fall_back() -> None:
    m = parse_message(b"Content-Type: text/plain; charset=idna\r\n\r\ncaf\xc3\xa9")
    assert m.text == "caf\u00e9"
    m = parse_message(b"Content-Type: text/plain; charset=base64\r\n\r\ncaf\xe9")
    assert m.text == "caf\u00e9"


def test_utf16_body() -> None:
    raw = b"Content-Type: text/plain; charset=utf-16\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    raw += base64.b64encode("h\u00e9llo".encode("utf-16"))
    assert parse_message(raw).text == "h\u00e9llo"


# --- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "decoded"),
    [
        ("=?utf-8?q?a?= =?utf-8?q?b?=", "ab"),
        ("=?utf-8?q?a?=\r\n\t=?utf-8?q?b?=", "ab"),
        ("x =?utf-8?q?a?= y", "x a y"),
        ("=?UTF-8?Q?Ready??=", "Ready?"),
        ("=?utf-8*en?q?lang?=", "lang"),
        ("=?utf-8?b?w6k?=", "\u00e9"),  # missing padding
        ("=?iso-8859-1?q?caf=E9?= =?utf-8?q?_caf=C3=A9?=", "caf\u00e9 caf\u00e9"),
        ("=?utf-8?q?broken", "=?utf-8?q?broken"),
        ("a\r\n b", "a b"),
        ("a\r\n\tb", "a b"),
    ],
)
def test_header_decoding(value: str, decoded: str) -> None:
    raw = b"X-Test: " + value.encode() + b"\r\n\r\n"
    assert parse_message(raw).headers == [("X-Test", decoded)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", []),
        ("  ", []),
        ("ann@example.com", [("", "ann@example.com")]),
        ("Ann Lee <ann@example.com>", [("Ann Lee", "ann@example.com")]),
        ('"Lee, Ann" <ann@example.com>, bob@example.com', [("Lee, Ann", "ann@example.com"), ("", "bob@example.com")]),
        ('"A \\"quoted\\" name" <a@x.io>', [('A "quoted" name', "a@x.io")]),
        ("bob@example.com (Bob (the builder))", [("Bob (the builder)", "bob@example.com")]),
        ("Team: ann@x.io, Bob <bob@x.io>;, carl@x.io", [("", "ann@x.io"), ("Bob", "bob@x.io"), ("", "carl@x.io")]),
        ("undisclosed-recipients:;", []),
        ("<@relay.example:ann@example.com>", [("", "ann@example.com")]),
        ("Nobody <>", [("Nobody", "")]),
        ("<>", []),
        ('"" <>', []),
        ("ann @ example.com", [("", "ann@example.com")]),
        ("=?utf-8?q?Doe=2C_John?= <j@x.io>", [("Doe, John", "j@x.io")]),
        ("=?utf-8?b?w4lsb2k=?= =?utf-8?b?c2U=?= <e@x.io>", [("\u00c9loise", "e@x.io")]),
        ("postmaster", [("", "postmaster")]),
        ("root@[IPv6:::1]", [("", "root@[IPv6:::1]")]),
        ("Root <root@[IPv6:::1]>", [("Root", "root@[IPv6:::1]")]),
        (",, ann@x.io ,,", [("", "ann@x.io")]),
        ("Ann <ann@x.io", [("Ann", "ann@x.io")]),
    ],
)
def test_parse_address_list(value: str, expected: list[tuple[str, str]]) -> None:
    assert parse_address_list(value) == [ParsedAddress(name, address) for name, address in expected]


def test_multiple_address_headers_are_combined() -> None:
    m = parse_message(b"To: a@x.io\r\nTo: b@x.io, c@x.io\r\nFrom: first@x.io\r\nFrom: second@x.io\r\n\r\n")
    assert [a.address for a in m.to] == ["a@x.io", "b@x.io", "c@x.io"]
    assert m.from_ == ParsedAddress("", "first@x.io")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 15 Nov 1994 08:12:31 GMT", datetime.datetime(1994, 11, 15, 8, 12, 31, tzinfo=UTC)),
        ("15 Nov 1994 08:12:31 +0530", datetime.datetime(1994, 11, 15, 2, 42, 31, tzinfo=UTC)),
        ("Tue, 15 Nov 94 08:12 -0000", datetime.datetime(1994, 11, 15, 8, 12, tzinfo=UTC)),
        ("not a date", None),
        ("", None),
        ("Mon, 32 Jan 2006 15:04:05 +0000", None),
    ],
)
def test_dates_are_aware_or_none(value: str, expected: datetime.datetime | None) -> None:
    date = parse_message(b"Date: " + value.encode() + b"\r\n\r\n").date
    assert date == expected
    assert date is None or date.tzinfo is not None


def test_message_id_and_return_path_lose_angle_brackets() -> None:
    m = parse_message(b"Message-ID:\r\n <x.1@host>  (comment)\r\nReturn-Path: <bounce@host>\r\n\r\n")
    assert (m.message_id, m.return_path) == ("x.1@host", "bounce@host")
    assert parse_message(b"Message-ID: bare@host\r\n\r\n").message_id == "bare@host"


# --- bodies and snippets -------------------------------------------------------------------


def test_snippet_is_collapsed_and_cut_at_200_bytes_as_in_mailpit() -> None:
    body = ("word \t\r\n " * 400).encode()
    m = parse_message(b"Content-Type: text/plain\r\n\r\n" + body)
    assert m.snippet == "word " * 40 + "..."  # 200 bytes (the space at the cut kept), then "..."
    short = parse_message(b"Content-Type: text/plain\r\n\r\n" + b"x" * 200)
    assert short.snippet == "x" * 200  # exactly 200 bytes: no "..."


def test_snippet_cut_drops_the_character_at_the_cut() -> None:
    cases = {
        "x" * 198 + "\u00e9z": "x" * 198 + "...",  # ends exactly at 200 bytes: dropped all the same
        "x" * 199 + "\u00e9": "x" * 199 + "...",  # cut inside the character
        "x" * 197 + "\u20acy": "x" * 197 + "...",  # a 3-byte character ending at 200 bytes
    }
    for text, expected in cases.items():
        assert parse_message(b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + text.encode()).snippet == expected


def test_snippet_prefers_the_html_and_reads_it_as_mailpit_does() -> None:
    raw = (
        b"Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
        b"the text part\r\n--b\r\nContent-Type: text/html\r\n\r\n<html><head><title>T</title></head><body>"
        b"<p>Hello</p><p>world</p><br>again<img src=x>x <script>no()</script>&nbsp;\xe2\x80\x8bend</body></html>\r\n--b--\r\n"
    )
    m = parse_message(raw)
    assert m.text == "the text part"
    # Blocks that touch get a space; <br> and <img> one too; invisible characters are spaces.
    assert m.snippet == "Hello world again x end"
    long_html = b"Content-Type: text/html\r\n\r\n<div>" + b"<p>lorem ipsum</p>" * 5000 + b"</div>"
    assert parse_message(long_html).snippet == ("lorem ipsum " * 17)[:200] + "..."


def test_snippet_of_long_text_with_leading_blank_lines() -> None:
    m = parse_message(b"\r\n" + b"\r\n" * 3000 + b"finally some text")
    assert m.snippet == "finally some text"


@given(st.text(alphabet="ab \t\n\f\r\v\u00a0\u2003\ufeff", max_size=60))
@settings(max_examples=300, deadline=None)
def test_a_text_snippet_collapses_exactly_gos_whitespace(body: str) -> None:
    """Tab, line feed, form feed, carriage return and space (Go's \\s) and byte-order marks become one
    space a run; vertical tab, no-break and em spaces are text, as Mailpit keeps them."""
    m = parse_message(b"Content-Type: text/plain; charset=utf-8\r\n\r\nx" + body.encode() + b"y")
    assert m.snippet == re.sub(r"[\t\n\f\r ]+", " ", "x" + body.replace("\ufeff", " ").replace("\r\n", "\n") + "y")


def test_html_to_text() -> None:
    doc = (
        "<html><head><title>T</title><style>p{}</style></head><body>"
        "<script type='text/javascript'>alert(1)</script><p>One&nbsp;&amp;&#32;two</p>"
        "<div>three</div><b>fo</b>ur <!-- hidden --> a &lt; b<br>end"
    )
    assert html_visible_text(doc) == "One & two three four a < b end"
    assert html_visible_text("<p>unterminated <script>x") == "unterminated"
    assert html_visible_text("<head><title>x</title><body>no closing head") == "no closing head"
    assert html_visible_text("") == ""


# --- property tests ------------------------------------------------------------------------

TOKENS = [
    b"\r\n",
    b"\n",
    b"\r",
    b"--",
    b"=?",
    b"?=",
    b"?q?",
    b"?b?",
    b"\x00",
    b"\xff",
    b"\xc3",
    b";",
    b'"',
    b"=",
    b"(",
    b"<",
    b">",
    b",",
    b":",
    b"boundary=",
    b"\r\n\r\n",
    b"Content-Type: multipart/mixed; boundary=x\r\n",
    b"\r\n--x\r\n",
    b"\r\n--x--\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"quoted-printable",
    b"charset=utf-16",
    b"charset=iso-2022-jp",
    b"filename*0*=utf-8''%E2",
    b"message/rfc822",
    b"Content-ID: <",
]


@st.composite
def mutated_corpus(draw: st.DrawFn) -> bytes:
    data = bytearray(load(draw(st.sampled_from(CORPUS))))
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["insert", "delete", "flip", "duplicate", "truncate"]))
        if op == "insert":
            data[pos:pos] = draw(st.sampled_from(TOKENS) | st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "flip" and pos < len(data):
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "duplicate":
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 256))]
        elif op == "truncate":
            del data[pos:]
    return bytes(data)


@PROPERTY
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    m = parse_message(raw)
    assert m.size == len(raw)
    assert_clean_text(m)
    assert_parts_consistent(raw, m)


@PROPERTY
@given(mutated_corpus())
def test_mutated_corpus_never_raises_and_parts_match(raw: bytes) -> None:
    m = parse_message(raw)
    assert m.size == len(raw)
    assert len(m.snippet) <= 250
    assert_clean_text(m)
    assert_parts_consistent(raw, m)


LEAF_TYPES = ["text/plain", "text/html", "image/png", "application/pdf", "text/csv", "message/rfc822"]


@st.composite
def mime_tree(draw: st.DrawFn, depth: int = 0) -> bytes:
    if depth < 3 and draw(st.booleans()):
        subtype = draw(st.sampled_from(["mixed", "alternative", "related"]))
        boundary = f"b{depth}{draw(st.integers(0, 999))}".encode()
        children = draw(st.lists(mime_tree(depth + 1), min_size=1, max_size=4))
        body = b"".join(b"--" + boundary + b"\r\n" + child + b"\r\n" for child in children)
        return b"Content-Type: multipart/%s; boundary=%s\r\n\r\n%s--%s--" % (subtype.encode(), boundary, body, boundary)
    ctype = draw(st.sampled_from(LEAF_TYPES))
    headers = [b"Content-Type: " + ctype.encode() + b"; charset=" + draw(st.sampled_from([b"utf-8", b"latin-1"]))]
    if draw(st.booleans()):
        name = draw(st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=12))
        disposition = draw(st.sampled_from(["attachment", "inline"]))
        encoded = email.utils.encode_rfc2231(name, "utf-8")
        headers.append(f"Content-Disposition: {disposition}; filename*={encoded}".encode())
    if draw(st.booleans()):
        headers.append(b"Content-ID: <" + draw(st.sampled_from([b"a@x", b"b@x"])) + b">")
    payload = draw(st.binary(max_size=64))
    if draw(st.booleans()):
        headers.append(b"Content-Transfer-Encoding: base64")
        payload = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    else:
        payload = payload.replace(b"\r", b"").replace(b"\n", b"").replace(b"-", b"")
    return b"\r\n".join(headers) + b"\r\n\r\n" + payload


@PROPERTY
@given(mime_tree())
def test_generated_mime_trees(tree: bytes) -> None:
    raw = b"From: a@x.io\r\nSubject: tree\r\nMIME-Version: 1.0\r\n" + tree
    m = parse_message(raw)
    assert m.subject == "tree"
    assert_clean_text(m)
    assert_parts_consistent(raw, m)
    for part in m.inline + m.attachments:
        assert part.content_type in LEAF_TYPES
        assert "/" not in part.filename and "\\" not in part.filename


NAME_WORDS = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs", "Cc", "Cf", "Zs", "Zl", "Zp"], exclude_characters="="),
    min_size=1,
    max_size=8,
)


@PROPERTY
@given(
    st.lists(NAME_WORDS, min_size=1, max_size=4).map(" ".join),
    st.from_regex(r"[a-z0-9._+-]{1,10}@[a-z0-9-]{1,10}\.[a-z]{2,5}", fullmatch=True),
)
def test_formatted_addresses_round_trip(name: str, address: str) -> None:
    header = email.utils.formataddr((name, address))
    assert parse_address_list(header) == [ParsedAddress(name, address)]
    # A trailing comma takes the general scanner rather than the single-mailbox shortcut.
    assert parse_address_list(header + ",") == [ParsedAddress(name, address)]
    m = parse_message(f"To: {header}, other@example.com\r\n\r\n".encode())
    assert m.to == [ParsedAddress(name, address), ParsedAddress("", "other@example.com")]


@PROPERTY
@given(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=120),
    st.sampled_from(["utf-8", "iso-8859-1", "koi8-r", "iso-2022-jp", "windows-1252", "shift_jis"]),
)
def test_encoded_words_round_trip(text: str, charset: str) -> None:
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        charset = "utf-8"
    encoded = email.header.Header(text, charset, header_name="Subject").encode(linesep="\r\n")
    assert parse_message(b"X-Test: " + encoded.encode("ascii") + b"\r\n\r\n").headers == [("X-Test", text)]


@PROPERTY
@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cf"], exclude_characters="\u034f")))
def test_html_to_text_of_escaped_text_is_the_collapsed_text(text: str) -> None:
    # Zero-width characters (format characters and U+034F) are dropped, as preheader padding.
    assert html_visible_text(html.escape(text)) == " ".join(text.split())


@PROPERTY
@given(st.text())
def test_parse_address_list_never_raises(value: str) -> None:
    for address in parse_address_list(value):
        assert address.name or address.address


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["word", "a", " ", "  ", "\r\n", "\t", "\u200b", "é", "x" * 300, "\n\n\n" * 40]), max_size=120
    )
)
def test_the_snippet_is_the_start_of_the_whole_text_collapsed(pieces: list[str]) -> None:
    """The snippet collapses only a prefix of a long body; it must be what collapsing all of it gives."""
    from mailcatch.mail.html_text import snippet

    text = "".join(pieces)
    whole = " ".join(text.replace("\t", " ").replace("\r", " ").replace("\n", " ").split(" "))
    whole = " ".join(word for word in whole.split(" ") if word)
    if len(whole.encode()) <= 200:
        assert snippet(text, "") == whole
        return
    kept, size = "", 0
    for char in whole:
        size += len(char.encode())
        if size > 200 or (size == 200 and len(char.encode()) > 1):
            break
        kept += char
    assert snippet(text, "") == kept + "..."
