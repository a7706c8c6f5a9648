"""The HTML check: which HTML elements and attributes, CSS properties, values, selectors and at-rules a
message's HTML uses, how well email clients support each (caniemail's data), and where each is.

The answer is Mailpit's HTMLCheckResponse (`Warnings`, `Platforms`, `Total`), each warning with
mailcatch's own `Where`: the first places (line and column in the message's HTML, as GET
/api/v1/message/{ID} gives it, and a snippet of the source) where the feature is used. Scores are
computed as Mailpit computes them: a feature's percentages are over the client versions caniemail
tested (those it marks unknown left out); the total takes the feature most weighted by how often it is
used against the number of elements.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable
from typing import Any

from mailcatch.checks import css_tokens
from mailcatch.checks.caniemail import CanIEmail, load
from mailcatch.checks.html_scan import Comment, Doctype, Positions, RawText, Tag, scan

__all__ = ["MAX_PLACES", "check_html", "slugs_looked_for"]

MAX_PLACES = 20
"""Places listed in a warning's `Where` (its `Score.Found` counts them all)."""
_SNIPPET = 80
SCRIPT = "html-script"
"""Mailpit's own warning, not in caniemail's data: no email client runs JavaScript."""

# --- HTML ----------------------------------------------------------------------------------------
_SEMANTICS = [
    "article",
    "aside",
    "details",
    "figcaption",
    "figure",
    "footer",
    "header",
    "main",
    "mark",
    "nav",
    "section",
    "summary",
    "time",
]
_ELEMENTS: dict[str, str] = {
    **{
        tag: f"html-{tag}"
        for tag in [
            "abbr",
            "acronym",
            "address",
            "audio",
            "base",
            "bdi",
            "blockquote",
            "code",
            "del",
            "dfn",
            "dialog",
            "div",
            "form",
            "hr",
            "img",
            "link",
            "marquee",
            "meter",
            "object",
            "p",
            "picture",
            "pre",
            "progress",
            "rp",
            "rt",
            "ruby",
            "select",
            "small",
            "span",
            "strike",
            "strong",
            "style",
            "svg",
            "table",
            "textarea",
            "video",
            "wbr",
        ]
    },
    "embed": "html-object",
    **{f"h{level}": "html-h1-h6" for level in range(1, 7)},
    **{tag: "html-lists" for tag in ("ul", "ol", "dl")},
    **{tag: "html-semantics" for tag in _SEMANTICS},
    "map": "html-image-maps",
}
_ATTRIBUTES: dict[str, str] = {
    **{
        name: f"html-{name}"
        for name in [
            "align",
            "background",
            "cellpadding",
            "cellspacing",
            "dir",
            "height",
            "hidden",
            "lang",
            "popover",
            "required",
            "role",
            "target",
            "valign",
            "width",
        ]
    },
    **{
        name: f"html-{name}"
        for name in ("aria-describedby", "aria-hidden", "aria-label", "aria-labelledby", "aria-live")
    },
    "loading": "html-loading-attribute",
    "srcset": "html-srcset",
    "usemap": "html-image-maps",
    "inert": "css-inert-attribute",
}
_INPUTS = {kind: f"html-input-{kind}" for kind in ("checkbox", "hidden", "radio", "reset", "submit", "text")}
_IMAGE_TYPES = {
    "apng": "image-apng",
    "avif": "image-avif",
    "bmp": "image-bmp",
    "gif": "image-gif",
    "hdr": "image-hdr",
    "heif": "image-heif",
    "heic": "image-heif",
    "ico": "image-ico",
    "jpg": "image-jpg",
    "jpeg": "image-jpg",
    "mp4": "image-mp4",
    "png": "image-png",
    "svg": "image-svg",
    "tif": "image-tiff",
    "tiff": "image-tiff",
    "webp": "image-webp",
}
_NOT_NODES = frozenset({"html", "head", "meta", "title"})

