"""What a test can tell of a PNG without decoding it: that it is one, and its size."""

from __future__ import annotations

import struct

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk; AssertionError if `data` is not a PNG."""
    assert data[:8] == SIGNATURE, "not a PNG"
    assert data[12:16] == b"IHDR", "a PNG starts with its IHDR chunk"
    width, height = struct.unpack(">II", data[16:24])
    return width, height
