"""The web UI's files (the repository's static/, installed as mailcatch/static), read into memory at start.

Served from memory, the UI keeps working when the installed package changes under a running catcher
(`pip install -e .` in its environment removes the installed files). Where no copy of the files is
found, the API still works and every UI page answers 500 with a JSON error saying what is missing.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import logging
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

log = logging.getLogger("mailcatch.web")

INDEX = "index.html"
MAX_FILES = 500
"""More files than the UI has by far: a folder holding more is not the UI's."""
_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


@dataclass(frozen=True)
class UiFile:
    """One file of the UI, with what its response needs."""

    content: bytes
    content_type: str
    etag: str


def candidate_folders() -> list[Path]:
    """Where the UI's files may be: the installed package's `mailcatch/static` (a wheel, or an editable
    install mapping it to the repository's static/), then static/ beside the package (a source tree)."""
    folders: list[Path] = []
    try:
        found = importlib.resources.files("mailcatch.static")
    except (ImportError, TypeError, ValueError):
        pass
    else:
        if isinstance(found, Path):
            folders.append(found)
        else:  # a namespace package: one folder per entry of its path
            folders += [Path(str(entry)) for entry in getattr(found, "_paths", [])]
    package = Path(__file__).resolve().parents[1]
    folders += [package / "static", package.parent / "static"]
    return list(dict.fromkeys(folders))


def _content_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    kind = _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return kind + "; charset=utf-8" if kind.startswith("text/") else kind


def read_folder(folder: Path) -> dict[str, UiFile]:
    """Every file under `folder` by its path relative to it ('js/api.js'); {} without an index.html."""
    if not (folder / INDEX).is_file():
        return {}
    files: dict[str, UiFile] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        if len(files) == MAX_FILES:
            break
        name = path.relative_to(folder).as_posix()
        content = path.read_bytes()
        etag = '"' + hashlib.blake2b(content, digest_size=12).hexdigest() + '"'
        files[name] = UiFile(content, _content_type(name), etag)
    return files


class UiFiles:
    """An ASGI app serving the UI's files from memory: GET and HEAD, `/` as index.html, ETags (304)."""

    def __init__(self, folders: list[Path] | None = None) -> None:
        looked = candidate_folders() if folders is None else folders
        self.folder: Path | None = None
        self.files: dict[str, UiFile] = {}
        for folder in looked:
            try:
                self.files = read_folder(folder)
            except OSError as error:
                log.warning("the web UI's files in %s can't be read: %s", folder, error)
                continue
            if self.files:
                self.folder = folder
                break
        self.missing = ""
        """Why no UI is served ("" when it is)."""
        if not self.files:
            places = ", ".join(str(folder) for folder in looked) or "nowhere"
            self.missing = (
                f"the web UI's files are missing from this installation of mailcatch (looked in {places}); "
                "reinstall mailcatch from its source (pip install --force-reinstall /path/to/mailcatch) "
                "and restart it. The API works without them."
            )
            log.error("%s", self.missing)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        response = self.response(Request(scope, receive))
        await response(scope, receive, send)

    def response(self, request: Request) -> Response:
        """The file the request names; HTTPException for a wrong method or an unknown path."""
        if request.method not in ("GET", "HEAD"):
            raise HTTPException(405, f"{request.method} is not allowed here: the web UI's files are read-only")
        if self.missing:
            return JSONResponse({"Error": self.missing}, status_code=500)
        name = request.url.path.lstrip("/")
        if name == "" or name.endswith("/"):
            name += INDEX
        found = self.files.get(name)
        if found is None:
            raise HTTPException(404)
        headers = {"ETag": found.etag, "Cache-Control": "no-cache"}
        if found.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        body = b"" if request.method == "HEAD" else found.content
        headers["Content-Length"] = str(len(found.content))
        return Response(body, media_type=found.content_type, headers=headers)
