"""The speech engine registry: which engines coach has, the default, and one started engine per name and process."""

from __future__ import annotations

import importlib
import sys
import threading
import warnings

from coach.errors import CoachWarning, SpeechError
from coach.routine.model import SPEECH_ENGINES
from coach.speech.engine import SpeechEngine

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
