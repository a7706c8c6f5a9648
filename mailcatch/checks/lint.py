"""The standards lint: what in a message breaks RFC 5322, MIME and their kin, by severity, with the standard and the place.

`lint_message(raw, mail_options)` reads the bytes exactly as received (and the MAIL FROM parameters,
for SMTPUTF8 and 8BITMIME) and never raises. Each finding has a stable code, a message in plain
English, the section of the standard, and where it is: a header and its line in the raw, and/or
the PartID of a MIME part (as /api/v1/message/{ID}/part/{PartID} numbers them). The checks are in
lint_headers (header fields), lint_lists (unsubscribe headers), lint_mime (structure and parts).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TypedDict

from mailcatch.checks.lint_findings import SEVERITIES, Finding, Severity, Where
from mailcatch.checks.lint_headers import field_problems, message_header_problems
from mailcatch.checks.lint_lists import list_problems
from mailcatch.checks.lint_mime import mime_problems, transfer_encoding
from mailcatch.checks.lint_raw import LineCounter, Node, walk

__all__ = ["MAX_PER_CODE", "Finding", "LintJSON", "Severity", "Where", "lint_json", "lint_message"]

MAX_PER_CODE = 20
"""Findings of one code listed for a message; a message of 10,000 broken parts says so 20 times, and how many more."""
_LONG_LINE = re.compile(rb"\n([^\n]{999,})")  # from a line feed: the regex engine jumps from one to the next
_BARE_LF = re.compile(rb"(?<!\r)\n")
_BARE_CR = re.compile(rb"\r(?!\n)")


class WhereJSON(TypedDict):
    Header: str
    Line: int
    PartID: str


class FindingJSON(TypedDict):
    Severity: Severity
    Code: str
    Message: str
    Reference: str
    Where: WhereJSON


class LintJSON(TypedDict):
    """GET /api/v1/message/{ID}/lint."""

    Findings: list[FindingJSON]
    Errors: int
    Warnings: int
    Infos: int


def _smtp_options(mail_options: Iterable[str]) -> set[str]:
    return {option.upper().replace(" ", "") for option in mail_options}


class _Message:
    """The message's MIME tree, with its leaves found by offset (a bisection: a message may have many)."""

    def __init__(self, root: Node) -> None:
        self.root = root
        self.leaves = root.leaves()
        self._starts = [leaf.body_start for leaf in self.leaves]

    def leaf_at(self, offset: int) -> Node | None:
        """The leaf whose body holds the byte at `offset`."""
        index = bisect.bisect_right(self._starts, offset) - 1
        if index >= 0 and offset < self.leaves[index].body_end:
            return self.leaves[index]
        return None

    def place(self, offset: int, lines: LineCounter) -> Where:
        """The header field or the part holding the byte at `offset`, and its line."""
        for node in self.root.nodes():
            for field in node.header.fields:
                if field.start <= offset < field.end:
                    return Where(field.name, lines.line_of(offset), node.part_id if node is not self.root else "")
        leaf = self.leaf_at(offset)
        return Where("", lines.line_of(offset), leaf.part_id if leaf else "")


def _line_endings(raw: bytes, message: _Message, lines: LineCounter) -> Iterator[Finding]:
    crlf = raw.count(b"\r\n")
    for pattern, code, what in ((_BARE_LF, "bare-lf", "LF"), (_BARE_CR, "bare-cr", "CR")):
        count = raw.count(b"\n" if what == "LF" else b"\r") - crlf
        first = pattern.search(raw) if count else None
        if first is None:
            continue
        lone = (
            "line feed (LF) without a carriage return" if what == "LF" else "carriage return (CR) without a line feed"
        )
        if count > 1:
            lone = lone.replace(" (", "s (", 1)
        yield Finding(
            "error",
            code,
            f"the message has {count} {lone}, the first on line {lines.line_of(first.start())}: lines must end "
            "with CRLF, and many servers refuse or rewrite such mail",
            "RFC 5322 section 2.3",
            message.place(first.start(), lines),
        )
    nul = raw.find(b"\0")
    if nul >= 0:
        leaf = message.leaf_at(nul)
        if leaf is None or transfer_encoding(leaf) != "binary":
            yield Finding(
                "error",
                "nul-byte",
                f"the message holds a NUL byte (on line {lines.line_of(nul)}), which mail must not carry",
                "RFC 5322 section 2.3",
                message.place(nul, lines),
            )


