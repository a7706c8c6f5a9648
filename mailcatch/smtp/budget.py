"""The in-flight budget: how many bytes of message data all SMTP sessions may hold in memory at once."""

from __future__ import annotations

__all__ = ["InFlightBudget"]


class InFlightBudget:
    """Bytes of message data held across every SMTP session, kept at most `limit` (0: no limit).

    A session takes bytes as DATA arrives (or at once, for the SIZE= its MAIL FROM declared)
    and gives them back when the message is stored or dropped. Used on the event loop only.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        """Bytes taken and not yet given back."""
        self.peak = 0
        """The most bytes ever taken at once."""
        self.refused = 0
        """How many times `take` said no."""

    def take(self, amount: int) -> bool:
        """Take `amount` bytes if they fit; False (and nothing taken) if they don't."""
        used = self.used + amount
        if self.limit and used > self.limit:
            self.refused += 1
            return False
        self.used = used
        if used > self.peak:
            self.peak = used
        return True

    def give(self, amount: int) -> None:
        """Give back bytes taken."""
        self.used -= amount

    @property
    def megabytes(self) -> str:
        """The limit in MB, as the flag gives it."""
        return f"{self.limit / (1024 * 1024):g}"
