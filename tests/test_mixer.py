"""The mixer: cues and tones land on the right sample, any block size gives the same PCM, nothing clips."""

from __future__ import annotations

from fractions import Fraction
import math

import numpy as np
import pytest
from scipy import signal

from coach.audio.beeps import beep
from coach.errors import SpeechError
from coach.audio.limiter import PeakLimiter, envelope_over, peak_envelope, sliding_max
from coach.audio.loudness import true_peak_dbtp
from coach.audio.mixer import Mixer, frame_at
from coach.timeline.timeline import ChapterSpan, CueEvent, Timeline, ToneEvent

RATE = 22050


def timeline(duration_ms, cues=(), tones=()):
    """A one-chapter timeline of hand-placed cues (start_ms, text) and tones (start_ms, kind)."""
    events = tuple(CueEvent(start, start + 1, text, 0) for start, text in cues)
    marks = tuple(ToneEvent(start, kind) for start, kind in tones)
    return Timeline("Test", duration_ms, (ChapterSpan("All", 0, duration_ms),), events, marks, ())


def noise(seconds, level, seed, rate=RATE):
    """Loud band-limited noise as int16, like speech at full level."""
    rng = np.random.default_rng(seed)
    values = signal.lfilter([1.0], [1.0, -0.6], rng.standard_normal(round(seconds * rate)))
    values *= level / np.max(np.abs(values))
    return np.round(values * 32767).astype(np.int16)


def impulse(value=0.25, length=5):
    """A clip whose first sample alone is non-zero, to find where the mixer put it."""
    clip = np.zeros(length, dtype=np.float32)
    clip[0] = value
    return clip


@pytest.mark.parametrize("rate", [22050, 44100, 48000, 16000])
def test_a_cue_starts_on_the_frame_its_milliseconds_round_to(rate):
    # Times whose frame position is fractional at these rates, including exact halves (10 ms at 22050 Hz).
    times = [0, 10, 37, 1001, 2345, 3999]
    texts = [f"cue {ms}" for ms in times]
    mix = Mixer(timeline(4200, zip(times, texts)), {t: impulse() for t in texts}, rate)
    output = mix.render(0, mix.total_frames)
    found = list(np.flatnonzero(output))
    expected = [round(Fraction(ms * rate, 1000)) for ms in times]  # exact arithmetic, Python's rounding
    assert found == expected
    assert all(output[frame] == np.float32(0.25) for frame in found)
    assert [frame_at(ms, rate) for ms in times] == expected


def test_total_frames_is_the_duration_rounded_up():
    for duration_ms, rate in [(1000, 22050), (1001, 22050), (7, 44100), (12345, 48000)]:
        mix = Mixer(timeline(duration_ms), {}, rate)
        assert mix.total_frames == math.ceil(Fraction(duration_ms * rate, 1000))
        assert mix.sample_rate == rate


def test_cue_samples_are_added_as_they_are_with_the_gain():
    clip = noise(0.5, 0.3, seed=1)
    mix = Mixer(timeline(1000, [(100, "a"), (300, "a")]), {"a": clip}, RATE, gain=0.5)
    output = mix.render(0, mix.total_frames)
    values = clip.astype(np.float32) / 32768 * np.float32(0.5)
    first, second = frame_at(100, RATE), frame_at(300, RATE)
    expected = np.zeros(mix.total_frames, dtype=np.float32)
    expected[first : first + clip.size] += values
    expected[second : second + clip.size] += values
    np.testing.assert_allclose(output, expected, atol=1e-7)


def test_tones_are_placed_at_their_frame_without_the_speech_gain():
    tones = [(200, "start"), (900, "count"), (1500, "end")]
    mix = Mixer(timeline(3000, tones=tones), {}, RATE, gain=3.0)
    output = mix.render(0, mix.total_frames)
    expected = np.zeros(mix.total_frames, dtype=np.float32)
    for ms, kind in tones:
        samples = beep(kind, RATE)
        expected[frame_at(ms, RATE) : frame_at(ms, RATE) + samples.size] += samples
    np.testing.assert_array_equal(output, expected)


