"""Captured messages as Python objects, built from the HTTP API's JSON (stdlib only)."""

from __future__ import annotations

import datetime
import email.header
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from mailcatch.client.http import Api

_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "br",
        "tr",
        "li",
        "ul",
        "ol",
        "table",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "hr",
        "section",
        "article",
        "header",
        "footer",
    }
)


def parse_time(text: str) -> datetime.datetime:
    """An RFC 3339 time from the API (`...Z`) as an aware datetime."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


class Address(str):
    """An email address that compares equal to its plain address string and keeps the display name."""

    name: str

    def __new__(cls, address: str, name: str = "") -> Address:
        self = super().__new__(cls, address)
        self.name = name
        return self

    @property
    def address(self) -> str:
        """The address alone, as a plain string."""
        return str.__str__(self)

    @property
    def formatted(self) -> str:
        """`Name <address>`, or the bare address when there is no name."""
        return f"{self.name} <{self.address}>" if self.name else self.address

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Address:
        """Read the API's `{Name, Address}`."""
        if not data:
            return cls("")
        return cls(data.get("Address") or "", data.get("Name") or "")


def _addresses(items: list[dict[str, Any]] | None) -> list[Address]:
    return [Address.from_json(item) for item in items or []]


class Headers(Mapping[str, str]):
    """Message headers in order; lookup ignores case and gives the first value, `get_all` gives every one."""

    def __init__(self, values: Mapping[str, list[str]]) -> None:
        self._names = list(values)
        self._values = {name.lower(): [decode_header(value) for value in found] for name, found in values.items()}

    def __getitem__(self, name: str) -> str:
        found = self._values.get(name.lower())
        if not found:
            raise KeyError(name)
        return found[0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def get_all(self, name: str) -> list[str]:
        """Every value of a header (empty if it is absent)."""
        return list(self._values.get(name.lower(), []))

    def __repr__(self) -> str:
        return f"Headers({dict((name, self.get_all(name)) for name in self._names)!r})"


@dataclass(frozen=True)
class Envelope:
    """The SMTP envelope: what the client said in MAIL FROM and RCPT TO, and about itself."""

    mail_from: str
    rcpt_to: list[str]
    peer: str
    helo: str
    username: str
    tls: bool
    mail_options: list[str]
    received: datetime.datetime


@dataclass(frozen=True)
class TranscriptLine:
    """One line of the SMTP session: direction ("C" client, "S" server), time and text."""

    direction: Literal["C", "S"]
    time: datetime.datetime
    text: str

    def __str__(self) -> str:
        return f"{self.direction}: {self.text}"


class Attachment:
    """An attachment or inline part; `content` is downloaded on first use."""

    def __init__(self, api: Api, message_id: str, data: Mapping[str, Any]) -> None:
        self._api = api
        self._message_id = message_id
        self.part_id: str = data["PartID"]
        self.filename: str = data.get("FileName") or ""
        self.content_type: str = data.get("ContentType") or ""
        self.content_id: str = data.get("ContentID") or ""
        self.size: int = data.get("Size") or 0

    @functools.cached_property
    def content(self) -> bytes:
        """The decoded bytes of the part."""
        return self._api.get_bytes(f"/api/v1/message/{self._message_id}/part/{self.part_id}")

    def __repr__(self) -> str:
        return f"<Attachment {self.filename!r} {self.content_type} {self.size} bytes>"


class Message:
    """A captured message. Summary fields are at hand; the body, raw, headers and transcript load on first use."""

    def __init__(self, api: Api, summary: Mapping[str, Any]) -> None:
        self._api = api
        self.id: str = summary["ID"]
        self.message_id: str = summary.get("MessageID") or ""
        self.subject: str = summary.get("Subject") or ""
        self.from_: Address = Address.from_json(summary.get("From"))
        self.to: list[Address] = _addresses(summary.get("To"))
        self.cc: list[Address] = _addresses(summary.get("Cc"))
        self.bcc: list[Address] = _addresses(summary.get("Bcc"))
        self.reply_to: list[Address] = _addresses(summary.get("ReplyTo"))
        self.created: datetime.datetime = parse_time(summary["Created"])
        self.size: int = summary.get("Size") or 0

    @property
    def recipients(self) -> list[Address]:
        """To, Cc and Bcc together (Bcc includes envelope recipients named in no header)."""
        return [*self.to, *self.cc, *self.bcc]

    @functools.cached_property
    def _detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = self._api.get_json(f"/api/v1/message/{self.id}")
        return detail

    @property
    def html(self) -> str:
        """The HTML body ("" if there is none), line breaks as "\\n"."""
        return _lf(str(self._detail.get("HTML") or ""))

    @property
    def text(self) -> str:
        """The plain-text body, line breaks as "\\n"; with no text part, the HTML body with its tags stripped.

        The API gives a message without a text part Mailpit's text of its HTML (`*bold*`,
        `link ( url )`) and says so in `TextFromHTML`; here such a message gets plain text instead.
        """
        text = str(self._detail.get("Text") or "")
        if self.html and (not text or self._detail.get("TextFromHTML")):
            return html_to_text(self.html)
        return _lf(text)

    @functools.cached_property
    def attachments(self) -> list[Attachment]:
        """Parts attached as files."""
        return [Attachment(self._api, self.id, part) for part in self._detail.get("Attachments") or []]

    @functools.cached_property
    def inline(self) -> list[Attachment]:
        """Inline parts, such as images an HTML body shows through `cid:` links."""
        return [Attachment(self._api, self.id, part) for part in self._detail.get("Inline") or []]

    @functools.cached_property
    def envelope(self) -> Envelope:
        """The SMTP envelope the message came with."""
        data = self._detail["Envelope"]
        return Envelope(
            mail_from=data["From"],
            rcpt_to=list(data["To"]),
            peer=data["Peer"],
            helo=data["Helo"],
            username=data["Username"],
            tls=data["TLS"],
            mail_options=list(data["MailOptions"]),
            received=parse_time(data["Received"]),
        )

    @functools.cached_property
    def headers(self) -> Headers:
        """The headers, encoded words decoded."""
        return Headers(self._api.get_json(f"/api/v1/message/{self.id}/headers"))

    @functools.cached_property
    def raw(self) -> bytes:
        """The message exactly as received."""
        return self._api.get_bytes(f"/api/v1/message/{self.id}/raw")

    @functools.cached_property
    def transcript(self) -> list[TranscriptLine]:
        """Every line of the SMTP session that delivered the message."""
        data = self._api.get_json(f"/api/v1/message/{self.id}/transcript")
        return [TranscriptLine(line["Dir"], parse_time(line["Time"]), line["Text"]) for line in data["Lines"]]

    @functools.cached_property
    def links(self) -> list[str]:
        """The http(s) URLs in the text and HTML bodies, de-duplicated, in order."""
        text = "" if self._detail.get("TextFromHTML") else str(self._detail.get("Text") or "")
        return list(dict.fromkeys([*urls_in_text(text), *urls_in_html(self.html)]))

    def lint(self) -> LintFindings:
        """The standards lint of the message (GET /api/v1/message/{ID}/lint): errors first, then warnings, then infos.

        `assert message.lint() == []` fails listing every finding. Infos are hints, not faults:
        `assert message.lint().problems == []` asks for no error and no warning.
        """
        data = self._api.get_json(f"/api/v1/message/{self.id}/lint")
        return LintFindings(LintFinding.from_json(item) for item in data["Findings"])

    def check(self) -> Checks:
        """The message's checks: `.lint`, `.dkim` and `.html`, with `.problems` and `.ok` over lint and DKIM."""
        return Checks(self)

    def describe(self) -> str:
        """One line for failure reports: sender, recipients and subject."""
        recipients = ", ".join(r.address for r in self.recipients) or "(no recipients)"
        return f"from {self.from_.address or '(no sender)'} to {recipients}: {self.subject!r}"

    def __repr__(self) -> str:
        return f"<Message {self.id} {self.describe()}>"


@dataclass(frozen=True)
class LintWhere:
    """Where a lint finding is: a header and its line in the raw message (from 1), and/or a MIME part's PartID."""

    header: str = ""
    line: int = 0
    part_id: str = ""

    def __str__(self) -> str:
        places = [f"header {self.header}" if self.header else "", f"line {self.line}" if self.line else ""]
        places.append(f"part {self.part_id}" if self.part_id else "")
        return ", ".join(place for place in places if place) or "the message"


@dataclass(frozen=True)
class LintFinding:
    """One finding of the standards lint: severity ("error", "warning", "info"), a stable code, what is
    wrong, the standard it breaks and where."""

    severity: Literal["error", "warning", "info"]
    code: str
    message: str
    reference: str
    where: LintWhere

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LintFinding:
        where = data.get("Where") or {}
        return cls(
            data["Severity"],
            data["Code"],
            data["Message"],
            data["Reference"],
            LintWhere(where.get("Header") or "", where.get("Line") or 0, where.get("PartID") or ""),
        )

    def __str__(self) -> str:
        return f"{self.severity} {self.code} ({self.where}): {self.message} [{self.reference}]"

    def __repr__(self) -> str:
        return f"<{self}>"


class LintFindings(list[LintFinding]):
    """The lint's findings, errors first; a list, so `assert message.lint() == []` reads as it should."""

    @property
    def problems(self) -> LintFindings:
        """The errors and warnings (infos left out)."""
        return LintFindings(finding for finding in self if finding.severity != "info")

    def codes(self) -> list[str]:
        """The findings' codes, in order."""
        return [finding.code for finding in self]

    def report(self) -> str:
        """One finding a line, as a failing assertion shows them."""
        return "\n".join(str(finding) for finding in self) if self else "no findings"


def findings_report(op: str, left: object, right: object) -> list[str] | None:
    """What a failing `assert message.lint() == []` shows: every finding, one a line (pytest's
    pytest_assertrepr_compare, from mailcatch's plugin); None for any other comparison."""
    if op != "==" or not (isinstance(left, LintFindings) or isinstance(right, LintFindings)):
        return None
    found, other = (left, right) if isinstance(left, LintFindings) else (right, left)
    assert isinstance(found, LintFindings)
    if not isinstance(other, list) or isinstance(other, LintFindings):
        return None
    counts = ", ".join(
        f"{n} {severity}{'s' if n != 1 else ''}"
        for severity in ("error", "warning", "info")
        if (n := sum(1 for f in found if f.severity == severity))
    )
    head = f"lint findings == {other!r}: {counts or 'none'}"
    return [head, *(f"  {finding}" for finding in found)]


@dataclass(frozen=True)
class DkimSignature:
    """One DKIM-Signature, ARC-Seal or ARC-Message-Signature of a message, as the catcher verified it."""

    kind: str
    domain: str
    selector: str
    algorithm: str
    headers: list[str]
    result: str
    """pass, fail, nokey, temperror or permerror."""
    reason: str
    key_source: str

    def __str__(self) -> str:
        reason = f": {self.reason}" if self.reason else ""
        return f"{self.kind} d={self.domain} s={self.selector} {self.result}{reason}"


@dataclass(frozen=True)
class DkimCheck:
    """GET /api/v1/message/{ID}/dkim: each signature's result, and the ARC chain's (pass, fail or none)."""

    signatures: list[DkimSignature]
    arc_result: str
    arc_reason: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DkimCheck:
        signatures = [
            DkimSignature(
                item.get("Kind") or "",
                item.get("Domain") or "",
                item.get("Selector") or "",
                item.get("Algorithm") or "",
                list(item.get("Headers") or []),
                item.get("Result") or "",
                item.get("Reason") or "",
                item.get("KeySource") or "",
            )
            for item in data.get("Signatures") or []
        ]
        arc = data.get("ARC") or {}
        return cls(signatures, arc.get("Result") or "none", arc.get("Reason") or "")

    @property
    def problems(self) -> list[str]:
        """Signatures that fail (a wrong hash or signature, or a broken one) and a failing ARC chain."""
        found = [str(s) for s in self.signatures if s.result in ("fail", "permerror")]
        if self.arc_result == "fail":
            found.append(f"ARC chain fail: {self.arc_reason}" if self.arc_reason else "ARC chain fail")
        return found


@dataclass(frozen=True)
class HtmlWarning:
    """One HTML element or CSS property of the message that some mail programs don't (fully) support."""

    slug: str
    title: str
    category: str
    supported: float
    partial: float
    unsupported: float
    """Percentages of the tested mail programs, as Mailpit's Score gives them."""
    url: str


@dataclass(frozen=True)
class HtmlCheck:
    """GET /api/v1/message/{ID}/html-check (Mailpit's shape): how well mail programs support the HTML."""

    supported: float
    partial: float
    unsupported: float
    """Overall percentages (Mailpit's Total)."""
    warnings: list[HtmlWarning]
    data: dict[str, Any]
    """The whole answer, as Mailpit gives it."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HtmlCheck:
        total = data.get("Total") or {}
        warnings = [
            HtmlWarning(
                item.get("Slug") or "",
                item.get("Title") or "",
                item.get("Category") or "",
                float((item.get("Score") or {}).get("Supported") or 0),
                float((item.get("Score") or {}).get("Partial") or 0),
                float((item.get("Score") or {}).get("Unsupported") or 0),
                item.get("URL") or "",
            )
            for item in data.get("Warnings") or []
        ]
        return cls(
            float(total.get("Supported") or 0),
            float(total.get("Partial") or 0),
            float(total.get("Unsupported") or 0),
            warnings,
            data,
        )


class Checks:
    """A message's checks, each asked of the catcher when first read: `lint`, `dkim`, `html`.

    `problems` lists, one line each, the lint's errors and warnings and the DKIM signatures that
    fail; `ok` is true when there are none. The HTML check (scores out of caniemail's data) is
    there to assert on, but counts as no problem: nearly every HTML mail uses something some
    mail program lacks.
    """

    def __init__(self, message: Message) -> None:
        self._message = message

    @functools.cached_property
    def lint(self) -> LintFindings:
        return self._message.lint()

    @functools.cached_property
    def dkim(self) -> DkimCheck:
        return DkimCheck.from_json(self._message._api.get_json(f"/api/v1/message/{self._message.id}/dkim"))

    @functools.cached_property
    def html(self) -> HtmlCheck | None:
        """None for a message without an HTML body."""
        if not self._message.html.strip():
            return None
        return HtmlCheck.from_json(self._message._api.get_json(f"/api/v1/message/{self._message.id}/html-check"))

    @property
    def problems(self) -> list[str]:
        return [f"lint: {finding}" for finding in self.lint.problems] + [f"dkim: {p}" for p in self.dkim.problems]

    @property
    def ok(self) -> bool:
        return not self.problems

    def __repr__(self) -> str:
        problems = self.problems
        if not problems:
            return f"<Checks of {self._message.id}: ok>"
        return f"<Checks of {self._message.id}: {len(problems)} problems:\n  " + "\n  ".join(problems) + ">"


def decode_header(value: str) -> str:
    """A header value with its RFC 2047 encoded words decoded (the API gives them as sent)."""
    if "=?" not in value:
        return value
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (LookupError, ValueError, UnicodeError):  # an unknown charset, broken base64
        return value


def _lf(text: str) -> str:
    """Text with CRLF (as mail is sent, and as the API gives it) as Python's "\\n"."""
    return text.replace("\r\n", "\n") if "\r" in text else text


def urls_in_text(text: str) -> list[str]:
    """The http(s) URLs in plain text, without trailing punctuation or an unmatched closing bracket."""
    found = []
    for match in _URL.finditer(text):
        url = match.group().rstrip(".,;:!?")
        while url.endswith(")") and url.count(")") > url.count("("):
            url = url[:-1].rstrip(".,;:!?")
        found.append(url)
    return found


class _HTMLScanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.text: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title"):
            self._hidden += 1
        elif tag in _BLOCK_TAGS:
            self.text.append("\n")
        for name, value in attrs:
            if name == "href" and value and value.strip().lower().startswith(("http://", "https://")):
                self.links.append(value.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.text.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.text.append(data)
            self.links.extend(urls_in_text(data))


def _scan(html: str) -> _HTMLScanner:
    scanner = _HTMLScanner()
    scanner.feed(html)
    scanner.close()
    return scanner


def urls_in_html(html: str) -> list[str]:
    """The http(s) URLs an HTML body links to (href) or shows as text, in document order."""
    return _scan(html).links


def html_to_text(html: str) -> str:
    """Readable text from HTML: tags, scripts and styles dropped, one line per block."""
    lines = (" ".join(line.split()) for line in "".join(_scan(html).text).splitlines())
    return "\n".join(line for line in lines if line)
