"""Export: transcripts, playlists, ffmetadata; ffmpeg files read back with ffprobe and mutagen; nothing lost on failure."""

from __future__ import annotations

import base64
import io
import json
import os
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
from mutagen.flac import Picture
from mutagen.id3 import ID3
from mutagen.mp4 import MP4
from mutagen.oggvorbis import OggVorbis
from scipy import signal
from typer.testing import CliRunner

from coach.cli.app import app
from coach.output.chunked import encode_mp3
from coach.output.cover import COVER_SIZE, cover_image, cover_png
from coach.output.encode import FFMPEG_MISSING, EncodeJob, _command, checked_bitrate, encode, ffmetadata, id3_frames, output_format
from coach.output.encode import pcm_s16le
from coach.errors import EncoderError, OutputError, UsageError
from coach.output.export import ExportOptions, TrackTags, export_target, export_track, lrc, lrc_time, m3u8
from coach.audio.mixer import Mixer, frame_at
from coach.timeline.timeline import ChapterSpan, CueEvent, Timeline, ToneEvent

RATE = 22050
TITLE = "Test session"
# Chapter titles with every character ffmetadata escapes, and some outside Latin-1.
CHAPTERS = (("Warm-up", 0, 3000), ("Couch = stretch; #1 \\ back", 3000, 7500), ("Pigeon — slow", 7500, 11037))
COMMENT = "Stretch gently; stop = pain."

runner = CliRunner()


def noise(seconds, level, seed):
    """Loud band-limited noise as int16, like a speech clip."""
    rng = np.random.default_rng(seed)
    values = signal.lfilter([1.0], [1.0, -0.6], rng.standard_normal(round(seconds * RATE)))
    values *= level / np.max(np.abs(values))
    return np.round(values * 32767).astype(np.int16)


def cue(start_ms, text, chapter, clips):
    """A cue lasting as long as its clip."""
    return CueEvent(start_ms, start_ms + round(clips[text].size * 1000 / RATE), text, chapter)


def session(duration_ms=CHAPTERS[-1][2]):
    """A hand-built timeline of the three CHAPTERS (the last one lasting until duration_ms) and its int16 clips."""
    clips = {"one": noise(1.0, 0.5, 1), "two": noise(0.8, 0.4, 2), "three": noise(1.2, 0.6, 3)}
    cues = (
        cue(0, "one", 0, clips),
        cue(3000, "two", 1, clips),
        cue(5000, "one", 1, clips),
        cue(7500, "three", 2, clips),
        cue(9800, "two", 2, clips),
    )
    (title, start_ms, _end_ms) = CHAPTERS[-1]
    spans = tuple(ChapterSpan(*chapter) for chapter in CHAPTERS[:-1]) + (ChapterSpan(title, start_ms, duration_ms),)
    tones = (ToneEvent(2000, "count"), ToneEvent(2500, "end"), ToneEvent(7000, "start"))
    return Timeline(TITLE, duration_ms, spans, cues, tones, ()), clips


def tags(comment=COMMENT):
    """Tags with an artist, a year, a comment and the cover."""
    return TrackTags(TITLE, "Ann Artist", "coach", 2024, comment, cover_png(TITLE))


def probe(path):
    """ffprobe's format, streams and chapters of a file."""
    command = ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-show_chapters", "-of", "json", str(path)]
    return json.loads(subprocess.run(command, capture_output=True, check=True, text=True).stdout)


def played_seconds(info):
    """A file's length as played: ffprobe counts an MP3's encoder delay (its start_time) in the duration."""
    return float(info["format"]["duration"]) - float(info["format"].get("start_time", 0))


def decoded(path):
    """The file decoded by ffmpeg to int16 mono at RATE (gapless: encoder delay and padding removed)."""
    command = ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(RATE), "-"]
    return np.frombuffer(subprocess.run(command, capture_output=True, check=True).stdout, dtype="<i2")


def chapters_seen(info):
    """ffprobe's chapters as (title, start_ms, end_ms)."""
    return [
        (c["tags"]["title"], round(float(c["start_time"]) * 1000), round(float(c["end_time"]) * 1000))
        for c in info["chapters"]
    ]


def listing(directory):
    """Every name in a directory, hidden ones too."""
    return sorted(os.listdir(directory))


def fake_ffmpeg(directory, message):
    """An `ffmpeg` script that reads its input, prints `message` on stderr and fails."""
    directory.mkdir()
    script = directory / "ffmpeg"
    script.write_text(f"#!/bin/sh\ncat > /dev/null\necho 'some context' >&2\necho '{message}' >&2\nexit 1\n")
    script.chmod(0o755)
    return directory


# --- transcripts and playlists -----------------------------------------------------------------


def test_lrc_time_rounds_to_centiseconds_and_counts_minutes_past_an_hour():
    assert lrc_time(0) == "00:00.00"
    assert lrc_time(4) == "00:00.00" and lrc_time(5) == "00:00.01"  # half a centisecond rounds up
    assert lrc_time(1234) == "00:01.23" and lrc_time(1235) == "00:01.24"
    assert lrc_time(59_995) == "01:00.00"  # rounding carries into the minutes
    assert lrc_time(3_723_456) == "62:03.46"  # 1 h 2 min 3.456 s
    assert lrc_time(100 * 60_000 + 1_000) == "100:01.00"


def test_lrc_has_one_line_per_cue_with_its_text_on_one_line():
    cues = [(0, "Post-run mobility."), (1235, "Inhale,\n  lift the belly."), (61_005, "Halfway."), (3_723_456, "Done.")]
    events = tuple(CueEvent(start, start + 500, text, 0) for start, text in cues)
    timeline = Timeline(TITLE, 3_800_000, (ChapterSpan("All", 0, 3_800_000),), events, (), ())
    assert lrc(timeline) == (
        "[00:00.00]Post-run mobility.\n"
        "[00:01.24]Inhale, lift the belly.\n"
        "[01:01.01]Halfway.\n"
        "[62:03.46]Done.\n"
    )


