"""Speech engines: text to int16 mono clips, through the bundled neural voice (hibari) by default, libespeak-ng, the system voice, or piper."""

from __future__ import annotations

from coach.speech.engine import RATE_RANGE, SpeechEngine, SpeechSettings, VoiceInfo, VoiceProfile, normalize_text
from coach.speech.registry import ENGINE_NAMES, default_engine_name, fallback_engine_name, get_engine

__all__ = [
    "ENGINE_NAMES",
    "RATE_RANGE",
    "SpeechEngine",
    "SpeechSettings",
    "VoiceInfo",
    "VoiceProfile",
    "default_engine_name",
    "fallback_engine_name",
    "get_engine",
    "normalize_text",
]
