"""What mailcatch logs as a user meets it: the start-up line (also with --quiet), a shutdown line, a port that
can't be opened named with its flag, and no start-up line among a failing pytest run's captured logs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_cli import Process

CLEAN_ENV = {name: value for name, value in os.environ.items() if not name.startswith(("MAILCATCH_", "PYTEST_"))}


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port something else listens on."""
    with socket.create_server(("127.0.0.1", 0)) as holder:
        yield holder.getsockname()[1]


def test_quiet_still_shows_the_start_up_line_and_shutdown_is_logged() -> None:
    process = Process("--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--quiet")
    try:
        process.started()
        process.proc.send_signal(signal.SIGTERM)
        code, log = process.finish()
    finally:
        process.kill()
    assert code == 0, log
    assert "mailcatch: stopping: no new connections; finishing the messages under way" in log
    assert "mailcatch: stopped in " in log and "(the messages held in memory are gone)" in log


def test_shutdown_names_the_database_that_keeps_the_mail(tmp_path: Path) -> None:
    database = tmp_path / "mail.db"
    process = Process("--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--database", str(database))
    try:
        process.started()
        process.proc.send_signal(signal.SIGINT)
        code, log = process.finish()
    finally:
        process.kill()
    assert code == 0, log
    assert f"(messages kept in {database})" in log


@pytest.mark.parametrize(
    ("flag", "other", "what"),
    [("--smtp", "--listen", "SMTP"), ("--listen", "--smtp", "the web UI and API")],
)
def test_a_taken_port_names_the_server_and_the_flag(taken_port: int, flag: str, other: str, what: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mailcatch", flag, f"127.0.0.1:{taken_port}", other, "127.0.0.1:0"],
        capture_output=True,
        text=True,
        timeout=30,
        env=CLEAN_ENV,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"mailcatch: error: can't listen: {what} on 127.0.0.1:{taken_port}: Address already in use "
        f"(another catcher or mail server?); choose another address with {flag} HOST:PORT (port 0 picks a free one)"
    )


def test_a_failing_mail_test_shows_no_start_up_line(tmp_path: Path) -> None:
    (tmp_path / "test_fails.py").write_text(
        "def test_no_mail(mailcatch):\n    mailcatch.wait_for(timeout=0.1)\n", encoding="utf-8"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:django", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=CLEAN_ENV,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "MailTimeout" in result.stdout
    assert "web UI and API on" not in result.stdout + result.stderr
    assert "Captured log" not in result.stdout
