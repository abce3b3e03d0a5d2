"""The look-ahead true-peak limiter every block of a session goes through (numpy only: a live session never loads scipy)."""

from __future__ import annotations


import numpy as np



# True-peak ceiling of the limiter: a lossy encoder adds up to about a decibel of overshoot,
# and the file must stay under the -1 dBTP that players and platforms expect.
CEILING_DBTP = -2.0
LIMITER_RAMP_SECONDS = 0.003  # the gain is fully down before a peak arrives, and ramps this long each way
LIMITER_HOLD_SECONDS = 0.020  # stays down this long after a peak: a few pitch periods, so the voice does not buzz
_GAIN_STEPS = 1 << 24  # gain reduction in integer steps, so the limiter's sums are exact in any block size


class PeakLimiter:
    """A look-ahead true-peak limiter with finite memory: its gain at a frame depends only on the signal within
    `margins` around it, so limiting any block with those margins gives the same frames as the whole track.

    Peaks are found between samples too (4x interpolation), since a voice's sibilants swing up to 3 dB
    higher between samples than on them. The reduction each frame needs is held for the hold time, then
    smoothed with a triangle window that only ever averages frames whose held value already covers the
    peak: the gain never lets a peak through, ramps smoothly, and is down before the peak arrives.
    """

    def __init__(self, rate: int, ceiling_dbtp: float = CEILING_DBTP):
        if rate <= 0:
            raise ValueError(f"sample rate must be positive, not {rate}")
        self.ceiling = 10 ** (ceiling_dbtp / 20)
        self._ramp = max(1, round(LIMITER_RAMP_SECONDS * rate))
        self._hold = 2 * round(LIMITER_HOLD_SECONDS * rate / 2)  # even, so the hold window has a middle

    @property
    def margins(self) -> tuple[int, int]:
        """Frames of signal the gain at a frame depends on: (before it, after it)."""
        reach = _INTERPOLATOR_REACH
        return self._hold + 2 * self._ramp + reach, 2 * self._ramp + reach

    def limit(self, samples: np.ndarray) -> np.ndarray:
        """A whole float signal limited, as if silence surrounded it."""
        before, after = self.margins
        padded = np.concatenate([np.zeros(before, np.float32), samples, np.zeros(after, np.float32)])
        return self.apply(padded, before, len(samples))

    def apply(self, raw: np.ndarray, offset: int, count: int) -> np.ndarray:
        """raw[offset:offset+count] limited; raw must hold `margins` frames of signal before and after (zeros past its ends).

        raw is mono (frames,) or multichannel (frames, channels); channels share one gain.
        """
        limited = np.array(raw[offset : offset + count], dtype=np.float32)
        if raw.size == 0 or float(np.max(np.abs(raw))) * _INTERPOLATOR_GAIN <= self.ceiling:
            return limited  # nothing here can reach the ceiling, even between samples
        if raw.ndim == 1:
            envelope = envelope_over(raw, self.ceiling)
        else:  # linked channels: one gain from the loudest, so the stereo image does not shift
            envelope = np.max([envelope_over(raw[:, channel], self.ceiling) for channel in range(raw.shape[1])], axis=0)
        over = np.flatnonzero(envelope > self.ceiling)
        if over.size == 0:
            return limited
        ramp, hold = self._ramp, self._hold
        # The gain at a frame depends on the reduction from hold + 2 ramps before it to 2 ramps after it; peaks
        # further apart than that are ducked one group at a time, each over its own stretch only.
        apart = np.flatnonzero(np.diff(over) > hold + 4 * ramp + 1)
        for first, last in zip(over[np.concatenate([[0], apart + 1])], over[np.concatenate([apart, [over.size - 1]])]):
            self._duck(limited, envelope, int(first), int(last), offset)
        return limited

    def _duck(self, limited: np.ndarray, envelope: np.ndarray, first_peak: int, last_peak: int, offset: int) -> None:
        """Apply the gain around one group of peaks (frames of `envelope`) to `limited`, which starts at `offset`."""
        ramp, hold = self._ramp, self._hold
        # The gain dips below 1 only within [first peak - 2 ramps, last peak + hold + 2 ramps], and there it
        # depends on the reduction up to hold + 2 ramps back and 2 ramps ahead; the reduction is zero
        # elsewhere, so working on that stretch alone gives exactly the numbers of the whole.
        lo = max(offset, first_peak - 2 * ramp)
        hi = min(offset + limited.shape[0], last_peak + hold + 2 * ramp + 1)
        if hi <= lo:
            return
        first = lo - hold - 2 * ramp  # >= the interpolator's reach, where the envelope is exact
        stretch = envelope[first : hi + 2 * ramp].astype(np.float64)
        needed = np.minimum(1.0, self.ceiling / np.maximum(stretch, 1e-12))
        # Rounded up: never less reduction than needed.
        reduction = np.ceil((1.0 - needed) * _GAIN_STEPS).astype(np.int64)
        # Worst reduction over [n - hold - ramp, n + ramp], then a triangle-weighted average over [n - ramp, n + ramp]:
        # every frame averaged has the peak at n inside its window, so the gain never lets a peak through.
        held = sliding_max(reduction, back=hold + ramp, ahead=ramp)
        smoothed = _triangle_sum(held, ramp)[lo - first : hi - first]
        gain = 1.0 - smoothed / (float(_GAIN_STEPS) * (ramp + 1) ** 2)
        part = limited[lo - offset : hi - offset]
        part *= gain.astype(np.float32).reshape((-1,) + (1,) * (part.ndim - 1))
        # float32 rounding could leave a sample a hair above the ceiling; the gain has already done the work.
        np.clip(part, -self.ceiling, self.ceiling, out=part)


