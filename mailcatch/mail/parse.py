"""Parse raw RFC 5322 / MIME bytes into mailcatch's parsed view: pure functions, never raising.

The MIME tree comes from mime.split_message (else the standard library's parser); header values
are decoded by decode, params and addresses. Which parts are the bodies, attachments and inline
parts follows Mailpit (whose parser is enmime): see `parse_message`. A message without a text
body gets the text of its HTML (html_to_text), as in Mailpit.
"""

from __future__ import annotations

import datetime
import email.generator
import email.message
import email.policy
import hashlib
import io
import quopri
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.parser import BytesParser

from mailcatch.mail.addresses import ParsedAddress, parse_address_list
from mailcatch.mail.decode import decode_bytes, decode_words, header_date, header_text, raw_to_str, unfold
from mailcatch.mail.html_text import snippet
from mailcatch.mail.html_to_text import html_to_text
from mailcatch.mail.mime import Unsupported, read_end, shorten_payload, split_head, split_message
from mailcatch.mail.params import angle_stripped, clean_filename, parse_params
from mailcatch.mail.tags import header_tags

__all__ = [
    "MAX_PART_DEPTH",
    "CalendarPart",
    "ParsedMessage",
    "Part",
    "hidden_recipients",
    "parse_message",
    "part_content",
    "raw_headers",
]

MAX_PART_DEPTH = 100
"""Parts nested deeper than this many multipart levels are ignored (and no part ID is longer)."""

# parsebytes() builds a fresh feed parser per call, so one instance serves every thread.
_PARSER = BytesParser(policy=email.policy.compat32)

_METHOD_LINE = re.compile(rb"^METHOD:[ \t]*([A-Za-z-]+)", re.MULTILINE)
_BODY_TYPES = ("text/plain", "text/html")
_PART_ID = re.compile(rf"[1-9][0-9]{{0,8}}(?:\.[1-9][0-9]{{0,8}}){{0,{MAX_PART_DEPTH - 1}}}")


@dataclass(frozen=True, slots=True)
class Part:
    """A leaf MIME part other than the text or HTML body (an attachment or inline part)."""

    part_id: str
    filename: str
    content_type: str
    content_id: str
    size: int
    md5: str = ""
    """Checksums of the decoded content, in hex (only when the parts were measured)."""
    sha1: str = ""
    sha256: str = ""


@dataclass(frozen=True, slots=True)
class CalendarPart:
    """A text/calendar part (an iCalendar invitation, reply or cancellation), wherever it is in the message."""

    part_id: str
    content_type: str
    size: int
    method: str
    """The iTIP method (REQUEST, REPLY, CANCEL...): the part's `method` parameter, else its METHOD line."""


@dataclass(slots=True)
class ParsedMessage:
    """What mailcatch shows of a message; every field is best effort for broken input."""

    headers: list[tuple[str, str]]
    from_: ParsedAddress | None
    to: list[ParsedAddress]
    cc: list[ParsedAddress]
    bcc: list[ParsedAddress]
    reply_to: list[ParsedAddress]
    return_path: str
    subject: str
    date: datetime.datetime | None
    message_id: str
    text: str
    html: str
    inline: list[Part]
    attachments: list[Part]
    tags: list[str]
    snippet: str
    size: int
    raw_headers: list[tuple[str, str]]
    """Headers in order with their values as sent (unfolded and trimmed, encoded words not decoded)."""
    attachment_count: int
    """Parts that are attachments by their headers, named or not: what summaries count (as in Mailpit)."""
    calendar: list[CalendarPart]
    text_from_html: bool
    """Whether `text` was made from the HTML body (the message has no text part)."""


# --- MIME structure ------------------------------------------------------------------------


def _parse(raw: bytes) -> email.message.Message:
    try:
        return split_message(raw)  # the same tree, much faster, for the shapes it knows
    except Unsupported:
        pass
    try:
        return _PARSER.parsebytes(raw)
    except RecursionError:
        # Absurdly deep nesting: keep the headers, show the body as text.
        return _PARSER.parsebytes(raw, headersonly=True)


def _children(node: email.message.Message) -> list[email.message.Message] | None:
    """Sub-parts of a multipart node; None for a leaf (message/* parts are leaves)."""
    if node.is_multipart() and node.get_content_maintype() == "multipart":
        return _subparts(node)
    return None


def _subparts(node: email.message.Message) -> list[email.message.Message]:
    """The parsed sub-messages of a node whose payload is a list (only call when is_multipart())."""
    return [part for part in node.get_payload() if isinstance(part, email.message.Message)]


