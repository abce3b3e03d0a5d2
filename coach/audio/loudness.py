"""Loudness: an ITU-R BS.1770-4 meter (K-weighting with scipy's second-order-section filter, gated), true peak,
and the program gain that brings speech to the target through the peak limiter (coach/audio/limiter.py).

scipy.signal takes ~1 s to import, so nothing here imports it where it can be helped: the limiter, which
every block of a live session goes through, needs numpy alone, a session whose program gain is cached
never loads scipy, and the meter loads only scipy's compiled filter (see _load_sosfilt), in 0.07 s, because
a session that starts before its speech is synthesized measures a gain before its first sound.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from coach.timeline.timeline import Timeline

from coach.audio.limiter import CEILING_DBTP, PeakLimiter  # noqa: F401  (CEILING_DBTP: read from here by the stages)

GAIN_ALGORITHM = 3  # bump when program_gain would give another value for the same clips: stored gains go stale
TARGET_LUFS = -16.0  # a phone outdoors: the common spoken-word target for podcasts
_GAIN_TOLERANCE_LU = 0.05
_LOSS_SAMPLE_SECONDS = 20.0  # speech the limiter's loudness loss is measured on
_GAIN_ITERATIONS = 10
# The program gain moves in steps of this size: a one-cue edit moves the measured gain by about a hundredth
# of a decibel, so it almost never changes the gain, and every other chapter's PCM (and its encoded MP3
# chunks) stays bit for bit the same. Deterministic, unlike hysteresis: a cold export of the edited
# routine gives the same bytes as the re-export. The cost: the speech lands within 0.125 LU of the target.
GAIN_STEP_DB = 0.25
MAX_GAIN_DB = 24.0  # never lift a near-silent clip set into a wall of noise
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
TRUE_PEAK_OVERSAMPLING = 4
_ANTI_DENORMAL = 1e-12
_BLOCK_SEGMENTS = 4  # a 400 ms gating block is four 100 ms segments (75 % overlap)
_CLIP_PADDING_SECONDS = 0.3  # silence around a clip, as in the mix, so short cues still fill a block
_METER_CHUNK = 1 << 18  # samples filtered at a time: the meter's memory stays flat however much it is fed


def as_float(samples: np.ndarray) -> np.ndarray:
    """Mono samples as float32 in [-1, 1]: int16 is scaled by 1/32768, floats are taken as they are."""
    array = np.asarray(samples)
    if array.ndim != 1:
        raise ValueError(f"expected mono samples (1-D), got shape {array.shape}")
    if array.dtype == np.int16:
        return array.astype(np.float32) / np.float32(32768.0)
    if np.issubdtype(array.dtype, np.floating):
        return array.astype(np.float32, copy=False)
    raise ValueError(f"expected int16 or float samples, got {array.dtype}")


def k_weighting(rate: int) -> np.ndarray:
    """The BS.1770 K-weighting filter (high shelf, then RLB high-pass) as second-order sections at `rate`."""
    # Analog prototypes mapped with the bilinear transform (as libebur128 does): exactly the
    # standard's 48 kHz coefficients at 48 kHz, and the same response at any other rate.
    k = math.tan(math.pi * 1681.974450955533 / rate)
    q = 0.7071752369554196
    vh = 10 ** (3.999843853973347 / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = [
        (vh + vb * k / q + k * k) / a0,
        2 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
        1.0,
        2 * (k * k - 1) / a0,
        (1 - k / q + k * k) / a0,
    ]
    k = math.tan(math.pi * 38.13547087602444 / rate)
    q = 0.5003270373238773
    a0 = 1 + k / q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    return np.array([shelf, highpass])


SosFilter = Callable[[np.ndarray, np.ndarray, np.ndarray], "tuple[np.ndarray, np.ndarray]"]
_SOSFILT: list[SosFilter] = []


def sosfilt() -> SosFilter:
    """scipy.signal.sosfilt(sos, values, zi=state) for 1-D float64 values: (filtered, new state)."""
    if not _SOSFILT:
        _SOSFILT.append(_load_sosfilt())
    return _SOSFILT[0]


def _load_sosfilt() -> SosFilter:
    """scipy's compiled filter loop, loaded on its own (0.07 s) rather than through scipy.signal (~1 s).

    It is the loop scipy.signal.sosfilt runs after checking its arguments; the module is registered under
    its own name, so importing scipy.signal later reuses it. Should a scipy release move it, scipy.signal's
    public sosfilt is used instead (tests/test_loudness.py checks both agree).
    """
    name = "scipy.signal._sosfilt"
    try:
        kernel = sys.modules[name]._sosfilt if name in sys.modules else _load_extension(name)._sosfilt
    except (ImportError, AttributeError, OSError, StopIteration):
        from scipy import signal

        return lambda sos, values, zi: signal.sosfilt(sos, values, zi=zi)

    def filtered(sos: np.ndarray, values: np.ndarray, zi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        signal_rows = np.array(values, dtype=np.float64, order="C").reshape(1, -1)  # filtered in place
        state = np.array(zi, dtype=np.float64, order="C").reshape(1, sos.shape[0], 2)
        kernel(np.asarray(sos, dtype=np.float64), signal_rows, state)
        return signal_rows[0], state[0]

    return filtered


def _load_extension(name: str) -> object:
    scipy_spec = importlib.util.find_spec("scipy")
    if scipy_spec is None or not scipy_spec.submodule_search_locations:
        raise ImportError("scipy is not installed")
    folder = Path(next(iter(scipy_spec.submodule_search_locations)), *name.split(".")[1:-1])
    stem = name.rsplit(".", 1)[1]
    path = next(folder / (stem + suffix) for suffix in importlib.machinery.EXTENSION_SUFFIXES if (folder / (stem + suffix)).is_file())
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module


class LoudnessMeter:
    """An integrated-loudness meter fed block by block, so a long track is measured in bounded memory."""

    def __init__(self, rate: int):
        if rate <= 0:
            raise ValueError(f"sample rate must be positive, not {rate}")
        self._sosfilt = sosfilt()
        self.rate = int(rate)
        self._sos = k_weighting(self.rate)
        self._state = np.zeros((self._sos.shape[0], 2))
        self._seen = 0  # samples added so far
        self._partial = 0.0  # sum of squares of the unfinished 100 ms segment
        self._segments: list[np.ndarray] = []  # sums of squares of finished segments

    def add(self, samples: np.ndarray) -> None:
        """Feed the next samples (int16 or float mono)."""
        values = as_float(samples)
        for start in range(0, values.size, _METER_CHUNK):
            self._add_chunk(values[start : start + _METER_CHUNK].astype(np.float64))

    def _add_chunk(self, values: np.ndarray) -> None:
        # In silence the filters' state decays into denormal numbers, which makes sosfilt ~50x slower;
        # a +-1e-12 signal at Nyquist keeps it normal and adds -240 dB, far under the -70 LUFS gate.
        values[0::2] += _ANTI_DENORMAL
        values[1::2] -= _ANTI_DENORMAL
        filtered, self._state = self._sosfilt(self._sos, values, self._state)
        squares = filtered * filtered
        start = self._seen
        end = start + squares.size
        # Segment k covers samples [k * rate // 10, (k + 1) * rate // 10): exact at any rate.
        first = start * 10 // self.rate + 1
        last = end * 10 // self.rate
        bounds = np.arange(first, last + 1, dtype=np.int64) * self.rate // 10 - start
        # Sums of [0, b0), [b0, b1), ... and of what follows the last bound (a segment still open).
        pieces = np.add.reduceat(squares, np.concatenate([[0], bounds[bounds < squares.size]]))
        pieces[0] += self._partial
        closes_here = bounds.size > 0 and bounds[-1] == squares.size
        finished, self._partial = (pieces, 0.0) if closes_here else (pieces[:-1], float(pieces[-1]))
        if finished.size:
            self._segments.append(finished)
        self._seen = end

    def block_powers(self) -> np.ndarray:
        """Mean square of every complete 400 ms block so far (K-weighted), one per 100 ms step."""
        segments = np.concatenate(self._segments) if self._segments else np.zeros(0)
        return _block_powers(segments, self.rate)

    def integrated(self) -> float:
        """The gated integrated loudness of everything fed so far, in LUFS (-inf for silence or < 400 ms)."""
        return gated_loudness(self.block_powers())


def _block_powers(segment_sums: np.ndarray, rate: int) -> np.ndarray:
    count = segment_sums.size - _BLOCK_SEGMENTS + 1
    if count <= 0:
        return np.zeros(0)
    sums = sum(segment_sums[i : i + count] for i in range(_BLOCK_SEGMENTS))
    starts = np.arange(count)
    lengths = (starts + _BLOCK_SEGMENTS) * rate // 10 - starts * rate // 10
    return sums / lengths


def gated_loudness(block_powers: np.ndarray, weights: np.ndarray | None = None) -> float:
    """BS.1770-4 gating over 400 ms block mean squares (each counted `weights` times), in LUFS."""
    powers = np.asarray(block_powers, dtype=np.float64)
    counts = np.ones_like(powers) if weights is None else np.asarray(weights, dtype=np.float64)
    with np.errstate(divide="ignore"):
        loudness = -0.691 + 10 * np.log10(powers)
    above = loudness > ABSOLUTE_GATE_LUFS
    if not np.any(counts[above] > 0):
        return float("-inf")
    relative = _lufs(np.average(powers[above], weights=counts[above])) + RELATIVE_GATE_LU
    kept = above & (loudness > relative)
    return _lufs(np.average(powers[kept], weights=counts[kept]))


def _lufs(power: float) -> float:
    return -0.691 + 10 * math.log10(power) if power > 0 else float("-inf")


def integrated_lufs(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness of mono samples in LUFS (ITU-R BS.1770-4, gated); -inf when silent."""
    meter = LoudnessMeter(rate)
    meter.add(samples)
    return meter.integrated()


