"""The speech engine interface, the checks every engine shares, and the factory that picks one.

Every engine returns clips the same way: int16 mono samples at the engine's `sample_rate`, with
leading silence cut to at most 10 ms and trailing silence to at most 100 ms. The scheduler uses a
clip's length as the cue's length, so silence an engine pads around speech would otherwise become
dead time after every cue; 100 ms keeps the natural decay of the last word.
"""

from __future__ import annotations

import difflib
import hashlib
from pathlib import Path
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from coach.errors import SpeechError, UnspeakableText
from coach.routine.limits import MAX_RATE, MIN_RATE

RATE_RANGE = (MIN_RATE, MAX_RATE)  # words per minute an engine is asked for: what a routine and the CLI accept
MAX_LEADING_SILENCE = 0.010
MAX_TRAILING_SILENCE = 0.100
INT16_FULL_SCALE = 32767  # a neural engine's float samples in [-1, 1] scale to int16 by this
HASH_BLOCK = 1 << 20
SILENCE_LEVEL = 64  # int16 amplitude (about -54 dBFS) below which a sample counts as silence


@dataclass(frozen=True)
class SpeechSettings:
    """How to speak: an engine (`auto`: the platform's default), a voice id or name and a rate in words per minute; None means the engine's default."""

    voice: str | None = None
    rate: int | None = None
    engine: str = "auto"


@dataclass(frozen=True)
class VoiceInfo:
    """One voice an engine offers: the id to use in `voice.name`/`--voice`, a display name, its languages."""

    id: str
    name: str
    languages: tuple[str, ...]


@dataclass(frozen=True)
class VoiceProfile:
    """Everything besides the text that decides how a clip sounds; together with the text, the cache key."""

    engine: str
    version: str
    voice: str
    rate: int
    sample_rate: int

    @property
    def settings(self) -> SpeechSettings:
        """The settings that render exactly this profile (engine and voice resolved, rate explicit)."""
        return SpeechSettings(voice=self.voice, rate=self.rate, engine=self.engine)


def normalize_text(text: str) -> str:
    """The text as it is spoken and keyed: whitespace runs collapsed to one space, ends stripped."""
    return " ".join(text.split())


def check_text(text: str) -> str:
    """The normalized text, or SpeechError when there is nothing to speak."""
    spoken = normalize_text(text)
    if not spoken:
        raise SpeechError("cannot speak empty text")
    return spoken


def matches_language(languages: tuple[str, ...], wanted: str) -> bool:
    """Whether a voice speaks `wanted`: an exact tag or a more specific one (`en` matches `en-us`)."""
    wanted = wanted.strip().lower().replace("_", "-")
    return any(tag.lower() == wanted or tag.lower().startswith(wanted + "-") for tag in languages)


def unknown_voice(voice: str, suggestion: str | None = None) -> SpeechError:
    """The error for a voice the engine does not have, with the closest one when there is one."""
    hint = f"did you mean '{suggestion}'? " if suggestion else ""
    return SpeechError(f"unknown voice '{voice}' ({hint}run `coach voices` to list the voices available)")


def _loose(name: str) -> str:
    """A voice name or language tag compared loosely: any case, '_' for '-', no surrounding space."""
    return name.strip().casefold().replace("_", "-")


