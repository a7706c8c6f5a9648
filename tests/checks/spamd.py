"""A real SpamAssassin `spamd` (Debian's spamd package) on a free loopback port, for the spam check's tests.

It runs offline: local tests only (`--local`: no DNS blocklists, Razor or Pyzor), no user
configuration, no Bayes learning, and the rules the spamassassin package ships (no sa-update).
`.ci/run` installs the package; without it the tests fail in CI and are skipped elsewhere.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import stop_process

START_TIMEOUT = 90.0
"""Seconds spamd may take to compile its rules and answer PING (a few on an idle machine)."""


@dataclass(frozen=True)
class Spamd:
    """A running spamd: where it listens."""

    host: str
    port: int

    @property
    def address(self) -> str:
        """The --enable-spamassassin value that points at it."""
        return f"{self.host}:{self.port}"


def spamd_program() -> str:
    """The spamd executable; in CI its absence fails the test (.ci/run installs it), elsewhere it skips."""
    found = shutil.which("spamd") or ("/usr/sbin/spamd" if os.access("/usr/sbin/spamd", os.X_OK) else None)
    if found:
        return found
    problem = "spamd is not installed (Debian: apt-get install spamd)"
    if os.environ.get("CI"):
        pytest.fail(problem)
    pytest.skip(problem)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def ping(host: str, port: int) -> bool:
    """Whether spamd answers PING with PONG."""
    try:
        with socket.create_connection((host, port), timeout=2) as connection:
            connection.sendall(b"PING SPAMC/1.5\r\n\r\n")
            connection.shutdown(socket.SHUT_WR)
            return b"PONG" in connection.recv(100)
    except OSError:
        return False


def _options(port: int, home: Path) -> list[str]:
    options = [
        f"--listen=127.0.0.1:{port}",
        "--allowed-ips=127.0.0.1",
        "--local",  # no network tests: the checks work offline
        "--nouser-config",
        f"--helper-home-dir={home}",
        "--max-children=2",
        "--min-children=1",
        "--syslog=stderr",
        f"--pidfile={home / 'spamd.pid'}",
        "--cf=use_bayes 0",
        "--cf=bayes_auto_learn 0",
    ]
    if os.geteuid() == 0:  # spamd won't keep root: it runs its children as this user
        options.append("--username=nobody")
    return options


@contextmanager
def running_spamd() -> Iterator[Spamd]:
    """Start spamd on a free loopback port, wait until it answers PING, stop it at the end."""
    program = spamd_program()
    with tempfile.TemporaryDirectory(prefix="mailcatch-spamd-") as directory:
        home = Path(directory)
        home.chmod(0o777)  # the children's user writes its state there
        port = free_port()
        log = (home / "spamd.log").open("wb")
        process = subprocess.Popen([program, *_options(port, home)], stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not ping("127.0.0.1", port):
                if process.poll() is not None or time.monotonic() > deadline:
                    said = (home / "spamd.log").read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"spamd did not start (exit {process.poll()}):\n{said}")
                time.sleep(0.1)
            yield Spamd("127.0.0.1", port)
        finally:
            stop_process(process)
            log.close()