@dataclass(slots=True)
class _Leaf:
    """A leaf MIME part with the header facts that decide whether it is a body, inline or attachment."""

    node: email.message.Message | None
    part_id: str
    content_type: str
    charset: str
    disposition: str
    filename: str
    content_id: str
    in_related: bool
    method: str = ""

    @classmethod
    def of(cls, node: email.message.Message, part_id: str, in_related: bool) -> _Leaf:
        return cls.of_fields(node.raw_items(), node.get_default_type(), node, part_id, in_related)

    @classmethod
    def of_fields(
        cls,
        fields: Iterable[tuple[str, str]],
        default_type: str,
        node: email.message.Message | None,
        part_id: str,
        in_related: bool,
    ) -> _Leaf:
        """A leaf from its raw header fields (`node` None: the caller has its content)."""
        ctype = disposition = content_id = ""
        cdisp_params: dict[str, str] = {}
        ctype_params: dict[str, str] = {}
        for name, value in fields:
            lname = name.lower()
            if not lname.startswith("content-"):
                continue
            if lname == "content-type" and not ctype:
                ctype, ctype_params = parse_params(unfold(raw_to_str(value)))
            elif lname == "content-disposition" and not disposition:
                disposition, cdisp_params = parse_params(unfold(raw_to_str(value)))
            elif lname == "content-id" and not content_id:
                content_id = angle_stripped(header_text(value))
        ctype = "".join(ctype.split())
        if ctype.count("/") != 1 or ctype.startswith("/") or ctype.endswith("/"):
            ctype = default_type if not ctype else "text/plain"
        if ctype.startswith("multipart/"):
            ctype = "text/plain"  # a multipart without usable boundary: show its body as text
        filename = cdisp_params.get("filename") or ctype_params.get("name") or ""
        return cls(
            node=node,
            part_id=part_id,
            content_type=ctype,
            charset=ctype_params.get("charset", ""),
            disposition=disposition.lower(),
            filename=clean_filename(filename) if filename else "",
            content_id=content_id,
            in_related=in_related,
            method=ctype_params.get("method", "").strip().upper(),
        )

    def content(self, linesep: str) -> bytes:
        """The part's bytes with its transfer encoding undone."""
        assert self.node is not None
        if self.node.is_multipart():  # message/rfc822 and friends: the embedded message
            return _flatten(_subparts(self.node), linesep)
        try:
            data = self.node.get_payload(decode=True)
        except ValueError:  # Python 3.10's uu decoder raises on a broken uuencoded part
            return b""
        return data if isinstance(data, bytes) else b""

    def text(self, linesep: str, limit: int | None = None) -> str:
        """The part decoded to text with its charset, line endings as sent; with `limit`, only
        about its first `limit` bytes (as received: encoded) are read."""
        node = self.node
        if limit is not None and node is not None and not node.is_multipart() and shorten_payload(node, limit):
            return _cut_text(self.text_of(self.content(linesep)))
        return self.text_of(self.content(linesep))

    def text_of(self, content: bytes) -> str:
        return decode_bytes(content, self.charset)

    def part(self, size: int) -> Part:
        return Part(self.part_id, self.filename, self.content_type, self.content_id, size)

    def measured(self, content: bytes) -> Part:
        """The part with its size and checksums."""
        return Part(
            self.part_id,
            self.filename,
            self.content_type,
            self.content_id,
            len(content),
            hashlib.md5(content, usedforsecurity=False).hexdigest(),
            hashlib.sha1(content, usedforsecurity=False).hexdigest(),
            hashlib.sha256(content).hexdigest(),
        )

    def listed_as(self, root: bool) -> str:
        """Where Mailpit lists the part: "attachment", "inline", "other" (listed with inline parts
        when named) or "" (nowhere); `root` for the single part of a message that is not multipart."""
        if root:
            if self.content_type in _BODY_TYPES and self.disposition != "attachment":
                return ""  # the body
            return "inline" if self.disposition == "inline" else "attachment"
        if self.disposition == "attachment" or self.content_type == "application/octet-stream":
            return "attachment"
        if self.disposition == "inline":
            return "inline"
        if not self.disposition and self.content_type not in _BODY_TYPES:
            return "other"
        return ""


def _flatten(messages: list[email.message.Message], linesep: str) -> bytes:
    out = io.BytesIO()
    generator = email.generator.BytesGenerator(out, mangle_from_=False, maxheaderlen=0)
    try:
        for message in messages:
            generator.flatten(message, linesep=linesep)
    except RecursionError:
        return b""
    return out.getvalue()


def _leaves(root: email.message.Message) -> list[_Leaf]:
    """Every leaf part in document order with its IMAP-style section number.

    A loop over a stack rather than a recursive inner function: such a function refers to
    itself through its closure, a reference cycle that would keep the parts (and through
    them the message's bytes) alive until the garbage collector next runs, which for huge
    messages may be many messages later.
    """
    found: list[_Leaf] = []
    stack: list[tuple[email.message.Message, str, int, bool]] = [(root, "", 0, False)]
    while stack:
        node, prefix, depth, in_related = stack.pop()
        children = _children(node)
        if children is None:
            found.append(_Leaf.of(node, prefix or "1", in_related))
            continue
        if depth >= MAX_PART_DEPTH:
            continue
        related = in_related or node.get_content_subtype() == "related"
        for index in range(len(children), 0, -1):  # pushed last to first: popped in document order
            stack.append((children[index - 1], f"{prefix}.{index}" if prefix else str(index), depth + 1, related))
    return found


