"""A deterministic stand-in engine for tests: a tone whose length follows the text and rate, recording each call."""

from __future__ import annotations

from typing import Any

import numpy as np

from coach.speech.engine import SpeechEngine, VoiceInfo

SECONDS_PER_CHARACTER = 0.06  # at the default rate; scales inversely with the rate like speech does
FAKE_RATE = 165
# Voice id -> tone frequency; `mute` renders no samples and `silent` only zeros, to exercise the error paths.
FAKE_VOICES: dict[str, float | None] = {"fake/low": 220.0, "fake/high": 440.0, "fake/mute": None, "fake/silent": 0.0}


class FakeEngine(SpeechEngine):
    """Renders `len(text) * 60 ms * 165 / rate` of a sine per voice; `synthesized` lists every text rendered here."""

    name = "fake"
    sample_rate = 16_000
    default_rate = FAKE_RATE
    default_voice = "fake/low"

    def __init__(self, version: str = "1") -> None:
        self.version = version
        self.synthesized: list[str] = []

    def all_voices(self) -> list[VoiceInfo]:
        """The fake voices, all 'speaking' the language `xx`."""
        return [VoiceInfo(id=voice, name=voice.split("/")[1].title(), languages=("xx",)) for voice in FAKE_VOICES]

    def resolve_voice(self, voice: str | None) -> str:
        """The voice id; short ids and names are matched case-insensitively too."""
        if voice is None:
            return self.default_voice
        found = self.find_voice(voice)
        if found is None:
            raise self.unknown_voice(voice)
        return found

    def _synthesize(self, text: str, voice: str, rate: int) -> np.ndarray:
        self.synthesized.append(text)
        frequency = FAKE_VOICES[voice]
        if frequency is None:
            return np.zeros(0, dtype=np.int16)
        frames = round(len(text) * SECONDS_PER_CHARACTER * FAKE_RATE / rate * self.sample_rate)
        phase = 2 * np.pi * frequency * np.arange(frames) / self.sample_rate
        return (np.sin(phase) * 8000).astype(np.int16)

    def __reduce__(self) -> tuple[Any, ...]:
        # A copy per worker process with the same version; each records only what it rendered itself.
        return (FakeEngine, (self.version,))
