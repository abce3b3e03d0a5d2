"""The cue script: the flat sequence the compiler produces and the scheduler places in time.

Semantics, with a cursor that starts at 0:
- Chapter(title): a chapter starts at the cursor (and the previous one ends there).
- Speak(text, slot): the cue starts at the cursor; the cursor moves on by max(clip length, slot).
  With overlay=True the cue starts at the cursor and the cursor does not move.
- Pause(seconds, kind): the cursor moves on by `seconds`; `kind` names what the time is for.
- Tone(kind): a short beep at the cursor; the cursor does not move.

Structure, for whatever shows the session (no sound, no time; each holds from the cursor until the
next item of its own type, or the next Chapter):
- Side(name): the side being worked (None: no side).
- Rep(rep, reps): the repetition under way (None: not repeating).
- Round(round, rounds): the round under way (None: the exercise has one round).
- Stage(kind): 'intro', 'between' (the rest before the next exercise: getting ready for it) or
  'outro'; None: the exercise's own steps.
- Picture(figure, mirrored): the position shown (None: none), drawn mirrored for the other side.
A Pause carries what its time is for (`text`: a hold's instruction) and whether it `continues` the
timed span of the Pause before it (a timer cut by its halfway cue and countdown beeps).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from coach.routine.model import NOWHERE, Figure, Where

PAUSE_KINDS = ("gap", "hold", "rest", "switch", "breath")
TONE_KINDS = ("start", "count", "end")


@dataclass(frozen=True)
class Chapter:
    """Start of a chapter (one per exercise, plus intro/outro handling by the compiler)."""

    title: str


@dataclass(frozen=True)
class Speak:
    """A spoken cue; `slot` is the least time it occupies (breath slots), `overlay` speaks over time."""

    text: str
    slot: float = 0.0
    overlay: bool = False
    where: Where = NOWHERE


@dataclass(frozen=True)
class Pause:
    """Time passing with no new cue: a hold, a rest, a side switch, a breath remainder or a gap."""

    seconds: float
    kind: str = "gap"
    text: str = ""
    continues: bool = False


@dataclass(frozen=True)
class Tone:
    """A beep at the cursor: 'start' of a timer, 'count' of a countdown, 'end' of a timer."""

    kind: str


@dataclass(frozen=True)
class Side:
    """The side worked from the cursor on; None once the exercise's sides are done."""

    name: str | None


@dataclass(frozen=True)
class Rep:
    """The repetition under way from the cursor on: `rep` of `reps`; None once the repeat is done."""

    rep: int | None
    reps: int | None


@dataclass(frozen=True)
class Round:
    """The round under way from the cursor on: `round` of `rounds`; None once the rounds are done."""

    round: int | None
    rounds: int | None


STAGE_KINDS = ("intro", "between", "outro")


@dataclass(frozen=True)
class Stage:
    """The session's stage from the cursor on: one of STAGE_KINDS, or None for an exercise's own steps."""

    kind: str | None


@dataclass(frozen=True)
class Picture:
    """The position shown from the cursor on (None: no picture); `mirrored` draws it for the other side."""

    figure: Figure | None
    mirrored: bool = False


Marker = Union[Side, Rep, Round, Stage, Picture]
Cue = Union[Chapter, Speak, Pause, Tone, Side, Rep, Round, Stage, Picture]
CueScript = tuple[Cue, ...]


def spoken_texts(script: CueScript) -> list[str]:
    """The distinct spoken texts of a script, in first-use order."""
    seen: dict[str, None] = {}
    for item in script:
        if isinstance(item, Speak):
            seen.setdefault(item.text, None)
    return list(seen)
