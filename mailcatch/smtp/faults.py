"""Fault injection for testing an app's retry paths: Mailpit's chaos (error codes by probability) and
mailcatch's fault rules (deterministic: which stage, which sender or recipient, how many times, what happens).

Both are off unless the catcher runs with --enable-chaos (or --chaos-triggers). The SMTP handler asks
`FaultInjector.decide` at MAIL, RCPT, DATA (once the message data is read) and AUTH; the web side
(web/faults.py) reads and changes the rules and the chaos triggers. Everything here runs on the event loop.
"""

from __future__ import annotations

import itertools
import math
import random
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from mailcatch.errors import ConfigError
from mailcatch.models import SessionInfo, rfc3339

STAGES = ("MAIL", "RCPT", "DATA", "AUTH")
"""Where a rule can fire: the reply to MAIL FROM, to each RCPT TO, to the message data, to AUTH."""
MAX_DELAY = 60.0
"""The longest a rule may hold a reply back, in seconds."""
MAX_RULES = 100
"""Rules kept at once; spent rules make room for new ones."""
MAX_TEXT = 500
MAX_FIRINGS = 20
"""A rule remembers its latest firings, for GET /api/v1/faults."""
RULE_FIELDS = ("Stage", "Sender", "Recipient", "Times", "Code", "Text", "Delay", "Drop")
_PRINTABLE = re.compile(r"[\x20-\x7e]*")


class FaultError(ValueError):
    """A fault rule or chaos setting that can't be used; its text says why (HTTP 400)."""


# Mailpit's chaos ---------------------------------------------------------------


@dataclass
class ChaosTrigger:
    """One of Mailpit's chaos triggers: answer ErrorCode with Probability percent of chance."""

    error_code: int
    probability: int = 0

    def to_json(self) -> dict[str, int]:
        return {"ErrorCode": self.error_code, "Probability": self.probability}


CHAOS_DEFAULTS = {"Sender": 451, "Recipient": 451, "Authentication": 535}
"""Mailpit's triggers and the error code each answers when none is given."""
_CHAOS_STAGES = {"Sender": "MAIL", "Recipient": "RCPT", "Authentication": "AUTH"}
_CHAOS_REPLIES = {"Sender": "Chaos sender error", "Recipient": "Chaos recipient error"}
_CHAOS_REPLIES["Authentication"] = "Chaos authentication error"
_CHAOS_KEYS = {"sender": "Sender", "recipient": "Recipient", "recipients": "Recipient"}
_CHAOS_KEYS.update({"auth": "Authentication", "authentication": "Authentication"})
_CHAOS_FLAG_ITEM = re.compile(r"([A-Za-z]+):(\d{3}):(\d+)")


def _chaos_trigger(error_code: int, probability: int) -> ChaosTrigger:
    """A trigger, checked as Mailpit checks it."""
    if not 400 <= error_code <= 599:
        raise FaultError("error code must be between 400 and 599")
    if not 0 <= probability <= 100:
        raise FaultError("probability must be between 0 and 100")
    return ChaosTrigger(error_code, probability)


def parse_chaos_triggers(text: str) -> dict[str, ChaosTrigger]:
    """Mailpit's --chaos-triggers: comma-separated `key:code:probability` (`Sender:451:10,Recipient:550:5`)."""
    triggers: dict[str, ChaosTrigger] = {}
    for item in text.split(","):
        item = item.strip()
        found = _CHAOS_FLAG_ITEM.fullmatch(item)
        if found is None:
            raise ConfigError(
                f"--chaos-triggers: invalid argument {item!r}: write key:code:probability, as Sender:451:10"
            )
        key = _CHAOS_KEYS.get(found[1].lower())
        if key is None:
            raise ConfigError(f"--chaos-triggers: unknown key {found[1]!r}: Sender, Recipient or Authentication")
        try:
            triggers[key] = _chaos_trigger(int(found[2]), int(found[3]))
        except FaultError as error:
            raise ConfigError(f"--chaos-triggers: {item}: {error}") from None
    return triggers


