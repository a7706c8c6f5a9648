"""Build a MIME message from the JSON of a send request (Mailpit's `POST /api/v1/send` body).

`compose(data)` checks the request and returns the message's bytes with its envelope: Date,
Message-ID and MIME-Version set, the text and HTML as multipart/alternative, parts with a
ContentID inline beside them in multipart/related, other attachments in multipart/mixed,
non-ASCII header text in encoded words, and Bcc recipients in the envelope only.
Field names are matched ignoring case, as Mailpit (Go's encoding/json) matches them; fields
it doesn't know are ignored, as Mailpit ignores them.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import mimetypes
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email import policy as email_policy
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from typing import Any

from mailcatch.errors import MailcatchError

__all__ = ["ComposeError", "Composed", "compose", "guess_content_type", "valid_address"]

RESTRICTED_HEADERS = frozenset(
    name.lower()
    for name in (
        "To",
        "From",
        "Cc",
        "Bcc",
        "Reply-To",
        "Date",
        "Subject",
        "Content-Type",
        "Mime-Version",
        "Content-Transfer-Encoding",
        "Content-Disposition",
        "Content-ID",
    )
)
"""Headers a request's `Headers` may not set: the message's own fields and its MIME structure."""

_HEADER_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII but ":" (RFC 5322 ftext)
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+")
_CONTENT_ID = re.compile(r"[^\s<>\"]+")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\x80-\U0010ffff-]+"
_ADDRESS = re.compile(
    rf"""(?:{_ATOM}(?:\.{_ATOM})*|"(?:[^"\\\x00-\x1f\x7f]|\\[\x20-\x7e])*")"""  # dot-atom or quoted local part
    rf"@(?:{_ATOM}(?:\.{_ATOM})*|\[[\x21-\x5a\x5e-\x7e]+\])"  # domain: dot-atom or [literal]
)
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b\x08", "application/x-gzip"),
)
_TEXT_CONTROLS = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")


class ComposeError(MailcatchError):
    """A send request that can't be made into a message; the text says what was wrong."""


@dataclass(frozen=True, slots=True)
class Composed:
    """A message built from a send request: its bytes and its envelope."""

    raw: bytes
    sender: str
    recipients: list[str]
    """To, then Cc, then Bcc addresses, as given."""
    tags: list[str] = field(default_factory=list)
    """The request's Tags, as given."""
    message_id: str = ""
    """The Message-ID header's address, without angle brackets."""


@dataclass(frozen=True, slots=True)
class _Mailbox:
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class _Part:
    content: bytes
    filename: str
    content_type: str
    content_id: str


def _fields(value: Mapping[str, Any]) -> dict[str, Any]:
    """An object's fields by lower-case name (the last spelling wins, as in Go)."""
    return {str(key).lower(): item for key, item in value.items()}


def _text(value: Any, name: str) -> str:
    """A string field ("" for a missing or null one); ComposeError for anything else."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ComposeError(f"{name} must be a string, not {_json_kind(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ComposeError(f'{name} holds a lone surrogate (such as "\\ud800"), which is not text') from None
    return value


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a string" if isinstance(value, str) else "null"


def _list(value: Any, name: str) -> list[Any]:
    """An array field ([] for a missing or null one; a lone object or string counts as one item)."""
    if value is None:
        return []
    if isinstance(value, (dict, str)):
        return [value]
    if not isinstance(value, list):
        raise ComposeError(f"{name} must be an array, not {_json_kind(value)}")
    return value


def valid_address(address: str) -> bool:
    """Whether `address` is a bare mailbox address (local@domain) fit for an envelope and a header."""
    return address.isprintable() and bool(_ADDRESS.fullmatch(address))  # no control or separator characters


def _mailbox(value: Any, name: str, label: str) -> _Mailbox:
    """`{"Name", "Email"}` (or a bare address string) with its address checked."""
    if isinstance(value, str):
        found = _Mailbox("", _text(value, name))
    elif isinstance(value, dict):
        fields = _fields(value)
        found = _Mailbox(_text(fields.get("name"), f"{name}.Name"), _text(fields.get("email"), f"{name}.Email"))
    else:
        raise ComposeError(f'{name} must be an object {{"Name", "Email"}}, not {_json_kind(value)}')
    if not valid_address(found.email.strip()):
        raise ComposeError(f"invalid {label} address: {found.email}")
    if "\r" in found.name or "\n" in found.name:
        raise ComposeError(f"{name}.Name holds a line break")
    return _Mailbox(found.name.strip(), found.email.strip())


def _mailboxes(value: Any, name: str, label: str) -> list[_Mailbox]:
    return [_mailbox(item, f"{name}[{i}]", label) for i, item in enumerate(_list(value, name))]


def _decode_base64(content: str, filename: str) -> bytes:
    """Base64 content, a data: URL's prefix (`data:image/png;base64,`) dropped, line breaks allowed."""
    payload = content.rsplit(",", 1)[-1].replace("\r", "").replace("\n", "")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ComposeError(f'error decoding base64 attachment "{filename}": {error}') from None