# --- CSS -----------------------------------------------------------------------------------------
_SIDES = ("top", "right", "bottom", "left")
_PROPERTIES: dict[str, str] = {
    **{f"border-{side}": "css-border" for side in _SIDES},
    **{f"border-{part}": "css-border" for part in ("width", "style", "color")},
    **{f"border-{side}-{part}": "css-border" for side in _SIDES for part in ("width", "style", "color")},
    **{f"border-{a}-{b}-radius": "css-border-radius" for a in ("top", "bottom") for b in ("left", "right")},
    **{f"border-{a}-{b}-radius": "css-border-radius-logical" for a in ("start", "end") for b in ("start", "end")},
    "border-inline": "css-border-inline-block",
    "border-block": "css-border-inline-block",
    **{
        f"border-{axis}-{part}": "css-border-inline-block-individual"
        for axis in ("inline", "block")
        for part in ("color", "style", "width", "start", "end")
    },
    **{
        f"border-{axis}-{edge}-{part}": "css-border-inline-block-longhand"
        for axis in ("inline", "block")
        for edge in ("start", "end")
        for part in ("color", "style", "width")
    },
    **{
        name: "css-column-layout-properties"
        for name in [
            "columns",
            "column-fill",
            "column-rule",
            "column-rule-color",
            "column-rule-style",
            "column-rule-width",
            "column-span",
            "column-width",
        ]
    },
    "row-gap": "css-gap",
    "column-gap": "css-gap",
    **{f"grid-template-{part}": "css-grid-template" for part in ("areas", "columns", "rows")},
    "block-size": "css-block-inline-size",
    **{side: "css-left-right-top-bottom" for side in _SIDES},
    **{
        f"inset-{part}": "css-inset"
        for part in ("block", "inline", "block-start", "block-end", "inline-start", "inline-end")
    },
    **{f"{box}-{side}": f"css-{box}" for box in ("margin", "padding") for side in _SIDES},
    **{f"{box}-{axis}": f"css-{box}-inline-block" for box in ("margin", "padding") for axis in ("inline", "block")},
    **{
        f"{box}-{axis}-{edge}": f"css-{box}-{axis}-start-end"
        for box in ("margin", "padding")
        for axis in ("inline", "block")
        for edge in ("start", "end")
    },
    "text-emphasis-color": "css-text-emphasis",
    "text-emphasis-style": "css-text-emphasis",
    "overflow-x": "css-overflow",
    "overflow-y": "css-overflow",
    "overflow-block": "css-overflow",
    "overflow-inline": "css-overflow",
    "outline-width": "css-outline",
    "outline-style": "css-outline",
    "outline-color": "css-outline",
    "any-hover": "css-at-media-hover",
}
"""Properties whose feature isn't `css-` + the property's own name (those are found by name)."""
_PROPERTY_PREFIXES = (
    ("animation", "css-animation"),
    ("transition", "css-transition"),
    ("scroll-snap", "css-scroll-snap"),
)
_VENDOR = re.compile(r"^-(?:webkit|moz|ms|o)-")
_DISPLAY = {
    "flex": "css-display-flex",
    "inline-flex": "css-display-flex",
    "grid": "css-display-grid",
    "inline-grid": "css-display-grid",
    "none": "css-display-none",
}
_FUNCTIONS = {
    "rgb": "css-rgb",
    "rgba": "css-rgba",
    "linear-gradient": "css-linear-gradient",
    "repeating-linear-gradient": "css-linear-gradient",
    "radial-gradient": "css-radial-gradient",
    "repeating-radial-gradient": "css-radial-gradient",
    "conic-gradient": "css-conic-gradient",
    "repeating-conic-gradient": "css-conic-gradient",
    "calc": "css-unit-calc",
    "clamp": "css-function-clamp",
    "min": "css-function-min",
    "max": "css-function-max",
    "light-dark": "css-function-light-dark",
    "var": "css-variables",
    "lch": "css-modern-color",
    "oklch": "css-modern-color",
    "lab": "css-modern-color",
    "oklab": "css-modern-color",
}
_KEYWORDS = {
    "initial": "css-unit-initial",
    "fit-content": "css-intrinsic-size",
    "min-content": "css-intrinsic-size",
    "max-content": "css-intrinsic-size",
    **{name: "css-sytem-ui" for name in ("system-ui", "ui-serif", "ui-sans-serif", "ui-rounded", "ui-monospace")},
}
_UNITS = {
    **{
        unit: f"css-unit-{unit}"
        for unit in ["ch", "cm", "em", "ex", "in", "mm", "pc", "pt", "px", "rem", "vh", "vmax", "vmin", "vw"]
    },
    "%": "css-unit-percent",
}
_FUNCTION = re.compile(r"([a-zA-Z][\w-]*)\(")
_WORD = re.compile(r"(?<![\w.#-])([a-zA-Z][\w-]*)(?![\w(-])")
_NUMBER_UNIT = re.compile(r"(?<![\w#.-])[+-]?(?:\d+(?:\.\d+)?|\.\d+)(%|[a-zA-Z]+)?(?![\w-])")
_QUOTED_OR_URL = re.compile(r"""url\([^)]*\)|"[^"]*"|'[^']*'""", re.IGNORECASE)
_AT_RULES = {
    "font-face": "css-at-font-face",
    "import": "css-at-import",
    "media": "css-at-media",
    "supports": "css-at-supports",
}
_MEDIA_FEATURES = (
    (re.compile(r"prefers-color-scheme", re.I), "css-at-media-prefers-color-scheme"),
    (re.compile(r"prefers-reduced-motion", re.I), "css-at-media-prefers-reduced-motion"),
    (re.compile(r"\borientation\b", re.I), "css-at-media-orientation"),
    (re.compile(r"\(\s*(?:any-)?hover\b", re.I), "css-at-media-hover"),
    (re.compile(r"device-pixel-ratio", re.I), "css-at-media-device-pixel-ratio"),
)
# Selectors
_PSEUDO = re.compile(r"(::?)([a-zA-Z][\w-]*)")
_PSEUDO_ELEMENTS_OLD = frozenset({"before", "after", "first-letter", "first-line"})
_BRACKETS = re.compile(r"\[[^\]]*\]")
_COMBINATOR = re.compile(r"\s*([>+~])\s*|\s+")
_SIMPLE = re.compile(r"\*|[a-zA-Z][\w-]*|\.[\w-]+|#[\w-]+|\[\]|::?[\w-]+(?:\(\))?|&")


