"""The lint of a message's header fields: which must be there once, Date, Message-ID, addresses, 8-bit text,
encoded words, MIME-Version, field syntax."""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Iterator

from mailcatch.checks.lint_addresses import AddressSyntax, check_address_list, domain_problem
from mailcatch.checks.lint_findings import Finding, Severity, Where
from mailcatch.checks.lint_raw import Field, HeaderBlock
from mailcatch.checks.lint_words import word_problems
from mailcatch.mail.decode import header_date, raw_to_str

__all__ = ["field_problems", "message_header_problems"]

RFC5322 = "RFC 5322"
ONCE = {
    "date": "3.6.1",
    "from": "3.6.2",
    "sender": "3.6.2",
    "reply-to": "3.6.2",
    "to": "3.6.3",
    "cc": "3.6.3",
    "bcc": "3.6.3",
    "message-id": "3.6.4",
    "in-reply-to": "3.6.4",
    "references": "3.6.4",
    "subject": "3.6.5",
}
"""The fields RFC 5322 section 3.6 allows at most once, with the section that says so."""
_MIME_ONCE = ("mime-version", "content-type", "content-transfer-encoding")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DATE = re.compile(
    r"(?:(?P<dow>[A-Za-z]{3})\s*,\s*)?(?P<day>\d{1,2})\s+(?P<month>[A-Za-z]{3})\s+(?P<year>\d{4})\s+"
    r"(?P<hour>\d\d):(?P<minute>\d\d)(?::(?P<second>\d\d))?\s+(?P<zone>[+-]\d{4})(?:\s*\([^()]*\))?\s*\Z"
)
_DOT_ATOM = r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\U0010ffff]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\U0010ffff]+)*"
_MSG_ID = re.compile(rf"<(?:{_DOT_ATOM}|\"(?:[^\"\\]|\\.)*\")@(?:{_DOT_ATOM}|\[[^\[\]\\]*\])>")
_COMMENT = re.compile(r"\((?:[^()\\]|\\.)*\)")
_MIME_VERSION = re.compile(r"1\s*\.\s*0")
_ENCODED_PARAMETER = re.compile(r"=\s*\"?[^;\"]*=\?[^?\s]+\?[bBqQ]\?")


def _finding(
    severity: Severity, code: str, message: str, section: str, field: Field | None = None, part: str = ""
) -> Finding:
    """A finding about a field (or, without one, the message); `section` of RFC 5322 unless it names an RFC."""
    where = Where(field.name if field else "", field.line if field else 0, part)
    reference = section if section.startswith("RFC") else f"{RFC5322} section {section}"
    return Finding(severity, code, message, reference, where)


def _presence(block: HeaderBlock) -> Iterator[Finding]:
    if block.first("date") is None:
        yield _finding("error", "missing-date", "the message has no Date header, which is required", "3.6")
    if block.first("from") is None:
        yield _finding("error", "missing-from", "the message has no From header, which is required", "3.6")
    if block.first("message-id") is None:
        yield _finding(
            "warning",
            "missing-message-id",
            "the message has no Message-ID header; every message should have one (threading and "
            "duplicate detection depend on it)",
            "3.6.4",
        )
    if block.first("subject") is None:
        yield _finding("info", "missing-subject", "the message has no Subject header", "3.6.5")
    if not any(block.first(name) for name in ("to", "cc", "bcc")):
        yield _finding(
            "info",
            "no-recipient-header",
            "the message has no To, Cc or Bcc header: mail programs show no recipient, and spam filters notice",
            "3.6.3",
        )
    for bcc in block.all("bcc"):
        if bcc.text:
            yield _finding(
                "warning",
                "bcc-header-sent",
                "the message was sent with its Bcc header, so every recipient can read whom it was blind-copied "
                "to: leave Bcc addresses to the envelope (RCPT TO) and drop the header",
                "3.6.3",
                bcc,
            )
    for path in block.all("return-path"):
        yield _finding(
            "warning",
            "return-path-sent",
            "the message already has a Return-Path header: the last server adds it on delivery, from MAIL FROM; "
            "a sender's own is replaced or doubled (set the envelope sender instead)",
            "RFC 5321 section 4.4",
            path,
        )
    for lname, section in ONCE.items():
        for extra in block.all(lname)[1:]:
            yield _finding(
                "error",
                "duplicate-header",
                f"{extra.name} appears more than once (the first is on line {block.all(lname)[0].line}): "
                "mail programs disagree on which to believe",
                section,
                extra,
            )
    for lname in _MIME_ONCE:
        for extra in block.all(lname)[1:]:
            yield _finding(
                "warning", "duplicate-header", f"{extra.name} appears more than once", "RFC 2045 section 3", extra
            )
    if not block.first("mime-version") and (block.first("content-type") or block.first("content-transfer-encoding")):
        field = block.first("content-type") or block.first("content-transfer-encoding")
        yield _finding(
            "warning",
            "missing-mime-version",
            f"the message has a {field.name if field else 'Content-Type'} header but no MIME-Version: 1.0",
            "RFC 2045 section 4",
            field,
        )