class Chaos:
    """Mailpit's chaos: at MAIL (Sender), RCPT (Recipient) and AUTH (Authentication), an error code
    answered with a probability from 0 (never) to 100 (always) percent."""

    def __init__(self) -> None:
        self.triggers = {key: ChaosTrigger(code) for key, code in CHAOS_DEFAULTS.items()}

    def to_json(self) -> dict[str, dict[str, int]]:
        """Mailpit's ChaosTriggers: {Sender, Recipient, Authentication}, each {ErrorCode, Probability}."""
        return {key: trigger.to_json() for key, trigger in self.triggers.items()}

    def set_from_json(self, body: Any) -> None:
        """Set every trigger from Mailpit's JSON: one left out is reset (its default code, probability 0)."""
        if not isinstance(body, dict):
            raise FaultError("the body must be a JSON object: {Sender, Recipient, Authentication}")
        triggers = {}
        for key, default in CHAOS_DEFAULTS.items():
            given = body.get(key) or {}
            if not isinstance(given, dict):
                raise FaultError(f"{key} must be an object: {{ErrorCode, Probability}}")
            code, probability = given.get("ErrorCode") or default, given.get("Probability") or 0
            for name, value in (("ErrorCode", code), ("Probability", probability)):
                if not isinstance(value, int) or isinstance(value, bool):
                    raise FaultError(f"{key}.{name} must be a whole number")
            triggers[key] = _chaos_trigger(code, probability)
        self.triggers = triggers

    def reply(self, stage: str) -> str | None:
        """Mailpit's chaos reply for this stage, when its trigger fires this time."""
        for key, trigger in self.triggers.items():
            if _CHAOS_STAGES[key] == stage and random.randrange(100) < trigger.probability:
                return f"{trigger.error_code} {_CHAOS_REPLIES[key]}"
        return None


# mailcatch's fault rules --------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """What a rule (or chaos) does to one command: wait, then answer `reply`, drop the connection, or carry on."""

    delay: float = 0
    reply: str | None = None
    drop: bool = False
    rule: str = ""
    """The rule's ID ("" for chaos)."""


@dataclass
class FaultRule:
    """A deterministic fault: at `stage`, for commands whose sender and recipients match, the next
    `times` times (0: every time), wait `delay` seconds, then answer `code` (and `text`) or drop the connection."""

    id: str
    stage: str
    sender: re.Pattern[str] | None = None
    recipient: re.Pattern[str] | None = None
    times: int = 1
    code: int | None = None
    text: str = ""
    delay: float = 0
    drop: bool = False
    created: float = field(default_factory=time.time)
    fired: int = 0
    firings: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_FIRINGS))

    @property
    def remaining(self) -> int | None:
        """Firings left (None: every time)."""
        return None if self.times == 0 else max(0, self.times - self.fired)

    @property
    def reply(self) -> str | None:
        """The reply it answers (None when it drops the connection or only waits)."""
        if self.code is None:
            return None
        text = self.text or f"{self.code // 100}.0.0 Fault injected by mailcatch (rule {self.id})"
        return f"{self.code} {text}"

    def matches(self, stage: str, sender: str | None, recipients: list[str]) -> bool:
        if self.stage != stage or self.remaining == 0:
            return False
        if self.sender is not None and (sender is None or not self.sender.search(sender)):
            return False
        return self.recipient is None or any(self.recipient.search(address) for address in recipients)

    def to_json(self) -> dict[str, Any]:
        return {
            "ID": self.id,
            "Stage": self.stage,
            "Sender": self.sender.pattern if self.sender else "",
            "Recipient": self.recipient.pattern if self.recipient else "",
            "Times": self.times,
            "Remaining": self.remaining,
            "Code": self.code,
            "Text": self.text,
            "Reply": self.reply,
            "Delay": self.delay,
            "Drop": self.drop,
            "Created": rfc3339(self.created),
            "Fired": self.fired,
            "Firings": list(self.firings),
        }


def _pattern(body: dict[str, Any], name: str) -> re.Pattern[str] | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FaultError(f"{name} must be a regular expression (a string)")
    try:
        return re.compile(value)
    except re.error as error:
        raise FaultError(f"{name}: {value!r} is not a regular expression: {error}") from None


