"""GET /api/v1/message/{ID}/sa-check against Debian's real SpamAssassin spamd, and what a catcher says
when spamd is off, unreachable, silent or not spamd at all."""

from __future__ import annotations

import logging
import smtplib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator

from mailcatch.checks.spam import parse_report
from mailcatch.config import from_args
from mailcatch.errors import ConfigError
from mailcatch.server import ServerThread
from mailcatch.web.openapi import document
from tests.checks.spamd import Spamd, free_port, running_spamd
from tests.helpers import running, wait_for_count

SPEC = document()
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

PLAIN = (
    b"From: Ann <ann@example.com>\r\n"
    b"To: Bob <bob@example.org>\r\n"
    b"Subject: Lunch on Friday\r\n"
    b"Date: Sun, 06 Dec 2026 10:00:00 +0100\r\n"
    b"Message-ID: <lunch-1@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Hi Bob,\r\n\r\nshall we meet for lunch at the usual place on Friday at noon?\r\n\r\nAnn\r\n"
)


@pytest.fixture(scope="module")
def spamd() -> Iterator[Spamd]:
    with running_spamd() as server:
        yield server


@pytest.fixture(scope="module")
def catcher(spamd: Spamd) -> Iterator[ServerThread]:
    """A catcher started from the command line's --enable-spamassassin, pointing at the real spamd."""
    settings = from_args(
        ["--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--quiet", "--enable-spamassassin", spamd.address], {}
    )
    catcher = ServerThread(settings).start()
    yield catcher
    catcher.stop()


def deliver(catcher: ServerThread, raw: bytes) -> str:
    """Send raw bytes over SMTP; the new message's ID."""
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        before = api.get("/api/v1/messages").json()["total"]
        with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, local_hostname="app.local") as client:
            client.sendmail("ann@example.com", ["bob@example.org"], raw)
        newest: str = wait_for_count(api, before + 1)["messages"][0]["ID"]
        return newest


def sa_check(catcher: ServerThread, message_id: str) -> dict[str, Any]:
    answer = httpx.get(f"{catcher.url}/api/v1/message/{message_id}/sa-check", timeout=30)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    OAS30Validator({"$ref": "#/components/schemas/SpamAssassinResponse", "components": SPEC["components"]}).validate(
        found
    )
    return found


def test_gtube_scores_as_spam_with_the_gtube_rule(catcher: ServerThread) -> None:
    raw = PLAIN.replace(b"Subject: Lunch on Friday", b"Subject: Test spam").replace(
        b"Ann\r\n", f"Ann\r\n\r\n{GTUBE}\r\n".encode()
    )
    found = sa_check(catcher, deliver(catcher, raw))
    assert set(found) == {"IsSpam", "Error", "Score", "Rules"}
    assert (found["IsSpam"], found["Error"]) == (True, "")
    assert found["Score"] >= 1000
    gtube = next(rule for rule in found["Rules"] if rule["Name"] == "GTUBE")
    assert gtube["Score"] == 1000
    assert "Generic Test for Unsolicited Bulk Email" in gtube["Description"]
    for rule in found["Rules"]:
        assert set(rule) == {"Score", "Name", "Description"}
        assert isinstance(rule["Score"], float) and rule["Name"].isupper() and rule["Description"]
    assert round(sum(rule["Score"] for rule in found["Rules"]), 1) == pytest.approx(found["Score"], abs=0.2)


def test_a_plain_message_is_not_spam(catcher: ServerThread) -> None:
    found = sa_check(catcher, deliver(catcher, PLAIN))
    assert (found["IsSpam"], found["Error"]) == (False, "")
    assert found["Score"] < 5
    assert "GTUBE" not in [rule["Name"] for rule in found["Rules"]]
    assert found["Score"] == round(found["Score"], 1)


def test_latest_unknown_ids_and_the_web_ui_setting(catcher: ServerThread) -> None:
    deliver(catcher, PLAIN)
    assert sa_check(catcher, "latest")["Error"] == ""
    missing = httpx.get(f"{catcher.url}/api/v1/message/nope/sa-check", timeout=10)
    assert missing.status_code == 404 and "not found" in missing.json()["Error"]
    assert httpx.get(f"{catcher.url}/api/v1/webui", timeout=10).json()["SpamAssassin"] is True


