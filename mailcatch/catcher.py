"""`mailcatch.Catcher`: a catcher in a background thread, with the pytest fixture's methods, for any test runner."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from mailcatch.client.http import Api, Mailbox

if TYPE_CHECKING:
    from mailcatch.server import ServerThread


class Catcher(Mailbox):
    """Run a catcher on free loopback ports (by default) while in a `with` block, or between start() and stop().

    with mailcatch.Catcher() as mail:
        send_welcome_mail(host=mail.smtp_host, port=mail.smtp_port)
        assert "Welcome" in mail.wait_for(to="bob@example.com").subject
    """

    def __init__(self, *, smtp: str = "127.0.0.1:0", listen: str = "127.0.0.1:0") -> None:
        self._smtp = smtp
        self._listen = listen
        self._thread: ServerThread | None = None
        self._link = None

    def start(self) -> Catcher:
        """Start listening (returns once SMTP and HTTP accept connections); ConfigError on a bad address."""
        if self._thread is not None:
            raise RuntimeError("this catcher is already running")
        from mailcatch.config import HostPort, Settings
        from mailcatch.server import ServerThread

        settings = Settings(smtp=HostPort.parse(self._smtp), listen=HostPort.parse(self._listen), quiet=True)
        thread = ServerThread(settings).start()
        self._thread = thread
        self._link = (Api(thread.url), thread.smtp_host, thread.smtp_port)
        return self

    def stop(self) -> None:
        """Stop the catcher; its messages are gone unless it had a database file."""
        thread, self._thread, self._link = self._thread, None, None
        if thread is not None:
            thread.stop()

    def __enter__(self) -> Catcher:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
