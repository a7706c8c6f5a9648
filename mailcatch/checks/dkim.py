"""DKIM and ARC verification of a stored message, with dkimpy: each signature's result and why.

`verify_message(raw, sources)` gives GET /api/v1/message/{ID}/dkim's JSON: every DKIM-Signature, then
the ARC sets newest first (each ARC-Seal, then its ARC-Message-Signature), with its result:

- pass;
- fail: the body hash or the signature doesn't match (the message changed after signing), the
  signature expired (x=) or is dated in the future (t=);
- nokey: no key record, in the --dkim-keys file or (with --dkim-dns) in DNS;
- temperror: DNS could not be asked or did not answer;
- permerror: the signature or the key record can't be used (missing or bad tags, an unknown
  algorithm, a key too small or unreadable).

and the ARC chain's own result (pass, fail or none). It reads the message and keys only: it runs on
a thread, never on the event loop (DNS look-ups can take seconds).
"""

from __future__ import annotations

import logging
import re
from typing import Any, TypedDict

import dkim  # type: ignore[import-untyped]
from dkim.util import InvalidTagValueList, parse_tag_value  # type: ignore[import-untyped]

from mailcatch.checks.dkim_dns import KeyFinder, KeyLookup, KeySources

__all__ = ["ArcJSON", "DkimJSON", "SignatureJSON", "verify_message"]

log = logging.getLogger("mailcatch.checks.dkim")

MIN_KEY_BITS = 1024
"""RSA keys shorter than this are refused (RFC 8301), as dkimpy does by default."""

_FAILURES = ("body hash mismatch", "x= value is past", "t= value is in the future")
"""The starts of dkimpy's errors that mean the signature failed, rather than could not be checked."""
_NO_ARC = "the message has no ARC headers"
_SIGNED_CHANGED = "signature mismatch: a signed header field was changed after signing, or the key is not the signer's"
_MISMATCH = {
    "DKIM-Signature": _SIGNED_CHANGED,
    "ARC-Message-Signature": _SIGNED_CHANGED,
    "ARC-Seal": "signature mismatch: an ARC header field was changed after sealing, or the key is not the sealer's",
}


class SignatureJSON(TypedDict):
    Kind: str
    Domain: str
    Selector: str
    Algorithm: str
    Headers: list[str]
    Result: str
    Reason: str
    KeySource: str


class ArcJSON(TypedDict):
    Result: str
    Reason: str


class DkimJSON(TypedDict):
    Signatures: list[SignatureJSON]
    ARC: ArcJSON


class Notes:
    """The logger dkimpy is given: it keeps its errors in the key finder's trail, in order, and drops the rest."""

    def __init__(self, trail: list[tuple[str, str]]) -> None:
        self.trail = trail

    def error(self, message: object, *args: object) -> None:
        self.trail.append(("error", str(message)))

    def debug(self, message: object, *args: object) -> None:
        pass

    info = warning = debug


def verify_message(raw: bytes, sources: KeySources) -> DkimJSON:
    """Every signature's result, and the ARC chain's."""
    finder = KeyFinder(sources)
    try:
        verifier = dkim.DKIM(raw, logger=Notes([]), minkey=MIN_KEY_BITS, timeout=sources.timeout)
    except Exception as error:  # the header can't be read (dkimpy raises MessageFormatError)
        return _unreadable(raw, f"the message's header can't be read: {error}")
    headers: list[tuple[bytes, bytes]] = [(name, value) for name, value in verifier.headers]
    signatures = [
        _dkim_signature(verifier, index, value, finder)
        for index, value in enumerate(v for n, v in headers if n.lower() == b"dkim-signature")
    ]
    arc_signatures, arc = _arc(raw, finder)
    return {"Signatures": signatures + arc_signatures, "ARC": arc}


# DKIM-Signature ---------------------------------------------------------------
def _tags(value: bytes) -> dict[bytes, bytes]:
    """A signature's tags, empty if they can't be read."""
    try:
        tags: dict[bytes, bytes] = parse_tag_value(re.sub(rb"\r?\n", b"", value))
    except (InvalidTagValueList, ValueError):
        return {}
    return tags


def _text(tags: dict[bytes, bytes], name: bytes) -> str:
    return re.sub(r"\s+", "", tags.get(name, b"").decode("utf-8", "replace"))