def _single_text_part(raw: bytes, limit: int | None = None) -> tuple[list[tuple[str, str]], str, str] | None:
    """For a message that is one text or HTML body (the usual shape of small messages): its
    header fields, its content type and its text, read straight from its bytes; else None.

    This gives what the general path gives such a message (tests compare the two), without
    building the stdlib's message object, whose every header lookup walks all the headers.
    """
    try:
        fields, body_start = split_head(raw)
    except Unsupported:
        return None
    content_type = encoding = None
    for name, value in fields:
        lname = name.lower()
        if lname == "content-type" and content_type is None:
            content_type = value
        elif lname == "content-transfer-encoding" and encoding is None:
            encoding = value
    if not (content_type or "").isascii() or not (encoding or "").isascii():
        return None  # the stdlib would hand these over as Header objects
    # The stdlib's own reading of the type decides whether the body is split into parts.
    stdlib_type = (content_type or "text/plain").partition(";")[0].strip().lower()
    if stdlib_type.count("/") == 1 and stdlib_type.split("/")[0] in ("multipart", "message"):
        return None
    leaf = _Leaf.of_fields(fields, "text/plain", None, "1", False)
    if leaf.content_type not in ("text/plain", "text/html") or leaf.disposition == "attachment" or leaf.filename:
        return None
    body_end = read_end(raw, body_start, len(raw), limit)
    body = raw[body_start:body_end]
    cte = (encoding or "").lower()
    if cte == "quoted-printable":
        body = quopri.decodestring(body)
    elif cte in ("base64", "x-uuencode", "uuencode", "uue", "x-uue"):
        return None  # any other encoding leaves the bytes as they are, as in the stdlib
    text = leaf.text_of(body)
    return fields, leaf.content_type, _cut_text(text) if body_end < len(raw) else text


def _cut_text(text: str) -> str:
    """The text of a body read only in part, without the half character its cut may leave."""
    return text.removesuffix("\ufffd")


def _depth(leaf: _Leaf) -> int:
    return leaf.part_id.count(".")


def _linesep(raw: bytes) -> str:
    """The line ending to use when re-serialising an embedded message."""
    return "\r\n" if b"\r\n" in raw[:4096] else "\n"


# --- public API ----------------------------------------------------------------------------


