"""Place a cue script on a timeline from the measured length of each spoken clip."""

from __future__ import annotations

import math
from typing import Mapping

from coach.cues import Chapter, CueScript, Pause, Speak, Tone
from coach.timeline import ChapterSpan, CueEvent, Span, Stretch, Timeline, ToneEvent


def clip_ms(seconds: float) -> int:
    """A clip's length in whole milliseconds, rounded up so the next cue never starts inside it."""
    return math.ceil(round(seconds * 1000, 6))


def schedule(script: CueScript, clip_seconds: Mapping[str, float], title: str = "") -> Timeline:
    """The timeline of `script`, each Speak lasting its clip's measured length (KeyError if one is missing)."""
    cursor = 0
    chapter_starts: list[tuple[str, int]] = []
    cues: list[CueEvent] = []
    tones: list[ToneEvent] = []
    spans: list[Span] = []
    stretched: list[Stretch] = []
    chapter = 0

    for item in script:
        if isinstance(item, Chapter):
            chapter_starts.append((item.title, cursor))
            chapter = len(chapter_starts) - 1
        elif isinstance(item, Speak):
            length = clip_ms(clip_seconds[item.text])
            cues.append(CueEvent(cursor, cursor + length, item.text, chapter, item.overlay))
            if not item.overlay:
                slot = round(item.slot * 1000)
                if length > slot > 0:
                    stretched.append(Stretch(item.where, item.text, slot, length))
                cursor += max(length, slot)
        elif isinstance(item, Pause):
            length = round(item.seconds * 1000)
            if item.kind != "gap" and spans and spans[-1].kind == item.kind and spans[-1].end_ms == cursor:
                last = spans.pop()
                spans.append(Span(last.start_ms, cursor + length, item.kind, last.chapter))
            elif item.kind != "gap":
                spans.append(Span(cursor, cursor + length, item.kind, chapter))
            cursor += length
        elif isinstance(item, Tone):
            tones.append(ToneEvent(cursor, item.kind))

    duration = max([cursor] + [cue.end_ms for cue in cues])
    if not chapter_starts:
        chapter_starts.append((title, 0))
    ends = [start for _title, start in chapter_starts[1:]] + [duration]
    chapters = tuple(ChapterSpan(name, start, end) for (name, start), end in zip(chapter_starts, ends))
    return Timeline(title, duration, chapters, tuple(cues), tuple(tones), tuple(spans), tuple(stretched))