def _whole(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise FaultError(f"{name} must be a whole number")
    return value


def parse_rule(body: Any, rule_id: str) -> FaultRule:
    """A rule from its JSON ({Stage, Sender, Recipient, Times, Code, Text, Delay, Drop}); FaultError says what is wrong."""
    if not isinstance(body, dict):
        raise FaultError("the body must be a JSON object: {Stage, Code, ...}")
    unknown = sorted(set(body) - set(RULE_FIELDS))
    if unknown:
        raise FaultError(f"unknown field {unknown[0]!r}: a rule has {', '.join(RULE_FIELDS)}")
    stage = body.get("Stage")
    if not isinstance(stage, str) or stage.upper() not in STAGES:
        raise FaultError(f"Stage must be one of {', '.join(STAGES)}")
    stage = stage.upper()
    sender, recipient = _pattern(body, "Sender"), _pattern(body, "Recipient")
    if recipient is not None and stage in ("MAIL", "AUTH"):
        raise FaultError(f"Recipient can't be matched at {stage}: no recipient is known yet (use RCPT or DATA)")
    if sender is not None and stage == "AUTH":
        raise FaultError("Sender can't be matched at AUTH: no sender is known yet (use MAIL, RCPT or DATA)")
    times = _whole(body, "Times")
    times = 1 if times is None else times
    if not 0 <= times <= 1_000_000:
        raise FaultError("Times must be 0 (every time) or a number of times up to 1000000")
    code = _whole(body, "Code")
    if code is not None and not 400 <= code <= 599:
        raise FaultError("Code must be between 400 and 599: a fault answers an error")
    text = body.get("Text") or ""
    if not isinstance(text, str) or len(text) > MAX_TEXT or not _PRINTABLE.fullmatch(text):
        raise FaultError(f"Text must be one line of printable ASCII, at most {MAX_TEXT} characters")
    if text and code is None:
        raise FaultError("Text goes with a Code")
    delay = body.get("Delay") or 0
    if not isinstance(delay, (int, float)) or isinstance(delay, bool) or not math.isfinite(delay):
        raise FaultError("Delay must be a number of seconds")
    if not 0 <= delay <= MAX_DELAY:
        raise FaultError(f"Delay must be between 0 and {MAX_DELAY:g} seconds")
    drop = body.get("Drop", False)
    if not isinstance(drop, bool):
        raise FaultError("Drop must be true or false")
    if drop and code is not None:
        raise FaultError("a rule answers a Code or drops the connection (Drop), not both")
    if code is None and not drop and not delay:
        raise FaultError("a rule must do something: give a Code, Drop true, or a Delay")
    return FaultRule(rule_id, stage, sender, recipient, times, code, text.strip(), float(delay), drop)


class FaultInjector:
    """The catcher's fault rules and Mailpit's chaos triggers; `enabled` only with --enable-chaos."""

    def __init__(self, enabled: bool = False, chaos_triggers: dict[str, ChaosTrigger] | None = None) -> None:
        self.enabled = enabled
        self.chaos = Chaos()
        self.chaos.triggers.update(chaos_triggers or {})
        self.rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def add(self, body: Any) -> FaultRule:
        """Add a rule from its JSON; FaultError if it is wrong, or if MAX_RULES are kept and none is spent."""
        rule = parse_rule(body, str(next(self._ids)))
        if len(self.rules) >= MAX_RULES:
            spent = [kept for kept in self.rules if kept.remaining == 0]
            if not spent:
                raise FaultError(f"at most {MAX_RULES} fault rules at once: delete some first")
            self.rules.remove(spent[0])
        self.rules.append(rule)
        return rule

    def get(self, rule_id: str) -> FaultRule | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)

    def remove(self, rule_id: str) -> bool:
        """Remove a rule; False if there is no such rule."""
        rule = self.get(rule_id)
        if rule is None:
            return False
        self.rules.remove(rule)
        return True

    def clear(self) -> None:
        self.rules.clear()

    def decide(
        self, stage: str, session: SessionInfo | None, sender: str | None, recipients: list[str]
    ) -> Fault | None:
        """The fault for this command, if any: the oldest matching rule fires (and counts), else chaos may."""
        if not self.enabled:
            return None
        for rule in self.rules:
            if rule.matches(stage, sender, recipients):
                rule.fired += 1
                rule.firings.append(
                    {
                        "Time": rfc3339(time.time()),
                        "Session": session.id if session else "",
                        "Peer": session.peer if session else "",
                        "Sender": sender,
                        "Recipients": recipients,
                        "Reply": rule.reply or "",
                    }
                )
                return Fault(rule.delay, rule.reply, rule.drop, rule.id)
        reply = self.chaos.reply(stage)
        return Fault(reply=reply) if reply else None
