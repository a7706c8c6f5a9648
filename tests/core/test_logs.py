"""mailcatch.logs: a repeated warning is said once per interval, with how many were held back."""

from __future__ import annotations

import logging

import pytest

from mailcatch.logs import RepeatFilter, limit_repeats


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def logger() -> logging.Logger:
    made = logging.getLogger(f"mailcatch.test_logs.{id(object())}")
    made.propagate = False
    made.setLevel(logging.DEBUG)
    return made


def said(caplog: pytest.LogCaptureFixture) -> list[str]:
    lines = [record.getMessage() for record in caplog.records]
    caplog.clear()
    return lines


def test_a_repeated_warning_is_held_back_then_said_with_its_count(
    logger: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    logger.addFilter(RepeatFilter(60, clock))
    logger.addHandler(caplog.handler)
    for _ in range(5):
        logger.warning("checkpoint failed: %s", "database or disk is full")
        clock.now += 0.3
    logger.warning("another warning")  # a different text passes
    logger.info("progress")  # below WARNING: never held back
    logger.info("progress")
    assert said(caplog) == ["checkpoint failed: database or disk is full", "another warning", "progress", "progress"]

    clock.now += 60
    logger.warning("checkpoint failed: %s", "database or disk is full")
    logger.warning("checkpoint failed: %s", "database or disk is full")
    assert said(caplog) == ["checkpoint failed: database or disk is full (4 more times in the last 61 s, not shown)"]

    clock.now += 61
    logger.error("checkpoint failed: %s", "database or disk is full")  # another level: its own line
    logger.warning("checkpoint failed: %s", "database or disk is full")
    assert said(caplog) == [
        "checkpoint failed: database or disk is full",
        "checkpoint failed: database or disk is full (1 more time in the last 61 s, not shown)",
    ]


def test_limit_repeats_adds_one_filter(logger: logging.Logger) -> None:
    assert limit_repeats(limit_repeats(logger)) is logger
    assert sum(isinstance(existing, RepeatFilter) for existing in logger.filters) == 1