def _interpolator() -> np.ndarray:
    """A 4x interpolation filter reaching up to the original Nyquist frequency (81 taps, ~20 per phase), gain 4.

    The same design as scipy's resample_poly (a Kaiser-windowed sinc, beta 5, firwin's unit DC gain): a
    shorter or gentler filter misses the peaks of a voice's sibilants, whose energy reaches right up to
    the top of a 22 kHz clip.
    """
    taps = np.arange(81) - 40
    lowpass = 0.25 * np.sinc(0.25 * taps) * np.kaiser(81, 5.0)
    return (lowpass / lowpass.sum() * 4).astype(np.float32)


_INTERPOLATOR = _interpolator()
_INTERPOLATOR_DELAY = 40  # (81 - 1) / 2 taps at the 4x rate: 10 samples
_INTERPOLATOR_REACH = 10  # samples on each side an envelope value depends on
_PEAK_BATCH = 1 << 15  # frames interpolated at a time
# No interpolated value can exceed the largest sample around it times this (the largest phase's sum of |taps|).
_INTERPOLATOR_GAIN = float(max(np.abs(_INTERPOLATOR[phase::4]).sum() for phase in range(4)))


def peak_envelope(samples: np.ndarray) -> np.ndarray:
    """Per frame, the largest magnitude from that sample up to the next, 4x interpolated (the true peak near it).

    Exact for frames at least 10 from either end (zeros are assumed beyond). Each value is a fixed sum of
    products of the samples around it, so any stretch containing them gives bit-identical values.
    """
    values = np.asarray(samples, dtype=np.float32)
    envelope = np.abs(values)
    _interpolate_peaks(values, np.arange(values.size), envelope)
    return envelope


