"""hibari's runtime started quickly: its optimized model kept in the speech cache, its FFT taken from scipy's compiled module.

The model: onnxruntime optimizes the graph each time it builds a session (0.35 s of the 0.4 s it takes), the same
work for the same model, runtime and processor. The first session saves the optimized graph, kept in the cache
(keyed by the model's sha256, onnxruntime's version, the machine and its CPU's features, since the fullest
optimizations fit the graph to the processor); later sessions are built from it with the optimizer off, in 0.06 s.
Its outputs are the same numbers (a test compares clips made both ways); a kept graph that does not load is
made again.

The FFT: hibari's signal processing (hibari.dsp) calls two functions of scipy.fft, whose import takes 0.25 s of
the GIL (its array-API layer and scipy.special) for a 10 ms share of synthesis. They are the compiled pocketfft
loop under a thin check of their arguments; hibari.dsp is imported with the loop bound directly, called as
scipy.fft calls it for hibari's arrays, so every sample is the same (a test compares them). Should a scipy
release move the loop, hibari is imported as it is.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import tempfile
import threading
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.errors import CacheError
from coach.extensions import load_extension

if TYPE_CHECKING:
    from coach.speech.cache import ClipCache

_patching = threading.Lock()  # sys.modules["scipy.fft"] stands in for the length of one import


def inference_session(model_path: Path, model_hash: str, cache: ClipCache | None) -> Any:
    """onnxruntime's session of the model on one thread, as hibari makes it; from the optimized graph kept in `cache`."""
    import onnxruntime

    key = optimized_model_key(model_hash, onnxruntime.__version__) if cache is not None else None
    kept = cache.voice_data(key) if cache is not None and key is not None else None
    if kept is not None:
        options = _session_options(onnxruntime)
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL  # optimized already
        try:
            return onnxruntime.InferenceSession(kept, options, providers=["CPUExecutionProvider"])
        except Exception:  # noqa: BLE001 - onnxruntime's own types: a graph it cannot load is made again below
            pass
    with tempfile.TemporaryDirectory(prefix="coach-hibari-") as folder:
        optimized = Path(folder) / "optimized.onnx"
        options = _session_options(onnxruntime)
        if key is not None:
            options.optimized_model_filepath = str(optimized)
        session = onnxruntime.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        if cache is not None and key is not None:
            try:
                cache.store_voice_data(key, optimized.read_bytes())
            except (CacheError, OSError):
                pass  # the next session optimizes the model again, no worse than without the cache
    return session


def optimized_model_key(model_hash: str, runtime: str) -> str:
    """The key of the model's optimized graph: the model, the runtime and the processor it was fitted to."""
    fields = [OPTIMIZED_SCHEMA, model_hash, runtime, platform.machine(), _cpu_features()]
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()


OPTIMIZED_SCHEMA = 1  # bump when how the graph is optimized or kept changes


def _session_options(onnxruntime: Any) -> Any:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1  # as hibari sets them (threads=1)
    options.log_severity_level = 3  # errors only: its warnings are not the user's to act on
    return options


def _cpu_features() -> str:
    """The processor's model and feature flags (Linux's /proc/cpuinfo), or what the platform says of it."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            lines = [line for line in handle if line.startswith(("model name", "flags", "Features"))]
        return "".join(dict.fromkeys(lines))
    except OSError:
        return platform.processor()


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
