"""The client side, standard library only: the HTTP client of a running catcher and the captured-message objects."""

from mailcatch.client.captured import Address, Attachment, Message
from mailcatch.client.faults import Fault
from mailcatch.client.http import Api, ApiError, Mailbox, MailTimeout

__all__ = ["Address", "Api", "ApiError", "Attachment", "Fault", "MailTimeout", "Mailbox", "Message"]