def guess_content_type(content: bytes, filename: str) -> str:
    """A part's type from its file name's extension, else from its first bytes: text/plain or application/octet-stream."""
    guessed, _ = mimetypes.guess_type(filename, strict=False) if filename else (None, None)
    if guessed:
        return guessed
    for magic, kind in _MAGIC:
        if content.startswith(magic):
            return kind
    head = content[:1024]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3:  # not a character cut at the end of the sample
            return "application/octet-stream"
    return "application/octet-stream" if _TEXT_CONTROLS.search(head) else "text/plain"


def _attachment(value: Any, name: str) -> _Part:
    if not isinstance(value, dict):
        raise ComposeError(f"{name} must be an object with Content and Filename, not {_json_kind(value)}")
    fields = _fields(value)
    filename = _text(fields.get("filename"), f"{name}.Filename").strip()
    content_id = _text(fields.get("contentid"), f"{name}.ContentID").strip().removeprefix("<").removesuffix(">")
    content_type = _text(fields.get("contenttype"), f"{name}.ContentType").strip()
    if "content" not in fields or fields["content"] is None:
        raise ComposeError(f"{name}.Content is required: the file's content in base64")
    content = _decode_base64(_text(fields["content"], f"{name}.Content"), filename)
    if not filename and not content_id:
        raise ComposeError(f"{name}.Filename is required (or a ContentID, for an inline part)")
    if "\r" in filename or "\n" in filename:
        raise ComposeError(f"{name}.Filename holds a line break")
    if content_id and not _CONTENT_ID.fullmatch(content_id):
        raise ComposeError(f"{name}.ContentID {content_id!r} is not a Content-ID (no spaces, quotes or angle brackets)")
    if content_type:
        if not _CONTENT_TYPE.fullmatch(content_type.split(";")[0].strip()):
            raise ComposeError(f"{name}.ContentType {content_type!r} is not a MIME type such as image/png")
        content_type = content_type.split(";")[0].strip().lower()
    else:
        content_type = guess_content_type(content, filename)
    return _Part(content, filename, content_type, content_id)


def _headers(value: Any, tags: bool) -> list[tuple[str, str]]:
    """The request's own headers, checked: a real header name, one line of text, none of the restricted ones."""
    if value is None:
        return []
    if not isinstance(value, dict):
        raise ComposeError(f'Headers must be an object {{"Name": "value"}}, not {_json_kind(value)}')
    found = []
    for key, item in value.items():
        lowered = key.lower()
        if lowered in RESTRICTED_HEADERS or (tags and lowered == "x-tags"):
            raise ComposeError(f'cannot overwrite header: "{key}"')
        if not _HEADER_NAME.fullmatch(key):
            raise ComposeError(f"invalid header name {key!r}: printable ASCII without spaces or colons")
        text = _text(item, f"Headers[{key!r}]")
        if "\r" in text or "\n" in text:
            raise ComposeError(f"the value of header {key!r} holds a line break")
        found.append((key, text))
    return found


def _leaf(content: str | bytes, content_type: str, policy: Any, **kwargs: Any) -> MIMEPart:
    part = MIMEPart(policy=policy)
    maintype, _, subtype = content_type.partition("/")
    if isinstance(content, str):
        part.set_content(content, subtype=subtype, charset="utf-8")
        payload = part.get_payload()
        ending = content.endswith(("\n", "\r"))
        if not ending and part["Content-Transfer-Encoding"] != "base64" and isinstance(payload, str):
            part.set_payload(payload.removesuffix("\n"))  # the body ends as the request's text ends
    else:
        part.set_content(content, maintype, subtype, **kwargs)
    return part


def _multipart(subtype: str, parts: list[MIMEPart], policy: Any) -> MIMEPart:
    container = MIMEPart(policy=policy)
    container["Content-Type"] = f"multipart/{subtype}"
    for part in parts:
        container.attach(part)
    return container


def _file_part(part: _Part, disposition: str, policy: Any) -> MIMEPart:
    kwargs: dict[str, Any] = {"disposition": disposition, "cte": "base64"}
    if part.filename:
        kwargs["filename"] = part.filename
    if part.content_id:
        kwargs["cid"] = f"<{part.content_id}>"
    return _leaf(part.content, part.content_type, policy, **kwargs)