def loud_session():
    """Overlapping loud cues, a quiet one, tones inside speech, a cue cut by the end: the limiter works hard."""
    clips = {"a": noise(1.3, 1.0, seed=2), "b": noise(0.7, 0.9, seed=3), "quiet": noise(0.4, 0.05, seed=4)}
    cues = [(0, "a"), (500, "b"), (1700, "quiet"), (2100, "a"), (2900, "b")]
    tones = [(300, "count"), (1900, "start"), (3300, "end")]
    return timeline(3400, cues, tones), clips


@pytest.mark.parametrize("block", [1000, 777, 4096])
def test_rendering_in_blocks_gives_exactly_the_whole_render(block):
    session, clips = loud_session()
    mix = Mixer(session, clips, RATE, gain=2.5)
    whole = mix.render(0, mix.total_frames)
    pieces = [mix.render(start, min(block, mix.total_frames - start)) for start in range(0, mix.total_frames, block)]
    assert np.array_equal(np.concatenate(pieces), whole)


def test_blocks_at_random_places_match_the_whole_render_with_resampling():
    session, clips = loud_session()
    mix = Mixer(session, clips, RATE, sample_rate=48000, gain=2.5)
    whole = mix.render(0, mix.total_frames)
    rng = np.random.default_rng(5)
    for _ in range(40):
        start = int(rng.integers(0, mix.total_frames))
        count = int(rng.integers(1, 3000))
        block = mix.render(start, count)
        stop = min(start + count, mix.total_frames)
        assert np.array_equal(block[: stop - start], whole[start:stop])


def test_frames_outside_the_session_are_silent():
    session, clips = loud_session()
    mix = Mixer(session, clips, RATE)
    tail = mix.render(mix.total_frames - 100, 300)
    assert tail.shape == (300,) and np.any(tail[:100]) and not np.any(tail[100:])
    assert not np.any(mix.render(-500, 500))
    assert mix.render(0, 0).shape == (0,)
    with pytest.raises(ValueError):
        mix.render(0, -1)


def test_output_never_exceeds_the_limiter_ceiling_even_between_samples():
    session, clips = loud_session()
    mix = Mixer(session, clips, RATE, gain=4.0)
    output = mix.render(0, mix.total_frames)
    ceiling = mix.limiter.ceiling
    raw_peak = float(np.max(np.abs(mix._mix(0, mix.total_frames))))
    assert raw_peak > 3 * ceiling  # the test really drives the limiter
    assert float(np.max(np.abs(output))) <= ceiling
    # Measured independently (scipy's polyphase resampler), the true peak stays at the ceiling.
    assert true_peak_dbtp(output, RATE) <= 20 * math.log10(ceiling) + 0.3


