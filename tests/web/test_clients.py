"""Third-party client libraries from PyPI, unchanged, against a running catcher.

- `mailpit-api-client` (import `mailpit`): Mailpit's API through its own models.
- `mailhog` (import `mailhog`): MailHog's API through its own models (Python before 3.13 only: its
  pinned dataclass-wizard doesn't import on 3.13).
"""

from __future__ import annotations

import datetime
import io
import unittest

import httpx
import pytest
from mailpit.client.api import API
from mailpit.testing.unittest import EMailTestCase

from mailcatch.server import ServerThread
from tests.helpers import wait_for_count
from tests.messages import build, send


@pytest.fixture
def sent(catcher: ServerThread, api: httpx.Client) -> list[str]:
    """Two messages, newest first in the returned IDs: a plain one, then one with an attachment."""
    send(
        catcher,
        build(
            "Welcome",
            "Shop <shop@example.com>",
            "Ann <ann@example.com>",
            "Hello Ann",
            Date="Sat, 28 Nov 2026 10:00:00 +0100",
            Message_ID="<welcome-1@example.com>",
            Delivered_To="ann@example.com",
        ),
    )  # a header mailpit-api-client's Headers model requires
    # Dates with an offset: mailpit-api-client reads them with fromisoformat, which before Python 3.11
    # can't read the Z that Mailpit (and mailcatch) write for UTC.
    invoice = build(
        "Invoice",
        "billing@example.com",
        "bob@example.org",
        "See attached",
        Cc="carol@example.org",
        Date="Sat, 28 Nov 2026 11:00:00 +0100",
    )
    invoice.add_attachment(b"id,total\n1,9.99\n", maintype="text", subtype="csv", filename="invoice.csv")
    send(catcher, invoice, rcpt=["bob@example.org", "carol@example.org", "audit@example.org"])
    return [m["ID"] for m in wait_for_count(api, 2)["messages"]]


def test_mailpit_api_client(catcher: ServerThread, sent: list[str]) -> None:
    client = API(catcher.url, timeout=10)

    listing = client.get_messages()
    assert (listing.total, listing.unread, listing.count, listing.start) == (2, 2, 2, 0)
    assert [m.subject for m in listing.messages] == ["Invoice", "Welcome"]
    summary = listing.messages[1]
    assert summary.from_.name == "Shop" and summary.from_.address == "shop@example.com"
    assert summary.message_id == "welcome-1@example.com" and summary.read is False
    assert isinstance(summary.created, datetime.datetime) and summary.created.tzinfo is not None
    assert [c.address for c in listing.messages[0].bcc] == ["audit@example.org"]
    assert listing.messages[0].attachments == 1

    welcome = client.get_message(sent[1])
    assert welcome.subject == "Welcome" and welcome.text.strip() == "Hello Ann"
    assert welcome.date == datetime.datetime(2026, 11, 28, 9, tzinfo=datetime.timezone.utc)
    assert welcome.date.utcoffset() == datetime.timedelta(hours=1)  # the header's own offset, as Mailpit keeps it
    assert [(c.name, c.address) for c in welcome.to] == [("Ann", "ann@example.com")]
    assert welcome.read is True

    invoice = client.get_message(sent[0])
    assert [c.address for c in invoice.cc] == ["carol@example.org"]
    [attachment] = invoice.attachments
    assert attachment.file_name == "invoice.csv" and attachment.content_type == "text/csv"
    assert client.get_message_attachment(invoice.id, attachment.part_id) == "id,total\n1,9.99\n"

    headers = client.get_message_headers(sent[1])
    assert headers.from_ == ["Shop <shop@example.com>"]
    assert headers.message_id == ["<welcome-1@example.com>"]
    assert headers.date == [datetime.datetime(2026, 11, 28, 9, tzinfo=datetime.timezone.utc)]
    assert headers.content_type == ['text/plain; charset="utf-8"'] and headers.delivered_to == ["ann@example.com"]

    page = client.get_messages(limit=1, start=1)
    assert (page.total, page.count, page.start, [m.id for m in page.messages]) == (2, 1, 1, [sent[1]])
    assert [m.subject for m in client.get_messages(limit=1).messages] == ["Invoice"]

    assert client.put_messages([sent[1]], "Read", False) is None  # sent as a form, as this client does
    assert client.last_response is not None and client.last_response.text == "ok"
    assert client.get_messages().unread == 1
    assert client.delete_messages([sent[0]]) is None
    assert client.last_response is not None and client.last_response.text == "ok"
    assert [m.id for m in client.get_messages().messages] == [sent[1]]
    client.delete_messages([])
    assert client.get_messages().total == 0


def test_mailpit_api_client_method_list_is_the_one_tested() -> None:
    # test_mailpit_api_client calls each of these; a client release with more methods fails here first.
    public = {name for name in dir(API) if not name.startswith("_") and callable(getattr(API, name))}
    assert public == {
        "delete_messages",
        "get_message",
        "get_message_attachment",
        "get_message_headers",
        "get_messages",
        "put_messages",
    }


def test_mailpit_api_client_unittest_helpers(catcher: ServerThread, sent: list[str]) -> None:
    class Checks(EMailTestCase):
        api_url = catcher.url

        def test_received(self) -> None:
            self.assertMessageReceived("welcome-1@example.com")
            with self.assertRaises(self.failureException):
                self.assertMessageReceived("never-sent@example.com")

        def test_equal(self) -> None:
            assert self.mailpit_api is not None
            message = self.mailpit_api.get_message(sent[1])
            self.assertEqual(message, self.mailpit_api.get_message(sent[1]))
            with self.assertRaises(self.failureException):
                self.assertMessageEqual(message, self.mailpit_api.get_message(sent[0]))

    outcome = unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(
        unittest.TestLoader().loadTestsFromTestCase(Checks)
    )
    assert outcome.testsRun == 2 and outcome.wasSuccessful(), outcome.failures + outcome.errors


def test_mailhog_client(catcher: ServerThread, sent: list[str]) -> None:
    # mailhog 0.1.1 pins dataclass-wizard below 0.23, which doesn't import on Python 3.13.
    mailhog = pytest.importorskip(
        "mailhog", reason="the mailhog client doesn't run on this Python", exc_type=ImportError
    )
    host, port = catcher.url.split("//")[1].rsplit(":", 1)
    client = mailhog.Mailhog(host, int(port))

    listing = client.messages()
    assert (listing.total, listing.count, listing.start) == (2, 2, 0)
    invoice, welcome = listing.items
    assert (invoice.get_subject(), welcome.get_subject()) == ("Invoice", "Welcome")
    assert welcome.get_sender() == "shop@example.com"
    assert invoice.get_recipients() == ["bob@example.org", "carol@example.org", "audit@example.org"]
    assert invoice.content.size > 0 and "See attached" in invoice.mime.parts[0].body
    assert invoice.raw is not None

    assert [m.get_subject() for m in client.search("carol", kind="to").items] == ["Invoice"]
    assert [m.get_subject() for m in client.search("shop@", kind="from").items] == ["Welcome"]
    assert [m.get_subject() for m in client.search("Hello Ann").items] == ["Welcome"]
    assert client.messages(start=1, limit=1).items[0].id == sent[1]

    client.delete(invoice)
    assert [m.id for m in client.messages().items] == [sent[1]]
    client.delete_all()
    assert client.messages().total == 0
