"""A database file damaged in the middle (64 KB of random bytes over a few thousand messages):
refused at start (exit 3) when the start's check finds it; damaged under a running catcher, every
read the API answers is JSON with an "Error" saying what to do, never an unhandled exception."""

from __future__ import annotations

import random
import signal
import smtplib
import subprocess
import sys
from pathlib import Path

import httpx

from tests.cli.test_cli import Process

MESSAGES = 3000
PAGE = 50


def _fill(database: Path) -> None:
    process = Process("--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--database", str(database), "--max", "0")
    try:
        process.started()
        with smtplib.SMTP("127.0.0.1", process.smtp_port, timeout=30) as client:
            for number in range(MESSAGES):
                body = f"Subject: message {number}\r\n\r\n{'some words of a body ' * 20}{number}\r\n"
                client.sendmail("app@example.com", ["user@example.com"], body.encode())
        process.proc.send_signal(signal.SIGTERM)
        code, log = process.finish()
        assert code == 0, log
    finally:
        process.kill()


def _damage_the_middle(database: Path) -> None:
    size = database.stat().st_size
    assert size > 1_000_000, size
    with database.open("r+b") as file:
        file.seek(size // 2)
        file.write(random.Random(15).randbytes(64 * 1024))


def test_a_damaged_database_is_refused_at_start(tmp_path: Path) -> None:
    database = tmp_path / "damaged.db"
    _fill(database)
    _damage_the_middle(database)
    command = [sys.executable, "-m", "mailcatch", "--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0"]
    result = subprocess.run([*command, "--database", str(database)], capture_output=True, text=True, timeout=20)
    assert result.returncode == 3, result.stderr
    assert f"the database file {database} is damaged" in result.stderr, result.stderr
    assert "restore the file from a copy, or start with a new --database file" in result.stderr
    assert result.stderr.count("is damaged") == 1 and "Traceback" not in result.stderr


def test_reads_of_a_database_damaged_while_running_answer_json_errors(tmp_path: Path) -> None:
    database = tmp_path / "damaged.db"
    _fill(database)
    process = Process("--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--database", str(database), "--max", "0")
    try:
        process.started()
        _damage_the_middle(database)  # before any read: what the readers see comes from the file
        statuses = []
        with httpx.Client(base_url=process.url, timeout=30) as api:
            paths = [f"/api/v1/messages?start={start}&limit={PAGE}" for start in range(0, MESSAGES, PAGE)]
            paths += ["/api/v1/search?query=message", "/api/v1/search?query=words", "/api/v2/messages?limit=250"]
            for path in paths:
                response = api.get(path)
                statuses.append(response.status_code)
                assert response.headers["content-type"].startswith("application/json"), (path, response.text)
                if response.status_code != 200:
                    assert response.status_code == 500, (path, response.status_code, response.text)
                    error = response.json()["Error"]
                    # a read may have met the damage in either file
                    assert f"the database file {database} or its search index {database}-search is damaged" in error
                    assert f"delete {database}-search, which is rebuilt" in error, error
                    assert "restore the database file from a copy, or start with a new --database file" in error
        assert 500 in statuses and 200 in statuses  # the damage is found, and what it spares is still read
        process.proc.send_signal(signal.SIGTERM)
        code, log = process.finish()
        assert code == 0, log
        assert "Traceback" not in log and "Exception" not in log, log
        assert log.count("is damaged") == 1, log  # said once, not once a request
    finally:
        process.kill()


def test_a_damaged_search_index_is_rebuilt_at_start(tmp_path: Path) -> None:
    """The search index holds nothing but what the messages give: found damaged at start, it is
    removed and rebuilt, and searches find every message again."""
    database = tmp_path / "mail.db"
    _fill(database)
    index = tmp_path / "mail.db-search"
    with index.open("r+b") as file:  # every page but the header's
        file.seek(8192)
        file.write(random.Random(21).randbytes(index.stat().st_size - 8192))
    process = Process("--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--database", str(database), "--max", "0")
    try:
        process.started()
        with httpx.Client(base_url=process.url, timeout=30) as api:
            found = api.get("/api/v1/search", params={"query": "words"}).json()
            assert found["messages_count"] == MESSAGES and not found.get("partial"), found
            assert api.get("/api/v1/search", params={"query": "message 1234"}).json()["messages_count"] == 1
        process.proc.send_signal(signal.SIGTERM)
        code, log = process.finish()
        assert code == 0, log
        assert f"the search index {index} is damaged" in log and "rebuilding it from the messages" in log, log
        assert "Traceback" not in log and "the database file" not in log, log
    finally:
        process.kill()
