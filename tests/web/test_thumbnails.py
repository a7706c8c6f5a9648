"""GET /api/v1/message/{ID}/part/{PartID}/thumb: Mailpit's 180 x 120 JPEG thumbnails of attachments."""

from __future__ import annotations

import io
from email.message import EmailMessage

import httpx
from PIL import Image

from mailcatch.server import ServerThread
from tests.helpers import wait_for_count
from tests.messages import png, send

RED, BLUE = (220, 20, 20), (20, 20, 220)


def two_tone(width: int, height: int) -> bytes:
    """A PNG whose left half is red and right half blue."""
    image = Image.new("RGB", (width, height), RED)
    image.paste(BLUE, (width // 2, 0, width, height))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def thumbnails(catcher: ServerThread, api: httpx.Client, *files: tuple[str, bytes, str]) -> list[httpx.Response]:
    """Send one message with these attachments (name, bytes, type/subtype); the thumbnail of each."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "app@example.com", "user@example.com", "Pictures"
    message.set_content("see attached")
    for name, data, content_type in files:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    send(catcher, message)
    wait_for_count(api, 1)
    parts = api.get("/api/v1/message/latest").json()["Attachments"]
    return [api.get(f"/api/v1/message/latest/part/{part['PartID']}/thumb") for part in parts]


def pixel(response: httpx.Response, x: int, y: int) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(response.content)) as image:
        assert (image.format, image.size) == ("JPEG", (180, 120))
        return image.convert("RGB").getpixel((x, y))  # type: ignore[return-value]


def near(color: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(color, expected, strict=True))


def test_a_big_image_covers_the_box_cropped_at_its_centre(catcher: ServerThread, api: httpx.Client) -> None:
    # 600 x 200 (3:1) fills 180 x 120 at 360 x 120, cropped to its middle: still red left, blue right.
    [thumb] = thumbnails(catcher, api, ("wide.png", two_tone(600, 200), "image/png"))
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert 'filename="wide.png"' in thumb.headers["content-disposition"]
    assert near(pixel(thumb, 5, 60), RED) and near(pixel(thumb, 175, 60), BLUE)
    assert near(pixel(thumb, 60, 2), RED) and near(pixel(thumb, 120, 117), BLUE)  # no white band: it covers


def test_a_small_image_is_centred_on_white(catcher: ServerThread, api: httpx.Client) -> None:
    [thumb] = thumbnails(catcher, api, ("dot.png", two_tone(40, 30), "image/png"))  # at (70, 45) to (110, 75)
    assert near(pixel(thumb, 78, 60), RED) and near(pixel(thumb, 102, 60), BLUE)
    assert near(pixel(thumb, 5, 5), (255, 255, 255)) and near(pixel(thumb, 175, 115), (255, 255, 255))


def test_a_part_that_is_no_image_is_a_white_box(catcher: ServerThread, api: httpx.Client) -> None:
    broken, text = thumbnails(
        catcher, api, ("broken.png", b"\x89PNG not really", "image/png"), ("notes.txt", b"hello", "text/plain")
    )
    for thumb in (broken, text):
        assert thumb.status_code == 200
        assert near(pixel(thumb, 90, 60), (255, 255, 255)) and near(pixel(thumb, 0, 0), (255, 255, 255))


def test_an_unknown_part_is_a_404(catcher: ServerThread, api: httpx.Client) -> None:
    thumbnails(catcher, api, ("dot.png", png(), "image/png"))
    missing = api.get("/api/v1/message/latest/part/9.9/thumb")
    assert missing.status_code == 404 and "no part" in missing.json()["Error"]
