"""caniemail.com's support data, shipped in the package (data/caniemail.json, CC BY 4.0; see data/CANIEMAIL.md).

Read once, on first use, into one `Feature` per caniemail slug: its texts (Markdown made HTML, as Mailpit
gives them), and its results per email client in Mailpit's shape (`Name`, `Platform`, `Family`,
`Version`, `Support`, `NoteNumber`) with the percentages of its score. Nothing is fetched at run time.
"""

from __future__ import annotations

import functools
import html
import json
import re
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

__all__ = ["DATA_FILE", "CanIEmail", "Feature", "load", "markdown_html", "support_of", "validate"]

DATA_FILE = "caniemail.json"
"""The data's file name, in the `data` folder beside this module."""

SITE = "https://www.caniemail.com"
_SUPPORT = {"y": "yes", "n": "no", "a": "partial"}
_NOTE = re.compile(r"#(\d+)")
_CODE = re.compile(r"`([^`]+)`")
_STRONG = re.compile(r"\*\*([^*]+)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\(((?:https?://|/)[^)\s]*)\)")


def markdown_html(text: str | None) -> str:
    """caniemail's bits of Markdown (code, bold, links) as HTML; everything else escaped."""
    if not text:
        return ""
    out = html.escape(text.strip(), quote=True)
    out = _CODE.sub(r"<code>\1</code>", out)
    out = _STRONG.sub(r"<strong>\1</strong>", out)

    def link(match: re.Match[str]) -> str:
        url = match[2] if match[2].startswith("http") else SITE + match[2]
        return f'<a href="{url}" target="_blank" rel="noopener noreferrer">{match[1]}</a>'

    return _LINK.sub(link, out)


def support_of(value: str) -> tuple[str, list[str]] | None:
    """A caniemail support value (`y`, `n`, `a #2`, `y #1 #3`) as Mailpit's word and its note numbers;
    None for `u` (not known), which is left out of results and scores."""
    word = _SUPPORT.get(value.strip()[:1].lower())
    if word is None:
        return None
    return word, _NOTE.findall(value)


@dataclass(frozen=True)
class Feature:
    """One caniemail feature, ready to be a warning of the HTML check."""

    slug: str
    title: str
    description: str
    url: str
    category: str
    tags: list[str]
    keywords: str
    notes_by_number: dict[str, str]
    results: list[dict[str, str]]
    supported: float
    partial: float
    unsupported: float


@dataclass(frozen=True)
class CanIEmail:
    """The whole data set: its date, every feature by slug, and the email clients of each platform."""

    api_version: str
    last_update_date: str
    features: dict[str, Feature]
    platforms: dict[str, list[str]]


def validate(data: Any) -> list[str]:
    """What is wrong with a caniemail data.json (an empty list if it can be used)."""
    if not isinstance(data, dict):
        return ["the data is not a JSON object"]
    problems = [f"no {key!r}" for key in ("api_version", "last_update_date", "nicenames", "data") if key not in data]
    if problems:
        return problems
    names = data["nicenames"]
    if not isinstance(names, dict) or not all(isinstance(names.get(k), dict) for k in ("family", "platform")):
        problems.append("nicenames has no family and platform names")
    features = data["data"]
    if not isinstance(features, list) or len(features) < 100:
        return [*problems, "data is not a list of (at least 100) features"]
    for index, feature in enumerate(features):
        if not isinstance(feature, dict):
            problems.append(f"data[{index}] is not an object")
            continue
        for key, kind in (("slug", str), ("title", str), ("category", str), ("stats", dict)):
            if not isinstance(feature.get(key), kind):
                problems.append(f"data[{index}] ({feature.get('slug')!r}): {key} is not a {kind.__name__}")
        for family, platforms in (feature.get("stats") or {}).items():
            if not isinstance(platforms, dict) or not all(
                isinstance(versions, dict) and all(isinstance(v, str) for v in versions.values())
                for versions in platforms.values()
            ):
                problems.append(
                    f"data[{index}] ({feature.get('slug')!r}): stats of {family!r} are not platform: version: support"
                )
    slugs = [f.get("slug") for f in features if isinstance(f, dict)]
    for required in ("html-style", "css-display-flex", "css-at-media", "image-webp"):
        if required not in slugs:
            problems.append(f"no feature {required!r}")
    return problems[:20]


def _feature(raw: dict[str, Any], families: dict[str, str], platform_names: dict[str, str]) -> Feature:
    results: list[dict[str, str]] = []
    counts = {"yes": 0, "no": 0, "partial": 0}
    for family, platforms in raw["stats"].items():
        for platform, versions in platforms.items():
            for version, value in versions.items():
                support = support_of(value)
                if support is None:
                    continue
                word, numbers = support
                counts[word] += 1
                results.append(
                    {
                        "Name": f"{families.get(family, family)} {platform_names.get(platform, platform)} ({version})",
                        "Platform": platform,
                        "Family": family,
                        "Version": version,
                        "Support": word,
                        "NoteNumber": numbers[0] if numbers else "",
                    }
                )
    total = sum(counts.values()) or 1
    notes = raw.get("notes_by_num") or {}
    return Feature(
        slug=raw["slug"],
        title=raw["title"],
        description=markdown_html(raw.get("description")),
        url=raw.get("url") or f"{SITE}/features/{raw['slug']}/",
        category=raw["category"],
        tags=list(raw.get("tags") or []),
        keywords=raw.get("keywords") or "",
        notes_by_number={str(number): markdown_html(note) for number, note in notes.items()},
        results=results,
        supported=counts["yes"] / total * 100,
        partial=counts["partial"] / total * 100,
        unsupported=counts["no"] / total * 100,
    )


def parse(data: dict[str, Any]) -> CanIEmail:
    """The data set from caniemail's data.json (checked by `validate` first)."""
    families: dict[str, str] = data["nicenames"]["family"]
    platform_names: dict[str, str] = data["nicenames"]["platform"]
    features = {raw["slug"]: _feature(raw, families, platform_names) for raw in data["data"]}
    platforms: dict[str, set[str]] = {}
    for raw in data["data"]:
        for family, stats in raw["stats"].items():
            for platform in stats:
                platforms.setdefault(platform, set()).add(families.get(family, family))
    return CanIEmail(
        api_version=str(data["api_version"]),
        last_update_date=str(data["last_update_date"]),
        features=features,
        platforms={platform: sorted(names) for platform, names in sorted(platforms.items())},
    )


@functools.cache
def load() -> CanIEmail:
    """The shipped data set, read on first use (RuntimeError naming the file if it is missing or broken)."""
    resource = files("mailcatch.checks") / "data" / DATA_FILE
    try:
        data = json.loads(resource.read_bytes())
    except (OSError, ValueError) as error:
        raise RuntimeError(f"caniemail's data ({resource}) can't be read: {error}") from None
    problems = validate(data)
    if problems:
        raise RuntimeError(f"caniemail's data ({resource}) is not usable: {'; '.join(problems)}")
    return parse(data)
