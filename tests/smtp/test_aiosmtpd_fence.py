"""The private names of aiosmtpd's SMTP that CatcherSMTP relies on are still there and still work.

aiosmtpd promises nothing about its private names. A release that renames one, or changes
what it takes, fails here by name instead of deep in some SMTP session. The names are the
ones in protocol.AIOSMTPD_PRIVATE_NAMES; the last test keeps that list, CatcherSMTP's
docstring and protocol.py's code naming the same ones.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import MISSING, SMTP, Envelope, Session

from mailcatch.smtp import protocol
from mailcatch.smtp.protocol import AIOSMTPD_PRIVATE_NAMES, CatcherSMTP
from tests.helpers import run_async

METHODS = {private.name: private.arguments for private in AIOSMTPD_PRIVATE_NAMES if private.arguments is not None}
ATTRIBUTES = [private.name for private in AIOSMTPD_PRIVATE_NAMES if private.arguments is None]


class DataHook:
    """An aiosmtpd handler with a DATA hook only, whose reply shows that it ran."""

    def __init__(self) -> None:
        self.calls: list[tuple[SMTP, Session, Envelope]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.calls.append((server, session, envelope))
        return "250 hooked"


class CatcherHandlerStub:
    """What CatcherSMTP reads of its handler before a connection: no credentials."""

    credentials = None


@dataclass
class Connection:
    """aiosmtpd's own SMTP, serving one client that has read the greeting."""

    server: SMTP
    handler: DataHook
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def command(self, line: bytes) -> bytes:
        """Send a command; the last line of the reply."""
        self.writer.write(line + b"\r\n")
        while True:
            reply = await asyncio.wait_for(self.reader.readline(), 5)
            if reply[3:4] != b"-":
                return reply


