"""Chunked MP3 encoding: sample-exact joins against a single pass, the gapless header read by ffmpeg and mpg123, the plan."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from coach import chunked, lame, mp3frames

RATE = 22050
FRAME = 576
SETTINGS = lame.LameSettings(RATE, 64)
SILENCE = (30 * RATE, 35 * RATE)


def voice_like(seconds: float, seed: int = 2) -> np.ndarray:
    """A loud, voiced, noisy signal with syllable-rate swells, and five seconds of silence at 30 s."""
    rng = np.random.default_rng(seed)
    count = round(seconds * RATE) + 777  # not a whole number of frames
    t = np.arange(count) / RATE
    pitch = 140 + 30 * np.sin(2 * np.pi * 0.3 * t)
    voiced = sum(np.sin(2 * np.pi * np.cumsum(pitch * k) / RATE) / k for k in range(1, 8))
    signal = 0.25 * voiced * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)) + 0.04 * rng.standard_normal(count)
    signal[SILENCE[0] : SILENCE[1]] = 0
    return np.clip(signal, -1, 1).astype(np.float32)


def renderer(samples: np.ndarray):
    def render(start: int, count: int) -> np.ndarray:
        out = np.zeros(count, dtype=np.float32)
        lo, hi = max(start, 0), min(start + count, samples.size)
        if hi > lo:
            out[lo - start : hi - start] = samples[lo:hi]
        return out

    return render


def decode(path, tool="ffmpeg") -> np.ndarray:
    if tool == "ffmpeg":
        command = ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-"]
    else:
        command = ["mpg123", "-q", "-s", str(path)]
    return np.frombuffer(subprocess.run(command, capture_output=True, check=True).stdout, dtype=np.int16).astype(np.float64)


def audio_frames(path) -> list[bytes]:
    data = path.read_bytes()
    assert data[:3] != b"ID3"
    return mp3frames.split_frames(data)[1:]  # the first frame is the Info header


@pytest.fixture(scope="module")
def encodes(tmp_path_factory):
    """The same 90 s encoded as one chunk and as eight, joins in loud audio and one in silence."""
    folder = tmp_path_factory.mktemp("chunked")
    samples = voice_like(90)
    cuts = [FRAME * k for k in (100, 500, 1000, 1700, 2300, 3000)] + [FRAME * (SILENCE[0] // FRAME + 100)]
    single, joined = folder / "single.mp3", folder / "joined.mp3"
    one = chunked.encode_track(renderer(samples), 0, samples.size, [], single, SETTINGS, cuts=[], jobs=1)
    many = chunked.encode_track(renderer(samples), 0, samples.size, [], joined, SETTINGS, cuts=cuts, jobs=2)
    assert (one.chunks, many.chunks, many.encoded, many.processes) == (1, len(cuts) + 1, len(cuts) + 1, 2)
    return samples, sorted(cuts), single, joined


@pytest.mark.parametrize("tool", ["ffmpeg", "mpg123"])
def test_the_gapless_header_makes_each_decoder_give_exactly_the_encoded_samples(encodes, tool):
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is missing: tools/setup.sh installs it")
    samples, _cuts, single, joined = encodes
    assert decode(joined, tool).size == decode(single, tool).size == samples.size


def test_joins_decode_aligned_and_within_the_single_pass_error_in_speech_and_in_silence(encodes):
    samples, cuts, single, joined = encodes
    reference = chunked.as_pcm16(samples).astype(np.float64)
    one, many = decode(single), decode(joined)
    lags = range(-3, 4)
    correlation = [float(np.dot(many[FRAME * 50 + lag : FRAME * 150 + lag], reference[FRAME * 50 : FRAME * 150])) for lag in lags]
    assert lags[int(np.argmax(correlation))] == 0
    for cut in cuts:
        near = slice(cut - 4 * FRAME, cut + 4 * FRAME)
        single_error = np.sqrt(np.mean((one[near] - reference[near]) ** 2))
        joined_error = np.sqrt(np.mean((many[near] - reference[near]) ** 2))
        assert joined_error <= single_error * 1.01 + 1.0, (cut, joined_error, single_error)
    silent = FRAME * (SILENCE[0] // FRAME + 100)
    assert silent in cuts
    assert np.max(np.abs(many[silent - 2 * FRAME : silent + 2 * FRAME])) <= 1  # no click at a join in silence


def test_the_frames_at_every_join_are_the_single_pass_frames(encodes):
    _samples, cuts, single, joined = encodes
    one, many = audio_frames(single), audio_frames(joined)
    assert len(one) == len(many)
    for cut in cuts:
        around = range(cut // FRAME - 2, cut // FRAME + 3)
        assert [many[g] for g in around] == [one[g] for g in around], cut


def test_the_lame_tag_says_delay_padding_and_checksums_right(encodes):
    samples, _cuts, _single, joined = encodes
    data = joined.read_bytes()
    header = mp3frames.parse_header(data)
    tag = data[: header.size]
    at = 4 + header.side_info
    assert tag[at : at + 4] == b"Info"
    frames = int.from_bytes(tag[at + 8 : at + 12], "big")
    lame_at = at + 120
    delay_padding = int.from_bytes(tag[lame_at + 21 : lame_at + 24], "big")
    delay, padding = delay_padding >> 12, delay_padding & 0xFFF
    assert delay == lame.encoder_delay(SETTINGS) == FRAME
    assert frames == len(audio_frames(joined)) and padding == frames * FRAME - delay - samples.size
    music = data[header.size :]
    assert int.from_bytes(tag[lame_at + 32 : lame_at + 34], "big") == lame.music_crc(music) == mp3frames.crc16(music)
    assert int.from_bytes(tag[lame_at + 34 : lame_at + 36], "big") == mp3frames.crc16(tag[: lame_at + 34])


def test_the_plan_cuts_at_chapter_edges_on_the_grid_and_in_the_quietest_frame_near_the_target():
    samples = voice_like(120)
    quiet = 58 * RATE // FRAME * FRAME  # one silent frame pair inside the search window of the second cut
    samples[quiet - FRAME : quiet + FRAME] = 0
    edge, off_grid = 70 * FRAME * 20, 100 * RATE + 1
    chunks = [chunk for chunk, _pcm in chunked.plan(renderer(samples), 0, samples.size, [edge, off_grid], FRAME, RATE)]
    starts = [chunk.start for chunk in chunks]
    assert starts[0] == 0 and chunks[-1].end == samples.size and chunks[0].first and chunks[-1].last
    assert all(a.end == b.start for a, b in zip(chunks, chunks[1:]))
    assert all(chunk.start % FRAME == 0 for chunk in chunks)
    assert edge in starts and off_grid not in starts  # an edge off the grid cannot be a join
    assert quiet in starts
    target = chunked.TARGET_SECONDS * RATE
    assert all(chunk.end - chunk.start <= target + chunked.SEARCH_SECONDS * RATE + FRAME for chunk in chunks)
    assert all(chunk.preroll == chunked.PREROLL_FRAMES * FRAME for chunk in chunks[1:])


def test_a_chunk_keeps_exactly_its_own_frames():
    samples = voice_like(10)
    render = renderer(samples)
    chunk, pcm = chunked._chunk(chunked._Window(render, 0, samples.size), 0, samples.size, 50 * FRAME, 120 * FRAME, FRAME)
    assert pcm.size == chunk.preroll + 70 * FRAME + chunk.postroll
    data, frames = chunked.encode_chunk(SETTINGS, chunk, pcm, lame.encoder_delay(SETTINGS))
    assert len(mp3frames.split_frames(data)) == frames == 70


def test_python_crc16_is_lames():
    data = bytes(range(256)) * 3
    assert mp3frames.crc16(data) == lame.music_crc(data)
    assert mp3frames.crc16(b"123456789") == 0xBB3D  # CRC-16/ARC


# --- the segment cache -----------------------------------------------------------------------


def two_chapters(first_seconds: float, seed: int = 5) -> tuple[np.ndarray, int]:
    """A first chapter of `first_seconds` (whole frames) and the same 50 s second chapter after it; its start."""
    edge = round(first_seconds * RATE / FRAME) * FRAME
    second = voice_like(50, seed=seed)
    first = voice_like(first_seconds + 5, seed=seed + int(first_seconds))[:edge]
    return np.concatenate([first, second]), edge


def test_an_edit_in_one_chapter_re_encodes_only_its_chunks_and_gives_the_bytes_of_a_cold_encode(tmp_path):
    from coach.cache import ClipCache

    cache = ClipCache(tmp_path / "cache")
    before, edge = two_chapters(45)
    old = chunked.encode_track(renderer(before), 0, before.size, [edge], tmp_path / "a.mp3", SETTINGS, segments=cache, jobs=2)
    after, moved = two_chapters(47)  # the first chapter edited: longer, the second moved by whole frames
    warm = chunked.encode_track(renderer(after), 0, after.size, [moved], tmp_path / "b.mp3", SETTINGS, segments=cache, jobs=2)
    first_chapter = sum(1 for c, _ in chunked.plan(renderer(after), 0, after.size, [moved], FRAME, RATE) if c.end <= moved)
    assert old.encoded == old.chunks and warm.chunks > first_chapter
    # The second chapter's first chunk has a pre-roll from the edited chapter: it is encoded again too.
    assert warm.encoded == first_chapter + 1
    cold = chunked.encode_track(renderer(after), 0, after.size, [moved], tmp_path / "c.mp3", SETTINGS, segments=ClipCache(tmp_path / "cold"))
    assert cold.encoded == cold.chunks
    assert (tmp_path / "b.mp3").read_bytes() == (tmp_path / "c.mp3").read_bytes()


def test_a_damaged_segment_is_encoded_again(tmp_path):
    from coach.cache import ClipCache

    cache = ClipCache(tmp_path / "cache")
    samples, edge = two_chapters(45)
    first = chunked.encode_track(renderer(samples), 0, samples.size, [edge], tmp_path / "a.mp3", SETTINGS, segments=cache)
    stored = sorted((tmp_path / "cache").glob("segment-*.bin"))
    assert len(stored) == first.chunks
    damaged = bytearray(stored[1].read_bytes())
    damaged[-10] ^= 0xFF  # one flipped byte in the frames
    stored[1].write_bytes(bytes(damaged))
    stored[2].write_bytes(stored[2].read_bytes()[:-300])  # and one cut short
    again = chunked.encode_track(renderer(samples), 0, samples.size, [edge], tmp_path / "b.mp3", SETTINGS, segments=cache)
    assert again.encoded == 2
    assert (tmp_path / "a.mp3").read_bytes() == (tmp_path / "b.mp3").read_bytes()
    assert cache.prune(keep=set()).removed == 0 and not list((tmp_path / "cache").glob("segment-*"))  # pruned with the rest


# --- end to end: coach export with real espeak, after a one-cue edit ---------------------------

ROUTINE = """title: Three holds
phrases:
  hold: Hold.
