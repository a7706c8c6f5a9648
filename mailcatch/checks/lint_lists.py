"""The lint of bulk mail's unsubscribe headers: List-Unsubscribe (RFC 2369) and one-click List-Unsubscribe-Post (RFC 8058)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mailcatch.checks.lint_findings import Finding, Severity, Where
from mailcatch.checks.lint_raw import Field, HeaderBlock
from mailcatch.mail.decode import raw_to_str
from mailcatch.mail.unsubscribe import parse_list_unsubscribe

__all__ = ["ONE_CLICK", "list_problems", "signed_headers"]

ONE_CLICK = "List-Unsubscribe=One-Click"
_RFC8058 = "RFC 8058 section 3.1"
_TAG = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*)\s*=([^;]*)")


def _at(severity: Severity, code: str, message: str, reference: str, field: Field | None) -> Finding:
    return Finding(severity, code, message, reference, Where(field.name, field.line) if field else Where())


def signed_headers(block: HeaderBlock) -> list[set[str]]:
    """For each DKIM-Signature, the header names its h= tag signs (lower-cased)."""
    found = []
    for field in block.all("dkim-signature"):
        tags = {m.group(1).lower(): m.group(2) for m in _TAG.finditer(field.text)}
        found.append({"".join(name.split()).lower() for name in tags.get("h", "").split(":") if name.strip()})
    return found


def _is_bulk(block: HeaderBlock) -> bool:
    precedence = block.first("precedence")
    if precedence is not None and precedence.text.strip().lower() in ("bulk", "list", "junk"):
        return True
    return block.first("list-id") is not None


def list_problems(block: HeaderBlock) -> Iterator[Finding]:
    """What is wrong with the unsubscribe headers of bulk mail."""
    header, post = block.first("list-unsubscribe"), block.first("list-unsubscribe-post")
    for lname in ("list-unsubscribe", "list-unsubscribe-post"):
        for extra in block.all(lname)[1:]:
            yield _at("error", "duplicate-header", f"{extra.name} appears more than once", _RFC8058, extra)
    if header is None:
        if post is not None:
            yield _at(
                "error",
                "list-unsubscribe-post-alone",
                "List-Unsubscribe-Post is there without a List-Unsubscribe header to post to",
                _RFC8058,
                post,
            )
        elif _is_bulk(block):
            yield _at(
                "warning",
                "bulk-without-list-unsubscribe",
                "the message looks like bulk mail (List-Id or Precedence: bulk) but has no List-Unsubscribe header; "
                "large mailbox providers require one, with one-click unsubscription",
                "RFC 2369 section 3.2",
                block.first("list-id") or block.first("precedence"),
            )
        return
    links, errors = parse_list_unsubscribe(raw_to_str(header.text))
    if errors:
        yield _at("error", "list-unsubscribe-syntax", f"List-Unsubscribe: {errors}", "RFC 2369 section 3.2", header)
    if post is None:
        if _is_bulk(block) and any(link.lower().startswith("https://") for link in links):
            yield _at(
                "info",
                "no-one-click",
                "List-Unsubscribe has an https link but no List-Unsubscribe-Post: List-Unsubscribe=One-Click, "
                "so mail programs can't offer one-click unsubscription",
                "RFC 8058 section 3.1",
                header,
            )
        return
    if post.text != ONE_CLICK:
        yield _at(
            "error",
            "list-unsubscribe-post-value",
            f"List-Unsubscribe-Post is {post.text[:80]!r}; it must be exactly {ONE_CLICK}",
            _RFC8058,
            post,
        )
    if not any(link.lower().startswith("https://") for link in links):
        yield _at(
            "error",
            "one-click-without-https",
            "List-Unsubscribe-Post asks for one-click unsubscription, but List-Unsubscribe has no https:// URI to POST to",
            _RFC8058,
            post,
        )
    if not any({"list-unsubscribe", "list-unsubscribe-post"} <= signed for signed in signed_headers(block)):
        yield _at(
            "warning",
            "one-click-not-signed",
            "one-click unsubscription needs a DKIM signature whose h= covers both List-Unsubscribe and "
            "List-Unsubscribe-Post; no DKIM-Signature here does",
            "RFC 8058 section 4",
            post,
        )