class _Findings:
    """What was found: for each feature, how often, and its first places."""

    def __init__(self, html: str, known: set[str]) -> None:
        self.positions = Positions(html)
        self.known = known
        self.found: dict[str, int] = {}
        self.places: dict[str, list[dict[str, Any]]] = {}

    def add(self, slug: str, offset: int, snippet: str) -> None:
        if slug not in self.known:
            return
        self.found[slug] = self.found.get(slug, 0) + 1
        places = self.places.setdefault(slug, [])
        if len(places) < MAX_PLACES:
            line, column = self.positions.at(offset)
            text = " ".join(snippet.split())
            if len(text) > _SNIPPET:
                text = text[: _SNIPPET - 1] + "…"
            places.append({"Line": line, "Column": column, "Snippet": text})


def _property_slug(name: str, known: set[str]) -> str | None:
    if name.startswith("--"):
        return "css-variables"
    name = _VENDOR.sub("", name)
    if name in _PROPERTIES:
        return _PROPERTIES[name]
    for prefix, slug in _PROPERTY_PREFIXES:
        if name == prefix or name.startswith(prefix + "-"):
            return slug
    if name.startswith("background-") and f"css-{name}" not in known:
        return "css-background"
    slug = f"css-{name}"
    return slug if slug in known else None


def _declaration(found: _Findings, declaration: css_tokens.Declaration, offset: int) -> None:
    at, text = offset + declaration.start, declaration.text
    name = declaration.property
    slug = _property_slug(name, found.known)
    value = declaration.value
    if slug == "css-display":
        slug = _DISPLAY.get(value.strip().lower(), slug)
    if slug:
        found.add(slug, at, text)
    if declaration.important:
        found.add("css-important", at, text)
    bare = _QUOTED_OR_URL.sub(" ", value)
    seen: set[str] = set()
    for match in _FUNCTION.finditer(bare):
        function = _FUNCTIONS.get(_VENDOR.sub("", match[1].lower()))
        if function and function not in seen:
            seen.add(function)
            found.add(function, at, text)
    for match in _WORD.finditer(bare):
        keyword = _KEYWORDS.get(match[1].lower())
        if keyword and keyword not in seen:
            seen.add(keyword)
            found.add(keyword, at, text)
    for match in _NUMBER_UNIT.finditer(bare):
        unit = _UNITS.get((match[1] or "").lower())
        if unit and unit not in seen:
            seen.add(unit)
            found.add(unit, at, text)


def _without_arguments(selector: str) -> str:
    """A selector without what is inside the parentheses of :not(), :nth-child()... (`:not()`), however nested."""
    kept: list[str] = []
    depth = 0
    start = 0
    for match in re.finditer(r"[()]", selector):
        if match[0] == "(":
            if depth == 0:
                kept.append(selector[start : match.end()])
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                start = match.start()
    kept.append(selector[start:] if depth == 0 else ")")
    return "".join(kept)


