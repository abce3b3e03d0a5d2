"""The timeline: every cue, tone, timed span and chapter at an absolute time in integer milliseconds."""

from __future__ import annotations

from dataclasses import dataclass

from coach.routine.model import Figure, Where


@dataclass(frozen=True)
class CueEvent:
    """A spoken cue from start_ms to end_ms (end = start + clip length)."""

    start_ms: int
    end_ms: int
    text: str
    chapter: int  # index into Timeline.chapters
    overlay: bool = False
    slot_end_ms: int = 0  # a breath cue: when its slot ends (at or after end_ms); 0: the cue has no slot


@dataclass(frozen=True)
class ToneEvent:
    """A beep starting at start_ms."""

    start_ms: int
    kind: str  # "start" | "count" | "end"


@dataclass(frozen=True)
class Span:
    """A timed stretch with no new cue (hold, rest, switch): what a screen counts down."""

    start_ms: int
    end_ms: int
    kind: str
    chapter: int
    text: str = ""  # what the time is for: a hold's instruction ("" when nothing more than the kind)


@dataclass(frozen=True)
class SideSpan:
    """One side of an exercise, from the cue that announces it to the end of its last step."""

    start_ms: int
    end_ms: int
    chapter: int
    side: str


@dataclass(frozen=True)
class CountSpan:
    """Repetition or round `number` of `total`, from its first cue to the start of the next."""

    start_ms: int
    end_ms: int
    number: int
    total: int


@dataclass(frozen=True)
class StageSpan:
    """A stage outside the exercises' own steps: 'intro', 'between' (getting ready for the next chapter), 'outro'."""

    start_ms: int
    end_ms: int
    kind: str


@dataclass(frozen=True)
class FigureSpan:
    """The position shown from start_ms to end_ms: a figure of the routine, mirrored on the other side."""

    start_ms: int
    end_ms: int
    chapter: int
    figure: Figure
    mirrored: bool = False


def figure_json(figure: Figure | None) -> str | dict | None:
    """A figure for a page or a plan: its pose name; {"pose", "angles"} when angles are set; {"image"} for a picture."""
    if figure is None:
        return None
    if figure.image is not None:
        return {"image": figure.image}
    if not figure.angles:
        return figure.pose
    angles: dict[str, dict[str, float]] = {}
    for joint, dof, value in figure.angles:
        angles.setdefault(joint, {})[dof] = value
    return {"pose": figure.pose, "angles": angles}


@dataclass(frozen=True)
class ChapterSpan:
    """A chapter: one exercise (or the intro/outro) from start_ms to end_ms."""

    title: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Stretch:
    """A cue longer than its slot: the slot was stretched from slot_ms to needed_ms."""

    where: Where
    text: str
    slot_ms: int
    needed_ms: int


@dataclass(frozen=True)
class Timeline:
    """The session: everything placed. Exact, unless `settled_ms` is set: then some clips are not measured yet, and
    only what starts before `settled_ms` is final (later cues sit where estimated lengths put them)."""

    title: str
    duration_ms: int
    chapters: tuple[ChapterSpan, ...]
    cues: tuple[CueEvent, ...]
    tones: tuple[ToneEvent, ...]
    spans: tuple[Span, ...]
    stretched: tuple[Stretch, ...] = ()
    sides: tuple[SideSpan, ...] = ()
    reps: tuple[CountSpan, ...] = ()
    rounds: tuple[CountSpan, ...] = ()
    stages: tuple[StageSpan, ...] = ()
    figures: tuple[FigureSpan, ...] = ()
    settled_ms: int | None = None  # None: every clip is measured, the whole timeline is final

    @property
    def complete(self) -> bool:
        """Whether every clip is measured, so nothing in the timeline can move any more."""
        return self.settled_ms is None

    def chapter_at(self, ms: int) -> int:
        """Index of the chapter playing at `ms` (the last one at or after the end)."""
        for index, chapter in enumerate(self.chapters):
            if ms < chapter.end_ms:
                return index
        return len(self.chapters) - 1

    def to_json(self) -> dict:
        """The plan as a JSON-ready dict (times in seconds, 3 decimals)."""

        def s(ms: int) -> float:
            return round(ms / 1000, 3)

        return {
            "title": self.title,
            "duration": s(self.duration_ms),
            "chapters": [{"title": c.title, "start": s(c.start_ms), "end": s(c.end_ms)} for c in self.chapters],
            "cues": [
                {"start": s(c.start_ms), "end": s(c.end_ms), "text": c.text, "chapter": self.chapters[c.chapter].title}
                for c in self.cues
            ],
            "tones": [{"start": s(t.start_ms), "kind": t.kind} for t in self.tones],
            "spans": [
                {
                    "start": s(p.start_ms),
                    "end": s(p.end_ms),
                    "kind": p.kind,
                    "chapter": self.chapters[p.chapter].title,
                    "text": p.text,
                }
                for p in self.spans
            ],
            "sides": [
                {"start": s(p.start_ms), "end": s(p.end_ms), "side": p.side, "chapter": self.chapters[p.chapter].title}
                for p in self.sides
            ],
            "reps": [{"start": s(p.start_ms), "end": s(p.end_ms), "rep": p.number, "reps": p.total} for p in self.reps],
            "rounds": [
                {"start": s(p.start_ms), "end": s(p.end_ms), "round": p.number, "rounds": p.total} for p in self.rounds
            ],
            "stages": [{"start": s(p.start_ms), "end": s(p.end_ms), "kind": p.kind} for p in self.stages],
            "figures": [
                {"start": s(p.start_ms), "end": s(p.end_ms), "figure": figure_json(p.figure), "mirrored": p.mirrored}
                for p in self.figures
            ],
            "warnings": [
                f"{w.where}: warning: cue takes {w.needed_ms / 1000:.2f}s, longer than its {w.slot_ms / 1000:.2f}s slot: {w.text!r}"
                for w in self.stretched
            ],
        }
