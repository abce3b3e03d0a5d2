"""libmp3lame in this process: the copy the `lameenc` wheel carries, driven through its C API with ctypes.

lameenc's own Python class cannot turn the bit reservoir off, which chunked encoding needs (a frame
that borrows bits from a dropped frame decodes as garbage), but the wheel exports LAME's whole C API.
"""

from __future__ import annotations

import ctypes
import importlib.util
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from coach.errors import EncoderError

_JOINT_STEREO, _MONO = 1, 3  # LAME's MPEG_mode values: joint stereo is what ffmpeg's libmp3lame asks for with two channels
LAME_MISSING = "the MP3 encoder library is missing: reinstall coach (the lameenc package)"


@dataclass(frozen=True)
class LameSettings:
    """What makes two encodes of the same PCM give the same bytes."""

    sample_rate: int
    kbps: int
    quality: int = 5  # LAME's algorithm quality: 5 is ffmpeg's compression_level 5, twice as fast as 3, no loss for a voice
    channels: int = 1  # 1: mono; 2: joint stereo (a music bed)


@lru_cache(maxsize=1)
def _library() -> ctypes.CDLL:
    spec = importlib.util.find_spec("lameenc")
    if spec is None or spec.origin is None:
        raise EncoderError(LAME_MISSING)
    try:
        lib = ctypes.CDLL(spec.origin)
    except OSError as error:
        raise EncoderError(f"cannot load the MP3 encoder library: {error}") from None
    handle = ctypes.c_void_p
    lib.lame_init.restype = handle
    lib.lame_init.argtypes = []
    for name in (
        "lame_set_in_samplerate", "lame_set_out_samplerate", "lame_set_num_channels", "lame_set_mode",
        "lame_set_brate", "lame_set_quality", "lame_set_disable_reservoir", "lame_set_bWriteVbrTag",
    ):  # fmt: skip
        getattr(lib, name).argtypes = [handle, ctypes.c_int]
        getattr(lib, name).restype = ctypes.c_int
    for name in ("lame_init_params", "lame_get_encoder_delay", "lame_close"):
        getattr(lib, name).argtypes = [handle]
        getattr(lib, name).restype = ctypes.c_int
    lib.lame_encode_buffer.argtypes = [handle, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.lame_encode_buffer.restype = ctypes.c_int
    lib.lame_encode_buffer_interleaved.argtypes = [handle, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.lame_encode_buffer_interleaved.restype = ctypes.c_int
    lib.lame_encode_flush.argtypes = [handle, ctypes.c_char_p, ctypes.c_int]
    lib.lame_encode_flush.restype = ctypes.c_int
    lib.get_lame_version.restype = ctypes.c_char_p
    lib.get_lame_version.argtypes = []
    return lib


def version() -> str:
    """The version of the LAME library in use, like '3.100'."""
    return _library().get_lame_version().decode("ascii")


def encode(samples: np.ndarray, settings: LameSettings) -> bytes:
    """One whole CBR MP3 stream of int16 `samples` ((n,) mono or (n, 2) stereo; flushed), bit reservoir off, no tag frame: frames only."""
    lib = _library()
    state = _configured(lib, settings)
    try:
        if lib.lame_init_params(state) < 0:
            raise EncoderError(f"the MP3 encoder refused {settings.kbps} kbit/s at {settings.sample_rate} Hz")
        pcm = np.ascontiguousarray(samples, dtype="<i2")
        count = pcm.shape[0]
        capacity = count * 5 // 4 + 7200  # LAME's documented worst case
        out = ctypes.create_string_buffer(capacity)
        if settings.channels == 1:
            written = lib.lame_encode_buffer(state, pcm.ctypes.data, None, count, out, capacity)
        else:
            written = lib.lame_encode_buffer_interleaved(state, pcm.ctypes.data, count, out, capacity)
        if written < 0:
            raise EncoderError(f"the MP3 encoder failed (code {written})")
        data = out.raw[:written]
        flushed = lib.lame_encode_flush(state, out, capacity)
        if flushed < 0:
            raise EncoderError(f"the MP3 encoder failed to flush (code {flushed})")
        return data + out.raw[:flushed]
    finally:
        lib.lame_close(state)


def _configured(lib: ctypes.CDLL, settings: LameSettings) -> int:
    """A new LAME state set up for `settings` (parameters not yet initialized); the caller closes it."""
    if settings.channels not in (1, 2):
        raise EncoderError(f"the MP3 encoder takes one or two channels, not {settings.channels}")
    state = lib.lame_init()
    if not state:
        raise EncoderError("cannot start the MP3 encoder (out of memory?)")
    for setter, value in (
        (lib.lame_set_in_samplerate, settings.sample_rate),
        (lib.lame_set_out_samplerate, settings.sample_rate),
        (lib.lame_set_num_channels, settings.channels),
        (lib.lame_set_mode, _MONO if settings.channels == 1 else _JOINT_STEREO),
        (lib.lame_set_brate, settings.kbps),
        (lib.lame_set_quality, settings.quality),
        (lib.lame_set_disable_reservoir, 1),
        (lib.lame_set_bWriteVbrTag, 0),  # the joined file gets one header for the whole track (see chunked.py)
    ):
        setter(state, value)
    return state


@lru_cache(maxsize=16)
def encoder_delay(settings: LameSettings) -> int:
    """Samples of silence LAME puts before the audio at these settings (576 at 22,050 Hz and at 44,100 Hz)."""
    lib = _library()
    state = _configured(lib, settings)
    try:
        lib.lame_init_params(state)
        return lib.lame_get_encoder_delay(state)
    finally:
        lib.lame_close(state)


def music_crc(data: bytes, crc: int = 0) -> int:
    """LAME's CRC-16 of MP3 frame bytes (the LAME tag's music CRC), continuing from `crc`: C speed, for whole tracks."""
    lib = _library()
    if not hasattr(lib, "_coach_crc"):
        lib.UpdateMusicCRC.argtypes = [ctypes.POINTER(ctypes.c_uint16), ctypes.c_char_p, ctypes.c_int]
        lib.UpdateMusicCRC.restype = None
        lib._coach_crc = True
    value = ctypes.c_uint16(crc)
    lib.UpdateMusicCRC(ctypes.byref(value), data, len(data))
    return value.value