def _selector(found: _Findings, rule: css_tokens.Rule, offset: int) -> None:
    at, text = offset + rule.start, rule.selector
    if rule.nested:
        found.add("css-nesting", at, text)
    kinds: set[str] = set()
    for match in _PSEUDO.finditer(text):
        colons, name = match[1], match[2].lower()
        if colons == "::" or name in _PSEUDO_ELEMENTS_OLD:
            kinds.add(f"css-pseudo-element-{name}")
        else:
            kinds.add(f"css-pseudo-class-{name}")
    flat = _without_arguments(_BRACKETS.sub("[]", text))
    groups = [group.strip() for group in flat.split(",") if group.strip()]
    if len(groups) > 1:
        kinds.add("css-selector-grouping")
    for group in groups:
        for combinator in _COMBINATOR.finditer(group.strip()):
            symbol = combinator[1]
            kinds.add(
                {
                    ">": "css-selector-child",
                    "+": "css-selector-adjacent-sibling",
                    "~": "css-selector-general-sibling",
                }.get(symbol or "", "css-selector-descendant")
            )
        for compound in re.split(r"\s*[>+~]\s*|\s+", group.strip()):
            simples = _SIMPLE.findall(compound)
            counted = [s for s in simples if not s.startswith((":", "&"))]
            if len(counted) > 1:
                kinds.add("css-selector-chaining")
            for simple in counted:
                kinds.add(
                    "css-selector-universal"
                    if simple == "*"
                    else "css-selector-class"
                    if simple.startswith(".")
                    else "css-selector-id"
                    if simple.startswith("#")
                    else "css-selector-attribute"
                    if simple.startswith("[")
                    else "css-selector-type"
                )
    for kind in sorted(kinds):
        found.add(kind, at, text)


def _at_rule(found: _Findings, rule: css_tokens.AtRule, offset: int) -> None:
    at, text = offset + rule.start, f"@{rule.name} {rule.prelude}".strip()
    name = _VENDOR.sub("", rule.name)
    if name == "keyframes":
        found.add("css-at-keyframes", at, text)
    elif name in _AT_RULES:
        found.add(_AT_RULES[name], at, text)
    if name == "media":
        for pattern, slug in _MEDIA_FEATURES:
            if pattern.search(rule.prelude):
                found.add(slug, at, text)


def _css(found: _Findings, items: Iterable[css_tokens.Item], offset: int, exact: bool = True) -> None:
    """Findings of CSS items read from text at `offset` in the HTML (`exact`: item offsets are source offsets)."""
    for item in items:
        where = offset if exact else offset - getattr(item, "start", 0)
        if isinstance(item, css_tokens.Declaration):
            _declaration(found, item, where)
        elif isinstance(item, css_tokens.Rule):
            _selector(found, item, where)
        elif isinstance(item, css_tokens.AtRule):
            _at_rule(found, item, where)
        else:
            found.add("css-comments", where + item.start, "/* ... */")


def _image(found: _Findings, tag: Tag, source: str) -> None:
    if source.lower().startswith("data:image/"):
        found.add("image-base64", tag.start, tag.source)
        return
    path = urllib.parse.urlsplit(source.strip()).path.lower()
    extension = path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
    if extension in _IMAGE_TYPES:
        found.add(_IMAGE_TYPES[extension], tag.start, tag.source)


def _tag(found: _Findings, tag: Tag) -> None:
    name, at, source = tag.name, tag.start, tag.source
    if name in _ELEMENTS:
        found.add(_ELEMENTS[name], at, source)
    if name == "script" and tag.value("type").strip().lower() not in ("application/ld+json", "application/json"):
        found.add(SCRIPT, at, source)
    elif name == "input":
        kind = tag.value("type").strip().lower() or "text"
        if kind in _INPUTS:
            found.add(_INPUTS[kind], at, source)
    elif name == "button":
        kind = tag.value("type").strip().lower() or "submit"
        if kind in ("reset", "submit"):
            found.add(f"html-button-{kind}", at, source)
    elif name == "a":
        href = tag.value("href").strip().lower()
        if href.startswith("#"):
            found.add("html-anchor-links", at, source)
        elif href.startswith("mailto:"):
            found.add("html-mailto-links", at, source)
    elif name == "meta" and tag.value("name").strip().lower() in ("color-scheme", "supported-color-schemes"):
        found.add("html-meta-color-scheme", at, source)
    elif name == "img" and tag.get("src") is not None:
        _image(found, tag, tag.value("src"))
    elif name == "html" and (tag.get("amp4email") is not None or tag.get("⚡4email") is not None):
        found.add("amp", at, source)
    for attribute in tag.attributes:
        slug = _ATTRIBUTES.get(attribute.name)
        if slug and not (attribute.name in ("width", "height") and name in ("svg",)):
            found.add(slug, at, source)
        elif attribute.name == "style" and attribute.value.strip():
            _css(found, css_tokens.read_declarations(attribute.value), attribute.start, attribute.exact)