class SpeechEngine(ABC):
    """A text-to-speech engine: lists voices and renders one text at a time to int16 mono samples."""

    name: str
    version: str
    sample_rate: int
    default_voice: str
    default_rate: int
    cue_seconds: float = 0.004  # about what one cue takes to synthesize: sizes the work handed to worker processes
    # How long a clip not yet synthesized will last: this many seconds a character at one word a minute, plus
    # a constant (a least-squares fit to the built-ins' clips at 170 wpm; each engine with its own fit).
    seconds_per_character_at_one_wpm: float = 8.75
    seconds_per_clip: float = 0.45
    # An engine whose synthesis keeps no state between calls and leaves the GIL while its model runs can speak a
    # few cues in threads, sooner than a pool of processes starts (espeak-ng keeps its state in globals: not it).
    thread_safe: bool = False

    @abstractmethod
    def all_voices(self) -> list[VoiceInfo]:
        """Every voice the engine offers."""

    @abstractmethod
    def resolve_voice(self, voice: str | None) -> str:
        """The canonical id of a voice given by id or name (None: the default); SpeechError if unknown."""

    @abstractmethod
    def _synthesize(self, text: str, voice: str, rate: int) -> np.ndarray:
        """Raw engine output for normalized, non-empty text with a resolved voice: int16 mono samples."""

    def load(self, cache: Any = None) -> None:
        """Load what the engine needs before its first cue (a model), once per process; most engines start loaded.

        An engine may keep what it derives from its package in `cache` (a ClipCache), to load faster the next time.
        """

    def voices(self, language: str | None = None) -> list[VoiceInfo]:
        """The voices offered, optionally only those speaking `language` (`en` includes `en-us`)."""
        found = self.all_voices()
        if language:
            found = [voice for voice in found if matches_language(voice.languages, language)]
        return found

    def find_voice(self, wanted: str) -> str | None:
        """The id of the voice `wanted` names loosely: an id, the id without its family (`en-gb-x-rp`), a name, a
        language code (`en-gb`: the voice whose main language it is, else the first that speaks it) or a language
        name (`english`: the default voice if it is one, else the shortest id)."""
        key = _loose(wanted)
        if not key:
            return None
        voices = self.all_voices()
        for voice in voices:
            if key in (_loose(voice.id), _loose(voice.id).rsplit("/", 1)[-1], _loose(voice.name)):
                return voice.id
        speakers = [
            (voice.languages.index(tag), order, voice.id)
            for order, voice in enumerate(voices)
            for tag in voice.languages
            if _loose(tag) == key
        ]
        if speakers:
            return min(speakers)[2]
        named = [voice.id for voice in voices if _loose(voice.name.split(" (")[0]) == key]
        default = getattr(self, "default_voice", None)  # an engine may look for its own default with this
        if default in named:
            return default
        return min(named, key=lambda id: (len(id), id)) if named else None

    def closest_voice(self, wanted: str) -> str | None:
        """The voice id closest to a name that is not one, to suggest in the error."""
        key = _loose(wanted)
        names: dict[str, str] = {}
        for voice in self.all_voices():
            for name in (voice.id, voice.id.rsplit("/", 1)[-1], voice.name, *voice.languages):
                names.setdefault(_loose(name), voice.id)
        starting = [names[name] for name in names if key and name.startswith(key)]
        if starting:  # 'english' -> an English voice, the default one if it is
            return self.default_voice if self.default_voice in starting else starting[0]
        close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.6)
        return names[close[0]] if close else None

    def unknown_voice(self, voice: str) -> SpeechError:
        """The error for a voice this engine does not have, suggesting the closest one."""
        return unknown_voice(voice, self.closest_voice(voice))

    def resolve_rate(self, rate: int | None) -> int:
        """The rate in force (None: the default); SpeechError outside the supported range."""
        if rate is None:
            return self.default_rate
        low, high = RATE_RANGE
        if isinstance(rate, bool) or not isinstance(rate, int) or not low <= rate <= high:
            raise SpeechError(f"speech rate {rate!r} is out of range: use {low} to {high} words per minute")
        return rate

    def profile(self, settings: SpeechSettings) -> VoiceProfile:
        """The exact voice, rate and engine build these settings render with."""
        return VoiceProfile(
            engine=self.name,
            version=self.version,
            voice=self.resolve_voice(settings.voice),
            rate=self.resolve_rate(settings.rate),
            sample_rate=self.sample_rate,
        )

    def synthesize(self, text: str, settings: SpeechSettings) -> np.ndarray:
        """Speak `text` into int16 mono samples at `sample_rate`, silence trimmed; SpeechError on any failure."""
        spoken = check_text(text)
        voice = self.resolve_voice(settings.voice)
        rate = self.resolve_rate(settings.rate)
        samples = self._synthesize(spoken, voice, rate)
        return finish_clip(samples, self.sample_rate, spoken, voice)

    # Set by the registry on the engines it starts, so a worker process gets its own engine through the same factory.
    factory: Callable[[str], SpeechEngine] | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # An engine wraps process-wide native state: it is never copied, a worker process starts its own.
        if self.factory is not None:
            return (self.factory, (self.name,))
        return (type(self), ())


def finish_clip(samples: np.ndarray, sample_rate: int, text: str, voice: str) -> np.ndarray:
    """Check an engine's raw output and trim the silence around the speech; SpeechError if nothing was said."""
    samples = np.asarray(samples, dtype=np.int16).reshape(-1)
    quoted = text if len(text) <= 40 else text[:37] + "..."
    if samples.size == 0:
        raise UnspeakableText(text, f"voice '{voice}' rendered nothing for {quoted!r}")
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SILENCE_LEVEL)
    if loud.size == 0:
        raise UnspeakableText(text, f"voice '{voice}' rendered only silence for {quoted!r}")
    start = max(0, int(loud[0]) - int(MAX_LEADING_SILENCE * sample_rate))
    end = min(samples.size, int(loud[-1]) + 1 + int(MAX_TRAILING_SILENCE * sample_rate))
    return np.ascontiguousarray(samples[start:end])


def file_sha256(path: Path) -> str:
    """The sha256 hex digest of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def installed_version(distribution: str, beside: Path) -> str:
    """The installed version of `distribution`, read from its METADATA in the folder `beside` (the folder its package
    is in), else through importlib.metadata (which imports email: 20-30 ms before a warm first sound).

    ImportError (importlib.metadata's PackageNotFoundError) if it is not installed at all.
    """
    stem = distribution.replace("-", "_").lower()
    found = [folder for folder in beside.glob("*.dist-info") if folder.name.lower().startswith(stem + "-")]
    if len(found) == 1:
        for line in (found[0] / "METADATA").read_text(encoding="utf-8").splitlines():
            if line.startswith("Version:"):
                return line.removeprefix("Version:").strip()
            if not line:
                break
    from importlib import metadata

    return metadata.version(distribution)

