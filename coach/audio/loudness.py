"""Loudness: an ITU-R BS.1770-4 meter (K-weighting with scipy's second-order-section filter, gated), true peak,
and the program gain that brings speech to the target through the peak limiter (coach/audio/limiter.py).

scipy.signal takes ~1 s to import, so nothing here imports it where it can be helped: the limiter, which
every block of a live session goes through, needs numpy alone, a session whose program gain is cached
never loads scipy, and the meter loads only scipy's compiled filter (see coach/audio/sosfilter.py), in 0.07 s, because
a session that starts before its speech is synthesized measures a gain before its first sound.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from typing import Callable, Mapping, Protocol

import numpy as np

from coach.timeline.timeline import Timeline

from coach.audio.sosfilter import sosfilt  # noqa: F401  (read from here by the tests)
from coach.audio.limiter import CEILING_DBTP, PeakLimiter  # noqa: F401  (CEILING_DBTP: read from here by the stages)

GAIN_ALGORITHM = 5  # bump when program_gain would give another value for the same clips: stored gains go stale
TARGET_LUFS = -16.0  # a phone outdoors: the common spoken-word target for podcasts
_GAIN_ITERATIONS = 10
_SAMPLE_SECONDS = 20.0  # the speech the gain's search looks at first (the final bracket is on all of it)
# The program gain moves in steps of this size: a one-cue edit moves the exact crossing by about a hundredth
# of a decibel, so it rarely changes the step, and every other chapter's PCM (and its mix record and encoded MP3
# chunks) stays bit for bit the same. Deterministic, unlike hysteresis: a cold export of the edited routine
# gives the same bytes as the re-export. The cost: the speech lands within 0.125 LU of the target.
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


class LevelStore(Protocol):
    """Where each clip's measured blocks are kept between runs (see ClipCache.record): JSON records by kind and key."""

    def record(self, kind: str, key: str) -> dict | None: ...

    def store_record(self, kind: str, key: str, record: dict) -> None: ...


def program_gain(
    clips: Mapping[str, np.ndarray],
    clip_rate: int,
    timeline: Timeline | None = None,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = CEILING_DBTP,
    stepped: bool = True,
    *,
    store: LevelStore | None = None,
    clip_keys: Mapping[str, str] | None = None,
    uses: Mapping[str, int] | None = None,
) -> float:
    """The linear gain that brings the speech, once limited, to `target_lufs` (each clip weighted by its uses in `timeline`).

    Cheap, without mixing: each distinct clip is measured on its own, with silence around it, at a gain on the
    GAIN_STEP_DB grid (its gating blocks after the gain and the limiter, clip_levels), and its blocks are counted
    as often as the timeline speaks it: the loudness of all the speech back to back, exactly. The limiter takes
    loudness off the peaks (the neural voice loses about 5 LU, espeak about 3), so loudness rises ever more
    slowly with gain; the grid is searched until two neighbouring steps straddle the target, and the crossing is
    found by straight-line interpolation between them. With `stepped` the result is the nearest step to that
    crossing, else the crossing itself. Nothing in the search depends on a tolerance or on what was measured
    before: the same clips always give the same gain, and a small edit moves only the crossing, by about a
    hundredth of a decibel, so the step changes only when the crossing was within that of a step's middle.

    With `store` and `clip_keys` (each text's clip key) a clip's blocks at a step are measured once and kept:
    after an edit only the new clip is measured, and `clips` is read only for clips not yet measured. `uses`
    (text -> times spoken) stands for the timeline's counts.
    1.0 when there is nothing to measure.
    """
    if uses is None:
        uses = cue_uses(timeline) if timeline is not None else Counter(clips.keys())
    texts = [text for text, count in uses.items() if count > 0 and text in clips]
    levels = _Levels(clips, clip_rate, ceiling_dbtp, texts, [float(uses[text]) for text in texts], store, clip_keys)
    crossing = levels.crossing(target_lufs)
    levels.save()
    if crossing is None:
        return 1.0
    if stepped:
        return 10 ** (stepped_db(crossing * GAIN_STEP_DB) / 20)
    return 10 ** (min(crossing * GAIN_STEP_DB, MAX_GAIN_DB) / 20)


