"""The JSON shapes of the HTTP API, in one place: what storage builds and the web layer sends.

Each `TypedDict` is exactly one schema of web/openapi.py (tests check real responses against
those), named after it; where that name already means something else in mailcatch (the
client's `Address`, `Message`, `Envelope`; smtp's `Transcript`...), the name ends in `JSON`.
Every key is always present (`total=True`), as in the responses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypedDict

if TYPE_CHECKING:
    from mailcatch.mail.addresses import ParsedAddress
    from mailcatch.mail.parse import CalendarPart, Part
    from mailcatch.mail.unsubscribe import ListUnsubscribe

__all__ = [
    "AddressJSON",
    "CalendarPartJSON",
    "ChecksumsJSON",
    "EnvelopeJSON",
    "ListUnsubscribeJSON",
    "MailHogContent",
    "MailHogMIME",
    "MailHogMessage",
    "MailHogPage",
    "MailHogPath",
    "MailHogRaw",
    "MessageJSON",
    "MessageSummary",
    "MessagesPage",
    "PartJSON",
    "SearchPage",
    "TranscriptEnvelope",
    "TranscriptJSON",
    "TranscriptLineJSON",
    "TranscriptSession",
    "TranscriptTransaction",
    "address_json",
    "calendar_json",
    "list_unsubscribe_json",
    "part_json",
]


# --- Mailpit's /api/v1 -----------------------------------------------------------------------


class AddressJSON(TypedDict):
    """OpenAPI `Address`: one mailbox of an address header."""

    Name: str
    Address: str


class ChecksumsJSON(TypedDict):
    """The checksums of a part's decoded content, in lower-case hex."""

    MD5: str
    SHA1: str
    SHA256: str


class PartJSON(TypedDict):
    """OpenAPI `Attachment`: an attachment or inline part (its bytes are at .../part/{PartID})."""

    PartID: str
    FileName: str
    ContentType: str
    ContentID: str
    Size: int
    Checksums: ChecksumsJSON


class ListUnsubscribeJSON(TypedDict):
    """OpenAPI `ListUnsubscribe`: the List-Unsubscribe header, its usable links, what is wrong with it
    ("" if nothing), and List-Unsubscribe-Post; all empty without the header."""

    Header: str
    Links: list[str]
    Errors: str
    HeaderPost: str


class CalendarPartJSON(TypedDict):
    """OpenAPI `CalendarPart` (mailcatch's own): a text/calendar part, such as a meeting invitation."""

    PartID: str
    ContentType: str
    Size: int
    Method: str


class EnvelopeJSON(TypedDict):
    """OpenAPI `Envelope` (mailcatch's own): the SMTP envelope, as stored with each message."""

    From: str
    MailOptions: list[str]
    To: list[str]
    Peer: str
    Helo: str
    Username: str
    TLS: bool
    Received: str


class MessageSummary(TypedDict):
    """OpenAPI `MessageSummary`: a message as listings, searches and "new" events show it."""

    ID: str
    MessageID: str
    Read: bool
    From: AddressJSON | None
    To: list[AddressJSON]
    Cc: list[AddressJSON]
    Bcc: list[AddressJSON]
    ReplyTo: list[AddressJSON]
    Subject: str
    Created: str
    Username: str
    Tags: list[str]
    Size: int
    Attachments: int  # how many (the full message lists them)
    Snippet: str


class MessagesPage(TypedDict):
    """OpenAPI `MessagesSummary`: a page of GET /api/v1/messages or /api/v1/search."""

    total: int
    unread: int
    count: int
    messages_count: int
    messages_unread: int
    start: int
    tags: list[str]
    messages: list[MessageSummary]


class SearchPage(MessagesPage):
    """OpenAPI `SearchSummary`: a page of GET /api/v1/search, with mailcatch's own word on whether it is complete.

    Mailpit's keys, and ours: `partial` is true when matches may be missing (the search index
    is behind, or could not be updated: a full disk), `partial_reason` says why, `unindexed`
    counts the stored messages the search could not look into.
    """

    partial: bool
    partial_reason: str | None
    unindexed: int


