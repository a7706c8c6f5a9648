"""Mailpit's retention, tagging and SMTP flags, and Mailpit's MP_* environment variables, on real catchers.

--max-age, --tag, --tags-config, --tags-disable, --smtp-allowed-recipients and --ignore-duplicate-ids
are driven over SMTP (smtplib) and checked through the HTTP API and the websocket, on catchers in
this process (ServerThread) and as `python -m mailcatch` processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import smtplib
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from mailcatch.config import HostPort, from_args
from mailcatch.errors import ConfigError
from mailcatch.events import EventBus
from mailcatch.models import ReceivedEnvelope, SessionInfo, SessionLine, Transaction
from mailcatch.server import ServerThread
from mailcatch.storage.store import Store
from tests.helpers import make_settings, wait_for_count
from tests.messages import build, send

STARTED = re.compile(r"SMTP on (\S+), web UI and API on (\S+) ")


@contextmanager
def process(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[HostPort, str]]:
    """`python -m mailcatch` with these flags and environment; yields its SMTP address and URL once it listens."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("MAILCATCH_", "MP_"))}
    full_env.update(env or {})
    proc = subprocess.Popen([sys.executable, "-m", "mailcatch", *args], stderr=subprocess.PIPE, text=True, env=full_env)
    assert proc.stderr is not None
    lines: list[str] = []
    drain = threading.Thread(target=proc.stderr.read, daemon=True)
    try:
        for line in proc.stderr:
            lines.append(line)
            if found := STARTED.search(line):
                break
        else:
            raise AssertionError(f"mailcatch exited with {proc.wait()}: {''.join(lines)}")
        drain.start()
        yield HostPort.parse(found.group(1)), found.group(2)
    finally:
        proc.terminate()
        proc.wait(10)
        if drain.is_alive():
            drain.join()
        proc.stderr.close()


def failed_start(*args: str, env: dict[str, str] | None = None) -> str:
    """Run `python -m mailcatch` expecting it to refuse its configuration; returns what it printed."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("MAILCATCH_", "MP_"))}
    full_env.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "mailcatch", "--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=30,
    )
    assert done.returncode == 2, done.stderr
    return done.stderr


class Target:
    def __init__(self, address: HostPort) -> None:
        self.smtp_host, self.smtp_port = address.host, address.port


def listing(url: str) -> dict[str, Any]:
    result: dict[str, Any] = httpx.get(f"{url}/api/v1/messages", timeout=10).json()
    return result


def wait_until(check: Callable[[], bool], timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


# --max-age ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "hours"), [("36h", 36), ("14d", 336), ("1d", 24), ("0h", 0), (" 2h ", 2)])
def test_max_age_reads_hours_or_days(text: str, hours: int) -> None:
    assert from_args(["--max-age", text], environ={}).max_age_hours == hours


@pytest.mark.parametrize("text", ["7", "1.5h", "2w", "h", "-1h", "3 d"])
def test_max_age_without_a_unit_of_hours_or_days_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="--max-age"):
        from_args([f"--max-age={text}"], environ={})


def _store_old_messages(path: Path, ages: dict[str, float]) -> None:
    """Store messages through the Store's API, each received `age` seconds ago."""
    session = SessionInfo("old-session", "127.0.0.1:40000", time.time() - 10 * 86400, "app.example")

    async def add_all() -> None:
        store = Store(str(path), EventBus())
        store.open()
        try:
            for subject, age in ages.items():
                raw = f"From: a@example.com\r\nTo: b@example.com\r\nSubject: {subject}\r\n\r\nbody\r\n".encode()
                received = time.time() - age
                envelope = ReceivedEnvelope(
                    "a@example.com", [], ["b@example.com"], session.peer, "h", "", False, received
                )
                await store.add(raw, envelope, Transaction(session, 0, 1, [SessionLine(received, "C", "DATA")]))
        finally:
            store.close()

    asyncio.run(add_all())


def test_max_age_deletes_older_messages_when_the_catcher_starts(tmp_path: Path) -> None:
    database = tmp_path / "mail.db"
    _store_old_messages(database, {"three days old": 3 * 86400, "two hours old": 7200, "ten minutes old": 600})
    with process(
        "--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--database", str(database), "--max-age", "1h"
    ) as (
        _,
        url,
    ):
        assert [m["Subject"] for m in listing(url)["messages"]] == ["ten minutes old"]
    with process("--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", env={"MP_DATABASE": str(database)}) as (_, url):
        assert listing(url)["total"] == 1  # without --max-age nothing more goes