exercises:
  - name: Calf stretch
    steps:
      - say: Lean into the wall, back heel down.
      - hold: 50s
  - name: Hamstring stretch
    steps:
      - say: Lie on your back and reach for the toes.
      - hold: {hold}
  - name: Quad stretch
    steps:
      - say: Hold the ankle behind you.
      - hold: 50s
"""


def chapters_moved(before: dict, after: dict) -> bool:
    return before["chapters"][-1]["start"] != after["chapters"][-1]["start"]


def test_coach_export_after_an_edit_re_encodes_only_that_chapter_and_matches_a_cold_export(tmp_path):
    # The edit is a hold's length, which says nothing new and leaves the program gain alone; an edited text in
    # so small a routine can move the gain a step (0.15 dB was measured for one word of 13 cues): then every chunk is new.
    import json

    from typer.testing import CliRunner

    from coach.cli import app

    runner = CliRunner()
    routine, cache = tmp_path / "three.yaml", tmp_path / "cache"

    def export(name: str) -> dict:
        result = runner.invoke(app, ["export", str(routine), "-o", str(tmp_path / name), "--json", "--cache-dir", str(cache)])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    routine.write_text(ROUTINE.format(hold="50s"))
    first = export("first.mp3")
    routine.write_text(ROUTINE.format(hold="48s"))  # the second chapter shorter: the third moves
    edited = export("edited.mp3")
    assert edited["gain_db"] == first["gain_db"]
    assert chapters_moved(first, edited)
    chapters = edited["chapters"]
    assert all(round(c["start"] * 1000) % 1280 == 0 for c in chapters)  # on the frame grid
    total = first["chunks"]["encoded"]
    assert edited["chunks"]["encoded"] + edited["chunks"]["reused"] == total
    assert 1 <= edited["chunks"]["encoded"] <= total // 2 and edited["chunks"]["reused"] >= 2
    for segment in cache.glob("segment-*.bin"):
        segment.unlink()
    cold = export("cold.mp3")
    assert cold["chunks"] == {"encoded": total, "reused": 0}
    assert (tmp_path / "edited.mp3").read_bytes() == (tmp_path / "cold.mp3").read_bytes()
    decoded = decode(tmp_path / "edited.mp3", "mpg123").size
    assert decoded == decode(tmp_path / "edited.mp3").size == -(-round(edited["duration"] * 1000) * RATE // 1000)


def test_a_full_disk_is_a_one_line_output_error(tmp_path, monkeypatch):
    import errno

    from coach.errors import OutputError

    samples = voice_like(5)

    class FullDisk:
        def __init__(self, *_args):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *_exc):
            return False

        def write(self, _data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def tell(self):
            return 0

    monkeypatch.setattr(chunked, "open", FullDisk, raising=False)
    with pytest.raises(OutputError, match="disk full while writing"):
        chunked.encode_track(renderer(samples), 0, samples.size, [], tmp_path / "x.mp3", SETTINGS)


def test_at_44100_hz_where_the_encoder_delay_is_half_a_frame_the_track_is_one_exact_chunk(tmp_path):
    rate = 44100
    samples = np.repeat(voice_like(50), 2)  # 50 s at twice the rate: long enough for several chunks
    settings = lame.LameSettings(rate, 64)
    assert lame.encoder_delay(settings) != mp3frames.frame_samples(rate)
    report = chunked.encode_track(renderer(samples), 0, samples.size, [], tmp_path / "x.mp3", settings)
    assert (report.chunks, report.processes) == (1, 1)
    assert decode(tmp_path / "x.mp3").size == decode(tmp_path / "x.mp3", "mpg123").size == samples.size
