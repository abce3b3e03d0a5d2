"""Music files decoded with pydub (real ffmpeg), cached, chained into a bed and mixed under the voice."""

from __future__ import annotations

import math
import os
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

import coach.audio.music as music
from coach.audio.bed import DUCK_DB, LEVEL_LUFS
from coach.errors import MusicError, UsageError
from coach.audio.loudness import CEILING_DBTP, LoudnessMeter, gated_loudness, true_peak_dbtp
from coach.audio.mixer import Mixer, frame_at
from coach.routine.model import Music, Routine
from coach.audio.music import MusicOptions, decoded, load_bed, music_files, music_options
from coach.timeline.timeline import ChapterSpan, CueEvent, Timeline

RATE = 44100
CLIP_RATE = 22050


def ffmpeg_audio(path: Path, source: str, seconds: float, channels: int, rate: int = 48000, extra=()) -> Path:
    """Write a test file from an ffmpeg lavfi source (tones, noise), in the format its extension names."""
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"{source}:d={seconds}"]
    command += ["-ac", str(channels), "-ar", str(rate), *extra, str(path)]
    subprocess.run(command, check=True)
    return path


def stereo_noise(path: Path, seconds: float, rate: int = 48000) -> Path:
    """Pink noise with different left and right channels (a real stereo image)."""
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
    command += ["-f", "lavfi", "-i", f"anoisesrc=d={seconds}:c=pink:a=0.4:seed=1"]
    command += ["-f", "lavfi", "-i", f"anoisesrc=d={seconds}:c=pink:a=0.4:seed=2"]
    command += ["-filter_complex", "[0][1]amerge=inputs=2", "-ar", str(rate), str(path)]
    subprocess.run(command, check=True)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Music in several formats: stereo noise (mp3, flac), a mono tone (ogg), mono noise (wav)."""
    folder = tmp_path_factory.mktemp("music")
    return {
        "mp3": stereo_noise(folder / "noise.mp3", 20),
        "flac": stereo_noise(folder / "noise.flac", 12, rate=44100),
        "ogg": ffmpeg_audio(folder / "tone.ogg", "sine=frequency=330", 8, 1, 32000),
        "wav": ffmpeg_audio(folder / "mono.wav", "anoisesrc=c=pink:a=0.3", 10, 1, 22050),
    }


@pytest.mark.parametrize("kind, channels, seconds", [("mp3", 2, 20), ("flac", 2, 12), ("ogg", 1, 8), ("wav", 1, 10)])
def test_each_format_decodes_once_at_the_mix_rate(files, tmp_path, kind, channels, seconds):
    track = decoded(files[kind], RATE, 10**9, tmp_path)
    assert (track.rate, track.channels, track.complete) == (RATE, channels, True)
    assert abs(track.frames - seconds * RATE) < 0.06 * RATE  # an MP3 may carry a frame of codec delay
    assert math.isfinite(track.loudness)
    assert track.path.parent == tmp_path and track.path.name.startswith("music-")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_a_second_use_reads_the_cache_without_decoding(files, tmp_path, monkeypatch):
    first = decoded(files["mp3"], RATE, 10**9, tmp_path)

    def no_decoding(*_args, **_kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(music, "_decode_piece", no_decoding)
    assert decoded(files["mp3"], RATE, 10**9, tmp_path) == first


def test_the_cache_is_keyed_by_content_not_name(files, tmp_path):
    copy = tmp_path / "renamed.flac"
    copy.write_bytes(files["flac"].read_bytes())
    assert decoded(copy, RATE, 10**9, tmp_path / "c").path == decoded(files["flac"], RATE, 10**9, tmp_path / "c").path
    assert music.content_key(files["flac"], RATE) != music.content_key(files["flac"], CLIP_RATE)


def test_a_damaged_cache_entry_is_decoded_again(files, tmp_path):
    track = decoded(files["ogg"], RATE, 10**9, tmp_path)
    with open(track.path, "r+b") as handle:
        handle.truncate(track.path.stat().st_size - 10)
    again = decoded(files["ogg"], RATE, 10**9, tmp_path)
    assert again.frames == track.frames and again.path.stat().st_size > track.path.stat().st_size - 10


def test_only_what_the_session_needs_is_decoded(files, tmp_path, monkeypatch):
    pieces = []
    real = music._decode_piece
    monkeypatch.setattr(music, "DECODE_CHUNK_SECONDS", 3)
    monkeypatch.setattr(music, "_decode_piece", lambda *a: pieces.append(a[1]) or real(*a))
    track = decoded(files["mp3"], RATE, 4 * RATE, tmp_path)
    assert (track.frames, track.complete) == (4 * RATE, False)
    assert pieces == [0, 3]  # two 3 s pieces of the 20 s file, never the rest
    longer = decoded(files["mp3"], RATE, 10 * RATE, tmp_path)  # a longer session decodes again, further
    assert longer.frames == 10 * RATE


def test_pieces_join_as_if_the_file_were_decoded_in_one_go(files, tmp_path, monkeypatch):
    whole = decoded(files["mp3"], RATE, 10**9, tmp_path / "whole")
    monkeypatch.setattr(music, "DECODE_CHUNK_SECONDS", 3)
    pieces = decoded(files["mp3"], RATE, 10**9, tmp_path / "pieces")
    a = music._TrackReader(whole, 2).read(0, whole.frames)
    b = music._TrackReader(pieces, 2).read(0, pieces.frames)
    assert pieces.frames == whole.frames and pieces.complete
    assert np.max(np.abs(a - b)) <= 3 / 32768  # a rounding step or two, never an edge at 3 s, 6 s...


def test_a_folder_plays_its_audio_files_in_name_order(tmp_path, files):
    folder = tmp_path / "playlist"
    folder.mkdir()
    for name in ("b.ogg", "A.flac", "c.txt", "cover.jpg"):
        (folder / name).write_bytes(files["ogg"].read_bytes())
    assert [p.name for p in music_files(folder)] == ["A.flac", "b.ogg"]
    assert sorted(p.name for p in music_files(folder, shuffle=True)) == ["A.flac", "b.ogg"]


def test_bad_music_is_a_one_line_music_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no audio here")
    fake = tmp_path / "song.mp3"
    fake.write_text("this is not audio\n")
    short = ffmpeg_audio(tmp_path / "blip.wav", "sine=frequency=440", 0.3, 1)
    silent_video = tmp_path / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=32x32:d=2", str(silent_video)],
        check=True,
    )
    cases = {
        tmp_path / "missing.mp3": "no such file",
        empty: "no audio files",
        fake: "cannot decode",
        short: "too short",
        silent_video: "cannot decode",
    }
    for source, message in cases.items():
        with pytest.raises(MusicError) as caught:
            load_bed(MusicOptions(source, tmp_path / "cache"), timeline(10_000), RATE)
        assert message in str(caught.value) and "\n" not in str(caught.value)
        assert caught.value.exit_code == 1
    cache = tmp_path / "cache"
    assert not cache.exists() or not list(cache.iterdir())  # nothing partial left in the cache


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_music_file_is_a_music_error(files, tmp_path):
    locked = tmp_path / "locked.ogg"
    locked.write_bytes(files["ogg"].read_bytes())
    locked.chmod(0)
    with pytest.raises(MusicError, match="permission denied"):
        music_files(locked)


def test_music_options_come_from_the_command_line_or_the_routine_relative_to_its_file(tmp_path):
    routine = Routine("T", (), source=str(tmp_path / "routines" / "r.yaml"), music=Music("tunes/a.ogg", -20.0, 15.0, True))
    (tmp_path / "routines" / "tunes").mkdir(parents=True)
    (tmp_path / "routines" / "tunes" / "a.ogg").write_bytes(b"x")
    options = music_options(routine, tmp_path / "cache")
    assert options == MusicOptions(tmp_path / "routines" / "tunes" / "a.ogg", tmp_path / "cache", -20.0, 15.0, True)
    assert music_options(routine, tmp_path, no_music=True) is None
    given = tmp_path / "routines" / "tunes"
    assert music_options(routine, tmp_path, music=given).source == given
    assert music_options(Routine("T", ()), tmp_path) is None
    with pytest.raises(UsageError):
        music_options(routine, tmp_path, music=given, no_music=True)
    with pytest.raises(MusicError, match="no such file"):
        music_options(Routine("T", (), music=Music("gone.mp3")), tmp_path)


# -- the bed in the mix ------------------------------------------------------------------------------------------


def timeline(duration_ms, cues=()):
    events = tuple(CueEvent(start, end, text, 0) for start, end, text in cues)
    return Timeline("Test", duration_ms, (ChapterSpan("All", 0, duration_ms),), events, (), ())


def speech_like(seconds, seed):
    """Band-limited noise bursts with syllable-like gaps, int16 at the clip rate, loud like rendered speech."""
    rng = np.random.default_rng(seed)
    values = signal.lfilter([1.0], [1.0, -0.7], rng.standard_normal(round(seconds * CLIP_RATE)))
    syllables = (np.sin(2 * np.pi * 4 * np.arange(values.size) / CLIP_RATE) > -0.3).astype(float)
    values *= syllables * 0.5 / np.max(np.abs(values))
    return np.round(values * 32767).astype(np.int16)


# Cues at 6-8 s, 16-19 s and 30-32 s in a 40 s session; 10-15 s and 20-29 s are clear of every ramp.
CUES = [(6000, 8000, "first"), (16000, 19000, "second"), (30000, 32000, "third")]


def clips_for(cues):
    return {text: speech_like((end - start) / 1000, seed) for seed, (start, end, text) in enumerate(cues)}


def per_channel_lufs(samples, rate=RATE):
    """Loudness as a mono file measures: BS.1770 sums the channels, so a stereo reading is taken down by 10 log10(2)."""
    samples = samples.reshape(samples.shape[0], -1)
    meters = [LoudnessMeter(rate) for _ in range(samples.shape[1])]
    for channel, meter in enumerate(meters):
        meter.add(samples[:, channel])
    return gated_loudness(sum(m.block_powers() for m in meters)) - 10 * math.log10(samples.shape[1])


def rms_db(samples):
    return 10 * math.log10(float(np.mean(np.asarray(samples, dtype=np.float64) ** 2)))


@pytest.fixture(scope="module")
def mixes(files, tmp_path_factory):
    """The same session mixed without music, with the stereo MP3 bed, and the bed alone (no speech)."""
    cache = tmp_path_factory.mktemp("cache")
    session = timeline(40_000, CUES)
    clips = clips_for(CUES)
    bed = load_bed(MusicOptions(files["mp3"], cache), session, RATE)
    plain = Mixer(session, clips, CLIP_RATE, RATE, gain=1.5)
    with_music = Mixer(session, clips, CLIP_RATE, RATE, gain=1.5, bed=bed)
    bed_alone = Mixer(session, {text: np.zeros(1, np.int16) for text in clips}, CLIP_RATE, RATE, bed=bed)
    render = lambda mixer: mixer.render(0, mixer.total_frames)  # noqa: E731
    return render(plain), render(with_music), render(bed_alone), bed


def seconds(a, b):
    return slice(a * RATE, b * RATE)


def test_the_music_between_cues_is_within_1_lu_of_its_target(mixes):
    _plain, mixed, _bed, _ = mixes
    for gap in (seconds(10, 15), seconds(21, 29)):
        assert per_channel_lufs(mixed[gap]) == pytest.approx(LEVEL_LUFS, abs=1.0)


def test_under_every_cue_the_music_is_at_least_the_duck_depth_lower(mixes):
    _plain, _mixed, bed_alone, _ = mixes
    between = rms_db(bed_alone[seconds(10, 15)])
    for start, end, _text in CUES:
        under = rms_db(bed_alone[frame_at(start, RATE) : frame_at(end, RATE)])
        assert between - under >= DUCK_DB - 0.3  # noise measured over 2-3 s wanders a few tenths


def test_the_speech_is_as_loud_with_music_as_without(mixes):
    plain, mixed, bed_alone, _ = mixes
    speech_only = mixed - bed_alone  # what the music added, taken out again
    for start, end, _text in CUES:
        cue = slice(frame_at(start, RATE), frame_at(end, RATE))
        assert per_channel_lufs(speech_only[cue]) == pytest.approx(per_channel_lufs(plain[cue]), abs=0.1)
        left, right = speech_only[cue, 0], speech_only[cue, 1]
        assert np.max(np.abs(left - right)) < 0.01 * np.max(np.abs(left))  # centred (the limiter's gain aside)


def test_the_mix_is_stereo_when_the_music_is_and_the_true_peak_holds(mixes):
    plain, mixed, _bed, bed = mixes
    assert plain.ndim == 1 and mixed.shape == (plain.size, 2) and bed.channels == 2
    assert not np.array_equal(mixed[:, 0], mixed[:, 1])  # the music's own stereo image is kept
    for channel in range(2):
        assert true_peak_dbtp(mixed[:, channel], RATE) <= CEILING_DBTP + 0.05


def test_a_loud_stereo_mix_is_limited_with_one_gain_for_both_channels(files, tmp_path):
    session = timeline(12_000, [(3000, 5000, "loud")])
    clips = {"loud": speech_like(2, 9)}
    bed = load_bed(MusicOptions(files["flac"], tmp_path, level_lufs=-10.0), session, RATE)
    mixer = Mixer(session, clips, CLIP_RATE, RATE, gain=4.0, bed=bed)
    mixed = mixer.render(0, mixer.total_frames)
    for channel in range(2):
        assert true_peak_dbtp(mixed[:, channel], RATE) <= CEILING_DBTP + 0.05
    rng = np.random.default_rng(5)
    position, pieces = 0, []
    while position < mixer.total_frames:
        count = int(rng.integers(100, 20000))
        pieces.append(mixer.render(position, min(count, mixer.total_frames - position)))
        position += count
    assert np.array_equal(np.concatenate(pieces), mixed)  # any block equals the same frames of the whole


def test_a_mono_music_file_gives_a_mono_mix(files, tmp_path):
    session = timeline(10_000, [(2000, 3000, "a")])
    bed = load_bed(MusicOptions(files["ogg"], tmp_path), session, CLIP_RATE)
    mixer = Mixer(session, clips_for([(2000, 3000, "a")]), CLIP_RATE, bed=bed)
    assert mixer.channels == 1 and mixer.render(0, 1000).shape == (1000,)


def test_a_playlist_mixing_mono_and_stereo_plays_stereo_and_loops(files, tmp_path):
    folder = tmp_path / "list"
    folder.mkdir()
    (folder / "1.ogg").write_bytes(files["ogg"].read_bytes())
    (folder / "2.wav").write_bytes(files["wav"].read_bytes())
    (folder / "3.flac").write_bytes(files["flac"].read_bytes())
    bed = load_bed(MusicOptions(folder, tmp_path / "cache"), timeline(60_000), RATE)
    assert bed.channels == 2
    assert [p.track for p in bed.placements][:4] == [0, 1, 2, 0]  # 8 + 10 + 12 s, then round again
    out = bed.render(0, bed.total_frames)
    assert np.array_equal(out[seconds(2, 7), 0], out[seconds(2, 7), 1])  # the mono tone sits in the centre


def test_a_long_playlist_decodes_only_the_files_the_session_reaches(files, tmp_path, monkeypatch):
    folder = tmp_path / "long"
    folder.mkdir()
    for name in ("a.mp3", "b.mp3", "c.mp3"):
        (folder / name).write_bytes(files["mp3"].read_bytes() + name.encode())  # different content, same audio
    seen = []
    real = music._decode_piece
    monkeypatch.setattr(music, "_decode_piece", lambda *a: seen.append(a[0].name) or real(*a))
    load_bed(MusicOptions(folder, tmp_path / "cache"), timeline(15_000), RATE)
    assert seen == ["a.mp3"]


def test_without_music_the_mix_is_byte_for_byte_what_it_was_before_beds():
    import hashlib

    from coach.timeline.timeline import ToneEvent

    rng = np.random.default_rng(7)
    clips = {f"c{i}": (rng.standard_normal(8000 + 900 * i) * 12000).clip(-32768, 32767).astype(np.int16) for i in range(4)}
    cues = tuple(CueEvent(1000 + 2300 * i, 1000 + 2300 * i + 500, f"c{i}", 0) for i in range(4))
    tones = (ToneEvent(500, "start"), ToneEvent(9000, "count"), ToneEvent(11000, "end"))
    session = Timeline("T", 12000, (ChapterSpan("All", 0, 12000),), cues, tones, ())
    mixer = Mixer(session, clips, CLIP_RATE, gain=2.5)  # loud enough that the limiter works too
    # The digest of this render by the mixer as it was before music beds (commit 3edf0d5).
    expected = "eaca1d73f191135735281a30f06788b6847ac19eaae5ec32334fbd03df1d23b7"
    assert hashlib.sha256(mixer.render(0, mixer.total_frames).tobytes()).hexdigest() == expected


def test_the_player_hands_stereo_blocks_to_the_device_and_seeking_moves_the_music(mixes):
    from coach.audio.player import Player

    _plain, _mixed, _bed_alone, bed = mixes
    session = timeline(40_000, CUES)
    mixer = Mixer(session, clips_for(CUES), CLIP_RATE, RATE, gain=1.5, bed=bed)
    player = Player(session, mixer)
    assert player.channels == 2 and player.pull(512).shape == (512, 2)
    player.seek(21_000)
    assert np.array_equal(player.pull(1024), mixer.render(frame_at(21_000, RATE), 1024))
    player.pause()
    assert not player.pull(256).any() and player.pull(256).shape == (256, 2)


def test_a_live_bed_is_silent_until_its_music_is_decoded_then_fades_in(files, tmp_path, monkeypatch):
    release = threading.Event()
    real = music.load_bed

    def slow_load(*args):
        release.wait(30)
        return real(*args)

    monkeypatch.setattr(music, "load_bed", slow_load)
    session = timeline(40_000)
    live = music.LiveBed(MusicOptions(files["ogg"], tmp_path), session, CLIP_RATE)  # a mono file: doubled
    assert live.channels == 2
    assert not live.render(5 * CLIP_RATE, 4410).any()  # not decoded yet: the session goes on without music
    release.set()
    assert live.ready.wait(30)
    first = live.render(6 * CLIP_RATE, 2 * CLIP_RATE)
    assert np.array_equal(first[:, 0], first[:, 1])
    assert np.abs(first[:100]).max() < 0.01 * np.abs(first[-4410:]).max()  # faded in, no jump
    assert max_step_of(first) <= 1.01 * max_step_of(live.render(10 * CLIP_RATE, 2 * CLIP_RATE))
    live.close()


def test_closing_a_live_bed_stops_its_decoding_and_its_thread_and_caches_nothing(files, tmp_path, monkeypatch):
    entered, release = threading.Event(), threading.Event()
    pieces = []

    def endless_piece(path, start, rate):  # a file that never ends: without close, pieces until the session is covered
        pieces.append(start)
        entered.set()
        release.wait(30)
        return np.zeros((music.DECODE_CHUNK_SECONDS * rate, 2), dtype=np.float32), False

    monkeypatch.setattr(music, "_decode_piece", endless_piece)
    cache = tmp_path / "cache"
    live = music.LiveBed(MusicOptions(files["mp3"], cache), timeline(4 * 3_600_000), CLIP_RATE)
    assert entered.wait(30)
    closer = threading.Thread(target=live.close)
    closer.start()  # close waits for the piece being decoded, then stops before the next one
    release.set()
    closer.join()
    assert not live._thread.is_alive()
    assert pieces == [0]
    assert list(cache.iterdir()) == []  # the partly decoded track is not kept
    assert not live.render(0, 100).any()  # the bed stays silent, with no error


def test_a_live_bed_that_cannot_load_raises_its_error_on_the_audio_side(tmp_path):
    bad = tmp_path / "bad.mp3"
    bad.write_text("not audio")
    live = music.LiveBed(MusicOptions(bad, tmp_path), timeline(10_000), CLIP_RATE)
    assert live.ready.wait(30)
    with pytest.raises(MusicError, match="cannot decode"):
        live.render(0, 100)
    live.close()


def max_step_of(samples):
    return float(np.max(np.abs(np.diff(samples, axis=0))))


def test_beeps_stay_clearly_above_the_music(files, tmp_path):
    from coach.audio.beeps import beep
    from coach.timeline.timeline import ToneEvent

    session = Timeline("T", 20_000, (ChapterSpan("All", 0, 20_000),), (), (ToneEvent(8000, "count"), ToneEvent(12_000, "end")), ())
    bed = load_bed(MusicOptions(files["mp3"], tmp_path), session, RATE)
    mixer = Mixer(session, {}, CLIP_RATE, RATE, bed=bed)
    mixed = mixer.render(0, mixer.total_frames)
    bed_alone = bed.render(0, bed.total_frames)
    for start_ms, kind in ((8000, "count"), (12_000, "end")):
        span = slice(frame_at(start_ms, RATE), frame_at(start_ms, RATE) + beep(kind, RATE).size)
        tone = mixed[span] - bed_alone[span]
        assert rms_db(tone) - rms_db(bed_alone[span]) >= 9  # the music is not ducked for beeps, and need not be