def _entry(kind: str, tags: dict[bytes, bytes], result: str, reason: str, lookup: KeyLookup | None) -> SignatureJSON:
    names = tags.get(b"h", b"").decode("utf-8", "replace")
    return {
        "Kind": kind,
        "Domain": _text(tags, b"d"),
        "Selector": _text(tags, b"s"),
        "Algorithm": _text(tags, b"a"),
        "Headers": [name.strip().lower() for name in names.split(":") if name.strip()],
        "Result": result,
        "Reason": reason,
        "KeySource": lookup.source if lookup else "",
    }


def _key_name(tags: dict[bytes, bytes]) -> str:
    return f"{_text(tags, b's')}._domainkey.{_text(tags, b'd')}"


_BYTES = re.compile(r"\bb'([^']*)'")
_BODY_HASH = re.compile(r"body hash mismatch \(got ([^,]*), expected ([^)]*)\)")


def _classify(error: str) -> tuple[str, str]:
    """The result and reason for an error dkimpy raised or reported (its bytes shown as text)."""
    error = _BYTES.sub(r"\1", error)
    body_hash = _BODY_HASH.match(error)
    if body_hash:
        got, expected = body_hash.groups()
        return "fail", f"body hash mismatch: the body was changed after signing (bh={expected}, the body's is {got})"
    if error.startswith("x= value is past"):
        return "fail", f"the signature expired: {error}"
    if error.startswith(_FAILURES):
        return "fail", error
    return "permerror", error


def _outcome(valid: bool, lookup: KeyLookup | None, errors: list[str], kind: str) -> tuple[str, str]:
    """A verified signature's result: from the key's look-up, then from what dkimpy reported."""
    if valid:
        return "pass", ""
    if lookup is not None and lookup.result:
        return lookup.result, lookup.reason
    if errors:
        return _classify(errors[0])
    return "fail", _MISMATCH[kind]


def _dkim_signature(verifier: Any, index: int, value: bytes, finder: KeyFinder) -> SignatureJSON:
    """One DKIM-Signature's result, from dkimpy's `verifier` (the message read once for them all)."""
    tags = _tags(value)
    finder.trail.clear()
    verifier.logger = Notes(finder.trail)
    try:
        valid = bool(verifier.verify(idx=index, dnsfunc=finder))
    except dkim.DKIMException as error:
        return _entry("DKIM-Signature", tags, *_classify(str(error)), finder.lookup(_key_name(tags)))
    except Exception as error:  # dkimpy tripping over a malformed signature
        log.debug("DKIM-Signature %d could not be verified", index, exc_info=True)
        return _entry("DKIM-Signature", tags, "permerror", f"it could not be verified: {error!r}", None)
    lookup = finder.lookup(_key_name(tags))
    errors = [text for kind, text in finder.trail if kind == "error"]
    return _entry("DKIM-Signature", tags, *_outcome(valid, lookup, errors, "DKIM-Signature"), lookup)


# ARC --------------------------------------------------------------------------
def _arc(raw: bytes, finder: KeyFinder) -> tuple[list[SignatureJSON], ArcJSON]:
    """Each ARC set's seal and message signature, newest first, and the chain's result."""
    try:
        arc = dkim.ARC(raw, logger=Notes([]), minkey=MIN_KEY_BITS, timeout=finder.sources.timeout)
        newest, headers = arc.sorted_arc_headers()
    except Exception as error:
        return [], {"Result": "fail", "Reason": f"the ARC headers can't be read: {error}"}
    if newest == 0:
        return [], {"Result": "none", "Reason": _NO_ARC}
    entries: dict[tuple[int, str], SignatureJSON] = {}
    for instance in range(newest, 0, -1):
        seal, signature = _arc_set(arc, headers, instance, finder)
        entries[(instance, "ARC-Seal")] = seal
        entries[(instance, "ARC-Message-Signature")] = signature
    return list(entries.values()), _chain(arc, finder, entries, newest)


def _arc_tags(headers: list[tuple[int, tuple[bytes, bytes]]], instance: int, name: bytes) -> dict[bytes, bytes]:
    for number, (header, value) in headers:
        if number == instance and header.lower() == name:
            return _tags(value)
    return {}


