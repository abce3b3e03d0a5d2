"""The speech engine registry: which engines coach has, the default, and one started engine per name and process."""

from __future__ import annotations

import difflib
import importlib
import sys
import threading
import warnings

from coach.errors import CoachWarning, SpeechError
from coach.routine.model import SPEECH_ENGINES
from coach.speech.engine import SpeechEngine, unknown_voice

# Each engine's module and class, imported only when that engine starts: a process loads one native library.
_CLASSES = {
    "espeak": ("coach.speech.espeak", "EspeakEngine"),
    "pyttsx3": ("coach.speech.pyttsx3_driver", "Pyttsx3Engine"),
    "piper": ("coach.speech.piper", "PiperEngine"),
    "hibari": ("coach.speech.hibari", "HibariEngine"),
    "fake": ("coach.speech.fake", "FakeEngine"),
}
ENGINE_NAMES = (*SPEECH_ENGINES, "fake")
NATURAL_ENGINE = "hibari"  # what `auto` means wherever the bundled neural voice can start
_engines: dict[str, SpeechEngine] = {}
_engines_lock = threading.Lock()
_default_name: str | None = None


def fallback_engine_name(platform: str | None = None) -> str:
    """The engine `auto` falls back to on a platform: libespeak-ng on Linux, the system voice (pyttsx3) elsewhere."""
    platform = sys.platform if platform is None else platform
    return "espeak" if platform.startswith("linux") else "pyttsx3"


def default_engine_name() -> str:
    """The engine `auto` means in this process: the natural voice, or the fallback (with one warning) if it cannot start."""
    global _default_name
    with _engines_lock:
        if _default_name is None:
            _default_name = _natural_or_fallback()
        return _default_name


def get_engine(name: str = "auto") -> SpeechEngine:
    """This process's engine called `name` (`auto`, `hibari`, `espeak`, `pyttsx3`, `piper`, or `fake`), started once."""
    resolved = default_engine_name() if name == "auto" else name
    if resolved not in ENGINE_NAMES:
        raise SpeechError(f"unknown speech engine '{name}' (choose from auto, {', '.join(ENGINE_NAMES)})")
    with _engines_lock:
        engine = _engines.get(resolved)
        if engine is None:
            engine = _engines[resolved] = _start_engine(resolved)
        return engine


def engine_for_voice(voice: str | None) -> str:
    """What `auto` means for a voice name: `auto` when the default engine has it (or no name is given), the fallback
    engine when only that one has it (espeak speaks the other languages and accents), else `auto`."""
    if voice is None:
        return "auto"
    default = default_engine_name()
    for name in dict.fromkeys((default, fallback_engine_name())):
        try:
            get_engine(name).resolve_voice(voice)
        except SpeechError:
            continue
        return "auto" if name == default else name
    return "auto"


def unknown_to_auto(voice: str) -> SpeechError:
    """The error for a voice neither the default nor the fallback engine has, suggesting the closest of either's."""
    suggestions = []
    for name in dict.fromkeys((default_engine_name(), fallback_engine_name())):
        try:
            suggestion = get_engine(name).closest_voice(voice)
        except SpeechError:
            continue
        if suggestion is not None:
            suggestions.append(suggestion)
    ratio = lambda candidate: difflib.SequenceMatcher(None, voice.casefold(), candidate.casefold()).ratio()  # noqa: E731
    return unknown_voice(voice, max(suggestions, key=ratio) if suggestions else None)


def _natural_or_fallback() -> str:
    try:
        _engines.setdefault(NATURAL_ENGINE, _start_engine(NATURAL_ENGINE))
        return NATURAL_ENGINE
    except SpeechError as error:
        fallback = fallback_engine_name()
        warnings.warn(CoachWarning(f"speaking with {fallback}, not the natural voice: {error}"), stacklevel=4)
        return fallback


def _start_engine(name: str) -> SpeechEngine:
    module, class_name = _CLASSES[name]
    engine = getattr(importlib.import_module(module), class_name)()
    engine.factory = get_engine
    return engine
