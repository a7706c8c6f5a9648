"""The --dkim-keys file: DKIM public keys as TXT records, so that signatures verify offline.

One record per entry, named `selector._domainkey.domain`, in either of two forms:

    # a comment (a line starting with # or ;)
    mail._domainkey.example.com  v=DKIM1; k=rsa; p=MIIBIjANBgkqh...

    ; zone-file style, as a DNS zone or `dig` prints it: an optional TTL and class, TXT, then
    ; quoted strings (joined without spaces), in parentheses when they go on over several lines
    ; (unquoted data after TXT is taken as it is)
    ed._domainkey.example.org. 3600 IN TXT "v=DKIM1; k=ed25519; " "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
    big._domainkey.example.net. IN TXT ( "v=DKIM1; k=rsa; p=MIIBIjANBgkqh..."
                                         "...IDAQAB" )

Names are compared without case and without a trailing dot. In the plain form the value is the rest
of the line as written (its `;` separate tags); in the zone form a `;` outside the quotes starts a
comment. A name given twice is an error, as is a line that is neither form.
"""

from __future__ import annotations

import re
from pathlib import Path

from mailcatch.errors import ConfigError

__all__ = ["parse_dkim_keys", "read_dkim_keys", "record_name"]

_TTL = re.compile(r"\d+[smhdw]?", re.IGNORECASE)
_CLASSES = {"IN", "CH", "HS"}


def record_name(name: str) -> str:
    """A record name as the file's entries are looked up: lower case, no trailing dot."""
    return name.strip().rstrip(".").lower()


def read_dkim_keys(path: str | Path) -> dict[str, str]:
    """The records of a --dkim-keys file, by name; ConfigError saying where it is wrong."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"--dkim-keys: no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"--dkim-keys: can't read {path}: {error}") from None
    return parse_dkim_keys(text, f"--dkim-keys {path}")


def _quoted_strings(text: str, where: str) -> tuple[list[str], str, int]:
    """The quoted strings at the start of `text` (zone style), what follows them, and the parentheses' depth change."""
    strings: list[str] = []
    depth = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char in " \t":
            i += 1
        elif char == "(":
            depth += 1
            i += 1
        elif char == ")":
            depth -= 1
            i += 1
        elif char == ";":  # a comment to the end of the line
            break
        elif char == '"':
            i += 1
            value = []
            while i < len(text) and text[i] != '"':
                if text[i] == "\\" and i + 1 < len(text):
                    escaped = re.match(r"\d{3}", text[i + 1 :])
                    if escaped:
                        value.append(chr(int(escaped.group(0))))
                        i += 4
                        continue
                    i += 1
                value.append(text[i])
                i += 1
            if i >= len(text):
                raise ConfigError(f"{where}: a quoted string is not closed")
            strings.append("".join(value))
            i += 1
        else:
            raise ConfigError(f"{where}: expected a quoted string, found {text[i : i + 20]!r}")
    return strings, text[i:], depth


def _zone_value(rest: str) -> str | None:
    """The TXT data of a zone-style line (after the name), without its optional TTL, class and type;
    None when the line is in the plain form."""
    words = rest.split(None, 3)
    index = 0
    for _ in range(2):  # TTL and class, in either order
        if index < len(words) and (_TTL.fullmatch(words[index]) or words[index].upper() in _CLASSES):
            index += 1
    if index < len(words) and words[index].upper() == "TXT":
        return rest.split(None, index + 1)[index + 1] if len(words) > index + 1 else ""
    if index == 0 and rest.lstrip().startswith(('"', "(")):
        return rest.lstrip()
    return None


def parse_dkim_keys(text: str, source: str = "--dkim-keys") -> dict[str, str]:
    """Records by name from the text of a --dkim-keys file (see the module's docstring for its forms)."""
    records: dict[str, str] = {}
    lines = text.splitlines()
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        where = f"{source}, line {number}"
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        if line[0] in " \t":
            raise ConfigError(f"{where}: a record starts with its name, at the start of the line")
        name, rest = [*re.split(r"[ \t]+", stripped, maxsplit=1), ""][:2]
        name = record_name(name)
        if "._domainkey." not in f".{name}" or name.startswith("._domainkey"):
            raise ConfigError(f"{where}: {name!r} is not a name of the form selector._domainkey.domain")
        zone = _zone_value(rest)
        if zone is None:
            value = rest.strip()
        elif not zone.lstrip().startswith(('"', "(")):  # `TXT v=DKIM1; ...`, unquoted
            value = zone.strip()
        else:
            strings, _, depth = _quoted_strings(zone, where)
            while depth > 0:  # parentheses go on over the next lines
                if number >= len(lines):
                    raise ConfigError(f"{where}: the parentheses are not closed")
                more, _, change = _quoted_strings(lines[number], f"{source}, line {number + 1}")
                strings += more
                depth += change
                number += 1
            if depth < 0:
                raise ConfigError(f"{where}: a closing parenthesis has no opening one")
            if not strings:
                raise ConfigError(f"{where}: no quoted TXT data after TXT")
            value = "".join(strings)
        if not value:
            raise ConfigError(f"{where}: no key record after the name {name!r}")
        if name in records:
            raise ConfigError(f"{where}: {name} is given twice")
        records[name] = value
    return records
