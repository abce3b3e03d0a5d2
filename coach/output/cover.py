"""Generated cover art: a gradient with a sound-wave emblem, colours chosen from the title, as PNG bytes."""

from __future__ import annotations

import colorsys
import functools
import hashlib
import struct
import zlib

import numpy as np

COVER_SIZE = 600


@functools.lru_cache(maxsize=64)  # a server exports a routine again on every save, under the same title
def cover_png(title: str, size: int = COVER_SIZE) -> bytes:
    """A square cover for `title` as PNG bytes; the same title always gives the same picture."""
    return png_bytes(cover_image(title, size))


def cover_image(title: str, size: int = COVER_SIZE) -> np.ndarray:
    """The cover as a (size, size, 3) uint8 RGB image."""
    if size < 16:
        raise ValueError(f"cover size must be at least 16 pixels, not {size}")
    digest = hashlib.sha256(title.encode("utf-8")).digest()
    hue = digest[0] / 255
    top = np.array(colorsys.hsv_to_rgb(hue, 0.55, 0.95))
    bottom = np.array(colorsys.hsv_to_rgb((hue + 0.12) % 1.0, 0.85, 0.45))

    y, x = np.mgrid[0:size, 0:size] / (size - 1)
    mix = ((x + y) / 2)[..., None]  # diagonal gradient
    image = top * (1 - mix) + bottom * mix

    # A ring, and inside it a row of rounded bars shaped like a spoken phrase's level meter.
    cx, cy = 0.5, 0.5
    radius = np.hypot(x - cx, y - cy)
    ring = np.clip(1 - np.abs(radius - 0.36) / 0.012, 0, 1)
    bars = np.zeros_like(x)
    heights = 0.06 + 0.22 * np.array([b / 255 for b in digest[1:10]]) * np.hanning(11)[1:10]
    for index, height in enumerate(heights):
        centre = cx + (index - 4) * 0.055
        inside = (np.abs(x - centre) < 0.018) & (np.abs(y - cy) < height)
        bars = np.maximum(bars, inside.astype(float))
    emblem = np.maximum(ring, bars)[..., None]
    image = image * (1 - 0.9 * emblem) + 0.9 * emblem  # white, a little translucent
    return np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8)


def png_bytes(image: np.ndarray) -> bytes:
    """Encode an (h, w, 3) uint8 RGB image as PNG (8-bit truecolour, no filtering)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError("expected an (h, w, 3) uint8 image")
    height, width, _ = image.shape
    rows = np.concatenate([np.zeros((height, 1), dtype=np.uint8), image.reshape(height, width * 3)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(rows.tobytes(), 9)),
            _chunk(b"IEND", b""),
        ]
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
