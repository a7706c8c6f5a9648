"""A PostgreSQL server of the tests' own, which a test may stop and start again.

The shared server at 127.0.0.1:5432 must keep running for the other tests, so a test of what
mailcatch does when PostgreSQL goes away runs its own: a new cluster (initdb) in a temporary
folder, on a free loopback port, with its socket in that folder. As root (CI) its programs run
as the `postgres` user, which owns the folder; otherwise as the user running the tests.
PostgreSQL 15's programs are looked for in /usr/lib/postgresql/15/bin unless
MAILCATCH_TEST_POSTGRES_BIN names another folder; a machine without them fails the test, saying
so: it is never skipped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

BIN = Path(os.environ.get("MAILCATCH_TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
"""The folder of initdb and pg_ctl."""
OWNER = "postgres"
"""The user the server runs as when the tests run as root (PostgreSQL refuses to run as root)."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PrivateServer:
    """A PostgreSQL cluster in `root`, listening on 127.0.0.1:`port` while started."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = _free_port()
        self.running = False

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str, timeout: float = 60) -> None:
        prefix = ["runuser", "-u", OWNER, "--"] if os.geteuid() == 0 else []
        done = subprocess.run(
            [*prefix, *command], capture_output=True, text=True, timeout=timeout, cwd=self.root, check=False
        )
        assert done.returncode == 0, f"{' '.join(command)} failed ({done.returncode}): {done.stdout}{done.stderr}"

    def init(self) -> None:
        if not (BIN / "initdb").exists():
            raise AssertionError(
                f"this test runs a PostgreSQL server of its own and needs PostgreSQL 15's programs in {BIN}"
                " (apt-get install postgresql-15, or MAILCATCH_TEST_POSTGRES_BIN=<folder of initdb and pg_ctl>)"
            )
        self._run(str(BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "-N")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.root / "server.log")
        self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "-t", "60", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` (clients disconnected, a clean shutdown) or `immediate` (as a crash)."""
        self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
        self.running = False

    def new_database(self) -> str:
        """A new, empty database on this server; its URL."""
        name = f"mailcatch_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.admin_url.rsplit("/", 1)[0] + "/" + name


@contextmanager
def private_server() -> Iterator[PrivateServer]:
    """A started PostgreSQL server of the caller's own; stopped and deleted after."""
    root = Path(tempfile.mkdtemp(prefix="mailcatch-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(root, OWNER, OWNER)
    server = PrivateServer(root)
    try:
        server.init()
        server.start()
        yield server
    finally:
        if server.running:
            with contextlib.suppress(Exception):  # the folder goes anyway
                server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
