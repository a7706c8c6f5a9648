"""The `mailcatch` command."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
import time
from collections.abc import Callable, Sequence

from mailcatch.config import from_args
from mailcatch.errors import ConfigError, StoreError
from mailcatch.server import Server

EXIT_CONFIG = 2
EXIT_STORE = 3
GC_THRESHOLD = 50_000


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
    # What a line doesn't show isn't gathered (the logging HOWTO's "Optimization" section).
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False


def _fail(message: str, code: int) -> int:
    print(f"mailcatch: error: {message}", file=sys.stderr)
    return code


async def _serve(server: Server) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, server.request_stop)
    await server.run()


def main(argv: Sequence[str] | None = None) -> int:
    """Run a catcher until SIGINT or SIGTERM; returns the exit code."""
    try:
        settings = from_args(argv)
    except ConfigError as error:
        return _fail(str(error), EXIT_CONFIG)
    _setup_logging(settings.quiet)
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
