"""swaks, a second real SMTP client, talks to mailcatch: AUTH, pipelining, attachments."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx

from tests.helpers import wait_for_count


def _swaks(*args: str) -> subprocess.CompletedProcess[str]:
    swaks = shutil.which("swaks")
    assert swaks, "swaks is missing: `bash .ci/run` installs it (apt-get install swaks)"
    return subprocess.run([swaks, *args], capture_output=True, text=True, timeout=60)


def test_swaks_sends_with_auth_pipelining_and_an_attachment(catcher, api: httpx.Client, tmp_path: Path) -> None:
    report = tmp_path / "report.csv"
    report.write_text("id,total\n1,2\n")
    result = _swaks(
        "--server",
        f"{catcher.smtp_host}:{catcher.smtp_port}",
        "--from",
        "app@example.com",
        "--to",
        "one@example.com,two@example.com",
        "--header",
        "Subject: from swaks",
        "--body",
        "Hello from swaks",
        "--auth",
        "LOGIN",
        "--auth-user",
        "swaks-user",
        "--auth-password",
        "pw",
        "--pipeline",
        "--attach",
        f"@{report}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "250 2.0.0 Ok: queued as" in result.stdout
    summary = wait_for_count(api, 1)["messages"][0]
    assert summary["Subject"] == "from swaks" and summary["Username"] == "swaks-user"
    message = api.get(f"/api/v1/message/{summary['ID']}").json()
    assert message["Envelope"]["To"] == ["one@example.com", "two@example.com"]
    assert "Hello from swaks" in message["Text"]
    assert [a["FileName"] for a in message["Attachments"]] == ["report.csv"]
