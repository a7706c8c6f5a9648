"""Password files and hash checks: vectors made by openssl, htpasswd and the bcrypt package, bad files refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailcatch import passwords
from mailcatch.errors import ConfigError
from mailcatch.passwords import Credentials, read_password_file, verify

# Each made once with the tool named, outside the tests: (stored hash, the password it holds).
VECTORS = {
    # openssl passwd -6 -salt saltsalt 'correct horse'
    "sha512": (
        "$6$saltsalt$hRM5XZ86KXEw9UOmjigeVqFgULtFB2sgpC9lXQDfMib3Zgw7mEiUvBJI2EplzfAqxL5Vvwp2scFtv/uamSo5z0",
        "correct horse",
    ),
    # openssl passwd -6 -salt 'rounds=10000$sixteencharsalt!' 'correct horse'
    "sha512-rounds": (
        (
            "$6$rounds=10000$sixteencharsalt!$CkQDyx7EfnYuZe1oPeb9lcH3ebNAguOynPqAnAq58VmBDul1i1u1Yl2WPU"
            "bXwtgHOJjBzA58vWPB3R7PwXTZC."
        ),
        "correct horse",
    ),
    # openssl passwd -6 -salt 'rounds=10$roundstoolow' 'the minimum number is still observed'
    "sha512-rounds-too-low": (
        (
            "$6$rounds=10$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4Z"
            "EQpyUNGc0dqbpBYYBaHHrsX."
        ),
        "the minimum number is still observed",
    ),
    # openssl passwd -6 -salt s 'pässwörd'
    "sha512-utf8": (
        "$6$s$6.Q1IjFDMXFFsfV/lNgBTvzU8UqKOoHrVC4vwAFCOOuDvnsgFNcjtsGUrdhqzvwc9T3/sYN/pjpd35T0s1ZKF0",
        "pässwörd",
    ),
    # openssl passwd -6 -salt abcdefghijklmnop (130 times y): longer than two SHA-512 blocks
    "sha512-long": (
        ("$6$abcdefghijklmnop$JBsbCqwL6.vHL3hRfiSjy.FmtLzW46cSU3TFpCS2OmlrqR6V/mUQDNL9hcNEbt.RY1LP/ZLLSh2ciQ8U7k8A6."),
        "y" * 130,
    ),
    # htpasswd -nb -5 carol 'correct horse'
    "sha512-htpasswd": (
        ("$6$NLtGBAXC/lCUKhrm$hjTCLFAz74sKwoRzQklWyVECJ3sfOHEBAD8xC1eCV4BKbdBXC/iUQZQoZqa6rU9Ex2jdtJMroXw1jhk4FpLkq0"),
        "correct horse",
    ),
    # htpasswd -nb -5 -r 20000 frank 'correct horse'
    "sha512-htpasswd-rounds": (
        (
            "$6$rounds=20000$r58WEvzcdAYM5GaP$W0SAEyxa/1j6mJWxMHuqsG7Dh3VBfE7SRnsY0ONTZX9CJBvJ8jX3HiOJ"
            "yuA9MG8iGGlykUPFpZhTz6V2pCFEK."
        ),
        "correct horse",
    ),
    # openssl passwd -5 -salt saltsalt 'correct horse'
    "sha256": ("$5$saltsalt$myjXcpMpE2Ofk7fj9hqyNYSn6lmWG4Mqnjx.KIRRr4/", "correct horse"),
    # openssl passwd -5 -salt saltstring 'Hello world!'
    "sha256-hello": ("$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", "Hello world!"),
    # openssl passwd -5 -salt 'rounds=1234$abc' 'correct horse'
    "sha256-rounds": ("$5$rounds=1234$abc$RAv0w3h7wHk1T3./UIyX0WfTIFsdW1.7HcWky3c4QSD", "correct horse"),
    # openssl passwd -5 -salt abcdefghijklmnop (70 times x): longer than two SHA-256 blocks
    "sha256-long": ("$5$abcdefghijklmnop$9Hb3FAWHMjTRmtGxp5A6xgyNw0NwnVFXs5ShXabRso2", "x" * 70),
    # htpasswd -nb -2 dave 'correct horse'
    "sha256-htpasswd": ("$5$pp3JalyIJDFjQvRG$06a2idtU9bG4/HXmQ6eRfAC5IgXBkokmznvmT4qIyg2", "correct horse"),
    # htpasswd -nb -2 -r 1000 gina 'correct horse'
    "sha256-htpasswd-rounds": (
        "$5$rounds=1000$YNXwk7olcVf4k/HW$9WP6ougBOGrzLqe2TO8ff7GYHX7MXQy6yGYbQwgJYK5",
        "correct horse",
    ),
    # openssl passwd -apr1 -salt saltsalt 'correct horse'
    "apr1": ("$apr1$saltsalt$EGVZDNN6gOqijy.tv9axG/", "correct horse"),
    # openssl passwd -apr1 -salt x ''
    "apr1-empty": ("$apr1$x$tMwYqBfQwi3FYAr0aJc8M/", ""),
    # openssl passwd -apr1 -salt 12345678 (40 times z): longer than two MD5 blocks
    "apr1-long": ("$apr1$12345678$hhTygjPXu1Iblxx4tqe0A/", "z" * 40),
    # htpasswd -nb bob 'correct horse' (htpasswd's default)
    "apr1-htpasswd": ("$apr1$1Bd07x1F$WiXGuJhYlGtMXOyrz31Fd.", "correct horse"),
    # htpasswd -nbB -C 5 alice 'correct horse'
    "bcrypt-2y": ("$2y$05$LIAY9stK/xLZX0ARWXKlHO9A88s2Xdf0QgIz.nKBwqiO04jvl49R.", "correct horse"),
    # htpasswd -nbB -C 4 erin 'pässwörd'
    "bcrypt-2y-utf8": ("$2y$04$zB9R.lbeI4e.SSNeD99oM.HJboFs7lJyCYaLTYnAjquUA8WQmckhS", "pässwörd"),
    # bcrypt.hashpw(b'correct horse', bcrypt.gensalt(4, prefix=b'2a'))
    "bcrypt-2a": ("$2a$04$9U4ozFMLSZCrwV8J80TK8edUt/gua6NpRlUZK4ldrmLOoxArdh25a", "correct horse"),
    # bcrypt.hashpw(b'correct horse', bcrypt.gensalt(4, prefix=b'2b'))
    "bcrypt-2b": ("$2b$04$j5QOEspKN56L/JtrtrcVs.yo0PPh0IQf0O3PVUaaUT2zJdJUW36wO", "correct horse"),
}

SHA512 = VECTORS["sha512"][0]
BCRYPT = VECTORS["bcrypt-2y"][0]
APR1 = VECTORS["apr1"][0]


@pytest.mark.parametrize("kind", VECTORS)
def test_known_vectors_match(kind: str) -> None:
    stored, password = VECTORS[kind]
    assert verify(stored, password)


@pytest.mark.parametrize("kind", VECTORS)
def test_wrong_passwords_are_rejected(kind: str) -> None:
    stored, password = VECTORS[kind]
    for wrong in {password + "!", password[:-1], password.swapcase(), " " + password} - {password}:
        assert not verify(stored, wrong), wrong


def test_plain_text_passwords() -> None:
    assert verify("s3cret", "s3cret")
    assert verify("$ecret", "$ecret")
    assert verify("", "")
    for wrong in ("s3cre", "s3cret ", "S3CRET", ""):
        assert not verify("s3cret", wrong)


def test_bcrypt_counts_the_first_72_bytes_as_htpasswd_does() -> None:
    stored = "$2y$04$qwpcUXj4sQyFAfo57rxkqePmOO47VaGIQtp4FR8z.ERbs6sg0Ao86"  # htpasswd -nbB -C 4 long (72 times L)
    assert verify(stored, "L" * 72)
    assert verify(stored, "L" * 72 + "ignored")
    assert not verify(stored, "L" * 71)


def test_sha_crypt_clamps_rounds_and_salt_as_the_specification_says() -> None:
    assert passwords.sha_crypt(b"pw", b"salt", 10, "6") == passwords.sha_crypt(b"pw", b"salt", 1000, "6")
    # openssl passwd -6 -salt toolongsaltstringbeyond16 x: the salt is cut to 16 characters
    assert passwords.sha_crypt(b"x", b"toolongsaltstringbeyond16", 5000, "6") == (
        "m5UCdGkMg16fnZB/afayhHcFYEQvnTRoKod8GIJKB0rGGl9IQGUPKeGHHw5xPOFVPjhTAcuzioT6ZcDqsMKJ80"
    )
    # openssl passwd -apr1 -salt toolongsalt x: the salt is cut to 8 characters
    assert passwords.apr1_md5(b"x", b"toolongsalt") == "Hj.OxnaGyTCCeKkZ.EUCp1"


@pytest.mark.parametrize(
    "stored", ["$1$saltsalt$abcdefghijklmnopqrstuv", "$argon2id$v=19$m=65536$xyz", "$y$j9T$salt$hash"]
)
def test_unknown_schemes_raise_instead_of_mismatching(stored: str) -> None:
    with pytest.raises(ValueError, match="unknown password hash"):
        verify(stored, "anything")


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / "users"
    path.write_text(text, encoding=encoding)
    return str(path)


def test_read_password_file_keeps_every_kind(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"# who may log in\r\n\r\nalice:{BCRYPT}\r\ncarol:{SHA512}\r\n"
        f"bob:{APR1}\r\n  plain:pa:ss word  \r\nnobody:\r\n",
    )
    assert read_password_file(path) == {
        "alice": BCRYPT,
        "carol": SHA512,
        "bob": APR1,
        "plain": "pa:ss word",
        "nobody": "",
    }


def test_read_password_file_skips_a_byte_order_mark(tmp_path: Path) -> None:
    assert read_password_file(write(tmp_path, "alice:pw\n", encoding="utf-8-sig")) == {"alice": "pw"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("alice:pw\nbob\n", r"line 2: expected user:password"),
        ("alice:pw\n:pw\n", r"line 2: expected user:password"),
        (
            "# users\nalice:pw\nbob:$1$saltsalt$abcdefghijklmnopqrstuv\n",
            r"line 3: unknown password hash \$1\$; mailcatch checks bcrypt \(\$2y\$, \$2b\$, \$2a\$\), SHA-512 crypt",
        ),
        (f"alice:{SHA512[:-1]}\n", r"line 1: malformed SHA-512 crypt hash"),
        (f"alice:{SHA512}x\n", r"line 1: malformed SHA-512 crypt hash"),
        ("alice:$6$rounds=x$salt$" + "a" * 86 + "\n", r"line 1: malformed SHA-512 crypt hash"),
        ("alice:$5$salt$tooshort\n", r"line 1: malformed SHA-256 crypt hash"),
        ("alice:$apr1$saltsalt$EGVZDNN6gOqijy.tv9axG\n", r"line 1: malformed Apache MD5 hash"),
        (f"alice:{BCRYPT.replace('$05$', '$99$')}\n", r"line 1: malformed bcrypt hash"),
        (f"alice:{BCRYPT[:-2]}\n", r"line 1: malformed bcrypt hash"),
        ("alice:{SHA}L55TUjtiq8FBorTWAZ0jy6g129A=\n", r"line 1: \{SHA\} \(SHA-1\) hashes are too weak"),
        ("# nobody\n\n", r"has no user:password lines"),
    ],
)
def test_malformed_files_are_refused_with_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as refused:
        read_password_file(path)
    assert str(refused.value).startswith(path)


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"can't read .*missing"):
        read_password_file(str(tmp_path / "missing"))
    (tmp_path / "latin1").write_bytes(b"j\xfcrgen:pw\n")
    with pytest.raises(ConfigError, match="latin1 is not UTF-8 text"):
        read_password_file(str(tmp_path / "latin1"))


@pytest.fixture
def verify_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each slow check that Credentials makes."""
    calls: list[str] = []

    def counting(stored: str, given: str) -> bool:
        calls.append(given)
        return verify(stored, given)

    monkeypatch.setattr(passwords, "verify", counting)
    return calls