def stepped_db(gain_db: float) -> float:
    """A gain in dB on the GAIN_STEP_DB grid (the nearest step, halves up, never over MAX_GAIN_DB)."""
    return min(math.floor(gain_db / GAIN_STEP_DB + 0.5) * GAIN_STEP_DB, MAX_GAIN_DB)


_MAX_STEP = round(MAX_GAIN_DB / GAIN_STEP_DB)
_MIN_STEP = -_MAX_STEP  # a clip set far too loud is brought down as far as a quiet one is lifted
LEVEL_SCHEMA = 2  # bump when a clip's stored blocks for the same key would change


def level_key(clip_key: str, rate: int, ceiling_dbtp: float) -> str:
    """The cache key of a clip's measured blocks: the clip, the rate, the limiter's ceiling and this measurement."""
    fields = [LEVEL_SCHEMA, GAIN_ALGORITHM, clip_key, rate, ceiling_dbtp, GAIN_STEP_DB, _CLIP_PADDING_SECONDS]
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()


def clip_levels(samples: np.ndarray, rate: int, gain: float, limiter: "PeakLimiter") -> np.ndarray:
    """The K-weighted mean squares of the 400 ms gating blocks that overlap one clip, alone in silence, after `gain` and the limiter.

    Alone: the filters start from rest and the blocks from the padding's start, so a clip's blocks are the same
    whatever else the session says, and can be kept by the clip's key.
    """
    values = as_float(samples) * np.float32(gain)
    limited = limiter.limit(np.concatenate(_alone(values, rate)))
    return _blocks_over(limited, rate, round(_CLIP_PADDING_SECONDS * rate), values.size)


def _alone(values: np.ndarray, rate: int) -> list[np.ndarray]:
    """One clip laid out as it is measured alone: its padding of silence before, and after it the padding and the
    silence that completes the last block overlapping the clip."""
    padding = np.zeros(round(_CLIP_PADDING_SECONDS * rate), dtype=np.float32)
    return [padding, values, padding, _block_tail(rate)]


def _block_tail(rate: int) -> np.ndarray:
    """Silence that, after a clip's padding, completes the last block overlapping the clip.

    The meter keeps only whole 400 ms blocks, and one that starts just before the clip's end needs 400 ms
    after it: without this a clip alone lost its last block, which the whole session still counts.
    """
    return np.zeros(max(0, round(_BLOCK_SEGMENTS * rate / 10) - round(_CLIP_PADDING_SECONDS * rate)), dtype=np.float32)


def _blocks_over(limited: np.ndarray, rate: int, padding: int, size: int) -> np.ndarray:
    """The block mean squares of `limited` (a clip of `size` frames after `padding` of silence) over the clip."""
    meter = LoudnessMeter(rate)
    meter.add(limited)
    powers = meter.block_powers()
    block_starts = np.arange(powers.size) * rate // 10
    block_ends = (np.arange(powers.size) + _BLOCK_SEGMENTS) * rate // 10
    return powers[(block_starts < padding + size) & (block_ends > padding)]