@contextlib.asynccontextmanager
async def connected(**options: Any) -> AsyncIterator[Connection]:
    """A plain aiosmtpd SMTP (not ours: the test is of aiosmtpd) on a free port, and a client of it."""
    handler = DataHook()
    made: list[SMTP] = []

    def factory() -> SMTP:
        made.append(SMTP(handler, hostname="fence.test", **options))  # a hostname saves a DNS lookup
        return made[-1]

    listener = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    greeting = await asyncio.wait_for(reader.readline(), 5)  # sent once the connection is made
    assert greeting.startswith(b"220 "), greeting
    try:
        yield Connection(made[0], handler, reader, writer)
    finally:
        writer.close()
        listener.close()
        await listener.wait_closed()


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run an async check on a loop of its own (not asyncio.run: the browser tests keep a loop running)."""
    run_async(asyncio.wait_for(test(), 20))


def test_every_private_method_is_still_on_aiosmtpd_smtp() -> None:
    missing = [name for name in METHODS if not callable(getattr(SMTP, name, None))]
    assert missing == [], f"aiosmtpd's SMTP no longer has {missing}: see CatcherSMTP's docstring"


def test_every_private_attribute_is_still_set_on_a_connected_smtp() -> None:
    async def check() -> None:
        async with connected() as connection:
            missing = [name for name in ATTRIBUTES if not hasattr(connection.server, name)]
            assert missing == [], f"aiosmtpd's SMTP no longer sets {missing}: see CatcherSMTP's docstring"
            assert isinstance(connection.server._reader, asyncio.StreamReader)
            assert isinstance(connection.server._writer, asyncio.StreamWriter)
            assert isinstance(connection.server._timeout_handle, asyncio.TimerHandle)
            assert connection.server._auth_required is False
            # Not aiosmtpd's but asyncio's: _read_data puts pipelined commands back here.
            assert isinstance(connection.server._reader._buffer, bytearray)  # type: ignore[attr-defined]

    run(check)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_a_private_method_takes_the_arguments_we_pass(name: str) -> None:
    signature = inspect.signature(getattr(SMTP, name))
    arguments = [object() for _ in METHODS[name]]
    try:
        signature.bind(object(), *arguments)
    except TypeError as error:
        pytest.fail(f"aiosmtpd's SMTP.{name}{signature} no longer takes {METHODS[name]}: {error}")


@pytest.mark.parametrize("name", sorted(name for name in METHODS if name in vars(CatcherSMTP)))
def test_an_override_takes_what_aiosmtpd_passes(name: str) -> None:
    """aiosmtpd calls these itself; ours must accept whatever its own would."""
    ours = inspect.signature(vars(CatcherSMTP)[name])
    theirs = inspect.signature(getattr(SMTP, name))
    assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == [
        (p.name, p.kind, p.default) for p in theirs.parameters.values()
    ], (name, ours, theirs)


def test_reset_timeout_arms_the_timer_that_closes_the_connection() -> None:
    async def check() -> None:
        async with connected(timeout=300) as connection:
            server = connection.server
            loop = asyncio.get_running_loop()
            server._reset_timeout()
            assert server._timeout_duration == 300
            assert 290 < server._timeout_handle.when() - loop.time() <= 300  # type: ignore[union-attr]
            server._reset_timeout(0.05)  # what CatcherSMTP does when its timer fired early
            # _timeout_cb, when the timer fires, closes the connection.
            assert await asyncio.wait_for(connection.reader.read(), 5) == b""

    run(check)


def test_call_handler_hook_calls_the_hook_with_the_session() -> None:
    async def check() -> None:
        async with connected() as connection:
            server = connection.server
            assert await server._call_handler_hook("DATA") == "250 hooked"
            assert connection.handler.calls == [(server, server.session, server.envelope)]
            assert await server._call_handler_hook("NOSUCHCOMMAND") is MISSING

    run(check)


def test_set_post_data_state_starts_a_new_envelope() -> None:
    async def check() -> None:
        async with connected() as connection:
            server = connection.server
            before = server.envelope
            assert before is not None
            before.rcpt_tos.append("someone@example.com")
            server._set_post_data_state()  # type: ignore[no-untyped-call]
            assert isinstance(server.envelope, Envelope)
            assert server.envelope is not before
            assert server.envelope.rcpt_tos == []

    run(check)


def test_auth_required_set_after_construction_is_enforced() -> None:
    async def check() -> None:
        async with connected() as connection:
            connection.server._auth_required = True  # as CatcherSMTP sets it when there are credentials
            assert (await connection.command(b"EHLO client.test")).startswith(b"250 ")
            assert (await connection.command(b"MAIL FROM:<a@example.com>")).startswith(b"530 ")

    run(check)


@pytest.mark.parametrize(
    "argument",
    [
        "<user@example.com>",
        "<user@example.com> SIZE=1000 BODY=8BITMIME",
        " <first.last+tag@sub.example.org>",
        "<user@example.com>SMTPUTF8",
    ],
)
def test_the_getaddr_fast_path_answers_as_aiosmtpd_would(argument: str) -> None:
    """The same address, and the same parameters as aiosmtpd's MAIL and RCPT read them: its rest
    starts after the space that ours keeps, and aiosmtpd only splits it and tests it is not empty."""

    async def check() -> None:
        catcher = CatcherSMTP(CatcherHandlerStub(), hostname="fence.test")  # type: ignore[arg-type]
        ours, our_rest = catcher._getaddr(argument)
        theirs, their_rest = SMTP._getaddr(catcher, argument)
        assert ours == theirs
        assert our_rest is not None and their_rest is not None
        assert (our_rest.split(), bool(our_rest)) == (their_rest.split(), bool(their_rest))

    run(check)


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _names_used_by_catcher_smtp() -> set[str]:
    """The private names CatcherSMTP defines, or reaches on `self` or `super()`, in protocol.py."""
    tree = ast.parse(Path(protocol.__file__).read_text(encoding="utf-8"))
    [catcher] = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "CatcherSMTP"]
    names: set[str] = set()
    for node in ast.walk(catcher):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _private(node.name):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            on_self = isinstance(node.value, ast.Name) and node.value.id == "self"
            on_super = (
                isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name)
                and node.value.func.id == "super"
            )
            if on_self or on_super:
                names.add(node.attr)
    return names


def test_the_list_the_docstring_and_the_code_name_the_same_private_names() -> None:
    async def aiosmtpd_names() -> set[str]:
        async with connected() as connection:  # some are set only once a client connects
            return {name for name in dir(connection.server) if _private(name)}

    theirs = run_async(asyncio.wait_for(aiosmtpd_names(), 20))
    listed = {private.name for private in AIOSMTPD_PRIVATE_NAMES}
    assert len(listed) == len(AIOSMTPD_PRIVATE_NAMES), "a name is listed twice"
    used = _names_used_by_catcher_smtp()
    # Every private name of aiosmtpd that CatcherSMTP overrides, calls, reads or sets is listed
    # (a name of ours that aiosmtpd also uses would be an override without anyone meaning it)...
    assert used & theirs == listed & theirs, "AIOSMTPD_PRIVATE_NAMES differs from what protocol.py uses"
    # ...every listed name is one protocol.py uses, so the list holds no stale name...
    assert listed <= used, f"listed but not used in protocol.py: {listed - used}"
    # ...and the docstring names each one, so a reader sees them where the class is.
    doc = CatcherSMTP.__doc__ or ""
    unnamed = sorted(name for name in listed if f"`{name}" not in doc)
    assert unnamed == [], f"CatcherSMTP's docstring doesn't name {unnamed}"
