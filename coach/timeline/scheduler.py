"""Place a cue script on a timeline from the measured length of each spoken clip."""

from __future__ import annotations

import math
from typing import Callable, Mapping

from coach.timeline.cues import Chapter, CueScript, Marker, Pause, Picture, Rep, Round, Side, Speak, Stage, Tone
from coach.timeline.timeline import (
    ChapterSpan, CountSpan, CueEvent, FigureSpan, SideSpan, Span, StageSpan, Stretch, Timeline, ToneEvent,
)


def clip_ms(seconds: float) -> int:
    """A clip's length in whole milliseconds, rounded up so the next cue never starts inside it."""
    return math.ceil(round(seconds * 1000, 6))


class _Structure:
    """The markers in force, each closed into its span when the next of its type, a chapter or the end arrives."""

    def __init__(self) -> None:
        self.open: dict[type, tuple[int, int, Marker]] = {}  # marker type -> (start_ms, chapter, marker)
        self.sides: list[SideSpan] = []
        self.reps: list[CountSpan] = []
        self.rounds: list[CountSpan] = []
        self.stages: list[StageSpan] = []
        self.figures: list[FigureSpan] = []

    def mark(self, marker: Marker, at_ms: int, chapter: int) -> None:
        self.close(type(marker), at_ms)
        self.open[type(marker)] = (at_ms, chapter, marker)

    def close_all(self, at_ms: int) -> None:
        for kind in list(self.open):
            self.close(kind, at_ms)

    def close(self, kind: type, at_ms: int) -> None:
        if kind not in self.open:
            return
        start, chapter, marker = self.open.pop(kind)
        if at_ms <= start:
            return
        if isinstance(marker, Side) and marker.name is not None:
            self.sides.append(SideSpan(start, at_ms, chapter, marker.name))
        elif isinstance(marker, Rep) and marker.rep is not None and marker.reps is not None:
            self.reps.append(CountSpan(start, at_ms, marker.rep, marker.reps))
        elif isinstance(marker, Round) and marker.round is not None and marker.rounds is not None:
            self.rounds.append(CountSpan(start, at_ms, marker.round, marker.rounds))
        elif isinstance(marker, Stage) and marker.kind is not None:
            self.stages.append(StageSpan(start, at_ms, marker.kind))
        elif isinstance(marker, Picture) and marker.figure is not None:
            last = self.figures[-1] if self.figures else None
            if last and last.end_ms == start and (last.figure, last.mirrored, last.chapter) == (marker.figure, marker.mirrored, chapter):
                self.figures[-1] = FigureSpan(last.start_ms, at_ms, chapter, marker.figure, marker.mirrored)  # the same position again
            else:
                self.figures.append(FigureSpan(start, at_ms, chapter, marker.figure, marker.mirrored))


def _pad_points(script: CueScript) -> dict[int, int]:
    """For each chapter after the first: the index of the item a silent pad goes before, mapped to the chapter's index.

    The pad goes before the cue that announces the rest leading into the chapter (or before that rest,
    or before the chapter when there is none): the rest lasts what it says, and its countdown still
    leads straight into the chapter.
    """
    points: dict[int, int] = {}
    for index, item in enumerate(script):
        if not isinstance(item, Chapter) or index == 0:
            continue
        point = index
        back = index - 1
        while back >= 0 and isinstance(script[back], (Tone, Pause)):
            found = script[back]
            if isinstance(found, Pause):
                if found.kind != "rest":
                    break
                point = back
                if not found.continues:
                    break
            back -= 1
        before = script[point - 1] if point < index and point > 0 else None
        if isinstance(before, Speak) and not before.overlay:
            point -= 1  # the rest's announcement
        points[point] = index
    return points


def _advance_ms(item: object, seconds_of: Callable[[str], float]) -> int:
    """How far the cursor moves over a script item."""
    if isinstance(item, Speak) and not item.overlay:
        return max(clip_ms(seconds_of(item.text)), round(item.slot * 1000))
    if isinstance(item, Pause):
        return round(item.seconds * 1000)
    return 0


