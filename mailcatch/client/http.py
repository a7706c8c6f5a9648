"""A client of a running catcher's HTTP API: list, wait for, check and clear captured mail (stdlib only).

`Mailbox` is what the pytest fixture gives a test and what `mailcatch.Catcher` is built on.
"""

from __future__ import annotations

import copy
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, overload

import mailcatch.client.app_settings as app_settings
from mailcatch.client.captured import Address, Message
from mailcatch.client.faults import Fault, rule_body
from mailcatch.client.since import Since
from mailcatch.errors import MailcatchError

Filter: TypeAlias = str | re.Pattern[str] | None
"""A filter value: a substring to look for, or a compiled regex to search with."""

PAGE = 1000
REPORT_LINES = 30


class ApiError(MailcatchError):
    """The catcher's HTTP API could not be reached or answered with an error."""


class MailTimeout(AssertionError):
    """`wait_for` gave up: its message lists the filters and every message that did arrive."""

    __module__ = "mailcatch"  # failure reports name it as users import it: mailcatch.MailTimeout


class Api:
    """Requests to one catcher's HTTP API, without proxies (a catcher is local or a CI service)."""

    def __init__(self, url: str, timeout: float = 10) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def request(
        self, method: str, path: str, params: Mapping[str, str | int] | None = None, json_body: Any = None
    ) -> bytes:
        """The body of a successful response; ApiError for anything else. `json_body` is sent as JSON."""
        target = self.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        headers = {"Accept": "application/json"}
        data = None
        if json_body is not None:
            data, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
        request = urllib.request.Request(target, data=data, method=method, headers=headers)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                body: bytes = response.read()
                return body
        except urllib.error.HTTPError as error:
            try:
                detail = _error_detail(error.read())
            finally:
                error.close()
            raise ApiError(f"{method} {path} answered {error.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", None) or error
            raise ApiError(f"can't reach mailcatch at {self.url}: {reason}") from None

    def get_json(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        """GET a JSON document."""
        return json.loads(self.request("GET", path, params))

    def get_bytes(self, path: str) -> bytes:
        """GET a body as bytes."""
        return self.request("GET", path)


def _error_detail(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip() or "(empty body)"
    return str(data.get("Error", data)) if isinstance(data, dict) else str(data)


@dataclass(frozen=True)
class Filters:
    """What `wait_for`, `messages` and `assert_no_mail` look for; every given filter must match."""

    to: Filter = None
    from_: Filter = None
    subject: Filter = None
    query: str | None = None

    def __post_init__(self) -> None:
        for name in ("to", "from_", "subject"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, (str, re.Pattern)):
                raise TypeError(f"{name} must be a string or a compiled regex, not {type(value).__name__}")
        if self.query is not None and not isinstance(self.query, str):
            raise TypeError(f"query must be a string, not {type(self.query).__name__}")

    def __str__(self) -> str:
        return ", ".join(f"{name}={value!r}" for name, value in self._items())

    def _items(self) -> Iterator[tuple[str, Filter]]:
        for name in ("to", "from_", "subject", "query"):
            value = getattr(self, name)
            if value is not None:
                yield name, value

    def matches(self, message: Message) -> bool:
        """Whether the message's summary passes the to, from_ and subject filters (`query` is the API's)."""
        return (
            _addresses_match(self.to, message.recipients)
            and _addresses_match(self.from_, [message.from_])
            and _text_matches(self.subject, message.subject, fold=False)
        )


def _text_matches(wanted: Filter, value: str, fold: bool) -> bool:
    if wanted is None:
        return True
    if isinstance(wanted, re.Pattern):
        return wanted.search(value) is not None
    return wanted.lower() in value.lower() if fold else wanted in value


def _addresses_match(wanted: Filter, addresses: list[Address]) -> bool:
    if wanted is None:
        return True
    return any(
        _text_matches(wanted, text, fold=True) for address in addresses for text in (address.address, address.formatted)
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class Mailbox:
    """The mail a catcher holds, seen through its HTTP API: what the `mailcatch` fixture gives each test."""

    def __init__(self, url: str, smtp_host: str, smtp_port: int) -> None:
        self._link: tuple[Api, str, int] | None = (Api(url), smtp_host, smtp_port)

    def _require(self) -> tuple[Api, str, int]:
        if self._link is None:
            raise RuntimeError("the catcher is not running: use `with Catcher() as mail:` or call start()")
        return self._link

    @property
    def url(self) -> str:
        """The base URL of the web UI and API."""
        return self._require()[0].url

    @property
    def smtp_host(self) -> str:
        """The host the app under test should send mail to."""
        return self._require()[1]

    @property
    def smtp_port(self) -> int:
        """The SMTP port the app under test should send mail to."""
        return self._require()[2]

    @property
    def api(self) -> Api:
        """The raw HTTP API, for what the methods here don't cover."""
        return self._require()[0]

    def django_settings(self) -> dict[str, Any]:
        """Django settings that send mail to this catcher: `override_settings(**mailbox.django_settings())`."""
        return app_settings.django_settings(self.smtp_host, self.smtp_port)

    def flask_config(self) -> dict[str, Any]:
        """Flask-Mail and Flask-Mailman config for this catcher, sending on under TESTING: `app.config.update(...)`."""
        return app_settings.flask_config(self.smtp_host, self.smtp_port)

    def fastapi_mail_config(self) -> dict[str, Any]:
        """FastAPI-Mail's `ConnectionConfig(**mailbox.fastapi_mail_config(), MAIL_FROM=...)` fields for this catcher."""
        return app_settings.fastapi_mail_config(self.smtp_host, self.smtp_port)

    def __repr__(self) -> str:
        if self._link is None:
            return f"<{type(self).__name__} (not running)>"
        return f"<{type(self).__name__} smtp={self.smtp_host}:{self.smtp_port} url={self.url}>"

    _since: Since | None = None
    """Where this view of the mailbox begins (since_now()); None: it sees every message."""

    def since_now(self) -> Mailbox:
        """A view of this mailbox that sees only the messages arriving from now on, leaving the others alone:
        what the `mailcatch` fixture gives each test with a catcher others use (--mailcatch-url)."""
        view = copy.copy(self)
        view._since = Since.from_newest(self.api.get_json("/api/v1/messages", {"limit": 50})["messages"])
        return view

    def _summaries(self, query: str | None) -> list[dict[str, Any]]:
        """Every summary in the mailbox (or matching a search), newest first; in a view, those since it began."""
        path, params = ("/api/v1/search", {"query": query}) if query is not None else ("/api/v1/messages", {})
        found: dict[str, dict[str, Any]] = {}
        start = 0
        since = self._since
        while True:
            page = self.api.get_json(path, {**params, "start": start, "limit": PAGE})["messages"]
            for summary in page:  # mail arriving between pages shifts older messages onto the next page
                if since is not None and not since.is_new(summary):
                    return list(found.values())  # the rest is older still
                found.setdefault(summary["ID"], summary)
            start += len(page)
            if len(page) < PAGE:
                return list(found.values())

    def _matching(self, filters: Filters) -> list[Message]:
        api = self.api
        messages = [Message(api, summary) for summary in reversed(self._summaries(filters.query))]
        return [message for message in messages if filters.matches(message)]

    def messages(
        self, *, to: Filter = None, from_: Filter = None, subject: Filter = None, query: str | None = None
    ) -> list[Message]:
        """The messages in the mailbox that match the filters, oldest first."""
        return self._matching(Filters(to, from_, subject, query))

    def latest(self) -> Message:
        """The newest message; AssertionError if the mailbox is empty."""
        page = self.api.get_json("/api/v1/messages", {"limit": 1})["messages"]
        if not page or (self._since is not None and not self._since.is_new(page[0])):
            since = " since the test began" if self._since is not None else ""
            raise AssertionError(f"expected a message, but the mailbox is empty{since}")
        return Message(self.api, page[0])

    def clear(self) -> None:
        """Delete every message (in a view made by since_now(), every message it sees)."""
        if self._since is None:
            self.api.request("DELETE", "/api/v1/messages")
            return
        ids = [summary["ID"] for summary in self._summaries(None)]
        if ids:
            self.api.request("DELETE", "/api/v1/messages", json_body={"IDs": ids})

    _faults_added = False

    def fail_next(
        self,
        stage: str,
        code: int | None = None,
        text: str | None = None,
        *,
        times: int = 1,
        sender: str | re.Pattern[str] | None = None,
        recipient: str | re.Pattern[str] | None = None,
        delay: float = 0,
        drop: bool = False,
    ) -> Fault:
        """Make the catcher fail the next `times` commands (0: every one) at `stage`: MAIL, RCPT, DATA or AUTH.

        It answers `code` and `text` (by default 451, at AUTH 454), or waits `delay` seconds first, or
        with `drop` closes the connection. `sender` and `recipient` are regular expressions the envelope
        must match. Returns the rule; `with mailbox.fail_next(...):` removes it at the end of the block.
        The catcher must run with --enable-chaos (the fixture's own catcher does).
        """
        body = rule_body(stage, code, text, times, sender, recipient, delay, drop)
        fault = Fault(self.api, json.loads(self.api.request("POST", "/api/v1/faults", json_body=body)))
        self._faults_added = True
        return fault

    def faults(self) -> list[Fault]:
        """The catcher's fault rules, oldest first (spent ones too)."""
        return [Fault(self.api, data) for data in self.api.get_json("/api/v1/faults")]

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self.api.request("DELETE", "/api/v1/faults")
        self._faults_added = False

    def reset_faults(self) -> None:
        """Remove every fault rule if fail_next() set any (the fixture does this before each test)."""
        if self._faults_added:
            self.clear_faults()

    @overload
    def wait_for(  # type: ignore[overload-overlap]  # count=1 gives one message, any other count a list
        self,
        count: Literal[1] = 1,
        timeout: float = 5,
        *,
        to: Filter = None,
        from_: Filter = None,
        subject: Filter = None,
        query: str | None = None,
    ) -> Message: ...

    @overload
    def wait_for(
        self,
        count: int,
        timeout: float = 5,
        *,
        to: Filter = None,
        from_: Filter = None,
        subject: Filter = None,
        query: str | None = None,
    ) -> list[Message]: ...

    def wait_for(
        self,
        count: int = 1,
        timeout: float = 5,
        *,
        to: Filter = None,
        from_: Filter = None,
        subject: Filter = None,
        query: str | None = None,
    ) -> Message | list[Message]:
        """Wait until `count` messages match; the first of them in arrival order (one, or a list if count > 1).

        Raises MailTimeout after `timeout` seconds, listing the filters and every message that arrived.
        """
        __tracebackhide__ = True
        if count < 1:
            raise ValueError(f"count must be 1 or more, not {count}")
        filters = Filters(to, from_, subject, query)
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            found = self._matching(filters)
            if len(found) >= count:
                return found[0] if count == 1 else found[:count]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise MailTimeout(self._timeout_report(filters, count, timeout, found))
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.1)

    def assert_no_mail(
        self, *, to: Filter = None, from_: Filter = None, subject: Filter = None, query: str | None = None
    ) -> None:
        """Fail (AssertionError) if any message in the mailbox matches the filters."""
        __tracebackhide__ = True
        filters = Filters(to, from_, subject, query)
        found = self._matching(filters)
        if found:
            wanted = f" matching {filters}" if str(filters) else ""
            lines = "\n".join(f"  {message.describe()}" for message in found)
            raise AssertionError(f"expected no message{wanted}, but {_plural(len(found), 'message')} arrived:\n{lines}")

    def _timeout_report(self, filters: Filters, count: int, timeout: float, found: list[Message]) -> str:
        wanted = f" matching {filters}" if str(filters) else ""
        if count == 1:
            head = f"no message{wanted} arrived within {timeout:g}s"
        else:
            head = f"only {len(found)} of the {count} messages{wanted} arrived within {timeout:g}s"
        arrived = self._matching(Filters())
        if not arrived:
            reason = app_settings.why_no_mail(self.smtp_host, self.smtp_port)
            hint = f"\nlikely cause: {reason}" if reason else ""
            since = " since the test began" if self._since is not None else ""
            return f"{head}\nthe mailbox is empty: no message arrived at all{since}{hint}"
        matched = {message.id for message in found}
        marks = " (> marks a match)" if matched else ""
        lines = [f"{_plural(len(arrived), 'message')} arrived{marks}:"]
        if len(arrived) > REPORT_LINES:
            lines.append(f"  ... {len(arrived) - REPORT_LINES} earlier, then:")
        for message in arrived[-REPORT_LINES:]:
            lines.append(f"{'> ' if message.id in matched else '  '}{message.describe()}")
        return "\n".join([head, *lines])
