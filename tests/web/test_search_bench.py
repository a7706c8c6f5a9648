"""bench/search.py keeps working: a brief run over a small database (no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "search.py"


def test_search_bench_runs_every_query(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--messages", "60", "--repeat", "1", "--database", str(tmp_path / "search.db")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "60 messages" in result.stdout
    assert result.stdout.count(" matches ") >= 25