def parse_message(
    raw: bytes, measure_parts: bool = True, text_limit: int | None = None, html_as_text: bool = True
) -> ParsedMessage:
    """Parse raw message bytes into the parsed view; never raises, whatever the input.

    Without `measure_parts`, attachments are not decoded and their sizes are 0: what
    storing a message needs (their number and names) costs nothing per byte. With
    `text_limit`, the text and HTML bodies are read only as far as needed for about that many
    characters: what storing a huge message needs (its snippet and the text search indexes),
    without decoding tens of MB of text. Without `html_as_text`, a message without a text
    part keeps an empty `text` (storing it needs no text made from HTML).

    As in Mailpit: the text is the first text/plain part that is not an attachment (in a
    multipart/alternative message), or all of them joined by "\\n--\\n" (any other multipart);
    the HTML is the first text/html part that is not an attachment. Attachments are the parts
    whose disposition is `attachment` or whose type is application/octet-stream; inline parts
    those whose disposition is `inline`, then those with no disposition that are not text/plain or
    text/html; of both, only parts with a file name or a Content-ID are listed.
    """
    body_limit = None if text_limit is None else 4 * text_limit  # up to 4 bytes a character
    single = _single_text_part(raw) if body_limit is None else _single_text_part(raw, body_limit)
    root: email.message.Message | None = None
    fields: Iterable[tuple[str, str]]
    if single is None:
        root = _parse(raw)
        fields = root.raw_items()
    else:
        fields = single[0]
    headers: list[tuple[str, str]] = []
    raw_headers: list[tuple[str, str]] = []
    first: dict[str, str] = {}
    addresses: dict[str, list[str]] = {"from": [], "to": [], "cc": [], "bcc": [], "reply-to": []}
    tag_values: list[str] = []
    for name, value in fields:
        lname = name.lower()
        if lname in addresses:
            addresses[lname].append(value)
        sent = _sent_value(value)
        raw_headers.append((name, sent))
        decoded = decode_words(sent)
        headers.append((name, decoded))
        if lname == "x-tags":
            tag_values.append(decoded)
        first.setdefault(lname, decoded)

    def address_list(name: str) -> list[ParsedAddress]:
        return [a for value in addresses[name] for a in parse_address_list(value)]

    senders = address_list("from")
    linesep = _linesep(raw)
    text = html = ""
    if single is not None:
        text, html = ("", single[2]) if single[1] == "text/html" else (single[2], "")
    leaves = _leaves(root) if root is not None else []
    is_root = root is not None and _children(root) is None
    texts: list[str] = []
    one_text = root is not None and root.get_content_type() == "multipart/alternative"
    have_html = False
    by_kind: dict[str, list[_Leaf]] = {"attachment": [], "inline": [], "other": []}
    calendar_leaves: list[_Leaf] = []
    for leaf in leaves:
        body = leaf.content_type in _BODY_TYPES and leaf.disposition != "attachment"
        if body and leaf.content_type == "text/plain" and not (one_text and texts):
            texts.append(leaf.text(linesep, body_limit))
        elif body and leaf.content_type == "text/html" and not have_html:
            html, have_html = leaf.text(linesep, body_limit), True
        kind = leaf.listed_as(is_root)
        if kind:
            by_kind[kind].append(leaf)
        if leaf.content_type == "text/calendar":
            calendar_leaves.append(leaf)
    if texts:
        text = "\n--\n".join(texts)

    def listed(kind: str) -> list[Part]:
        """The named parts of a kind, breadth first (Mailpit's order: shallower parts first)."""
        named = sorted((leaf for leaf in by_kind[kind] if leaf.filename or leaf.content_id), key=_depth)
        if not measure_parts:
            return [leaf.part(0) for leaf in named]
        return [leaf.measured(leaf.content(linesep)) for leaf in named]

    calendar = []
    for leaf in calendar_leaves:
        content = leaf.content(linesep) if measure_parts else b""
        method = leaf.method
        if not method and (found := _METHOD_LINE.search(content[:65536])):
            method = found[1].decode("ascii").upper()
        calendar.append(CalendarPart(leaf.part_id, leaf.content_type, len(content), method))

    text_from_html = not text and bool(html) and html_as_text
    if text_from_html:
        text = html_to_text(html)
    return ParsedMessage(
        headers=headers,
        from_=senders[0] if senders else None,
        to=address_list("to"),
        cc=address_list("cc"),
        bcc=address_list("bcc"),
        reply_to=address_list("reply-to"),
        return_path=angle_stripped(first.get("return-path", "")),
        subject=first.get("subject", "").strip(),
        date=header_date(first["date"]) if "date" in first else None,
        message_id=angle_stripped(first.get("message-id", "")),
        text=text,
        html=html,
        inline=listed("inline") + listed("other"),
        attachments=listed("attachment"),
        tags=header_tags(tag_values),
        snippet=snippet("" if text_from_html else text, html),
        size=len(raw),
        raw_headers=raw_headers,
        attachment_count=len(by_kind["attachment"]),
        calendar=calendar,
        text_from_html=text_from_html,
    )


def part_content(raw: bytes, part_id: str) -> tuple[Part, bytes] | None:
    """Decoded bytes of one part, or None if no such part."""
    if not _PART_ID.fullmatch(part_id):
        return None
    numbers = part_id.split(".")
    node = _parse(raw)
    children = _children(node)
    if children is None:
        if part_id != "1":
            return None
    else:
        for number in numbers:
            if children is None:
                return None
            index = int(number)
            if not 1 <= index <= len(children):
                return None
            node = children[index - 1]
            children = _children(node)
        if children is not None:
            return None
    leaf = _Leaf.of(node, part_id, in_related=False)
    data = leaf.content(_linesep(raw))
    return leaf.measured(data), data


def raw_headers(raw: bytes) -> list[tuple[str, str]]:
    """The message's headers in order, values as sent but unfolded and trimmed (encoded words not decoded)."""
    fields: Iterable[tuple[str, str]]
    try:
        fields, _ = split_head(raw)
    except Unsupported:
        fields = _PARSER.parsebytes(raw, headersonly=True).raw_items()
    return [(name, _sent_value(value)) for name, value in fields]


def _sent_value(value: str) -> str:
    """A header value as sent: 8-bit bytes read, unfolded, without the whitespace around it."""
    return unfold(raw_to_str(value)).strip(" \t")


def hidden_recipients(parsed: ParsedMessage, rcpt_to: Sequence[str]) -> list[ParsedAddress]:
    """Envelope recipients that no To, Cc or Bcc header names: the message's Bcc."""
    shown = {a.address.lower() for a in (*parsed.to, *parsed.cc, *parsed.bcc)}
    hidden = []
    for recipient in rcpt_to:
        if recipient.lower() not in shown:
            shown.add(recipient.lower())
            hidden.append(ParsedAddress("", recipient))
    return hidden
