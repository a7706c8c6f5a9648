"""Fault rules as a test sets them through a catcher's API (POST /api/v1/faults), stdlib only."""

from __future__ import annotations

import re
from types import TracebackType
from typing import TYPE_CHECKING, Any

from mailcatch.errors import MailcatchError

if TYPE_CHECKING:
    from mailcatch.client.http import Api

STAGES = ("MAIL", "RCPT", "DATA", "AUTH")
DEFAULT_CODES = {"MAIL": 451, "RCPT": 451, "DATA": 451, "AUTH": 454}
"""The temporary failure a rule answers when the test gives no code, drop or delay."""


def rule_body(
    stage: str,
    code: int | None,
    text: str | None,
    times: int,
    sender: str | re.Pattern[str] | None,
    recipient: str | re.Pattern[str] | None,
    delay: float,
    drop: bool,
) -> dict[str, Any]:
    """The JSON of a new rule; with no code, drop or delay, the stage's temporary failure (451, AUTH 454)."""
    stage = stage.upper()
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {', '.join(STAGES)}, not {stage!r}")
    if code is None and not drop and not delay:
        code = DEFAULT_CODES[stage]
    body: dict[str, Any] = {"Stage": stage, "Times": times, "Drop": drop, "Delay": delay}
    if code is not None:
        body["Code"] = code
    if text:
        body["Text"] = text
    for name, pattern in (("Sender", sender), ("Recipient", recipient)):
        if pattern is not None:
            body[name] = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
    return body


class Fault:
    """A fault rule set on the catcher. `with mailbox.fail_next(...):` removes it at the end of the block;
    `fired`, `remaining` and `firings` read its state from the catcher."""

    def __init__(self, api: Api, data: dict[str, Any]) -> None:
        self._api = api
        self.id: str = data["ID"]
        self.stage: str = data["Stage"]
        self.reply: str | None = data["Reply"]
        """The reply it answers (None when it drops the connection or only waits)."""

    def __repr__(self) -> str:
        return f"<Fault {self.id} at {self.stage}: {self.reply or 'drop or delay'}>"

    def state(self) -> dict[str, Any]:
        """The rule as the catcher has it now (GET /api/v1/faults/{ID})."""
        data: dict[str, Any] = self._api.get_json(f"/api/v1/faults/{self.id}")
        return data

    @property
    def fired(self) -> int:
        """How many times it has fired."""
        return int(self.state()["Fired"])

    @property
    def remaining(self) -> int | None:
        """How many more times it fires (None: every time)."""
        remaining = self.state()["Remaining"]
        return None if remaining is None else int(remaining)

    @property
    def firings(self) -> list[dict[str, Any]]:
        """Its latest firings: Time, Session, Peer, Sender, Recipients, Reply."""
        return list(self.state()["Firings"])

    def remove(self) -> None:
        """Remove the rule from the catcher (nothing happens if it is gone already)."""
        try:
            self._api.request("DELETE", f"/api/v1/faults/{self.id}")
        except MailcatchError as error:  # the client's ApiError
            if " answered 404:" not in str(error):
                raise

    def __enter__(self) -> Fault:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.remove()