def test_without_the_flag_the_route_is_404_as_in_mailpit() -> None:
    with running() as catcher:
        message_id = deliver(catcher, PLAIN)
        answer = httpx.get(f"{catcher.url}/api/v1/message/{message_id}/sa-check", timeout=10)
        assert answer.status_code == 404
        assert answer.json() == {
            "Error": "SpamAssassin is not enabled: start mailcatch with --enable-spamassassin HOST:PORT (a spamd)"
        }
        assert httpx.get(f"{catcher.url}/api/v1/webui", timeout=10).json()["SpamAssassin"] is False


def _logged(caplog: pytest.LogCaptureFixture, text: str) -> logging.LogRecord:
    """The first record that says `text`, waiting for it a few seconds (the check runs after the start)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for record in caplog.records:
            if text in record.getMessage():
                return record
        time.sleep(0.05)
    raise AssertionError(f"nothing logged {text!r}: {[r.getMessage() for r in caplog.records]}")


def test_the_start_says_spamd_answers(spamd: Spamd, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO), running(enable_spamassassin=spamd.address):
        record = _logged(caplog, "spam checks by the spamd at")
    assert record.levelno == logging.INFO and spamd.address in record.getMessage()


# spamd that can't be had --------------------------------------------------------------------
def test_a_spamd_that_is_not_there_is_said_in_error(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nobody listens there
    with caplog.at_level(logging.INFO), running(enable_spamassassin=f"127.0.0.1:{port}") as catcher:
        warned = _logged(caplog, "--enable-spamassassin: ")  # at the start, as Mailpit warns
        found = sa_check(catcher, deliver(catcher, PLAIN))
    assert warned.levelno == logging.WARNING
    assert f"spamd at 127.0.0.1:{port} can't be reached: Connection refused" in warned.getMessage()
    assert found == {
        "IsSpam": False,
        "Error": f"spamd at 127.0.0.1:{port} can't be reached: Connection refused",
        "Score": 0.0,
        "Rules": [],
    }


class FakeSpamd:
    """A TCP (or Unix socket) server on loopback that answers each connection with `reply(request)`;
    None: it reads the request and then says nothing, holding the connection open."""

    def __init__(self, reply: Callable[[bytes], bytes | None], path: Path | None = None) -> None:
        self.reply = reply
        self.server = socket.socket(socket.AF_UNIX if path else socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(str(path) if path else ("127.0.0.1", 0))
        self.server.listen()
        self.server.settimeout(0.1)
        self.address = f"unix:{path}" if path else f"127.0.0.1:{self.server.getsockname()[1]}"
        self.requests: list[bytes] = []
        self.held: list[socket.socket] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.server.accept()
            except TimeoutError:
                continue
            connection.settimeout(5)
            request = b""
            while chunk := connection.recv(65536):  # spamc closes its side when the message is sent
                request += chunk
            self.requests.append(request)
            answer = self.reply(request)
            if answer is None:
                self.held.append(connection)
                continue
            connection.sendall(answer)
            connection.close()

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        for connection in self.held:
            connection.close()
        self.server.close()


@pytest.fixture
def fake_spamd() -> Iterator[Callable[..., FakeSpamd]]:
    started: list[FakeSpamd] = []

    def start(reply: Callable[[bytes], bytes | None], path: Path | None = None) -> FakeSpamd:
        started.append(FakeSpamd(reply, path))
        return started[-1]

    yield start
    for server in started:
        server.close()


def test_a_silent_spamd_times_out_and_smtp_goes_on(fake_spamd: Callable[..., FakeSpamd]) -> None:
    silent = fake_spamd(lambda request: None)
    with running(enable_spamassassin=silent.address, spamassassin_timeout=1) as catcher:
        message_id = deliver(catcher, PLAIN)
        started = time.monotonic()
        found = sa_check(catcher, message_id)
        took = time.monotonic() - started
        deliver(catcher, PLAIN)  # the catcher still takes mail
    assert found == {
        "IsSpam": False,
        "Error": f"spamd at {silent.address} did not answer within 1 s",
        "Score": 0.0,
        "Rules": [],
    }
    assert 0.9 < took < 3
    assert silent.requests[0] == b"PING SPAMC/1.5\r\n\r\n"  # the start's check that spamd answers
    (request,) = [request for request in silent.requests if request.startswith(b"REPORT")]
    assert request.startswith(b"REPORT SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(PLAIN))
    assert request.endswith(PLAIN)  # the message as stored, byte for byte


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (b"HTTP/1.1 400 Bad Request\r\n\r\n", "did not answer as spamd does (it said 'HTTP/1.1 400 Bad Request')"),
        (b"", "did not answer as spamd does (it said nothing)"),
        (b"SPAMD/1.0 76 Bad header line: (Content-length missing)\r\n\r\n", "refused the check: 76 Bad header line"),
        (b"SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n\r\n", "answered without a score"),
    ],
)
def test_an_answer_that_is_not_a_report_is_said_in_error(
    fake_spamd: Callable[..., FakeSpamd], answer: bytes, error: str
) -> None:
    server = fake_spamd(lambda request: answer)
    with running(enable_spamassassin=server.address) as catcher:
        found = sa_check(catcher, deliver(catcher, PLAIN))
    assert found["Error"].startswith(f"spamd at {server.address} {error}"), found
    assert (found["IsSpam"], found["Score"], found["Rules"]) == (False, 0.0, [])


REPORT = (
    b"SPAMD/1.1 0 EX_OK\r\n"
    b"Content-length: 900\r\n"
    b"Spam: True ; 7.29 / 5.0\r\n"
    b"\r\n"
    b'Spam detection software, running on the system "mail", has\n'
    b"identified this incoming email as possible spam.\n"
    b"\n"
    b"Content preview:  Buy now [...]\n"
    b"\n"
    b"Content analysis details:   (7.3 points, 5.0 required)\n"
    b"\n"
    b" pts rule name              description\n"
    b"---- ---------------------- --------------------------------------------------\n"
    b" 2.3 MISSING_DATE           Missing Date: header\n"
    b"-0.0 NO_RELAYS              Informational: message was not relayed via SMTP\n"
    b" 1.2 URIBL_ABUSE_SURBL      Contains an URL listed in the ABUSE SURBL\n"
    b"                            blocklist\n"
    b"                            [URIs: example.com]\n"
    b" 3.8 BAYES_99               BODY: Bayes spam probability is 99 to 100%\n"
    b"                            [score: 1.0000]\n"
)


def test_a_report_is_read_as_mailpit_reads_it(fake_spamd: Callable[..., FakeSpamd], tmp_path: Path) -> None:
    """Scores are cut to one decimal, spam is 5 and more, descriptions are joined across lines; over a Unix socket."""
    server = fake_spamd(lambda request: REPORT, tmp_path / "spamd.sock")
    with running(enable_spamassassin=server.address) as catcher:
        found = sa_check(catcher, deliver(catcher, PLAIN))
    assert found == {
        "IsSpam": True,
        "Error": "",
        "Score": 7.2,
        "Rules": [
            {"Score": 2.3, "Name": "MISSING_DATE", "Description": "Missing Date: header"},
            {"Score": -0.0, "Name": "NO_RELAYS", "Description": "Informational: message was not relayed via SMTP"},
            {
                "Score": 1.2,
                "Name": "URIBL_ABUSE_SURBL",
                "Description": "Contains an URL listed in the ABUSE SURBL blocklist [URIs: example.com]",
            },
            {
                "Score": 3.8,
                "Name": "BAYES_99",
                "Description": "BODY: Bayes spam probability is 99 to 100% [score: 1.0000]",
            },
        ],
    }
    assert parse_report(REPORT.replace(b"7.29 / 5.0", b"4.99 / 4.0"))["IsSpam"] is False  # Mailpit's 5, not spamd's


def test_the_flag_and_its_variables(tmp_path: Path) -> None:
    assert from_args([], {"MP_ENABLE_SPAMASSASSIN": "127.0.0.1:783"}).enable_spamassassin == "127.0.0.1:783"
    assert from_args([], {"MAILCATCH_ENABLE_SPAMASSASSIN": "[::1]:783"}).enable_spamassassin == "[::1]:783"
    assert from_args(["--enable-spamassassin", "unix:/run/spamd.sock"], {}).enable_spamassassin == (
        "unix:/run/spamd.sock"
    )
    assert from_args([], {}).enable_spamassassin is None
    for value, said in [
        ("postmark", "mailcatch doesn't send messages to Postmark's public service"),
        ("localhost", "'localhost' is not spamd's HOST:PORT"),
        ("localhost:0", "'localhost:0' is not spamd's HOST:PORT"),
        ("unix:", "unix: needs the path of spamd's socket"),
    ]:
        with pytest.raises(ConfigError, match=f"^--enable-spamassassin: {said}"):
            from_args(["--enable-spamassassin", value], {})
