"""GET /api/v1/message/{ID}/dkim: messages signed here with keys made here, sent over SMTP to a real catcher.

Keys reach the catcher through a --dkim-keys file in each of its forms, or through a DNS server on a
loopback port (dnspython builds its answers); each result and reason is read back over HTTP.
"""

from __future__ import annotations

import base64
import smtplib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dkim  # type: ignore[import-untyped]
import dns.message
import dns.rcode
import dns.rrset
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from openapi_schema_validator import OAS30Validator

from mailcatch.checks.dkim_keys import parse_dkim_keys
from mailcatch.config import HostPort, from_args
from mailcatch.errors import ConfigError
from mailcatch.server import ServerThread
from mailcatch.web.openapi import document
from tests.helpers import running, wait_for_count

MESSAGE = (
    b"From: Shop <shop@example.com>\r\n"
    b"To: ann@example.org\r\n"
    b"Subject: Your order\r\n"
    b"Date: Sun, 06 Dec 2026 05:00:00 +0000\r\n"
    b"Message-ID: <order-1@example.com>\r\n"
    b"\r\n"
    b"Thank you for your order.\r\n"
)
SIGNED = [b"from", b"to", b"subject", b"date", b"message-id"]
SPEC = document()


@dataclass(frozen=True)
class RsaKey:
    pem: bytes
    public: str
    """The p= value: the public key, DER in base64."""


def rsa_key(bits: int) -> RsaKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return RsaKey(pem, base64.b64encode(der).decode())


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    """An RSA 2048 key (example.com), an RSA 1024 key (example.org) and an ed25519 key (example.net)."""
    private = ed25519.Ed25519PrivateKey.generate()
    seed = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "big": rsa_key(2048),
        "small": rsa_key(1024),
        "ed_private": base64.b64encode(seed),
        "ed_public": base64.b64encode(public).decode(),
    }


def keys_file(keys: dict[str, Any]) -> str:
    """A --dkim-keys file with a record in each form the file takes."""
    big: str = keys["big"].public
    return (
        "# keys for the DKIM tests\n"
        f"s2048._domainkey.example.com  v=DKIM1; k=rsa; p={big}\n"
        "\n"
        "; zone-file style, split strings\n"
        f'S1024._domainkey.Example.ORG. 3600 IN TXT "v=DKIM1; k=rsa; " "p={keys["small"].public}"\n'
        "; over several lines, in parentheses\n"
        f'ed._domainkey.example.net. IN TXT ( "v=DKIM1; k=ed25519; "  ; the key follows\n'
        f'    "p={keys["ed_public"]}" )\n'
        f'arc._domainkey.example.com TXT "v=DKIM1; k=rsa; p={big[:200]}" "{big[200:]}"\n'
        "bad._domainkey.example.com v=DKIM1; k=rsa; p=QUJDRA==\n"
    )


@pytest.fixture(scope="module")
def catcher(keys: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """A catcher started from the command line's --dkim-keys, with the file in each of its forms."""
    path = tmp_path_factory.mktemp("dkim") / "keys.txt"
    path.write_text(keys_file(keys))
    settings = from_args(["--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--quiet", "--dkim-keys", str(path)], {})
    assert (settings.dkim_keys, settings.dkim_dns) == (str(path), False)
    catcher = ServerThread(settings).start()
    yield catcher
    catcher.stop()


def sign(message: bytes, selector: str, domain: str, key: bytes, algorithm: bytes = b"rsa-sha256") -> bytes:
    """The message with a DKIM-Signature on top."""
    header: bytes = dkim.sign(
        message, selector.encode(), domain.encode(), key, include_headers=SIGNED, signature_algorithm=algorithm
    )
    return header + message


def arc_seal(message: bytes, key: bytes) -> bytes:
    """The message with an ARC set on top, as mx.example.com would add it after checking its DKIM signature."""
    results = b"Authentication-Results: mx.example.com; dkim=pass header.d=example.com\r\n"
    arc_set = dkim.arc_sign(results + message, b"arc", b"example.com", key, b"mx.example.com", include_headers=SIGNED)
    assert arc_set, "dkimpy made no ARC set"
    return b"".join(arc_set) + results + message


def check(catcher: ServerThread, raw: bytes) -> dict[str, Any]:
    """Send raw bytes over SMTP, as they are, and read the new message's DKIM check."""
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        before = api.get("/api/v1/messages").json()["total"]
        with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, local_hostname="app.local") as client:
            client.sendmail("shop@example.com", ["ann@example.org"], raw)
        newest = wait_for_count(api, before + 1)["messages"][0]["ID"]
        assert api.get(f"/api/v1/message/{newest}/raw").content == raw
        answer = api.get(f"/api/v1/message/{newest}/dkim")
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        OAS30Validator({"$ref": "#/components/schemas/DkimCheck", "components": SPEC["components"]}).validate(found)
        return found