def envelope_over(samples: np.ndarray, ceiling: float) -> np.ndarray:
    """peak_envelope(samples) wherever it may pass `ceiling`, and elsewhere the samples' magnitude (under it too).

    So `envelope_over(x, c) > c` marks exactly the frames `peak_envelope(x) > c` does, with the same values
    there, while the interpolation runs only near loud samples: a small part of even a loud voice.
    """
    values = np.asarray(samples, dtype=np.float32)
    envelope = np.abs(values)
    # An interpolated value is at most _INTERPOLATOR_GAIN times the largest sample within reach of it;
    # the margin covers float32 rounding in the sums.
    loud = envelope > np.float32(ceiling / (_INTERPOLATOR_GAIN * (1 + 1e-5)))
    if loud.any():
        # The frames with a loud sample within reach: a moving count of loud samples, from one running sum.
        reach, size = _INTERPOLATOR_REACH, values.size
        running = np.concatenate([np.zeros(reach + 1, np.int32), np.cumsum(loud, dtype=np.int32)])
        running = np.concatenate([running, np.full(reach, running[-1], np.int32)])
        near = running[2 * reach + 1 : 2 * reach + 1 + size] != running[:size]
        _interpolate_peaks(values, np.flatnonzero(near), envelope)
    return envelope


def _interpolate_peaks(values: np.ndarray, frames: np.ndarray, envelope: np.ndarray) -> None:
    """Raise envelope[frames] to the 4x-interpolated magnitudes between each of those frames and the next."""
    reach = _INTERPOLATOR_REACH
    padded = np.concatenate([np.zeros(reach, np.float32), values, np.zeros(reach, np.float32)])
    # In batches: the gather below holds 21 values a frame, and small batches reuse memory already mapped
    # (a whole program's worth at once took twice as long, most of it the kernel handing out fresh pages).
    for start in range(0, frames.size, _PEAK_BATCH):
        _interpolate_batch(padded, frames[start : start + _PEAK_BATCH], envelope)


def _interpolate_batch(padded: np.ndarray, frames: np.ndarray, envelope: np.ndarray) -> None:
    reach = _INTERPOLATOR_REACH
    peaks = envelope[frames]
    # Row reach - d holds x[n - d] for every frame n: one gather, then contiguous rows.
    around = padded[np.arange(2 * reach, -1, -1)[:, None] + frames[None, :]]
    for phase in (1, 2, 3):
        # The value a quarter, half or three quarters of the way from sample n to n+1:
        # sum over d of tap[4d + delay + phase] * x[n - d], always summed in this order (bit-identical anywhere).
        between = np.zeros(frames.size, np.float32)
        for d in range(-reach, reach + 1):
            tap = 4 * d + _INTERPOLATOR_DELAY + phase
            if 0 <= tap < _INTERPOLATOR.size:
                between += _INTERPOLATOR[tap] * around[reach + d]
        np.maximum(peaks, np.abs(between), out=peaks)
    envelope[frames] = peaks


def sliding_max(values: np.ndarray, back: int, ahead: int) -> np.ndarray:
    """max(values[n - back : n + ahead + 1]) for every n, zeros beyond the ends (values must be >= 0).

    Van Herk / Gil-Werman: running maxima within fixed blocks of the window's width, forwards and
    backwards, so each output is the larger of two look-ups: O(n) whatever the width.
    """
    width = back + ahead + 1
    count = values.size
    blocks = -(-(count + width - 1) // width)
    padded = np.zeros(blocks * width, dtype=values.dtype)
    padded[back : back + count] = values  # window n is padded[n : n + width]
    grid = padded.reshape(blocks, width)
    forward = np.maximum.accumulate(grid, axis=1).reshape(-1)
    backward = np.maximum.accumulate(grid[:, ::-1], axis=1)[:, ::-1].reshape(-1)
    starts = np.arange(count)
    return np.maximum(backward[starts], forward[starts + width - 1])


def _triangle_sum(values: np.ndarray, half: int) -> np.ndarray:
    """sum_{j=-half..half} (half + 1 - |j|) * values[n + j], exact in integers (zeros beyond the ends)."""
    box = _box_sum(values, half // 2, half - half // 2)
    return _box_sum(box, half - half // 2, half // 2)


def _box_sum(values: np.ndarray, back: int, ahead: int) -> np.ndarray:
    """sum_{j=-back..ahead} values[n + j] (zeros beyond the ends), by an exact integer running sum."""
    padded = np.concatenate([np.zeros(back + 1, dtype=np.int64), values, np.zeros(ahead, dtype=np.int64)])
    running = np.cumsum(padded)
    return running[back + ahead + 1 :] - running[: values.size]
