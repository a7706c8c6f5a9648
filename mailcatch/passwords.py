"""Password files for --smtp-auth-file and --ui-auth-file: plain text or hashes as htpasswd writes them."""

from __future__ import annotations

import asyncio
import collections
import hashlib
import hmac
import os
import re
import threading
import weakref
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from mailcatch.errors import ConfigError

KNOWN = "bcrypt ($2y$, $2b$, $2a$), SHA-512 crypt ($6$), SHA-256 crypt ($5$), Apache MD5 ($apr1$)"
REMEMBERED_LOGINS = 4096
"""Successful checks kept per file before the memory of them is cleared."""
HASH_THREADS = max(1, min(4, (os.cpu_count() or 2) // 2))
"""Password hashes checked at once per file, off the event loop: half the cores, so that a flood
of logins queues for them and leaves the rest to the loop."""
MAX_WAITING_CHECKS = 64
"""Checks that may wait for a hashing thread per file; beyond them a login is refused as too busy."""

_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # crypt's base64, not RFC 4648's
_SCHEME = re.compile(r"\$([0-9A-Za-z]+)\$")
_BCRYPT = re.compile(r"\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./0-9A-Za-z]{53}")
_FORMATS: dict[str, tuple[str, re.Pattern[str]]] = {
    "2a": ("bcrypt", _BCRYPT),
    "2b": ("bcrypt", _BCRYPT),
    "2y": ("bcrypt", _BCRYPT),
    "5": (
        "SHA-256 crypt",
        re.compile(r"\$5\$(?:rounds=(?P<rounds>[0-9]+)\$)?(?P<salt>[^$]{0,16})\$(?P<hash>[./0-9A-Za-z]{43})"),
    ),
    "6": (
        "SHA-512 crypt",
        re.compile(r"\$6\$(?:rounds=(?P<rounds>[0-9]+)\$)?(?P<salt>[^$]{0,16})\$(?P<hash>[./0-9A-Za-z]{86})"),
    ),
    "apr1": ("Apache MD5", re.compile(r"\$apr1\$(?P<salt>[^$]{0,8})\$(?P<hash>[./0-9A-Za-z]{22})")),
}

# Which digest bytes make each group of (up to) four characters, most significant byte first.
# SHA-crypt's specification lists these orders; they follow a stride of 21 (SHA-512) or 10 (SHA-256).
_SHA512_ORDER: list[tuple[int, ...]] = [((22 * k) % 63, (22 * k + 21) % 63, (22 * k + 42) % 63) for k in range(21)] + [
    (63,)
]
_SHA256_ORDER: list[tuple[int, ...]] = [((21 * k) % 30, (21 * k + 10) % 30, (21 * k + 20) % 30) for k in range(10)] + [
    (31, 30)
]
_APR1_ORDER: list[tuple[int, ...]] = [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5), (11,)]
_SHA_CRYPT = {"5": (hashlib.sha256, _SHA256_ORDER), "6": (hashlib.sha512, _SHA512_ORDER)}


def _crypt_base64(digest: bytes, order: Sequence[tuple[int, ...]]) -> str:
    """crypt's base64: n bytes of each group give n+1 characters, least significant six bits first."""
    characters = []
    for group in order:
        value = 0
        for index in group:
            value = value << 8 | digest[index]
        for _ in range(len(group) + 1):
            characters.append(_ALPHABET[value & 0x3F])
            value >>= 6
    return "".join(characters)


def _repeat(block: bytes, length: int) -> bytes:
    """`block` repeated and cut to `length` bytes."""
    return (block * (length // len(block) + 1))[:length]


def sha_crypt(password: bytes, salt: bytes, rounds: int, scheme: str) -> str:
    """The encoded hash of SHA-crypt, scheme "5" (SHA-256) or "6" (SHA-512), per Ulrich Drepper's specification."""
    new, order = _SHA_CRYPT[scheme]
    rounds = min(max(rounds, 1000), 999_999_999)
    salt = salt[:16]
    digest_b = new(password + salt + password).digest()
    context_a = new(password + salt)
    context_a.update(_repeat(digest_b, len(password)))
    length = len(password)
    while length:  # each bit of the password's length, lowest first
        context_a.update(digest_b if length & 1 else password)
        length >>= 1
    digest_a = context_a.digest()
    p_bytes = _repeat(new(password * len(password)).digest(), len(password))
    s_bytes = _repeat(new(salt * (16 + digest_a[0])).digest(), len(salt))
    digest_c = digest_a
    for number in range(rounds):
        context_c = new(p_bytes if number % 2 else digest_c)
        if number % 3:
            context_c.update(s_bytes)
        if number % 7:
            context_c.update(p_bytes)
        context_c.update(digest_c if number % 2 else p_bytes)
        digest_c = context_c.digest()
    return _crypt_base64(digest_c, order)


def apr1_md5(password: bytes, salt: bytes) -> str:
    """The encoded hash of Apache's $apr1$: Poul-Henning Kamp's MD5-crypt with the magic string "$apr1$"."""
    salt = salt[:8]
    alternate = hashlib.md5(password + salt + password).digest()
    context = hashlib.md5(password + b"$apr1$" + salt)
    context.update(_repeat(alternate, len(password)))
    length = len(password)
    while length:  # each bit of the password's length, lowest first: a zero byte for 1, the first character for 0
        context.update(b"\0" if length & 1 else password[:1])
        length >>= 1
    digest = context.digest()
    for number in range(1000):
        context = hashlib.md5(password if number % 2 else digest)
        if number % 3:
            context.update(salt)
        if number % 7:
            context.update(password)
        context.update(digest if number % 2 else password)
        digest = context.digest()
    return _crypt_base64(digest, _APR1_ORDER)


def _bcrypt_matches(stored: str, password: bytes) -> bool:
    """bcrypt, through the `bcrypt` package; as with htpasswd, only a password's first 72 bytes count."""
    import bcrypt

    return bcrypt.checkpw(password[:72], stored.encode("ascii"))


def _parse(stored: str) -> tuple[str, re.Match[str]] | None:
    """The scheme and parts of a hashed password, None for plain text; ValueError for a hash we can't check."""
    if stored.startswith("{SHA}"):
        raise ValueError("{SHA} (SHA-1) hashes are too weak and not accepted; use htpasswd -B for bcrypt")
    scheme = _SCHEME.match(stored)
    if scheme is None:
        return None
    if scheme[1] not in _FORMATS:
        raise ValueError(
            f"unknown password hash ${scheme[1]}$; mailcatch checks {KNOWN}, "
            f"or plain text that does not start with $word$"
        )
    name, pattern = _FORMATS[scheme[1]]
    match = pattern.fullmatch(stored)
    if match is None:
        raise ValueError(f"malformed {name} hash")
    return scheme[1], match


def verify(stored: str, given: str) -> bool:
    """Whether `given` is the password that `stored` holds, in plain text or as an htpasswd hash."""
    parsed = _parse(stored)
    password = given.encode("utf-8")
    if parsed is None:
        return hmac.compare_digest(stored.encode("utf-8"), password)
    scheme, match = parsed
    if scheme.startswith("2"):
        return _bcrypt_matches(stored, password)
    salt = match["salt"].encode("utf-8")
    if scheme == "apr1":
        computed = apr1_md5(password, salt)
    else:
        computed = sha_crypt(password, salt, int(match["rounds"] or 5000), scheme)
    return hmac.compare_digest(computed, match["hash"])


def read_password_file(path: str) -> dict[str, str]:
    """`user:password` lines of a file (blank lines and # comments skipped), every hash checked for form."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ConfigError(f"can't read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None
    passwords: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user:
            raise ConfigError(f"{path}, line {number}: expected user:password")
        try:
            _parse(password)
        except ValueError as error:
            raise ConfigError(f"{path}, line {number}: {error}") from None
        passwords[user] = password
    if not passwords:
        raise ConfigError(f"{path} has no user:password lines")
    return passwords


def _cost(stored: str) -> tuple[str, str]:
    """What checking a stored password costs: its scheme and work factor ("plain" for plain text)."""
    parsed = _parse(stored)
    if parsed is None:
        return "plain", ""
    scheme, match = parsed
    if scheme.startswith("2"):
        return "bcrypt", stored[4:6]
    if scheme == "apr1":
        return scheme, ""
    return scheme, match["rounds"] or "5000"


def stand_in(passwords: Mapping[str, str]) -> str:
    """A stored password that costs what most of the file's cost to check, for checking the
    password given with an unknown user: refused as slowly as a known one, it can't be told apart."""
    costs = collections.Counter(_cost(stored) for stored in passwords.values())
    if not costs:
        return ""
    most = costs.most_common(1)[0][0]
    return next(stored for stored in passwords.values() if _cost(stored) == most)


class TooBusy(Exception):
    """Too many password checks are waiting for a hashing thread; the login should be tried again later."""


class Credentials:
    """The users of one password file; a successful check is remembered, so its hash is computed once.

    `check` hashes on the calling thread; `check_off_loop` on one of HASH_THREADS threads of its own.
    """

    def __init__(self, passwords: Mapping[str, str]) -> None:
        self.passwords = dict(passwords)
        self._passed: set[bytes] = set()
        self._stand_in = stand_in(self.passwords)
        self._executor = ThreadPoolExecutor(HASH_THREADS, thread_name_prefix="mailcatch-passwords")
        weakref.finalize(self, self._executor.shutdown, False)
        self._waiting = 0
        self._lock = threading.Lock()

    @staticmethod
    def _key(user: str, given: str) -> bytes:
        """A SHA-256 of the pair, so no password is kept in memory in the clear."""
        name = user.encode("utf-8")
        return hashlib.sha256(len(name).to_bytes(8, "big") + name + given.encode("utf-8")).digest()

    def remembered(self, user: str, given: str) -> bool:
        """Whether this user already passed with this password: a check that never hashes slowly."""
        return self._key(user, given) in self._passed

    def check(self, user: str, given: str) -> bool:
        """Whether `user` is in the file and `given` is their password."""
        key = self._key(user, given)
        if key in self._passed:
            return True
        stored = self.passwords.get(user)
        if stored is None:
            verify(self._stand_in, given)  # the same work as for a known user, so that timing tells nothing
            return False
        if not verify(stored, given):
            return False
        if len(self._passed) >= REMEMBERED_LOGINS:
            self._passed.clear()
        self._passed.add(key)
        return True

    @property
    def all_plain(self) -> bool:
        """Whether every password is in plain text, as CRAM-MD5 needs (no hash gives the password back)."""
        return all(_parse(stored) is None for stored in self.passwords.values())

    def check_cram_md5(self, user: str, challenge: bytes, digest: str) -> bool:
        """Whether `digest` is the hex HMAC-MD5 of `challenge` keyed by `user`'s plain-text password (RFC 2195)."""
        stored = self.passwords.get(user)
        plain = stored is not None and _parse(stored) is None
        key = stored.encode("utf-8") if stored is not None and plain else b""
        expected = hmac.new(key, challenge, hashlib.md5).hexdigest()
        return hmac.compare_digest(expected.encode(), digest.strip().lower().encode("utf-8")) and plain

    async def check_off_loop(self, user: str, given: str) -> bool:
        """`check`, with the hashing on one of this file's threads: at most HASH_THREADS at once,
        the others waiting their turn. TooBusy when MAX_WAITING_CHECKS already wait."""
        if self.remembered(user, given):
            return True
        with self._lock:
            if self._waiting >= MAX_WAITING_CHECKS:
                raise TooBusy("too many logins being checked at once")
            self._waiting += 1
        try:
            checking = self._executor.submit(self.check, user, given)
        except BaseException:
            self._done()
            raise
        checking.add_done_callback(self._done)  # a cancelled wait leaves a running check counted until it ends
        return await asyncio.wrap_future(checking)

    def _done(self, _: Future[bool] | None = None) -> None:
        with self._lock:
            self._waiting -= 1