def results(found: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(s["Kind"], s["Result"], s["KeySource"]) for s in found["Signatures"]]


def test_a_good_rsa_signature_passes(catcher: ServerThread, keys: dict[str, Any]) -> None:
    found = check(catcher, sign(MESSAGE, "s2048", "example.com", keys["big"].pem))
    assert found == {
        "Signatures": [
            {
                "Kind": "DKIM-Signature",
                "Domain": "example.com",
                "Selector": "s2048",
                "Algorithm": "rsa-sha256",
                "Headers": ["from", "to", "subject", "date", "message-id"],
                "Result": "pass",
                "Reason": "",
                "KeySource": "file",
            }
        ],
        "ARC": {"Result": "none", "Reason": "the message has no ARC headers"},
    }


def test_every_signature_is_checked_rsa_1024_and_ed25519_from_zone_style_records(
    catcher: ServerThread, keys: dict[str, Any]
) -> None:
    raw = sign(MESSAGE, "s1024", "example.org", keys["small"].pem)
    raw = sign(raw, "ed", "example.net", keys["ed_private"], b"ed25519-sha256")
    found = check(catcher, raw)
    assert [(s["Domain"], s["Algorithm"], s["Result"], s["Reason"]) for s in found["Signatures"]] == [
        ("example.net", "ed25519-sha256", "pass", ""),
        ("example.org", "rsa-sha256", "pass", ""),
    ]


def test_a_body_changed_after_signing_fails_on_its_body_hash(catcher: ServerThread, keys: dict[str, Any]) -> None:
    raw = sign(MESSAGE, "s2048", "example.com", keys["big"].pem).replace(b"your order", b"your 0rder")
    [signature] = check(catcher, raw)["Signatures"]
    assert (signature["Result"], signature["KeySource"]) == ("fail", "file")
    assert signature["Reason"].startswith("body hash mismatch: the body was changed after signing"), signature


def test_a_header_changed_after_signing_fails_on_its_signature(catcher: ServerThread, keys: dict[str, Any]) -> None:
    raw = sign(MESSAGE, "s2048", "example.com", keys["big"].pem).replace(b"Your order", b"Your refund")
    [signature] = check(catcher, raw)["Signatures"]
    assert signature["Result"] == "fail"
    assert signature["Reason"].startswith("signature mismatch: a signed header field was changed"), signature


def test_a_header_added_unsigned_changes_nothing(catcher: ServerThread, keys: dict[str, Any]) -> None:
    raw = b"X-Mailer: app 1.0\r\n" + sign(MESSAGE, "s2048", "example.com", keys["big"].pem)
    assert results(check(catcher, raw)) == [("DKIM-Signature", "pass", "file")]


def test_a_key_not_in_the_file_is_nokey_and_says_dns_is_off(catcher: ServerThread, keys: dict[str, Any]) -> None:
    [signature] = check(catcher, sign(MESSAGE, "other", "example.com", keys["big"].pem))["Signatures"]
    assert (signature["Result"], signature["KeySource"], signature["Selector"]) == ("nokey", "", "other")
    assert signature["Reason"] == (
        "no key for other._domainkey.example.com in --dkim-keys and DNS look-ups are off (--dkim-dns)"
    )


def test_a_record_with_another_key_fails(catcher: ServerThread, keys: dict[str, Any]) -> None:
    # example.org's record holds the 1024-bit key: a signature made with the 2048-bit one can't match it
    [signature] = check(catcher, sign(MESSAGE, "s1024", "example.org", keys["big"].pem))["Signatures"]
    assert (signature["Result"], signature["KeySource"]) == ("fail", "file")
    assert "signature mismatch" in signature["Reason"]


def test_a_key_record_that_is_no_key_is_a_permerror(catcher: ServerThread, keys: dict[str, Any]) -> None:
    [signature] = check(catcher, sign(MESSAGE, "bad", "example.com", keys["big"].pem))["Signatures"]
    assert (signature["Result"], signature["KeySource"]) == ("permerror", "file")
    assert signature["Reason"].startswith(
        "the key record for bad._domainkey.example.com (--dkim-keys) can't be used: could not parse RSA public key"
    ), signature


