"""The lint of a message's MIME structure and parts: boundaries, transfer encodings, charsets, bodies,
Content-IDs, and attachments whose bytes are not what their type says."""

from __future__ import annotations

import binascii
import re
import urllib.parse
from collections.abc import Iterator

from mailcatch.checks.lint_findings import Finding, Severity, Where
from mailcatch.checks.lint_magic import mismatch
from mailcatch.checks.lint_raw import Field, LineCounter, Node
from mailcatch.mail.decode import b64decode, codec
from mailcatch.mail.params import angle_stripped, parse_params

__all__ = ["content", "content_head", "mime_problems", "transfer_encoding"]

_ENCODINGS = ("7bit", "8bit", "binary", "quoted-printable", "base64")
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_B64_BODY = re.compile(rb"[A-Za-z0-9+/]*={0,2}")
_QP_BAD = re.compile(rb"=(?![0-9A-Fa-f]{2}|[ \t]*\r?\n|[ \t]*\Z)|[\x80-\xff]")
_CID_REF = re.compile(r"""\bcid:([^\s"'<>)]+)""", re.IGNORECASE)
_MSG_ID = re.compile(r"<[^<>@\s]+@[^<>@\s]+>")
_COMMENT = re.compile(r"\((?:[^()\\]|\\.)*\)")
_ASCII = ("us-ascii", "ascii", "ansi_x3.4-1968")


def transfer_encoding(node: Node) -> str:
    """A part's Content-Transfer-Encoding, lower-cased ("7bit" when absent)."""
    field = node.header.first("content-transfer-encoding")
    return _COMMENT.sub("", field.text).strip().lower() if field else "7bit"


def content(raw: bytes, node: Node) -> bytes:
    """A leaf's bytes with its transfer encoding undone (forgiving: broken data is reported elsewhere)."""
    body = raw[node.body_start : node.body_end]
    encoding = transfer_encoding(node)
    if encoding == "base64":
        return b64decode(body.translate(None, b" \t\r\n"))
    if encoding == "quoted-printable":
        return binascii.a2b_qp(body)
    return body


def content_head(raw: bytes, node: Node, size: int = 64) -> bytes:
    """About the first `size` bytes of a leaf's content, decoding only the start of its body."""
    end = min(node.body_end, node.body_start + 4 * size + 512)  # room for line breaks and escapes
    encoding = transfer_encoding(node)
    body = raw[node.body_start : end]
    if encoding == "base64":
        data = body.translate(None, b" \t\r\n")
        return b64decode(data[: len(data) - len(data) % 4])[:size]
    if encoding == "quoted-printable":
        return binascii.a2b_qp(body)[:size]
    return body[:size]


def _at(
    severity: Severity,
    code: str,
    message: str,
    reference: str,
    node: Node,
    lines: LineCounter,
    field: Field | None = None,
) -> Finding:
    if field is not None:
        return Finding(severity, code, message, reference, Where(field.name, field.line, node.part_id))
    return Finding(severity, code, message, reference, Where("", lines.line_of(node.start), node.part_id))


def _shown_type(node: Node) -> str:
    """The type of what an alternative shows: a multipart/related's is its first (root) part's."""
    while node.effective_type == "multipart/related" and node.children:
        node = node.children[0]
    return node.effective_type


