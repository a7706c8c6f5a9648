"""Log lines that would repeat: said once, then at most once per interval, with how many were held back.

A failure that lasts (a full disk, a file system turned read-only) makes the code that meets it
log the same warning each time it retries, several times a second; the log then fills the disk
that is already full, and hides every other line. A logger passed to `limit_repeats` says a
warning (or error) the first time, then holds back the same text until REPEAT_SECONDS have
passed, and says it again with the number of times it was held back. Lines below WARNING, and
warnings whose text differs, pass as they are.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

__all__ = ["REPEAT_SECONDS", "RepeatFilter", "limit_repeats"]

REPEAT_SECONDS = 60.0
"""The same warning is said at most once in this many seconds."""
REMEMBERED = 256
"""Distinct lines remembered; the one said longest ago is forgotten first."""


class RepeatFilter(logging.Filter):
    """Holds back a warning or error whose text was said less than `interval` seconds ago (thread-safe)."""

    def __init__(self, interval: float = REPEAT_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._said: dict[tuple[int, str], tuple[float, int]] = {}
        """(level, text) -> (when last said, times held back since)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        text = record.getMessage()
        key = (record.levelno, text)
        now = self._clock()
        with self._lock:
            seen = self._said.pop(key, None)
            if seen is not None and now - seen[0] < self.interval:
                self._said[key] = (seen[0], seen[1] + 1)
                return False
            self._said[key] = (now, 0)
            while len(self._said) > REMEMBERED:
                del self._said[next(iter(self._said))]
        if seen is not None and seen[1]:
            times = "time" if seen[1] == 1 else "times"
            record.msg, record.args = (
                "%s (%d more %s in the last %d s, not shown)",
                (text, seen[1], times, now - seen[0]),
            )
        return True


def limit_repeats(logger: logging.Logger, interval: float = REPEAT_SECONDS) -> logging.Logger:
    """Have `logger` say each distinct warning at most once per `interval` seconds; returns it.

    Only records logged on this logger itself are filtered (not those of its children).
    Calling it again on the same logger changes nothing.
    """
    if not any(isinstance(existing, RepeatFilter) for existing in logger.filters):
        logger.addFilter(RepeatFilter(interval))
    return logger