def test_an_expired_signature_fails(catcher: ServerThread, keys: dict[str, Any]) -> None:
    raw = sign(MESSAGE, "s2048", "example.com", keys["big"].pem).replace(b"v=1; ", b"v=1; x=1000000000; ", 1)
    [signature] = check(catcher, raw)["Signatures"]
    assert signature["Result"] == "fail"
    assert signature["Reason"] == "the signature expired: x= value is past (1000000000)"


def test_a_signature_without_its_body_hash_is_a_permerror(catcher: ServerThread, keys: dict[str, Any]) -> None:
    signed = sign(MESSAGE, "s2048", "example.com", keys["big"].pem)
    start = signed.index(b"bh=")
    raw = signed[:start] + signed[signed.index(b";", start) + 1 :]
    [signature] = check(catcher, raw)["Signatures"]
    assert (signature["Result"], signature["Reason"], signature["Domain"]) == (
        "permerror",
        "missing bh=",
        "example.com",
    )


def test_an_unsigned_message_has_no_signatures(catcher: ServerThread) -> None:
    assert check(catcher, MESSAGE) == {
        "Signatures": [],
        "ARC": {"Result": "none", "Reason": "the message has no ARC headers"},
    }


def test_a_message_without_a_header_gets_an_answer(catcher: ServerThread) -> None:
    found = check(catcher, b"just some words\r\nand no header at all\r\n")
    assert found["Signatures"] == [] and found["ARC"]["Result"] == "none"


def test_a_valid_arc_set_passes(catcher: ServerThread, keys: dict[str, Any]) -> None:
    found = check(catcher, arc_seal(sign(MESSAGE, "s2048", "example.com", keys["big"].pem), keys["big"].pem))
    assert results(found) == [
        ("DKIM-Signature", "pass", "file"),
        ("ARC-Seal", "pass", "file"),
        ("ARC-Message-Signature", "pass", "file"),
    ]
    seal, signature = found["Signatures"][1:]
    assert (seal["Domain"], seal["Selector"], seal["Headers"]) == ("example.com", "arc", [])
    assert signature["Headers"] == ["from", "to", "subject", "date", "message-id"]
    assert found["ARC"] == {"Result": "pass", "Reason": ""}


def test_a_broken_arc_seal_fails_the_chain(catcher: ServerThread, keys: dict[str, Any]) -> None:
    raw = arc_seal(MESSAGE, keys["big"].pem).replace(b"cv=none", b"cv=pass", 1)
    found = check(catcher, raw)
    assert results(found) == [("ARC-Seal", "fail", "file"), ("ARC-Message-Signature", "pass", "file")]
    assert found["ARC"]["Result"] == "fail"
    assert found["ARC"]["Reason"].startswith("ARC-Seal[1] did not validate: signature mismatch: an ARC header field")


def test_an_arc_message_signature_broken_by_a_changed_body_fails_the_chain(
    catcher: ServerThread, keys: dict[str, Any]
) -> None:
    raw = arc_seal(MESSAGE, keys["big"].pem).replace(b"Thank you", b"Thanks you")
    found = check(catcher, raw)
    assert [(s["Kind"], s["Result"]) for s in found["Signatures"]] == [
        ("ARC-Seal", "pass"),
        ("ARC-Message-Signature", "fail"),
    ]
    assert found["Signatures"][1]["Reason"].startswith("body hash mismatch")
    assert found["ARC"]["Reason"].startswith("Most recent ARC-Message-Signature did not validate: body hash mismatch")


def test_an_arc_set_without_its_authentication_results_is_incomplete(
    catcher: ServerThread, keys: dict[str, Any]
) -> None:
    sealed = arc_seal(MESSAGE, keys["big"].pem)
    start = sealed.index(b"ARC-Authentication-Results:")
    end = sealed.index(b"\r\nAuthentication-Results:", start) + 2
    found = check(catcher, sealed[:start] + sealed[end:])
    assert [(s["Kind"], s["Result"], s["Reason"]) for s in found["Signatures"]] == [
        ("ARC-Seal", "permerror", "ARC set 1: Incomplete ARC set for instance 1"),
        ("ARC-Message-Signature", "permerror", "ARC set 1: Incomplete ARC set for instance 1"),
    ]
    assert found["ARC"] == {"Result": "fail", "Reason": "Incomplete ARC set for instance 1"}


