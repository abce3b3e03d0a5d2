"""The real-time engine of a live session: an audio clock counted in frames, transport controls, cue events.

The audio device's thread calls `Player.pull(frames)` each time it needs a block; that block is
mixed on demand, so sound starts at once and nothing is mixed ahead. The position is the number
of program frames handed to the device, so time comes from the audio clock and cannot drift
against what is heard. Controls (pause, skip, back, seek) come from another thread; a lock keeps
the two consistent. Nothing here sleeps, prints or touches the terminal.
"""

from __future__ import annotations

import bisect
import queue
import threading
from dataclasses import dataclass
from typing import Generator, Protocol, Union

import numpy as np

from coach.audio.mixer import frame_at
from coach.timeline.timeline import CueEvent, Timeline

# `b` pressed within this long after a chapter starts goes to the previous chapter instead.
BACK_GRACE_MS = 3000


class BlockSource(Protocol):
    """What the player needs from the mixer: its rate, its length, how much of it can be mixed yet, any block of the
    mix on demand, and the timeline it mixes (which grows while clips are still being synthesized)."""

    sample_rate: int
    total_frames: int
    ready_frames: int
    channels: int
    timeline: Timeline

    def render(self, start_frame: int, count: int) -> np.ndarray:
        """`count` float32 frames of the mix from `start_frame`: (count,) mono, or (count, channels)."""


@dataclass(frozen=True)
class CueStarted:
    """A cue's first frame was handed to the device; `clock_frame` is the audio clock at that frame."""

    index: int  # into Timeline.cues
    cue: CueEvent
    clock_frame: int
    late_frames: int = 0  # how much later than planned it starts: silence played while its speech was synthesized


@dataclass(frozen=True)
class SessionEnded:
    """The last frame of the plan was handed to the device."""

    clock_frame: int


PlayerEvent = Union[CueStarted, SessionEnded]


@dataclass(frozen=True)
class PlayerState:
    """A consistent snapshot of the player for a screen."""

    position_ms: int
    paused: bool
    ended: bool


def frames_to_ms(frames: int, sample_rate: int) -> int:
    """The last millisecond whose frame (mixer.frame_at) is at or before `frames`: the inverse of frame_at.

    So a seek to a chapter start reads back as exactly that start, never a millisecond before it
    (which would put the position in the previous chapter).
    """
    ms = (2 * frames + 1) * 1000 // (2 * sample_rate)
    while frame_at(ms + 1, sample_rate) <= frames:
        ms += 1
    while ms > 0 and frame_at(ms, sample_rate) > frames:
        ms -= 1
    return ms