def test_max_age_days_from_mailpits_variable(tmp_path: Path) -> None:
    database = tmp_path / "mail.db"
    _store_old_messages(database, {"three days old": 3 * 86400, "two hours old": 7200})
    env = {"MP_MAX_AGE": "2d", "MP_DATABASE": str(database)}
    with process("--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", env=env) as (_, url):
        assert [m["Subject"] for m in listing(url)["messages"]] == ["two hours old"]


def test_max_age_prunes_as_time_passes_and_says_so_on_the_websocket() -> None:
    ahead = [0.0]
    catcher = ServerThread(
        make_settings(max_age_hours=1, prune_interval=0.05), clock=lambda: time.time() + ahead[0]
    ).start()
    try:
        send(catcher, build("fresh"), build("fresh too"))
        with httpx.Client(base_url=catcher.url, timeout=10) as api:
            assert wait_for_count(api, 2)["total"] == 2
            ahead[0] = 3000  # 50 minutes on: still within the hour
            time.sleep(0.3)
            assert api.get("/api/v1/messages").json()["total"] == 2
            with connect(catcher.url.replace("http://", "ws://") + "/api/events", open_timeout=5) as ws:
                ahead[0] = 3700  # past the hour
                frames = []
                while not any(f["Type"] == "prune" for f in frames):
                    frames.append(json.loads(ws.recv(timeout=5)))
            assert api.get("/api/v1/messages").json()["total"] == 0
            send(catcher, build("arrives later"))  # received "now": 61 minutes from the clock's point of view
            assert wait_for_count(api, 1)["total"] == 1
    finally:
        catcher.stop()


# --tag, --tags-config, --tags-disable ------------------------------------------------------------------------------
def test_tag_flag_syntax_as_mailpit_reads_it() -> None:
    settings = from_args(
        ["--tag", 'invoice=subject:invoice "Tag 1,Tag 2"="X-Mailer: App" user2=from:user2@example.com'], environ={}
    )
    assert [(f.match, f.tags) for f in settings.tag_filters()] == [
        ("subject:invoice", ("invoice",)),
        ("x-mailer: app", ("Tag 1", "Tag 2")),
        ("from:user2@example.com", ("user2",)),
    ]


@pytest.mark.parametrize("value", ["invoice", "=subject:x", "invoice="])
def test_a_tag_filter_that_cant_be_read_stops_the_start(value: str) -> None:
    assert "--tag" in failed_start("--tag", value)


def test_tags_from_filters_on_subject_sender_and_raw_headers(start_catcher: Callable[..., ServerThread]) -> None:
    catcher = start_catcher(
        tag='invoice=subject:invoice billing,money=from:billing@example.com "Via App"="X-Mailer: OurApp/2"'
    )
    with connect(catcher.url.replace("http://", "ws://") + "/api/events", open_timeout=5) as ws:
        send(catcher, build("Your Invoice 42", "billing@example.com", X_Mailer="OurApp/2.1"))
        send(catcher, build("Welcome", "hello@example.com"))
        frames = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(f["Type"] == "update" and "Tags" in f["Data"] for f in frames):
            frames.append(json.loads(ws.recv(timeout=5)))
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        welcome, invoice = wait_for_count(api, 2)["messages"]
        assert welcome["Subject"] == "Welcome" and welcome["Tags"] == []  # no filter matches it
        assert sorted(invoice["Tags"]) == ["Via App", "billing", "invoice", "money"]
        assert sorted(api.get("/api/v1/tags").json()) == ["Via App", "billing", "invoice", "money"]
        assert api.get("/api/v1/search", params={"query": "tag:invoice"}).json()["messages_count"] == 1
        assert sorted(api.get(f"/api/v1/message/{invoice['ID']}").json()["Tags"]) == sorted(invoice["Tags"])
    update = next(f for f in frames if f["Type"] == "update" and "Tags" in f["Data"])
    assert update["Data"]["ID"] == invoice["ID"] and sorted(update["Data"]["Tags"]) == sorted(invoice["Tags"])