def test_latest_and_unknown_ids(catcher: ServerThread, keys: dict[str, Any]) -> None:
    check(catcher, sign(MESSAGE, "s2048", "example.com", keys["big"].pem))
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        assert results(api.get("/api/v1/message/latest/dkim").json()) == [("DKIM-Signature", "pass", "file")]
        missing = api.get("/api/v1/message/no-such-id/dkim")
        assert missing.status_code == 404 and "not found" in missing.json()["Error"]


# The keys file -------------------------------------------------------------------
def test_the_file_forms_read_as_records() -> None:
    records = parse_dkim_keys(
        "# comment\n; another\n"
        "a._domainkey.example.com\tv=DKIM1; p=AAAA\n"
        'B._domainkey.Example.com. 300 IN TXT "v=DKIM1; " "p=BB\\"B\\059" ; a comment\n'
        'c._domainkey.example.com. TXT (\n  "v=DKIM1;"\n  " p=CCC" )\n'
        "d._domainkey.example.com 60 IN TXT v=DKIM1; p=DDD\n"
    )
    assert records == {
        "a._domainkey.example.com": "v=DKIM1; p=AAAA",
        "b._domainkey.example.com": 'v=DKIM1; p=BB"B;',
        "c._domainkey.example.com": "v=DKIM1; p=CCC",
        "d._domainkey.example.com": "v=DKIM1; p=DDD",
    }


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("example.com v=DKIM1; p=AAAA\n", "line 1: 'example.com' is not a name of the form selector._domainkey.domain"),
        ("a._domainkey.example.com\n", "line 1: no key record after the name"),
        ('a._domainkey.example.com TXT "v=DKIM1\n', "line 1: a quoted string is not closed"),
        ('\n\na._domainkey.example.com TXT ( "v=DKIM1"\n', "line 3: the parentheses are not closed"),
        (
            "a._domainkey.example.com p=A\nA._DOMAINKEY.example.com. p=B\n",
            "line 2: a._domainkey.example.com is given twice",
        ),
        ("  a._domainkey.example.com p=A\n", "line 1: a record starts with its name"),
    ],
)
def test_a_bad_file_says_where(text: str, said: str) -> None:
    with pytest.raises(ConfigError, match="^--dkim-keys, " + said.replace("(", r"\(").replace(")", r"\)")):
        parse_dkim_keys(text)


def test_a_bad_or_missing_file_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--dkim-keys: no such file: "):
        from_args(["--dkim-keys", str(tmp_path / "none.txt")], {})
    bad = tmp_path / "keys.txt"
    bad.write_text("mail._domainkey.example.com\n")
    with pytest.raises(ConfigError, match=r"keys.txt, line 1: no key record"):
        from_args([], {"MAILCATCH_DKIM_KEYS": str(bad)})
    assert from_args([], {"MAILCATCH_DKIM_DNS": "1"}).dkim_dns is True


def test_the_file_is_read_again_for_each_check(keys: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_text("# nothing yet\n")
    raw = sign(MESSAGE, "s2048", "example.com", keys["big"].pem)
    with running(dkim_keys=str(path)) as catcher:
        assert results(check(catcher, raw)) == [("DKIM-Signature", "nokey", "")]
        path.write_text(f"s2048._domainkey.example.com v=DKIM1; k=rsa; p={keys['big'].public}\n")
        with httpx.Client(base_url=catcher.url, timeout=10) as api:
            assert results(api.get("/api/v1/message/latest/dkim").json()) == [("DKIM-Signature", "pass", "file")]
            path.write_text("s2048._domainkey.example.com\n")  # broken since the start: said, not a crash
            broken = api.get("/api/v1/message/latest/dkim")
            assert broken.status_code == 500
            assert broken.json() == {
                "Error": f"--dkim-keys {path}, line 1: no key record after the name 's2048._domainkey.example.com'"
            }


# DNS -------------------------------------------------------------------------------
class TinyDns:
    """A DNS server on a loopback UDP port: TXT answers from `records`, NXDOMAIN for other names,
    SERVFAIL for the names in `failing`; each answer `delay` seconds late."""

    def __init__(self, records: dict[str, list[str]], failing: tuple[str, ...] = (), delay: float = 0) -> None:
        self.records = records
        self.failing = failing
        self.delay = delay
        self.asked: list[str] = []
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.1)
        self.port: int = self.socket.getsockname()[1]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                data, peer = self.socket.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            answer = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text().rstrip(".").lower()
            self.asked.append(name)
            if name in self.failing:
                answer.set_rcode(dns.rcode.SERVFAIL)
            elif name in self.records:
                strings = " ".join(f'"{s}"' for s in self.records[name])
                answer.answer.append(dns.rrset.from_text(question.name, 60, "IN", "TXT", strings))
            else:
                answer.set_rcode(dns.rcode.NXDOMAIN)
            time.sleep(self.delay)
            self.socket.sendto(answer.to_wire(), peer)

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.socket.close()