class _Levels:
    """Each clip's blocks at the grid steps the search asks for: from the store, else measured (and kept for save)."""

    def __init__(self, clips, rate, ceiling_dbtp, texts, counts, store, clip_keys) -> None:
        self._clips, self._rate, self._ceiling = clips, rate, ceiling_dbtp
        self._texts, self._counts = texts, counts
        self._limiter: PeakLimiter | None = None
        self._store = store if clip_keys is not None else None
        self._keys = {text: level_key(clip_keys[text], rate, ceiling_dbtp) for text in texts} if self._store is not None else {}
        self._records: dict[str, dict] = {}
        self._changed: set[str] = set()
        self._loudness: dict[int, float] = {}

    def _record(self, text: str) -> dict:
        found = self._records.get(text)
        if found is None:
            stored = self._store.record("level", self._keys[text]) if self._store is not None else None
            found = stored if stored is not None and stored.get("key") == self._keys[text] else {"key": self._keys.get(text), "steps": {}}
            self._records[text] = found
        return found

    def blocks(self, text: str, step: int) -> np.ndarray:
        """The clip's blocks at gain step `step`."""
        self._measure([text], step)
        return np.asarray(self._record(text)["steps"][str(step)], dtype=np.float64)

    def _measure(self, texts: list[str], step: int) -> None:
        """Measure at `step` the clips among `texts` not measured there yet, through one limiter pass.

        The limiter has finite memory, so clips laid end to end with its margins of silence between them come out as
        each would alone; the meter (whose filters ring on) then reads each one's own stretch, from rest.
        """
        missing = [text for text in texts if str(step) not in self._record(text)["steps"]]
        if not missing:
            return
        if self._limiter is None:
            self._limiter = PeakLimiter(self._rate, self._ceiling)
        gain = np.float32(10 ** (step * GAIN_STEP_DB / 20))
        padding = round(_CLIP_PADDING_SECONDS * self._rate)
        pieces, spans, position = [], [], 0
        for text in missing:
            values = as_float(self._clips[text]) * gain
            laid = _alone(values, self._rate)
            length = sum(piece.size for piece in laid)
            pieces += laid
            spans.append((position, position + length, values.size))
            position += length
        limited = self._limiter.limit(np.concatenate(pieces))
        for text, (lo, hi, size) in zip(missing, spans):
            self._record(text)["steps"][str(step)] = _blocks_over(limited[lo:hi], self._rate, padding, size).tolist()
            self._changed.add(text)

    def loudness(self, step: int, texts: "tuple[int, ...] | None" = None) -> float:
        """The gated loudness at gain step `step` of all the speech (or of the clips numbered `texts`), each clip's blocks counted by its uses."""
        cache_key = (step, texts)
        if cache_key not in self._loudness:
            chosen = range(len(self._texts)) if texts is None else texts
            self._measure([self._texts[index] for index in chosen], step)
            powers, weights = [], []
            for index in chosen:
                found = self.blocks(self._texts[index], step)
                powers.append(found)
                weights.append(np.full(found.size, self._counts[index]))
            joined = np.concatenate(powers) if powers else np.zeros(0)
            self._loudness[cache_key] = gated_loudness(joined, np.concatenate(weights) if weights else np.zeros(0))
        return self._loudness[cache_key]

    def crossing(self, target: float) -> float | None:
        """The gain, in (fractional) steps, where the loudness of all the speech crosses `target`; None when there is none.

        Only the final bracket decides it: two neighbouring steps of the whole speech, one under the target and one
        at or over it (unique, as loudness rises with gain). The search only chooses where to look: first on the
        most used 20 s of speech (cheap), shifted by how far that sample stands from the whole at one step.
        """
        if not self._texts:
            return None
        sample = self._sample()
        start = self._unlimited_start(sample, target) if self._store is None else 0
        if not math.isfinite(self.loudness(start, sample)):
            return None
        low, high = _bracket(lambda step: self.loudness(step, sample), target, start)
        if len(sample) < len(self._texts):
            offset = self.loudness(low) - self.loudness(low, sample)
            low, high = _bracket(lambda step: self.loudness(step, sample) + offset, target, low)
        low, high = _bracket(self.loudness, target, low)
        if high == low:
            return float(low)
        at_low, at_high = self.loudness(low), self.loudness(high)
        return low + min(1.0, max(0.0, (target - at_low) / (at_high - at_low))) if at_high > at_low else float(low)

    def _unlimited_start(self, sample: tuple[int, ...], target: float) -> int:
        """The step that would reach `target` were nothing limited: the crossing is there or above, since the limiter
        only takes loudness away. One unlimited pass costs a fifth of a limited one, and the search then starts a few
        steps short of the crossing rather than at 0 dB (six limited passes down to three for a live start's clips).
        Without a store only: with one, the steps visited before are measured already and no clip need be read."""
        used = [(as_float(self._clips[self._texts[index]]), int(self._counts[index])) for index in sample]
        unlimited = speech_loudness(used, self._rate)
        if not math.isfinite(unlimited):
            return 0
        return max(_MIN_STEP, min(_MAX_STEP, math.floor((target - unlimited) / GAIN_STEP_DB)))

    def _sample(self) -> tuple[int, ...]:
        """The clips that make up most of the speech, about _SAMPLE_SECONDS in all (by uses times length)."""
        frames = round(_SAMPLE_SECONDS * self._rate)
        lengths = [_length(self._clips, text) for text in self._texts]
        ranked = sorted(range(len(self._texts)), key=lambda i: (-self._counts[i] * lengths[i], i))
        chosen, total = [], 0
        for index in ranked:
            if total >= frames:
                break
            chosen.append(index)
            total += lengths[index]
        return tuple(sorted(chosen))

    def save(self) -> None:
        """Keep the clips' newly measured blocks."""
        if self._store is None:
            return
        for text in self._changed:
            self._store.store_record("level", self._keys[text], self._records[text])