def test_lrc_of_a_chapter_counts_from_its_start_and_holds_only_its_cues():
    timeline, _clips = session()
    assert lrc(timeline, 3000, 7500) == "[00:00.00]two\n[00:02.00]one\n"
    assert lrc(timeline, 7500, 11037) == "[00:00.00]three\n[00:02.30]two\n"
    assert lrc(timeline, 2000, 2900) == ""  # no cue starts there


def test_m3u8_lists_each_file_after_its_length_and_title():
    entries = [("run - 01 - Warm-up.mp3", 3.0, "Warm-up"), ("run - 02 - Pigeon.mp3", 4.5004, "Pigeon,\n  slow")]
    assert m3u8(entries, "My  run") == (
        "#EXTM3U\n"
        "#PLAYLIST:My run\n"
        "#EXTINF:3.000,Warm-up\n"
        "run - 01 - Warm-up.mp3\n"
        "#EXTINF:4.500,Pigeon, slow\n"
        "run - 02 - Pigeon.mp3\n"
    )


# --- formats, bitrates and the ffmetadata file -----------------------------------------------


@pytest.mark.parametrize("name, expected", [("mp3", "mp3"), ("MP3", "mp3"), (".ogg", "ogg"), ("m4a", "m4a"), ("wav", "wav")])
def test_output_format_knows_the_four_formats_in_any_case(name, expected):
    form = output_format(name)
    assert form.name == expected and form.extension == f".{expected}"


@pytest.mark.parametrize("name", ["flac", "mp4", "", "mp3 "])
def test_an_unknown_output_format_is_a_usage_error_naming_the_choices(name):
    with pytest.raises(UsageError, match="mp3, m4a, ogg, wav"):
        output_format(name)


@pytest.mark.parametrize(
    "fmt, asked, expected",
    [
        ("mp3", None, "64k"),
        ("m4a", None, "64k"),
        ("ogg", None, "80k"),
        ("wav", None, None),
        ("mp3", "96k", "96k"),
        ("mp3", " 128K ", "128k"),
        ("m4a", "016k", "16k"),
        ("ogg", "320k", "320k"),
    ],
)
def test_checked_bitrate_gives_the_default_or_a_normalized_valid_rate(fmt, asked, expected):
    assert checked_bitrate(output_format(fmt), asked) == expected


@pytest.mark.parametrize("asked", ["15k", "321k", "0k", "64", "64kbps", "1.5k", "-64k", "", "fast"])
def test_a_bad_bitrate_is_a_usage_error(asked):
    with pytest.raises(UsageError, match="bad bitrate"):
        checked_bitrate(output_format("mp3"), asked)


def test_a_bitrate_for_wav_is_a_usage_error():
    with pytest.raises(UsageError, match="does not apply to wav"):
        checked_bitrate(output_format("wav"), "64k")


def test_ffmetadata_escapes_specials_and_writes_a_chapter_block_each():
    job = EncodeJob(
        Path("x.m4a"),
        output_format("m4a"),
        RATE,
        tags={"title": "a=b;c#d\\e\nf", "artist": "Ann", "album": ""},
        chapters=[("One; =", 0, 1500), ("Two #2", 1500, 61_000)],
    )
    assert ffmetadata(job) == (
        ";FFMETADATA1\n"
        "title=a\\=b\\;c\\#d\\\\e\\\nf\n"
        "artist=Ann\n"  # the empty album is left out
        "\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1500\ntitle=One\\; \\=\n"
        "\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=1500\nEND=61000\ntitle=Two \\#2\n"
    )


def test_mp3_is_not_encoded_by_ffmpeg(tmp_path):
    job = EncodeJob(tmp_path / "x.mp3", output_format("mp3"), RATE, "64k")
    with pytest.raises(ValueError, match="coach.output.chunked"):
        encode([np.zeros(RATE, dtype=np.float32)], job)
    assert not job.output.exists()


@pytest.mark.parametrize("fmt", ["m4a", "ogg", "wav"])
def test_other_formats_take_their_tags_from_a_metadata_file(tmp_path, fmt):
    job = EncodeJob(tmp_path / f"x.{fmt}", output_format(fmt), RATE, tags={"title": "T"}, cover_png=cover_png("T"))
    command = encode_command(job)
    assert "title=T" not in command
    inputs = [command[n + 1] for n, arg in enumerate(command) if arg == "-i"]
    assert inputs[:2] == ["pipe:0", str(tmp_path / "scratch" / "metadata.txt")]
    assert len(inputs) == (3 if fmt == "m4a" else 2)  # m4a's cover is a picture input


def test_id3_frames_are_empty_for_formats_that_are_not_mp3():
    job = EncodeJob(Path("x.m4a"), output_format("m4a"), RATE, tags={"comment": "C"}, chapters=[("A", 0, 10)], cover_png=b"p")
    assert id3_frames(job) == b""


def test_more_chapters_than_an_mp3_table_can_list_is_an_encoder_error():
    chapters = [(f"C{n}", n, n + 1) for n in range(256)]
    with pytest.raises(EncoderError, match="at most 255 chapters"):
        id3_frames(EncodeJob(Path("x.mp3"), output_format("mp3"), RATE, chapters=chapters))


def encode_command(job):
    """The ffmpeg command encode would run for a job (its scratch folder made under the output's)."""
    scratch = job.output.parent / "scratch"
    scratch.mkdir(exist_ok=True)
    return _command("ffmpeg", job, scratch)


