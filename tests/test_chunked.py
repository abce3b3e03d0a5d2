"""Chunked MP3 encoding: sample-exact joins against a single pass, the gapless header read by ffmpeg and mpg123, the plan."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from coach.output import chunked, lame, mp3frames

RATE = 22050
FRAME = 576
SETTINGS = lame.LameSettings(RATE, 64)
SILENCE = (30 * RATE, 35 * RATE)
# Mono speech at 22,050 Hz (MPEG-2: 576-sample frames, the encoder's delay a whole frame) and a stereo or mono
# music bed at 44,100 Hz (MPEG-1: 1152-sample frames, the same 576-sample delay, so half a frame).
KINDS = {
    "mono-22050": lame.LameSettings(22050, 64),
    "stereo-44100": lame.LameSettings(44100, 128, channels=2),
    "mono-44100": lame.LameSettings(44100, 128),  # a mono music bed
}


def voice_like(seconds: float, seed: int = 2, rate: int = RATE, channels: int = 1) -> np.ndarray:
    """A loud, voiced, noisy signal with syllable-rate swells, and five seconds of silence at 30 s.

    In stereo the right channel is the left one delayed by 3 ms with its own noise: different enough for
    the encoder to switch between mid/side and left/right.
    """
    rng = np.random.default_rng(seed)
    count = round(seconds * rate) + 777  # not a whole number of frames
    t = np.arange(count) / rate
    pitch = 140 + 30 * np.sin(2 * np.pi * 0.3 * t)
    voiced = sum(np.sin(2 * np.pi * np.cumsum(pitch * k) / rate) / k for k in range(1, 8))
    signal = 0.25 * voiced * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)) + 0.04 * rng.standard_normal(count)
    if channels == 2:
        right = np.roll(signal, round(0.003 * rate)) * 0.8 + 0.04 * rng.standard_normal(count)
        signal = np.stack([signal, right], axis=1)
    signal[30 * rate : 35 * rate] = 0
    return np.clip(signal, -1, 1).astype(np.float32)


def renderer(samples: np.ndarray):
    def render(start: int, count: int) -> np.ndarray:
        out = np.zeros((count, *samples.shape[1:]), dtype=np.float32)
        lo, hi = max(start, 0), min(start + count, samples.shape[0])
        if hi > lo:
            out[lo - start : hi - start] = samples[lo:hi]
        return out

    return render


def decode(path, tool="ffmpeg", channels=1) -> np.ndarray:
    """The decoded samples, (n,) for mono or (n, channels)."""
    if tool == "ffmpeg":
        command = ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", str(channels), "-"]
    else:
        command = ["mpg123", "-q", "-s", str(path)]
    raw = np.frombuffer(subprocess.run(command, capture_output=True, check=True).stdout, dtype=np.int16).astype(np.float64)
    return raw if channels == 1 else raw.reshape(-1, channels)


def audio_frames(path) -> list[bytes]:
    data = path.read_bytes()
    assert data[:3] != b"ID3"
    return mp3frames.split_frames(data)[1:]  # the first frame is the Info header


@pytest.fixture(scope="module", params=list(KINDS))
def encodes(request, tmp_path_factory):
    """The same 90 s encoded as one chunk and as eight, joins in loud audio and one in silence."""
    settings = KINDS[request.param]
    rate, frame = settings.sample_rate, mp3frames.frame_samples(settings.sample_rate)
    folder = tmp_path_factory.mktemp("chunked")
    samples = voice_like(90, rate=rate, channels=settings.channels)
    total = samples.shape[0]
    loud = [round(total * share / 90 / frame) * frame for share in (2.7, 13.4, 26.7, 45.5, 61.6, 80.3)]
    silent = (30 * rate // frame + 4) * frame
    cuts = loud + [silent]
    single, joined = folder / "single.mp3", folder / "joined.mp3"
    one = chunked.encode_track(renderer(samples), 0, total, [], single, settings, cuts=[], jobs=1)
    many = chunked.encode_track(renderer(samples), 0, total, [], joined, settings, cuts=cuts, jobs=2)
    assert (one.chunks, many.chunks, many.encoded, many.processes) == (1, len(cuts) + 1, len(cuts) + 1, 2)
    return settings, samples, sorted(cuts), silent, single, joined


def test_lames_delay_is_576_samples_at_both_rates_and_decoders_add_529():
    """The facts the joins and the gapless header rest on, measured: what is encoded at sample s comes out of a
    decoder that is told nothing (no header) at s + 576 + 529, at 22,050 Hz (MPEG-2) and at 44,100 Hz (MPEG-1)."""
    for settings in KINDS.values():
        assert lame.encoder_delay(settings) == 576
        signal = voice_like(3, rate=settings.sample_rate, channels=settings.channels)
        pcm = chunked.as_pcm16(signal)
        command = ["ffmpeg", "-v", "error", "-f", "mp3", "-i", "pipe:0", "-f", "s16le", "-ac", str(settings.channels), "-"]
        out = subprocess.run(command, input=lame.encode(pcm, settings), capture_output=True, check=True).stdout
        decoded = np.frombuffer(out, dtype=np.int16).astype(np.float64).reshape(-1, *pcm.shape[1:])
        span = slice(5000, 5000 + settings.sample_rate)
        lags = range(1000, 1200)
        match = [float(np.sum(decoded[span.start + lag : span.stop + lag] * pcm[span])) for lag in lags]
        assert lags[int(np.argmax(match))] == 576 + mp3frames.DECODER_DELAY, settings


@pytest.mark.parametrize("tool", ["ffmpeg", "mpg123"])
def test_the_gapless_header_makes_each_decoder_give_exactly_the_encoded_samples(encodes, tool):
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is missing: tools/setup.sh installs it")
    settings, samples, _cuts, _silent, single, joined = encodes
    channels = settings.channels
    assert decode(joined, tool, channels).shape == decode(single, tool, channels).shape == samples.shape


def test_joins_decode_aligned_and_within_the_single_pass_error_in_speech_and_in_silence(encodes):
    settings, samples, cuts, silent, single, joined = encodes
    frame = mp3frames.frame_samples(settings.sample_rate)
    reference = chunked.as_pcm16(samples).astype(np.float64)
    one, many = decode(single, channels=settings.channels), decode(joined, channels=settings.channels)
    lags = range(-3, 4)
    window = slice(frame * 50, frame * 150)
    correlation = [float(np.sum(many[window.start + lag : window.stop + lag] * reference[window])) for lag in lags]
    assert lags[int(np.argmax(correlation))] == 0
    for cut in cuts:
        near = slice(cut - 4 * frame, cut + 4 * frame)
        single_error = np.sqrt(np.mean((one[near] - reference[near]) ** 2))
        joined_error = np.sqrt(np.mean((many[near] - reference[near]) ** 2))
        assert joined_error <= single_error * 1.01 + 1.0, (cut, joined_error, single_error)
    assert np.max(np.abs(many[silent - 2 * frame : silent + 2 * frame])) <= 1  # no click at a join in silence


def test_the_joined_frames_are_the_single_pass_frames_byte_for_byte(encodes):
    # Each chunk's encoder starts on a whole padding period (49 frames at both rates), so even the padded frames fall
    # where a single pass puts them; the rolls give it the single pass's state at every join.
    _settings, _samples, _cuts, _silent, single, joined = encodes
    one, many = audio_frames(single), audio_frames(joined)
    assert len(one) == len(many)
    assert [g for g, (a, b) in enumerate(zip(one, many)) if a != b] == []


def test_the_lame_tag_says_delay_padding_and_checksums_right(encodes):
    settings, samples, _cuts, _silent, _single, joined = encodes
    data = joined.read_bytes()
    header = mp3frames.parse_header(data)
    assert header.mono == (settings.channels == 1) and header.sample_rate == settings.sample_rate
    tag = data[: header.size]
    at = 4 + header.side_info
    assert tag[at : at + 4] == b"Info"
    frames = int.from_bytes(tag[at + 8 : at + 12], "big")
    lame_at = at + 120
    delay_padding = int.from_bytes(tag[lame_at + 21 : lame_at + 24], "big")
    delay, padding = delay_padding >> 12, delay_padding & 0xFFF
    assert delay == lame.encoder_delay(settings) == 576
    assert frames == len(audio_frames(joined)) and padding == frames * header.samples - delay - samples.shape[0]
    assert int.from_bytes(tag[at + 12 : at + 16], "big") == len(data)  # the stream's bytes, this frame included
    music = data[header.size :]
    assert int.from_bytes(tag[lame_at + 32 : lame_at + 34], "big") == lame.music_crc(music) == mp3frames.crc16(music)
    assert int.from_bytes(tag[lame_at + 34 : lame_at + 36], "big") == mp3frames.crc16(tag[: lame_at + 34])


def test_two_channels_are_joint_stereo_as_ffmpeg_chooses(tmp_path):
    settings = KINDS["stereo-44100"]
    samples = voice_like(10, rate=settings.sample_rate, channels=2)
    ours = tmp_path / "ours.mp3"
    chunked.encode_track(renderer(samples), 0, samples.shape[0], [], ours, settings)
    command = ["ffmpeg", "-v", "error", "-f", "f32le", "-ar", str(settings.sample_rate), "-ac", "2", "-i", "pipe:0"]
    command += ["-c:a", "libmp3lame", "-b:a", f"{settings.kbps}k", "-id3v2_version", "0", "-write_xing", "0", str(tmp_path / "ffmpeg.mp3")]
    subprocess.run(command, input=samples.tobytes(), check=True)
    ffmpeg_modes = {frame[3] >> 6 for frame in mp3frames.split_frames((tmp_path / "ffmpeg.mp3").read_bytes())}
    assert {frame[3] >> 6 for frame in audio_frames(ours)} == ffmpeg_modes == {1}  # joint stereo


def test_the_plan_cuts_at_chapter_edges_on_the_grid_and_in_the_quietest_frame_near_the_target():
    samples = voice_like(120)
    period = mp3frames.padding_period(RATE)
    # One silent frame pair inside the search window of the cut after the edge, 4 frames past a whole period.
    quiet = (chunked.PREROLL_FRAMES + 47 * period) * FRAME
    samples[quiet - FRAME : quiet + FRAME] = 0
    edge, off_grid = 29 * period * FRAME, 100 * RATE + 1  # the edge on the chapter grid
    chunks = [chunk for chunk, _pcm in chunked.plan(renderer(samples), 0, samples.size, [edge, off_grid], FRAME, RATE)]
    starts = [chunk.start for chunk in chunks]
    assert starts[0] == 0 and chunks[-1].end == samples.size and chunks[0].first and chunks[-1].last
    assert all(a.end == b.start for a, b in zip(chunks, chunks[1:]))
    assert all(chunk.start % FRAME == 0 for chunk in chunks)
    assert edge in starts and off_grid not in starts  # an edge off the grid cannot be a join
    assert quiet in starts
    target = chunked.TARGET_SECONDS * RATE
    assert all(chunk.end - chunk.start <= target + chunked.SEARCH_SECONDS * RATE + FRAME for chunk in chunks)
    # Every encoder starts on a whole padding period; a cut in quiet audio has only the minimum pre-roll.
    assert all((chunk.start - chunk.preroll) % (period * FRAME) == 0 for chunk in chunks)
    assert all(chunk.preroll >= chunked.PREROLL_FRAMES * FRAME for chunk in chunks[1:])
    assert [c.preroll // FRAME for c in chunks if c.start in (edge, quiet)] == [period, chunked.PREROLL_FRAMES]


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_chunk_keeps_exactly_its_own_frames(kind):
    settings = KINDS[kind]
    rate, frame = settings.sample_rate, mp3frames.frame_samples(settings.sample_rate)
    samples = voice_like(10, rate=rate, channels=settings.channels)
    window = chunked._Window(renderer(samples), 0, samples.shape[0], settings.channels)
    period = mp3frames.padding_period(rate)
    chunk, pcm = chunked._chunk(window, 0, samples.shape[0], 53 * frame, 120 * frame, frame, period)
    assert chunk.preroll == chunked.PREROLL_FRAMES * frame
    assert pcm.shape == (chunk.preroll + 67 * frame + chunk.postroll, *samples.shape[1:])
    data, frames = chunked.encode_chunk(settings, chunk, pcm, lame.encoder_delay(settings))
    assert len(mp3frames.split_frames(data)) == frames == 67


def test_python_crc16_is_lames():
    data = bytes(range(256)) * 3
    assert mp3frames.crc16(data) == lame.music_crc(data)
    assert mp3frames.crc16(b"123456789") == 0xBB3D  # CRC-16/ARC


# --- the segment cache -----------------------------------------------------------------------


def two_chapters(first_seconds: float, seed: int = 5) -> tuple[np.ndarray, int]:
    """A first chapter of about `first_seconds` (on the chapter grid, as exports place them) and the same 50 s
    second chapter after it; its start."""
    grid = mp3frames.padding_period(RATE) * FRAME
    edge = round(first_seconds * RATE / grid) * grid
    second = voice_like(50, seed=seed)
    first = voice_like(first_seconds + 5, seed=seed + int(first_seconds))[:edge]
    return np.concatenate([first, second]), edge


def test_an_edit_in_one_chapter_re_encodes_only_its_chunks_and_gives_the_bytes_of_a_cold_encode(tmp_path):
    from coach.speech.cache import ClipCache

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
    from coach.speech.cache import ClipCache

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


# --- end to end: coach export with the default voice, after a one-cue edit ---------------------------

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

    from coach.cli.app import app

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
    chapters, rate = edited["chapters"], edited["sample_rate"]
    # On the frame grid of the voice's own rate: 1280 ms at espeak's 22,050 Hz, 24 ms at hibari's 24,000 Hz.
    grid = mp3frames.chapter_grid_ms(rate)
    assert all(round(c["start"] * 1000) % grid == 0 for c in chapters)
    total = first["chunks"]["encoded"]
    assert edited["chunks"]["encoded"] + edited["chunks"]["reused"] == total
    assert 1 <= edited["chunks"]["encoded"] <= total // 2 and edited["chunks"]["reused"] >= 2
    for segment in cache.glob("segment-*.bin"):
        segment.unlink()
    cold = export("cold.mp3")
    assert cold["chunks"] == {"encoded": total, "reused": 0}
    assert (tmp_path / "edited.mp3").read_bytes() == (tmp_path / "cold.mp3").read_bytes()
    decoded = decode(tmp_path / "edited.mp3", "mpg123").size
    assert decoded == decode(tmp_path / "edited.mp3").size == -(-round(edited["duration"] * 1000) * rate // 1000)


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


def test_cache_prune_routine_keeps_exactly_the_segments_of_its_current_mp3_export(tmp_path):
    import json

    from typer.testing import CliRunner

    from coach.cli.app import app

    runner = CliRunner()
    routine, cache = tmp_path / "three.yaml", tmp_path / "cache"

    def run(*args: str) -> dict:
        result = runner.invoke(app, [*args, "--cache-dir", str(cache), "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    routine.write_text(ROUTINE.format(hold="50s"))
    run("export", str(routine), "-o", str(tmp_path / "first.mp3"))
    routine.write_text(ROUTINE.format(hold="48s"))  # the chunks of the second chapter and after change
    edited = run("export", str(routine), "-o", str(tmp_path / "edited.mp3"))
    total = edited["chunks"]["encoded"] + edited["chunks"]["reused"]
    assert len(list(cache.glob("segment-*.bin"))) > total  # the first export's own chunks are there too
    run("cache", "prune", str(routine))
    assert len(list(cache.glob("segment-*.bin"))) == total
    again = run("export", str(routine), "-o", str(tmp_path / "again.mp3"))
    assert again["chunks"] == {"encoded": 0, "reused": total}
    assert (tmp_path / "again.mp3").read_bytes() == (tmp_path / "edited.mp3").read_bytes()
