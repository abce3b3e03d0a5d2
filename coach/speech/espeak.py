"""The default Linux engine: libespeak-ng driven synchronously through pyttsx3's own ctypes binding.

pyttsx3's espeak *driver* queues utterances, races rate changes, prints "Audio saved" on stdout and
corrupts output across threads. Its low-level binding (`pyttsx3.drivers._espeak`) is sound: in
AUDIO_OUTPUT_SYNCHRONOUS mode `Synth` + `Synchronize` hand every sample to our callback before
returning, and voice and rate are set before each utterance, so each call is independent.

The library comes from the system (`libespeak-ng.so.1`, e.g. Debian's libespeak-ng1) when there is
one, else from the `espeakng-loader` wheel, which carries the library and its voice data.
Set COACH_ESPEAK_LIBRARY=bundled (or =system) to force one.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from coach.errors import SpeechError
from coach.speech.engine import SpeechEngine, VoiceInfo, unknown_voice

LIBRARY_ENV = "COACH_ESPEAK_LIBRARY"
LIBRARY_CHOICES = ("auto", "system", "bundled")
PREFERRED_VOICE = "gmw/en-us"
FALLBACK_VOICE = "en"
DEFAULT_RATE = 175  # espeak-ng's own default, words per minute
INITIALIZE_DONT_EXIT = 0x8000  # without it espeak_Initialize calls exit() when its data is missing
INSTALL_HINT = (
    "install espeak-ng (Debian: apt install libespeak-ng1) or the espeakng-loader wheel (pip install espeakng-loader)"
)


class EspeakEngine(SpeechEngine):
    """libespeak-ng in synchronous mode; one per process (the library is process-wide and not thread safe)."""

    name = "espeak"
    seconds_per_character_at_one_wpm, seconds_per_clip = 9.06, 0.44  # fitted at 170 wpm (see SpeechEngine)

    def __init__(self) -> None:
        self._espeak, data_parent, self.library = load_binding()
        espeak = self._espeak
        self.sample_rate = espeak.Initialize(espeak.AUDIO_OUTPUT_SYNCHRONOUS, 0, data_parent, INITIALIZE_DONT_EXIT)
        if self.sample_rate <= 0:
            raise SpeechError(f"espeak-ng could not load its voice data; reinstall it, or {INSTALL_HINT}")
        data_path = ctypes.c_char_p()
        self.version = _info(espeak)(ctypes.byref(data_path)).decode()
        self.data_path = (data_path.value or b"").decode(errors="replace")
        self._chunks: list[bytes] = []
        self._interrupts: list[Any] = []
        self._own_callback()
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self._reset_lock_after_fork)
        self._resolved: dict[str | None, str] = {}
        self.default_rate = DEFAULT_RATE
        self.default_voice = self._default_voice()

    def all_voices(self) -> list[VoiceInfo]:
        """Every voice in espeak-ng's data (variants like `+f3` are accepted but not listed)."""
        with self._lock:
            voices = self._espeak.ListVoices()
            return [
                VoiceInfo(
                    id=voice.identifier.decode().lower(),
                    name=voice.name.decode(errors="replace"),
                    languages=_languages(voice),
                )
                for voice in voices
                if voice.identifier
            ]

    def resolve_voice(self, voice: str | None) -> str:
        """The lower-case espeak id (`gmw/en-us`) of a voice given by id, short id, name or language code (`en-gb`)."""
        if voice is None:
            return self.default_voice
        found = self._resolved.get(voice)
        if found is None:
            try:
                with self._lock:
                    found = self._select(voice)
            except SpeechError:
                # espeak knows ids, short ids and names; language codes and loose spellings are ours to find,
                # keeping a variant such as `+f3` (`en-gb+f3`)
                base, plus, variant = voice.partition("+")
                alias = self.find_voice(base)
                if alias is None:
                    raise self.unknown_voice(voice) from None
                with self._lock:
                    found = self._select(alias + plus + variant)
            self._resolved[voice] = found
        return found

    def _synthesize(self, text: str, voice: str, rate: int) -> np.ndarray:
        espeak = self._espeak
        with self._lock, _interrupts_deferred() as interrupts:
            self._interrupts = interrupts
            self._own_callback()
            # Voice first: selecting a voice resets the rate to the voice's own.
            if espeak.SetVoiceByName(voice.encode()) != espeak.EE_OK:
                raise unknown_voice(voice)
            espeak.SetParameter(espeak.RATE, rate, 0)
            self._chunks = []
            status = espeak.Synth(text, flags=espeak.CHARS_UTF8)
            synchronized = espeak.Synchronize()
            audio = b"".join(self._chunks)
            self._chunks = []
        # Leaving the block re-delivered any Ctrl-C (KeyboardInterrupt): we only get here without one.
        if status != espeak.EE_OK or synchronized != espeak.EE_OK:
            raise SpeechError(f"espeak-ng failed to speak {text[:40]!r} (status {status})")
        return np.frombuffer(audio, dtype="<i2").astype(np.int16)

    def _own_callback(self) -> None:
        """Make this engine the library's one synth callback: libespeak-ng is one per process, and another engine
        started in it (a test's fresh registry) would otherwise collect this one's audio."""
        espeak = self._espeak
        if getattr(espeak, "coach_collector", None) is not self:
            # The binding keeps the ctypes thunk alive in a module global (one callback per process).
            espeak.SetSynthCallback(self._collect)
            espeak.coach_collector = self

    def _collect(self, wav: Any, count: int, _events: Any) -> int:
        if self._interrupts:
            return 1  # Ctrl-C arrived: stop synthesizing now
        if count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        return 0

    def _select(self, voice: str) -> str:
        espeak = self._espeak
        if not voice.strip() or espeak.SetVoiceByName(voice.encode()) != espeak.EE_OK:
            raise unknown_voice(voice)
        current = espeak.GetCurrentVoice()
        identifier = current[0].identifier if current else None
        return identifier.decode().lower() if identifier else voice.lower()

    def _default_voice(self) -> str:
        for candidate in (PREFERRED_VOICE, FALLBACK_VOICE):
            try:
                return self.resolve_voice(candidate)
            except SpeechError:
                continue
        voices = self.all_voices()
        if not voices:
            raise SpeechError(f"espeak-ng has no voices; {INSTALL_HINT}")
        return voices[0].id

    def _reset_lock_after_fork(self) -> None:
        # A lock held by another thread at fork time would stay held forever in the child.
        self._lock = threading.Lock()


