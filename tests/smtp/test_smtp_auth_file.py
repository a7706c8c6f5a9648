"""--smtp-auth-file with hashed passwords: smtplib logs in through a real catcher."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mailcatch.errors import ConfigError
from mailcatch.server import ServerThread
from tests.helpers import wait_for_count

PASSWORD = "correct horse"
USERS = {
    "alice": "$2y$05$LIAY9stK/xLZX0ARWXKlHO9A88s2Xdf0QgIz.nKBwqiO04jvl49R.",  # htpasswd -nbB -C 5 alice 'correct horse'
    # htpasswd -nb -5 carol 'correct horse'
    "carol": "$6$NLtGBAXC/lCUKhrm$hjTCLFAz74sKwoRzQklWyVECJ3sfOHEBAD8xC1eCV4BKbdBXC/iUQZQoZqa6rU9Ex2jdtJMroXw1jhk4FpLkq0",
}
MESSAGE = b"From: app@example.com\r\nTo: user@example.com\r\nSubject: hashed\r\n\r\nHello\r\n"


@pytest.fixture
def catcher(start_catcher: Callable[..., ServerThread], tmp_path: Path) -> ServerThread:
    """A catcher whose SMTP logins are checked against hashed passwords."""
    users = tmp_path / "smtp-users"
    users.write_text("".join(f"{user}:{stored}\n" for user, stored in USERS.items()))
    return start_catcher(smtp_auth_file=str(users))


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
@pytest.mark.parametrize("user", USERS)
def test_hashed_users_log_in_and_send(catcher: ServerThread, user: str, mechanism: str) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, timeout=10) as client:
        client.ehlo()
        client.user, client.password = user, PASSWORD
        code, _ = client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"), initial_response_ok=True)
        assert code == 235
        assert client.sendmail("app@example.com", ["user@example.com"], MESSAGE) == {}
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        assert wait_for_count(api, 1)["messages"][0]["Username"] == user


def test_repeated_logins_pass_each_time(catcher: ServerThread) -> None:
    for _ in range(3):
        with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, timeout=10) as client:
            client.login("alice", PASSWORD)
            client.sendmail("app@example.com", ["user@example.com"], MESSAGE)
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        assert wait_for_count(api, 3)["total"] == 3


@pytest.mark.parametrize(
    ("user", "password"), [("alice", "correct horse!"), ("carol", "Correct horse"), ("alice", ""), ("nobody", PASSWORD)]
)
def test_wrong_credentials_are_refused_and_login_stays_required(
    catcher: ServerThread, user: str, password: str
) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            client.login(user, password)
        assert refused.value.smtp_code == 535
        with pytest.raises(smtplib.SMTPSenderRefused) as unauthenticated:
            client.sendmail("app@example.com", ["user@example.com"], MESSAGE)
        assert unauthenticated.value.smtp_code == 530


def test_a_malformed_file_stops_the_start(start_catcher: Callable[..., ServerThread], tmp_path: Path) -> None:
    users = tmp_path / "smtp-users"
    users.write_text(f"alice:{USERS['alice'][:-1]}\n")
    with pytest.raises(ConfigError, match=r"smtp-users, line 1: malformed bcrypt hash"):
        start_catcher(smtp_auth_file=str(users))