def _date(field: Field) -> Iterator[Finding]:
    value = raw_to_str(field.text)
    found = _DATE.match(value.strip())
    if found is None:
        if header_date(value) is not None:
            yield _finding(
                "warning",
                "date-obsolete",
                f"the Date {value!r} uses an obsolete form (a named time zone, a two-digit year, or missing "
                'spaces); write it as "Mon, 2 Jun 2025 09:30:00 +0200"',
                "3.3",
                field,
            )
        else:
            yield _finding("error", "date-invalid", f"the Date {value!r} is not a date in RFC 5322 form", "3.3", field)
        return
    month = found["month"].lower()
    if month not in _MONTHS:
        yield _finding(
            "error", "date-invalid", f"the Date {value!r} has no month name {found['month']!r}", "3.3", field
        )
        return
    try:
        if int(found["zone"][3:]) > 59:
            raise ValueError("zone minutes")
        moment = datetime.datetime(
            int(found["year"]),
            _MONTHS.index(month) + 1,
            int(found["day"]),
            int(found["hour"]),
            int(found["minute"]),
            min(int(found["second"] or 0), 59),  # 60: a leap second
        )
    except ValueError:
        yield _finding("error", "date-invalid", f"the Date {value!r} names no real moment", "3.3", field)
        return
    if found["dow"] and found["dow"].lower() != _DAYS[calendar.weekday(moment.year, moment.month, moment.day)]:
        yield _finding(
            "warning",
            "date-weekday",
            f"the Date {value!r} says {found['dow']}, but that day is a {moment.strftime('%a')}",
            "3.3",
            field,
        )
    if moment.year < 1900:
        yield _finding("error", "date-invalid", f"the Date {value!r} is before 1900", "3.3", field)


def _message_id(field: Field) -> Iterator[Finding]:
    value = _COMMENT.sub("", raw_to_str(field.text)).strip()
    if field.lname == "message-id":
        if not _MSG_ID.fullmatch(value):
            yield _finding(
                "error",
                "message-id-syntax",
                f"the Message-ID {value!r} is not <left@right> (a dot-atom, @, a dot-atom or [literal], in angle brackets)",
                "3.6.4",
                field,
            )
        return
    rest = _MSG_ID.sub(" ", value).strip()
    if rest:
        yield _finding(
            "warning",
            "message-id-list-syntax",
            f"{field.name} should hold only message IDs in angle brackets; it also has {rest[:60]!r}",
            "3.6.4",
            field,
        )


def _addresses(field: Field) -> Iterator[Finding]:
    value = raw_to_str(field.text)
    try:
        found = check_address_list(
            value, single=field.lname in ("sender", "resent-sender"), allow_empty=field.lname == "bcc"
        )
    except AddressSyntax as syntax:
        yield _finding("error", "address-invalid", f"{field.name} is not a valid address list: {syntax}", "3.4", field)
        return
    for address in found:
        problem = domain_problem(address)
        if problem:
            yield _finding("warning", "address-domain", problem, "RFC 5321 section 4.1.2", field)


