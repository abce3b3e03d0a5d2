"""The ID3v2.3 tag at the start of an MP3: text frames, the comment, the cover and the table of chapters."""

from __future__ import annotations

import struct
from typing import Mapping, Sequence

from coach.errors import EncoderError

_FRONT_COVER = 3  # APIC picture type
_TOC_FLAGS = 0x03  # CTOC: ordered (bit 0) and top level (bit 1)
_NO_OFFSET = 0xFFFFFFFF  # CHAP: no byte offsets, players go by the times
MAX_CHAPTERS = 255  # CTOC counts its entries in one byte


def comment_frame(text: str) -> bytes:
    """A COMM frame (language 'eng', empty description)."""
    encoding, encoded = _encoded(text)
    return _frame("COMM", encoding + b"eng" + _terminated(b"", encoding) + encoded)


def picture_frame(png: bytes, description: str = "Cover", mime: str = "image/png") -> bytes:
    """An APIC frame holding a picture (a PNG unless `mime` says otherwise) as the front cover."""
    encoding, encoded = _encoded(description)
    return _frame("APIC", encoding + mime.encode("ascii") + b"\x00" + bytes([_FRONT_COVER]) + _terminated(encoded, encoding) + png)


def chapter_frames(chapters: Sequence[tuple[str, int, int]], pictures: Sequence[bytes | None] = ()) -> bytes:
    """A CTOC frame listing one CHAP frame per (title, start_ms, end_ms), in order, and those CHAP frames; each
    chapter's JPEG of `pictures` (None: none) goes into its CHAP frame as an APIC subframe, as podcast apps read it."""
    if len(chapters) > MAX_CHAPTERS:
        raise EncoderError(f"an MP3 can list at most {MAX_CHAPTERS} chapters, not {len(chapters)}")
    if not chapters:
        return b""
    ids = [f"ch{number}".encode("ascii") + b"\x00" for number in range(len(chapters))]
    toc = _frame("CTOC", b"toc\x00" + bytes([_TOC_FLAGS, len(chapters)]) + b"".join(ids))
    pictured = list(pictures) + [None] * (len(chapters) - len(pictures))
    marks = [
        _frame("CHAP", element + struct.pack(">IIII", start_ms, end_ms, _NO_OFFSET, _NO_OFFSET) + _text_frame("TIT2", title)
               + (picture_frame(picture, title, "image/jpeg") if picture else b""))
        for element, (title, start_ms, end_ms), picture in zip(ids, chapters, pictured)
    ]
    return toc + b"".join(marks)


_TEXT_FRAMES = {"title": "TIT2", "artist": "TPE1", "album": "TALB", "date": "TYER", "track": "TRCK"}  # as ffmpeg names them


def text_frames(tags: Mapping[str, str]) -> bytes:
    """The ID3v2.3 text frames of ffmpeg-style tags (title, artist, album, date as TYER, track); the comment is comment_frame's."""
    return b"".join(_text_frame(_TEXT_FRAMES[key], value) for key, value in tags.items() if value and key in _TEXT_FRAMES)


def tag(frames: bytes) -> bytes:
    """A whole ID3v2.3 tag (header, then `frames`), for the start of an MP3 file."""
    size = len(frames)
    if size >= 1 << 28:
        raise EncoderError("the ID3 tag is too large (the cover?)")
    syncsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3\x03\x00\x00" + syncsafe + frames


def _text_frame(frame_id: str, text: str) -> bytes:
    encoding, encoded = _encoded(text)
    return _frame(frame_id, encoding + encoded)


def _frame(frame_id: str, body: bytes) -> bytes:
    return frame_id.encode("ascii") + struct.pack(">I", len(body)) + b"\x00\x00" + body


def _encoded(text: str) -> tuple[bytes, bytes]:
    """The text as ID3v2.3 allows: Latin-1 (encoding 0) where it fits, else UTF-16 with a byte-order mark (1)."""
    try:
        return b"\x00", text.encode("latin-1")
    except UnicodeEncodeError:
        return b"\x01", text.encode("utf-16")


def _terminated(encoded: bytes, encoding: bytes) -> bytes:
    if encoding == b"\x00":
        return encoded + b"\x00"
    return (encoded or "".encode("utf-16")) + b"\x00\x00"