def true_peak_dbtp(samples: np.ndarray, rate: int, chunk: int = 1 << 18) -> float:
    """True peak of mono samples in dBTP, from 4x oversampling (-inf when silent)."""
    from scipy import signal  # see the module docstring

    values = as_float(samples).astype(np.float64)
    if values.size == 0:
        return float("-inf")
    # Oversample in chunks with overlap so a long track needs no 4x copy of itself.
    pad = 64
    peak = 0.0
    for start in range(0, values.size, chunk):
        lo = max(0, start - pad)
        hi = min(values.size, start + chunk + pad)
        upsampled = signal.resample_poly(values[lo:hi], TRUE_PEAK_OVERSAMPLING, 1)
        keep = upsampled[(start - lo) * TRUE_PEAK_OVERSAMPLING : (min(values.size, start + chunk) - lo) * TRUE_PEAK_OVERSAMPLING]
        peak = max(peak, float(np.max(np.abs(keep))), float(np.max(np.abs(values[start : start + chunk]))))
    return 20 * math.log10(peak) if peak > 0 else float("-inf")


def cue_uses(timeline: Timeline) -> Counter[str]:
    """How many times each cue text is spoken in a timeline."""
    return Counter(cue.text for cue in timeline.cues)


def program_gain(
    clips: Mapping[str, np.ndarray],
    clip_rate: int,
    timeline: Timeline | None = None,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = CEILING_DBTP,
    stepped: bool = True,
) -> float:
    """The linear gain that brings the speech, once limited, to `target_lufs` (each clip weighted by its uses in `timeline`).

    Cheap, without mixing: each distinct clip is measured once, on its own with silence around it, its
    gating blocks counted as often as the timeline speaks it (the loudness of all the speech back to
    back). The limiter takes loudness off the peaks, the more the higher they stand above the speech's
    loudness (the neural voice loses about 5 LU at its gain, espeak about 3). The gain is found by
    secant steps on the most used 20 s of speech, then all the speech goes through the limiter once
    at that gain, and the steps are taken again on the sample, shifted by how far the sample was from
    the whole; the result is put on the GAIN_STEP_DB grid unless `stepped` is false (an estimate built
    from several gains steps only its result). 1.0 when there is nothing to measure.
    """
    uses: Mapping[str, int] = cue_uses(timeline) if timeline is not None else Counter(clips.keys())
    used = [(as_float(clips[text]), count) for text, count in uses.items() if count > 0 and text in clips]
    sample = _most_used(used, round(_LOSS_SAMPLE_SECONDS * clip_rate))
    if not math.isfinite(_speech_loudness(sample, clip_rate)):
        return 1.0
    limiter = PeakLimiter(clip_rate, ceiling_dbtp)

    def sample_loudness_at(gain_db: float) -> float:
        return _speech_loudness(sample, clip_rate, 10 ** (gain_db / 20), limiter)

    gain_db = _solve_gain(sample_loudness_at, target_lufs)
    if len(sample) < len(used):
        whole = _speech_loudness(used, clip_rate, 10 ** (gain_db / 20), limiter)
        offset = whole - sample_loudness_at(gain_db)
        gain_db = _solve_gain(lambda db: sample_loudness_at(db) + offset, target_lufs, start_db=gain_db)
    return 10 ** ((stepped_db(gain_db) if stepped else gain_db) / 20)


