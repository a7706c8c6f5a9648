"""The benchmark and soak scripts keep working: each runs briefly (no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _run(script: str, *args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_compare_runs_both_clients_and_checks_storage() -> None:
    output = _run("compare.py", "--quick", "--connections", "2", "--sizes", "2048")
    assert "memory: all" in output and "file: all" in output
    assert "x sink" in output and "LOST" not in output
    rows = [line.split() for line in output.splitlines() if line.startswith(("one-at-a-time ", "pipelined "))]
    assert sorted((row[0], row[1]) for row in rows) == sorted(
        (client, target) for client in ("one-at-a-time", "pipelined") for target in ("sink", "memory", "file")
    )


def test_fill_measures_a_filled_database(tmp_path: Path) -> None:
    output = _run("fill.py", "--messages", "300", "--quick", "--database", str(tmp_path / "fill.db"))
    assert "300 messages in" in output
    for row in (
        "GET /api/v1/messages (first page)",
        "search: plain word",
        "search: from:",
        "GET /api/v1/message/{ID}",
        "start-up to a ready API",
        "resident memory",
    ):
        assert row in output


def test_ws_latency_delivers_every_frame() -> None:
    result = json.loads(_run("ws_latency.py", "--seconds", "1", "--rate", "40", "--clients", "3", "--senders", "2"))
    assert result["messages"] > 0 and result["frames_received"] == result["frames_expected"]


def test_soak_short_version() -> None:
    result = json.loads(_run("soak.py", "--seconds", "4", "--connections", "3", "--max", "100"))
    assert result["errors"] == 0 and result["alive"] is True
    assert result["acknowledged"] > 0 and result["stored"] == min(result["acknowledged"], 100)


@pytest.mark.parametrize("keep", ["0", "300"], ids=["keeping-all", "pruning"])
def test_sustained_short_version_keeps_the_log_and_disk_writes_bounded(keep: str) -> None:
    """The short version of bench/sustained.py: its bounds on the logs and on bytes written hold
    (the throughput windows and shutdown time are the 10-minute run's, not a test's)."""
    result = json.loads(
        _run("sustained.py", "--seconds", "8", "--window", "2", "--connections", "4", "--max", keep).splitlines()[-1]
    )
    assert result["sent"] > 0 and result["errors"] == 0
    assert result["filled_first"]["messages"] == int(keep)  # a pruning run prunes from its first window
    assert result["largest_wal_mb"] <= 64 and result["largest_index_log_mb"] <= 64
    assert result["wal_small_again_seconds"] < 10 and all(size <= 4 for size in result["wal_after_mb"].values())
    assert result["written_per_mail_byte"] <= 8
