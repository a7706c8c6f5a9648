"""/view/{ID}.html (sandboxed, inline images linked to the API) and /view/{ID}.txt."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import wait_for_count
from tests.messages import build, send

pytestmark = pytest.mark.both_backends  # each test runs on in-memory SQLite and on PostgreSQL

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def ids(catcher, api: httpx.Client) -> dict[str, str]:
    rich = build("rich", text="Plain version", html='<p>Hi <img src="cid:logo@shop"></p><script>alert(1)</script>')
    rich.get_payload()[1].add_related(PNG, "image", "png", cid="<logo@shop>", filename="logo.png")
    send(catcher, rich)
    send(catcher, build("text only", text="Only text here"))
    return {m["Subject"]: m["ID"] for m in wait_for_count(api, 2)["messages"]}


def test_html_is_sandboxed_with_inline_images_linked(catcher, ids: dict[str, str], api: httpx.Client) -> None:
    page = api.get(f"/view/{ids['rich']}.html")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"].startswith("sandbox ")
    assert "<script>alert(1)</script>" in page.text  # shown as sent; the sandbox keeps it from running
    src = page.text.split('src="')[1].split('"')[0]
    assert src.startswith(f"../api/v1/message/{ids['rich']}/part/")
    image = api.get(str(httpx.URL(f"{catcher.url}/view/{ids['rich']}.html").join(src)))
    assert image.content == PNG
    assert api.head(f"/view/{ids['rich']}.html").status_code == 200


def test_text_view(ids: dict[str, str], api: httpx.Client) -> None:
    page = api.get(f"/view/{ids['rich']}.txt")
    assert page.headers["content-type"].startswith("text/plain")
    assert page.text.strip() == "Plain version"
    assert api.get("/view/latest.txt").text.strip() == "Only text here"
    assert api.get("/view/latest.txt", params={"query": "subject:rich"}).text.strip() == "Plain version"
    assert api.get("/view/latest.html", params={"query": "subject:rich"}).status_code == 200


@pytest.mark.parametrize("path", ["/view/nope.html", "/view/nope.txt", "/view/latest.html"])
def test_missing_is_404(ids: dict[str, str], api: httpx.Client, path: str) -> None:
    response = api.get(path)  # latest is "text only", which has no HTML part
    assert response.status_code == 404 and response.json()["Error"]