def test_ffmetadata_for_ogg_has_vorbis_chapter_comments_and_a_picture_block():
    png = cover_png("Ogg")
    job = EncodeJob(
        Path("x.ogg"),
        output_format("ogg"),
        RATE,
        tags={"title": "T", "comment": "C"},
        chapters=[("First", 0, 5000), ("Second = last", 3_723_456, 3_800_000)],
        cover_png=png,
    )
    lines = ffmetadata(job).splitlines()
    assert "[CHAPTER]" not in lines  # ogg keeps chapters in comments only
    assert lines[:7] == [
        ";FFMETADATA1",
        "title=T",
        "comment=C",
        "CHAPTER001=00:00:00.000",
        "CHAPTER001NAME=First",
        "CHAPTER002=01:02:03.456",
        "CHAPTER002NAME=Second \\= last",
    ]
    key, value = lines[7].split("=", 1)
    assert key == "METADATA_BLOCK_PICTURE" and len(lines) == 8
    picture = Picture(base64.b64decode(value))  # mutagen parses the FLAC picture block
    assert (picture.type, picture.mime, picture.desc) == (3, "image/png", "Cover")
    assert (picture.width, picture.height, picture.depth) == (COVER_SIZE, COVER_SIZE, 24)
    assert picture.data == png


def test_ffmetadata_for_wav_has_tags_but_neither_chapters_nor_picture():
    job = EncodeJob(Path("x.wav"), output_format("wav"), RATE, tags={"title": "T"}, chapters=[("A", 0, 10)], cover_png=b"png")
    assert ffmetadata(job) == ";FFMETADATA1\ntitle=T\n"


@pytest.mark.parametrize("fmt", ["ogg", "mp3"])
def test_tags_with_awkward_characters_come_back_from_ffmpeg_without_disturbing_the_others(tmp_path, fmt):
    # ffmpeg's metadata-file reader ends a line at a carriage return too, and takes a line ending in an escaped
    # backslash for a continued one: neither may cut a tag short or swallow the next line.
    awkward = {
        "title": "one=1; #two\\three\nfour",
        "artist": "cr\rinside",
        "album": "ends in a backslash\\",
        "date": "2024",
        "comment": "last",
    }
    chapters = [("Only\\", 0, 500), ("Next", 500, 1000)]
    job = EncodeJob(tmp_path / f"t.{fmt}", output_format(fmt), RATE, output_format(fmt).default_bitrate, awkward, chapters)
    if fmt == "mp3":
        encode_mp3(lambda start, count: np.zeros(count, dtype=np.float32), 0, RATE, [], job)
    else:
        encode([np.zeros(RATE, dtype=np.float32)], job)
    info = probe(job.output)
    found = info["streams"][0]["tags"] if fmt == "ogg" else info["format"]["tags"]
    expected = {**awkward, "encoder": found["encoder"]} if fmt == "ogg" else awkward  # coach's MP3 tag names no encoder
    if fmt == "ogg":  # from the metadata file a trailing backslash cannot be written: it is dropped
        expected["album"] = "ends in a backslash"
    assert found == expected
    titles = ["Only", "Next"] if fmt == "ogg" else ["Only\\", "Next"]
    assert [title for title, _start, _end in chapters_seen(info)] == titles


# --- output paths ---------------------------------------------------------------------------


def test_missing_folders_are_made_and_reported_outermost_first(tmp_path):
    timeline, clips = session()
    result = export_track(timeline, clips, RATE, tmp_path / "run" / "week 1" / "take.wav", ExportOptions(format="wav"))
    assert result.created_folders == (tmp_path / "run", tmp_path / "run" / "week 1")
    assert listing(tmp_path / "run" / "week 1") == ["take.lrc", "take.wav"]


def test_folders_made_for_an_export_that_fails_are_removed_again(tmp_path):
    timeline, clips = session(duration_ms=20_000)
    with pytest.raises(KeyboardInterrupt):
        export_track(timeline, clips, RATE, tmp_path / "run" / "deep" / "take.mp3", on_progress=interrupt_after(1))
    assert listing(tmp_path) == []


def test_a_folder_that_existed_already_is_not_reported_or_removed(tmp_path):
    timeline, clips = session(duration_ms=20_000)
    (tmp_path / "run").mkdir()
    with pytest.raises(KeyboardInterrupt):
        export_track(timeline, clips, RATE, tmp_path / "run" / "deep" / "take.mp3", on_progress=interrupt_after(1))
    assert listing(tmp_path) == ["run"] and listing(tmp_path / "run") == []
    result = export_track(timeline, clips, RATE, tmp_path / "run" / "take.wav", ExportOptions(format="wav"))
    assert result.created_folders == ()


def test_a_file_where_the_directory_should_be_is_an_output_error(tmp_path):
    timeline, clips = session()
    (tmp_path / "plain").write_text("")
    with pytest.raises(OutputError, match="plain is not a directory"):
        export_track(timeline, clips, RATE, tmp_path / "plain" / "x.mp3")
    with pytest.raises(OutputError, match="plain is not a directory"):
        export_track(timeline, clips, RATE, tmp_path / "plain" / "deeper" / "x.mp3")
    assert listing(tmp_path) == ["plain"]


@pytest.mark.parametrize("name", ["take.mp3", "take"])
def test_a_directory_as_the_target_is_an_output_error(tmp_path, name):
    timeline, clips = session()
    (tmp_path / name).mkdir()
    with pytest.raises(OutputError, match="is a directory"):
        export_track(timeline, clips, RATE, tmp_path / name)
    assert listing(tmp_path) == [name] and listing(tmp_path / name) == []


@pytest.mark.parametrize("name, fmt", [("x.ogg", "mp3"), ("x.mp3", "wav"), ("x.WAV", "m4a")])
def test_an_extension_naming_another_format_is_a_usage_error(tmp_path, name, fmt):
    timeline, clips = session()
    with pytest.raises(UsageError, match=f"does not match the format {fmt}"):
        export_track(timeline, clips, RATE, tmp_path / name, ExportOptions(format=fmt))
    assert listing(tmp_path) == []