def test_tags_config_file_and_mailpits_variables(tmp_path: Path) -> None:
    config = tmp_path / "tags.yml"
    config.write_text(
        "filters:\n"
        "  - match: this is a match\n"
        "    tags: Phrase\n"
        "  - match: addressed:ops@example.com\n"
        "    tags: Ops, Alerts\n"
    )
    env = {"MP_TAGS_CONFIG": str(config), "MP_TAG": "report=subject:report"}
    with process("--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", env=env) as (smtp, url):
        send(Target(smtp), build("Daily report", to="ops@example.com", text="and this is a match, too"))
        send(Target(smtp), build("Nothing here", to="dev@example.com"))
        nothing, report = wait_until(lambda: listing(url)["total"] == 2) and listing(url)["messages"]
        assert nothing["Tags"] == []
        assert sorted(report["Tags"]) == ["Alerts", "Ops", "Phrase", "report"]


def test_a_tags_config_that_cant_be_read_stops_the_start(tmp_path: Path) -> None:
    config = tmp_path / "tags.yml"
    config.write_text("tags:\n  - nothing\n")
    assert "filters" in failed_start("--tags-config", str(config))
    assert "no such file" in failed_start("--tags-config", str(tmp_path / "missing.yml"))


@pytest.mark.parametrize(
    ("disable", "expected"),
    [
        (None, ["from-header", "plus"]),
        ("plus-addresses", ["from-header"]),
        ("x-tags", ["plus"]),
        ("X-Tags, plus-addressing", []),
    ],
)
def test_tags_disable(start_catcher: Callable[..., ServerThread], disable: str | None, expected: list[str]) -> None:
    argv = ["--tags-disable", disable] if disable else []
    settings = from_args(argv, environ={})
    catcher = start_catcher(
        tags_from_x_tags=settings.tags_from_x_tags, tags_from_plus_addresses=settings.tags_from_plus_addresses
    )
    send(catcher, build("Tagged", to="ann+plus@example.com", X_Tags="from-header"))
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        [message] = wait_for_count(api, 1)["messages"]
        assert sorted(message["Tags"]) == expected


def test_tags_disable_refuses_what_mailpit_refuses() -> None:
    with pytest.raises(ConfigError, match="plus-addresses or x-tags"):
        from_args(["--tags-disable", "subject"], environ={})
    settings = from_args([], environ={"MP_TAGS_DISABLE": "x-tags"})
    assert (settings.tags_from_x_tags, settings.tags_from_plus_addresses) == (False, True)


# --smtp-allowed-recipients, --ignore-duplicate-ids --------------------------------------------------------------------
def test_allowed_recipients_refuses_the_others_with_mailpits_reply(start_catcher: Callable[..., ServerThread]) -> None:
    catcher = start_catcher(smtp_allowed_recipients=r"@example\.com$")
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, local_hostname="app.local") as client:
        client.ehlo()
        assert client.mail("app@example.com")[0] == 250
        assert client.rcpt("ann@example.com")[0] == 250
        code, text = client.rcpt("bob@example.org")
        assert (code, text) == (550, b"5.1.0 Requested action not taken: mailbox unavailable")
        assert client.rcpt("carol@example.com.evil.test")[0] == 550
        assert client.data(b"Subject: partly\r\n\r\nhello\r\n")[0] == 250
        client.mail("app@example.com")
        assert client.rcpt("nobody@elsewhere.test")[0] == 550
        assert client.docmd("DATA")[0] == 503  # no recipient accepted: no message
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        [message] = wait_for_count(api, 1)["messages"]
        assert message["Subject"] == "partly"
        assert api.get(f"/api/v1/message/{message['ID']}/transcript").json()["Envelope"]["To"] == ["ann@example.com"]
        assert api.get("/api/v1/info").json()["RuntimeStats"]["SMTPRejected"] == 3


def test_a_bad_allowed_recipients_expression_stops_the_start() -> None:
    assert "regular expression" in failed_start("--smtp-allowed-recipients", "(unclosed")


