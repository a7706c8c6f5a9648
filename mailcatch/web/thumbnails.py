"""Thumbnails of image attachments, as Mailpit's web UI asks for them: a 180 x 120 JPEG on white.

An image at least as big as the box both ways is scaled to cover it and cropped at its centre;
a smaller one is scaled down to fit, never up, and centred. A part that is not an image, or
that can't be decoded, gets the white box alone.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps

__all__ = ["HEIGHT", "WIDTH", "thumbnail_jpeg"]

WIDTH, HEIGHT = 180, 120
QUALITY = 70
MAX_PIXELS = 50_000_000
"""Images with more pixels than this are not decoded (a small file can claim a huge image)."""


def thumbnail_jpeg(data: bytes) -> bytes:
    """The thumbnail of an image file's bytes (a white box if they are not an image)."""
    canvas = Image.new("RGB", (WIDTH, HEIGHT), "white")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                if opened.width * opened.height > MAX_PIXELS:
                    raise ValueError("too many pixels")
                image = opened.convert("RGBA")
        if image.width < WIDTH or image.height < HEIGHT:
            image.thumbnail((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
        else:
            image = ImageOps.fit(image, (WIDTH, HEIGHT), Image.Resampling.LANCZOS)
        canvas.paste(image, ((WIDTH - image.width) // 2, (HEIGHT - image.height) // 2), image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        pass  # not an image this can read: the white box
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=QUALITY)
    return out.getvalue()