def test_a_name_without_extension_is_written_under_that_very_name(tmp_path):
    timeline, clips = session()
    result = export_track(timeline, clips, RATE, tmp_path / "session", ExportOptions(format="wav"))
    assert result.output == tmp_path / "session"
    assert listing(tmp_path) == ["session", "session.lrc"]
    assert (tmp_path / "session").read_bytes()[:4] == b"RIFF"


def test_a_fifo_gets_the_finished_track_in_place_and_nothing_is_written_beside_it(tmp_path):
    timeline, clips = session()
    expected = export_track(timeline, clips, RATE, tmp_path / "file.wav", ExportOptions(format="wav", transcript=False)).output.read_bytes()
    (tmp_path / "file.wav").unlink()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    try:
        result = export_track(timeline, clips, RATE, fifo, ExportOptions(format="wav"))
    finally:
        while reader.is_alive():  # if the export never opened the FIFO, the reader would wait for ever: end it
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass  # the reader has not opened it yet
            reader.join(0.1)
    assert received == [expected] and result.output == fifo and result.files == (fifo,)
    assert listing(tmp_path) == ["pipe"]  # no transcript, no temporary file, no pipe.wav


def test_a_full_device_is_a_disk_full_error_and_nothing_appears_beside_it(tmp_path):
    timeline, clips = session()
    before = listing("/dev")
    with pytest.raises(OutputError, match="cannot write /dev/full: disk full"):
        export_track(timeline, clips, RATE, Path("/dev/full"), ExportOptions(format="mp3"))
    assert [name for name in listing("/dev") if name not in before and "full" in name] == []


def test_a_stream_gets_the_same_bytes_as_a_file(tmp_path):
    timeline, clips = session()
    expected = export_track(timeline, clips, RATE, tmp_path / "file.mp3", tags=tags()).output.read_bytes()
    stream = io.BytesIO()
    result = export_track(timeline, clips, RATE, stream, tags=tags())
    assert stream.getvalue() == expected and result.output is None and result.files == ()
    assert listing(tmp_path) == ["file.lrc", "file.mp3"]


def test_split_into_a_stream_or_a_device_is_a_usage_error(tmp_path):
    timeline, clips = session()
    for sink in (io.BytesIO(), Path("/dev/null")):
        with pytest.raises(UsageError, match="--split writes several files"):
            export_track(timeline, clips, RATE, sink, ExportOptions(split=True))


def test_a_symlink_as_the_target_is_written_through_and_stays_a_link(tmp_path):
    timeline, clips = session()
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "take.wav"
    real.write_bytes(b"old")
    link = tmp_path / "take.wav"
    link.symlink_to(real)
    result = export_track(timeline, clips, RATE, link, ExportOptions(format="wav", transcript=False))
    assert link.is_symlink() and real.read_bytes()[:4] == b"RIFF"
    assert result.output == real and listing(tmp_path) == ["real", "take.wav"]


@pytest.mark.parametrize(
    "given, fmt, expected",
    [
        (None, None, ("post-run.mp3", "mp3")),
        (None, "ogg", ("post-run.ogg", "ogg")),
        ("-", None, (None, "mp3")),
        ("-", "wav", (None, "wav")),
        ("{tmp}", None, ("{tmp}/post-run.mp3", "mp3")),
        ("{tmp}", "m4a", ("{tmp}/post-run.m4a", "m4a")),
        ("{tmp}/new/", None, ("{tmp}/new/post-run.mp3", "mp3")),
        ("{tmp}/take.M4A", None, ("{tmp}/take.M4A", "m4a")),
        ("{tmp}/take.mp3", "ogg", ("{tmp}/take.mp3", "ogg")),  # the mismatch is checked_output's to report
        ("{tmp}/session", "wav", ("{tmp}/session", "wav")),
        ("/dev/null", "mp3", ("/dev/null", "mp3")),
    ],
)
def test_export_target_reads_o_as_a_person_means_it(tmp_path, given, fmt, expected):
    def filled(text):
        return None if text is None else text.replace("{tmp}", str(tmp_path))

    path, form = expected
    target = export_target(filled(given), "post-run", fmt)
    assert (target.path, target.format) == (None if path is None else Path(filled(path)), form)


@pytest.mark.parametrize(
    "given, message",
    [
        ("{tmp}/take.txt", "cannot tell the format from take.txt: add --format mp3|m4a|ogg|wav"),
        ("{tmp}/session", "it has no extension and is not a folder; name it session.mp3, or add --format"),
        ("/dev/full", "cannot tell which format to write into /dev/full: add --format"),
        ("", "-o needs a file or folder name"),
    ],
)
def test_export_target_asks_for_a_format_it_cannot_tell(tmp_path, given, message):
    with pytest.raises(UsageError) as raised:
        export_target(given.replace("{tmp}", str(tmp_path)), "post-run")
    assert message in str(raised.value)
    assert listing(tmp_path) == []


def test_an_empty_session_is_a_usage_error(tmp_path):
    timeline = Timeline(TITLE, 0, (), (), (), ())
    with pytest.raises(UsageError, match="nothing to export"):
        export_track(timeline, {}, RATE, tmp_path / "x.mp3")
    assert listing(tmp_path) == []


# --- cover art ------------------------------------------------------------------------------