def _body_lines(raw: bytes, message: _Message, lines: LineCounter) -> Iterator[Finding]:
    """Body lines over 998 octets, once per part (header lines are the header checks')."""
    seen: set[str] = set()
    for match in _LONG_LINE.finditer(raw):
        start, length = match.start(1), len(match.group(1).rstrip(b"\r"))
        leaf = message.leaf_at(start)
        if length <= 998 or leaf is None or leaf.part_id in seen or transfer_encoding(leaf) == "binary":
            continue  # binary parts (BINARYMIME) have no lines
        seen.add(leaf.part_id)
        yield Finding(
            "error",
            "line-too-long",
            f"part {leaf.part_id} has a line of {length} characters (line {lines.line_of(start)}): lines "
            "must be at most 998; servers break longer ones, which can corrupt the content (encode it as "
            "quoted-printable or base64)",
            "RFC 5322 section 2.1.1",
            Where("", lines.line_of(start), leaf.part_id),
        )


def _eight_bit_transport(raw: bytes, message: _Message, options: set[str], lines: LineCounter) -> Iterator[Finding]:
    if options & {"BODY=8BITMIME", "BODY=BINARYMIME", "SMTPUTF8"}:
        return
    for leaf in message.leaves:
        if not raw[leaf.body_start : leaf.body_end].isascii():
            yield Finding(
                "info",
                "8bit-without-8bitmime",
                f"part {leaf.part_id} holds 8-bit bytes, but the SMTP client did not declare BODY=8BITMIME: a "
                "server without 8BITMIME may refuse or damage it",
                "RFC 6152 section 3",
                Where("", lines.line_of(leaf.body_start), leaf.part_id),
            )
            return


def _all(raw: bytes, mail_options: Sequence[str]) -> Iterator[Finding]:
    lines = LineCounter(raw)
    root = walk(raw, lines)
    options = _smtp_options(mail_options)
    smtputf8 = "SMTPUTF8" in options
    yield from message_header_problems(root.header)
    yield from list_problems(root.header)
    for node in root.nodes():
        yield from field_problems(node.header, raw, smtputf8, node.part_id if node is not root else "")
    yield from mime_problems(raw, root, lines)
    message = _Message(root)
    yield from _line_endings(raw, message, lines)
    yield from _body_lines(raw, message, lines)
    yield from _eight_bit_transport(raw, message, options, lines)


def _capped(findings: list[Finding]) -> list[Finding]:
    """The first MAX_PER_CODE findings of each code, and an info saying how many more there were."""
    kept: list[Finding] = []
    seen: dict[str, int] = {}
    for finding in findings:
        seen[finding.code] = seen.get(finding.code, 0) + 1
        if seen[finding.code] <= MAX_PER_CODE:
            kept.append(finding)
    for code, count in seen.items():
        if count > MAX_PER_CODE:
            kept.append(
                Finding(
                    "info",
                    "findings-omitted",
                    f"{count - MAX_PER_CODE} more {code} findings are not listed (the first {MAX_PER_CODE} are)",
                    "mailcatch",
                )
            )
    return kept


def lint_message(raw: bytes, mail_options: Sequence[str] = ()) -> list[Finding]:
    """Every finding about a message (at most MAX_PER_CODE of a code), errors first, then by place.
    `mail_options`: its MAIL FROM parameters."""
    findings = list(dict.fromkeys(_all(raw, mail_options)))  # the same finding once
    return sorted(_capped(sorted(findings, key=Finding.sort_key)), key=Finding.sort_key)


def lint_json(findings: Sequence[Finding]) -> LintJSON:
    """The JSON of GET /api/v1/message/{ID}/lint."""
    counts = {severity: sum(1 for f in findings if f.severity == severity) for severity in SEVERITIES}
    return {
        "Findings": [
            {
                "Severity": f.severity,
                "Code": f.code,
                "Message": f.message,
                "Reference": f.reference,
                "Where": {"Header": f.where.header, "Line": f.where.line, "PartID": f.where.part_id},
            }
            for f in findings
        ],
        "Errors": counts["error"],
        "Warnings": counts["warning"],
        "Infos": counts["info"],
    }
