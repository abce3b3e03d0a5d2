"""What is happening at time t: the one answer the terminal screen and the web player both show.

Pure: reads only the Timeline's own structure (chapters, cues, timed spans, side, rep, round, stage
and figure spans), never the cue texts. `MomentIndex.at` answers one position cheaply (a frame);
`segments` cuts the whole session into pieces within which everything but the position is
constant, by asking `at` at every change point, and `segments_json` is that for a web page.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace
from typing import Generic, Protocol, Sequence, TypeVar

from coach.timeline.timeline import CueEvent, Figure, Timeline, figure_json


class _Timed(Protocol):
    @property
    def start_ms(self) -> int: ...

    @property
    def end_ms(self) -> int: ...


T = TypeVar("T", bound=_Timed)


@dataclass(frozen=True)
class Moment:
    """What is happening at position_ms: what to show in big type, the line, the countdown and what is next."""

    position_ms: int
    chapter: int  # index into Timeline.chapters
    title: str  # the exercise under way; during the rest between exercises, the one coming next
    title_chapter: int  # the chapter `title` names: `chapter`, or the next one during the rest before it
    side: str | None
    activity: str  # "intro", "cue", "breath", "hold", "rest", "switch", "gap", "outro" or "end"
    line: str  # during a hold, the instruction held; else the cue being spoken or the last one begun
    countdown_end_ms: int | None  # end of the hold, rest or switch under way
    rep: int | None
    reps: int | None
    round: int | None
    rounds: int | None
    next_title: str | None  # the next chapter's title; None when the next thing is the end
    next_start_ms: int | None  # when the next chapter (or the end) starts; None at the end
    figure: Figure | None = None  # the position to show (during the rest before an exercise, its first one)
    mirrored: bool = False  # draw the figure mirrored: the other side

    @property
    def countdown_ms(self) -> int | None:
        """Time left in the hold, rest or switch under way."""
        return None if self.countdown_end_ms is None else max(0, self.countdown_end_ms - self.position_ms)

    @property
    def next_in_ms(self) -> int | None:
        """Time until the next chapter (or the end) starts."""
        return None if self.next_start_ms is None else max(0, self.next_start_ms - self.position_ms)


@dataclass(frozen=True)
class Segment:
    """From start_ms to end_ms every field of `moment` but its position stays the same."""

    start_ms: int
    end_ms: int
    moment: Moment


class _Intervals(Generic[T]):
    """Non-overlapping [start_ms, end_ms) items, found by position with a binary search."""

    def __init__(self, items: Sequence[T]):
        self._items = sorted(items, key=lambda item: item.start_ms)
        self._starts = [item.start_ms for item in self._items]

    def at(self, position_ms: int) -> T | None:
        found = bisect.bisect_right(self._starts, position_ms) - 1
        if found >= 0 and position_ms < self._items[found].end_ms:
            return self._items[found]
        return None


class MomentIndex:
    """A timeline indexed once; `at` then answers each position in a few binary searches."""

    def __init__(self, timeline: Timeline):
        self.timeline = timeline
        self._cues = timeline.cues
        self._cue_starts = [cue.start_ms for cue in timeline.cues]
        self._main_cues = [cue for cue in timeline.cues if not cue.overlay]
        self._main_starts = [cue.start_ms for cue in self._main_cues]
        self._spans = _Intervals(timeline.spans)
        self._sides = _Intervals(timeline.sides)
        self._reps = _Intervals(timeline.reps)
        self._rounds = _Intervals(timeline.rounds)
        self._stages = _Intervals(timeline.stages)
        self._figures = _Intervals(timeline.figures)

    def at(self, position_ms: int) -> Moment:
        """What is happening at `position_ms` (clamped to the session)."""
        timeline = self.timeline
        position = max(0, min(position_ms, timeline.duration_ms))
        chapters = timeline.chapters
        chapter = timeline.chapter_at(position)
        cue = _last_begun(self._cues, self._cue_starts, position)
        main = _last_begun(self._main_cues, self._main_starts, position)
        if position >= timeline.duration_ms:
            last_line = main.text if main else ""
            return Moment(position, chapter, chapters[chapter].title, chapter, None, "end", last_line, None,
                          None, None, None, None, None, None)  # fmt: skip

        stage = self._stages.at(position)
        between = stage is not None and stage.kind == "between" and chapter + 1 < len(chapters)
        title_chapter = chapter + 1 if between else chapter
        side = self._sides.at(position)
        span = self._spans.at(position)
        rep = self._reps.at(position)
        round_ = self._rounds.at(position)
        shown = self._figures.at(position)
        speaking = cue if cue is not None and position < cue.end_ms else None

        if span is not None and span.text:
            line = span.text
        elif speaking is not None:
            line = speaking.text
        else:
            line = main.text if main else ""

        if span is not None:
            activity = span.kind
        elif stage is not None and stage.kind in ("intro", "outro"):
            activity = stage.kind
        elif main is not None and position < main.slot_end_ms:
            activity = "breath"
        elif speaking is not None:
            activity = "cue"
        else:
            activity = "gap"

        if chapter + 1 < len(chapters):
            next_title, next_start = chapters[chapter + 1].title, chapters[chapter + 1].start_ms
        else:
            next_title, next_start = None, timeline.duration_ms
        return Moment(
            position_ms=position,
            chapter=chapter,
            title=chapters[title_chapter].title,
            title_chapter=title_chapter,
            side=side.side if side else None,
            activity=activity,
            line=line,
            countdown_end_ms=span.end_ms if span else None,
            rep=rep.number if rep else None,
            reps=rep.total if rep else None,
            round=round_.number if round_ else None,
            rounds=round_.total if round_ else None,
            next_title=next_title,
            next_start_ms=next_start,
            figure=shown.figure if shown else None,
            mirrored=shown.mirrored if shown else False,
        )

    def change_points(self) -> list[int]:
        """Every position where some field of the moment (other than the position) may change, in order."""
        timeline = self.timeline
        points = {0, timeline.duration_ms}
        for cue in timeline.cues:
            points.update((cue.start_ms, cue.end_ms))
            if cue.slot_end_ms:
                points.add(cue.slot_end_ms)
        groups = (timeline.chapters, timeline.spans, timeline.sides, timeline.reps, timeline.rounds, timeline.stages, timeline.figures)
        for group in groups:
            for item in group:
                points.update((item.start_ms, item.end_ms))
        return sorted(point for point in points if 0 <= point <= timeline.duration_ms)


def _last_begun(cues: Sequence[CueEvent], starts: Sequence[int], position: int) -> CueEvent | None:
    found = bisect.bisect_right(starts, position) - 1
    return cues[found] if found >= 0 else None


def segments(timeline: Timeline) -> tuple[Segment, ...]:
    """The session cut where anything but the position changes; the last, empty one is the end."""
    index = MomentIndex(timeline)
    points = index.change_points()
    found: list[Segment] = []
    for start, end in zip(points, points[1:]):
        moment = index.at(start)
        if found and replace(found[-1].moment, position_ms=start) == moment:
            found[-1] = Segment(found[-1].start_ms, end, found[-1].moment)
        else:
            found.append(Segment(start, end, moment))
    found.append(Segment(timeline.duration_ms, timeline.duration_ms, index.at(timeline.duration_ms)))
    return tuple(found)


def segments_json(timeline: Timeline) -> dict:
    """The segments as a JSON-ready dict (times in seconds, 3 decimals): a page looks its values up by time."""

    def s(ms: int | None) -> float | None:
        return None if ms is None else round(ms / 1000, 3)

    return {
        "title": timeline.title,
        "duration": s(timeline.duration_ms),
        "chapters": [{"title": c.title, "start": s(c.start_ms), "end": s(c.end_ms)} for c in timeline.chapters],
        "segments": [
            {
                "start": s(segment.start_ms),
                "end": s(segment.end_ms),
                "chapter": segment.moment.chapter,
                "title": segment.moment.title,
                "title_chapter": segment.moment.title_chapter,
                "side": segment.moment.side,
                "activity": segment.moment.activity,
                "line": segment.moment.line,
                "countdown_end": s(segment.moment.countdown_end_ms),
                "rep": segment.moment.rep,
                "reps": segment.moment.reps,
                "round": segment.moment.round,
                "rounds": segment.moment.rounds,
                "next_title": segment.moment.next_title,
                "next_start": s(segment.moment.next_start_ms),
                "figure": figure_json(segment.moment.figure),
                "mirrored": segment.moment.mirrored,
            }
            for segment in segments(timeline)
        ],
    }
