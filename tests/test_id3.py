"""ID3v2.3 tags as coach writes them at the start of an MP3, read back by mutagen (an independent reader)."""

from __future__ import annotations

from mutagen.id3 import ID3

from coach.output import id3

CHAPTERS = [("Warm-up", 0, 3000), ("Pigeon — slow", 3000, 7500), ("Couch stretch", 7500, 11037)]


def tagged_file(path, frames):
    """A file starting with coach's tag of a TIT2 frame and `frames`, then some audio-like bytes."""
    path.write_bytes(id3.tag(id3.text_frames({"title": "Hi"}) + frames) + b"\xff\xfb" * 100)
    return path


def test_the_frames_of_a_tag_are_read_back_in_order(tmp_path):
    frames = id3.comment_frame("Stretch gently; stop = pain.") + id3.picture_frame(b"\x89PNG fake")
    frames += id3.chapter_frames(CHAPTERS)
    tag = ID3(tagged_file(tmp_path / "t.mp3", frames))
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
    (comment,) = ID3(tagged_file(tmp_path / "t.mp3", frame)).getall("COMM")
    assert comment.text == ["Растяжка 🧘"] and comment.encoding == 1


def test_no_chapters_write_no_table():
    assert id3.chapter_frames([]) == b""


