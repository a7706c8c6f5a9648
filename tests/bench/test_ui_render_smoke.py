"""bench/ui_render.py keeps working: a quick run in Debian's chromium gives a sane JSON line (no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_ui_render_measures_the_first_render(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "ui_render.py"), "--quick", "--database", str(tmp_path / "ui.db")],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["messages"] == 200 and report["loads"] == 1
    for figure in ("first_render_ms", "first_render_dom_ms", "load_event_ms"):
        assert len(report[figure]["each"]) == 1 and report[figure]["median"] > 0, figure
    assert report["first_render_dom_ms"]["median"] <= report["first_render_ms"]["median"]
    # The newest message is the first row, the count is shown, and the list stays virtual.
    assert report["first_subject"].endswith("#199")
    assert report["count_text"].startswith("200 messages")
    assert 0 < report["rows_in_dom"] < 100
    assert report["page_errors"] == []
    assert "/api/v1/messages?start=0&limit=100" in report["requests_server_ms"]
    assert "/api/v1/messages?start=0&limit=100" in report["requests_browser"]
    assert report["heap_mb"] > 0 and report["load_average"] >= 0
    assert "first render" in result.stderr