def png_chunks(data):
    """A PNG's chunks as (type, payload), each CRC checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, position = [], 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        payload = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + payload), kind
        chunks.append((kind, payload))
        position += 12 + length
    return chunks


def test_cover_png_is_a_valid_png_of_the_cover_image():
    data = cover_png("Post-run mobility")
    chunks = png_chunks(data)
    kinds = [kind for kind, _payload in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (width, height) == (COVER_SIZE, COVER_SIZE)
    assert (depth, colour, compression, filtering, interlace) == (8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    raw = zlib.decompress(b"".join(payload for kind, payload in chunks if kind == b"IDAT"))
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, 1 + 3 * width)
    assert not rows[:, 0].any()  # filter type 0 on every row: the pixels are the bytes that follow
    pixels = rows[:, 1:].reshape(height, width, 3)
    assert np.array_equal(pixels, cover_image("Post-run mobility"))
    assert pixels.std() > 10  # a picture, not a flat colour


def test_the_same_title_gives_the_same_cover_and_another_title_another():
    assert cover_png("Post-run mobility") == cover_png("Post-run mobility")
    assert cover_png("Post-run mobility") != cover_png("Pre-run drills")
    assert not np.array_equal(cover_image("Post-run mobility", 64), cover_image("Pre-run drills", 64))


# --- real ffmpeg: one file ------------------------------------------------------------------


def test_wav_holds_exactly_the_mixers_samples_in_16_bits(tmp_path):
    timeline, clips = session()
    result = export_track(timeline, clips, RATE, tmp_path / "take.wav", ExportOptions(format="wav"), tags=tags(), gain=1.5)
    mixer = Mixer(timeline, clips, RATE, gain=1.5, ceiling_dbtp=output_format("wav").ceiling_dbtp)
    expected = np.frombuffer(pcm_s16le(mixer.render(0, mixer.total_frames)), dtype="<i2")
    samples = decoded(result.output)
    assert samples.size == mixer.total_frames == 243_366  # 11.037 s at 22050 Hz: 243 365.85 frames, rounded up
    assert np.array_equal(samples, expected)
    assert result.duration == mixer.total_frames / RATE
    assert result.files == (tmp_path / "take.wav", tmp_path / "take.lrc")
    assert (tmp_path / "take.lrc").read_text(encoding="utf-8") == lrc(timeline)
    assert result.gain_db == pytest.approx(20 * np.log10(1.5))


@pytest.fixture(scope="module")
def mp3_export(tmp_path_factory):
    """The session exported once to MP3, with the timeline it came from."""
    timeline, clips = session()
    result = export_track(timeline, clips, RATE, tmp_path_factory.mktemp("mp3") / "take.mp3", tags=tags())
    return timeline, result


EXPECTED_TAGS = {"title": TITLE, "artist": "Ann Artist", "album": "coach", "date": "2024", "comment": COMMENT}


def format_tags(info):
    """The container-level tags ffprobe read that a phone shows."""
    return {key: info["format"]["tags"].get(key) for key in EXPECTED_TAGS}


def test_mp3_lasts_the_session_with_its_chapters_and_tags_as_ffprobe_reads_them(mp3_export):
    timeline, result = mp3_export
    info = probe(result.output)
    assert result.format == "mp3" and info["format"]["format_name"] == "mp3"
    assert played_seconds(info) == pytest.approx(timeline.duration_ms / 1000, abs=0.05)
    assert decoded(result.output).size == round(result.duration * RATE)  # the gapless header trims it exactly
    assert chapters_seen(info) == list(CHAPTERS)
    assert format_tags(info) == EXPECTED_TAGS
    audio, picture = info["streams"]
    assert (audio["codec_name"], int(audio["sample_rate"]), audio["channels"]) == ("mp3", RATE, 1)
    assert audio["bit_rate"] == "64000"
    assert picture["codec_name"] == "png" and picture["disposition"]["attached_pic"] == 1


def test_mp3_tags_are_id3v23_frames_with_cover_comment_and_an_ordered_table_of_chapters(mp3_export):
    _timeline, result = mp3_export
    id3 = ID3(result.output)
    assert id3.version == (2, 3, 0)
    assert [str(id3[key]) for key in ("TIT2", "TPE1", "TALB")] == [TITLE, "Ann Artist", "coach"]
    (comment,) = id3.getall("COMM")
    assert (comment.lang, comment.desc, comment.text) == ("eng", "", [COMMENT])
    (picture,) = id3.getall("APIC")
    assert (picture.mime, picture.type, picture.data) == ("image/png", 3, cover_png(TITLE))  # 3: front cover
    (toc,) = id3.getall("CTOC")
    chapters = {frame.element_id: frame for frame in id3.getall("CHAP")}
    assert toc.flags & 1 and toc.flags & 2  # top level, ordered
    assert sorted(toc.child_element_ids) == sorted(chapters)
    listed = [chapters[element] for element in toc.child_element_ids]
    assert [(str(c.sub_frames["TIT2"]), c.start_time, c.end_time) for c in listed] == list(CHAPTERS)


def test_an_mp3_comment_outside_latin1_is_a_unicode_comm_frame(tmp_path):
    timeline, clips = session()
    comment = "Растяжка — gently 🧘"
    result = export_track(timeline, clips, RATE, tmp_path / "take.mp3", ExportOptions(transcript=False), tags=tags(comment))
    (frame,) = ID3(result.output).getall("COMM")
    assert frame.text == [comment] and frame.encoding == 1  # UTF-16
    assert probe(result.output)["format"]["tags"]["comment"] == comment
    assert result.files == (tmp_path / "take.mp3",)


def test_ogg_carries_chapters_and_cover_as_vorbis_comments(tmp_path):
    timeline, clips = session()
    result = export_track(timeline, clips, RATE, tmp_path / "take.ogg", ExportOptions(format="ogg"), tags=tags())
    comments = OggVorbis(result.output)
    assert [comments[f"CHAPTER{n:03d}NAME"][0] for n in (1, 2, 3)] == [title for title, _s, _e in CHAPTERS]
    assert [comments[f"CHAPTER{n:03d}"][0] for n in (1, 2, 3)] == ["00:00:00.000", "00:00:03.000", "00:00:07.500"]
    assert "CHAPTER004" not in comments
    assert [comments[key] for key in ("TITLE", "ARTIST", "ALBUM", "DATE")] == [[TITLE], ["Ann Artist"], ["coach"], ["2024"]]
    picture = Picture(base64.b64decode(comments["METADATA_BLOCK_PICTURE"][0]))
    assert picture.type == 3 and picture.data == cover_png(TITLE)
    info = probe(result.output)
    assert [title for title, _start, _end in chapters_seen(info)] == [title for title, _s, _e in CHAPTERS]
    assert played_seconds(info) == pytest.approx(timeline.duration_ms / 1000, abs=0.05)


def test_m4a_has_chapters_tags_and_cover(tmp_path):
    timeline, clips = session()
    result = export_track(timeline, clips, RATE, tmp_path / "take.m4a", ExportOptions(format="m4a"), tags=tags())
    info = probe(result.output)
    assert chapters_seen(info) == list(CHAPTERS)
    assert played_seconds(info) == pytest.approx(timeline.duration_ms / 1000, abs=0.05)
    assert format_tags(info) == EXPECTED_TAGS
    (cover,) = MP4(result.output).tags["covr"]
    assert cover.imageformat == cover.FORMAT_PNG and bytes(cover) == cover_png(TITLE)


def test_progress_reports_every_frame_once_up_to_the_total(tmp_path):
    timeline, clips = session(duration_ms=20_000)
    seen = []
    wav = ExportOptions(format="wav")
    result = export_track(timeline, clips, RATE, tmp_path / "take.wav", wav, on_progress=lambda *call: seen.append(call))
    total = round(result.duration * RATE)
    assert len(seen) >= 5  # 20 s in blocks of a few seconds
    assert all(t == total for _done, t in seen)
    done = [d for d, _t in seen]
    assert done == sorted(set(done)) and done[-1] == total


# --- real ffmpeg: split -----------------------------------------------------------------------


def test_split_writes_a_file_per_chapter_and_a_playlist_of_their_lengths(tmp_path):
    timeline, clips = session()
    result = export_track(timeline, clips, RATE, tmp_path / "take.mp3", ExportOptions(split=True), tags=tags())
    assert result.output == tmp_path / "take.m3u8"
    lines = result.output.read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["#EXTM3U", f"#PLAYLIST:{TITLE}"]
    entries = list(zip(lines[2::2], lines[3::2]))
    assert len(entries) == len(CHAPTERS)
    for number, ((info_line, name), (title, start_ms, end_ms)) in enumerate(zip(entries, CHAPTERS), start=1):
        seconds, shown = info_line.removeprefix("#EXTINF:").split(",", 1)
        assert shown == title
        piece = tmp_path / name
        assert piece.parent == tmp_path and piece.suffix == ".mp3"
        info = probe(piece)
        assert played_seconds(info) == pytest.approx(float(seconds), abs=0.05)
        assert float(seconds) == pytest.approx((end_ms - start_ms) / 1000, abs=0.001)
        frames = frame_at(end_ms, RATE) if number < len(CHAPTERS) else round(result.duration * RATE)
        assert decoded(piece).size == frames - frame_at(start_ms, RATE)
        file_tags = info["format"]["tags"]
        assert [file_tags[key] for key in ("title", "album", "track")] == [title, TITLE, f"{number}/{len(CHAPTERS)}"]
        assert info["chapters"] == []
        assert piece.with_suffix(".lrc").read_text(encoding="utf-8") == lrc(timeline, start_ms, end_ms)
    written = {path.name for path in result.files}
    assert written == set(listing(tmp_path)) and len(written) == 2 * len(CHAPTERS) + 1


def split_pieces(directory, extension):
    """The names of a split's pieces of `take` in a directory: its audio files with their transcripts."""
    return sorted(name for name in listing(directory) if name.startswith("take - ") and name.endswith((extension, ".lrc")))


