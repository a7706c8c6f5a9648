"""The SMTP server over real sockets: extensions, AUTH, UTF-8, pipelining, DATA handling, limits."""

from __future__ import annotations

import smtplib
import socket
import ssl
from pathlib import Path

import httpx
import pytest

from tests.certificates import self_signed
from tests.helpers import wait_for_count

SIMPLE = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: simple\r\n\r\nHello.\r\n"


class RawClient:
    """A line-oriented SMTP client over a plain socket, for protocol edge cases."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=10)
        self.buffer = b""
        self.greeting = self.reply()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def reply(self) -> list[bytes]:
        """One (possibly multi-line) reply."""
        lines = [self.line()]
        while lines[-1][3:4] == b"-":
            lines.append(self.line())
        return lines

    def command(self, text: str | bytes) -> list[bytes]:
        self.send((text.encode() if isinstance(text, str) else text) + b"\r\n")
        return self.reply()

    def close(self) -> None:
        self.sock.close()


def _stuff(data: bytes) -> bytes:
    """Dot-stuff message data the way a conforming client does."""
    return b"\r\n".join(b"." + line if line.startswith(b".") else line for line in data.split(b"\r\n"))


@pytest.fixture
def raw_client(catcher):
    client = RawClient(catcher.smtp_host, catcher.smtp_port)
    yield client
    client.close()


def test_ehlo_advertises_the_extensions_a_mailer_needs(catcher) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        code, _ = client.ehlo("app.test")
        assert code == 250
        assert client.esmtp_features["size"] == str(50 * 1024 * 1024)
        for feature in ("8bitmime", "smtputf8", "pipelining"):
            assert feature in client.esmtp_features
        assert set(client.esmtp_features["auth"].split()) == {"PLAIN", "LOGIN"}
        assert "starttls" not in client.esmtp_features


def test_size_follows_max_message_size(start_catcher) -> None:
    catcher = start_catcher(max_message_size=1024 * 1024)
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        client.ehlo()
        assert client.esmtp_features["size"] == "1048576"


def test_data_reply_names_the_stored_id(catcher, raw_client: RawClient, api: httpx.Client) -> None:
    raw_client.command("EHLO app.test")
    assert raw_client.command("MAIL FROM:<a@example.com>")[0].startswith(b"250")
    assert raw_client.command("RCPT TO:<b@example.com>")[0].startswith(b"250")
    assert raw_client.command("DATA")[0].startswith(b"354")
    reply = raw_client.command(SIMPLE + b".")[0].decode()
    assert reply.startswith("250 2.0.0 Ok: queued as ")
    message_id = reply.rsplit(" ", 1)[1]
    assert api.get(f"/api/v1/message/{message_id}").json()["Subject"] == "simple"


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_auth_accepts_any_credentials_and_records_the_user(catcher, api: httpx.Client, mechanism: str) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        client.ehlo()
        client.user, client.password = "alice", "wrong-but-fine"
        code, _ = client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"), initial_response_ok=True)
        assert code == 235
        client.sendmail("a@example.com", ["b@example.com"], SIMPLE)
    summary = wait_for_count(api, 1)["messages"][0]
    assert summary["Username"] == "alice"


def test_auth_is_never_required(catcher, api: httpx.Client) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        client.sendmail("a@example.com", ["b@example.com"], SIMPLE)
    assert wait_for_count(api, 1)["messages"][0]["Username"] == ""


def test_auth_file_limits_who_may_log_in_and_requires_login(start_catcher, tmp_path: Path) -> None:
    users = tmp_path / "smtp-users"
    users.write_text("# who may send\nalice:s3cret\n")
    catcher = start_catcher(smtp_auth_file=str(users))
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("a@example.com", ["b@example.com"], SIMPLE)
        assert refused.value.smtp_code == 530
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("alice", "nope")
        client.login("alice", "s3cret")
        assert client.sendmail("a@example.com", ["b@example.com"], SIMPLE) == {}


def test_utf8_addresses_and_headers(catcher, api: httpx.Client) -> None:
    message = (
        "From: Jürgen <jürgen@bücher.example>\r\nTo: 用户@例子.广告\r\nSubject: Grüße 👋\r\n\r\nHallo\r\n"
    ).encode()
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        client.ehlo()
        client.sendmail("jürgen@bücher.example", ["用户@例子.广告"], message, mail_options=["SMTPUTF8"])
    summary = wait_for_count(api, 1)["messages"][0]
    assert summary["Subject"] == "Grüße 👋"
    assert summary["From"] == {"Name": "Jürgen", "Address": "jürgen@bücher.example"}
    full = api.get(f"/api/v1/message/{summary['ID']}").json()
    assert full["Envelope"]["From"] == "jürgen@bücher.example"
    assert full["Envelope"]["To"] == ["用户@例子.广告"]
    assert api.get(f"/api/v1/message/{summary['ID']}/raw").content == message


def test_envelope_bytes_that_are_not_utf8_are_stored_as_replacement_characters(
    catcher, raw_client: RawClient, api: httpx.Client
) -> None:
    raw_client.command(b"EHLO host-\xe9.test")
    assert raw_client.command(b"MAIL FROM:<\xff\xfeold@example.com>")[0][:3] == b"250"
    assert raw_client.command(b"RCPT TO:<r\xe9ne@example.com>")[0][:3] == b"250"
    raw_client.command(b"DATA")
    assert raw_client.command(SIMPLE + b".")[0][:3] == b"250"
    summary = wait_for_count(api, 1)["messages"][0]
    envelope = api.get(f"/api/v1/message/{summary['ID']}").json()["Envelope"]
    assert envelope["From"] == "\ufffd\ufffdold@example.com"
    assert envelope["To"] == ["r\ufffdne@example.com"]
    assert envelope["Helo"] == "host-\ufffd.test"


def test_pipelined_commands_are_answered_in_order(catcher, raw_client: RawClient, api: httpx.Client) -> None:
    assert b"PIPELINING" in b"".join(raw_client.command("EHLO app.test"))
    raw_client.send(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nRCPT TO:<c@example.com>\r\nDATA\r\n")
    replies = [raw_client.reply()[0][:3] for _ in range(4)]
    assert replies == [b"250", b"250", b"250", b"354"]
    raw_client.send(SIMPLE + b".\r\nMAIL FROM:<d@example.com>\r\nRCPT TO:<e@example.com>\r\nRSET\r\nQUIT\r\n")
    replies = [raw_client.reply()[0][:3] for _ in range(5)]
    assert replies == [b"250", b"250", b"250", b"250", b"221"]
    listing = wait_for_count(api, 1)
    assert listing["total"] == 1
    full = api.get(f"/api/v1/message/{listing['messages'][0]['ID']}").json()
    assert full["Envelope"]["To"] == ["b@example.com", "c@example.com"]


def test_several_transactions_in_one_session(catcher, api: httpx.Client) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        for number in range(5):
            client.sendmail("a@example.com", [f"r{number}@example.com"], f"Subject: n{number}\r\n\r\nx\r\n".encode())
    listing = wait_for_count(api, 5)
    assert [m["Subject"] for m in listing["messages"]] == ["n4", "n3", "n2", "n1", "n0"]
    assert [m["Bcc"][0]["Address"] for m in listing["messages"]] == [f"r{n}@example.com" for n in (4, 3, 2, 1, 0)]


def test_raw_is_byte_exact_after_dot_unstuffing(catcher, raw_client: RawClient, api: httpx.Client) -> None:
    body = (
        b"Subject: dots\r\nX-Odd: \xff\xfe binary \x00 nul\r\n\r\n"
        b".leading dot\r\n..two dots\r\n.\tdot tab\r\nbare\nLF inside\r\n\r\n  \r\ntrailing spaces  \r\n"
        b"a line much longer than the thousand characters SMTP promises " + b"x" * 3000 + b"\r\n"
    )
    raw_client.command("EHLO app.test")
    raw_client.command("MAIL FROM:<a@example.com>")
    raw_client.command("RCPT TO:<b@example.com>")
    raw_client.command("DATA")
    reply = raw_client.command(_stuff(body) + b".")[0].decode()
    message_id = reply.rsplit(" ", 1)[1]
    assert api.get(f"/api/v1/message/{message_id}/raw").content == body


def test_empty_message_is_kept(catcher, raw_client: RawClient, api: httpx.Client) -> None:
    raw_client.command("HELO app.test")
    raw_client.command("MAIL FROM:<>")
    raw_client.command("RCPT TO:<b@example.com>")
    raw_client.command("DATA")
    reply = raw_client.command(".")[0].decode()
    assert reply.startswith("250 ")
    summary = wait_for_count(api, 1)["messages"][0]
    assert summary["Size"] == 0
    assert api.get(f"/api/v1/message/{summary['ID']}/raw").content == b""


def test_only_crlf_dot_crlf_ends_data(catcher, raw_client: RawClient, api: httpx.Client) -> None:
    """A bare-LF dot line must not end DATA: that is how SMTP smuggling works."""
    raw_client.command("EHLO app.test")
    raw_client.command("MAIL FROM:<a@example.com>")
    raw_client.command("RCPT TO:<b@example.com>")
    raw_client.command("DATA")
    smuggled = (
        b"Subject: outer\r\n\r\nbody\n.\nMAIL FROM:<evil@example.com>\r\n"
        b"body\r\n.\nRCPT TO:<x@example.com>\r\nmore\n.\r\nend\r\n"
    )
    reply = raw_client.command(_stuff(smuggled) + b".")[0].decode()
    assert reply.startswith("250 ")
    listing = wait_for_count(api, 1)
    assert listing["total"] == 1
    assert api.get(f"/api/v1/message/{listing['messages'][0]['ID']}/raw").content == smuggled


def test_oversized_message_gets_552_and_the_session_goes_on(start_catcher) -> None:
    catcher = start_catcher(max_message_size=100_000)
    client = RawClient(catcher.smtp_host, catcher.smtp_port)
    try:
        client.command("EHLO app.test")
        assert client.command("MAIL FROM:<a@example.com> SIZE=200000")[0].startswith(b"552")
        client.command("MAIL FROM:<a@example.com>")
        client.command("RCPT TO:<b@example.com>")
        client.command("DATA")
        big = b"Subject: big\r\n\r\n" + (b"y" * 998 + b"\r\n") * 300
        assert client.command(big + b".")[0].startswith(b"552")
        client.command("MAIL FROM:<a@example.com>")
        client.command("RCPT TO:<b@example.com>")
        client.command("DATA")
        assert client.command(SIMPLE + b".")[0].startswith(b"250")
    finally:
        client.close()
    with httpx.Client(verify=False, base_url=catcher.url) as api:
        listing = wait_for_count(api, 1)
        assert [m["Subject"] for m in listing["messages"]] == ["simple"]


def test_starttls_with_a_certificate(start_catcher, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    catcher = start_catcher(smtp_tls_cert=cert, smtp_tls_key=key)
    context = ssl.create_default_context(cafile=cert)
    context.check_hostname = False
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        client.ehlo()
        assert "starttls" in client.esmtp_features
        client.starttls(context=context)
        client.ehlo()
        assert "starttls" not in client.esmtp_features
        client.login("tls-user", "pw")
        client.sendmail("a@example.com", ["b@example.com"], SIMPLE)
    with httpx.Client(verify=False, base_url=catcher.url) as api:
        summary = wait_for_count(api, 1)["messages"][0]
        full = api.get(f"/api/v1/message/{summary['ID']}").json()
        assert full["Envelope"]["TLS"] is True
        transcript = api.get(f"/api/v1/message/{summary['ID']}/transcript").json()
        texts = [line["Text"] for line in transcript["Lines"]]
        assert "STARTTLS" in texts and texts[texts.index("STARTTLS") + 1].startswith("220")
        assert transcript["Session"]["TLS"] is True
        assert any(text.startswith("AUTH PLAIN") and "tls-user" in text and "pw" not in text for text in texts)