def _arc_set(
    arc: Any, headers: list[tuple[int, tuple[bytes, bytes]]], instance: int, finder: KeyFinder
) -> tuple[SignatureJSON, SignatureJSON]:
    """One ARC set's seal and message signature. dkimpy checks the message signature, then the seal,
    each starting with its key's look-up: what it reports between look-ups belongs to the one before."""
    seal_tags = _arc_tags(headers, instance, b"arc-seal")
    signature_tags = _arc_tags(headers, instance, b"arc-message-signature")
    trail = finder.trail
    trail.clear()
    arc.logger = Notes(trail)
    output: dict[str, Any] | None = None
    failure = ""
    try:
        output = arc.verify_instance(headers, instance, dnsfunc=finder)
    except dkim.DKIMException as error:
        failure = str(error)
    except Exception as error:  # dkimpy tripping over a malformed set
        log.debug("ARC set %d could not be verified", instance, exc_info=True)
        failure = f"it could not be verified: {error!r}"
    lookups = [i for i, (kind, _) in enumerate(trail) if kind == "lookup"]
    ends = [*lookups[1:], len(trail)] if lookups else []
    parts = [trail[start + 1 : end] for start, end in zip(lookups, ends, strict=True)]
    errors = [[text for kind, text in part if kind == "error"] for part in parts]
    signature_lookup = finder.lookup(_key_name(signature_tags))
    seal_lookup = finder.lookup(_key_name(seal_tags))
    if output is not None:
        signature_result = _outcome(
            output["ams-valid"], signature_lookup, errors[0] if errors else [], "ARC-Message-Signature"
        )
        seal_result = _outcome(output["as-valid"], seal_lookup, errors[1] if len(errors) > 1 else [], "ARC-Seal")
    else:
        unusable = ("permerror", f"ARC set {instance}: {failure}")
        seal_result = unusable
        signature_result = _classify(errors[0][0]) if errors and errors[0] else unusable
    return (
        _entry("ARC-Seal", seal_tags, *seal_result, seal_lookup),
        _entry("ARC-Message-Signature", signature_tags, *signature_result, signature_lookup),
    )


_SEAL_FAILED = re.compile(r"ARC-Seal\[(\d+)\] did not validate")


def _chain(arc: Any, finder: KeyFinder, entries: dict[tuple[int, str], SignatureJSON], newest: int) -> ArcJSON:
    """The chain's result as dkimpy judges it (RFC 8617), with the failing signature's reason added."""
    arc.logger = Notes([])
    try:
        verdict, _, reason = arc.verify(dnsfunc=finder)
    except Exception as error:
        return {"Result": "fail", "Reason": str(error)}
    if verdict == dkim.CV_Pass:
        return {"Result": "pass", "Reason": ""}
    if verdict == dkim.CV_None:
        return {"Result": "none", "Reason": _NO_ARC}
    reason = str(reason)
    seal = _SEAL_FAILED.match(reason)
    failed = (
        entries.get((int(seal.group(1)), "ARC-Seal"))
        if seal
        else entries.get((newest, "ARC-Message-Signature"))
        if reason.startswith("Most recent ARC-Message-Signature")
        else None
    )
    if failed is not None and failed["Reason"]:
        reason = f"{reason}: {failed['Reason']}"
    return {"Result": "fail", "Reason": reason}


def _unreadable(raw: bytes, reason: str) -> DkimJSON:
    """What a message whose header dkimpy can't read gets: each signature found, unusable."""
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    fields = re.findall(rb"^([!-9;-~]+):((?:.*)(?:\r?\n[ \t].*)*)", head, re.MULTILINE)
    kinds = {
        b"dkim-signature": "DKIM-Signature",
        b"arc-seal": "ARC-Seal",
        b"arc-message-signature": "ARC-Message-Signature",
    }
    signatures = [
        _entry(kinds[name.lower()], _tags(value), "permerror", reason, None)
        for name, value in fields
        if name.lower() in kinds
    ]
    arc_present = any(entry["Kind"] != "DKIM-Signature" for entry in signatures)
    arc: ArcJSON = {"Result": "fail", "Reason": reason} if arc_present else {"Result": "none", "Reason": _NO_ARC}
    return {"Signatures": signatures, "ARC": arc}
