"""GET /api/v1/swagger.json: an OpenAPI 3 description of the whole HTTP API, Mailpit's, MailHog's and ours."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mailcatch import __version__

__all__ = ["document", "routes"]

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": list(properties)}
    if description:
        schema["description"] = description
    return schema


_STR, _INT, _BOOL, _NUM = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "number"}
_TIME = {"type": "string", "format": "date-time"}
_STRINGS = _array(_STR)
_ADDRESSES = _array(_ref("Address"))
_ADDRESS = _object({"Name": _STR, "Address": _STR})
_MAYBE_ADDRESS = {**_ADDRESS, "nullable": True}  # OpenAPI 3.0 ignores "nullable" beside a $ref
_MAYBE_MIME = {**_object({"Parts": _array(_ref("MailHogContent"))}), "nullable": True}


_MESSAGES_SUMMARY: dict[str, Any] = {
    "total": {**_INT, "description": "Messages in the mailbox"},
    "unread": {**_INT, "description": "Unread messages in the mailbox"},
    "count": {**_INT, "description": "Messages on this page"},
    "messages_count": {**_INT, "description": "Messages matching the query (all, for a listing)"},
    "messages_unread": {**_INT, "description": "Unread messages matching the query"},
    "start": _INT,
    "tags": _STRINGS,
    "messages": _array(_ref("MessageSummary")),
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _text(description: str, media: str = "text/plain") -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": _STR}}}


_ERRORS = {
    "400": {"$ref": "#/components/responses/Error"},
    "404": {"$ref": "#/components/responses/Error"},
}
_OK = {"200": _text('Plain text "ok"')}


def _param(
    name: str, where: str, description: str, schema: dict[str, Any] | None = None, required: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "description": description,
        "required": required or where == "path",
        "schema": schema or _STR,
    }


_ID = _param("ID", "path", 'Message database ID, or "latest" (with `query`, the newest match)')
_QUERY_LATEST = _param("query", "query", "With ID `latest`: a search query; the newest matching message is used")
_START = _param("start", "query", "Pagination offset", {"type": "integer", "minimum": 0, "default": 0})
_LIMIT = _param("limit", "query", "Number of messages to return", {"type": "integer", "minimum": 0, "default": 50})
_SEARCH = _param("query", "query", "Search query in Mailpit's syntax", required=True)
_TZ = _param("tz", "query", "Time zone (such as Europe/Berlin) for `before:` and `after:` dates; default: local")


def _body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _op(
    tag: str,
    summary: str,
    responses: dict[str, Any],
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    description: str = "",
) -> dict[str, Any]:
    operation: dict[str, Any] = {"tags": [tag], "summary": summary, "responses": {**responses, **_ERRORS}}
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    if body:
        operation["requestBody"] = body
    return operation


_SCHEMAS: dict[str, Any] = {
    "Error": _object({"Error": _STR}, "Every 4xx and 5xx response of the API"),
    "Address": _ADDRESS,
    "Attachment": _object(
        {
            "PartID": _STR,
            "FileName": _STR,
            "ContentType": _STR,
            "ContentID": _STR,
            "Size": _INT,
            "Checksums": _object(
                {"MD5": _STR, "SHA1": _STR, "SHA256": _STR}, "Checksums of the decoded content, in lower-case hex"
            ),
        },
        "An attachment or inline part. As in Mailpit, only parts with a file name or a Content-ID are listed",
    ),
    "ListUnsubscribe": _object(
        {
            "Header": {**_STR, "description": 'The List-Unsubscribe header, decoded ("" without one)'},
            "Links": {**_STRINGS, "description": "Its mailto: and http(s) links that pass the checks"},
            "Errors": {**_STR, "description": 'What is wrong with the header, in Mailpit\'s words ("" if nothing)'},
            "HeaderPost": {**_STR, "description": "The List-Unsubscribe-Post header (RFC 8058)"},
        },
        "The List-Unsubscribe header checked as Mailpit checks it",
    ),
    "CalendarPart": _object(
        {
            "PartID": _STR,
            "ContentType": _STR,
            "Size": _INT,
            "Method": {**_STR, "description": 'iTIP method: REQUEST, REPLY, CANCEL... ("" if unknown)'},
        },
        "A text/calendar part, such as a meeting invitation (mailcatch's own); its content is at part/{PartID}",
    ),
    "HTMLCheckResponse": _object(
        {
            "Warnings": _array(_ref("HTMLCheckWarning")),
            "Platforms": {
                "type": "object",
                "additionalProperties": _STRINGS,
                "description": "Each platform caniemail tests (ios, android, macos...) and its email clients",
            },
            "Total": _object(
                {
                    "Tests": {**_INT, "description": "Features looked for"},
                    "Nodes": {**_INT, "description": "HTML elements in the message"},
                    "Supported": {**_NUM, "description": "Overall percentage supported"},
                    "Partial": {**_NUM, "description": "Overall percentage partially supported"},
                    "Unsupported": {**_NUM, "description": "Overall percentage unsupported"},
                }
            ),
        },
        "Mailpit's HTML check: the message's HTML and CSS features and how well email clients support each"
        " (caniemail.com's data, CC BY 4.0)",
    ),
    "HTMLCheckWarning": _object(
        {
            "Slug": {**_STR, "description": "caniemail's feature, as css-display-flex"},
            "Title": _STR,
            "Description": {**_STR, "description": "HTML"},
            "URL": {**_STR, "description": "The feature's page on caniemail.com"},
            "Category": {**_STR, "description": "html, css, image or others"},
            "Tags": _STRINGS,
            "Keywords": _STR,
            "Results": _array(_ref("HTMLCheckResult")),
            "NotesByNumber": {"type": "object", "additionalProperties": _STR, "description": "Notes (HTML)"},
            "Score": _object(
                {
                    "Found": {**_INT, "description": "Times the message uses the feature"},
                    "Supported": _NUM,
                    "Partial": _NUM,
                    "Unsupported": _NUM,
                }
            ),
            "Where": {
                **_array(
                    _object(
                        {
                            "Line": {**_INT, "description": "Line in the message's HTML, from 1"},
                            "Column": {**_INT, "description": "Column, from 1"},
                            "Snippet": {**_STR, "description": "The source there (at most 80 characters)"},
                        }
                    )
                ),
                "description": "mailcatch's own: the first 20 places the message uses the feature",
            },
        }
    ),
    "HTMLCheckResult": _object(
        {
            "Name": {**_STR, "description": "Client, platform and version, as Gmail Android (2023-01)"},
            "Platform": _STR,
            "Family": _STR,
            "Version": _STR,
            "Support": {"type": "string", "enum": ["yes", "no", "partial"]},
            "NoteNumber": {**_STR, "description": 'Its note in NotesByNumber ("" if none)'},
        }
    ),
    "LinkCheckResponse": _object(
        {
            "Errors": {**_INT, "description": "Links that answered 400 or more, or not at all"},
            "Links": _array(
                _object(
                    {
                        "URL": _STR,
                        "StatusCode": {**_INT, "description": "The HTTP status (0: no answer; see Status)"},
                        "Status": {**_STR, "description": "Its text, or why there is none (timed out, blocked...)"},
                    }
                )
            ),
            "Skipped": {**_INT, "description": "mailcatch's own: links beyond the first 100, not checked"},
        },
        "Mailpit's link check",
    ),
    "MessageSummary": _object(
        {
            "ID": _STR,
            "MessageID": _STR,
            "Read": _BOOL,
            "From": _MAYBE_ADDRESS,
            "To": _ADDRESSES,
            "Cc": _ADDRESSES,
            "Bcc": _ADDRESSES,
            "ReplyTo": _ADDRESSES,
            "Subject": _STR,
            "Created": _TIME,
            "Username": _STR,
            "Tags": _STRINGS,
            "Size": _INT,
            "Attachments": {**_INT, "description": "Number of attachments"},
            "Snippet": _STR,
        }
    ),
    "MessagesSummary": _object(_MESSAGES_SUMMARY),
    "SearchSummary": _object(
        {
            **_MESSAGES_SUMMARY,
            "partial": {
                **_BOOL,
                "description": "mailcatch's own: matches may be missing (the search index is behind, or could not "
                "be updated, as on a full disk)",
            },
            "partial_reason": {**_STR, "nullable": True, "description": "mailcatch's own: why `partial` (else null)"},
            "unindexed": {
                **_INT,
                "description": "mailcatch's own: stored messages the search could not look into (not indexed yet)",
            },
        },
        "Mailpit's MessagesSummary, and whether the search is complete",
    ),
    "Envelope": _object(
        {
            "From": _STR,
            "MailOptions": _STRINGS,
            "To": _STRINGS,
            "Peer": _STR,
            "Helo": _STR,
            "Username": _STR,
            "TLS": _BOOL,
            "Received": _TIME,
        },
        "The SMTP envelope (mailcatch's own)",
    ),
    "Message": _object(
        {
            "ID": _STR,
            "MessageID": _STR,
            "Read": _BOOL,
            "From": _MAYBE_ADDRESS,
            "To": _ADDRESSES,
            "Cc": _ADDRESSES,
            "Bcc": _ADDRESSES,
            "ReplyTo": _ADDRESSES,
            "ReturnPath": _STR,
            "Subject": _STR,
            "ListUnsubscribe": _ref("ListUnsubscribe"),
            "Date": {**_TIME, "description": "The Date header, or the time received without one"},
            "Created": _TIME,
            "Tags": _STRINGS,
            "Username": _STR,
            "Text": {
                **_STR,
                "description": "The text body, line endings as sent; without a text part, the HTML as text (as Mailpit)",
            },
            "TextFromHTML": {**_BOOL, "description": "mailcatch's own: whether Text was made from the HTML"},
            "HTML": {**_STR, "description": "The HTML body, line endings as sent"},
            "Size": {**_INT, "description": "Bytes as received (Mailpit counts the headers it adds)"},
            "Inline": _array(_ref("Attachment")),
            "Attachments": _array(_ref("Attachment")),
            "Calendar": {
                **_array(_ref("CalendarPart")),
                "description": "mailcatch's own: every text/calendar part, listed in Attachments or not "
                "(an invitation inside multipart/alternative is not, as in Mailpit)",
            },
            "Envelope": _ref("Envelope"),
        }
    ),
    "Transcript": _object(
        {
            "ID": _STR,
            "Session": _object(
                {"ID": _STR, "Peer": _STR, "Helo": _STR, "TLS": _BOOL, "Username": _STR, "Started": _TIME}
            ),
            "Envelope": _object({"From": _STR, "To": _STRINGS}),
            "Transaction": _object({"Start": _INT, "End": _INT}, "Lines[Start:End] are this message's own transaction"),
            "Lines": _array(_object({"Time": _TIME, "Dir": {"type": "string", "enum": ["C", "S"]}, "Text": _STR})),
        },
        "The SMTP session that delivered a message (mailcatch's own)",
    ),
    "LintCheck": _object(
        {
            "Findings": {
                **_array(
                    _object(
                        {
                            "Severity": {"type": "string", "enum": ["error", "warning", "info"]},
                            "Code": {**_STR, "description": "A stable code, as missing-date or bare-lf"},
                            "Message": {**_STR, "description": "What is wrong, in plain English"},
                            "Reference": {**_STR, "description": "The standard, as RFC 5322 section 3.6"},
                            "Where": _object(
                                {
                                    "Header": {**_STR, "description": 'The header field ("" if none)'},
                                    "Line": {**_INT, "description": "Its line in the raw message, from 1 (0: none)"},
                                    "PartID": {**_STR, "description": 'The MIME part, as /part/{PartID} names it ("")'},
                                }
                            ),
                        }
                    )
                ),
                "description": "Errors, then warnings, then infos; each by its place in the message",
            },
            "Errors": _INT,
            "Warnings": _INT,
            "Infos": _INT,
        },
        "The standards lint of a message (mailcatch's own)",
    ),
    "SessionSummary": _object(
        {
            "ID": {**_STR, "description": "The session's ID (a message's transcript names it as Session.ID)"},
            "Peer": {**_STR, "description": "The client's address and port"},
            "Helo": {**_STR, "description": 'The HELO or EHLO name ("" without one)'},
            "TLS": _BOOL,
            "Username": {**_STR, "description": 'Who logged in with AUTH ("" if none)'},
            "Started": _TIME,
            "Ended": _TIME,
            "End": {
                "type": "string",
                "enum": ["quit", "timeout", "dropped", "server closed", "client closed"],
                "description": "How it ended: the client's QUIT, the idle timeout, a fault rule's drop, the server "
                "closing it after a 421, or the client closing (or losing) the connection",
            },
            "Messages": {**_STRINGS, "description": "IDs of the messages it stored (its last 100)"},
            "MessageCount": {**_INT, "description": "Messages it stored"},
            "Refusals": {**_INT, "description": "Replies with a 4xx or 5xx code"},
            "Refused": {**_STRINGS, "description": "The first of them (10 at most, each cut to 300 characters)"},
            "LineCount": {**_INT, "description": "Lines of its transcript, kept or not"},
        },
        "An SMTP session that ended, refused or not (mailcatch's own)",
    ),
    "Session": {
        "allOf": [
            _ref("SessionSummary"),
            _object(
                {
                    "LinesOmitted": {**_INT, "description": "Lines before these that the log did not keep"},
                    "Lines": _array(
                        _object({"Time": _TIME, "Dir": {"type": "string", "enum": ["C", "S"]}, "Text": _STR})
                    ),
                }
            ),
        ],
        "description": "An SMTP session with its transcript: its last 500 lines (32 K characters at most), "
        "AUTH secrets masked, message data summarised (mailcatch's own)",
    },
    "Sessions": _object(
        {
            "Sessions": {**_array(_ref("SessionSummary")), "description": "Newest first"},
            "Total": {**_INT, "description": "Sessions in the log"},
            "Recorded": {**_INT, "description": "Sessions recorded since the catcher started"},
            "Max": {**_INT, "description": "Sessions the log keeps; older ones are forgotten"},
        },
        "The session log: the most recent SMTP sessions, in memory (mailcatch's own)",
    ),
    "SMTPAddress": _object({"Host": _STR, "Port": _INT, "Address": _STR}, "Where to send mail"),
    "DkimCheck": _object(
        {
            "Signatures": _array(
                _object(
                    {
                        "Kind": {"type": "string", "enum": ["DKIM-Signature", "ARC-Seal", "ARC-Message-Signature"]},
                        "Domain": {**_STR, "description": "d="},
                        "Selector": {**_STR, "description": "s="},
                        "Algorithm": {**_STR, "description": "a=, as rsa-sha256 or ed25519-sha256"},
                        "Headers": {**_STRINGS, "description": "The signed header fields (h=), lower case"},
                        "Result": {"type": "string", "enum": ["pass", "fail", "nokey", "temperror", "permerror"]},
                        "Reason": {**_STR, "description": 'Why it did not pass ("" when it did)'},
                        "KeySource": {
                            "type": "string",
                            "enum": ["file", "dns", ""],
                            "description": "Where its key came from: --dkim-keys, DNS (--dkim-dns), or none found",
                        },
                    }
                )
            ),
            "ARC": _object(
                {"Result": {"type": "string", "enum": ["pass", "fail", "none"]}, "Reason": _STR},
                "The ARC chain's result (RFC 8617)",
            ),
        },
        "DKIM signatures, then ARC sets newest first, each verified (mailcatch's own)",
    ),
    "SpamAssassinResponse": _object(
        {
            "IsSpam": {**_BOOL, "description": "Score 5 or more"},
            "Error": {**_STR, "description": 'What went wrong asking spamd ("" when nothing did)'},
            "Score": {**_NUM, "description": "SpamAssassin's score, cut to one decimal"},
            "Rules": _array(_object({"Score": _NUM, "Name": _STR, "Description": _STR})),
        },
        "Mailpit's SpamAssassin check",
    ),
    "AppInformation": _object(
        {
            "Version": _STR,
            "LatestVersion": _STR,
            "Database": _STR,
            "DatabaseSize": _INT,
            "Messages": _INT,
            "Unread": _INT,
            "Tags": {"type": "object", "additionalProperties": _INT},
            "RuntimeStats": _object(
                {
                    "Uptime": _INT,
                    "Memory": _INT,
                    "SMTPAccepted": {**_INT, "description": "Messages ever stored in this database"},
                    "SMTPAcceptedSize": {
                        **_INT,
                        "description": "Bytes of the messages received over SMTP (or POST /api/v1/send) since start",
                    },
                    "SMTPRejected": {**_INT, "description": "Messages refused at DATA (not stored) since start"},
                    "MessagesDeleted": {**_INT, "description": "Of those, deleted or pruned since"},
                    "SMTPIgnored": _INT,
                    "WebsocketClients": {**_INT, "description": "Connected to /api/events (mailcatch's own)"},
                    "WebsocketDropped": {**_INT, "description": "Dropped for falling behind (mailcatch's own)"},
                }
            ),
            "SMTP": _ref("SMTPAddress"),
        }
    ),
    "ChaosTrigger": _object(
        {
            "ErrorCode": {**_INT, "minimum": 400, "maximum": 599, "description": "The SMTP error code answered"},
            "Probability": {
                **_INT,
                "minimum": 0,
                "maximum": 100,
                "description": "Chance in percent: 0 never, 100 always",
            },
        }
    ),
    "ChaosTriggers": _object(
        {"Sender": _ref("ChaosTrigger"), "Recipient": _ref("ChaosTrigger"), "Authentication": _ref("ChaosTrigger")},
        "Mailpit's chaos: an error code answered at MAIL (Sender), RCPT (Recipient) or AUTH (Authentication)",
    ),
    "FaultRule": _object(
        {
            "ID": _STR,
            "Stage": {"type": "string", "enum": ["MAIL", "RCPT", "DATA", "AUTH"]},
            "Sender": {**_STR, "description": 'Regular expression the sender must match ("": any)'},
            "Recipient": {**_STR, "description": 'Regular expression a recipient must match ("": any)'},
            "Times": {**_INT, "description": "How many times it fires; 0: every time"},
            "Remaining": {**_INT, "nullable": True, "description": "Times left (null: every time)"},
            "Code": {**_INT, "nullable": True},
            "Text": _STR,
            "Reply": {**_STR, "nullable": True, "description": "The reply it answers (null: it drops or only waits)"},
            "Delay": {**_NUM, "description": "Seconds it waits before answering"},
            "Drop": _BOOL,
            "Created": _TIME,
            "Fired": {**_INT, "description": "How many times it has fired"},
            "Firings": _array(
                _object(
                    {
                        "Time": _TIME,
                        "Session": _STR,
                        "Peer": _STR,
                        "Sender": {**_STR, "nullable": True},
                        "Recipients": _STRINGS,
                        "Reply": _STR,
                    }
                )
            ),
        },
        "A fault rule (mailcatch's own): its latest 20 firings in Firings",
    ),
    "NewFaultRule": {
        "type": "object",
        "required": ["Stage"],
        "additionalProperties": False,
        "description": "Code, Drop or Delay is needed; Code and Drop exclude each other",
        "properties": {
            # Stage and Text are described in words, not with `enum` and `maxLength`: Schemathesis checks those
            # with jsonschema_rs, which can't read the lone surrogates tests/web/test_schemathesis.py sends.
            "Stage": {
                "type": "string",
                "description": "MAIL, RCPT, DATA or AUTH: the reply to MAIL FROM, to each RCPT TO, to the message"
                " data (not stored), or to AUTH",
            },
            "Sender": {**_STR, "description": "Regular expression the sender must match (MAIL, RCPT, DATA)"},
            "Recipient": {**_STR, "description": "Regular expression a recipient must match (RCPT, DATA)"},
            "Times": {**_INT, "minimum": 0, "maximum": 1000000, "default": 1, "description": "0: every time"},
            "Code": {**_INT, "minimum": 400, "maximum": 599},
            "Text": {**_STR, "description": "The reply's text, one line of printable ASCII, at most 500 characters"},
            "Delay": {**_NUM, "minimum": 0, "maximum": 60, "default": 0},
            "Drop": {**_BOOL, "default": False, "description": "Close the connection instead of answering"},
        },
    },
    "WebUIConfiguration": _object(
        {
            "Label": _STR,
            "MessageRelay": _object(
                {
                    "Enabled": _BOOL,
                    "SMTPServer": _STR,
                    "ReturnPath": _STR,
                    "AllowedRecipients": _STR,
                    "BlockedRecipients": _STR,
                    "DefaultReleaseTo": _STR,
                    "OverrideFrom": _STR,
                    "PreserveMessageIDs": _BOOL,
                    "RecipientAllowlist": {**_STR, "description": "Mailpit's older name for AllowedRecipients"},
                }
            ),
            "SpamAssassin": _BOOL,
            "ChaosEnabled": _BOOL,
            "DuplicatesIgnored": _BOOL,
            "HideDeleteAllButton": _BOOL,
            "Version": _STR,
            "SMTP": _ref("SMTPAddress"),
        }
    ),
    "Event": _object(
        {
            "Type": {
                "type": "string",
                "enum": ["stats", "new", "update", "delete", "truncate", "prune", "error", "session"],
            },
            "Data": {
                "description": "stats: {Total, Unread, Version}; new: a MessageSummary; update: {ID, Read} or {ID, Tags}; "
                "delete: {ID}; truncate, prune: null; error: {Level, Type, IP, Message}; "
                "session (mailcatch's own): a SessionSummary, when an SMTP session ends",
                "nullable": True,
            },
        },
        "A websocket frame of /api/events",
    ),
    "SendAddress": {
        "type": "object",
        "required": ["Email"],
        "properties": {"Name": {**_STR, "description": "Optional name"}, "Email": _STR},
        "description": "A name and address (a bare address string is taken too)",
    },
    "SendAttachment": {
        "type": "object",
        "required": ["Content", "Filename"],
        "properties": {
            "Content": {**_STR, "description": "The file's content in base64 (a data: URL's prefix is dropped)"},
            "Filename": {**_STR, "description": "File name (optional for an inline part with a ContentID)"},
            "ContentType": {**_STR, "description": "MIME type; default: from the file name, else from the content"},
            "ContentID": {**_STR, "description": "Set: the part is inline, for cid: links in the HTML"},
        },
    },
    "SendRequest": {
        "type": "object",
        "required": ["From"],
        "properties": {
            "From": _ref("SendAddress"),
            "To": _array(_ref("SendAddress")),
            "Cc": _array(_ref("SendAddress")),
            "Bcc": {**_STRINGS, "description": "Addresses only: in the envelope, in no header"},
            "ReplyTo": _array(_ref("SendAddress")),
            "Subject": _STR,
            "Text": {**_STR, "description": "The text body"},
            "HTML": {**_STR, "description": "The HTML body (with Text: multipart/alternative)"},
            "Attachments": _array(_ref("SendAttachment")),
            "Tags": {**_STRINGS, "description": "Tags set on the message (and written in its X-Tags header)"},
            "Headers": {
                "type": "object",
                "additionalProperties": _STR,
                "description": "More headers, {name: value}; not To, From, Cc, Bcc, Reply-To, Date, Subject,"
                " MIME-Version nor the Content- headers of the MIME structure",
            },
        },
        "description": "A message to build and store, as Mailpit's send API takes it: at least one of To, Cc or"
        " Bcc; field names are matched ignoring case, fields not listed here are ignored",
    },
    "SendMessageConfirmation": _object({"ID": {**_STR, "description": "The stored message's database ID"}}),
    "MailHogPath": _object({"Relays": {**_STRINGS, "nullable": True}, "Mailbox": _STR, "Domain": _STR, "Params": _STR}),
    "MailHogContent": _object(
        {
            "Headers": {"type": "object", "additionalProperties": _STRINGS},
            "Body": _STR,
            "Size": _INT,
            "MIME": _MAYBE_MIME,
        }
    ),
    "MailHogMessage": _object(
        {
            "ID": _STR,
            "From": _ref("MailHogPath"),
            "To": _array(_ref("MailHogPath")),
            "Content": _ref("MailHogContent"),
            "Created": _TIME,
            "MIME": _MAYBE_MIME,
            "Raw": _object({"From": _STR, "To": _STRINGS, "Data": _STR, "Helo": _STR}),
        }
    ),
    "MailHogMessages": _object({"total": _INT, "count": _INT, "start": _INT, "items": _array(_ref("MailHogMessage"))}),
}

_IDS = {"type": "array", "items": _STR, "description": "Message database IDs; none or empty: every message"}

_PATHS: dict[str, Any] = {
    "/api/v1/messages": {
        "get": _op(
            "messages",
            "List messages, newest first",
            {"200": _json(_ref("MessagesSummary"), "A page")},
            [_START, _LIMIT],
        ),
        "put": _op(
            "messages",
            "Mark messages read or unread",
            _OK,
            body=_body(
                {
                    "type": "object",
                    "properties": {
                        "IDs": _IDS,
                        "Read": {**_BOOL, "default": False},
                        "Search": {**_STR, "description": "Instead of IDs: every message matching this query"},
                    },
                },
                "Which messages, and how",
            ),
            parameters=[_TZ],
        ),
        "delete": _op(
            "messages",
            "Delete messages (every message without IDs)",
            _OK,
            body=_body({"type": "object", "properties": {"IDs": _IDS}}, "Which messages"),
        ),
    },
    "/api/v1/search": {
        "get": _op(
            "messages",
            "Search messages, newest first",
            {"200": _json(_ref("SearchSummary"), "A page")},
            [_SEARCH, _START, _LIMIT, _TZ],
            description=(
                'Plain words and "quoted phrases" match substrings of the subject, addresses, bodies and '
                "attachment names. Operators: to:, from:, cc:, bcc:, reply-to:, addressed:, subject:, "
                "message-id:, tag:, is:read, is:unread, is:tagged, has:attachment, before:, after:, "
                "larger:, smaller:. A leading - or ! negates a term."
            ),
        ),
        "delete": _op("messages", "Delete the messages matching a search", _OK, [_SEARCH, _TZ]),
    },
    "/api/v1/message/{ID}": {
        "get": _op(
            "message", "A message (marks it read)", {"200": _json(_ref("Message"), "The message")}, [_ID, _QUERY_LATEST]
        ),
    },
    "/api/v1/message/{ID}/headers": {
        "get": _op(
            "message",
            "A message's headers, in order, as sent (encoded words not decoded, as in Mailpit); folded "
            "headers are unfolded as RFC 5322 says (the whitespace after a line break kept)",
            {"200": _json({"type": "object", "additionalProperties": _STRINGS}, "Header name: values")},
            [_ID, _QUERY_LATEST],
        ),
    },
    "/api/v1/message/{ID}/raw": {
        "get": _op(
            "message",
            "The message exactly as received",
            {"200": _text("The raw message")},
            [_ID, _QUERY_LATEST, _param("dl", "query", "1: download as {ID}.eml")],
        ),
    },
    "/api/v1/message/{ID}/part/{PartID}": {
        "get": _op(
            "message",
            "An attachment or inline part, with its own content type, served as a download",
            {"200": _text("The part's content", "application/octet-stream")},
            [
                _ID,
                _param("PartID", "path", "Part ID from Attachments or Inline"),
                _QUERY_LATEST,
                _param(
                    "inline",
                    "query",
                    "mailcatch's own. 1: a PDF part (application/pdf, starting with %PDF-) served inline, "
                    "for a frame of the catcher's own pages only (X-Frame-Options: SAMEORIGIN, "
                    "frame-ancestors 'self'); 400 for any other part",
                ),
            ],
        ),
    },
    "/api/v1/message/{ID}/part/{PartID}/thumb": {
        "get": _op(
            "message",
            "A 180 x 120 JPEG thumbnail of an image part (a white box for any other part), as Mailpit makes it",
            {"200": _text("The thumbnail", "image/jpeg")},
            [_ID, _param("PartID", "path", "Part ID from Attachments or Inline"), _QUERY_LATEST],
        ),
    },
    "/api/v1/message/{ID}/html-check": {
        "get": _op(
            "other",
            "HTML check: the HTML and CSS features the message's HTML uses, how well email clients support each, "
            "and where each is",
            {"200": _json(_ref("HTMLCheckResponse"), "The findings")},
            [_ID, _QUERY_LATEST],
            description="Against caniemail.com's data, shipped with mailcatch (nothing is fetched). A message "
            "without HTML gets 400 (`message does not contain HTML`).",
        ),
    },
    "/api/v1/message/{ID}/link-check": {
        "get": _op(
            "other",
            "Link check: the status of each link and image of the message (at most 100), asked with HEAD",
            {"200": _json(_ref("LinkCheckResponse"), "Each link's status")},
            [
                _ID,
                _QUERY_LATEST,
                _param("follow", "query", "true or 1: follow redirects (at most 10)", {"type": "string"}),
            ],
            description="GET where HEAD is refused (405, 501); 5 s for each connection and answer; no cookies "
            "or credentials sent. Links to loopback, private and other non-public addresses are reported "
            "blocked and not requested, unless the catcher runs with --allow-internal-http-requests.",
        ),
    },
    "/api/v1/message/{ID}/release": {
        "post": _op(
            "message",
            "Release a message through the relay server (--smtp-relay-config)",
            _OK,
            [_ID, _QUERY_LATEST],
            _body(
                {
                    "type": "object",
                    "required": ["To"],
                    "properties": {
                        "To": {**_STRINGS, "description": 'Addresses to send it to, as ["user@example.com"]'}
                    },
                },
                "The recipients",
            ),
            "The stored message is sent with a new Date and Message-ID (unless preserve-message-ids), without "
            "its Bcc header, with the configured Return-Path and From; the stored message never changes. A 400 "
            "says why it was not sent: relaying not configured, an address that is not one or is not allowed "
            "(allowed-recipients, blocked-recipients), or the relay server's reply (`SMTP error: ...`).",
        ),
    },
    "/api/v1/message/{ID}/lint": {
        "get": _op(
            "message",
            "The standards lint of the message: what breaks RFC 5322, MIME and their kin (mailcatch's own)",
            {"200": _json(_ref("LintCheck"), "The findings")},
            [_ID, _QUERY_LATEST],
            description="Read from the raw bytes and the envelope (SMTPUTF8, BODY=8BITMIME): missing or duplicate "
            "headers, Date and Message-ID syntax, addresses, encoded words, 8-bit headers, bare CR or LF, long "
            "lines, MIME boundaries, transfer encodings, charsets, cid: links, List-Unsubscribe one-click, "
            "attachments whose bytes disagree with their Content-Type.",
        ),
    },
    "/api/v1/message/{ID}/transcript": {
        "get": _op(
            "message",
            "The SMTP session that delivered the message (mailcatch's own)",
            {"200": _json(_ref("Transcript"), "The transcript")},
            [_ID, _QUERY_LATEST],
        ),
    },
    "/api/v1/message/{ID}/dkim": {
        "get": _op(
            "message",
            "Verify the message's DKIM signatures and ARC chain (mailcatch's own)",
            {"200": _json(_ref("DkimCheck"), "Each signature's result")},
            [_ID, _QUERY_LATEST],
            description="Keys come from the --dkim-keys file and, with --dkim-dns, from DNS; a signature whose "
            "key can't be had is `nokey` (or `temperror` when DNS failed), with the reason.",
        ),
    },
    "/api/v1/message/{ID}/sa-check": {
        "get": _op(
            "message",
            "SpamAssassin check, through the spamd --enable-spamassassin names",
            {"200": _json(_ref("SpamAssassinResponse"), "The score and the rules that matched")},
            [_ID, _QUERY_LATEST],
            description="404 without --enable-spamassassin, as Mailpit; a spamd that can't be reached or "
            "does not answer within 8 s is said in Error.",
        ),
    },
    "/api/v1/tags": {
        "get": _op("tags", "Every tag in use", {"200": _json(_STRINGS, "Tag names, sorted")}),
        "put": _op(
            "tags",
            "Set the tags of messages (replacing theirs)",
            _OK,
            body=_body(
                {"type": "object", "required": ["Tags", "IDs"], "properties": {"Tags": _STRINGS, "IDs": _IDS}},
                "Tags (an empty list removes them all) and messages",
            ),
        ),
    },
    "/api/v1/tags/{Tag}": {
        "put": _op(
            "tags",
            "Rename a tag",
            _OK,
            [_param("Tag", "path", "The tag, URL-encoded")],
            _body({"type": "object", "required": ["Name"], "properties": {"Name": _STR}}, "The new name"),
        ),
        "delete": _op("tags", "Remove a tag from every message", _OK, [_param("Tag", "path", "The tag, URL-encoded")]),
    },
    "/api/v1/send": {
        "post": _op(
            "message",
            "Send a message: built from the JSON as a MIME message and stored as if it came by SMTP",
            {
                "200": _json(_ref("SendMessageConfirmation"), "Stored"),
                "401": {"$ref": "#/components/responses/Error"},
                "403": {"$ref": "#/components/responses/Error"},
                "413": {"$ref": "#/components/responses/Error"},
                "503": {"$ref": "#/components/responses/Error"},
            },
            body=_body(_ref("SendRequest"), "The message"),
            description="Its transcript (GET /api/v1/message/{ID}/transcript) shows the HTTP request it came in."
            " With --send-api-auth-file the route asks for those logins instead of --ui-auth-file's, and with"
            " --send-api-auth-accept-any for none. A body over --max-message-size gets 413; a request whose Origin"
            " names another site that --api-cors doesn't allow, 403.",
        ),
    },
    "/api/v1/info": {
        "get": _op(
            "application",
            "Version, totals and runtime figures",
            {"200": _json(_ref("AppInformation"), "Application information")},
        ),
    },
    "/api/v1/chaos": {
        "get": _op(
            "testing",
            "Mailpit's chaos triggers (400 unless the catcher runs with --enable-chaos)",
            {"200": _json(_ref("ChaosTriggers"), "The triggers")},
        ),
        "put": _op(
            "testing",
            "Set Mailpit's chaos triggers; one left out is reset (its default code, probability 0), {} resets all",
            {"200": _json(_ref("ChaosTriggers"), "The triggers now")},
            body=_body(
                {
                    "type": "object",
                    "properties": {
                        key: {
                            "type": "object",
                            "properties": {
                                "ErrorCode": {**_INT, "minimum": 400, "maximum": 599},
                                "Probability": {**_INT, "minimum": 0, "maximum": 100},
                            },
                        }
                        for key in ("Sender", "Recipient", "Authentication")
                    },
                },
                "The triggers",
            ),
        ),
    },
    "/api/v1/faults": {
        "get": _op(
            "testing",
            "Fault rules, oldest first (mailcatch's own; 400 unless the catcher runs with --enable-chaos)",
            {"200": _json(_array(_ref("FaultRule")), "The rules, spent ones too (Remaining 0)")},
        ),
        "post": _op(
            "testing",
            "Add a fault rule: at a stage, for matching senders or recipients, the next Times times, wait Delay"
            " seconds, then answer Code and Text or drop the connection",
            {"201": _json(_ref("FaultRule"), "The rule")},
            body=_body(_ref("NewFaultRule"), "The rule"),
        ),
        "delete": _op("testing", "Remove every fault rule", _OK),
    },
    "/api/v1/faults/{ID}": {
        "get": _op(
            "testing",
            "One fault rule",
            {"200": _json(_ref("FaultRule"), "The rule")},
            [_param("ID", "path", "Rule ID")],
        ),
        "delete": _op("testing", "Remove a fault rule", _OK, [_param("ID", "path", "Rule ID")]),
    },
    "/api/v1/sessions": {
        "get": _op(
            "testing",
            "The most recent SMTP sessions, refused ones too, newest first (mailcatch's own)",
            {"200": _json(_ref("Sessions"), "Their summaries, without lines")},
        ),
    },
    "/api/v1/sessions/{ID}": {
        "get": _op(
            "testing",
            "One SMTP session of the log, with its transcript (mailcatch's own)",
            {"200": _json(_ref("Session"), "The session")},
            [_param("ID", "path", "Session ID")],
        ),
    },
    "/api/v1/webui": {
        "get": _op(
            "application", "Settings for the web UI", {"200": _json(_ref("WebUIConfiguration"), "Web UI configuration")}
        ),
    },
    "/api/v1/swagger.json": {
        "get": _op("application", "This description", {"200": _json({"type": "object"}, "OpenAPI 3 document")}),
    },
    "/api/events": {
        "get": _op(
            "events",
            "Websocket of live changes: frames of Event as JSON text",
            {
                "101": {"description": "Switching to the websocket protocol; first frame: stats"},
                "403": {"description": "The Origin header names another site"},
            },
        ),
    },
    "/view/{ID}.html": {
        "get": _op(
            "testing",
            "The HTML part alone, sandboxed (Content-Security-Policy: sandbox), loading only its own parts"
            " unless `remote` asks for remote content too",
            {"200": _text("The HTML part", "text/html")},
            [
                _ID,
                _QUERY_LATEST,
                _param("remote", "query", "1 to load remote images, styles and fonts", {"type": "string"}),
            ],
        ),
    },
    "/view/{ID}.txt": {
        "get": _op("testing", "The text part alone", {"200": _text("The text part")}, [_ID, _QUERY_LATEST]),
    },
    "/view/{ID}": {
        "get": _op(
            "testing",
            "Mailpit's deep link: redirects (302) to the web UI with the message open (`latest`: the newest)",
            {"302": {"description": "To /#m={ID} (to / when there is no such message)"}},
            [_ID, _QUERY_LATEST],
        ),
    },
    "/search": {
        "get": _op(
            "testing",
            "Mailpit's deep link: redirects (302) to the web UI running the search",
            {"302": {"description": "To /#q={q}"}},
            [_param("q", "query", "A search, in Mailpit's syntax")],
        ),
    },
    "/livez": {"get": _op("application", "Alive", {"200": _text('"ok"')})},
    "/readyz": {
        "get": _op(
            "application", "Ready to serve", {"200": _text('"ok"'), "503": {"$ref": "#/components/responses/Error"}}
        )
    },
    "/api/v2/messages": {
        "get": _op(
            "mailhog", "MailHog: list messages", {"200": _json(_ref("MailHogMessages"), "A page")}, [_START, _LIMIT]
        ),
    },
    "/api/v2/search": {
        "get": _op(
            "mailhog",
            "MailHog: search messages",
            {"200": _json(_ref("MailHogMessages"), "A page")},
            [
                _param(
                    "kind",
                    "query",
                    "What `query` is looked for in",
                    {"type": "string", "enum": ["from", "to", "containing"], "default": "containing"},
                ),
                _param("query", "query", "Text to find (a substring, any case)"),
                _START,
                _LIMIT,
            ],
        ),
    },
    "/api/v1/messages/{ID}": {
        "get": _op(
            "mailhog",
            "MailHog: one message",
            {"200": _json(_ref("MailHogMessage"), "The message")},
            [_param("ID", "path", "Message database ID")],
        ),
        "delete": _op(
            "mailhog",
            "MailHog: delete one message",
            {"200": {"description": "Deleted: no body, as MailHog answers"}},
            [_param("ID", "path", "Message database ID")],
        ),
    },
}


def document() -> dict[str, Any]:
    """The OpenAPI document."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "mailcatch API",
            "version": __version__,
            "description": "Mailpit's /api/v1 (paths, parameters and field names as Mailpit has them), MailHog's "
            "/api/v2 as a second face, and mailcatch's own additions (transcripts, envelopes). "
            'Every error is a 4xx or 5xx status with a JSON body {"Error": "..."}.',
        },
        "paths": _PATHS,
        "components": {
            "schemas": _SCHEMAS,
            "responses": {"Error": _json(_ref("Error"), "What was wrong")},
        },
    }


async def swagger(request: Request) -> Response:
    return JSONResponse(document())


def routes() -> list[BaseRoute]:
    """The route of the API description."""
    return [Route("/api/v1/swagger.json", swagger, methods=["GET"])]
