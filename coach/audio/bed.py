"""The music bed, pure: where each music track plays (chained with crossfades, looped, faded in and out) and how far
the music ducks under each cue, rendered block by block from samples a `read` callback supplies.

No I/O here (coach/audio/music.py decodes and caches the tracks). Every output frame is a fixed function of that frame's
position and the tracks' samples, so any block rendered alone equals the same frames of a whole render.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from coach.timeline.timeline import Timeline

LEVEL_LUFS = -24.0  # the music between cues: 8 LU under the -16 LUFS speech, present but never in the way
DUCK_DB = 12.0  # under every cue the music drops this much more: about 20 LU under the voice
ATTACK_MS = 200  # the music is fully down when the cue starts (its clip's first syllable follows 10 ms later)
RELEASE_MS = 600  # after the cue the music comes back this slowly, so it does not pump
BRIDGE_MS = 1000  # cues closer than this keep the music down between them instead of bouncing it up
CROSSFADE_MS = 1500  # between tracks of a playlist, and at the loop seam
FADE_IN_MS = 2000
FADE_OUT_MS = 4000
MIN_TRACK_MS = 1000  # a shorter file cannot carry a crossfade and would loop thousands of times an hour

Reader = Callable[[int, int, int], np.ndarray]  # (track, first frame, frames) -> float32 (frames, channels)


@dataclass(frozen=True)
class BedLevels:
    """How loud the music is between cues (in LUFS, as a mono file measures) and how far it ducks under cues (dB)."""

    level_lufs: float = LEVEL_LUFS
    duck_db: float = DUCK_DB


@dataclass(frozen=True)
class Placement:
    """One play of a track on the session: frames [start, start + frames) play the track from its first frame."""

    track: int
    start: int
    frames: int
    fade_in: int  # crossfade frames at its start (0: starts at full weight)
    fade_out: int  # crossfade frames at its end


def arrange(track_frames: Sequence[int], total_frames: int, crossfade: int) -> list[Placement]:
    """The tracks in order, each crossfading into the next over `crossfade` frames, looped until `total_frames` are covered."""
    if not track_frames or min(track_frames) <= 0:
        raise ValueError("every track needs at least one frame")
    placements: list[Placement] = []
    start, index, fade_in = 0, 0, 0
    while start < total_frames:
        track = index % len(track_frames)
        length = track_frames[track]
        following = track_frames[(index + 1) % len(track_frames)]
        fade_out = min(crossfade, length // 2, following // 2)
        fade_out = min(fade_out, length - fade_in)  # a short track's two fades never overlap
        placements.append(Placement(track, start, length, fade_in, fade_out))
        start += length - fade_out
        fade_in, index = fade_out, index + 1
    return placements


def duck_spans(timeline: Timeline, bridge_ms: int = BRIDGE_MS) -> list[tuple[int, int]]:
    """The stretches (start_ms, end_ms) the music stays down for: every cue, with gaps under `bridge_ms` bridged."""
    spans: list[tuple[int, int]] = []
    for cue in sorted(timeline.cues, key=lambda c: c.start_ms):
        if spans and cue.start_ms - spans[-1][1] < bridge_ms:
            spans[-1] = (spans[-1][0], max(spans[-1][1], cue.end_ms))
        else:
            spans.append((cue.start_ms, cue.end_ms))
    return spans


class DuckEnvelope:
    """The music's gain in dB at any frame: 0 between cues, -duck_db under them, with raised-cosine ramps.

    The ramp down takes ATTACK_MS and ends where the cue starts; the ramp up takes RELEASE_MS from where it ends.
    Spans are at least BRIDGE_MS apart, longer than a release and an attack together, so at most one shapes a frame.
    """

    def __init__(self, timeline: Timeline, rate: int, duck_db: float = DUCK_DB):
        if not (math.isfinite(duck_db) and duck_db >= 0):
            raise ValueError(f"duck depth must be a finite number of dB >= 0, not {duck_db}")
        self.duck_db = float(duck_db)
        self.attack = max(1, round(ATTACK_MS * rate / 1000))
        self.release = max(1, round(RELEASE_MS * rate / 1000))
        spans = duck_spans(timeline)
        self._downs = np.array([round(start * rate / 1000) for start, _ in spans], dtype=np.int64)
        self._ups = np.array([round(end * rate / 1000) for _, end in spans], dtype=np.int64)
        # Every ramp has the same shape: its linear gains are worked out once, then sliced per block.
        self._attack_gain = (10 ** (self.gain_db_of_ramp(self.attack, falling=True) / 20)).astype(np.float32)
        self._release_gain = (10 ** (self.gain_db_of_ramp(self.release, falling=False) / 20)).astype(np.float32)
        self._down_gain = np.float32(10 ** (-self.duck_db / 20))

    def gain_db_of_ramp(self, frames: int, falling: bool) -> np.ndarray:
        """A ramp's gains in dB, frame by frame: the attack (falling, ending just before the cue) or the release (after it)."""
        if falling:
            return -self.duck_db * _rise(np.arange(frames) / frames)
        return -self.duck_db * (1.0 - _rise(np.arange(1, frames) / frames))

    def spans_near(self, start: int, count: int) -> tuple[list[int], list[int]]:
        """The (downs, ups) in frames of the spans that shape frames [start, start + count)."""
        first = int(np.searchsorted(self._ups + self.release, start, side="left"))
        last = int(np.searchsorted(self._downs - self.attack, start + count, side="left"))
        return self._downs[first:last].tolist(), self._ups[first:last].tolist()

    def linear(self, start: int, count: int) -> np.ndarray | None:
        """The linear gain (float32) of frames [start, start + count); None when the music is up throughout."""
        first = int(np.searchsorted(self._ups + self.release, start, side="left"))
        last = int(np.searchsorted(self._downs - self.attack, start + count, side="left"))
        if first >= last:
            return None
        gain = np.ones(count, dtype=np.float32)
        for down, up in zip(self._downs[first:last], self._ups[first:last]):
            for begin, table in ((down - self.attack, self._attack_gain), (up + 1, self._release_gain)):
                lo, hi = max(start, begin), min(start + count, begin + table.size)
                if lo < hi:
                    gain[lo - start : hi - start] = table[lo - begin : hi - begin]
            lo, hi = max(start, down), min(start + count, up + 1)
            if lo < hi:
                gain[lo - start : hi - start] = self._down_gain
        return gain

    def gain_db(self, start: int, count: int) -> np.ndarray:
        """The gain in dB of frames [start, start + count)."""
        gain = np.zeros(count, dtype=np.float64)
        first = int(np.searchsorted(self._ups + self.release, start, side="left"))
        last = int(np.searchsorted(self._downs - self.attack, start + count, side="left"))
        for down, up in zip(self._downs[first:last], self._ups[first:last]):
            lo, hi = max(start, down - self.attack), min(start + count, up + self.release)
            gain[lo - start : hi - start] = -self.duck_db
            ramp = np.arange(lo, min(hi, down), dtype=np.int64)  # the attack's frames in this block
            gain[lo - start : lo - start + ramp.size] *= _rise((ramp - (down - self.attack)) / self.attack)
            ramp = np.arange(max(lo, up + 1), hi, dtype=np.int64)  # the release's frames
            gain[hi - start - ramp.size : hi - start] *= 1.0 - _rise((ramp - up) / self.release)
        return gain


