"""The music bed, pure: arrangement (crossfades, loops), the ducking envelope, fades, block independence, no clicks."""

from __future__ import annotations

import numpy as np
import pytest

from coach.audio.bed import (
    ATTACK_MS,
    BRIDGE_MS,
    CROSSFADE_MS,
    FADE_IN_MS,
    FADE_OUT_MS,
    RELEASE_MS,
    Bed,
    DuckEnvelope,
    arrange,
    duck_spans,
)
from coach.timeline.timeline import ChapterSpan, CueEvent, Timeline

RATE = 8000


def timeline(duration_ms, cues=()):
    """A one-chapter timeline of cues given as (start_ms, end_ms)."""
    events = tuple(CueEvent(start, end, f"cue {start}", 0) for start, end in cues)
    return Timeline("Test", duration_ms, (ChapterSpan("All", 0, duration_ms),), events, (), ())


def tone_tracks(*specs, channels=1):
    """Tracks of sine tones given as (seconds, hz); returns (frames, reader)."""
    tracks = []
    for seconds, hz in specs:
        t = np.arange(round(seconds * RATE)) / RATE
        wave = (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)
        tracks.append(np.repeat(wave[:, None], channels, axis=1))

    def read(index, first, count):
        return tracks[index][first : first + count].copy()

    return [len(t) for t in tracks], read, tracks


def constant_tracks(*lengths):
    """Tracks of constant 1.0 (so weights and gains read directly), with a reader."""

    def read(index, first, count):
        assert 0 <= first and first + count <= lengths[index], "the bed read past a track's end"
        return np.ones((count, 1), dtype=np.float32)

    return list(lengths), read


def test_tracks_chain_with_crossfades_and_loop_until_the_session_is_covered():
    placements = arrange([100, 60], 500, crossfade=10)
    assert [p.track for p in placements] == [0, 1, 0, 1, 0, 1, 0]
    for before, after in zip(placements, placements[1:]):
        assert after.start == before.start + before.frames - before.fade_out  # overlap exactly the crossfade
        assert after.fade_in == before.fade_out == 10
    assert placements[0].fade_in == 0
    assert placements[-1].start + placements[-1].frames >= 500


def test_a_crossfade_never_takes_more_than_half_of_a_short_track():
    placements = arrange([30, 8], 200, crossfade=50)
    for p in placements:
        assert p.fade_in + p.fade_out <= p.frames


@pytest.mark.parametrize("lengths", [(3 * RATE,), (2 * RATE, 5 * RATE), (RATE + 7, 3 * RATE + 1, 2 * RATE)])
def test_crossfade_weights_sum_to_one_so_the_level_holds_through_every_seam(lengths):
    frames, read = constant_tracks(*lengths)
    bed = Bed(timeline(30_000), RATE, 1, frames, [1.0] * len(frames), read)
    out = bed.render(0, bed.total_frames)[:, 0]
    fade_in, fade_out = FADE_IN_MS * RATE // 1000, FADE_OUT_MS * RATE // 1000
    middle = out[fade_in : bed.total_frames - fade_out]
    assert np.max(np.abs(middle - 1.0)) < 1e-5
    assert len(bed.placements) > len(lengths)  # it looped


def test_any_block_equals_the_same_frames_of_a_whole_render():
    frames, read, _ = tone_tracks((3.3, 220), (2.1, 330), channels=2)
    session = timeline(20_000, [(1000, 2500), (3000, 3400), (9000, 12_000)])
    bed = Bed(session, RATE, 2, frames, [0.8, 1.2], read)
    whole = bed.render(-100, bed.total_frames + 200)
    rng = np.random.default_rng(3)
    position = -100
    pieces = []
    while position < bed.total_frames + 100:
        count = int(rng.integers(1, 3000))
        pieces.append(bed.render(position, count))
        position += count
    joined = np.concatenate(pieces)[: whole.shape[0]]
    assert np.array_equal(joined, whole)
    assert not whole[:100].any() and not whole[-100:].any()  # silent outside the session


def test_the_envelope_ramps_down_before_each_cue_holds_and_releases_after():
    envelope = DuckEnvelope(timeline(10_000, [(3000, 4000)]), RATE, duck_db=12)
    gain = envelope.gain_db(0, 10 * RATE)
    down, up = 3 * RATE, 4 * RATE
    assert np.all(gain[: down - envelope.attack] == 0)
    assert np.all(gain[down : up + 1] == -12)  # fully down from the cue's first frame to its last
    assert np.all(gain[up + envelope.release :] == 0)
    attack = gain[down - envelope.attack : down]
    release = gain[up + 1 : up + envelope.release]
    assert np.all(np.diff(attack) <= 0) and np.all(np.diff(release) >= 0)  # monotonic ramps
    assert 150 <= ATTACK_MS <= 300 and 500 <= RELEASE_MS <= 800
    assert envelope.attack == ATTACK_MS * RATE // 1000 and envelope.release == RELEASE_MS * RATE // 1000