def _multipart(node: Node, lines: LineCounter) -> Iterator[Finding]:
    field = node.header.first("content-type")
    boundary = node.params.get("boundary", "")
    name = (node.part_id and f"part {node.part_id} ({node.content_type})") or f"the message ({node.content_type})"
    if not boundary:
        yield _at(
            "error",
            "multipart-no-boundary",
            f"{name} has no boundary parameter, so its parts can't be told apart",
            "RFC 2046 section 5.1.1",
            node,
            lines,
            field,
        )
        return
    if not _BOUNDARY.fullmatch(boundary):
        yield _at(
            "warning",
            "boundary-syntax",
            f"the boundary {boundary[:80]!r} of {name} is not 1 to 70 of the allowed characters, "
            "without a space at its end",
            "RFC 2046 section 5.1.1",
            node,
            lines,
            field,
        )
    if not node.opened:
        yield _at(
            "error",
            "multipart-boundary-not-found",
            f"{name} declares the boundary {boundary[:80]!r}, but no line --{boundary[:80]} starts a part",
            "RFC 2046 section 5.1.1",
            node,
            lines,
            field,
        )
    elif not node.closed:
        yield _at(
            "error",
            "multipart-not-closed",
            f"{name} does not end with its closing boundary line --{boundary[:80]}-- (the message may be cut short)",
            "RFC 2046 section 5.1.1",
            node,
            lines,
            field,
        )
    encoding = transfer_encoding(node)
    if encoding not in ("7bit", "8bit", "binary"):
        yield _at(
            "error",
            "multipart-encoded",
            f"{name} has Content-Transfer-Encoding {encoding}: a multipart can only be 7bit, 8bit or binary",
            "RFC 2045 section 6.4",
            node,
            lines,
            node.header.first("content-transfer-encoding"),
        )
    if node.effective_type == "multipart/alternative" and node.children:
        types = [_shown_type(child) for child in node.children]
        if "text/plain" in types and "text/html" in types and types.index("text/plain") > types.index("text/html"):
            yield _at(
                "warning",
                "alternative-order",
                "in multipart/alternative the last part is the preferred one: text/plain after text/html makes "
                "mail programs show the plain text",
                "RFC 2046 section 5.1.4",
                node,
                lines,
                field,
            )


def _encoding(raw: bytes, node: Node, lines: LineCounter) -> Iterator[Finding]:
    field = node.header.first("content-transfer-encoding")
    encoding = transfer_encoding(node)
    body = raw[node.body_start : node.body_end]
    if encoding not in _ENCODINGS:
        known = encoding.startswith("x-")
        yield _at(
            "warning" if known else "error",
            "transfer-encoding-unknown",
            f"Content-Transfer-Encoding {encoding!r} is not one of {', '.join(_ENCODINGS)}: many programs can't read it",
            "RFC 2045 section 6.1",
            node,
            lines,
            field,
        )
    elif encoding == "base64":
        data = body.translate(None, b" \t\r\n")
        if not _B64_BODY.fullmatch(data) or len(data) % 4:
            yield _at(
                "error",
                "base64-invalid",
                "the base64 body has characters outside the base64 alphabet or a length that is not a multiple of 4",
                "RFC 2045 section 6.8",
                node,
                lines,
                field,
            )
    elif encoding == "quoted-printable":
        bad = _QP_BAD.search(body)
        if bad:
            yield _at(
                "warning",
                "quoted-printable-invalid",
                f"the quoted-printable body has {bad.group()[:3]!r} at line {lines.line_of(node.body_start + bad.start())}: "
                "an = must start =XX (two hex digits) or end a line, and 8-bit bytes must be encoded",
                "RFC 2045 section 6.7",
                node,
                lines,
                field,
            )
    elif encoding == "7bit" and not body.isascii():
        yield _at(
            "warning",
            "8bit-declared-7bit",
            "the part holds 8-bit bytes but its Content-Transfer-Encoding is 7bit"
            + ("" if field else " (by default)")
            + ": declare 8bit, or encode it as quoted-printable or base64",
            "RFC 2045 section 2.7",
            node,
            lines,
            field,
        )


