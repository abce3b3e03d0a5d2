"""The cue script: the flat sequence the compiler produces and the scheduler places in time.

Semantics, with a cursor that starts at 0:
- Chapter(title): a chapter starts at the cursor (and the previous one ends there).
- Speak(text, slot): the cue starts at the cursor; the cursor moves on by max(clip length, slot).
  With overlay=True the cue starts at the cursor and the cursor does not move.
- Pause(seconds, kind): the cursor moves on by `seconds`; `kind` names what the time is for.
- Tone(kind): a short beep at the cursor; the cursor does not move.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from coach.model import NOWHERE, Where

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


@dataclass(frozen=True)
class Tone:
    """A beep at the cursor: 'start' of a timer, 'count' of a countdown, 'end' of a timer."""

    kind: str


Cue = Union[Chapter, Speak, Pause, Tone]
CueScript = tuple[Cue, ...]


def spoken_texts(script: CueScript) -> list[str]:
    """The distinct spoken texts of a script, in first-use order."""
    seen: dict[str, None] = {}
    for item in script:
        if isinstance(item, Speak):
            seen.setdefault(item.text, None)
    return list(seen)
