"""The `mailcatch` command."""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from mailcatch.config import from_args
from mailcatch.errors import ConfigError, StoreError
from mailcatch.server import Server

EXIT_CONFIG = 2
EXIT_STORE = 3
GC_THRESHOLD = 50_000
MMAP_THRESHOLD = 512 * 1024
"""glibc gives blocks this big or bigger mappings of their own (see _own_mappings_for_big_blocks)."""
_M_MMAP_THRESHOLD = -3  # glibc's malloc.h
_M_ARENA_MAX = -8
MALLOC_ARENAS = 2
"""Heaps glibc keeps for the process's threads (by default up to 8 per core, each holding on to
what its threads once used: the writer's, the index's and each reader's)."""


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


class _LogFormatter(logging.Formatter):
    """`HH:MM:SS message`, the time formatted once a second rather than once a line."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(message)s")
        self._second = -1
        self._text = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second = int(record.created)
        if second != self._second:
            self._second, self._text = second, time.strftime("%H:%M:%S", time.localtime(second))
        return self._text


def _setup_logging(quiet: bool) -> None:
    """Log to stderr, cheaply: a line is written per message received."""
    handler = logging.StreamHandler()
    handler.setFormatter(_LogFormatter())
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, handlers=[handler])
    # The start-up line (the real addresses) and the shutdown lines are INFO, so that a test run
    # doesn't show them among a failure's captured logs; the command shows them even with --quiet.
    logging.getLogger("mailcatch.lifecycle").setLevel(logging.INFO)
    # What a line doesn't show isn't gathered (the logging HOWTO's "Optimization" section).
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False


def _own_mappings_for_big_blocks() -> None:
    """Give blocks of MMAP_THRESHOLD or more mappings of their own, returned to the system when freed.

    glibc raises that threshold as it sees big blocks freed, up to 32 MB; past that, the
    bytes of huge messages (and their 1 MB pieces) are carved out of the heap, which keeps
    what it once held: 20 connections sending 40 MB messages left the process at 1.7 GB
    resident with a fifth of it in use. A fixed threshold keeps the heap to small objects
    (bench/memory.py: peak 293 MB instead of 329, and 126 MB once the load is over instead of
    241). Elsewhere than glibc's Linux, nothing is changed.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    mallopt(_M_ARENA_MAX, MALLOC_ARENAS)


def _fail(message: str, code: int) -> int:
    print(f"mailcatch: error: {message}", file=sys.stderr)
    return code


async def _serve(server: Server) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, server.request_stop)
    await server.run()


def main(argv: Sequence[str] | None = None) -> int:
    """Run a catcher until SIGINT or SIGTERM (or `mailcatch sendmail ...`); returns the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    called_sendmail = argv is None and Path(sys.argv[0]).name == "sendmail"  # a link named sendmail
    if called_sendmail or arguments[:1] == ["sendmail"]:
        from mailcatch.sendmail import main as sendmail

        return sendmail(arguments if called_sendmail else arguments[1:])
    try:
        settings = from_args(argv)
    except ConfigError as error:
        return _fail(str(error), EXIT_CONFIG)
    _setup_logging(settings.quiet)
    _own_mappings_for_big_blocks()
    # The event loop shares the interpreter lock with the writer and parser threads. Handing
    # it over every 1 ms instead of 5 keeps replies to small messages prompt while a huge
    # message is parsed (bench/big_message.py: worst reply 43-72 ms instead of 72-97 ms),
    # at no measurable cost in throughput.
    sys.setswitchinterval(0.001)
    try:
        server = Server(settings)
    except StoreError as error:
        return _fail(str(error), EXIT_STORE)
    # Parsing a message leaves hundreds of objects behind. With Python's default threshold
    # (a collection every 700 new objects) the collector ran several times a message and
    # cost about a seventh of the rate of small messages (bench/compare.py, in memory);
    # collecting every 50,000 keeps at most a few MB of garbage waiting. What start-up made
    # lives as long as the process: frozen, it is never scanned again.
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 10, 10)
    loop = _loop_factory()()
    try:
        loop.run_until_complete(_serve(server))
    except StoreError as error:
        return _fail(str(error), EXIT_STORE)
    except ConfigError as error:
        return _fail(str(error), EXIT_CONFIG)
    except OSError as error:
        return _fail(f"can't listen: {error.strerror or error}", EXIT_CONFIG)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    return 0
