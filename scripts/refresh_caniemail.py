"""Refresh the caniemail data the HTML check ships with (mailcatch/checks/data/caniemail.json).

    python scripts/refresh_caniemail.py               # from https://www.caniemail.com/api/data.json
    python scripts/refresh_caniemail.py --npm         # from the npm package `caniemail`'s newest release
    python scripts/refresh_caniemail.py --from FILE   # from a data.json at hand (or a URL)
    python scripts/refresh_caniemail.py --check FILE  # only check a file

The data is checked (its shape, and that mailcatch can read every feature) before it replaces the
shipped copy; an npm tarball is checked against the registry's integrity hash. The script prints the
values mailcatch/checks/data/CANIEMAIL.md records (date, source, SHA-256): update it with them.
Standard library only; nothing here runs when mailcatch runs.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailcatch.checks.caniemail import parse, validate  # noqa: E402 - after the path is set

TARGET = ROOT / "mailcatch" / "checks" / "data" / "caniemail.json"
SITE_URL = "https://www.caniemail.com/api/data.json"
NPM_URL = "https://registry.npmjs.org/caniemail/latest"
NPM_PATHS = ("package/data/caniemail.json", "package/dist/data/caniemail.json")
MAX_BYTES = 50 * 1024 * 1024


def fetch(url: str) -> bytes:
    """The body at a URL (an https one), at most MAX_BYTES."""
    request = urllib.request.Request(url, headers={"User-Agent": "mailcatch refresh_caniemail.py"})
    with urllib.request.urlopen(request, timeout=60) as response:
        body: bytes = response.read(MAX_BYTES + 1)
    if len(body) > MAX_BYTES:
        raise SystemExit(f"{url}: more than {MAX_BYTES} bytes")
    return body


def from_npm() -> tuple[bytes, str]:
    """data/caniemail.json of the npm package's newest release, its tarball checked against its integrity."""
    meta = json.loads(fetch(NPM_URL))
    dist = meta["dist"]
    tarball = fetch(dist["tarball"])
    algorithm, _, expected = dist.get("integrity", "").partition("-")
    if algorithm not in ("sha512", "sha256") or base64.b64decode(expected) != hashlib.new(algorithm, tarball).digest():
        raise SystemExit(f"{dist['tarball']}: its bytes don't match the registry's integrity {dist.get('integrity')}")
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for name in NPM_PATHS:
            try:
                member = archive.extractfile(name)
            except KeyError:
                continue
            if member is not None:
                return member.read(), f"npm package caniemail {meta['version']} ({name.removeprefix('package/')})"
    raise SystemExit(f"caniemail {meta['version']} on npm has none of {', '.join(NPM_PATHS)}")


def checked(raw: bytes, source: str) -> dict[str, Any]:
    """The data, if mailcatch can use it; otherwise exit saying what is wrong."""
    try:
        data = json.loads(raw)
    except ValueError as error:
        raise SystemExit(f"{source}: not JSON: {error}") from None
    problems = validate(data)
    if problems:
        raise SystemExit(f"{source}: not usable caniemail data:\n  " + "\n  ".join(problems))
    parse(data)  # every feature reads
    assert isinstance(data, dict)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--npm", action="store_true", help="take it from the npm package caniemail's newest release")
    where.add_argument("--from", dest="source", metavar="FILE_OR_URL", help="take it from this file or URL")
    where.add_argument("--check", metavar="FILE", help="only check this file")
    parser.add_argument("--output", type=Path, default=TARGET, help=f"where to write it (default: {TARGET})")
    args = parser.parse_args(argv)
    if args.check:
        raw, source = Path(args.check).read_bytes(), args.check
    elif args.npm:
        raw, source = from_npm()
    elif args.source and not args.source.startswith(("https://", "http://")):
        raw, source = Path(args.source).read_bytes(), args.source
    else:
        url = args.source or SITE_URL
        raw, source = fetch(url), url
    data = checked(raw, source)
    summary = (
        f"last_update_date: {data['last_update_date']} (api_version {data['api_version']}), "
        f"{len(data['data'])} features\nsource: {source}\nSHA-256: {hashlib.sha256(raw).hexdigest()}"
    )
    if args.check:
        print(f"{args.check}: usable\n{summary}")
        return 0
    output: Path = args.output
    temporary = output.with_name(output.name + ".new")
    temporary.write_bytes(raw)
    temporary.replace(output)
    print(f"wrote {output}\n{summary}\nRecord these in mailcatch/checks/data/CANIEMAIL.md.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
