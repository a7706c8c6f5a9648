"""`mailcatch --database postgresql://...` that can't start says why and exits 3, naming the URL without its password:
the driver missing (the `postgres` extra), the server unreachable, the login refused, the database missing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from tests.postgres.databases import ADMIN_URL, url_of

_BLOCK_DRIVER = "import sys; sys.modules['psycopg'] = None; sys.modules['psycopg_pool'] = None; "
"""Run first in the child: importing psycopg then fails, as where the extra is not installed."""


def _start(database: str, *, without_driver: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILCATCH_")}
    code = ("" if not without_driver else _BLOCK_DRIVER) + "from mailcatch.cli import main; sys.exit(main())"
    command = [sys.executable, "-c", "import sys; " + code, "--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0"]
    return subprocess.run([*command, "--database", database], capture_output=True, text=True, timeout=60, env=env)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    assert "s3cret" not in result.stderr, "the password was shown"


def test_without_the_extra_it_names_the_extra() -> None:
    result = _start(ADMIN_URL, without_driver=True)
    _refused(result, "PostgreSQL needs psycopg: pip install 'mailcatch[postgres]'")


def test_a_server_that_cant_be_reached() -> None:
    port = _free_port()
    result = _start(f"postgresql://postgres:s3cret@127.0.0.1:{port}/test")
    _refused(result, "can't reach the PostgreSQL server", f"postgresql://postgres@127.0.0.1:{port}/test")


def test_a_login_that_is_refused() -> None:
    result = _start(url_of("test").replace("postgres@", "no_such_user_of_mailcatch:s3cret@"))
    _refused(result, "PostgreSQL refused the login", "no_such_user_of_mailcatch@127.0.0.1")


def test_a_database_that_does_not_exist() -> None:
    result = _start(url_of("no_such_database_of_mailcatch"))
    _refused(result, "does not exist", "no_such_database_of_mailcatch")


def test_the_postgres_scheme_and_the_environment_variable_select_postgresql() -> None:
    """postgres:// is the same as postgresql://, and MAILCATCH_DATABASE is the same as --database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILCATCH_")}
    env["MAILCATCH_DATABASE"] = url_of("no_such_database_of_mailcatch").replace("postgresql://", "postgres://")
    command = [sys.executable, "-m", "mailcatch", "--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    _refused(result, "does not exist", "postgres://postgres@127.0.0.1")