def stepped_db(gain_db: float) -> float:
    """A gain in dB on the GAIN_STEP_DB grid (the nearest step, never over MAX_GAIN_DB)."""
    return min(round(gain_db / GAIN_STEP_DB) * GAIN_STEP_DB, MAX_GAIN_DB)


def _solve_gain(loudness_at: Callable[[float], float], target_lufs: float, start_db: float = 0.0) -> float:
    """The gain in dB at which `loudness_at` reaches the target (at most MAX_GAIN_DB), by secant steps from `start_db`."""
    low_db, low = start_db, loudness_at(start_db)
    gain_db = min(start_db + target_lufs - low, MAX_GAIN_DB)
    for _ in range(_GAIN_ITERATIONS):
        reached = loudness_at(gain_db)
        if abs(reached - target_lufs) < _GAIN_TOLERANCE_LU or (gain_db >= MAX_GAIN_DB and reached < target_lufs):
            break
        # Secant step: loudness rises ever more slowly with gain as the limiter works harder.
        slope = (reached - low) / (gain_db - low_db) if gain_db != low_db else 1.0
        low_db, low = gain_db, reached
        gain_db = min(gain_db + (target_lufs - reached) / max(slope, 0.05), MAX_GAIN_DB)
    return gain_db


def _speech_loudness(
    used: list[tuple[np.ndarray, int]], rate: int, gain: float = 1.0, limiter: "PeakLimiter | None" = None
) -> float:
    """Loudness of clips back to back, each counted `uses` times, after an optional gain and limiter.

    The clips are laid end to end with silence around each (wider than a gating block and than the
    limiter's reach), so one filter pass measures them all as if each stood alone.
    """
    if not used:
        return float("-inf")
    padding = round(_CLIP_PADDING_SECONDS * rate)
    pieces, starts, ends, counts = [], [], [], []
    position = 0
    silence = np.zeros(padding, dtype=np.float32)
    for values, count in used:
        pieces += [silence, values * np.float32(gain), silence]
        starts.append(position + padding)
        ends.append(position + padding + values.size)
        counts.append(float(count))
        position += values.size + 2 * padding
    joined = np.concatenate(pieces)
    if limiter is not None:
        joined = limiter.limit(joined)
    meter = LoudnessMeter(rate)
    meter.add(joined)
    powers = meter.block_powers()
    # Each gating block overlaps at most one clip (the silence between two is wider than a block).
    block_starts = np.arange(powers.size) * rate // 10
    block_ends = (np.arange(powers.size) + _BLOCK_SEGMENTS) * rate // 10
    clip = np.minimum(np.searchsorted(np.array(ends), block_starts, side="right"), len(used) - 1)
    overlaps = np.array(starts)[clip] < block_ends
    weights = np.where(overlaps, np.array(counts)[clip], 0.0)
    return gated_loudness(powers, weights)


def _most_used(used: list[tuple[np.ndarray, int]], frames: int) -> list[tuple[np.ndarray, int]]:
    """The clips that make up most of the speech, about `frames` long in all."""
    ranked = sorted(used, key=lambda item: item[1] * item[0].size, reverse=True)
    chosen, total = [], 0
    for values, count in ranked:
        if total >= frames:
            break
        chosen.append((values, count))
        total += values.size
    return chosen
