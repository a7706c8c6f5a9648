"""Run `python -m mailcatch` as a separate process for a benchmark, reading its real addresses from the log."""

from __future__ import annotations

import collections
import ctypes
import re
import signal
import subprocess
import sys
import threading
from types import TracebackType

PR_SET_PDEATHSIG = 1


def _stop_with_parent() -> None:
    """In the child, before it runs mailcatch: be sent SIGTERM when the benchmark dies, however it dies."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


STARTUP = re.compile(r"SMTP on \S+:(\d+), web UI and API on (http://\S+) ")


class CatcherProcess:
    """A catcher process on free loopback ports; its log is drained so it can never block on a full pipe."""

    def __init__(self, *args: str) -> None:
        self.command = [
            sys.executable,
            "-m",
            "mailcatch",
            "--quiet",
            "--smtp",
            "127.0.0.1:0",
            "--listen",
            "127.0.0.1:0",
            *args,
        ]
        self.process: subprocess.Popen[str] | None = None
        self.smtp_port = 0
        self.url = ""
        self.log: collections.deque[str] = collections.deque(maxlen=50)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> CatcherProcess:
        self.process = subprocess.Popen(
            self.command,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            preexec_fn=_stop_with_parent if sys.platform == "linux" else None,
        )
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            found = STARTUP.search(line)
            if found:
                self.smtp_port, self.url = int(found[1]), found[2]
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        raise RuntimeError("mailcatch did not start: " + "".join(self.log))

    def _drain(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()

    def __enter__(self) -> CatcherProcess:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
