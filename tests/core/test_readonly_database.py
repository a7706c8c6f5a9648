"""A file-mode catcher whose database turns read-only under it: 451 4.3.0 and a clear log line, nothing acked lost;
and one started on a read-only file system, file or folder: exit 3 saying which is read-only.

A bind mount can't be remounted read-only while the catcher holds the database open for writing
(the kernel answers EBUSY), so the database lives on a small ext4 file system on a loop device,
mounted with `errors=remount-ro`; writing to its `trigger_fs_error` makes ext4 switch itself to
read-only, as it does after a real disk error. Needs root (CI runs as root).
"""

from __future__ import annotations

import errno
import os
import signal
import smtplib
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.test_cli import Process

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a file system needs root (CI runs as root)")


@pytest.fixture
def ext4(tmp_path: Path) -> Iterator[Path]:
    """A fresh 64 MB ext4 file system mounted (loop, errors=remount-ro) on a directory; unmounted at the end."""
    image, mount = tmp_path / "disk.img", tmp_path / "mnt"
    mount.mkdir()
    with image.open("wb") as file:
        file.truncate(64 * 1024 * 1024)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True)
    subprocess.run(["mount", "-o", "loop,errors=remount-ro", str(image), str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)  # also frees the loop device it set up


def remount_read_only(mount: Path) -> None:
    """Make ext4 switch the file system to read-only, as after a disk error."""
    device = subprocess.run(
        ["findmnt", "-n", "-o", "SOURCE", str(mount)], check=True, capture_output=True, text=True
    ).stdout.strip()
    os.sync()  # what was acknowledged so far is on the disk before ext4 stops writing
    Path("/sys/fs/ext4", Path(device).name, "trigger_fs_error").write_text("mailcatch read-only test\n")
    with pytest.raises(OSError) as refused:
        (mount / "probe").touch()
    assert refused.value.errno == errno.EROFS


def deliver(port: int, subject: str) -> tuple[int, str]:
    """Send one message; the server's final reply to it (code, text), the queue ID for a 250."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("app.test")
        client.mail("app@example.com")
        client.rcpt("user@example.com")
        code, text = client.data(f"From: app@example.com\r\nSubject: {subject}\r\n\r\nbody of {subject}\r\n".encode())
        return code, text.decode()


def test_read_only_database_gives_451_and_loses_nothing(ext4: Path) -> None:
    """Before: 250 and stored; after: 451 4.3.0 with a log line naming the cause; reads still work."""
    database = ext4 / "mail.db"
    process = Process("--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--database", str(database)).started()
    try:
        acknowledged: dict[str, str] = {}
        for number in range(3):
            code, text = deliver(process.smtp_port, f"before {number}")
            assert code == 250, text
            acknowledged[text.rsplit(" ", 1)[1]] = f"before {number}"

        remount_read_only(ext4)
        for number in range(5):
            code, text = deliver(process.smtp_port, f"after {number}")
            assert code == 451, (code, text)  # temporary: the client keeps it and retries
            assert text.startswith("4.3.0"), text
            assert code < 500
        log_line = process.wait_for_line(r"not stored, answered 451").string
        assert "read-only" in log_line, log_line

        with httpx.Client(verify=False, base_url=process.url, timeout=10) as api:
            listing = api.get("/api/v1/messages").json()
            assert {m["ID"]: m["Subject"] for m in listing["messages"]} == acknowledged
            for message_id, subject in acknowledged.items():
                raw = api.get(f"/api/v1/message/{message_id}/raw")
                assert raw.status_code == 200 and f"body of {subject}" in raw.text
            assert api.get("/readyz").status_code == 200
            first = next(iter(acknowledged))
            assert api.get(f"/api/v1/message/{first}").status_code == 200  # can't mark it read, shows it anyway
            for method, body in (("PUT", {"IDs": [first], "Read": True}), ("DELETE", {"IDs": [first]})):
                refused = api.request(method, "/api/v1/messages", json=body)
                assert refused.status_code == 503 and "could not be saved" in refused.json()["Error"]
    finally:
        process.kill()


def _start_refused(database: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mailcatch", "--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0"]
    return subprocess.run([*command, "--database", str(database)], capture_output=True, text=True, timeout=20)


def _make_database(database: Path) -> None:
    """A database with a message in it, left by a catcher stopped cleanly."""
    process = Process("--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--database", str(database)).started()
    try:
        assert deliver(process.smtp_port, "kept")[0] == 250
        process.proc.send_signal(signal.SIGTERM)
        assert process.finish()[0] == 0
    finally:
        process.kill()


def _assert_says_read_only(result: subprocess.CompletedProcess[str], what: str) -> None:
    assert result.returncode == 3, result.stderr
    assert what in result.stderr, result.stderr
    assert "make it writable, or use another --database file" in result.stderr
    assert "not a usable SQLite database" not in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def immutable() -> Iterator[Callable[[Path], None]]:
    """`chattr +i` a path (not even root may write it), undone at the end."""
    made: list[Path] = []

    def make(path: Path) -> None:
        subprocess.run(["chattr", "+i", str(path)], check=True)
        made.append(path)

    yield make
    for path in made:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_a_read_only_file_system_is_named_at_start(ext4: Path) -> None:
    database = ext4 / "mail.db"
    _make_database(database)
    subprocess.run(["mount", "-o", "remount,ro", str(ext4)], check=True)
    _assert_says_read_only(_start_refused(database), f"the file system holding {database} is mounted read-only")


def test_a_read_only_database_file_is_named_at_start(ext4: Path, immutable: Callable[[Path], None]) -> None:
    database = ext4 / "mail.db"
    _make_database(database)
    immutable(database)
    _assert_says_read_only(_start_refused(database), f"the database file {database} is read-only")


def test_a_read_only_folder_is_named_at_start(ext4: Path, immutable: Callable[[Path], None]) -> None:
    folder = ext4 / "mail"
    folder.mkdir()
    _make_database(folder / "mail.db")
    immutable(folder)
    for database in (folder / "mail.db", folder / "new.db"):  # one there already, and one to be made
        _assert_says_read_only(_start_refused(database), f"the folder {folder} is read-only")
