"""What an image's first bytes and Pillow's mode say about it, without TensorFlow.

Shared by the image modality and by the drafting of environments (``drafting.py``), which
must recognise image cells without starting TensorFlow.
"""

from __future__ import annotations

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The first bytes of each format's files (their specifications' magic numbers); a WebP
# file is a RIFF container whose form type, at byte 8, is WEBP.
SIGNATURES = {
    "PNG": PNG_SIGNATURE,
    "JPEG": b"\xff\xd8\xff",
    "GIF": b"GIF8",
    "BMP": b"BM",
}
RIFF, WEBP_FORM, WEBP_FORM_AT = b"RIFF", b"WEBP", 8
# Pillow modes of grey images (with or without alpha): one channel holds all they show.
GREY_MODES = {"1", "L", "LA", "I", "I;16", "F"}


def image_format(raw: bytes) -> str | None:
    """The format whose magic number ``raw`` starts with (PNG, JPEG, GIF, BMP, WEBP), or None."""
    for name, signature in SIGNATURES.items():
        if raw.startswith(signature):
            return name
    form = raw[WEBP_FORM_AT : WEBP_FORM_AT + len(WEBP_FORM)]
    if raw.startswith(RIFF) and form == WEBP_FORM:
        return "WEBP"
    return None
