"""The mixer: any stretch of the session as float32 PCM, cue clips, beeps and an optional music bed added in place,
then peak-limited.

Any block is rendered with the margins the limiter looks at around it, so a block rendered on its own
is identical to the same frames of a whole-track render: the player and the exporter can use any block size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Protocol

import numpy as np
from coach.audio.beeps import beep
from coach.errors import SpeechError
from coach.audio.limiter import CEILING_DBTP, PeakLimiter
from coach.audio.loudness import as_float
from coach.timeline.timeline import Timeline


def frame_at(ms: int, sample_rate: int) -> int:
    """The frame where an event at `ms` milliseconds starts: round(ms * sample_rate / 1000)."""
    return round(ms * sample_rate / 1000)


def frames_for(ms: int, sample_rate: int) -> int:
    """How many frames `ms` milliseconds take, rounded up."""
    return -(-ms * sample_rate // 1000)


class BedSource(Protocol):
    """A music bed (coach.audio.bed.Bed): its rate and channels, and any block of it, already ducked under the cues."""

    rate: int
    channels: int

    def render(self, start: int, count: int) -> np.ndarray:
        """Frames [start, start + count) as float32 (count, channels)."""


@dataclass(frozen=True)
class _Placed:
    """A sound on the mix: its samples are looked up by key when a block needs them."""

    start: int
    length: int
    key: str
    is_tone: bool


@dataclass(frozen=True)
class _Plan:
    """Where every sound of one timeline goes: swapped whole when the timeline grows."""

    timeline: Timeline
    placed: list[_Placed]
    starts: np.ndarray
    longest: int
    total_frames: int
    ready_frames: int


class Mixer:
    """Renders the session's PCM block by block; cheap to build, so playback can start at once.

    `clips` maps each cue text to its mono samples (int16 or float) at `clip_rate`; they are resampled to
    `sample_rate` (default: clip_rate) once each, when first needed. `gain` (see loudness.program_gain)
    applies to the speech only: the beeps are made at their own fixed level. The limiter's true-peak
    ceiling is `ceiling_dbtp`. With a `bed` (music at `sample_rate`) the output has the bed's channels, speech and
    beeps centred (the same samples in each); without one it is mono, 1-D, exactly as it was before beds existed.
    """

    def __init__(
        self,
        timeline: Timeline,
        clips: Mapping[str, np.ndarray],
        clip_rate: int,
        sample_rate: int | None = None,
        gain: float = 1.0,
        ceiling_dbtp: float = CEILING_DBTP,
        bed: BedSource | None = None,
    ):
        if clip_rate <= 0 or (sample_rate is not None and sample_rate <= 0):
            raise ValueError("sample rates must be positive")
        if not (math.isfinite(gain) and gain >= 0):
            raise ValueError(f"gain must be a finite number >= 0, not {gain}")
        self.clip_rate = int(clip_rate)
        self._rate = int(sample_rate or clip_rate)
        self.gain = float(gain)
        self._sources = clips
        self._resampled: dict[str, np.ndarray] = {}
        self.limiter = PeakLimiter(self._rate, ceiling_dbtp)
        if bed is not None and bed.rate != self._rate:
            raise ValueError(f"the music bed is at {bed.rate} Hz, the mix at {self._rate} Hz")
        self.bed = bed
        self._plan = self._placement(timeline)

    def update(self, timeline: Timeline) -> None:
        """Mix from a grown timeline: more of it settled, its clips added to the mapping given at construction.

        What was settled before stays where it was (scheduler.schedule), so blocks already mixed stay right.
        Safe to call while another thread renders: each block reads one placement.
        """
        self._plan = self._placement(timeline)

    def _placement(self, timeline: Timeline) -> _Plan:
        clips = self._sources
        settled = timeline.settled_ms

        def placeable(start_ms: int) -> bool:
            return settled is None or start_ms < settled

        missing = sorted({cue.text for cue in timeline.cues if placeable(cue.start_ms)} - clips.keys())
        if missing:
            raise SpeechError(f"no rendered clip for cue {missing[0]!r} ({len(missing)} missing)")
        # Only lengths here (no resampling yet): placement needs them to find what overlaps a block.
        frames = getattr(clips, "frames", None)  # a mapping that knows lengths from headers (session.Clips) is not read here
        lengths = {text: frames(text) if frames is not None else len(clips[text]) for text in {cue.text for cue in timeline.cues if placeable(cue.start_ms)}}
        placed = [
            _Placed(frame_at(cue.start_ms, self._rate), self._resampled_length(lengths[cue.text]), cue.text, False)
            for cue in timeline.cues
            if placeable(cue.start_ms)
        ]
        placed += [
            _Placed(frame_at(tone.start_ms, self._rate), beep(tone.kind, self._rate).size, tone.kind, True)
            for tone in timeline.tones
            if placeable(tone.start_ms)
        ]
        placed.sort(key=lambda p: p.start)  # stable: cues before tones at the same frame, in timeline order
        total = frames_for(timeline.duration_ms, self._rate)
        # A block may be mixed once nothing to come can change it, its limiter's look-ahead included.
        ready = total if settled is None else max(0, frame_at(settled, self._rate) - self.limiter.margins[1])
        starts = np.array([p.start for p in placed], dtype=np.int64)
        return _Plan(timeline, placed, starts, max((p.length for p in placed), default=0), total, ready)

    def close(self) -> None:
        """Stop the music bed's background work, if it has any."""
        close = getattr(self.bed, "close", None)
        if close is not None:
            close()

    @property
    def timeline(self) -> Timeline:
        """The timeline being mixed (it grows while clips are still being synthesized)."""
        return self._plan.timeline

    @property
    def sample_rate(self) -> int:
        """Frames per second of the output."""
        return self._rate

    @property
    def channels(self) -> int:
        """Channels of the output: the bed's, else 1."""
        return self.bed.channels if self.bed is not None else 1

    @property
    def total_frames(self) -> int:
        """Length of the session in frames (its duration rounded up to a whole frame; estimated while it grows)."""
        return self._plan.total_frames

    @property
    def ready_frames(self) -> int:
        """How far the session can be mixed now: all of it, unless clips are still being synthesized."""
        return self._plan.ready_frames

    def render(self, start: int, count: int) -> np.ndarray:
        """Frames [start, start+count) as float32 in [-1, 1], limited, (count,) or with a bed (count, channels); silent outside the session."""
        if count < 0:
            raise ValueError(f"frame count must be >= 0, not {count}")
        before, after = self.limiter.margins
        raw = self._mix(start - before, count + before + after)
        return self.limiter.apply(raw, before, count)

    def sounds(self, start: int, count: int) -> list[tuple[int, str, int, bool]]:
        """(first frame, cue text or tone kind, frames, is a tone) of every sound heard in frames [start, start + count)."""
        plan = self._plan
        lo, hi = max(start, 0), min(start + count, plan.total_frames)
        first = int(np.searchsorted(plan.starts, lo - plan.longest, side="right"))
        last = int(np.searchsorted(plan.starts, hi, side="left"))
        return [(p.start, p.key, p.length, p.is_tone) for p in plan.placed[first:last] if p.start + p.length > lo and hi > lo]

    def _mix(self, start: int, count: int) -> np.ndarray:
        if self.bed is None:
            buffer = np.zeros(count, dtype=np.float32)
        else:
            buffer = self.bed.render(start, count)
            if self.bed.channels == 1:
                buffer = np.ascontiguousarray(buffer[:, 0])  # a mono bed gives a mono mix
        plan = self._plan
        lo = max(start, 0)
        hi = min(start + count, plan.total_frames)
        if hi <= lo:
            return buffer
        first = int(np.searchsorted(plan.starts, lo - plan.longest, side="right"))
        last = int(np.searchsorted(plan.starts, hi, side="left"))
        for placed in plan.placed[first:last]:
            end = min(placed.start + placed.length, hi)
            begin = max(placed.start, lo)
            if end <= begin:
                continue
            samples = beep(placed.key, self._rate) if placed.is_tone else self._speech(placed.key)
            # In place into the one buffer: never a copy of more than the overlapping part.
            part = samples[begin - placed.start : end - placed.start]
            buffer[begin - start : end - start] += part if buffer.ndim == 1 else part[:, None]
        return buffer

    def _speech(self, text: str) -> np.ndarray:
        found = self._resampled.get(text)
        if found is None:
            found = self._prepare_clip(self._sources[text])
            self._resampled[text] = found  # once per distinct clip, however often it is spoken
        return found

    def _prepare_clip(self, samples: np.ndarray) -> np.ndarray:
        values = as_float(samples)
        if self._rate != self.clip_rate:
            from scipy import signal  # ~0.75 s to import: only when a clip needs resampling

            factor = math.gcd(self._rate, self.clip_rate)
            values = signal.resample_poly(values, self._rate // factor, self.clip_rate // factor)
            values = values[: self._resampled_length(len(samples))]
        scaled = (values * np.float32(self.gain)).astype(np.float32)
        scaled.setflags(write=False)
        return scaled

    def _resampled_length(self, frames: int) -> int:
        return -(-frames * self._rate // self.clip_rate)
