"""Audio outputs through miniaudio: list them, pick one by name, open it; `null` plays in real time to nothing."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any

from coach.errors import AudioDeviceError, UsageError
from coach.extensions import import_lazily

import_lazily("urllib.request")  # miniaudio imports it for internet radio only: 40 ms before the first sound
import miniaudio  # noqa: E402

NULL_DEVICE = "null"
NULL_DESCRIPTION = "no sound card: plays in real time to nothing"
# Short device periods keep pause and skip responsive; 50 ms is easy for the mixer on a slow machine.
PERIOD_MS = 50
NO_DEVICE_HINT = "use --device null to play without sound, or --list-devices to see the outputs"

# miniaudio's backend names (ma_get_backend_name) mapped to its Backend enum, to reopen a listed device.
_BACKENDS_BY_NAME = {
    "wasapi": miniaudio.Backend.WASAPI,
    "directsound": miniaudio.Backend.DSOUND,
    "winmm": miniaudio.Backend.WINMM,
    "core audio": miniaudio.Backend.COREAUDIO,
    "sndio": miniaudio.Backend.SNDIO,
    "audio(4)": miniaudio.Backend.AUDIO4,
    "oss": miniaudio.Backend.OSS,
    "pulseaudio": miniaudio.Backend.PULSEAUDIO,
    "alsa": miniaudio.Backend.ALSA,
    "jack": miniaudio.Backend.JACK,
    "aaudio": miniaudio.Backend.AAUDIO,
    "opensl|es": miniaudio.Backend.OPENSL,
    "web audio": miniaudio.Backend.WEBAUDIO,
    "null": miniaudio.Backend.NULL,
}


@dataclass(frozen=True)
class Output:
    """An audio output: its name, the backend that provides it, and miniaudio's id for it (None: default)."""

    name: str
    backend: str
    device_id: Any = None

    @property
    def is_null(self) -> bool:
        """Whether this is miniaudio's NULL backend (real-time pacing, no sound)."""
        return self.backend.lower() == "null"


NULL_OUTPUT = Output(NULL_DEVICE, "Null")
DEFAULT_OUTPUT = Output("default", "")


def list_outputs() -> list[Output]:
    """The playback devices of the system's audio backend, then the `null` output."""
    _quiet_alsa()
    try:
        devices = miniaudio.Devices()
        found = [Output(info["name"], devices.backend, info["id"]) for info in devices.get_playbacks()]
    except miniaudio.MiniaudioError as error:
        raise AudioDeviceError(f"cannot list audio outputs ({_reason(error)}); {NO_DEVICE_HINT}") from None
    # miniaudio falls back to its NULL backend when nothing else works; those are not real outputs.
    real = [output for output in found if not output.is_null]
    return real + [NULL_OUTPUT]


def find_output(name: str | None) -> Output:
    """The output `--device NAME` means: None = the default, `null`, or a unique case-insensitive substring."""
    if name is None:
        return DEFAULT_OUTPUT
    wanted = name.strip().lower()
    if wanted == NULL_DEVICE:
        return NULL_OUTPUT
    outputs = [output for output in list_outputs() if not output.is_null]
    exact = [output for output in outputs if output.name.lower() == wanted]
    matches = exact or [output for output in outputs if wanted in output.name.lower()]
    if not matches:
        raise AudioDeviceError(f"no audio output matches {name!r}; {NO_DEVICE_HINT}")
    if len(matches) > 1:
        names = "; ".join(repr(output.name) for output in matches)
        raise UsageError(f"--device {name!r} matches several outputs: {names}; give more of the name")
    return matches[0]


def open_output(output: Output, sample_rate: int, period_ms: int = PERIOD_MS, channels: int = 1) -> miniaudio.PlaybackDevice:
    """Open `output` for float32 at `sample_rate`, mono or interleaved stereo (miniaudio converts to what the hardware wants)."""
    _quiet_alsa()
    if output.is_null:
        backends = [miniaudio.Backend.NULL]
    elif output.backend:
        backend = _BACKENDS_BY_NAME.get(output.backend.lower())
        backends = [backend] if backend is not None else None
    else:
        backends = None
    try:
        device = miniaudio.PlaybackDevice(
            output_format=miniaudio.SampleFormat.FLOAT32,
            nchannels=channels,
            sample_rate=sample_rate,
            buffersize_msec=period_ms,
            device_id=output.device_id,
            backends=backends,
            app_name="coach",
        )
    except miniaudio.MiniaudioError as error:
        raise AudioDeviceError(f"no audio output could be opened ({_reason(error)}); {NO_DEVICE_HINT}") from None
    # With its default backend list miniaudio silently settles for NULL when no real output works.
    if not output.is_null and device.backend.lower() == "null":
        device.close()
        raise AudioDeviceError(f"no audio output found; {NO_DEVICE_HINT}")
    return device


def check_output(output: Output) -> None:
    """Fail now, with a clear error, if `output` cannot be opened (before any speech is rendered)."""
    open_output(output, 44100).close()


def _reason(error: miniaudio.MiniaudioError) -> str:
    message = error.args[0] if error.args else "unknown error"
    code = f", code {error.args[1]}" if len(error.args) > 1 else ""
    return f"{message}{code}"


_alsa_handler: Any = None


def _quiet_alsa() -> None:
    """Keep libasound from writing its own error lines to stderr; coach reports the failure itself."""
    global _alsa_handler
    if _alsa_handler is not None:
        return
    handler_type = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p)
    _alsa_handler = handler_type(lambda *_args: None)
    try:
        ctypes.CDLL("libasound.so.2").snd_lib_error_set_handler(_alsa_handler)
    except (OSError, AttributeError):
        pass  # no ALSA here (another OS): nothing to quiet