class MessageJSON(TypedDict):
    """OpenAPI `Message`: GET /api/v1/message/{ID}."""

    ID: str
    MessageID: str
    Read: bool
    From: AddressJSON | None
    To: list[AddressJSON]
    Cc: list[AddressJSON]
    Bcc: list[AddressJSON]
    ReplyTo: list[AddressJSON]
    ReturnPath: str
    Subject: str
    ListUnsubscribe: ListUnsubscribeJSON
    Date: str
    Created: str
    Tags: list[str]
    Username: str
    Text: str
    TextFromHTML: bool
    HTML: str
    Size: int
    Inline: list[PartJSON]
    Attachments: list[PartJSON]
    Calendar: list[CalendarPartJSON]
    Envelope: EnvelopeJSON


# --- mailcatch's /api/v1/message/{ID}/transcript ---------------------------------------------


class TranscriptSession(TypedDict):
    """The SMTP session that delivered a message."""

    ID: str
    Peer: str
    Helo: str
    TLS: bool
    Username: str
    Started: str


class TranscriptEnvelope(TypedDict):
    """The envelope sender and recipients of the transcript's message."""

    From: str
    To: list[str]


class TranscriptTransaction(TypedDict):
    """Lines[Start:End] are the message's own transaction."""

    Start: int
    End: int


class TranscriptLineJSON(TypedDict):
    """One line of the SMTP dialogue: C from the client, S from the server."""

    Time: str
    Dir: Literal["C", "S"]
    Text: str


class TranscriptJSON(TypedDict):
    """OpenAPI `Transcript`."""

    ID: str
    Session: TranscriptSession
    Envelope: TranscriptEnvelope
    Transaction: TranscriptTransaction
    Lines: list[TranscriptLineJSON]


# --- MailHog's /api/v2 -----------------------------------------------------------------------


class MailHogPath(TypedDict):
    """OpenAPI `MailHogPath`: an envelope address split at its last "@" (Relays is always null)."""

    Relays: list[str] | None
    Mailbox: str
    Domain: str
    Params: str


class MailHogMIME(TypedDict):
    """The parts of a multipart message or part."""

    Parts: list[MailHogContent]


class MailHogContent(TypedDict):
    """OpenAPI `MailHogContent`: a message or part, headers as raw values, body as sent."""

    Headers: dict[str, list[str]]
    Body: str
    Size: int
    MIME: MailHogMIME | None


class MailHogRaw(TypedDict):
    """The envelope and the whole message as received."""

    From: str
    To: list[str]
    Data: str
    Helo: str


class MailHogMessage(TypedDict):
    """OpenAPI `MailHogMessage`."""

    ID: str
    From: MailHogPath
    To: list[MailHogPath]
    Content: MailHogContent
    Created: str
    MIME: MailHogMIME | None
    Raw: MailHogRaw


class MailHogPage(TypedDict):
    """OpenAPI `MailHogMessages`: a page of /api/v2/messages or /api/v2/search."""

    total: int
    count: int
    start: int
    items: list[MailHogMessage]


# --- from parsed values ----------------------------------------------------------------------


def address_json(address: ParsedAddress) -> AddressJSON:
    """The API's `{Name, Address}` of a parsed mailbox."""
    return {"Name": address.name, "Address": address.address}


def part_json(part: Part) -> PartJSON:
    """The API's description of an attachment or inline part."""
    return {
        "PartID": part.part_id,
        "FileName": part.filename,
        "ContentType": part.content_type,
        "ContentID": part.content_id,
        "Size": part.size,
        "Checksums": {"MD5": part.md5, "SHA1": part.sha1, "SHA256": part.sha256},
    }


def list_unsubscribe_json(value: ListUnsubscribe) -> ListUnsubscribeJSON:
    """The API's `ListUnsubscribe` of a message."""
    return {"Header": value.header, "Links": list(value.links), "Errors": value.errors, "HeaderPost": value.header_post}


def calendar_json(part: CalendarPart) -> CalendarPartJSON:
    """The API's description of a text/calendar part."""
    return {"PartID": part.part_id, "ContentType": part.content_type, "Size": part.size, "Method": part.method}