def _warning(data: CanIEmail, slug: str, found: int, places: list[dict[str, Any]]) -> dict[str, Any]:
    if slug == SCRIPT:
        return {
            "Slug": SCRIPT,
            "Title": "<script> element",
            "Description": "No email client runs JavaScript.",
            "URL": "",
            "Category": "html",
            "Tags": [],
            "Keywords": "javascript",
            "Results": [],
            "NotesByNumber": {},
            "Score": {"Found": found, "Supported": 0.0, "Partial": 0.0, "Unsupported": 100.0},
            "Where": places,
        }
    feature = data.features[slug]
    return {
        "Slug": feature.slug,
        "Title": feature.title,
        "Description": feature.description,
        "URL": feature.url,
        "Category": feature.category,
        "Tags": feature.tags,
        "Keywords": feature.keywords,
        "Results": feature.results,
        "NotesByNumber": feature.notes_by_number,
        "Score": {
            "Found": found,
            "Supported": round(feature.supported, 4),
            "Partial": round(feature.partial, 4),
            "Unsupported": round(feature.unsupported, 4),
        },
        "Where": places,
    }


def slugs_looked_for(data: CanIEmail) -> set[str]:
    """Every feature the check can find (caniemail's that it has a rule for, and Mailpit's html-script)."""
    named = {
        *_ELEMENTS.values(),
        *_ATTRIBUTES.values(),
        *_INPUTS.values(),
        *_IMAGE_TYPES.values(),
        *_PROPERTIES.values(),
        *(slug for _, slug in _PROPERTY_PREFIXES),
        *_DISPLAY.values(),
        *_FUNCTIONS.values(),
        *_KEYWORDS.values(),
        *_UNITS.values(),
        *_AT_RULES.values(),
        *(slug for _, slug in _MEDIA_FEATURES),
        "amp",
        "html-body",
        "css-at-keyframes",
        "css-comments",
        "css-important",
        "css-nesting",
        "html-anchor-links",
        "html-mailto-links",
        "html-button-reset",
        "html-button-submit",
        "html-comments",
        "html-doctype",
        "html-meta-color-scheme",
        "image-base64",
    }
    by_name = {
        slug for slug in data.features if slug.startswith(("css-pseudo-", "css-selector-")) or _is_property(slug)
    }
    return (named | by_name) & set(data.features) | {SCRIPT}


def _is_property(slug: str) -> bool:
    """Whether a css- feature is a property found by its own name (css-<property>)."""
    return slug.startswith("css-") and not slug.startswith(("css-at-", "css-unit-", "css-function-", "css-pseudo-"))


def check_html(html: str, data: CanIEmail | None = None) -> dict[str, Any]:
    """The HTML check of a message's HTML, in Mailpit's shape with mailcatch's `Where` per warning."""
    data = data or load()
    known = slugs_looked_for(data)
    found = _Findings(html, known)
    nodes = 0
    for token in scan(html):
        if isinstance(token, Tag):
            if token.closing:
                if token.name == "body":  # a body is found by its end tag, as Mailpit finds it
                    found.add("html-body", token.start, token.source)
                continue
            if token.name not in _NOT_NODES:
                nodes += 1
            _tag(found, token)
        elif isinstance(token, RawText):
            if token.tag == "style":
                _css(found, css_tokens.read_stylesheet(token.text), token.start)
        elif isinstance(token, Comment):
            found.add("html-comments", token.start, f"<!--{token.text}-->")
        elif isinstance(token, Doctype):
            found.add("html-doctype", token.start, token.text)
    nodes = max(nodes, 1)
    warnings = [_warning(data, slug, count, found.places[slug]) for slug, count in found.found.items()]

    def weight(warning: dict[str, Any], key: str) -> float:
        score = warning["Score"]
        return float(score[key] * score["Found"] / nodes)

    unsupported = min(100.0, max((weight(w, "Unsupported") for w in warnings), default=0.0))
    partial = min(100.0 - unsupported, max((weight(w, "Partial") for w in warnings), default=0.0))
    warnings.sort(key=lambda w: weight(w, "Unsupported") + weight(w, "Partial"), reverse=True)
    return {
        "Warnings": warnings,
        "Platforms": data.platforms,
        "Total": {
            "Tests": len(known),
            "Nodes": nodes,
            "Supported": round(100.0 - partial - unsupported, 4),
            "Partial": round(partial, 4),
            "Unsupported": round(unsupported, 4),
        },
    }