def schedule(
    script: CueScript,
    clip_seconds: Mapping[str, float],
    title: str = "",
    chapter_grid_ms: int = 0,
    estimate: Callable[[str], float] | None = None,
) -> Timeline:
    """The timeline of `script`, each Speak lasting its clip's measured length (KeyError if one is missing).

    With `chapter_grid_ms`, every chapter starts on a multiple of it: a silence goes before the rest that
    leads into it (see _pad_points, mp3frames.chapter_grid_ms), so an edit in one chapter moves the
    later ones by whole MP3 frames.

    With `estimate`, a text without a measured length lasts what `estimate` says, and the timeline's
    `settled_ms` says how far it is final: up to the first place an estimate could move anything (the
    start of the first cue not measured, or the pad before a chapter whose lead-in holds one). A cue's
    start depends only on what comes before it, so measuring clips in time order only moves it forward.
    """
    script = tuple(script)
    pad_points = _pad_points(script) if chapter_grid_ms > 0 else {}
    settled: int | None = None

    def seconds_of(text: str) -> float:
        if text in clip_seconds or estimate is None:
            return clip_seconds[text]
        return estimate(text)

    def unmeasured(items: tuple[object, ...]) -> bool:
        return any(isinstance(x, Speak) and x.text not in clip_seconds for x in items)

    cursor = 0
    chapter_starts: list[tuple[str, int]] = []
    cues: list[CueEvent] = []
    tones: list[ToneEvent] = []
    spans: list[Span] = []
    stretched: list[Stretch] = []
    structure = _Structure()
    chapter = 0

    for index, item in enumerate(script):
        if index in pad_points:
            lead_in = script[index : pad_points[index]]
            if settled is None and unmeasured(lead_in):
                settled = cursor  # the pad's length depends on a clip still to come
            lead = sum(_advance_ms(x, seconds_of) for x in lead_in)
            cursor += -(cursor + lead) % chapter_grid_ms  # silence that puts the next chapter on the grid
        if isinstance(item, Chapter):
            structure.close_all(cursor)
            chapter_starts.append((item.title, cursor))
            chapter = len(chapter_starts) - 1
        elif isinstance(item, Speak):
            if settled is None and item.text not in clip_seconds:
                settled = cursor
            length = clip_ms(seconds_of(item.text))
            slot = 0 if item.overlay else round(item.slot * 1000)
            slot_end = cursor + max(length, slot) if slot > 0 else 0
            cues.append(CueEvent(cursor, cursor + length, item.text, chapter, item.overlay, slot_end))
            if not item.overlay:
                if length > slot > 0:
                    stretched.append(Stretch(item.where, item.text, slot, length))
                cursor += max(length, slot)
        elif isinstance(item, Pause):
            length = round(item.seconds * 1000)
            if item.kind != "gap" and item.continues and spans and spans[-1].kind == item.kind and spans[-1].end_ms == cursor:
                last = spans.pop()
                spans.append(Span(last.start_ms, cursor + length, item.kind, last.chapter, last.text))
            elif item.kind != "gap":
                spans.append(Span(cursor, cursor + length, item.kind, chapter, item.text))
            cursor += length
        elif isinstance(item, Tone):
            tones.append(ToneEvent(cursor, item.kind))
        elif isinstance(item, (Side, Rep, Round, Stage, Picture)):
            structure.mark(item, cursor, chapter)

    duration = max([cursor] + [cue.end_ms for cue in cues])
    structure.close_all(cursor)
    if not chapter_starts:
        chapter_starts.append((title, 0))
    ends = [start for _title, start in chapter_starts[1:]] + [duration]
    chapters = tuple(ChapterSpan(name, start, end) for (name, start), end in zip(chapter_starts, ends))
    return Timeline(
        title,
        duration,
        chapters,
        tuple(cues),
        tuple(tones),
        tuple(spans),
        tuple(stretched),
        sides=tuple(structure.sides),
        reps=tuple(structure.reps),
        rounds=tuple(structure.rounds),
        stages=tuple(structure.stages),
        figures=tuple(structure.figures),
        settled_ms=settled if estimate is not None else None,
    )