def _body(text: str, html: str, parts: list[_Part], policy: Any) -> MIMEPart:
    """mixed(related(alternative(text, html), inline parts...), attachments...), each level only when needed."""
    bodies = []
    if text or not html:
        bodies.append(_leaf(text, "text/plain", policy))
    if html:
        bodies.append(_leaf(html, "text/html", policy))
    root = bodies[0] if len(bodies) == 1 else _multipart("alternative", bodies, policy)
    inline = [_file_part(p, "inline", policy) for p in parts if p.content_id]
    if inline:
        root = _multipart("related", [root, *inline], policy)
    attached = [_file_part(p, "attachment", policy) for p in parts if not p.content_id]
    if attached:
        root = _multipart("mixed", [root, *attached], policy)
    return root


def _address_header(mailboxes: list[_Mailbox], international: bool) -> list[Address] | str:
    """An address header's value: Address objects (names in encoded words as needed), or for an
    internationalized message the text itself, which the email package won't take apart as an Address."""
    if not international:
        return [Address(display_name=m.name, addr_spec=m.email) for m in mailboxes]
    return ", ".join(_quoted_name(m.name) + f" <{m.email}>" if m.name else m.email for m in mailboxes)


def _quoted_name(name: str) -> str:
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def compose(data: Mapping[str, Any], *, message_id_domain: str = "mailcatch") -> Composed:
    """The message a send request describes; ComposeError (with Mailpit's words where it has them) if it can't be made."""
    fields = _fields(data)
    if fields.get("from") in (None, "", {}):
        raise ComposeError("error building message: from not set")
    sender = _mailbox(fields["from"], "From", "From")
    to = _mailboxes(fields.get("to"), "To", "To")
    cc = _mailboxes(fields.get("cc"), "Cc", "Cc")
    bcc = []
    for i, item in enumerate(_list(fields.get("bcc"), "Bcc")):
        address = _text(item, f"Bcc[{i}]").strip()
        if not valid_address(address):
            raise ComposeError(f"invalid Bcc address: {address}")
        bcc.append(address)
    reply_to = _mailboxes(fields.get("replyto"), "ReplyTo", "Reply-To")
    if not (to or cc or bcc):
        raise ComposeError("error building message: no recipients (to, cc, bcc) set")
    subject = _text(fields.get("subject"), "Subject")
    if "\r" in subject or "\n" in subject:
        raise ComposeError("Subject holds a line break")
    text = _text(fields.get("text"), "Text")
    html = _text(fields.get("html"), "HTML")
    tags = [_text(tag, f"Tags[{i}]") for i, tag in enumerate(_list(fields.get("tags"), "Tags"))]
    tags = [tag for tag in tags if tag.strip()]
    extra = _headers(fields.get("headers"), bool(tags))
    parts = [
        _attachment(item, f"Attachments[{i}]") for i, item in enumerate(_list(fields.get("attachments"), "Attachments"))
    ]

    addresses = [sender.email, *(m.email for m in to + cc + reply_to), *bcc]
    # An address with non-ASCII characters can't be written in encoded words: such a
    # message is an internationalized one (RFC 6532), its headers in UTF-8.
    international = not all(address.isascii() for address in addresses)
    policy = (email_policy.SMTPUTF8 if international else email_policy.SMTP).clone(cte_type="7bit")
    message = EmailMessage(policy=policy)
    try:
        message["From"] = _address_header([sender], international)
        if to:
            message["To"] = _address_header(to, international)
        if cc:
            message["Cc"] = _address_header(cc, international)
        if reply_to:
            message["Reply-To"] = _address_header(reply_to, international)
        message["Subject"] = subject
        message["Date"] = email.utils.formatdate(localtime=True)
        given_id = next((value for key, value in extra if key.lower() == "message-id"), None)
        if given_id is None:
            message["Message-ID"] = email.utils.make_msgid(domain=message_id_domain)
        message["MIME-Version"] = "1.0"
        for key, value in extra:
            message[key] = value
        if tags:
            message["X-Tags"] = ", ".join(tags)
        body = _body(text, html, parts, policy)
        for key, value in body.items():
            message[key] = value
        message.set_payload(body.get_payload())
        raw = message.as_bytes()
    except (ValueError, TypeError, IndexError, MessageError) as error:  # what the email package refuses to write
        raise ComposeError(f"error building message: {error}") from None
    message_id = str(message.get("Message-ID", "")).strip().removeprefix("<").removesuffix(">")
    return Composed(raw, sender.email, [m.email for m in to + cc] + bcc, tags, message_id)