@contextmanager
def _interrupts_deferred() -> Iterator[list[Any]]:
    """Hold back Ctrl-C while espeak runs, then deliver it.

    A KeyboardInterrupt raised inside the ctypes synth callback is printed and swallowed by ctypes, so
    a Ctrl-C during synthesis would be lost. Meanwhile a handler only records the signal; the callback
    sees the record and aborts synthesis; on leaving, the usual handler gets the signal.
    """
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield []  # only the main thread may set handlers; SIG_IGN/SIG_DFL need no deferring
        return
    received: list[Any] = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append((signum, frame)))
    try:
        yield received
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        previous(*received[0])


def load_binding() -> tuple[ModuleType, bytes | None, str]:
    """pyttsx3's espeak binding on a usable libespeak-ng: (module, data dir for Initialize, 'system'|'bundled')."""
    choice = (os.environ.get(LIBRARY_ENV) or "auto").strip().lower()
    if choice not in LIBRARY_CHOICES:
        raise SpeechError(f"{LIBRARY_ENV}={choice!r} is not one of {', '.join(LIBRARY_CHOICES)}")
    already = sys.modules.get("pyttsx3.drivers._espeak")
    if already is not None:
        # The binding loads its library once per process; whatever it bound is what we get.
        bundled = _bundled_paths()
        if bundled and _is_mapped(bundled[0]):
            return already, bundled[1], "bundled"
        return already, None, "system"
    if choice in ("auto", "system"):
        module = _import_binding()
        if module is not None:
            return module, None, "system"
        if choice == "system":
            raise SpeechError(f"no system libespeak-ng found; {INSTALL_HINT}")
    bundled = _bundled_paths()
    if bundled is None:
        raise SpeechError(f"no speech engine: libespeak-ng is missing; {INSTALL_HINT}")
    library, data_parent = bundled
    try:
        # RTLD_GLOBAL + the library's soname (libespeak-ng.so.1) let the binding's dlopen by name find it.
        ctypes.CDLL(library, mode=ctypes.RTLD_GLOBAL)
    except OSError as error:
        raise SpeechError(f"cannot load {library}: {error}; {INSTALL_HINT}") from error
    os.environ["ESPEAK_DATA_PATH"] = str(Path(data_parent.decode()) / "espeak-ng-data")
    module = _import_binding()
    if module is None:
        raise SpeechError(f"the espeakng-loader library could not be bound; {INSTALL_HINT}")
    return module, data_parent, "bundled"


def _import_binding() -> ModuleType | None:
    try:
        return importlib.import_module("pyttsx3.drivers._espeak")
    except ImportError as error:
        raise SpeechError(f"pyttsx3 is not installed ({error}); pip install pyttsx3") from error
    except (RuntimeError, OSError):
        return None  # the binding raises RuntimeError at import when no library loads


def _bundled_paths() -> tuple[str, bytes] | None:
    """The espeakng-loader wheel's library and the directory holding its espeak-ng-data, if installed."""
    try:
        import espeakng_loader
    except ImportError:
        return None
    try:
        data = Path(espeakng_loader.get_data_path())
    except RuntimeError:
        return None
    return espeakng_loader.get_library_path(), str(data.parent).encode()


def _is_mapped(library: str) -> bool:
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return False
    return str(Path(library).resolve().parent) in maps


def _info(espeak: ModuleType) -> Any:
    # The binding declares espeak_Info's argument as void*; we want the data path it reports too.
    return espeak.cfunc(
        "espeak_Info", espeak.dll, ctypes.c_char_p, ("path_data", ctypes.POINTER(ctypes.c_char_p), 1)
    )


def _languages(voice: Any) -> tuple[str, ...]:
    """A voice's languages: espeak packs them as (priority byte, NUL-terminated name)* ending in a 0 byte."""
    offset = type(voice).languages.offset
    address = ctypes.c_void_p.from_address(ctypes.addressof(voice) + offset).value
    languages: list[str] = []
    while address and len(languages) < 16:
        if ctypes.string_at(address, 1) == b"\x00":
            break
        name = ctypes.string_at(address + 1)
        if not name:
            break
        languages.append(name.decode(errors="replace"))
        address += 1 + len(name) + 1
    return tuple(languages)