def test_a_split_replaces_the_older_split_its_playlist_lists_and_touches_nothing_else(tmp_path):
    timeline, clips = session()
    export_track(timeline, clips, RATE, tmp_path / "take.ogg", ExportOptions(format="ogg", split=True))
    old_pieces = [name for name in split_pieces(tmp_path, ".ogg") if name.endswith(".ogg")]
    assert len(old_pieces) == len(CHAPTERS)
    # Beside it: files coach did not write for this playlist, some with names like its pieces.
    strangers = ["take - 01 - notes.txt", "take - 09 - Not in the playlist.ogg", "other.ogg", "take.ogg"]
    for name in strangers:
        (tmp_path / name).write_bytes(b"keep me")
    with (tmp_path / "take.m3u8").open("a", encoding="utf-8") as playlist:
        playlist.write("other.ogg\n../take - 02 - Outside.ogg\n")  # listed, but not a piece of this split here
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "take - 02 - Outside.ogg").write_bytes(b"keep me")

    result = export_track(timeline, clips, RATE, tmp_path / "take.mp3", ExportOptions(split=True))

    assert sorted(path.name for path in result.removed) == old_pieces
    assert [name for name in listing(tmp_path) if name.endswith(".ogg")] == sorted(strangers[1:])
    assert all((tmp_path / name).read_bytes() == b"keep me" for name in strangers)
    assert (tmp_path / "elsewhere" / "take - 02 - Outside.ogg").read_bytes() == b"keep me"
    written = {path.name for path in result.files}
    assert set(listing(tmp_path)) == written | set(strangers) | {"elsewhere"}


