"""The `mailcatch` command as a user runs it: flags, environment, logs, signals, crashes."""

from __future__ import annotations

import os
import queue
import re
import signal
import smtplib
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import wait_for_count

STARTUP = re.compile(r"SMTP on (?P<smtp>\S+):(?P<smtp_port>\d+), web UI and API on (?P<url>http://\S+) ")


class Process:
    """`python -m mailcatch` in a subprocess, its log lines collected as they come."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("MAILCATCH_")}
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mailcatch", *args],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env=full_env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        self.smtp_port = 0
        self.url = ""

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        with self.proc.stderr:
            for line in self.proc.stderr:
                self.lines.put(line)

    def wait_for_line(self, pattern: str, timeout: float = 15) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            self.log.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        raise AssertionError(f"no line matching {pattern!r}; got: {''.join(self.log)}")

    def started(self) -> Process:
        found = self.wait_for_line(STARTUP.pattern)
        self.smtp_port = int(found["smtp_port"])
        self.url = found["url"]
        return self

    def finish(self, timeout: float = 15) -> tuple[int, str]:
        code = self.proc.wait(timeout)
        self._pump_thread.join(5)
        while not self.lines.empty():
            self.log.append(self.lines.get())
        return code, "".join(self.log)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._pump_thread.join(5)


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:
        process.kill()


def _send(port: int, subject: str = "hello", count: int = 1) -> list[str]:
    replies = []
    with smtplib.SMTP("127.0.0.1", port) as client:
        for number in range(count):
            client.sendmail(
                "app@example.com", ["user@example.com"], f"Subject: {subject} {number}\r\n\r\nx\r\n".encode()
            )
            replies.append(client.noop()[1].decode())
    return replies


def test_help_documents_every_flag() -> None:
    result = subprocess.run([sys.executable, "-m", "mailcatch", "--help"], capture_output=True, text=True, check=True)
    for flag in (
        "--smtp",
        "--listen",
        "--database",
        "--max",
        "--max-message-size",
        "--smtp-auth-file",
        "--smtp-tls-cert",
        "--smtp-tls-key",
        "--ui-auth-file",
    ):
        assert flag in result.stdout
    for env in (
        "MAILCATCH_SMTP",
        "MAILCATCH_LISTEN",
        "MAILCATCH_DATABASE",
        "MAILCATCH_MAX",
        "MAILCATCH_MAX_MESSAGE_SIZE",
        "MAILCATCH_SMTP_AUTH_FILE",
        "MAILCATCH_UI_AUTH_FILE",
    ):
        assert env in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--smtp", "nonsense"], "'nonsense' is not HOST:PORT"),
        (["--listen", "127.0.0.1:99999"], "the port must be between 0 and 65535"),
        (["--max", "-1"], "--max must be 0"),
        (["--max-message-size", "lots"], "--max-message-size: 'lots' is not a number"),
        (["--smtp-tls-cert", "/nonexistent.pem"], "go together"),
        (["--ui-auth-file", "/nonexistent"], "no such file: /nonexistent"),
    ],
)
def test_bad_flags_exit_2_with_a_clear_message(args: list[str], message: str) -> None:
    result = subprocess.run([sys.executable, "-m", "mailcatch", *args], capture_output=True, text=True)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_startup_line_logs_and_clean_shutdown(processes: list[Process]) -> None:
    process = Process("--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0")
    processes.append(process)
    process.started()
    assert process.smtp_port > 0
    _send(process.smtp_port, "greetings")
    line = process.wait_for_line(r"message \S+ from <app@example.com> to <user@example.com>")
    assert "greetings 0" in line.string
    assert httpx.get(process.url + "/livez", verify=False).text == "ok"
    assert httpx.get(process.url + "/readyz", verify=False).status_code == 200
    process.proc.send_signal(signal.SIGTERM)
    code, log = process.finish()
    assert code == 0, log
    assert "Traceback" not in log


def test_environment_variables_configure_it(processes: list[Process], tmp_path: Path) -> None:
    database = tmp_path / "env.db"
    process = Process(
        env={
            "MAILCATCH_SMTP": "127.0.0.1:0",
            "MAILCATCH_LISTEN": "127.0.0.1:0",
            "MAILCATCH_DATABASE": str(database),
            "MAILCATCH_MAX": "2",
            "MAILCATCH_MAX_MESSAGE_SIZE": "1",
        }
    )
    processes.append(process)
    process.started()
    with smtplib.SMTP("127.0.0.1", process.smtp_port) as client:
        client.ehlo()
        assert client.esmtp_features["size"] == "1048576"
    _send(process.smtp_port, count=3)
    with httpx.Client(verify=False, base_url=process.url) as api:
        assert wait_for_count(api, 2)["total"] == 2
    process.proc.send_signal(signal.SIGINT)
    assert process.finish()[0] == 0
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 2


def test_flag_wins_over_environment(processes: list[Process]) -> None:
    process = Process(
        "--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", env={"MAILCATCH_SMTP": "bogus", "MAILCATCH_LISTEN": "bogus"}
    )
    processes.append(process)
    process.started()
    assert process.smtp_port > 0


def test_sigkill_right_after_250_loses_nothing(processes: list[Process], tmp_path: Path) -> None:
    database = tmp_path / "durable.db"
    process = Process("--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--database", str(database))
    processes.append(process)
    process.started()
    acknowledged = []
    with smtplib.SMTP("127.0.0.1", process.smtp_port) as client:
        client.ehlo()
        for number in range(20):
            client.mail("app@example.com")
            client.rcpt("user@example.com")
            code, reply = client.data(f"Subject: durable {number}\r\n\r\nx\r\n".encode())
            assert code == 250
            acknowledged.append(reply.decode().rsplit(" ", 1)[1])
        process.proc.kill()  # at once, with the session still open
    process.proc.wait()
    with sqlite3.connect(database) as conn:
        stored = {row[0] for row in conn.execute("SELECT id FROM messages")}
    assert set(acknowledged) <= stored
    restarted = Process("--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--database", str(database))
    processes.append(restarted)
    restarted.started()
    with httpx.Client(verify=False, base_url=restarted.url) as api:
        for message_id in acknowledged:
            assert api.get(f"/api/v1/message/{message_id}/raw").status_code == 200


def _refused_database(path: Path) -> subprocess.CompletedProcess[str]:
    """Run mailcatch on a database file it should refuse at start."""
    command = [sys.executable, "-m", "mailcatch", "--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0"]
    return subprocess.run([*command, "--database", str(path)], capture_output=True, text=True, timeout=20)


def test_a_foreign_database_is_refused_clearly(tmp_path: Path) -> None:
    foreign = tmp_path / "other.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    result = _refused_database(foreign)
    assert result.returncode == 3
    assert "not of mailcatch" in result.stderr and "Traceback" not in result.stderr
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite at all" * 100)
    result = _refused_database(garbage)
    assert result.returncode == 3
    assert "not a usable SQLite database" in result.stderr and "Traceback" not in result.stderr


def test_a_taken_port_is_reported(processes: list[Process]) -> None:
    first = Process("--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0")
    processes.append(first)
    first.started()
    result = subprocess.run(
        [sys.executable, "-m", "mailcatch", "--smtp", f"127.0.0.1:{first.smtp_port}", "--listen", "127.0.0.1:0"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 2
    assert "can't listen" in result.stderr and "Traceback" not in result.stderr


def test_listening_beyond_loopback_without_ui_auth_warns(processes: list[Process]) -> None:
    process = Process("--smtp", "127.0.0.1:0", "--listen", "0.0.0.0:0")
    processes.append(process)
    line = process.wait_for_line(r"are open beyond this machine and show every captured message")
    assert "--ui-auth-file" in line.string and "-p 127.0.0.1:8025:8025" in line.string
    process.started()


def test_a_second_catcher_on_the_same_database_is_refused(processes: list[Process], tmp_path: Path) -> None:
    """One database file, one catcher: the second exits 3 naming the first; after the first is
    killed (SIGKILL: its lock file stays behind), a new one starts on the same file."""
    database = tmp_path / "shared.db"
    first = Process("--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--database", str(database))
    processes.append(first)
    first.started()
    _send(first.smtp_port, "kept")
    result = _refused_database(database)
    assert result.returncode == 3, result.stderr
    assert f"in use by another mailcatch (process {first.proc.pid})" in result.stderr
    assert "Traceback" not in result.stderr
    first.proc.kill()
    first.proc.wait()
    assert Path(f"{database}-lock").exists()  # stale, and no obstacle
    second = Process("--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--database", str(database))
    processes.append(second)
    second.started()
    with httpx.Client(verify=False, base_url=second.url) as api:
        assert api.get("/api/v1/messages").json()["total"] == 1
    assert _refused_database(database).returncode == 3
    second.proc.send_signal(signal.SIGTERM)
    assert second.finish()[0] == 0
    third = Process("--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--database", str(database))
    processes.append(third)
    third.started()


def test_in_memory_catchers_run_side_by_side(processes: list[Process]) -> None:
    for _ in range(2):
        process = Process("--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0")
        processes.append(process)
        process.started()
