"""The private temporary directory that holds the search index of an in-memory store."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from mailcatch.errors import StoreError

__all__ = ["SCRATCH_PREFIX", "forget_orphan_scratch", "make_scratch", "remove_scratch"]

SCRATCH_PREFIX = "mailcatch-scratch-"
"""Name of the private temporary directories that hold the search index of an in-memory mailbox."""


def make_scratch() -> str:
    """A new private temporary directory, marked with this process's ID; removes those of killed catchers."""
    try:
        folder = tempfile.mkdtemp(prefix=SCRATCH_PREFIX)
        Path(folder, "pid").write_text(str(os.getpid()))
    except OSError as error:
        raise StoreError(
            f"can't create a temporary directory for the search index ({error}); point TMPDIR"
            " at a writable directory, or keep messages in a file with --database"
        ) from None
    forget_orphan_scratch()
    return folder


def remove_scratch(folder: str) -> None:
    """Remove a directory `make_scratch` made, with what it holds."""
    shutil.rmtree(folder, ignore_errors=True)


def forget_orphan_scratch() -> None:
    """Remove the temporary directories of in-memory catchers that were killed before they could."""
    for folder in Path(tempfile.gettempdir()).glob(SCRATCH_PREFIX + "*"):
        try:
            pid = int((folder / "pid").read_text())
            os.kill(pid, 0)
        except ProcessLookupError:  # its catcher is gone
            shutil.rmtree(folder, ignore_errors=True)
        except (OSError, ValueError):  # not one of ours, not ours to remove, or its catcher still runs
            continue