def test_the_limiter_turns_a_loud_tone_down_smoothly_instead_of_clipping_it():
    rate = 22050
    t = np.arange(rate) / rate
    tone = (0.9 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    limiter = PeakLimiter(rate, ceiling_dbtp=-6.0)
    limited = limiter.limit(tone)
    middle = slice(rate // 4, 3 * rate // 4)
    loud = np.abs(tone[middle]) > 0.1
    ratio = limited[middle][loud] / tone[middle][loud]
    # One steady gain for a steady tone (a clipper would leave the small samples alone and cut the big ones).
    assert np.ptp(ratio) < 1e-3
    assert ratio.mean() == pytest.approx(limiter.ceiling / 0.9, rel=0.01)
    # The gain comes down before the first peak: the onset is limited too.
    assert np.max(np.abs(limited[: rate // 100])) <= limiter.ceiling


def test_the_limiter_leaves_a_signal_under_its_ceiling_untouched():
    clip = noise(1.0, 0.3, seed=6).astype(np.float32) / 32768
    limiter = PeakLimiter(RATE, ceiling_dbtp=-2.0)
    assert np.array_equal(limiter.limit(clip), clip)


def test_peak_envelope_finds_peaks_between_samples():
    # A sine at a quarter of the rate, sampled 45 degrees off its crests: every sample is at 0.707, the wave at 1.
    n = np.arange(400)
    wave = np.sin(np.pi / 2 * n + np.pi / 4).astype(np.float32)
    assert np.max(np.abs(wave)) == pytest.approx(math.sqrt(0.5), rel=1e-5)
    assert float(np.max(peak_envelope(wave)[50:-50])) == pytest.approx(1.0, abs=0.01)


def test_clips_at_another_rate_are_resampled_once_each(monkeypatch):
    clip_rate, rate = 16000, 22050
    t = np.arange(clip_rate // 2) / clip_rate
    clip = (0.2 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    calls = []
    real = signal.resample_poly
    monkeypatch.setattr(signal, "resample_poly", lambda *a, **k: calls.append(1) or real(*a, **k))
    starts = [0, 700, 1400, 2100]
    mix = Mixer(timeline(2700, [(ms, "tone") for ms in starts]), {"tone": clip}, clip_rate, sample_rate=rate)
    assert calls == []  # building the mixer resamples nothing: playback can start at once
    output = mix.render(0, mix.total_frames)
    assert len(calls) == 1
    length = math.ceil(Fraction(clip.size * rate, clip_rate))
    for ms in starts:
        start = frame_at(ms, rate)
        piece = output[start : start + length]
        assert np.all(np.abs(output[start + length : start + length + 50]) < 1e-3)  # it ends where it should
        spectrum = np.abs(np.fft.rfft(piece * np.hanning(piece.size)))
        assert np.argmax(spectrum) * rate / piece.size == pytest.approx(1000, abs=rate / piece.size)
        assert np.max(np.abs(piece)) == pytest.approx(0.2, rel=0.05)


def test_int16_and_float_clips_mix_the_same():
    clip = noise(0.5, 0.5, seed=7)
    as_int = Mixer(timeline(800, [(50, "x")]), {"x": clip}, RATE).render(0, 17640)
    as_float = Mixer(timeline(800, [(50, "x")]), {"x": clip.astype(np.float32) / 32768}, RATE).render(0, 17640)
    assert np.array_equal(as_int, as_float)


def test_a_cue_without_a_clip_is_refused_when_the_mixer_is_built():
    with pytest.raises(SpeechError, match="no rendered clip for cue 'missing'"):
        Mixer(timeline(1000, [(0, "here"), (500, "missing")]), {"here": impulse()}, RATE)


def test_bad_gain_or_rate_is_refused():
    with pytest.raises(ValueError):
        Mixer(timeline(1000), {}, RATE, gain=float("nan"))
    with pytest.raises(ValueError):
        Mixer(timeline(1000), {}, 0)


@pytest.mark.parametrize("back, ahead, size", [(0, 0, 1), (3, 2, 10), (507, 66, 1000), (20, 20, 7), (0, 9, 3), (5, 0, 500)])
def test_sliding_max_is_the_maximum_over_each_window(back, ahead, size):
    values = np.random.default_rng(size).integers(0, 1 << 24, size)
    expected = [values[max(0, n - back) : n + ahead + 1].max() for n in range(size)]
    assert list(sliding_max(values, back, ahead)) == expected


def test_the_envelope_near_peaks_marks_and_values_exactly_what_the_full_envelope_does():
    rng = np.random.default_rng(4)
    ceiling = 10 ** (-2 / 20)
    for level in (0.05, 0.2, 0.4):
        samples = signal.lfilter([1.0], [1.0, -0.5], rng.standard_normal(20000)).astype(np.float32) * np.float32(level)
        full, near = peak_envelope(samples), envelope_over(samples, ceiling)
        over = full > ceiling
        assert np.array_equal(near > ceiling, over)
        assert np.array_equal(near[over], full[over])
