"""Where DKIM keys come from: the --dkim-keys file, then DNS when --dkim-dns allows it.

`KeyFinder` is the look-up function dkimpy calls for each `selector._domainkey.domain` it needs. It
remembers, for each name, where the key came from and why none could be used, so that a signature
that does not verify can say "no key" or "DNS lookup failed" rather than only "fail".
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field

import dkim  # type: ignore[import-untyped]
import dns.exception
import dns.resolver

from mailcatch.checks.dkim_keys import record_name

__all__ = ["KeyFinder", "KeyLookup", "KeySources"]


@dataclass(frozen=True)
class KeySources:
    """Where a check may look for keys."""

    records: dict[str, str] = field(default_factory=dict)
    """The --dkim-keys file's records, by name (lower case, no trailing dot)."""
    keys_file: str | None = None
    """The file they came from (for the reasons given); None without --dkim-keys."""
    dns: bool = False
    """Whether DNS may be asked (--dkim-dns)."""
    dns_server: tuple[str, int] | None = None
    """The resolver to ask (address, port); None for the system's (/etc/resolv.conf)."""
    timeout: float = 4.0
    """Seconds one DNS look-up may take."""


@dataclass(frozen=True)
class KeyLookup:
    """What a look-up of one name found."""

    record: bytes | None
    """The key record (TXT data), or None when there is none that can be used."""
    source: str
    """"file" or "dns" when a record was found, "" otherwise."""
    result: str
    """"" when the record can be used; otherwise the signature's result: nokey, temperror or permerror."""
    reason: str


class KeyFinder:
    """dkimpy's `dnsfunc`: the key record for a name, from the file or DNS; each name looked up once."""

    def __init__(self, sources: KeySources) -> None:
        self.sources = sources
        self.lookups: dict[str, KeyLookup] = {}
        self.trail: list[tuple[str, str]] = []
        """("lookup", name) for each call in order, and ("error", text) for what dkimpy reported
        meanwhile (see `Notes`): which signature an error belongs to is where it falls between look-ups."""

    def __call__(self, name: bytes, timeout: float = 5) -> bytes | None:
        key = record_name(name.decode("utf-8", "replace"))
        self.trail.append(("lookup", key))
        if key not in self.lookups:
            self.lookups[key] = self._find(key)
        return self.lookups[key].record

    def lookup(self, name: str) -> KeyLookup | None:
        """What was found for a name, if it was looked up."""
        return self.lookups.get(record_name(name))

    def _find(self, name: str) -> KeyLookup:
        sources = self.sources
        if name in sources.records:
            return _usable(name, sources.records[name].encode("utf-8"), "file", "--dkim-keys")
        if not sources.dns:
            where = "in --dkim-keys" if sources.keys_file else "(no --dkim-keys file given)"
            return KeyLookup(None, "", "nokey", f"no key for {name} {where} and DNS look-ups are off (--dkim-dns)")
        return self._from_dns(name)

    def _from_dns(self, name: str) -> KeyLookup:
        also = " in --dkim-keys nor" if self.sources.keys_file else ""
        try:
            resolver = self._resolver()
            answer = resolver.resolve(name + ".", "TXT", lifetime=self.sources.timeout, search=False)
        except dns.resolver.NXDOMAIN:
            return KeyLookup(None, "", "nokey", f"no key for {name}{also} in DNS: the name does not exist (NXDOMAIN)")
        except dns.resolver.NoAnswer:
            return KeyLookup(None, "", "nokey", f"no key for {name}{also} in DNS: the name has no TXT record")
        except dns.resolver.LifetimeTimeout:
            return KeyLookup(
                None,
                "",
                "temperror",
                f"DNS lookup failed: no answer for {name} TXT within {self.sources.timeout:g} s from {self._server()}",
            )
        except dns.resolver.NoResolverConfiguration:
            return KeyLookup(
                None, "", "temperror", "DNS lookup failed: no DNS resolver is configured (/etc/resolv.conf)"
            )
        except dns.exception.DNSException as error:
            return KeyLookup(None, "", "temperror", f"DNS lookup failed for {name} TXT ({self._server()}): {error}")
        texts = [b"".join(rdata.strings) for rdata in answer]
        keys = [text for text in texts if b"p=" in text] or texts
        return _usable(name, keys[0], "dns", "DNS")

    def _resolver(self) -> dns.resolver.Resolver:
        if self.sources.dns_server is None:
            return dns.resolver.Resolver(configure=True)
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [self.sources.dns_server[0]]
        resolver.port = self.sources.dns_server[1]
        return resolver

    def _server(self) -> str:
        server = self.sources.dns_server
        return f"the resolver at {server[0]} port {server[1]}" if server else "the system's resolver"


def _usable(name: str, record: bytes, source: str, where: str) -> KeyLookup:
    """The record if dkimpy can read a key from it; otherwise a permerror saying why."""
    try:
        dkim.evaluate_pk(name.encode("utf-8"), record)
    except dkim.NaClNotFoundError:
        return KeyLookup(None, source, "permerror", f"the ed25519 key for {name} needs PyNaCl, which is not installed")
    except (dkim.KeyFormatError, binascii.Error, ValueError) as error:
        return KeyLookup(None, source, "permerror", f"the key record for {name} ({where}) can't be used: {error}")
    return KeyLookup(record, source, "", "")
