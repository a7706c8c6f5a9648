"""What a part's bytes are, by their magic numbers, and whether that fits the Content-Type it is sent with."""

from __future__ import annotations

__all__ = ["KINDS", "mismatch", "sniff"]

KINDS: dict[str, tuple[str, ...]] = {
    "PDF": ("application/pdf", "application/x-pdf"),
    "PNG": ("image/png", "image/apng", "image/x-png"),
    "JPEG": ("image/jpeg", "image/jpg", "image/pjpeg"),
    "GIF": ("image/gif",),
    "WebP": ("image/webp",),
    "BMP": ("image/bmp", "image/x-bmp", "image/x-ms-bmp"),
    "TIFF": ("image/tiff",),
    "ICO": ("image/x-icon", "image/vnd.microsoft.icon"),
    "ZIP": (
        "application/zip",
        "application/x-zip-compressed",
        "application/x-zip",
        "application/epub+zip",
        "application/java-archive",
        "application/vnd.openxmlformats-officedocument.",
        "application/vnd.oasis.opendocument.",
        "application/vnd.ms-excel.sheet.macroenabled.12",
        "application/vnd.ms-word.document.macroenabled.12",
        "application/vnd.android.package-archive",
        "application/vnd.apple.pkpass",
        "model/vnd.usdz+zip",
    ),
    "gzip": ("application/gzip", "application/x-gzip", "application/x-tar+gzip"),
    "7-Zip": ("application/x-7z-compressed",),
    "RAR": ("application/vnd.rar", "application/x-rar-compressed", "application/x-rar"),
    "OLE (old Microsoft Office)": (
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.ms-outlook",
        "application/x-msi",
        "application/x-ole-storage",
    ),
    "RTF": ("application/rtf", "text/rtf"),
    "PostScript": ("application/postscript",),
    "MP3": ("audio/mpeg", "audio/mp3"),
    "Ogg": ("audio/ogg", "video/ogg", "application/ogg"),
    "WAV": ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"),
    "MP4": ("video/mp4", "audio/mp4", "video/quicktime", "image/heic", "image/heif", "image/avif", "audio/x-m4a"),
    "WOFF": ("font/woff",),
    "WOFF2": ("font/woff2",),
}
"""Each kind of file the lint knows by its first bytes, with the content types (or prefixes ending in ".")
that may label it. A type named by no kind (application/octet-stream, text/...) is never questioned."""


def sniff(data: bytes) -> str:
    """The kind of file `data` starts like (a key of KINDS), or ""."""
    head = data[:16]
    if head.startswith(b"%PDF-"):
        return "PDF"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WebP"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "WAV"
    if head.startswith(b"BM") and len(data) > 14 and data[6:10] == b"\0\0\0\0":
        return "BMP"
    if head.startswith((b"II*\0", b"MM\0*")):
        return "TIFF"
    if head.startswith(b"\0\0\1\0") and len(data) > 6:
        return "ICO"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "ZIP"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7-Zip"
    if head.startswith(b"Rar!\x1a\x07"):
        return "RAR"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "OLE (old Microsoft Office)"
    if head.startswith(b"{\\rtf"):
        return "RTF"
    if head.startswith(b"%!PS"):
        return "PostScript"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] != 0xFF):
        return "MP3"
    if head.startswith(b"OggS"):
        return "Ogg"
    if head[4:8] == b"ftyp":
        return "MP4"
    if head.startswith(b"wOFF"):
        return "WOFF"
    if head.startswith(b"wOF2"):
        return "WOFF2"
    return ""


def _kind_of_type(content_type: str) -> str:
    for kind, types in KINDS.items():
        for name in types:
            if content_type == name or (name.endswith(".") and content_type.startswith(name)):
                return kind
    return ""


def mismatch(content_type: str, data: bytes) -> str:
    """Why `data` doesn't fit `content_type` ("" if it may): bytes of another known kind, or none of the
    kind the type names."""
    if not data:
        return ""
    declared = _kind_of_type(content_type)
    actual = sniff(data)
    if actual and declared and actual != declared:
        return f"it is labelled {content_type}, but its bytes are a {actual} file"
    if actual and not declared and content_type.startswith(("image/", "audio/", "video/", "font/", "text/")):
        return f"it is labelled {content_type}, but its bytes are a {actual} file"
    if declared and not actual:
        return f"it is labelled {content_type}, but its bytes don't start as a {declared} file does"
    return ""