def speech_loudness(
    used: list[tuple[np.ndarray, int]], rate: int, gain: float = 1.0, limiter: "PeakLimiter | None" = None
) -> float:
    """Loudness of (clip, uses) back to back in one pass, each counted `uses` times, after an optional gain and limiter.

    The full measurement the program gain's stored blocks stand for (tests/test_loudness.py compares them).

    The clips are laid end to end with silence around each (wider than a gating block and than the
    limiter's reach), so one filter pass measures them all as if each stood alone.
    """
    if not used:
        return float("-inf")
    padding = round(_CLIP_PADDING_SECONDS * rate)
    segment = rate // 10 if rate % 10 == 0 else 1  # the meter's segments start at k * rate // 10
    pieces, starts, ends, counts = [], [], [], []
    position = 0
    silence = np.zeros(padding, dtype=np.float32)
    for values, count in used:
        # Each clip starts on a 100 ms segment, as measured alone (clip_levels): where a clip falls on the block grid
        # moves a routine's reading by up to 0.1 LU, through the blocks at its edges.
        align = -(values.size + 2 * padding) % segment
        pieces += [silence, values * np.float32(gain), silence, np.zeros(align, dtype=np.float32)]
        starts.append(position + padding)
        ends.append(position + padding + values.size)
        counts.append(float(count))
        position += values.size + 2 * padding + align
    joined = np.concatenate(pieces + [_block_tail(rate)])  # between clips the next one's padding does this
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


def _length(clips: Mapping[str, np.ndarray], text: str) -> int:
    """A clip's length in frames, from its header when the mapping can tell it (session.Clips) without reading it."""
    frames = getattr(clips, "frames", None)
    return int(frames(text)) if frames is not None else len(clips[text])


def _bracket(loudness_at: Callable[[int], float], target: float, start: int) -> tuple[int, int]:
    """Neighbouring gain steps (low, low + 1) with loudness_at(low) < target <= loudness_at(low + 1), walked to from
    `start` by secant jumps (low == high at the ends of the range)."""
    step = start
    for _ in range(_GAIN_ITERATIONS * 4):
        reached = loudness_at(step)
        if reached < target:
            if step >= _MAX_STEP:
                return step, step
            ahead = loudness_at(step + 1)
            if ahead >= target:
                return step, step + 1
            slope = max(ahead - reached, 0.05 * GAIN_STEP_DB)
            step = min(_MAX_STEP, step + 1 + max(0, math.floor((target - ahead) / slope)))
        else:
            if step <= _MIN_STEP:
                return step, step
            behind = loudness_at(step - 1)
            if behind < target:
                return step - 1, step
            slope = max(reached - behind, 0.05 * GAIN_STEP_DB)
            step = max(_MIN_STEP, step - 1 - max(0, math.floor((behind - target) / slope)))
    return step, step  # not reached on real speech: loudness rises with the gain
