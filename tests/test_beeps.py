"""Beeps: each kind sounds distinct (by its spectrum), and starts and stops without a click."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coach.audio.beeps import BEEP_NOTES, BEEP_PEAK, FADE_SECONDS, beep, beep_seconds
from coach.timeline.cues import TONE_KINDS

RATES = (22050, 44100, 48000)


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    """The strongest frequency of a signal (zero-padded FFT for a fine grid)."""
    size = 1 << 18
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size), n=size))
    return float(np.argmax(spectrum) * rate / size)


def test_every_tone_kind_the_cue_script_uses_has_a_beep():
    assert set(TONE_KINDS) <= set(BEEP_NOTES)


@pytest.mark.parametrize("rate", RATES)
def test_count_is_a_short_high_blip(rate):
    samples = beep("count", rate)
    (note,) = BEEP_NOTES["count"]
    assert dominant_hz(samples, rate) == pytest.approx(note.start_hz, abs=5)
    assert samples.size == round(beep_seconds("count") * rate)
    assert beep_seconds("count") < beep_seconds("start") < beep_seconds("end")


@pytest.mark.parametrize("rate", RATES)
def test_end_is_longer_and_lower_than_count(rate):
    end, count = beep("end", rate), beep("count", rate)
    assert dominant_hz(end, rate) < 0.6 * dominant_hz(count, rate)
    assert end.size > 3 * count.size
    # Two tones: the first part and the last part each have their own pitch, falling.
    quarter = end.size // 4
    assert dominant_hz(end[:quarter], rate) > dominant_hz(end[-quarter:], rate) * 1.2


@pytest.mark.parametrize("rate", RATES)
def test_start_rises(rate):
    samples = beep("start", rate)
    third = samples.size // 3
    first, last = dominant_hz(samples[:third], rate), dominant_hz(samples[-third:], rate)
    assert last > first * 1.4
    (note,) = BEEP_NOTES["start"]
    assert note.start_hz * 0.95 <= first and last <= note.end_hz * 1.05


def test_the_three_kinds_are_told_apart_by_pitch():
    pitches = {kind: dominant_hz(beep(kind, 22050), 22050) for kind in TONE_KINDS}
    values = sorted(pitches.values())
    assert all(b > a * 1.1 for a, b in zip(values, values[1:])), pitches


@pytest.mark.parametrize("kind", TONE_KINDS)
@pytest.mark.parametrize("rate", RATES)
def test_fades_leave_no_click(kind, rate):
    samples = beep(kind, rate).astype(np.float64)
    assert abs(samples[0]) < 1e-6 and abs(samples[-1]) < 1e-3 * BEEP_PEAK
    # No step anywhere (ends, and the joint between two notes) bigger than the steepest slope of
    # the highest tone at full level: a click would be a jump far beyond it.
    top_hz = max(max(note.start_hz, note.end_hz) for note in BEEP_NOTES[kind])
    steepest = BEEP_PEAK * 2 * math.sin(math.pi * top_hz / rate)
    assert np.max(np.abs(np.diff(samples))) <= steepest * 1.001
    # The fade-in really ramps: the first millisecond is much quieter than the beep's body.
    fade = round(FADE_SECONDS * rate)
    head = np.max(np.abs(samples[: max(1, rate // 1000)]))
    body = np.max(np.abs(samples[fade : samples.size - fade]))
    assert head < 0.2 * body
    assert body == pytest.approx(BEEP_PEAK, rel=0.01)


def test_beep_is_float32_read_only_and_shared():
    samples = beep("count", 22050)
    assert samples.dtype == np.float32
    assert not samples.flags.writeable
    assert beep("count", 22050) is samples


def test_unknown_kind_or_rate_is_refused():
    with pytest.raises(ValueError, match="unknown tone kind 'buzz'"):
        beep("buzz", 22050)
    with pytest.raises(ValueError, match="sample rate"):
        beep("count", 0)
