"""What the standards lint reports: findings with a severity, a stable code, the standard and the place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = ["SEVERITIES", "Finding", "Severity", "Where"]

Severity: TypeAlias = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
"""In the order findings are sorted: errors first."""


@dataclass(frozen=True, slots=True)
class Where:
    """Where in the message a finding is: a header and its line in the raw (from 1), and/or a part's PartID."""

    header: str = ""
    line: int = 0
    part_id: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: how bad, its stable code, what is wrong in plain English, the standard it breaks, where."""

    severity: Severity
    code: str
    message: str
    reference: str
    where: Where = Where()

    def sort_key(self) -> tuple[int, int, tuple[int, ...], str]:
        """Severity first, then place: message-wide findings (line 0), then by line, then by part."""
        part = tuple(int(n) for n in self.where.part_id.split(".") if n.isdigit())
        return SEVERITIES.index(self.severity), self.where.line, part, self.code
