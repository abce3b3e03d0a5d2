"""The hibari engine: a small neural voice ("heart", distilled from Kokoro-82M) inside the hibari-tts wheel.

Apache-2.0, a 14 MB wheel on onnxruntime; the one voice coach offers is the bundled one, because hibari
downloads every other voice on first use and coach never opens a network connection. The model file is
checked against the sha256 this version of hibari ships it with (the hash is in the cache key, so a changed
model re-renders every clip), and every cue is synthesized with a fixed seed, so a clip is bit-identical in
any process. The model loads on the first cue (about 0.4 s), once per process, on one thread.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from coach.errors import SpeechError
from coach.speech.engine import INT16_FULL_SCALE, SILENCE_LEVEL, SpeechEngine, VoiceInfo, file_sha256, installed_version

if TYPE_CHECKING:
    from coach.speech.cache import ClipCache

VOICE = "heart"
BRITISH = False  # hibari.voices.VOICES["heart"]["british"] (a test holds them together): the G2P's accent
PINNED_VERSION = "0.2.1"  # as pyproject.toml pins it: the model hash below belongs to this release
MODEL_SHA256 = "5f70741d4e900f4e85d0037498736cc1b3e1b9a63a13546a5da1e63abf4fccd8"
INSTALL_HINT = f"reinstall it with: pip install 'hibari-tts=={PINNED_VERSION}' (or `make setup` in a checkout)"
# The model's own pace at speed 1.0, in words a minute from first to last sound (a 14-word built-in cue):
# `rate` maps to the model's speed as rate / NATURAL_RATE, clamped to the speeds it accepts.
NATURAL_RATE = 210
SPEED_RANGE = (0.5, 2.0)
SEED = 0
# The model pauses 0.8-1.0 s between sentences at a coach's pace (160 wpm), which reads as hesitation in a
# short cue ("Switch sides. Right side." took 3.0 s); a person coaching pauses about half a second. Longer
# silences inside a clip are cut to this, at their middle, where the signal is below the silence level.
LONGEST_PAUSE = 0.45


class HibariEngine(SpeechEngine):
    """The bundled hibari voice "heart" (US English); `rate` sets the model's speed."""

    name = "hibari"
    default_rate = NATURAL_RATE
    seconds_per_character_at_one_wpm, seconds_per_clip = 9.76, 0.57  # fitted at 170 wpm (see SpeechEngine)
    cue_seconds = 0.05  # a 3-second cue on one core of this machine (about 60x real time with start-up)
    sample_rate = 24000
    thread_safe = True  # onnxruntime's run is, and leaves the GIL; hibari keeps no state between calls

    def __init__(self) -> None:
        # Only looked up here: importing hibari loads onnxruntime, which a warm `coach play` never needs.
        spec = importlib.util.find_spec("hibari")
        if spec is None or spec.origin is None:
            raise SpeechError(f"the hibari voice is not installed; {INSTALL_HINT}")
        if importlib.util.find_spec("onnxruntime") is None:
            raise SpeechError(f"onnxruntime, which the hibari voice runs on, is not installed; {INSTALL_HINT}")
        self.model_path = Path(spec.origin).parent / "assets" / "hibari.onnx"
        try:
            runtime = installed_version("hibari-tts", Path(spec.origin).parent.parent)
            model_hash = file_sha256(self.model_path)
        except (OSError, ImportError) as error:
            raise SpeechError(f"the hibari voice is incompletely installed ({error}); {INSTALL_HINT}") from error
        if model_hash != MODEL_SHA256:
            raise SpeechError(
                f"the hibari model {self.model_path} is not the one coach was built for "
                f"(sha256 {model_hash[:12]}..., expected {MODEL_SHA256[:12]}...); {INSTALL_HINT}"
            )
        self.default_voice = VOICE
        self.model_hash = model_hash
        self.version = f"{runtime} (model sha256:{model_hash[:16]}, seed {SEED}, pauses <= {LONGEST_PAUSE} s)"
        self._tts: Any = None
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self._reset_lock_after_fork)

    def all_voices(self) -> list[VoiceInfo]:
        """The one bundled voice."""
        return [VoiceInfo(id=VOICE, name="Heart (neural, US English)", languages=("en-us",))]

    def resolve_voice(self, voice: str | None) -> str:
        """The bundled voice's id; any other hibari voice is refused, since hibari would download it."""
        if voice is None or voice.strip().lower() == VOICE:
            return VOICE
        raise self.unknown_voice(voice)

    def load(self, cache: ClipCache | None = None) -> None:
        """Load the model into this process, unless loaded, from what it keeps in `cache` (its tables and graph)."""
        self._loaded(cache)

    def _synthesize(self, text: str, voice: str, rate: int) -> np.ndarray:
        tts = self._loaded()
        speed = min(max(rate / NATURAL_RATE, SPEED_RANGE[0]), SPEED_RANGE[1])
        try:
            audio = tts(text, speed=speed, seed=SEED)
        except Exception as error:  # onnxruntime and the phonemizer raise assorted types
            raise SpeechError(f"the hibari voice failed to speak {text[:40]!r}: {error}") from error
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        samples = np.round(np.clip(audio, -1.0, 1.0) * INT16_FULL_SCALE).astype(np.int16)
        return tightened_pauses(samples, int(LONGEST_PAUSE * self.sample_rate))

    def _loaded(self, cache: ClipCache | None = None) -> Any:
        from coach import interrupts

        with self._lock:
            if self._tts is None:
                with interrupts.held():  # a stop mid-import would fail the import: it reads as a broken install
                    self._tts = self._load_model(cache)
            return self._tts

    def _load_model(self, cache: ClipCache | None) -> Any:
        from concurrent.futures import ThreadPoolExecutor

        from coach.speech.hibari_runtime import import_hibari
        from coach.speech.hibari_tables import load_g2p

        # A thread has onnxruntime build the model's session (0.06 s from the optimized graph kept in the cache, else
        # 0.4 s, mostly outside the GIL; coach/speech/hibari_runtime.py) while this one imports hibari and reads the
        # phonemizer's tables (0.05 s kept in the cache, 0.7 s from JSON; coach/speech/hibari_tables.py).
        # All before a render forks, so workers inherit it; leaving the block waits for the thread, whatever happened.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="coach-hibari-session") as pool:
            session = pool.submit(self._inference_session, cache)
            try:
                Hibari = import_hibari().Hibari
                g2p = load_g2p(self.model_path.parent, british=BRITISH, cache=cache)
            except ImportError as error:
                raise SpeechError(f"the hibari voice is incomplete ({error}); {INSTALL_HINT}") from error
            with open(self.model_path.parent / "vocab.json", encoding="utf-8") as handle:
                vocab = json.load(handle)
            # Set up as Hibari.__init__ would (hibari is pinned; a test compares the two), with the session and the
            # G2P made above: the model path is given, so hibari never looks a voice up (nor downloads one).
            tts = Hibari.__new__(Hibari)
            tts.voice, tts.model_path, tts.vocab, tts._g2p = VOICE, str(self.model_path), vocab, g2p
            tts.sess = session.result()
        return tts

    def _inference_session(self, cache: ClipCache | None) -> Any:
        """onnxruntime's session of the bundled model (its optimized graph kept in `cache`)."""
        from coach.speech.hibari_runtime import inference_session

        try:
            return inference_session(self.model_path, self.model_hash, cache)
        except ImportError as error:
            raise SpeechError(f"the hibari voice is incomplete ({error}); {INSTALL_HINT}") from error
        except Exception as error:  # onnxruntime raises its own exception types for a bad model file
            raise SpeechError(f"cannot load the hibari model {self.model_path}: {error}; {INSTALL_HINT}") from error

    def _reset_lock_after_fork(self) -> None:
        # A lock held by another thread at fork time would stay held forever in the child.
        self._lock = threading.Lock()


def tightened_pauses(samples: np.ndarray, longest: int) -> np.ndarray:
    """The clip with every silence longer than `longest` samples cut to `longest`, keeping both its edges."""
    quiet = np.abs(samples.astype(np.int32)) <= SILENCE_LEVEL
    edges = np.flatnonzero(np.diff(np.concatenate(([0], quiet.view(np.int8), [0]))))
    keep = np.ones(samples.size, dtype=bool)
    for start, end in zip(edges[::2], edges[1::2]):
        # Only pauses between sounds: the silence around the speech is the engine base's to trim.
        if start > 0 and end < samples.size and end - start > longest:
            keep[start + longest // 2 : end - (longest - longest // 2)] = False
    return samples[keep]
