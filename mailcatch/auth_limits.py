"""Failed logins, counted per peer address: slowed down, then refused for a while.

The SMTP side and the web side each keep one `FailedLogins`. Every failed login from an address
is counted for WINDOW_SECONDS. The first FREE_FAILURES are answered at once; each one after waits
longer (DELAY_START, doubling, at most MAX_DELAY) before its answer. PEER_FAILURES failures
within the window block the address for BLOCK_SECONDS: every login from it is then refused
without being checked (SMTP `421` and the connection closed, HTTP `429` with `Retry-After`), the
right password included, so that a block can't be used to tell right from wrong. An address
that fails again once its block is over, while its earlier failures are still in the window, is
blocked again at once. On top of this the SMTP side closes a connection at its
CONNECTION_FAILURES-th failed login.

Everything runs on the event loop; nothing here locks.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable
from typing import NamedTuple

__all__ = [
    "BLOCK_SECONDS",
    "CONNECTION_FAILURES",
    "PEER_FAILURES",
    "WINDOW_SECONDS",
    "FailedLogins",
    "Verdict",
]

FREE_FAILURES = 3
"""Failed logins from one address answered without delay."""
DELAY_START = 0.1
"""Seconds the first delayed answer waits; each one after waits twice as long as the one before."""
MAX_DELAY = 1.0
"""The longest an answer to a failed login waits."""
CONNECTION_FAILURES = 5
"""An SMTP connection's failed login number this is answered `421` and the connection closed."""
PEER_FAILURES = 10
"""Failed logins from one address within WINDOW_SECONDS that block it."""
WINDOW_SECONDS = 300.0
"""How long a failed login counts against its address."""
BLOCK_SECONDS = 60.0
"""How long a blocked address stays blocked."""
REMEMBERED_PEERS = 4096
"""Addresses remembered; the one that failed longest ago is forgotten first."""


class Verdict(NamedTuple):
    """What to do about one failed login."""

    delay: float
    """Seconds to wait before answering."""
    blocked: float
    """Seconds the address is now blocked for; 0 when it is not."""


class FailedLogins:
    """Failed logins per peer address, with the blocks they earned."""

    def __init__(
        self,
        *,
        peer_failures: int = PEER_FAILURES,
        window: float = WINDOW_SECONDS,
        block: float = BLOCK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.peer_failures = peer_failures
        self.window = window
        self.block = block
        self._clock = clock
        self._failures: dict[str, collections.deque[float]] = {}
        """address -> when its recent failures happened, oldest first (at most peer_failures)."""
        self._blocked: dict[str, float] = {}
        """address -> until when it is blocked."""

    def blocked_for(self, peer: str) -> float:
        """Seconds `peer` stays blocked; 0 when it may try to log in."""
        until = self._blocked.get(peer)
        if until is None:
            return 0.0
        left = until - self._clock()
        if left > 0:
            return left
        del self._blocked[peer]
        return 0.0

    def failed(self, peer: str) -> Verdict:
        """Count a failed login from `peer`: how long to wait before answering, and whether it is now blocked."""
        now = self._clock()
        times = self._failures.pop(peer, None)
        if times is None:
            times = collections.deque(maxlen=self.peer_failures)
        while times and now - times[0] >= self.window:
            times.popleft()
        times.append(now)
        self._failures[peer] = times  # now the most recent
        while len(self._failures) > REMEMBERED_PEERS:
            forgotten = next(iter(self._failures))
            del self._failures[forgotten]
            self._blocked.pop(forgotten, None)
        count = len(times)
        delay = 0.0 if count <= FREE_FAILURES else min(DELAY_START * 2 ** (count - FREE_FAILURES - 1), MAX_DELAY)
        if count >= self.peer_failures:
            self._blocked[peer] = now + self.block
            return Verdict(delay, self.block)
        return Verdict(delay, 0.0)

    async def refused(self, peer: str, user: str, side: str, log: logging.Logger) -> Verdict:
        """Count a refused login of `side` ("SMTP" or "UI"), log it (and a block it brings), and
        wait the delay it earns before the caller answers; the verdict."""
        verdict = self.failed(peer)
        log.warning("%s login refused for %r from %s", side, user, peer)
        if verdict.blocked:
            log.warning(
                "%s logins from %s refused for %d s: %d failed in %d s",
                side,
                peer,
                verdict.blocked,
                self.peer_failures,
                self.window,
            )
        if verdict.delay:
            await asyncio.sleep(verdict.delay)
        return verdict

    def recent(self, peer: str) -> int:
        """Failed logins from `peer` within the window."""
        now = self._clock()
        return sum(1 for when in self._failures.get(peer, ()) if now - when < self.window)
