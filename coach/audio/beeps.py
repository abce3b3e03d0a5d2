"""Timing beeps synthesized in code: a rising 'start', a short high 'count' blip, a falling two-tone 'end'."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# Peak level of every beep before the program gain: about as loud as -16 LUFS speech while it sounds,
# so a beep is clearly heard over a phone speaker but never startles.
BEEP_PEAK = 0.3
FADE_SECONDS = 0.008  # long enough that no beep starts or stops with a click


@dataclass(frozen=True)
class Note:
    """One segment of a beep: a tone gliding from `start_hz` to `end_hz` over `seconds`."""

    start_hz: float
    end_hz: float
    seconds: float


# Each kind's notes, played back to back; every note fades in and out on its own.
BEEP_NOTES: dict[str, tuple[Note, ...]] = {
    "count": (Note(1320.0, 1320.0, 0.09),),
    "start": (Note(660.0, 1320.0, 0.28),),
    "end": (Note(880.0, 880.0, 0.16), Note(587.33, 587.33, 0.42)),
}


def beep(kind: str, rate: int) -> np.ndarray:
    """The beep of a tone kind ('start', 'count' or 'end') as read-only float32 mono samples at `rate`."""
    if kind not in BEEP_NOTES:
        raise ValueError(f"unknown tone kind {kind!r}: expected one of {', '.join(BEEP_NOTES)}")
    if rate <= 0:
        raise ValueError(f"sample rate must be positive, not {rate}")
    return _beep(kind, int(rate))


def beep_seconds(kind: str) -> float:
    """How long the beep of a tone kind lasts, in seconds."""
    return sum(note.seconds for note in BEEP_NOTES[kind])


@lru_cache(maxsize=None)
def _beep(kind: str, rate: int) -> np.ndarray:
    samples = np.concatenate([_note(note, rate) for note in BEEP_NOTES[kind]]).astype(np.float32)
    samples.setflags(write=False)  # shared by every caller through the cache
    return samples


def _note(note: Note, rate: int) -> np.ndarray:
    count = max(1, round(note.seconds * rate))
    t = np.arange(count) / rate
    # Linear glide: the phase is the integral of the instantaneous frequency.
    sweep = (note.end_hz - note.start_hz) / note.seconds
    phase = 2 * np.pi * (note.start_hz * t + 0.5 * sweep * t * t)
    return BEEP_PEAK * np.sin(phase) * _raised_cosine_envelope(count, round(FADE_SECONDS * rate))


def _raised_cosine_envelope(count: int, fade: int) -> np.ndarray:
    fade = min(fade, count // 2)
    envelope = np.ones(count)
    if fade > 0:
        # Starts at exactly 0 and reaches 1 one step after the fade, so both ends are silent.
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
        envelope[:fade] = ramp
        envelope[count - fade :] = ramp[::-1]
    return envelope