@pytest.fixture
def tiny_dns(keys: dict[str, Any]) -> Iterator[TinyDns]:
    big: str = keys["big"].public  # longer than one TXT string (255 bytes): split as DNS serves it
    server = TinyDns(
        {"dns._domainkey.example.com": ["v=DKIM1; k=rsa; ", f"p={big[:240]}", big[240:]]},
        failing=("broken._domainkey.example.com",),
    )
    yield server
    server.close()


def test_dns_gives_the_keys_the_file_lacks(keys: dict[str, Any], tiny_dns: TinyDns, tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_text(f"s2048._domainkey.example.com v=DKIM1; k=rsa; p={keys['big'].public}\n")
    dns_server = HostPort("127.0.0.1", tiny_dns.port)
    with running(dkim_keys=str(path), dkim_dns=True, dkim_dns_server=dns_server) as catcher:
        raw = sign(MESSAGE, "dns", "example.com", keys["big"].pem)
        for selector in ("s2048", "missing", "broken"):
            raw = sign(raw, selector, "example.com", keys["big"].pem)
        found = check(catcher, raw)
    assert [(s["Selector"], s["Result"], s["KeySource"]) for s in found["Signatures"]] == [
        ("broken", "temperror", ""),
        ("missing", "nokey", ""),
        ("s2048", "pass", "file"),
        ("dns", "pass", "dns"),
    ]
    reasons = [s["Reason"] for s in found["Signatures"]]
    assert reasons[0].startswith(
        f"DNS lookup failed for broken._domainkey.example.com TXT (the resolver at 127.0.0.1 port {tiny_dns.port}): "
    )
    assert "SERVFAIL" in reasons[0]
    assert reasons[1] == (
        "no key for missing._domainkey.example.com in --dkim-keys nor in DNS: the name does not exist (NXDOMAIN)"
    )
    assert "s2048._domainkey.example.com" not in tiny_dns.asked  # the file's keys are not asked of DNS


def test_a_resolver_nobody_answers_is_a_temperror(keys: dict[str, Any]) -> None:
    """A loopback port no one listens on: the look-up gives up after its 4 s, and says so."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with running(dkim_dns=True, dkim_dns_server=HostPort("127.0.0.1", port)) as catcher:
        started = time.monotonic()
        [signature] = check(catcher, sign(MESSAGE, "dns", "example.com", keys["big"].pem))["Signatures"]
        took = time.monotonic() - started
    assert (signature["Result"], signature["KeySource"]) == ("temperror", "")
    assert signature["Reason"] == (
        f"DNS lookup failed: no answer for dns._domainkey.example.com TXT within 4 s from the resolver at 127.0.0.1 port {port}"
    )
    assert 3.5 < took < 6


def test_a_slow_dns_answer_never_holds_up_smtp(keys: dict[str, Any]) -> None:
    """The check waits on DNS on a thread: meanwhile the catcher still takes mail at once."""
    server = TinyDns(
        {"dns._domainkey.example.com": [f"v=DKIM1; k=rsa; p={keys['big'].public[:200]}", keys["big"].public[200:]]},
        delay=1.5,
    )
    try:
        with running(dkim_dns=True, dkim_dns_server=HostPort("127.0.0.1", server.port)) as catcher:
            check(catcher, MESSAGE)
            with httpx.Client(base_url=catcher.url, timeout=10) as api:
                raw = sign(MESSAGE, "dns", "example.com", keys["big"].pem)
                with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, local_hostname="app.local") as client:
                    client.sendmail("shop@example.com", ["ann@example.org"], raw)
                newest = wait_for_count(api, 2)["messages"][0]["ID"]
                answer: dict[str, Any] = {}
                slow = threading.Thread(target=lambda: answer.update(api.get(f"/api/v1/message/{newest}/dkim").json()))
                slow.start()
                time.sleep(0.3)  # the check is waiting for DNS now
                started = time.monotonic()
                with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, local_hostname="app.local") as client:
                    client.sendmail("shop@example.com", ["ann@example.org"], MESSAGE)
                    client.noop()
                smtp_took = time.monotonic() - started
                assert api.get("/api/v1/messages").json()["total"] == 3
                slow.join()
    finally:
        server.close()
    assert smtp_took < 0.5
    assert results(answer) == [("DKIM-Signature", "pass", "dns")]
