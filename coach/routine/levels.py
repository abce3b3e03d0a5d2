"""A level picks the point in every range of a routine: 0 is the low end (easy), 1 the high end (deep).

Picked values are what a person would say: whole repetitions and breaths, whole seconds, and steps of
five seconds in a duration of 20 seconds or more whose range is at least ten seconds wide. The ends of a
range are exact at levels 0 and 1, and no level picks a value outside its range.
"""

from __future__ import annotations

import math
from dataclasses import fields, replace

from coach.routine.model import Exercise, Range, Repeat, Routine, Step

NAMED_LEVELS = {"easy": 0.0, "standard": 0.5, "deep": 1.0}
STANDARD = NAMED_LEVELS["standard"]
LEVEL_USAGE = "use easy, standard, deep or a number from 0 to 1"
# Fields that count (repetitions, breaths, rounds); every other ranged field is a duration in seconds.
_COUNTS = frozenset({"count", "rounds"})
_ROUND_TO_FIVE_FROM = 20.0  # seconds
_ROUND_TO_FIVE_WIDTH = 10.0  # seconds


def parse_level(text: str) -> float:
    """The level a word or number names; raises ValueError (LEVEL_USAGE) otherwise."""
    word = text.strip().casefold()
    if word in NAMED_LEVELS:
        return NAMED_LEVELS[word]
    try:
        value = float(word)
    except ValueError:
        raise ValueError(f"unknown level {text.strip()[:40]!r} ({LEVEL_USAGE})") from None
    if not 0.0 <= value <= 1.0:  # NaN fails this too
        raise ValueError(f"level {text.strip()[:40]!r} is outside 0 to 1 ({LEVEL_USAGE})")
    return value


def level_name(level: float) -> str:
    """How a level is written: 'easy', 'standard', 'deep', else 'level 0.3'."""
    for name, value in NAMED_LEVELS.items():
        if level == value:
            return name
    return f"level {level:g}"


def level_slug(level: float) -> str:
    """A level for a file name: 'easy', 'deep', 'level-0.3'."""
    return level_name(level).replace(" ", "-")


def pick(span: Range, level: float, count: bool) -> float:
    """The value `level` picks in a range, rounded as a person says it (a count to a whole number)."""
    if level <= 0.0:
        return span.low
    if level >= 1.0:
        return span.high
    exact = span.low + level * (span.high - span.low)
    step = 1.0
    if not count and exact >= _ROUND_TO_FIVE_FROM and span.high - span.low >= _ROUND_TO_FIVE_WIDTH:
        step = 5.0
    rounded = math.floor(exact / step + 0.5) * step  # half up: 7.5 repetitions are 8, as most people count
    return min(span.high, max(span.low, rounded))


def has_ranges(routine: Routine) -> bool:
    """Whether any count or duration of the routine is a range."""
    return bool(routine.pace.ranges) or any(_exercise_has_ranges(exercise) for exercise in routine.exercises)


def at_level(routine: Routine, level: float) -> Routine:
    """The routine with every range's value picked at `level` (and the level noted when it has ranges)."""
    exercises = tuple(_exercise_at(exercise, level) for exercise in routine.exercises)
    picked = replace(routine, pace=_picked(routine.pace, level), exercises=exercises)
    return replace(picked, level=level if has_ranges(routine) else None)


def default_level(routine: Routine) -> float:
    """The level a routine plays at unless told otherwise: its `pace.level`, else standard."""
    return STANDARD if routine.pace.level is None else routine.pace.level


def _exercise_has_ranges(exercise: Exercise) -> bool:
    return bool(exercise.ranges) or any(_step_has_ranges(step) for step in exercise.steps)


def _step_has_ranges(step: Step) -> bool:
    ranges = getattr(step, "ranges", ())
    return bool(ranges) or (isinstance(step, Repeat) and any(_step_has_ranges(inner) for inner in step.steps))


def _exercise_at(exercise: Exercise, level: float) -> Exercise:
    return replace(_picked(exercise, level), steps=tuple(_step_at(step, level) for step in exercise.steps))


def _step_at(step: Step, level: float) -> Step:
    picked = _picked(step, level)
    if isinstance(picked, Repeat):
        return replace(picked, steps=tuple(_step_at(inner, level) for inner in picked.steps))
    return picked


def _picked(node, level: float):  # type: ignore[no-untyped-def]
    """A model node with each of its ranged fields set to the value `level` picks."""
    ranges = getattr(node, "ranges", ())
    if not ranges:
        return node
    names = {field.name for field in fields(node)}
    values = {}
    for name, span in ranges:
        if name in names:
            value = pick(span, level, count=name in _COUNTS)
            values[name] = int(value) if name in _COUNTS else value
    return replace(node, **values)


def level_title(routine: Routine) -> str:
    """The routine's title, with the level its ranges were picked at: 'Post-run mobility (easy)'."""
    return routine.title if routine.level is None else f"{routine.title} ({level_name(routine.level)})"