def test_a_split_with_fewer_chapters_removes_the_old_pieces_and_transcripts_past_the_end(tmp_path):
    timeline, clips = session()
    export_track(timeline, clips, RATE, tmp_path / "take.mp3", ExportOptions(split=True))
    third = [name for name in listing(tmp_path) if name.startswith("take - 03 - ")]
    shorter = Timeline(TITLE, CHAPTERS[1][2], timeline.chapters[:2], timeline.cues[:3], timeline.tones, ())
    result = export_track(shorter, clips, RATE, tmp_path / "take.mp3", ExportOptions(split=True))
    assert len(third) == 2 and sorted(path.name for path in result.removed) == third
    assert listing(tmp_path) == sorted(path.name for path in result.files)


def test_an_interrupted_split_leaves_the_older_split_whole(tmp_path):
    timeline, clips = session(duration_ms=40_000)
    export_track(timeline, clips, RATE, tmp_path / "take.ogg", ExportOptions(format="ogg", split=True))
    before = {name: (tmp_path / name).read_bytes() for name in listing(tmp_path)}
    with pytest.raises(KeyboardInterrupt):
        export_track(timeline, clips, RATE, tmp_path / "take.mp3", ExportOptions(split=True), on_progress=interrupt_after(frame_at(20_000, RATE)))
    assert {name: (tmp_path / name).read_bytes() for name in listing(tmp_path)} == before


# --- nothing lost on failure ------------------------------------------------------------------


def interrupt_after(frames):
    """An on_progress callback that raises KeyboardInterrupt once `frames` are done."""

    def callback(done, _total):
        if done >= frames:
            raise KeyboardInterrupt

    return callback


@pytest.mark.parametrize("split", [False, True], ids=["one file", "split"])
def test_an_interrupted_export_leaves_the_old_files_and_no_temporary_ones(tmp_path, split):
    timeline, clips = session(duration_ms=40_000)
    old = {"take.mp3": b"the old track", "take.lrc": b"[00:00.00]old", "take.m3u8": b"#EXTM3U\nold.mp3\n"}
    for name, data in old.items():
        (tmp_path / name).write_bytes(data)
    # Past the first chapter: with split, its file is complete when the second one is interrupted.
    halfway = frame_at(20_000, RATE)
    with pytest.raises(KeyboardInterrupt):
        stop = interrupt_after(halfway)
        options = ExportOptions(split=split)
        export_track(timeline, clips, RATE, tmp_path / "take.mp3", options, tags=tags(), on_progress=stop)
    assert listing(tmp_path) == sorted(old)
    assert {name: (tmp_path / name).read_bytes() for name in old} == old


def test_without_ffmpeg_export_raises_encoder_error_and_writes_nothing(tmp_path, monkeypatch):
    timeline, clips = session()
    empty = tmp_path / "bin"
    empty.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(EncoderError, match="ffmpeg not found"):
        export_track(timeline, clips, RATE, out / "take.mp3")
    assert listing(out) == []


@pytest.mark.parametrize(
    "message, error, text",
    [
        ("av_interleaved_write_frame(): No space left on device", OutputError, "disk full"),
        ("take.ogg: Permission denied", OutputError, "permission denied"),
        ("Invalid data found when processing input", EncoderError, "ffmpeg failed (exit 1): Invalid data found"),
    ],
)
def test_an_ffmpeg_failure_becomes_a_typed_error_and_leaves_nothing(tmp_path, monkeypatch, message, error, text):
    # Ogg: MP3 is encoded in-process (coach/output/chunked.py), ffmpeg encodes the other formats.
    timeline, clips = session(duration_ms=20_000)
    fake = fake_ffmpeg(tmp_path / "bin", message)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(error) as raised:
        export_track(timeline, clips, RATE, out / "take.ogg", ExportOptions(format="ogg"), tags=tags())
    assert text in str(raised.value)
    assert listing(out) == []


def test_a_disk_full_failure_leaves_an_existing_track_as_it_was(tmp_path, monkeypatch):
    timeline, clips = session()
    fake = fake_ffmpeg(tmp_path / "bin", "Error writing trailer: No space left on device")
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "take.ogg").write_bytes(b"old")
    with pytest.raises(OutputError, match="disk full"):
        export_track(timeline, clips, RATE, tmp_path / "take.ogg", ExportOptions(format="ogg"))
    assert listing(tmp_path) == ["bin", "take.ogg"] and (tmp_path / "take.ogg").read_bytes() == b"old"


# --- the command line fails fast, before any speech -------------------------------------------


