"""The fallback engine for macOS and Windows: the system voice through pyttsx3 (nsss, sapi5).

One utterance per call: `save_to_file` then `runAndWait`, then the file is read back. pyttsx3 saves
only the last of several queued files, so calls are never batched; parallel rendering gets one
engine per worker process. On Linux pyttsx3's driver is espeak, whose traps (rate race, stdout
chatter, empty files for short voice ids) the `espeak` engine avoids, so it is refused here.
Not exercised by the test suite beyond selection: this machine has neither platform.
"""

from __future__ import annotations

import platform
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from coach.errors import SpeechError
from coach.speech.engine import SpeechEngine, VoiceInfo

PLATFORM_DRIVERS = {"darwin": ("nsss", ".aiff"), "win32": ("sapi5", ".wav")}
OUTPUT_RATE = 22_050  # clips are resampled to one rate so every clip of a session mixes alike


def platform_driver(platform_name: str | None = None) -> tuple[str, str]:
    """pyttsx3's driver for a platform and the file type it saves; SpeechError where only espeak exists."""
    platform_name = sys.platform if platform_name is None else platform_name
    if platform_name not in PLATFORM_DRIVERS:
        raise SpeechError(f"the pyttsx3 engine needs macOS or Windows; on {platform_name} use the espeak engine")
    return PLATFORM_DRIVERS[platform_name]


class Pyttsx3Engine(SpeechEngine):
    """The platform's own voices through pyttsx3; clips resampled to 22050 Hz mono."""

    name = "pyttsx3"
    sample_rate = OUTPUT_RATE

    def __init__(self) -> None:
        self._driver, self._suffix = platform_driver()
        try:
            import pyttsx3

            self._engine: Any = pyttsx3.init(driverName=self._driver)
        except Exception as error:  # pyttsx3 surfaces platform failures as assorted exception types
            raise SpeechError(f"the system speech engine ({self._driver}) could not start: {error}") from error
        self.version = f"pyttsx3-{metadata.version('pyttsx3')} {self._driver} {platform.system()}-{platform.release()}"
        self.default_voice = str(self._engine.getProperty("voice"))
        self.default_rate = int(self._engine.getProperty("rate"))

    def all_voices(self) -> list[VoiceInfo]:
        """The system's installed voices."""
        return [
            VoiceInfo(id=str(voice.id), name=str(voice.name or voice.id), languages=_languages(voice))
            for voice in self._engine.getProperty("voices")
        ]

    def resolve_voice(self, voice: str | None) -> str:
        """A system voice id, given its id, its name (any case) or a language code."""
        if voice is None:
            return self.default_voice
        for known in self.all_voices():
            if voice == known.id:
                return known.id
        found = self.find_voice(voice)
        if found is None:
            raise self.unknown_voice(voice)
        return found

    def _synthesize(self, text: str, voice: str, rate: int) -> np.ndarray:
        from pydub import AudioSegment

        with tempfile.TemporaryDirectory(prefix="coach-speech-") as folder:
            target = Path(folder) / f"cue{self._suffix}"
            self._engine.setProperty("voice", voice)
            self._engine.setProperty("rate", rate)
            self._engine.save_to_file(text, str(target))
            self._engine.runAndWait()
            if not target.is_file() or target.stat().st_size == 0:
                return np.zeros(0, dtype=np.int16)
            clip = AudioSegment.from_file(target).set_channels(1).set_sample_width(2).set_frame_rate(OUTPUT_RATE)
        return np.frombuffer(clip.raw_data, dtype="<i2").astype(np.int16)


def _languages(voice: Any) -> tuple[str, ...]:
    # Drivers report languages as str or bytes (sapi5 sometimes a locale id), occasionally with a leading length byte.
    found = []
    for language in getattr(voice, "languages", None) or ():
        if isinstance(language, bytes):
            language = language.lstrip(b"\x00\x01\x02\x03\x04\x05").decode(errors="replace")
        found.append(str(language).replace("_", "-"))
    return tuple(found)
