"""Parse raw RFC 5322 / MIME bytes into mailcatch's parsed view: pure functions, never raising."""

from __future__ import annotations

import binascii
import codecs
import datetime
import email.generator
import email.message
import email.policy
import email.utils
import functools
import html as html_lib
import io
import quopri
import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.parser import BytesParser
from urllib.parse import unquote, unquote_to_bytes

from mailcatch.mail.mime import Unsupported, split_head, split_message

__all__ = [
    "Address",
    "ParsedMessage",
    "Part",
    "html_to_text",
    "parse_address_list",
    "parse_message",
    "part_content",
]

MAX_DEPTH = 100
"""Parts nested deeper than this many multipart levels are ignored."""

SNIPPET_LENGTH = 250

# parsebytes() builds a fresh feed parser per call, so one instance serves every thread.
_PARSER = BytesParser(policy=email.policy.compat32)

# Common codecs that decode ASCII as ASCII and never produce lone surrogates.
_ASCII_SUPERSETS = frozenset(
    {"utf-8", "iso8859-1", "iso8859-2", "iso8859-15", "cp1250", "cp1251", "cp1252", "koi8-r", "koi8-u"}
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_FOLD = re.compile(r"\r?\n[ \t]|[\r\n]")
# Encoded text may end in one unencoded "?" ("=?utf-8?Q?Ready??="), a common encoder slip.
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*(?:\?(?=\?=))?)\?=")
_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")  # for encoded words; bodies use the stdlib decoder
_CID_REF = re.compile(r"""cid:([^"'\s)>]+)""", re.IGNORECASE)
_PART_ID = re.compile(r"[1-9][0-9]{0,8}(?:\.[1-9][0-9]{0,8}){0,%d}" % (MAX_DEPTH - 1))
# Control characters, and bidi overrides that could disguise an extension ("txt\u202eexe").
_UNSAFE_IN_FILENAME = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_MESSAGE_ID = re.compile(r"<([^<>]*)>")
_PARAM_SPECIAL = re.compile(r'[\\";]')
_COMMENT_SPECIAL = re.compile(r"\\.|[()]", re.DOTALL)
_ADDRESS_SPECIAL = re.compile(r'[\s",;:<(\[]')
_SIMPLE_MAILBOX = re.compile(r'(?:"([^"\\]*)"|([^"\\,;:<>()\[\]@]*?))\s*<([^<>"(),;:\s\\\[\]]*)>')
_ADDRESS_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|<[^>]*>?|\[[^\]]*\]?|[,;:]|\s+|[^\s"(<\[,;:]+', re.DOTALL)

# An unclosed tag runs to the end of the text ("(?:>|$)"), which keeps every pattern linear.
_HTML_HIDDEN = re.compile(
    r"<!--.*?(?:-->|$)|<head\b[^>]*(?:>|$).*?(?:</head\s*>|(?=<body\b)|$)"
    r"|<(script|style|title|template)\b[^>]*(?:>|$).*?(?:</\1\s*>|$)",
    re.IGNORECASE | re.DOTALL,
)
_HTML_BLOCK_TAG = re.compile(
    r"</?(?:br|p|div|tr|td|th|li|ul|ol|table|h[1-6]|blockquote|pre|hr|section|article|header|footer)\b[^>]*(?:>|$)",
    re.IGNORECASE,
)
_HTML_TAG = re.compile(r"<[a-zA-Z/!?][^>]*(?:>|$)")
# Zero-width and soft characters that mailers pad preheaders with.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u034f\u200b\u200c\u200d\u2060\ufeff"))


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox from an address header: display name (decoded) and address."""

    name: str
    address: str

    def to_json(self) -> dict[str, str]:
        return {"Name": self.name, "Address": self.address}


@dataclass(frozen=True, slots=True)
class Part:
    """A leaf MIME part other than the text or HTML body (an attachment or inline part)."""

    part_id: str
    filename: str
    content_type: str
    content_id: str
    size: int

    def to_json(self) -> dict[str, str | int]:
        return {
            "PartID": self.part_id,
            "FileName": self.filename,
            "ContentType": self.content_type,
            "ContentID": self.content_id,
            "Size": self.size,
        }


@dataclass(slots=True)
class ParsedMessage:
    """What mailcatch shows of a message; every field is best effort for broken input."""

    headers: list[tuple[str, str]]
    from_: Address | None
    to: list[Address]
    cc: list[Address]
    bcc: list[Address]
    reply_to: list[Address]
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


# --- text decoding -------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _codec(charset: str) -> str | None:
    """The canonical name of the text codec for a MIME charset label, or None if unknown."""
    label = charset.strip().strip('"').lower().partition("*")[0]  # RFC 2231 "utf-8*en"
    if label in ("", "us-ascii", "ascii", "unknown-8bit", "x-unknown"):
        return None  # 8-bit bytes under these labels are nearly always UTF-8
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError):
        return None
    try:
        b"a".decode(name)
    except LookupError:
        return None  # a bytes-to-bytes codec such as base64
    except ValueError:
        pass  # a text codec that cannot decode b"a" alone (utf-16)
    return name


def _decode_bytes(data: bytes, charset: str) -> str:
    """Decode with the declared charset; unknown or missing charset: UTF-8, else Latin-1."""
    codec = _codec(charset) if charset else None
    if codec is None or codec in _ASCII_SUPERSETS:
        if data.isascii():
            return data.decode("ascii")
    if codec is not None:
        try:
            text = data.decode(codec, "replace")
        except (LookupError, ValueError):
            pass  # codecs such as idna decode only strictly
        else:
            return text if codec in _ASCII_SUPERSETS else _SURROGATE.sub("\ufffd", text)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _raw_to_str(value: str) -> str:
    """Text of a header value whose 8-bit bytes the parser holds as surrogates (read as UTF-8)."""
    if value.isascii():
        return value
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that stands for no byte
        data = value.encode("utf-8", "replace")
    return data.decode("utf-8", "replace")


def _unfold(value: str) -> str:
    if "\n" in value or "\r" in value:
        return _FOLD.sub(lambda m: " " if len(m.group()) > 1 else "", value)
    return value


def _b64decode(data: bytes) -> bytes:
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:
        clean = _B64_JUNK.sub(b"", data)
        if len(clean) % 4 == 1:
            clean = clean[:-1]  # a lone trailing character holds no whole byte
        try:
            return binascii.a2b_base64(clean + b"=" * (-len(clean) % 4))
        except binascii.Error:
            return b""


def _decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words; adjacent words in one charset are joined before decoding."""
    if "=?" not in value:
        return value
    out: list[str] = []
    pending = bytearray()
    pending_charset = ""
    pos = 0  # end of the previous encoded word
    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        if pos and gap.isspace():
            gap = ""  # whitespace between two encoded words is not shown
        charset = match.group(1).lower()
        if pending and (gap or charset != pending_charset):
            out.append(_decode_bytes(bytes(pending), pending_charset))
            pending.clear()
        out.append(gap)
        encoded = match.group(3).encode("utf-8")
        if match.group(2) in "bB":
            pending += _b64decode(encoded)
        else:
            pending += binascii.a2b_qp(encoded, header=True)
        pending_charset = charset
        pos = match.end()
    if pending:
        out.append(_decode_bytes(bytes(pending), pending_charset))
    out.append(value[pos:])
    return "".join(out)


def _header_text(raw: str) -> str:
    return _decode_words(_unfold(_raw_to_str(raw)))


# --- structured header values --------------------------------------------------------------


def _unquote(value: str) -> str:
    """Strip a quoted-string's quotes; a backslash escapes only a quote or a backslash."""
    if len(value) < 2 or value[0] != '"':
        return value
    end = len(value) - 1 if value.endswith('"') else len(value)
    body = value[1:end]
    if "\\" in body:
        body = body.replace('\\"', '"').replace("\\\\", "\\")
    return body


def _split_params(value: str) -> list[str]:
    """Split on ";" outside double quotes (a backslash escapes only inside quotes)."""
    if '"' not in value:
        return value.split(";")
    pieces: list[str] = []
    start = pos = 0
    quoted = False
    while match := _PARAM_SPECIAL.search(value, pos):
        pos = match.end()
        char = match.group()
        if char == "\\":
            if quoted:
                pos += 1  # the escaped character
        elif char == '"':
            quoted = not quoted
        elif not quoted:
            pieces.append(value[start : match.start()])
            start = pos
    pieces.append(value[start:])
    return pieces


def _parse_params(value: str) -> tuple[str, dict[str, str]]:
    """Split 'type/subtype; a=b; c*=utf-8''x' into the lower-cased value and its parameters.

    RFC 2231 extended values and continuations are joined and decoded; they win over plain
    parameters of the same name.
    """
    first, *rest = _split_params(value)
    params: dict[str, str] = {}
    sections: dict[str, list[tuple[int, bool, str]]] = {}
    for piece in rest:
        name, sep, val = piece.partition("=")
        name = name.strip().lower()
        if not sep or not name:
            continue
        val = _unquote(val.strip())
        if "*" not in name:
            params.setdefault(name, val)
            continue
        base, _, number = name.partition("*")
        number = number.rstrip("*")
        if number and not (number.isascii() and number.isdigit() and len(number) < 5):
            continue
        sections.setdefault(base, []).append((int(number or 0), name.endswith("*"), val))
    for base, chunks in sections.items():
        chunks.sort(key=lambda chunk: chunk[0])
        charset = ""
        data = bytearray()
        for index, (_, extended, val) in enumerate(chunks):
            if extended:
                if index == 0 and val.count("'") >= 2:
                    charset, _, val = val.split("'", 2)
                data += unquote_to_bytes(val)
            else:
                data += val.encode("utf-8")
        params[base] = _decode_bytes(bytes(data), charset)
    return first.strip().lower(), params


def _clean_filename(name: str) -> str:
    """Decoded file name with any directory part and control characters removed."""
    if "=?" in name:
        name = _decode_words(name)
    name = _UNSAFE_IN_FILENAME.sub("", name.replace("\\", "/").rpartition("/")[2]).strip()
    return "" if name in (".", "..") else name


def _angle_stripped(value: str) -> str:
    match = _MESSAGE_ID.search(value)
    return (match.group(1) if match else value).strip()


def _address(words: list[str], comments: list[str], angle: str | None) -> Address | None:
    if angle is not None:
        address = angle.strip()
        if address.startswith("@") and ":" in address:  # obsolete source route: <@relay:user@host>
            address = address.partition(":")[2]
        name = " ".join(words)
    elif words:
        joined = "".join(words)
        address = joined if "@" in joined else " ".join(words)
        name = " ".join(comment for comment in comments if comment)
    else:
        return None
    name = _decode_words(name).strip() if name else ""
    return Address(name, address) if address or name else None


def _comment_end(value: str, start: int) -> int:
    """Index of the parenthesis closing the (possibly nested) comment opened at start."""
    depth = 0
    for match in _COMMENT_SPECIAL.finditer(value, start):
        char = match.group()
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return match.start()
    return len(value)


def parse_address_list(value: str) -> list[Address]:
    """Decode and split an address header value."""
    value = _unfold(_raw_to_str(value)).strip()
    if not _ADDRESS_SPECIAL.search(value):
        return [Address("", value)] if value else []
    simple = _SIMPLE_MAILBOX.fullmatch(value)
    if simple:  # the usual 'Name <a@b>' or '"Name" <a@b>', without the general scanner
        quoted, phrase, address = simple.groups()
        name = _decode_words(quoted if quoted is not None else " ".join(phrase.split())).strip()
        return [Address(name, address)] if name or address else []
    result: list[Address] = []
    words: list[str] = []  # the display name's words, or the pieces of a bare address
    comments: list[str] = []
    angle: str | None = None
    pos = 0
    while pos < len(value):
        if value[pos] == "(":
            end = _comment_end(value, pos)
            comments.append(value[pos + 1 : end].strip())
            pos = end + 1
            continue
        match = _ADDRESS_TOKEN.match(value, pos)
        assert match is not None  # the pattern matches any character but "("
        token = match.group()
        pos = match.end()
        first = token[0]
        if first == '"':
            words.append(_unquote(token))
        elif first == "<":
            angle = token[1:-1] if token.endswith(">") else token[1:]
        elif first in ",;":
            address = _address(words, comments, angle)
            if address is not None:
                result.append(address)
            words, comments, angle = [], [], None
        elif first == ":":
            if angle is None:
                words, comments = [], []  # a group's name
        elif not first.isspace():
            words.append(token)
    address = _address(words, comments, angle)
    if address is not None:
        result.append(address)
    return result


def _parse_date(value: str) -> datetime.datetime | None:
    try:
        parsed = email.utils.parsedate_tz(value)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    try:
        tz = datetime.timezone(datetime.timedelta(seconds=parsed[9] or 0))
    except (ValueError, OverflowError):
        tz = datetime.timezone.utc
    try:
        return datetime.datetime(*parsed[:6], tzinfo=tz)
    except (ValueError, OverflowError):
        return None


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

    @classmethod
    def of(cls, node: email.message.Message, part_id: str, in_related: bool) -> _Leaf:
        return cls.of_fields(node.raw_items(), node.get_default_type(), node, part_id, in_related)

    @classmethod
    def of_fields(cls, fields: Iterable[tuple[str, str]], default_type: str, node: email.message.Message | None,
                  part_id: str, in_related: bool) -> _Leaf:
        """A leaf from its raw header fields (`node` None: the caller has its content)."""
        ctype = disposition = content_id = ""
        cdisp_params: dict[str, str] = {}
        ctype_params: dict[str, str] = {}
        for name, value in fields:
            lname = name.lower()
            if not lname.startswith("content-"):
                continue
            if lname == "content-type" and not ctype:
                ctype, ctype_params = _parse_params(_unfold(_raw_to_str(value)))
            elif lname == "content-disposition" and not disposition:
                disposition, cdisp_params = _parse_params(_unfold(_raw_to_str(value)))
            elif lname == "content-id" and not content_id:
                content_id = _angle_stripped(_header_text(value))
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
            disposition=disposition,
            filename=_clean_filename(filename) if filename else "",
            content_id=content_id,
            in_related=in_related,
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

    def text(self, linesep: str) -> str:
        """The part decoded to text with its charset, line endings as "\\n"."""
        return self.text_of(self.content(linesep))

    def text_of(self, content: bytes) -> str:
        text = _decode_bytes(content, self.charset)
        return text.replace("\r\n", "\n") if "\r" in text else text

    def part(self, size: int) -> Part:
        return Part(self.part_id, self.filename, self.content_type, self.content_id, size)


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
    """Every leaf part in document order with its IMAP-style section number."""
    found: list[_Leaf] = []

    def walk(node: email.message.Message, prefix: str, depth: int, in_related: bool) -> None:
        children = _children(node)
        if children is None:
            found.append(_Leaf.of(node, prefix or "1", in_related))
            return
        if depth >= MAX_DEPTH:
            return
        related = in_related or node.get_content_subtype() == "related"
        for index, child in enumerate(children, 1):
            walk(child, f"{prefix}.{index}" if prefix else str(index), depth + 1, related)

    walk(root, "", 0, False)
    return found


def _single_text_part(raw: bytes) -> tuple[list[tuple[str, str]], str, str] | None:
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
    body = raw[body_start:]
    cte = (encoding or "").lower()
    if cte == "quoted-printable":
        body = quopri.decodestring(body)
    elif cte in ("base64", "x-uuencode", "uuencode", "uue", "x-uue"):
        return None  # any other encoding leaves the bytes as they are, as in the stdlib
    return fields, leaf.content_type, leaf.text_of(body)


def _linesep(raw: bytes) -> str:
    """The line ending to use when re-serialising an embedded message."""
    return "\r\n" if b"\r\n" in raw[:4096] else "\n"


# --- public API ----------------------------------------------------------------------------


def html_to_text(html: str) -> str:
    """Visible text of an HTML document (script/style dropped, entities decoded, whitespace collapsed)."""
    text = _HTML_HIDDEN.sub(" ", html)
    text = _HTML_BLOCK_TAG.sub(" ", text)
    text = _HTML_TAG.sub("", text)
    return _collapse(html_lib.unescape(text))


def _collapse(text: str) -> str:
    if not text.isascii():
        text = text.translate(_INVISIBLE)
    return " ".join(text.split())


def _snippet(text: str, html: str) -> str:
    if text and not text.isspace():
        # Collapse a prefix first: a body rarely needs more than twice the snippet's length
        # (the snippet is the same as long as the collapsed prefix is at least that long).
        head = _collapse(text[: SNIPPET_LENGTH * 2])
        if len(head) < SNIPPET_LENGTH and len(text) > SNIPPET_LENGTH * 2:
            head = _collapse(text)
    else:
        head = html_to_text(html)
    return head[:SNIPPET_LENGTH].rstrip()


def _tags(values: list[str]) -> list[str]:
    tags: dict[str, None] = {}
    for value in values:
        for tag in value.split(","):
            tag = tag.strip()
            if tag:
                tags.setdefault(tag, None)
    return list(tags)


def parse_message(raw: bytes, measure_parts: bool = True) -> ParsedMessage:
    """Parse raw message bytes into the parsed view; never raises, whatever the input.

    Without `measure_parts`, attachments are not decoded and their sizes are 0: what
    storing a message needs (their number and names) costs nothing per byte.
    """
    single = _single_text_part(raw)
    root: email.message.Message | None = None
    fields: Iterable[tuple[str, str]]
    if single is None:
        root = _parse(raw)
        fields = root.raw_items()
    else:
        fields = single[0]
    headers: list[tuple[str, str]] = []
    first: dict[str, str] = {}
    addresses: dict[str, list[str]] = {"from": [], "to": [], "cc": [], "bcc": [], "reply-to": []}
    tag_values: list[str] = []
    for name, value in fields:
        lname = name.lower()
        if lname in addresses:
            addresses[lname].append(value)
        decoded = _header_text(value)
        headers.append((name, decoded))
        if lname == "x-tags":
            tag_values.append(decoded)
        first.setdefault(lname, decoded)

    def address_list(name: str) -> list[Address]:
        return [a for value in addresses[name] for a in parse_address_list(value)]

    senders = address_list("from")
    linesep = _linesep(raw)
    text = html = ""
    if single is not None:
        text, html = ("", single[2]) if single[1] == "text/html" else (single[2], "")
    have_text = have_html = False
    others: list[_Leaf] = []
    for leaf in _leaves(root) if root is not None else ():
        body_candidate = (
            leaf.content_type in ("text/plain", "text/html")
            and leaf.disposition != "attachment"
            and not leaf.filename
        )
        if body_candidate and leaf.content_type == "text/plain" and not have_text:
            text, have_text = leaf.text(linesep), True
        elif body_candidate and leaf.content_type == "text/html" and not have_html:
            html, have_html = leaf.text(linesep), True
        else:
            others.append(leaf)

    referenced: set[str] = set()
    if others and "cid:" in html.lower():
        for ref in _CID_REF.findall(html):
            referenced.add(ref)
            referenced.add(unquote(ref))
    inline: list[Part] = []
    attachments: list[Part] = []
    for leaf in others:
        part = leaf.part(len(leaf.content(linesep)) if measure_parts else 0)
        is_inline = (leaf.content_id and (leaf.in_related or leaf.content_id in referenced)) or (
            leaf.disposition == "inline" and leaf.filename
        )
        (inline if is_inline else attachments).append(part)

    return ParsedMessage(
        headers=headers,
        from_=senders[0] if senders else None,
        to=address_list("to"),
        cc=address_list("cc"),
        bcc=address_list("bcc"),
        reply_to=address_list("reply-to"),
        return_path=_angle_stripped(first.get("return-path", "")),
        subject=first.get("subject", "").strip(),
        date=_parse_date(first["date"]) if "date" in first else None,
        message_id=_angle_stripped(first.get("message-id", "")),
        text=text,
        html=html,
        inline=inline,
        attachments=attachments,
        tags=_tags(tag_values),
        snippet=_snippet(text, html),
        size=len(raw),
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
    return leaf.part(len(data)), data