def _charset(raw: bytes, node: Node, lines: LineCounter) -> Iterator[Finding]:
    field = node.header.first("content-type")
    data = content(raw, node)
    charset = node.params.get("charset", "").strip()
    if not charset:
        if not data.isascii():
            yield _at(
                "warning" if _is_body(node) else "info",
                "charset-missing",
                f"the {node.effective_type} part holds 8-bit text but names no charset (so US-ASCII is meant): "
                'add charset="utf-8" (or what it is)',
                "RFC 2046 section 4.1.2",
                node,
                lines,
                field,
            )
        return
    label = charset.lower()
    name = "ascii" if label in _ASCII else codec(charset)
    if name is None:
        yield _at(
            "error",
            "charset-unknown",
            f"the charset {charset!r} is not one mail programs know",
            "RFC 2046 section 4.1.2",
            node,
            lines,
            field,
        )
        return
    try:
        data.decode(name)
    except UnicodeDecodeError as error:
        yield _at(
            "error",
            "charset-mismatch",
            f"the {node.effective_type} body doesn't decode as {charset}: byte {data[error.start : error.start + 1]!r} "
            f"at offset {error.start} of its decoded bytes",
            "RFC 2046 section 4.1.2",
            node,
            lines,
            field,
        )


def _disposition(node: Node) -> str:
    field = node.header.first("content-disposition")
    return parse_params(field.text)[0] if field else ""


def _is_body(node: Node) -> bool:
    return node.effective_type in ("text/plain", "text/html") and _disposition(node) != "attachment"


def _leaf(raw: bytes, node: Node, lines: LineCounter, content_ids: set[str]) -> Iterator[Finding]:
    yield from _encoding(raw, node, lines)
    if node.effective_type.startswith("text/"):
        yield from _charset(raw, node, lines)
    if not _is_body(node) and not node.effective_type.startswith(("multipart/", "message/")):
        problem = mismatch(node.effective_type, content_head(raw, node))
        if problem:
            yield _at(
                "warning",
                "content-type-mismatch",
                f"part {node.part_id}: {problem}",
                "RFC 2046 section 4",
                node,
                lines,
                node.header.first("content-type"),
            )
    cid = node.header.first("content-id")
    if cid is not None and not _MSG_ID.fullmatch(_COMMENT.sub("", cid.text).strip()):
        yield _at(
            "info",
            "content-id-syntax",
            f"the Content-ID {cid.text[:80]!r} is not in <id@domain> form",
            "RFC 2392 section 2",
            node,
            lines,
            cid,
        )
    if node.effective_type == "text/html" and _is_body(node):
        html = content(raw, node).decode("utf-8", "replace")
        missing = []
        for reference in _CID_REF.findall(html):
            wanted = urllib.parse.unquote(reference)
            if wanted not in content_ids and wanted not in missing:
                missing.append(wanted)
        if missing:
            yield _at(
                "error",
                "cid-not-found",
                "the HTML shows " + ", ".join(f"cid:{m}" for m in missing[:5]) + ", but no part has that Content-ID",
                "RFC 2392 section 2",
                node,
                lines,
            )


def _bodies(root: Node, lines: LineCounter) -> Iterator[Finding]:
    leaves = [leaf for leaf in root.leaves() if _is_body(leaf)]
    html = [leaf for leaf in leaves if leaf.effective_type == "text/html"]
    if html and not any(leaf.effective_type == "text/plain" for leaf in leaves):
        yield _at(
            "warning",
            "html-without-text",
            "the message has an HTML body but no plain-text alternative: send multipart/alternative with a "
            "text/plain part first (text-only readers, accessibility tools and spam filters look for it)",
            "RFC 2046 section 5.1.4",
            html[0],
            lines,
        )


def mime_problems(raw: bytes, root: Node, lines: LineCounter) -> Iterator[Finding]:
    """Every problem of the MIME structure and of each part's content."""
    content_ids = set()
    for leaf in root.leaves():
        cid = leaf.header.first("content-id")
        if cid is not None:
            content_ids.add(angle_stripped(cid.text))
    for node in root.nodes():
        if node.effective_type.startswith("multipart/"):
            yield from _multipart(node, lines)
            if node.children is None:
                yield from _leaf(raw, node, lines, content_ids)
        elif node.children is None:
            yield from _leaf(raw, node, lines, content_ids)
    yield from _bodies(root, lines)
