"""The fast MIME splitter builds exactly the tree the stdlib parser builds, or steps aside."""

from __future__ import annotations

import email.message
import email.parser
import email.policy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailcatch.mail import parse
from mailcatch.mail.mime import Unsupported, find, has_lone_cr, split_message
from mailcatch.mail.parse import ParsedMessage
from tests.core.test_parse import mime_tree, mutated_corpus

CORPUS = sorted((Path(__file__).resolve().parents[1] / "data").glob("*.eml"))
STDLIB = email.parser.BytesParser(policy=email.policy.compat32)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def tree(message: email.message.Message) -> tuple[Any, ...]:
    payload = message._payload  # raw, as parsed: get_payload() would decode 8-bit text
    children = [tree(part) for part in payload] if isinstance(payload, list) else payload
    return list(message.raw_items()), children


def same_as_stdlib(raw: bytes) -> bool:
    """True when the fast path handled the message (and matched); False when it stepped aside."""
    try:
        fast = split_message(raw)
    except Unsupported:
        return False
    assert tree(fast) == tree(STDLIB.parsebytes(raw))
    return True


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_files(path: Path) -> None:
    raw = path.read_bytes()
    same_as_stdlib(raw)
    same_as_stdlib(raw.replace(b"\r\n", b"\n"))


def test_common_shapes_take_the_fast_path() -> None:
    handled = [path.name for path in CORPUS if same_as_stdlib(path.read_bytes())]
    assert len(handled) >= len(CORPUS) - 6
    assert same_as_stdlib(b"Subject: plain\r\n\r\nhello\r\n")
    assert same_as_stdlib(b"Subject: no body\r\n")


@PROPERTY
@given(mime_tree())
def test_generated_trees(body: bytes) -> None:
    same_as_stdlib(b"From: a@x.io\r\nSubject: tree\r\nMIME-Version: 1.0\r\n" + body)


@PROPERTY
@given(mutated_corpus())
def test_mutated_corpus(raw: bytes) -> None:
    same_as_stdlib(raw)


@PROPERTY
@given(
    st.lists(
        st.sampled_from(
            [
                b"Subject: x",
                b"Subject:",
                b"Subject:   ",
                b"X-A:\ty",
                b" folded",
                b"\tfolded ",
                b"   ",
                b"no header",
                b":x",
                b"X-B : y",
                b"X\x0bC: y",
                b"X-D: a\x0cb",
                b"X-E: a\x1cb",
                b"X-F: a\rb",
                b"X-G: caf\xc3\xa9",
                b"x" * 3000,
                b"Y" * 3000 + b": long name",
            ]
        ),
        max_size=8,
    ),
    st.sampled_from([b"\r\n", b"\n"]),
    st.booleans(),
)
def test_header_block_edge_cases(lines: list[bytes], eol: bytes, body: bool) -> None:
    raw = eol.join(lines) + (eol + eol + b"body" + eol if body else b"")
    same_as_stdlib(raw)
    same_as_stdlib(b"Content-Type: multipart/mixed; boundary=b" + eol + eol + b"--b" + eol + raw + eol + b"--b--" + eol)


def test_a_huge_line_that_is_no_header_is_looked_at_once() -> None:
    """The header splitter tries each line once: trying every position of a line would take
    hours for this one."""
    with pytest.raises(Unsupported):
        split_message(b"x" * 2_000_000 + b"\r\n\r\nbody\r\n")
    assert same_as_stdlib(b"X-Long: " + b"y" * 2_000_000 + b"\r\n\r\nbody\r\n")


@PROPERTY
@given(
    st.lists(
        st.sampled_from(
            [
                b"--b",
                b"--b--",
                b"--b  ",
                b"--b--\t",
                b"--bb",
                b"-- b",
                b"",
                b"x",
                b"\tx",
                b"Content-Type: text/plain",
                b"Content-Type: multipart/mixed; boundary=c",
                b'Content-Type: multipart/alternative; boundary="b"',
                b"--c",
                b"--c--",
                b" folded",
                b"X-A: 1",
                b"no header",
                b"\r",
                b"From me",
                b":x",
            ]
        ),
        max_size=16,
    ),
    st.lists(st.sampled_from([b"\r\n", b"\n"]), min_size=1, max_size=3),
)
def test_boundary_edge_cases(lines: list[bytes], eols: list[bytes]) -> None:
    head = b"Content-Type: multipart/mixed; boundary=b" + eols[0] + eols[0]
    body = b"".join(line + eols[n % len(eols)] for n, line in enumerate(lines))
    same_as_stdlib(head + body)
    same_as_stdlib(head + body.rstrip(b"\r\n"))