def _rise(x: np.ndarray) -> np.ndarray:
    """A raised-cosine step from 0 (x = 0) to 1 (x = 1): no corner at either end, so no click."""
    return 0.5 - 0.5 * np.cos(np.pi * x)


class Bed:
    """The music bed of a session as float32 (frames, channels), ducked under the cues, block by block.

    `track_frames[i]` and `track_gains[i]` are track i's length and the linear gain that brings it to the bed's
    level; `read(i, first, count)` gives `count` frames of track i from `first` at `channels` channels.
    """

    def __init__(
        self,
        timeline: Timeline,
        rate: int,
        channels: int,
        track_frames: Sequence[int],
        track_gains: Sequence[float],
        read: Reader,
        duck_db: float = DUCK_DB,
        identity: str = "",
    ):
        if channels not in (1, 2):
            raise ValueError(f"a bed has 1 or 2 channels, not {channels}")
        if len(track_frames) != len(track_gains):
            raise ValueError("one gain per track")
        self.rate = int(rate)
        self.channels = channels
        self.total_frames = -(-timeline.duration_ms * self.rate // 1000)
        self._gains = [np.float32(g) for g in track_gains]
        self._read = read
        self.placements = arrange(track_frames, self.total_frames, round(CROSSFADE_MS * self.rate / 1000))
        self._starts = np.array([p.start for p in self.placements], dtype=np.int64)
        self._longest = max(p.frames for p in self.placements)
        self.envelope = DuckEnvelope(timeline, self.rate, duck_db)
        self._fade_in = round(FADE_IN_MS * self.rate / 1000)
        self._fade_out = round(FADE_OUT_MS * self.rate / 1000)
        # What the tracks are (their content, as music.load_bed names them): with the rest above, all a frame depends on.
        self._identity = [identity, self.rate, self.channels, list(track_frames), [float(g) for g in track_gains], duck_db, self.total_frames]

    def key(self, start: int, count: int) -> str:
        """A key that changes whenever frames [start, start + count) would (music.load_bed's identity, else '' : not cacheable)."""
        if not self._identity[0]:
            return ""
        downs, ups = self.envelope.spans_near(start, count)
        fields = [self._identity, start, count, downs, ups]
        return hashlib.sha256(json.dumps(fields).encode()).hexdigest()

    def render(self, start: int, count: int) -> np.ndarray:
        """Frames [start, start + count) of the bed as float32 (count, channels); silent outside the session."""
        out = np.zeros((count, self.channels), dtype=np.float32)
        lo, hi = max(start, 0), min(start + count, self.total_frames)
        if hi <= lo:
            return out
        first = int(np.searchsorted(self._starts, lo - self._longest, side="right"))
        last = int(np.searchsorted(self._starts, hi, side="left"))
        for placement in self.placements[first:last]:
            begin, end = max(lo, placement.start), min(hi, placement.start + placement.frames)
            if end <= begin:
                continue
            offset = begin - placement.start
            samples = self._read(placement.track, offset, end - begin)
            samples *= self._gains[placement.track]
            _apply_crossfades(samples, placement, offset)
            out[begin - start : end - start] += samples
        gain = self.envelope.linear(lo, hi - lo)
        if lo < self._fade_in or hi > self.total_frames - self._fade_out:
            fades = self._session_fades(np.arange(lo, hi, dtype=np.int64)).astype(np.float32)
            gain = fades if gain is None else gain * fades
        if gain is not None:
            out[lo - start : hi - start] *= gain[:, None]
        return out

    def _session_fades(self, frames: np.ndarray) -> np.ndarray:
        """Fade in from the session's start and out to its end (raised cosine, silent at both ends)."""
        fade = np.ones(frames.size)
        if self._fade_in:
            fade = np.minimum(fade, _rise(np.clip(frames / self._fade_in, 0.0, 1.0)))
        if self._fade_out:
            left = (self.total_frames - 1 - frames) / self._fade_out
            fade = np.minimum(fade, _rise(np.clip(left, 0.0, 1.0)))
        return fade


def _apply_crossfades(samples: np.ndarray, placement: Placement, offset: int) -> None:
    """Weight a placement's frames [offset, offset + len(samples)) in place: sin^2 in, cos^2 out, so two overlapping ones sum to 1."""
    count = samples.shape[0]
    ins, outs = placement.fade_in, placement.fade_out
    if offset < ins:  # at frame j of a crossfade the incoming weight is sin^2 and the outgoing cos^2 of the same angle
        j = np.arange(offset, min(ins, offset + count), dtype=np.float64)
        samples[: j.size] *= (np.sin(0.5 * np.pi * (j + 0.5) / ins) ** 2).astype(np.float32)[:, None]
    tail = placement.frames - outs
    if outs and offset + count > tail:
        j = np.arange(max(offset, tail), offset + count, dtype=np.float64) - tail
        samples[count - j.size :] *= (np.cos(0.5 * np.pi * (j + 0.5) / outs) ** 2).astype(np.float32)[:, None]
