"""A file-mode catcher on a file system that fills up: 451 4.3.0 while it is full, nothing
acknowledged lost, and once space is freed it recovers by itself, without filling the disk
again or repeating the same warning in its log.

The database lives on a small ext4 file system on a loop device (as in test_readonly_database);
a filler file of the test's takes part of it, mail fills the rest, and deleting the filler is
what frees space. Needs root, which CI has: there, not being able to mount fails the test.
"""

from __future__ import annotations

import base64
import collections
import os
import random
import re
import shutil
import smtplib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.test_cli import Process

SIZE_MB = 24
"""The file system's size."""
FILLER_MB = 8
"""What the test's own file takes, and frees later."""
WORD = "fulldiskword"
"""A word of every message: searching for it finds them all."""
PARTIAL_WHILE_FULL = (
    r"the search index could not be updated \(database or disk is full\)(; it is \d+ messages? behind)?"
    r"|the search index is \d+ messages? behind"
)
"""Why a search may be incomplete while the disk is full: the index failed, or has not tried yet."""
MOST_REPEATS = 5
"""Times one log line may appear (a warning repeated forever appears hundreds of times)."""


def _can_mount() -> str | None:
    """Why a loop mount can't be made here (None: it can)."""
    if os.geteuid() != 0:
        return "mounting a file system needs root"
    missing = [tool for tool in ("mkfs.ext4", "mount", "umount") if shutil.which(tool) is None]
    return f"missing {', '.join(missing)}" if missing else None


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A fresh SIZE_MB ext4 file system (no blocks reserved for root) mounted on a directory."""
    reason = _can_mount()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the full-disk test: {reason}")
        pytest.skip(reason)
    image, mount = tmp_path / "disk.img", tmp_path / "mnt"
    mount.mkdir()
    with image.open("wb") as file:
        file.truncate(SIZE_MB * 1024 * 1024)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)], check=True)
    mounted = subprocess.run(["mount", "-o", "loop", str(image), str(mount)], capture_output=True, text=True)
    if mounted.returncode:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the full-disk test: mount failed: {mounted.stderr}")
        pytest.skip(f"mount failed: {mounted.stderr}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)  # also frees the loop device it set up


def free_bytes(path: Path) -> int:
    found = os.statvfs(path)
    return found.f_bavail * found.f_frsize


def message(number: int) -> bytes:
    """A message of about 40 KB, most of it an attachment: its bytes fill the disk, the search index
    (which holds its few words, and its attachment's name) grows little."""
    payload = base64.encodebytes(random.Random(number).randbytes(30 * 1024)).decode().replace("\n", "\r\n")
    return (
        f"From: app@example.com\r\nTo: user@example.com\r\nSubject: mail {number}\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        f"--b\r\nContent-Type: text/plain\r\n\r\n{WORD} unique{number}x\r\n"
        f'--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="f{number}.bin"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{payload}--b--\r\n"
    ).encode()


def deliver(client: smtplib.SMTP, raw: bytes) -> tuple[int, str]:
    """Send one message on an open session; the final reply (code, text)."""
    client.mail("app@example.com")
    client.rcpt("user@example.com")
    code, text = client.data(raw)
    if code != 250:
        client.rset()
    return code, text.decode()


def search(api: httpx.Client, query: str) -> dict[str, object]:
    found = api.get("/api/v1/search", params={"query": query, "limit": 1})
    assert found.status_code == 200, found.text
    page: dict[str, object] = found.json()
    return page


def repeated_lines(log: str) -> dict[str, int]:
    """Lines of the log (their time taken off) that appear more than MOST_REPEATS times."""
    counts = collections.Counter(re.sub(r"^\d\d:\d\d:\d\d ", "", line) for line in log.splitlines() if line)
    return {line: count for line, count in counts.items() if count > MOST_REPEATS}


def test_a_full_disk_gives_451_and_recovery_needs_nothing(small_disk: Path) -> None:
    filler = small_disk / "filler"
    with filler.open("wb") as file:
        file.write(b"\0" * FILLER_MB * 1024 * 1024)
        os.fsync(file.fileno())
    process = Process(
        "--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--database", str(small_disk / "mail.db")
    ).started()
    try:
        acknowledged: dict[str, bytes] = {}
        refused = 0
        with smtplib.SMTP("127.0.0.1", process.smtp_port, timeout=30) as client:
            client.ehlo("app.test")
            number = 0
            while refused < 3:  # until the disk is full, and twice more
                number += 1
                assert number < 2000, "the disk never filled up"
                raw = message(number)
                code, text = deliver(client, raw)
                if code == 250:
                    assert not refused, "a message was stored after one was refused: the disk was not full"
                    acknowledged[text.rsplit(" ", 1)[1]] = raw
                else:
                    assert (code, text[:5]) == (451, "4.3.0"), (code, text)
                    refused += 1
        assert len(acknowledged) > 10
        assert process.proc.poll() is None, "the catcher stopped"

        with httpx.Client(base_url=process.url, timeout=30) as api:
            # While full: every acknowledged message is there, byte for byte.
            for message_id, raw in acknowledged.items():
                got = api.get(f"/api/v1/message/{message_id}/raw")
                assert got.status_code == 200 and got.content == raw, message_id
            # A search finds them all, or says how many it could not look into, and why; searched
            # again for a few seconds of full disk, while the catcher's retries (checkpoints, the
            # search index) would each log a line several times a second.
            full_until = time.monotonic() + 4
            while time.monotonic() < full_until:
                page = search(api, WORD)
                assert page["messages_count"] + page["unindexed"] == len(acknowledged), page  # type: ignore[operator]
                assert bool(page["partial"]) == bool(page["unindexed"] or page["partial_reason"]), page
                if page["partial_reason"]:
                    assert re.fullmatch(PARTIAL_WHILE_FULL, str(page["partial_reason"])), page
                time.sleep(0.25)
            assert process.proc.poll() is None, "the catcher stopped"

            filler.unlink()
            freed = free_bytes(small_disk)
            assert freed > FILLER_MB * 1024 * 1024 * 3 // 4

            # Recovery by itself: new mail is stored again (polled: the catcher may take a moment).
            with smtplib.SMTP("127.0.0.1", process.smtp_port, timeout=30) as client:
                client.ehlo("app.test")
                deadline = time.monotonic() + 60
                while True:
                    number += 1
                    raw = message(number)
                    code, text = deliver(client, raw)
                    if code == 250:
                        acknowledged[text.rsplit(" ", 1)[1]] = raw
                        break
                    assert (code, text[:5]) == (451, "4.3.0"), (code, text)
                    assert time.monotonic() < deadline, "no message was stored after space was freed"
                    time.sleep(0.5)
                for _ in range(5):
                    number += 1
                    raw = message(number)
                    code, text = deliver(client, raw)
                    assert code == 250, text
                    acknowledged[text.rsplit(" ", 1)[1]] = raw

            # Search catches up and says when it has: complete results count every message.
            deadline = time.monotonic() + 60
            while (page := search(api, WORD))["partial"]:
                assert page["partial_reason"], page
                assert time.monotonic() < deadline, f"search stayed partial: {page['partial_reason']}"
                time.sleep(0.5)
            assert page["messages_count"] == len(acknowledged), page
            last = number
            found = search(api, f"unique{last}x")
            assert found["messages_count"] == 1 and not found["partial"], found

            # The freed space stays free: what the catcher writes now is bounded, not its logs refilling the disk.
            time.sleep(5)  # many checkpoint and index retry intervals
            assert free_bytes(small_disk) > freed // 2, (free_bytes(small_disk), freed)
            for message_id, raw in acknowledged.items():
                got = api.get(f"/api/v1/message/{message_id}/raw")
                assert got.status_code == 200 and got.content == raw, message_id
            assert api.get("/readyz").status_code == 200
    finally:
        process.kill()
    _, log = process.finish()
    assert not repeated_lines(log), repeated_lines(log)