def test_a_successful_check_is_hashed_once(verify_calls: list[str]) -> None:
    credentials = Credentials({"alice": BCRYPT, "carol": SHA512})
    assert not credentials.remembered("alice", "correct horse")
    for _ in range(5):
        assert credentials.check("alice", "correct horse")
    assert credentials.remembered("alice", "correct horse")
    assert verify_calls == ["correct horse"]


def test_failures_are_never_remembered(verify_calls: list[str]) -> None:
    credentials = Credentials({"alice": BCRYPT, "carol": SHA512})
    for _ in range(3):
        assert not credentials.check("alice", "wrong")
    assert verify_calls == ["wrong"] * 3
    assert not credentials.check("nobody", "correct horse")
    assert credentials.check("carol", "correct horse")
    assert not credentials.check("alice", "wrong")
    assert not credentials.remembered("alice", "wrong")


def test_a_remembered_login_belongs_to_its_user_and_file() -> None:
    credentials = Credentials({"alice": "one", "bob": "two"})
    assert credentials.check("alice", "one")
    assert not credentials.check("bob", "one")
    assert not credentials.remembered("bob", "one")
    assert not Credentials({"alice": "two"}).check("alice", "one")


def test_the_memory_of_logins_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "REMEMBERED_LOGINS", 2)
    credentials = Credentials({"a": "1", "b": "2", "c": "3"})
    for user, password in (("a", "1"), ("b", "2"), ("c", "3")):
        assert credentials.check(user, password)
    assert credentials.remembered("c", "3")
    assert not credentials.remembered("a", "1")