def test_the_command_without_ffmpeg_is_a_one_line_error_exit_1(tmp_path, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    cache = tmp_path / "cache"
    result = runner.invoke(app, ["export", "post-run", "-o", str(tmp_path / "take.mp3"), "--cache-dir", str(cache)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"coach: error: {FFMPEG_MISSING}"]
    assert result.stdout == ""
    assert listing(tmp_path) == ["bin"]  # no track, and no speech rendered into the cache


@pytest.mark.parametrize(
    "options, code, text",
    [
        (["-o", "{tmp}/take.mp3", "--format", "ogg"], 2, "does not match the format ogg"),
        (["-o", "{tmp}/take.txt"], 2, "cannot tell the format from take.txt"),
        (["-o", "{tmp}/take.mp3", "--bitrate", "fast"], 2, "bad bitrate 'fast'"),
        (["-o", "{tmp}/take.wav", "--bitrate", "64k"], 2, "does not apply to wav"),
        (["-o", "{tmp}/session"], 2, "session: it has no extension and is not a folder"),
        (["-o", "/dev/full"], 2, "cannot tell which format to write into /dev/full"),
        (["-o", "/dev/null/take.mp3"], 1, "/dev/null is not a directory"),
        (["-o", "-", "--json"], 2, "--json and -o - both use standard output"),
        (["-o", "-", "--split"], 2, "--split writes several files: give -o a folder or a file name, not -"),
        (["-o", "{tmp}/take.flac", "--format", "flac"], 2, "invalid value for '--format'"),
    ],
)
def test_a_bad_output_option_is_a_one_line_error_before_rendering_speech(tmp_path, options, code, text):
    cache = tmp_path / "cache"
    arguments = [option.replace("{tmp}", str(tmp_path)) for option in options]
    result = runner.invoke(app, ["export", "post-run", *arguments, "--cache-dir", str(cache)])
    assert result.exit_code == code
    (line,) = result.stderr.splitlines()
    assert line.startswith("coach: error: ") and text in line
    assert listing(tmp_path) == []


# --- the command line: where -o writes ------------------------------------------------------------


TINY = """\
title: Tiny
exercises:
  - name: Ankle circles
    steps:
      - say: Circle the ankle.
  - name: Calf raise
    steps:
      - say: Rise onto the toes.
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A two-exercise routine file named tiny.yaml and a speech cache for it."""
    folder = tmp_path_factory.mktemp("tiny")
    routine = folder / "tiny.yaml"
    routine.write_text(TINY)
    return routine, folder / "cache"


def export_tiny(tiny, *options):
    routine, cache = tiny
    return runner.invoke(app, ["export", str(routine), "--cache-dir", str(cache), *options])


def test_o_into_missing_folders_makes_them_and_says_so(tiny, tmp_path):
    result = export_tiny(tiny, "-o", str(tmp_path / "run" / "week 1" / "post.mp3"))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == [f"created folder {tmp_path / 'run'}", f"created folder {tmp_path / 'run' / 'week 1'}"]
    assert lines[2].startswith(f"{tmp_path / 'run' / 'week 1' / 'post.mp3'}  0:")
    assert listing(tmp_path / "run" / "week 1") == ["post.lrc", "post.mp3"]


@pytest.mark.parametrize("slash", ["", "/"])
def test_o_an_existing_folder_writes_the_routines_name_inside_it(tiny, tmp_path, slash):
    result = export_tiny(tiny, "-o", f"{tmp_path}{slash}", "--format", "ogg", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["output"] == str(tmp_path / "tiny.ogg") and report["created_folders"] == []
    assert listing(tmp_path) == ["tiny.lrc", "tiny.ogg"]


def test_o_a_new_folder_with_a_trailing_slash_is_made_and_written_inside(tiny, tmp_path):
    result = export_tiny(tiny, "-o", f"{tmp_path}/new/", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["created_folders"] == [str(tmp_path / "new")]
    assert listing(tmp_path / "new") == ["tiny.lrc", "tiny.mp3"]


def test_o_dash_writes_the_track_to_standard_output_and_the_report_to_stderr(tiny, tmp_path):
    routine, cache = tiny
    track = tmp_path / "piped.mp3"
    command = [sys.executable, "-m", "coach", "export", str(routine), "-o", "-", "--cache-dir", str(cache)]
    with track.open("wb") as stdout:
        finished = subprocess.run(command, stdout=stdout, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    assert finished.stderr.startswith("standard output  0:")
    info = probe(track)
    assert [title for title, _start, _end in chapters_seen(info)] == ["Ankle circles", "Calf raise"]
    assert listing(tmp_path) == ["piped.mp3"]  # no transcript, nothing staged beside it


def test_o_a_device_with_a_format_writes_into_it_and_a_full_one_fails_with_exit_1(tiny):
    assert export_tiny(tiny, "-o", "/dev/null", "--format", "wav").exit_code == 0
    result = export_tiny(tiny, "-o", "/dev/full", "--format", "mp3")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["coach: error: cannot write /dev/full: disk full"]
    assert not Path("/dev/full.mp3").exists() and not Path("/dev/null.lrc").exists()


def test_split_again_in_another_format_says_which_old_files_it_removed(tiny, tmp_path):
    assert export_tiny(tiny, "-o", str(tmp_path), "--split", "--format", "ogg").exit_code == 0
    old = sorted(name for name in listing(tmp_path) if name.endswith(".ogg"))
    (tmp_path / "mine.ogg").write_bytes(b"keep me")
    result = export_tiny(tiny, "-o", str(tmp_path), "--split")
    assert result.exit_code == 0, result.stderr
    assert f"removed the older split's 2 files: {', '.join(old)}" in result.stdout.splitlines()
    assert [name for name in listing(tmp_path) if name.endswith(".ogg")] == ["mine.ogg"]


def test_watch_takes_o_by_the_same_rules_and_refuses_standard_output(tiny, monkeypatch):
    import coach.cli.watch

    def no_saves(*_args, **_kwargs):  # a refused -o must stop the command before it watches
        raise KeyboardInterrupt
        yield

    monkeypatch.setattr(coach.cli.watch, "saves", no_saves)
    routine, cache = tiny
    for output, message in (("-", "give -o a file or a folder, not -"), ("/dev/full", "cannot tell which format")):
        result = runner.invoke(app, ["watch", str(routine), "-o", output, "--cache-dir", str(cache)])
        assert result.exit_code == 2
        (line,) = result.stderr.splitlines()
        assert line.startswith("coach: error: ") and message in line and result.stdout == ""


@pytest.mark.parametrize(("suffix", "claims_chapters"), [("wav", False), ("ogg", True)])
def test_the_export_summary_claims_chapters_only_for_a_format_that_carries_them(tmp_path, suffix, claims_chapters):
    routine = tmp_path / "two.yaml"
    routine.write_text("title: Two\nexercises:\n  - {name: A, steps: [say: Go.]}\n  - {name: B, steps: [say: Stop.]}\n")
    target = tmp_path / f"two.{suffix}"
    result = runner.invoke(app, ["export", str(routine), "-o", str(target), "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.stderr
    summary, *rest = result.stdout.splitlines()
    assert ("2 chapters;" in summary) == claims_chapters, summary
    listed = [line.split()[-1] for line in rest if not line.startswith("also wrote:")]
    assert listed == (["A", "B"] if claims_chapters else [])