class Player:
    """Plays a timeline through a block source, driven by the device pulling blocks.

    While the source's timeline grows (a session that started before all its speech was synthesized), the
    player mixes only what is settled; should it catch up, it plays silence and counts it as lateness.
    """

    def __init__(self, timeline: Timeline, mixer: BlockSource, start_ms: int = 0, tail_frames: int = 0):
        self.sample_rate = int(mixer.sample_rate)
        # Silence handed to the device after the end, so its buffer plays out before the session is done.
        self.tail_frames = tail_frames
        self.channels = int(getattr(mixer, "channels", 1))
        self._mixer = mixer
        # Re-entrant: a signal handler on the main thread (Ctrl-Z pauses) may run while that thread holds it.
        self._lock = threading.RLock()
        self._events: queue.SimpleQueue[PlayerEvent] = queue.SimpleQueue()
        self._frame = 0
        self._clock = 0
        self._next_cue = 0
        self._paused = False
        self._ended = False
        self._silence_after_end = 0
        self._late = 0  # frames of silence played because the speech was not synthesized yet
        self._pending_chapter: int | None = None  # skipped to a chapter whose start is not settled yet
        self.failure: BaseException | None = None
        self._follow(timeline)
        self._seek_locked(start_ms)

    # The audio side -----------------------------------------------------------------------------

    def pull(self, frames: int) -> np.ndarray:
        """The next `frames` float32 frames for the device ((frames, channels) with stereo music); silence while paused or after the end."""
        block = self._silence(frames)
        with self._lock:
            self._follow_source_locked()
            if self._paused or self._ended or self._pending_chapter is not None:
                if self._ended:
                    self._silence_after_end += frames
                self._clock += frames
                return block
            count = max(0, min(frames, self._ready_frames() - self._frame))
            if count > 0:
                block[:count] = self._mixer.render(self._frame, count)
            self._announce_cues_before(self._frame + count)
            self._frame += count
            self._clock += frames
            if self._frame >= self.total_frames and self.timeline.complete:
                self._ended = True
                self._silence_after_end = frames - count
                self._events.put(SessionEnded(self._clock - (frames - count)))
            elif count < frames:
                self._late += frames - count  # waiting for speech still being synthesized
        return block

    def feed(self) -> Generator[np.ndarray, int, None]:
        """A started generator for miniaudio's PlaybackDevice: sent a frame count, yields that many frames."""

        def generate() -> Generator[np.ndarray, int, None]:
            frames = yield self._silence(0)
            while True:
                try:
                    block = self.pull(frames)
                except Exception as error:  # noqa: BLE001 - an error in the audio thread must reach the main thread
                    self.failure = error
                    with self._lock:
                        self._ended = True
                        self._silence_after_end = self.tail_frames
                    block = self._silence(frames)
                frames = yield block

        generator = generate()
        next(generator)
        return generator

    def _silence(self, frames: int) -> np.ndarray:
        return np.zeros(frames if self.channels == 1 else (frames, self.channels), dtype=np.float32)

    # The control side ---------------------------------------------------------------------------

    def pause(self) -> None:
        """Stop the program where it is; the device gets silence until resume()."""
        with self._lock:
            self._paused = True

    def resume(self) -> None:
        """Continue from where pause() stopped."""
        with self._lock:
            self._paused = False

    def toggle_pause(self) -> None:
        """Pause if playing, resume if paused."""
        with self._lock:
            self._paused = not self._paused

    def skip(self) -> None:
        """Go to the start of the next chapter (from the last chapter: to the end).

        A chapter whose start is not settled yet (its speech, or speech before it, still being synthesized) is
        gone to once it is: silence until then.
        """
        with self._lock:
            if self._ended:
                return
            self._follow_source_locked()
            chapters = self.timeline.chapters
            current = self._pending_chapter
            index = self.timeline.chapter_at(self._position_ms_locked()) if current is None else current
            if index + 1 < len(chapters) and not self._settled_locked(chapters[index + 1].start_ms):
                self._pending_chapter = index + 1
                return
            if index + 1 >= len(chapters) and not self.timeline.complete:
                self._pending_chapter = len(chapters)  # the end, once it is known
                return
            target = chapters[index + 1].start_ms if index + 1 < len(chapters) else self.timeline.duration_ms
            self._seek_locked(target)

    def back(self) -> None:
        """Restart the current chapter; within BACK_GRACE_MS of its start, go to the previous one."""
        with self._lock:
            if self._ended:
                return
            self._pending_chapter = None
            chapters = self.timeline.chapters
            position = self._position_ms_locked()
            index = self.timeline.chapter_at(position)
            if position - chapters[index].start_ms < BACK_GRACE_MS and index > 0:
                index -= 1
            self._seek_locked(chapters[index].start_ms)

    def seek(self, ms: int) -> None:
        """Jump to `ms` into the plan (clamped to the plan, and to what is settled of it; at its end the session ends)."""
        with self._lock:
            if self._ended:
                return
            self._pending_chapter = None  # the latest move wins over a skip still waiting for its chapter
            self._seek_locked(ms)

    def close(self) -> None:
        """Release what the source holds (a music decoder still running); the player plays nothing after."""
        with self._lock:
            self._ended = True
            self._silence_after_end = self.tail_frames
        close = getattr(self._mixer, "close", None)
        if close is not None:
            close()

    # What screens and loops read ------------------------------------------------------------------

    @property
    def timeline(self) -> Timeline:
        """The timeline playing: the source's latest (it grows while speech is still being synthesized)."""
        return self._timeline

    @property
    def late_ms(self) -> int:
        """How much later than planned the session runs: silence played while waiting for speech."""
        return self._late * 1000 // self.sample_rate

    @property
    def position_ms(self) -> int:
        """Where the program is, in milliseconds of the plan."""
        with self._lock:
            return self._position_ms_locked()

    @property
    def position_frames(self) -> int:
        """Where the program is, in frames of the plan."""
        return self._frame

    @property
    def clock_frames(self) -> int:
        """Every frame handed to the device so far, silence included: the audio clock."""
        return self._clock

    @property
    def paused(self) -> bool:
        """Whether the program is paused."""
        return self._paused

    @property
    def ended(self) -> bool:
        """Whether the last frame of the plan has been handed to the device."""
        return self._ended

    @property
    def done(self) -> bool:
        """Ended, and the tail of silence has gone to the device too: the session can close."""
        with self._lock:
            return self._ended and self._silence_after_end >= self.tail_frames

    def state(self) -> PlayerState:
        """Position, pause and end read together."""
        with self._lock:
            return PlayerState(self._position_ms_locked(), self._paused, self._ended)

    def next_event(self, timeout: float | None = None) -> PlayerEvent | None:
        """The next cue or end event, waiting up to `timeout` seconds (None: forever); None if none came."""
        try:
            return self._events.get(timeout=timeout) if timeout != 0 else self._events.get_nowait()
        except queue.Empty:
            return None

    def pending_events(self) -> list[PlayerEvent]:
        """Every event already waiting, without blocking."""
        found = []
        while True:
            event = self.next_event(0)
            if event is None:
                return found
            found.append(event)

    # Inside the lock ------------------------------------------------------------------------------

    def _follow(self, timeline: Timeline) -> None:
        """Take `timeline` as the one playing: its cue order and length."""
        self._timeline = timeline
        self.total_frames = int(self._mixer.total_frames)
        self._cue_order = sorted(range(len(timeline.cues)), key=lambda i: timeline.cues[i].start_ms)
        self._cue_frames = [frame_at(timeline.cues[i].start_ms, self.sample_rate) for i in self._cue_order]
        # What starts here or later is still to come; a settled prefix never moves, so nothing is announced twice.
        self._next_cue = bisect.bisect_left(self._cue_frames, self._frame)

    def _follow_source_locked(self) -> None:
        """Follow the source's timeline if it grew, and go to a skipped-to chapter once its start is settled."""
        timeline = getattr(self._mixer, "timeline", self._timeline)
        if timeline is not self._timeline:
            self._follow(timeline)
        pending = self._pending_chapter
        if pending is None:
            return
        chapters = self._timeline.chapters
        target = chapters[pending].start_ms if pending < len(chapters) else self._timeline.duration_ms
        if self._settled_locked(target) if pending < len(chapters) else self._timeline.complete:
            self._pending_chapter = None
            self._seek_locked(target)

    def _settled_locked(self, ms: int) -> bool:
        """Whether the session can be mixed from `ms` on now."""
        return self._timeline.complete or frame_at(ms, self.sample_rate) < self._ready_frames()

    def _ready_frames(self) -> int:
        """How far the source can mix now (a source that does not grow: all of it)."""
        return min(int(getattr(self._mixer, "ready_frames", self.total_frames)), self.total_frames)

    def _position_ms_locked(self) -> int:
        return min(frames_to_ms(self._frame, self.sample_rate), self.timeline.duration_ms)

    def _seek_locked(self, ms: int) -> None:
        ms = max(0, min(int(ms), self.timeline.duration_ms))
        if not self._timeline.complete:  # no further than what is settled: the rest may still move
            ms = min(ms, self._timeline.settled_ms or 0)
        self._frame = min(frame_at(ms, self.sample_rate), self.total_frames)
        # A cue that starts exactly here is still to come; one already under way is not announced.
        self._next_cue = bisect.bisect_left(self._cue_frames, self._frame)
        if self._frame >= self.total_frames and self._timeline.complete:
            self._ended = True
            self._silence_after_end = 0
            self._events.put(SessionEnded(self._clock))

    def _announce_cues_before(self, end_frame: int) -> None:
        """Queue a CueStarted for every cue starting before `end_frame`, with its exact clock frame."""
        while self._next_cue < len(self._cue_frames) and self._cue_frames[self._next_cue] < end_frame:
            index = self._cue_order[self._next_cue]
            clock = self._clock + (self._cue_frames[self._next_cue] - self._frame)
            self._events.put(CueStarted(index, self._timeline.cues[index], clock, self._late))
            self._next_cue += 1

