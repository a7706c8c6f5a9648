"""The exceptions mailcatch raises.

MailcatchError
 ├── ConfigError          bad flag, environment variable or file; the CLI exits 2
 ├── StoreError           the database can't be opened (the CLI exits 3) or written (SMTP 451, HTTP 503),
 │    │                   or is busy beyond the wait for a read (HTTP 503: try again)
 │    ├── ReadFailed      a read failed for another reason (HTTP 500)
 │    ├── DatabaseUnreachable  the PostgreSQL server can't be reached (SMTP 451 naming it, HTTP 503,
 │    │                   /readyz 503) until it is back
 │    └── DatabaseDamaged the database file is damaged, found at start (exit 3), on a read (HTTP 500)
 │                        or on a write (SMTP 451, HTTP 500); the message says what to do
 ├── QueryError           a search query that makes no sense (HTTP 400)
 ├── MessageNotFound      no message has that ID, or none matches (HTTP 404)
 └── HTTPError            carries an HTTP status; rendered as {"Error": ...}
      ├── BadRequest      400
      ├── NotFound        404
      └── PayloadTooLarge 413
"""


class MailcatchError(Exception):
    """Base class of every error mailcatch raises on purpose."""


class ConfigError(MailcatchError):
    """A setting is malformed or names a file that can't be read."""


class StoreError(MailcatchError):
    """The message database can't be opened, migrated or written."""


class ReadFailed(StoreError):
    """A read of the database failed, and trying again won't help (not a busy database)."""


class DatabaseUnreachable(StoreError):
    """The database server can't be reached (down, restarting, the network gone); the message names it.

    Trying again later may succeed: SMTP answers 451 with this message, HTTP 503.
    """


class DatabaseDamaged(StoreError):
    """SQLite found the database file damaged (malformed pages); the message says what to do."""


class QueryError(MailcatchError):
    """A search query, or one of its operator values, that can't be searched for."""


class MessageNotFound(MailcatchError):
    """No stored message has the ID asked for (or, for `latest`, none matches)."""


class HTTPError(MailcatchError):
    """An error the HTTP API reports to its client with a status code."""

    status_code = 500

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, detail={self.detail!r})"


class BadRequest(HTTPError):
    status_code = 400


class NotFound(HTTPError):
    status_code = 404


class PayloadTooLarge(HTTPError):
    status_code = 413
