"""The web UI's files, served from memory by a real catcher: every file of static/, with its type, ETag and
304; HEAD; JSON errors for other methods and unknown paths; and where the files are looked for."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mailcatch.web.ui_files import UiFiles, candidate_folders

STATIC = Path(__file__).resolve().parents[2] / "static"


def test_every_file_of_static_is_served_as_it_is(api: httpx.Client) -> None:
    names = sorted(path.relative_to(STATIC).as_posix() for path in STATIC.rglob("*") if path.is_file())
    assert "index.html" in names and "js/api.js" in names
    for name in names:
        response = api.get("/" + name)
        assert response.status_code == 200, name
        assert response.content == (STATIC / name).read_bytes(), name
    assert api.get("/").content == (STATIC / "index.html").read_bytes()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html; charset=utf-8"),
        ("/app.css", "text/css; charset=utf-8"),
        ("/js/api.js", "text/javascript; charset=utf-8"),
        ("/favicon.svg", "image/svg+xml"),
    ],
)
def test_types_etags_and_not_modified(api: httpx.Client, path: str, content_type: str) -> None:
    first = api.get(path)
    assert first.headers["content-type"] == content_type
    assert first.headers["cache-control"] == "no-cache"
    etag = first.headers["etag"]
    again = api.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    head = api.head(path)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(first.content))


def test_other_methods_and_unknown_paths_get_json_errors(api: httpx.Client) -> None:
    refused = api.post("/index.html")
    assert refused.status_code == 405
    assert refused.json() == {"Error": "POST is not allowed here: the web UI's files are read-only"}
    missing = api.get("/js/nothing.js")
    assert missing.status_code == 404
    assert missing.json() == {"Error": "no such page: /js/nothing.js"}


def test_the_source_trees_static_folder_is_among_the_places_looked_in() -> None:
    assert STATIC in candidate_folders()


def test_no_copy_of_the_files_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    files = UiFiles([tmp_path / "empty", tmp_path / "absent"])
    assert files.files == {}
    assert files.missing.startswith(
        f"the web UI's files are missing from this installation of mailcatch (looked in {tmp_path / 'empty'}, "
        f"{tmp_path / 'absent'}); reinstall mailcatch"
    )