def test_duplicate_message_ids_are_accepted_and_dropped(start_catcher: Callable[..., ServerThread]) -> None:
    catcher = start_catcher(ignore_duplicate_ids=True)
    first = build("First", Message_ID="<same-1@example.com>").as_bytes()
    again = build("Again, same ID", Message_ID="<same-1@example.com>").as_bytes()
    other = build("Another ID", Message_ID="<other-2@example.com>").as_bytes()
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, local_hostname="app.local") as client:
        assert client.sendmail("app@example.com", ["u@example.com"], first) == {}
        for raw, reply in ((again, b"2.0.0 Ok: queued"), (other, None)):
            client.mail("app@example.com")
            client.rcpt("u@example.com")
            code, text = client.data(raw)
            assert code == 250
            if reply is not None:
                assert text == reply  # Mailpit's answer: no ID, since nothing was stored
            else:
                assert text.startswith(b"2.0.0 Ok: queued as ")
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        listed = wait_for_count(api, 2)["messages"]
        time.sleep(0.2)
        assert [m["Subject"] for m in api.get("/api/v1/messages").json()["messages"]] == ["Another ID", "First"]
        assert [m["MessageID"] for m in listed] == ["other-2@example.com", "same-1@example.com"]
        stats = api.get("/api/v1/info").json()["RuntimeStats"]
        assert (stats["SMTPAccepted"], stats["SMTPIgnored"]) == (2, 1)


def test_duplicate_ids_are_kept_without_the_flag(catcher: ServerThread, api: httpx.Client) -> None:
    send(catcher, build("One", Message_ID="<dup@example.com>"), build("Two", Message_ID="<dup@example.com>"))
    assert wait_for_count(api, 2)["total"] == 2


def test_ignore_duplicate_ids_flag_names_and_variables() -> None:
    assert from_args(["--ignore-duplicate-ids"], environ={}).ignore_duplicate_ids
    assert from_args(["--smtp-ignore-duplicate-ids"], environ={}).ignore_duplicate_ids
    assert from_args([], environ={"MP_IGNORE_DUPLICATE_IDS": "true"}).ignore_duplicate_ids
    assert from_args([], environ={"MAILCATCH_IGNORE_DUPLICATE_IDS": "1"}).ignore_duplicate_ids
    assert not from_args([], environ={"MP_IGNORE_DUPLICATE_IDS": "no"}).ignore_duplicate_ids
    assert not from_args([], environ={}).ignore_duplicate_ids


# Mailpit's MP_* variables ------------------------------------------------------------------------------------------
def test_mailpits_variables_are_read_and_ours_win() -> None:
    mailpit = {
        "MP_SMTP_BIND_ADDR": "127.0.0.2:2525",
        "MP_UI_BIND_ADDR": "[::1]:8026",
        "MP_DATABASE": "/tmp/mailpit.db",
        "MP_MAX_MESSAGES": "250",
        "MP_SMTP_MAX_RECIPIENTS": "7",
        "MP_API_CORS": "https://app.example.com",
        "MP_SMTP_ALLOWED_RECIPIENTS": "@example\\.com$",
        "MP_QUIET": "true",
    }
    settings = from_args([], environ=mailpit)
    assert settings.smtp == HostPort("127.0.0.2", 2525) and settings.listen == HostPort("::1", 8026)
    assert (settings.database, settings.max_messages, settings.smtp_max_recipients) == ("/tmp/mailpit.db", 250, 7)
    assert settings.api_cors == ("https://app.example.com",) and settings.quiet
    assert settings.smtp_allowed_recipients == "@example\\.com$"
    ours = from_args([], environ={**mailpit, "MAILCATCH_MAX": "10", "MAILCATCH_SMTP": "127.0.0.3:25"})
    assert (ours.max_messages, ours.smtp) == (10, HostPort("127.0.0.3", 25))
    flags = from_args(["--max", "3"], environ={**mailpit, "MAILCATCH_MAX": "10"})
    assert flags.max_messages == 3
    assert from_args([], environ={"MP_DATA_FILE": "/tmp/old.db"}).database == "/tmp/old.db"


def test_a_mailpit_compose_environment_runs_a_catcher(tmp_path: Path) -> None:
    database = tmp_path / "compose.db"
    env = {
        "MP_SMTP_BIND_ADDR": "127.0.0.1:0",
        "MP_UI_BIND_ADDR": "127.0.0.1:0",
        "MP_DATABASE": str(database),
        "MP_MAX_MESSAGES": "2",
        "MP_SMTP_ALLOWED_RECIPIENTS": "@example\\.com$",
    }
    with process(env=env) as (smtp, url):
        assert smtp.host == "127.0.0.1" and url.startswith("http://127.0.0.1:")
        send(Target(smtp), build("one"), build("two"), build("three"))
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            send(Target(smtp), build("refused", to="someone@example.org"))
        assert wait_until(lambda: [m["Subject"] for m in listing(url)["messages"]] == ["three", "two"])
    assert database.exists()
