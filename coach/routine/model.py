"""The typed, frozen model of a routine file (format version 1), as the loader builds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping, Union


@dataclass(frozen=True)
class Where:
    """A position in a routine file (1-based line and column) for warnings after loading."""

    path: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


NOWHERE = Where("<generated>", 0, 0)


@dataclass(frozen=True)
class Range:
    """A range the text gives ("30-60s", "5-10"): a level picks the point in it (coach.routine.levels)."""

    low: float
    high: float


# On a step, an exercise or the pace: (field name, range) for each field whose number a level picks.
Ranges = tuple[tuple[str, Range], ...]


@dataclass(frozen=True)
class Figure:
    """The picture of a position: a pose of the library (coach.figure.POSES), joint angles set over it (over a
    standing figure when there is no pose), or the user's own image (a path relative to the routine file).

    A figure shows the left side; on the right side it is drawn mirrored (see coach.timeline.compiler)."""

    pose: str | None = None
    angles: tuple[tuple[str, str, float], ...] = ()  # (joint, degree of freedom, degrees), in file order
    image: str | None = None
    where: Where = NOWHERE


@dataclass(frozen=True)
class Say:
    """Speak a line."""

    text: str
    where: Where = NOWHERE
    figure: Figure | None = None  # this step's own position, from its start on


@dataclass(frozen=True)
class Hold:
    """Speak an optional line, then time `seconds` of holding (the timer starts after the cue)."""

    seconds: float
    text: str | None = None
    where: Where = NOWHERE
    ranges: Ranges = ()
    figure: Figure | None = None  # this step's own position, from its start on


@dataclass(frozen=True)
class Breath:
    """One inhale or exhale slot: the cue is spoken and the slot lasts at least `seconds` (pace.breath if None)."""

    phase: str  # "in" or "out"
    text: str
    seconds: float | None = None
    where: Where = NOWHERE
    ranges: Ranges = ()
    figure: Figure | None = None  # this step's own position, from its start on


@dataclass(frozen=True)
class Breathe:
    """`count` slow breaths with generated in/out cues."""

    count: int
    where: Where = NOWHERE
    ranges: Ranges = ()
    figure: Figure | None = None  # this step's own position, from its start on


@dataclass(frozen=True)
class Rest:
    """A pause inside an exercise, spoken like a hold: an optional line, then `seconds` of rest."""

    seconds: float
    text: str | None = None
    where: Where = NOWHERE
    ranges: Ranges = ()
    figure: Figure | None = None  # this step's own position, from its start on


@dataclass(frozen=True)
class Repeat:
    """A block of steps repeated `count` times; `count_aloud` speaks the repetition number."""

    count: int
    steps: tuple["Step", ...]
    count_aloud: bool = False
    where: Where = NOWHERE
    ranges: Ranges = ()
    figure: Figure | None = None  # this step's own position, from its start on


Step = Union[Say, Hold, Breath, Breathe, Rest, Repeat]


# The speech engines a routine may name (`voice.engine`); coach.speech.engine starts them.
SPEECH_ENGINES = ("espeak", "hibari", "piper", "pyttsx3")


@dataclass(frozen=True)
class Voice:
    """Speech voice settings; None means the default (engine: the platform's; name and rate: the engine's)."""

    name: str | None = None
    rate: int | None = None
    name_where: Where = NOWHERE  # where `voice.name` is written, for the check against the engine's voices
    engine: str | None = None


@dataclass(frozen=True)
class Pace:
    """Routine-wide timing defaults, in seconds."""

    breath: float = 4.0
    rest: float = 15.0
    switch: float = 5.0
    countdown: int = 3
    halfway: float | None = 30.0  # None = never say "Halfway"
    level: float | None = None  # the routine's default level (0 easy .. 1 deep); None: standard
    ranges: Ranges = ()


@dataclass(frozen=True)
class Exercise:
    """One exercise: optional setup, then its steps once per side and per round."""

    name: str
    steps: tuple[Step, ...]
    note: str | None = None
    say_note: bool = False
    setup: str | None = None
    sides: tuple[str, ...] = ()
    rounds: int = 1
    rest: float | None = None  # overrides pace.rest after this exercise
    where: Where = NOWHERE
    side_where: tuple[Where, ...] = ()  # where each of `sides` is written
    ranges: Ranges = ()
    figure: Figure | None = None  # the exercise's position (its steps may have their own)


@dataclass(frozen=True)
class Music:
    """Music under the session: a file, or a folder played in name order; its path is relative to the routine file.

    `level` (LUFS between cues) and `duck` (dB lower under every cue) are None for coach's defaults.
    """

    path: str
    level: float | None = None
    duck: float | None = None
    shuffle: bool = False
    where: Where = NOWHERE


def _frozen_mapping(items: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return MappingProxyType(dict(items or {}))


@dataclass(frozen=True)
class Routine:
    """A whole routine script."""

    title: str
    exercises: tuple[Exercise, ...]
    about: str | None = None
    credit: str | None = None
    voice: Voice = Voice()
    pace: Pace = Pace()
    phrases: Mapping[str, str] = field(default_factory=_frozen_mapping)
    pronounce: Mapping[str, str] = field(default_factory=_frozen_mapping)  # written -> spoken, for speech only
    side_names: tuple[str, ...] = ()  # side labels the routine uses besides the known ones
    source: str = "<routine>"
    level: float | None = None  # the level its ranges were picked at; None when it has no ranges
    frequency: Range | None = None  # how many sessions a week the text advises (`frequency: 1-3/week`)
    music: Music | None = None


def routine_figures(routine: Routine):
    """Every figure a routine gives (its exercises' and their steps', repeats' included), in file order."""

    def of_steps(steps):
        for step in steps:
            if step.figure is not None:
                yield step.figure
            if isinstance(step, Repeat):
                yield from of_steps(step.steps)

    for exercise in routine.exercises:
        if exercise.figure is not None:
            yield exercise.figure
        yield from of_steps(exercise.steps)


def exercise_figures(exercise: Exercise) -> list[Figure]:
    """The distinct positions of one exercise (its own figure, then its steps'), in file order."""
    found: list[Figure] = []

    def add(figure: Figure | None) -> None:
        if figure is not None and all((f.pose, f.angles, f.image) != (figure.pose, figure.angles, figure.image) for f in found):
            found.append(figure)

    def of_steps(steps):
        for step in steps:
            add(step.figure)
            if isinstance(step, Repeat):
                of_steps(step.steps)

    add(exercise.figure)
    of_steps(exercise.steps)
    return found
