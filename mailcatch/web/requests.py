"""What every web route reads from a request: the store it serves, numbers in the query, the JSON body.

One module for these so the Mailpit API, its search and tag routes, the MailHog face, the
views and the info route read requests the same way and answer bad ones with the same words.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any

from starlette.requests import HTTPConnection, Request

from mailcatch.errors import BadRequest, PayloadTooLarge
from mailcatch.storage import MessageStore
from mailcatch.storage.search import parse_query

__all__ = [
    "MAX_JSON_BODY",
    "MAX_PAGE",
    "MAX_QUERY_TERMS",
    "SQLITE_MAX_INT",
    "id_list",
    "int_param",
    "json_body",
    "json_object",
    "latest_query",
    "mailhog_page_params",
    "page_params",
    "search_query",
    "store_of",
]

MAX_JSON_BODY = 10 * 1024 * 1024
MAX_PAGE = 10_000  # the most messages one MailHog page gives, whatever `limit` asks for
SQLITE_MAX_INT = 2**63 - 1  # larger values cannot be bound to a query (OverflowError)
MAX_QUERY_TERMS = 200  # SQLite refuses expressions over 1,000 deep, which about 1,000 terms reach
_ATOI = re.compile(r"[+-]?[0-9]+")
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s?([bkmg]?)b?", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
# Field names are matched ignoring case, as Mailpit (Go's encoding/json) matches them.
_BODY_FIELDS = {name.lower(): name for name in ("IDs", "Read", "Search", "Tags", "Name")}


def store_of(connection: HTTPConnection) -> MessageStore:
    """The store the app serves, which web.app puts in the app's state when it builds the app."""
    store: MessageStore = connection.app.state.store
    return store


def _whole_number(text: str | None) -> int | None:
    """`text` as Go's strconv.Atoi reads it (an optional sign, ASCII digits, 64 bits); None if it can't."""
    if text is None or not _ATOI.fullmatch(text):
        return None
    value = int(text)
    return value if -SQLITE_MAX_INT - 1 <= value <= SQLITE_MAX_INT else None


def int_param(request: Request, name: str, default: int, maximum: int | None = None) -> int:
    """The query parameter `name` as a whole number above 0, capped at `maximum`; `default` otherwise.

    As Mailpit reads `start` and `limit`: a value that isn't a whole number, or isn't above 0,
    is not an error but leaves the default.
    """
    value = _whole_number(request.query_params.get(name))
    if value is None or value <= 0:
        return default
    return min(value, maximum if maximum is not None else SQLITE_MAX_INT)


def page_params(request: Request) -> tuple[int, int]:
    """Mailpit's `start` and `limit` of a listing or search: from the first message, 50 of them by default.

    As in Mailpit, `limit=0` means every message (Mailpit sets no upper bound), and a value that
    isn't a whole number, or a negative one, leaves the default.
    """
    start = int_param(request, "start", 0)
    limit = _whole_number(request.query_params.get("limit"))
    if limit is None or limit < 0:
        return start, 50
    return start, limit or SQLITE_MAX_INT


def mailhog_page_params(request: Request) -> tuple[int, int]:
    """MailHog's `start` and `limit`: 0 and 50 by default, a value that isn't a whole number above 0 ignored."""
    return int_param(request, "start", 0), int_param(request, "limit", 50, maximum=MAX_PAGE)


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; an empty body is an empty object."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_JSON_BODY:
        raise PayloadTooLarge(f"request body over {MAX_JSON_BODY} bytes")
    body = bytearray()
    # Read in chunks and stop at the limit, so a body that lies about (or omits) its length
    # can't make the server hold more than MAX_JSON_BODY.
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BODY:
            raise PayloadTooLarge(f"request body over {MAX_JSON_BODY} bytes")
    if not body.strip():
        return {}
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return _form_fields(body.decode("utf-8", "replace"))
    data = json_object(body, "a JSON object")
    _refuse_lone_surrogates(data)
    return {_field_name(key): value for key, value in data.items()}


def json_object(body: bytes | bytearray, expected: str) -> dict[str, Any]:
    """A request body's JSON object; BadRequest saying what was `expected` for anything else."""
    try:
        data = json.loads(body)
    except ValueError as error:
        raise BadRequest(f"the request body is not valid JSON: {error}") from None
    except RecursionError:
        raise BadRequest("the request body is not valid JSON: it is nested too deep") from None
    if not isinstance(data, dict):
        raise BadRequest(f"the request body must be {expected}")
    return data


def _refuse_lone_surrogates(data: object) -> None:
    """BadRequest if a string in the JSON holds a lone surrogate (`"\\ud800"`): valid JSON, but not text."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and not item.isascii():
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise BadRequest(
                    'the request body holds a string with a lone surrogate (such as "\\ud800"), which is not text'
                ) from None


def search_query(text: str) -> str:
    """A search query checked for what the database can't run: BadRequest (400) for one of more than
    MAX_QUERY_TERMS terms or a size beyond any number it can compare; the query as given otherwise."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest("the search query holds a lone surrogate, which is not text") from None
    terms = parse_query(text)
    if len(terms) > MAX_QUERY_TERMS:
        raise BadRequest(f"the search query is too long: {len(terms)} terms, at most {MAX_QUERY_TERMS}")
    for term in terms:
        if term.field in ("larger", "smaller") and _too_large(term.value):
            raise BadRequest(f"{term.field}:{term.value} is too large a size")
    return text


def latest_query(request: Request) -> str | None:
    """The `?query=` that picks the latest match when a route's ID is `latest`, checked as search_query does."""
    query = request.query_params.get("query")
    return search_query(query) if query and query.strip() else query


def _too_large(value: str) -> bool:
    """Whether a `larger:`/`smaller:` size is beyond the numbers the database compares (2**63 - 1 bytes)."""
    found = _SIZE.fullmatch(value.strip())
    if not found:
        return False  # not a size: the search says so
    return float(found.group(1)) * _UNITS[found.group(2).lower()] > SQLITE_MAX_INT


def _field_name(key: str) -> str:
    return _BODY_FIELDS.get(key.lower(), key)


def _form_fields(text: str) -> dict[str, Any]:
    """A form-encoded body as the JSON object it stands for (some Mailpit clients send forms)."""
    data: dict[str, Any] = {}
    for key, values in urllib.parse.parse_qs(text, keep_blank_values=True).items():
        name = _field_name(key)
        if name in ("IDs", "Tags"):
            data[name] = [v for v in values if v]
        elif name == "Read":
            data[name] = values[-1].lower() in ("1", "true", "yes", "on")
        else:
            data[name] = values[-1]
    return data


def id_list(data: dict[str, Any], key: str = "IDs") -> list[str] | None:
    """The list of message IDs under `key`, or None when absent or empty."""
    ids = data.get(key)
    if ids is None:
        return None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise BadRequest(f"{key} must be a list of message ID strings")
    return ids or None
