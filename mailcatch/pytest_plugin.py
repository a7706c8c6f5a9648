"""pytest plugin (registered through the pytest11 entry point): the `mailcatch` and `mailcatch_server` fixtures.

By default a catcher runs in a background thread on free loopback ports, started the first time a test asks
for it and once per session (so once per pytest-xdist worker). `--mailcatch-url` (or MAILCATCH_URL) uses a
catcher that is already running instead, such as a CI service container: each test then sees only the mail
sent during it, and nothing is deleted unless `--mailcatch-clear` says so. In a test that uses the `mailcatch`
fixture, a configured Django app sends its mail to the catcher (mailcatch.frameworks). Nothing is imported or
started until a test uses a fixture, so having the plugin installed costs nothing.
"""

from __future__ import annotations

import os
import sys
import urllib.parse
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mailcatch.client.http import Mailbox

_EXTERNAL = pytest.StashKey["tuple[str, str, int] | None"]()
_CLEAR_EXTERNAL = pytest.StashKey[bool]()
DEFAULT_SMTP_PORT = 1025


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the --mailcatch-url and --mailcatch-smtp options."""
    group = parser.getgroup("mailcatch", "mailcatch (captured mail)")
    group.addoption(
        "--mailcatch-url",
        metavar="URL",
        default=None,
        help="use the catcher already running at URL (its web UI and API) instead of starting one [MAILCATCH_URL]",
    )
    group.addoption(
        "--mailcatch-smtp",
        metavar="HOST:PORT",
        default=None,
        help="that catcher's SMTP address, used with --mailcatch-url (default: the URL's host, "
        f"port {DEFAULT_SMTP_PORT}) [MAILCATCH_SMTP]",
    )
    group.addoption(
        "--mailcatch-clear",
        action="store_true",
        default=None,
        help="with --mailcatch-url: empty that catcher's mailbox before each test, erasing the mail already in "
        "it (by default each test sees only the mail that arrives during it, and nothing is deleted) "
        "[MAILCATCH_CLEAR=1]",
    )


def _external(config: pytest.Config) -> tuple[str, str, int] | None:
    url = config.getoption("mailcatch_url") or os.environ.get("MAILCATCH_URL")
    smtp = config.getoption("mailcatch_smtp")
    if not url:
        if smtp:
            raise pytest.UsageError("--mailcatch-smtp needs --mailcatch-url: the catcher's web UI and API")
        return None
    smtp = smtp or os.environ.get("MAILCATCH_SMTP")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise pytest.UsageError(f"--mailcatch-url: {url!r} is not an http:// or https:// URL")
    if not smtp:
        return url, parts.hostname, DEFAULT_SMTP_PORT
    from mailcatch.config import HostPort
    from mailcatch.errors import ConfigError

    try:
        address = HostPort.parse(smtp, default_host=parts.hostname)
    except ConfigError as error:
        raise pytest.UsageError(f"--mailcatch-smtp: {error}") from None
    return url, address.host, address.port


def pytest_configure(config: pytest.Config) -> None:
    """Read the external catcher's address, if any; refuse to share its one mailbox between xdist workers."""
    external = _external(config)
    workers = config.getoption("numprocesses", None)
    if external and isinstance(workers, int) and workers > 1:
        raise pytest.UsageError(
            f"--mailcatch-url (or MAILCATCH_URL): the {workers} xdist workers would share one mailbox and "
            "empty it under each other's tests; run the mail tests without -n, or drop --mailcatch-url so each "
            "worker starts its own catcher"
        )
    config.stash[_EXTERNAL] = external
    clear = config.getoption("mailcatch_clear") or os.environ.get("MAILCATCH_CLEAR", "").lower() in ("1", "true", "yes")
    if clear and external is None:
        raise pytest.UsageError("--mailcatch-clear (or MAILCATCH_CLEAR) needs --mailcatch-url: the catcher to empty")
    config.stash[_CLEAR_EXTERNAL] = bool(clear)


def pytest_report_header(config: pytest.Config) -> str | list[str]:
    """Say which catcher the mail tests use."""
    external = config.stash.get(_EXTERNAL, None)
    if external is None:
        return "mailcatch: a catcher on free ports in this process (started when first used)"
    url, host, port = external
    if config.stash.get(_CLEAR_EXTERNAL, False):
        scope = "its mailbox emptied before each test (--mailcatch-clear): the mail already in it is deleted"
    else:
        scope = "each test sees only the mail that arrives during it (nothing is deleted)"
    return [f"mailcatch: the catcher at {url}, SMTP {host}:{port}", f"mailcatch: {scope}"]


def pytest_assertrepr_compare(op: str, left: object, right: object) -> list[str] | None:
    """A failing `assert message.lint() == []` lists every finding, one a line (pytest alone shows the first)."""
    if "mailcatch.client.captured" not in sys.modules:  # no message was read: nothing to explain
        return None
    from mailcatch.client.captured import findings_report

    return findings_report(op, left, right)


@pytest.fixture(scope="session")
def mailcatch_server(pytestconfig: pytest.Config) -> Iterator[Mailbox]:
    """The session's catcher (one per xdist worker): `smtp_host`, `smtp_port` and `url` to configure the app once.

    Its mailbox is shared by every test of the session; use the `mailcatch` fixture to start each test empty.
    """
    external = pytestconfig.stash.get(_EXTERNAL, None)
    if external is not None:
        from mailcatch.client.http import Mailbox

        yield Mailbox(*external)
        return
    from mailcatch.client.http import Mailbox
    from mailcatch.config import HostPort, Settings
    from mailcatch.server import ServerThread

    loopback = HostPort("127.0.0.1", 0)
    # A test catcher: fault injection is on, so that tests can use fail_next(); no rule exists until they do.
    settings = Settings(smtp=loopback, listen=loopback, quiet=True, enable_chaos=True)
    with ServerThread(settings) as thread:
        yield Mailbox(thread.url, thread.smtp_host, thread.smtp_port)


@pytest.fixture
def mailcatch(mailcatch_server: Mailbox, request: pytest.FixtureRequest) -> Iterator[Mailbox]:
    """The session's catcher with its mailbox emptied (and the fault rules an earlier test set through
    fail_next() removed) before the test: wait_for(), messages(), latest(), fail_next(), ...

    With --mailcatch-url (a catcher others may be reading), nothing is deleted unless --mailcatch-clear
    says so: the test sees only the mail that arrives during it. A configured Django app sends its mail
    to the catcher for the test (mailcatch.frameworks).
    """
    from mailcatch.frameworks import wire_django

    external = request.config.stash.get(_EXTERNAL, None)
    mailcatch_server.reset_faults()
    if external is None or request.config.stash.get(_CLEAR_EXTERNAL, False):
        mailcatch_server.clear()
        box = mailcatch_server
    else:
        box = mailcatch_server.since_now()
    wire_django(request, box)
    yield box
    if box is not mailcatch_server:
        box.reset_faults()  # the rules this test set through its view
