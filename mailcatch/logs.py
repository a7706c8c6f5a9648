"""Log lines that would repeat: said once, then at most once per interval, with how many were held back.

A failure that lasts (a full disk, a file system turned read-only) makes the code that meets it
log the same warning each time it retries, several times a second; the log then fills the disk
that is already full, and hides every other line. `Repeats.warning(...)` says a line the first
time, then holds back the same text until REPEAT_SECONDS have passed, and says it again with the
number of times it was held back.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

__all__ = ["REPEAT_SECONDS", "Repeats"]

REPEAT_SECONDS = 60.0
"""The same line is said at most once in this many seconds."""
REMEMBERED = 256
"""Distinct lines remembered; the one said longest ago is forgotten first."""


class Repeats:
    """A logger whose identical lines are said at most once per `interval` seconds (thread-safe)."""

    def __init__(self, logger: logging.Logger, interval: float = REPEAT_SECONDS) -> None:
        self.logger = logger
        self.interval = interval
        self._lock = threading.Lock()
        self._said: dict[tuple[int, str], list[float]] = {}
        """(level, text) -> [when last said, times held back since]."""

    def warning(self, message: str, *args: Any) -> bool:
        """Log a warning unless the same one was said less than `interval` seconds ago; True if said."""
        return self.log(logging.WARNING, message, *args)

    def error(self, message: str, *args: Any) -> bool:
        """Log an error unless the same one was said less than `interval` seconds ago; True if said."""
        return self.log(logging.ERROR, message, *args)

    def log(self, level: int, message: str, *args: Any) -> bool:
        if not self.logger.isEnabledFor(level):
            return False
        text = message % args if args else message
        now = time.monotonic()
        with self._lock:
            seen = self._said.get((level, text))
            if seen is not None and now - seen[0] < self.interval:
                seen[1] += 1
                return False
            held, since = (0, 0.0) if seen is None else (int(seen[1]), now - seen[0])
            self._said.pop((level, text), None)
            self._said[(level, text)] = [now, 0]
            while len(self._said) > REMEMBERED:
                del self._said[next(iter(self._said))]
        if held:
            self.logger.log(level, "%s (%d more times in the last %d s, not shown)", text, held, round(since))
        else:
            self.logger.log(level, "%s", text)
        return True
