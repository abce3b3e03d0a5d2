"""ID3v2.3 frames written into a tag's padding, read back by mutagen (an independent reader)."""

from __future__ import annotations

import struct

import pytest
from mutagen.id3 import ID3

from coach import id3
from coach.errors import EncoderError

CHAPTERS = [("Warm-up", 0, 3000), ("Pigeon — slow", 3000, 7500), ("Couch stretch", 7500, 11037)]


def tagged_file(path, padding, version=3):
    """A file holding an ID3v2 tag with one TIT2 frame and `padding` zero bytes, then some audio-like bytes."""
    title = b"TIT2" + struct.pack(">I", 3) + b"\x00\x00" + b"\x00Hi"
    size = len(title) + padding
    syncsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    path.write_bytes(b"ID3" + bytes([version, 0, 0]) + syncsafe + title + b"\x00" * padding + b"\xff\xfb" * 100)
    return path


def test_frames_written_into_the_padding_are_read_back_in_order(tmp_path):
    frames = id3.comment_frame("Stretch gently; stop = pain.") + id3.picture_frame(b"\x89PNG fake")
    frames += id3.chapter_frames(CHAPTERS)
    path = tagged_file(tmp_path / "t.mp3", padding=len(frames) + 5)
    size = path.stat().st_size
    id3.write_into_padding(path, frames)
    assert path.stat().st_size == size  # in place: the audio after the tag has not moved
    tag = ID3(path)
    assert str(tag["TIT2"]) == "Hi"
    (comment,) = tag.getall("COMM")
    assert (comment.lang, comment.desc, comment.text, comment.encoding) == ("eng", "", ["Stretch gently; stop = pain."], 0)
    (picture,) = tag.getall("APIC")
    assert (picture.mime, picture.type, picture.desc, picture.data) == ("image/png", 3, "Cover", b"\x89PNG fake")
    (toc,) = tag.getall("CTOC")
    assert toc.flags == 3 and toc.child_element_ids == ["ch0", "ch1", "ch2"]
    found = [tag[f"CHAP:{element}"] for element in toc.child_element_ids]
    assert [(str(c.sub_frames["TIT2"]), c.start_time, c.end_time) for c in found] == CHAPTERS
    assert {(c.start_offset, c.end_offset) for c in found} == {(0xFFFFFFFF, 0xFFFFFFFF)}


def test_text_outside_latin1_is_utf16(tmp_path):
    frame = id3.comment_frame("Растяжка 🧘")
    path = tagged_file(tmp_path / "t.mp3", padding=len(frame))
    id3.write_into_padding(path, frame)
    (comment,) = ID3(path).getall("COMM")
    assert comment.text == ["Растяжка 🧘"] and comment.encoding == 1


def test_no_chapters_write_no_table():
    assert id3.chapter_frames([]) == b""


def test_a_tag_without_room_is_an_encoder_error_and_the_file_is_unchanged(tmp_path):
    frames = id3.chapter_frames(CHAPTERS)
    path = tagged_file(tmp_path / "t.mp3", padding=len(frames) - 1)
    before = path.read_bytes()
    with pytest.raises(EncoderError, match="no room"):
        id3.write_into_padding(path, frames)
    assert path.read_bytes() == before


@pytest.mark.parametrize("content", [b"\xff\xfb" * 50, None])
def test_a_file_without_an_id3v23_tag_is_an_encoder_error(tmp_path, content):
    path = tmp_path / "t.mp3"
    if content is None:
        tagged_file(path, padding=100, version=4)
    else:
        path.write_bytes(content)
    with pytest.raises(EncoderError, match="no ID3v2.3 tag"):
        id3.write_into_padding(path, id3.comment_frame("x"))

