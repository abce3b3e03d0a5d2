"""hibari loaded quickly: its phonemizer's tables kept in the speech cache, its FFT taken from scipy's compiled module.

The tables, in Python's marshal form, read in 0.3 s rather than 0.7 s: hibari's G2P (its spelling-to-sound step) reads its tables from JSON each time it loads: two lexicons of about
90,000 words each, the tokenizer's exceptions and the part-of-speech tagger's weights, 0.7 s on one core and the
longest part of a cold first sound. The tables are the same for every process of one hibari release, so the
first load keeps what the G2P read, as one blob in the speech cache (checksummed like an encoded segment, pruned by
age and cleared with the clips); later loads hand the G2P those tables instead of the JSON. The blob's key is the
sha256 of every JSON file in hibari's assets, the Python version (marshal's format is the interpreter's own) and
this layout, so another release, a changed file or another Python reads the JSON again. What the G2P builds from
the tables is its own code either way: only where its data comes from changes, so phonemes are identical.

The FFT: hibari's signal processing (hibari.dsp) calls two functions of scipy.fft, whose import takes 0.25 s of
the GIL (its array-API layer and scipy.special) for a 10 ms share of synthesis. They are the compiled pocketfft
loop under a thin check of their arguments; hibari.dsp is imported with the loop bound directly, called as
scipy.fft calls it for hibari's arrays, so every sample is the same (a test compares them). Should a scipy
release move the loop, hibari is imported as it is.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import sys
import threading
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.errors import CacheError
from coach.extensions import load_extension

if TYPE_CHECKING:
    from coach.speech.cache import ClipCache

TABLES_SCHEMA = 1  # bump when what the blob holds changes
_patching = threading.Lock()  # the G2P's JSON reader is replaced for the length of one load


def tables_key(assets: Path, british: bool) -> str:
    """The key of the tables hibari's G2P reads from `assets` (every JSON file's sha256) in this Python."""
    files = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(assets.glob("*.json*"))}
    fields = [TABLES_SCHEMA, sys.implementation.cache_tag, marshal.version, british, files]
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def load_g2p(assets: Path, british: bool, cache: ClipCache | None) -> Any:
    """hibari's G2P for the accent, its tables read from `cache` when kept there (and kept there when not)."""
    key = tables_key(assets, british) if cache is not None else None
    kept = _kept_tables(cache, key)
    import hibari.g2p as g2p_module

    read: dict[str, Any] = {}
    original = g2p_module._load_json

    def load_json(name: str) -> Any:
        read[name] = kept[name] if name in kept else original(name)
        return read[name]

    with _patching:
        g2p_module._load_json = load_json
        try:
            g2p = g2p_module.G2P(british=british)
        finally:
            g2p_module._load_json = original
    if cache is not None and key is not None and read.keys() != kept.keys():
        try:
            cache.store_tables(key, marshal.dumps(read))
        except CacheError:
            pass  # a full or read-only cache: the next load reads the JSON again, no worse than without it
    return g2p


def _kept_tables(cache: ClipCache | None, key: str | None) -> dict[str, Any]:
    """The tables kept under `key`, or {} when there are none or they do not read back as tables."""
    if cache is None or key is None:
        return {}
    data = cache.tables(key)
    if data is None:
        return {}
    try:
        tables = marshal.loads(data)
    except (EOFError, ValueError, TypeError):  # checksummed, so only a blob written by another layout
        return {}
    return tables if isinstance(tables, dict) and all(isinstance(name, str) for name in tables) else {}


POCKETFFT = "scipy.fft._pocketfft.pypocketfft"
_BACKWARD, _FORWARD_INVERSE = 0, 2  # pocketfft's normalizations for norm=None: none forward, 1/n inverse


def import_hibari() -> types.ModuleType:
    """hibari, its signal processing bound to scipy's compiled pocketfft (scipy.fft itself is not imported)."""
    if "hibari.dsp" in sys.modules or "scipy.fft" in sys.modules:
        import hibari

        return hibari
    try:
        stand_in = fft_stand_in(load_extension(POCKETFFT))
    except (ImportError, OSError):
        import hibari

        return hibari
    with _patching:
        sys.modules["scipy.fft"] = stand_in
        try:
            import hibari
        finally:
            del sys.modules["scipy.fft"]  # anything else that imports scipy.fft gets the real one
    return hibari


def fft_stand_in(pocketfft: Any) -> types.ModuleType:
    """A module with scipy.fft's rfft and irfft as hibari.dsp calls them (real input along `axis`, workers=1)."""
    module = types.ModuleType("scipy.fft", "scipy.fft's rfft and irfft over its compiled pocketfft, for hibari.dsp")

    def rfft(x: Any, axis: int = -1, overwrite_x: bool = False) -> Any:
        return pocketfft.r2c(_native(x), (axis,), True, _BACKWARD, None, 1)

    def irfft(x: Any, n: int, axis: int = -1) -> Any:
        values = _native(x)
        if values.shape[axis] != n // 2 + 1:  # scipy would crop or pad the spectrum: hibari never asks for that
            raise ValueError(f"irfft of {values.shape[axis]} bins to {n} points")
        return pocketfft.c2r(values, (axis,), n, False, _FORWARD_INVERSE, None, 1)

    module.rfft, module.irfft = rfft, irfft
    return module


def _native(x: Any) -> Any:
    """The array as scipy.fft hands it to pocketfft: native byte order, aligned (copied only if it is not)."""
    import numpy as np

    return np.array(x, dtype=x.dtype.newbyteorder("="), copy=None if x.flags["ALIGNED"] else True)