def test_cues_closer_than_a_second_keep_the_music_down_between_them():
    session = timeline(20_000, [(1000, 2000), (2900, 3500), (5000, 6000)])
    assert duck_spans(session) == [(1000, 3500), (5000, 6000)]
    gain = DuckEnvelope(session, RATE, 12).gain_db(0, 20 * RATE)
    assert np.all(gain[2 * RATE : round(2.9 * RATE)] == -12)  # the 900 ms gap stays down
    assert gain[round(4.4 * RATE)] == 0  # the 1.5 s gap comes back up
    assert BRIDGE_MS == 1000


def test_ducking_lowers_the_music_by_the_duck_depth_under_a_cue_and_leaves_it_between():
    frames, read, _ = tone_tracks((5.0, 440))
    bed = Bed(timeline(30_000, [(10_000, 14_000)]), RATE, 1, frames, [1.0], read, duck_db=15)
    out = bed.render(0, bed.total_frames)[:, 0].astype(np.float64)

    def rms_db(a, b):
        return 10 * np.log10(np.mean(out[a * RATE : b * RATE] ** 2))

    assert rms_db(10, 14) == pytest.approx(rms_db(5, 9) - 15, abs=0.05)
    assert rms_db(16, 20) == pytest.approx(rms_db(5, 9), abs=0.05)


def max_step(values):
    return float(np.max(np.abs(np.diff(values, axis=0))))


def test_no_click_at_ramps_fades_or_loop_seams():
    # 880.25 periods in the track: it ends on a crest, so a hard loop cut would jump from the crest to zero.
    frames, read, tracks = tone_tracks((2.0, 440.125))
    session = timeline(15_000, [(3000, 3300), (6000, 7000), (7500, 9000)])
    bed = Bed(session, RATE, 1, frames, [1.0], read)
    out = bed.render(0, bed.total_frames)
    own = max_step(tracks[0])
    assert max_step(out) <= own * 1.001
    # The check can fail: butting the track against itself with no crossfade clicks at the seam.
    hard = np.concatenate([tracks[0], tracks[0]])
    assert max_step(hard) > own * 1.5


def test_the_bed_fades_in_from_silence_and_out_to_silence():
    frames, read, _ = tone_tracks((4.0, 300))
    bed = Bed(timeline(12_000), RATE, 1, frames, [1.0], read)
    out = np.abs(bed.render(0, bed.total_frames)[:, 0])
    assert out[0] == 0 and out[-1] == 0
    fade_in = FADE_IN_MS * RATE // 1000
    assert out[: fade_in // 10].max() < 0.05 * out[fade_in : 2 * fade_in].max()
    assert out[-(FADE_OUT_MS * RATE // 1000) // 10 :].max() < 0.05


def test_a_mono_track_in_a_stereo_bed_and_gains_per_track():
    frames, read = constant_tracks(10 * RATE, 10 * RATE)

    def stereo_read(index, first, count):
        return np.repeat(read(index, first, count), 2, axis=1)

    bed = Bed(timeline(15_000), RATE, 2, frames, [0.5, 0.25], stereo_read)
    out = bed.render(0, bed.total_frames)
    assert out.shape == (bed.total_frames, 2)
    assert np.array_equal(out[:, 0], out[:, 1])
    assert out[5 * RATE, 0] == pytest.approx(0.5)
    crossfade_end = 10 * RATE
    assert out[crossfade_end + RATE, 0] == pytest.approx(0.25)
    assert CROSSFADE_MS <= 3000  # "short" crossfades


def test_bad_arguments_are_refused():
    frames, read = constant_tracks(RATE)
    with pytest.raises(ValueError):
        Bed(timeline(1000), RATE, 3, frames, [1.0], read)
    with pytest.raises(ValueError):
        Bed(timeline(1000), RATE, 1, frames, [1.0, 2.0], read)
    with pytest.raises(ValueError):
        DuckEnvelope(timeline(1000), RATE, duck_db=float("nan"))
    with pytest.raises(ValueError):
        arrange([0], 10, 1)


def test_the_linear_gain_the_bed_applies_is_the_envelope_in_db():
    envelope = DuckEnvelope(timeline(20_000, [(3000, 4000), (4500, 6000), (12_000, 12_100)]), RATE, duck_db=13)
    for start, count in [(0, 20 * RATE), (2 * RATE + 17, 999), (7 * RATE, RATE)]:
        linear = envelope.linear(start, count)
        expected = 10 ** (envelope.gain_db(start, count) / 20)
        assert linear is None and np.all(expected == 1) or np.allclose(linear, expected, rtol=1e-6, atol=0)
    assert envelope.linear(8 * RATE, RATE) is None  # up throughout: nothing to multiply