@PROPERTY
@given(
    st.binary(max_size=64).map(lambda b: b.replace(b"\x00", b"\r")),
    st.sampled_from([b"\r\n", b"\n--b", b"ab"]),
    st.integers(1, 9),
    st.data(),
)
def test_stepped_scans_match_whole_scans(data: bytes, sub: bytes, step: int, draw: Any) -> None:
    """Scanning a huge message in steps finds what one scan finds, across every step boundary."""
    start = draw.draw(st.integers(0, len(data)))
    end = draw.draw(st.integers(start, len(data)))
    assert find(data, sub, start, end, step) == data.find(sub, start, end)
    assert has_lone_cr(data, step) == (data.count(b"\r") != data.count(b"\r\n"))


# --- a message that is one text part: read straight from its bytes ----------------------------


def _general(raw: bytes) -> ParsedMessage:
    """parse_message without its shortcut for a single text part."""
    shortcut = parse._single_text_part
    parse._single_text_part = lambda raw: None
    try:
        return parse.parse_message(raw)
    finally:
        parse._single_text_part = shortcut


def same_single_part(raw: bytes) -> bool:
    """True when the shortcut took the message (and gave what the general path gives)."""
    if parse._single_text_part(raw) is None:
        return False
    assert parse.parse_message(raw) == _general(raw)
    return True


SINGLE_TYPES = [
    None,
    "text/plain",
    "text/plain; charset=utf-8",
    'TEXT/HTML; charset="ISO-8859-1"',
    "text/html; charset=unknown-8bit",
    "text/plain; format=flowed; delsp=yes",
    "text",
    "text/",
    "multipart/alternative",
    "Message/rfc822",
    "image/png",
    " text/plain ; name=notes.txt",
    "text/plain; charset*=utf-8''%E2%82%AC",
    "text/calendar; method=REQUEST",
]
SINGLE_ENCODINGS = [
    None,
    "7bit",
    "8bit",
    "BINARY",
    "quoted-printable",
    "Quoted-Printable",
    "base64",
    "base64 ",
    "x-uuencode",
    "x-custom",
]
SINGLE_DISPOSITIONS = [None, "inline", "attachment", "inline; filename=a.txt", "attachment; filename*=utf-8''b.txt"]


@st.composite
def single_part(draw: st.DrawFn) -> bytes:
    headers = [
        b"From: Ada <ada@example.com>",
        b'To: b@example.com, "C, D" <c@example.com>',
        b"Subject: " + draw(st.sampled_from([b"plain", b"=?utf-8?q?caf=C3=A9?=", b"caf\xc3\xa9", b"a\r\n b"])),
    ]
    for name, choices in (
        ("Content-Type", SINGLE_TYPES),
        ("Content-Transfer-Encoding", SINGLE_ENCODINGS),
        ("Content-Disposition", SINGLE_DISPOSITIONS),
    ):
        value = draw(st.sampled_from(choices))
        if value is not None:
            headers.insert(draw(st.integers(0, len(headers))), f"{name}: {value}".encode())
    body = draw(
        st.binary(max_size=200)
        | st.sampled_from(
            [b"caf=C3=A9 =\r\nsoft break", b"<p>h\xc3\xa9</p>\r\n", b"line\r\n.dot\r\n", b"\xe9t\xe9 8-bit\n"]
        )
    )
    newline = draw(st.sampled_from([b"\r\n", b"\n"]))
    return newline.join(headers) + newline + newline + body.replace(b"\r\n", newline)


def test_single_text_parts_take_the_shortcut() -> None:
    assert same_single_part(b"Subject: plain\r\n\r\nhello\r\n")
    assert same_single_part(b"Subject: no body\r\n")
    assert same_single_part(
        b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"
        b"\r\n\r\n<p>caf=C3=A9</p>\r\n"
    )
    assert same_single_part(
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncaf\xc3\xa9\r\n"
    )
    assert not same_single_part(b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGk=\r\n")
    assert not same_single_part(b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\nhi\r\n--x--\r\n")
    assert not same_single_part(b"Content-Disposition: attachment\r\n\r\nhi\r\n")
    shortcut = [path.name for path in CORPUS if same_single_part(path.read_bytes())]
    assert "plain.eml" in shortcut and "html_only.eml" in shortcut


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_files_read_as_one_part_or_not(path: Path) -> None:
    raw = path.read_bytes()
    same_single_part(raw)
    same_single_part(raw.replace(b"\r\n", b"\n"))


@PROPERTY
@given(single_part())
def test_generated_single_parts(raw: bytes) -> None:
    same_single_part(raw)


@PROPERTY
@given(mutated_corpus())
def test_mutated_corpus_read_as_one_part_or_not(raw: bytes) -> None:
    same_single_part(raw)