def _from_and_sender(block: HeaderBlock) -> Iterator[Finding]:
    sender, author = block.first("sender"), block.first("from")
    if author is None or sender is not None:
        return
    try:
        found = check_address_list(raw_to_str(author.text))
    except AddressSyntax:
        return
    if len(found) > 1:
        yield _finding(
            "error",
            "sender-required",
            "From names several authors, so a Sender header must say which one sent it",
            "3.6.2",
            author,
        )


def _eight_bit(field: Field, smtputf8: bool, part: str) -> Iterator[Finding]:
    data = field.raw_bytes
    if data.isascii():
        return
    if not smtputf8:
        yield _finding(
            "error",
            "8bit-header",
            f"{field.name} holds raw 8-bit bytes, but the SMTP client did not ask for SMTPUTF8 (MAIL FROM ... "
            "SMTPUTF8): encode the text as RFC 2047 encoded words, or send with SMTPUTF8",
            "RFC 6532 section 3",
            field,
            part,
        )
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        yield _finding(
            "error",
            "header-not-utf8",
            f"{field.name} holds 8-bit bytes that are not UTF-8",
            "RFC 6532 section 3.2",
            field,
            part,
        )


def _long_lines(field: Field, raw: bytes, part: str) -> Iterator[Finding]:
    longest = max(len(line.rstrip(b"\r")) for line in raw[field.start : field.end].split(b"\n"))
    if longest > 998:
        yield _finding(
            "error",
            "line-too-long",
            f"{field.name} has a line of {longest} characters: lines must be at most 998 (fold the header)",
            "2.1.1",
            field,
            part,
        )
    elif longest > 78:
        yield _finding(
            "info",
            "line-over-78",
            f"{field.name} has a line of {longest} characters; lines should be at most 78 (fold the header)",
            "2.1.1",
            field,
            part,
        )


def field_problems(block: HeaderBlock, raw: bytes, smtputf8: bool, part: str = "") -> Iterator[Finding]:
    """What is wrong with each field of any header block (the message's or a part's): syntax, 8-bit, length, encoded words."""
    for line, text in block.junk:
        yield Finding(
            "error",
            "header-syntax",
            f"line {line} of the header is neither a field (Name: value) nor a folded continuation: {text[:60]!r}",
            f"{RFC5322} section 2.2",
            Where("", line, part),
        )
    for field in block.fields:
        if field.space_before_colon:
            yield _finding(
                "warning",
                "header-name-space",
                f"{field.name} has spaces before its colon (an obsolete form many programs misread)",
                "4.5",
                field,
                part,
            )
        yield from _eight_bit(field, smtputf8, part)
        yield from _long_lines(field, raw, part)
        if field.lname in ("content-type", "content-disposition"):
            if _ENCODED_PARAMETER.search(raw_to_str(field.text)):
                yield _finding(
                    "info",
                    "encoded-word-in-parameter",
                    f"{field.name} has an RFC 2047 encoded word in a parameter (a file name?), which the standard "
                    "forbids; most mail programs decode it anyway, but RFC 2231 (filename*=utf-8''...) is the "
                    "standard way",
                    "RFC 2047 section 5",
                    field,
                    part,
                )
            continue
        for severity, code, message in word_problems(field.lname, raw_to_str(field.text)):
            yield _finding(severity, code, f"{field.name}: {message}", "RFC 2047 section 5", field, part)
        if field.value.strip(" \t\r\n") == "" and field.lname not in ("bcc",):
            yield _finding("info", "empty-header", f"{field.name} is empty", "2.2", field, part)


def message_header_problems(block: HeaderBlock) -> Iterator[Finding]:
    """What is wrong with the message's own header fields as RFC 5322 and RFC 2045 define them."""
    yield from _presence(block)
    yield from _from_and_sender(block)
    for field in block.fields:
        lname = field.lname
        if lname == "date":
            yield from _date(field)
        elif lname in ("message-id", "in-reply-to", "references"):
            yield from _message_id(field)
        elif lname in ("from", "sender", "reply-to", "to", "cc", "bcc"):
            yield from _addresses(field)
        elif lname == "mime-version" and not _MIME_VERSION.fullmatch(_COMMENT.sub("", field.text).strip()):
            yield _finding(
                "warning", "mime-version-value", f"MIME-Version is {field.text!r}, not 1.0", "RFC 2045 section 4", field
            )
