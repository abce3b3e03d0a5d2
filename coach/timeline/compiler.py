"""Compile a Routine into a flat cue script: sides, rounds, repeats, breaths, holds and rests expanded."""

from __future__ import annotations

import difflib
import threading
from dataclasses import dataclass, replace
from typing import Iterator

from coach.timeline.cues import Chapter, Cue, CueScript, Pause, Picture, Rep, Round, Side, Speak, Stage, Tone
from coach.errors import Diagnostic, RoutineError
from coach.routine.levels import NAMED_LEVELS, level_name
from coach.routine.model import Breath, Breathe, Exercise, Figure, Hold, Repeat, Rest, Routine, Say, Step, Where
from coach.routine.phrases import Phrases, fill, whole_seconds
from coach.timeline.timeline import Stretch

MAX_SESSION_SECONDS = 3 * 3600
MAX_CUES = 20_000
INTRO_GAP = 1.0  # a breath of silence after the intro, before the first exercise starts
# Speech length only estimated for the spoken "about N minutes" and the limits, never for the timeline.
ESTIMATED_WORDS_PER_SECOND = 2.5
# For the length limit before any speech is rendered: espeak says ordinary English at about 0.06 s a
# character at 175 words a minute; 0.08 leaves room for slower voices. The exact length is checked
# again once the clips are measured (session.prepare), so this only spares rendering hours of speech.
LIMIT_SECONDS_PER_CHARACTER = 0.08
LIMIT_REFERENCE_RATE = 175


@dataclass(frozen=True)
class _Context:
    """The template values in force where a step is expanded."""

    side: str | None = None
    other: str | None = None
    round: int = 1
    rounds: int = 1
    rep: int | None = None
    reps: int | None = None
    mirrored: bool = False  # the side's figures are drawn mirrored

    def values(self) -> dict[str, object]:
        found: dict[str, object] = {"round": self.round, "rounds": self.rounds}
        if self.side is not None:
            found.update(side=self.side, Side=self.side.capitalize())
        if self.other is not None:
            found.update(other=self.other, Other=self.other.capitalize())
        if self.rep is not None:
            found.update(rep=self.rep, reps=self.reps)
        return found


def compile_routine(routine: Routine, minutes: int | None = None) -> CueScript:
    """The routine's cue script; `minutes` is the spoken length (None: estimated from the routine)."""
    # A live start compiles one routine up to four times (is it cached? worth streaming? its length, then with
    # it): 0.03 s each for post-run. The script is immutable, so the last few are kept, by the routine's identity.
    found = _COMPILED.get((id(routine), minutes))
    if found is not None and found[0] is routine:
        return found[1]
    _check_limits(routine)
    phrases = Phrases(routine.phrases)
    spoken = estimated_minutes(routine) if minutes is None else minutes
    script = tuple(_routine_cues(routine, phrases, spoken))
    with _COMPILED_LOCK:  # a live session's speech thread compiles too
        for key in {(id(routine), minutes), (id(routine), spoken)}:
            _COMPILED[key] = (routine, script)  # the routine held too, so its id is not reused while kept
        while len(_COMPILED) > _KEPT_SCRIPTS:
            del _COMPILED[next(iter(_COMPILED))]
    return script


_KEPT_SCRIPTS = 8
_COMPILED_LOCK = threading.Lock()
_COMPILED: dict[tuple[int, int | None], tuple[Routine, CueScript]] = {}


def estimated_minutes(routine: Routine) -> int:
    """The routine's length in whole minutes, speech estimated from its word count (at least 1)."""
    phrases = Phrases(routine.phrases)
    script = tuple(_routine_cues(routine, phrases, minutes=0))
    return max(1, round(estimated_seconds(script) / 60))


def estimated_seconds(script: CueScript) -> float:
    """A script's length with each cue's speech estimated from its words; for limits and the intro only."""
    total = 0.0
    for item in script:
        if isinstance(item, Speak) and not item.overlay:
            total += max(item.slot, len(item.text.split()) / ESTIMATED_WORDS_PER_SECOND)
        elif isinstance(item, Pause):
            total += item.seconds
    return total


def _routine_cues(routine: Routine, phrases: Phrases, minutes: int) -> Iterator[Cue]:
    exercises = routine.exercises
    for index, exercise in enumerate(exercises):
        yield Chapter(exercise.name)
        if index == 0:
            yield Stage("intro")
            yield from _opening_picture(exercise)
            yield Speak(
                phrases.say(
                    "intro" if routine.level is None else "intro_level",
                    title=routine.title,
                    level=None if routine.level is None else _spoken_level(routine.level, phrases),
                    exercises=phrases.counted(len(exercises), "exercise_unit", "exercises_unit"),
                    minutes=phrases.counted(minutes, "minute", "minutes"),
                )
            )
            yield Pause(INTRO_GAP)
            yield Stage(None)
        yield from _exercise_cues(exercise, routine, phrases)
        if index + 1 < len(exercises):
            rest = routine.pace.rest if exercise.rest is None else exercise.rest
            if rest > 0:
                next_name = exercises[index + 1].name
                yield Stage("between")
                yield from _opening_picture(exercises[index + 1])  # getting ready for it
                spoken = phrases.duration(rest)
                yield Speak(phrases.say("rest", duration=spoken, seconds=whole_seconds(rest), next=next_name))
                yield from _timer(rest, "rest", routine, phrases)
        else:
            yield Stage("outro")
            if _opening_figure(exercise) is not None:
                yield Picture(None)
            yield Speak(phrases.say("outro", title=routine.title))


def _spoken_level(level: float, phrases: Phrases) -> str:
    """'easy level', 'level 0.3': how the intro names the level a routine's ranges were picked at."""
    name = level_name(level)
    if name in NAMED_LEVELS:
        return phrases.say("level_named", name=name)
    return phrases.say("level_number", number=f"{level:g}")


def _exercise_cues(exercise: Exercise, routine: Routine, phrases: Phrases) -> Iterator[Cue]:
    sides = exercise.sides or (None,)
    first = _Context(side=sides[0], other=_other(exercise.sides, 0), rounds=exercise.rounds, mirrored=mirrored(exercise.sides, 0))
    opening = _opening_figure(exercise)
    yield from _opening_picture(exercise)
    yield Speak(phrases.say("exercise", name=exercise.name), where=exercise.where)
    if exercise.note and exercise.say_note:
        yield Speak(fill(exercise.note, first.values()), where=exercise.where)
    if exercise.setup:
        yield Speak(fill(exercise.setup, first.values()), where=exercise.where)
    for side_index, side in enumerate(sides):
        context = replace(first, side=side, other=_other(exercise.sides, side_index), mirrored=mirrored(exercise.sides, side_index))
        if side is not None:
            yield Side(side)
            if opening is not None:
                yield Picture(opening, context.mirrored)
            values = context.values()
            if side_index == 0:
                yield Speak(phrases.say("first_side", **values))
            else:
                yield Speak(phrases.say("switch", **values))
                if routine.pace.switch > 0:
                    yield Pause(routine.pace.switch, "switch")
        for round_number in range(1, exercise.rounds + 1):
            round_context = replace(context, round=round_number)
            if exercise.rounds > 1:
                yield Round(round_number, exercise.rounds)
                if opening is not None and round_number > 1:
                    yield Picture(opening, context.mirrored)  # each round starts again from the first position
                yield Speak(phrases.say("round", round=round_number, rounds=exercise.rounds))
            yield from _steps_cues(exercise.steps, round_context, routine, phrases)
        if exercise.rounds > 1:
            yield Round(None, None)
    if exercise.sides:
        yield Side(None)


def mirrored(sides: tuple[str, ...], index: int) -> bool:
    """Whether the side at `index` draws its figures mirrored: figures show the left side, so a side named
    'right' is the mirror; with other names, every second side is the mirror of the one before it."""
    if not sides:
        return False
    name = sides[index].casefold()
    if name in ("left", "right"):
        return name == "right"
    return index % 2 == 1


def _opening_figure(exercise: Exercise) -> Figure | None:
    """The position an exercise starts in: its own figure, else its first step's (repeats looked into)."""
    if exercise.figure is not None:
        return exercise.figure

    def first(steps: tuple[Step, ...]) -> Figure | None:
        for step in steps:
            if step.figure is not None:
                return step.figure
            if isinstance(step, Repeat) and (inner := first(step.steps)) is not None:
                return inner
        return None

    return first(exercise.steps)


def _opening_picture(exercise: Exercise) -> Iterator[Cue]:
    figure = _opening_figure(exercise)
    if figure is not None:
        yield Picture(figure, mirrored(exercise.sides, 0))


# A repeat or breath sequence this long is led like a person leads it: counted, shortened, its last one announced.
LONG_SEQUENCE = 4
FULL_REPETITIONS = 2  # said in full before the cues shorten
SHORT_TEXT_WORDS = 3  # breath texts this short ('Forward.', 'Back.') are the cue itself: such a block is not shortened


def _steps_cues(
    steps: tuple[Step, ...], context: _Context, routine: Routine, phrases: Phrases, brief: bool = False
) -> Iterator[Cue]:
    """The cues of a steps list; `brief` once a long repeat is past its first repetitions."""
    for index, step in enumerate(steps):
        if step.figure is not None:
            yield Picture(step.figure, context.mirrored)
        if isinstance(step, Say):
            yield Speak(fill(step.text, context.values()), where=step.where)
        elif isinstance(step, (Hold, Rest)):
            held = isinstance(step, Hold)
            text = fill(step.text, context.values()) if step.text else None
            yield Speak(phrases.timed("hold" if held else "rest_step", step.seconds, text), where=step.where)
            # what the screen shows while the timer runs: a hold's instruction (its own, else the one before it)
            instruction = fill(step.text or (_last_instruction(steps[:index]) if held else ""), context.values())
            yield from _timer(step.seconds, "hold" if held else "rest", routine, phrases, instruction)
        elif isinstance(step, Breath):
            yield Speak(_breath_text(step, context, phrases, brief), slot=_slot(step, routine), where=step.where)
        elif isinstance(step, Breathe):
            for breath in range(1, step.count + 1):
                for text in _breathe_texts(breath, step.count, phrases):
                    yield Speak(text, slot=routine.pace.breath, where=step.where)
        elif isinstance(step, Repeat):
            hold_follows = index + 1 < len(steps) and isinstance(steps[index + 1], Hold)
            yield from _repeat_cues(step, context, routine, phrases, hold_follows)
            yield Rep(context.rep, context.reps)  # an outer repeat's count, if any, is in force again
        else:  # pragma: no cover - the model has no other step kinds
            raise TypeError(f"unknown step {step!r}")


def _repeat_cues(
    step: Repeat, context: _Context, routine: Routine, phrases: Phrases, hold_follows: bool
) -> Iterator[Cue]:
    """A repeat: counted aloud when asked; when long, shortened after the first ones and its last one announced."""
    long = step.count >= LONG_SEQUENCE
    wordy = any(isinstance(inner, Breath) and len(inner.text.split()) > SHORT_TEXT_WORDS for inner in step.steps)
    for rep in range(1, step.count + 1):
        values = {"rep": rep, "reps": step.count}
        last = rep == step.count and rep > 1
        yield Rep(rep, step.count)
        if last and (step.count_aloud or long):
            yield Speak(phrases.say("rep_last_hold" if hold_follows else "rep_last", **values), where=step.where)
        elif step.count_aloud and step.count > 1:  # a single repetition has nothing to count
            yield Speak(phrases.say("rep_first" if rep == 1 else "rep", **values), where=step.where)
        brief = long and wordy and FULL_REPETITIONS < rep < step.count  # the last one in full: it is often held
        yield from _steps_cues(step.steps, replace(context, rep=rep, reps=step.count), routine, phrases, brief)


def _breath_text(step: Breath, context: _Context, phrases: Phrases, brief: bool) -> str:
    text = fill(step.text, context.values())
    key = "inhale" if step.phase == "in" else "exhale"
    if brief:
        return phrases.say(f"{key}_again", text=text)
    return phrases.breath(key, text)


def _breathe_texts(breath: int, breaths: int, phrases: Phrases) -> tuple[str, str]:
    """The in and out cues of one breath of `breathe: N`."""
    values = {"breath": breath, "breaths": breaths}
    if breath == 1:
        first = "breathe_first" if breaths > 1 else "breathe_in"
        return phrases.say(first, **values), phrases.say("breathe_out", **values)
    if breath == breaths:
        return phrases.say("breathe_in_last", **values), phrases.say("breathe_out", **values)
    return phrases.say("breathe_in_again", **values), phrases.say("breathe_out_again", **values)


def _slot(step: Breath, routine: Routine) -> float:
    return routine.pace.breath if step.seconds is None else step.seconds


def _timer(seconds: float, kind: str, routine: Routine, phrases: Phrases, text: str = "") -> Iterator[Cue]:
    """A timed hold or rest (`text`: what is held): start tone, an optional 'Halfway.', countdown tones, end tone."""
    total_ms = round(seconds * 1000)
    marks: list[tuple[int, Cue]] = []
    halfway = routine.pace.halfway
    if kind == "hold" and halfway is not None and seconds >= halfway:
        marks.append((total_ms // 2, Speak(phrases.say("halfway"), overlay=True)))
    countdown = min(routine.pace.countdown, int(seconds))
    marks.extend((total_ms - beat * 1000, Tone("count")) for beat in range(countdown, 0, -1))
    marks.sort(key=lambda mark: mark[0])
    yield Tone("start")
    cursor = 0
    for at_ms, cue in marks:
        if at_ms > cursor:
            yield Pause((at_ms - cursor) / 1000, kind, text, continues=cursor > 0)
            cursor = at_ms
        yield cue
    if total_ms > cursor:
        yield Pause((total_ms - cursor) / 1000, kind, text, continues=cursor > 0)
    yield Tone("end")


def _last_instruction(steps: tuple[Step, ...]) -> str:
    """The author's last instruction among `steps` (a say, a hold's say, a breath): what a following hold holds."""
    for step in reversed(steps):
        if isinstance(step, (Say, Hold, Breath)) and step.text:
            return step.text
    return ""


def _other(sides: tuple[str, ...], index: int) -> str | None:
    if len(sides) < 2:
        return None
    return sides[(index + 1) % len(sides)]


def _seconds(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _check_limits(routine: Routine) -> None:
    """Refuse a routine whose expansion would exceed the cue or length limits, before expanding it."""
    cues = 0.0
    seconds = _speech_seconds(routine.title, routine)
    for exercise in routine.exercises:
        per_side_cues, per_side_seconds = _steps_size(exercise.steps, routine)
        repeats = max(1, len(exercise.sides)) * exercise.rounds
        cues += 4 + repeats * (per_side_cues + 2)
        seconds += repeats * per_side_seconds + (routine.pace.rest if exercise.rest is None else exercise.rest)
        seconds += _speech_seconds(exercise.name, routine) + _speech_seconds(exercise.setup, routine)
        seconds += _speech_seconds(exercise.note, routine) if exercise.say_note else 0.0
        seconds += max(0, len(exercise.sides) - 1) * routine.pace.switch
        where = exercise.where
        if seconds > MAX_SESSION_SECONDS:
            raise RoutineError([_limit(where, f"routine lasts more than {MAX_SESSION_SECONDS // 3600} hours by this exercise")])
        if cues > MAX_CUES:
            raise RoutineError([_limit(where, f"routine expands to more than {MAX_CUES} cues")])


def _steps_size(steps: tuple[Step, ...], routine: Routine) -> tuple[float, float]:
    """(cue count, seconds with the routine's own texts' speech estimated) of one pass through steps, without expanding repeats."""
    cues = 0.0
    seconds = 0.0
    for step in steps:
        if isinstance(step, Say):
            cues += 1
            seconds += _speech_seconds(step.text, routine)
        elif isinstance(step, Hold):
            cues += 3 + routine.pace.countdown
            seconds += step.seconds + _speech_seconds(step.text, routine)
        elif isinstance(step, Breath):
            cues += 1
            slot = routine.pace.breath if step.seconds is None else step.seconds
            seconds += max(slot, _speech_seconds(step.text, routine))
        elif isinstance(step, Breathe):
            cues += 2 * step.count
            seconds += 2 * step.count * routine.pace.breath
        elif isinstance(step, Rest):
            cues += 3 + routine.pace.countdown
            seconds += step.seconds
        elif isinstance(step, Repeat):
            inner_cues, inner_seconds = _steps_size(step.steps, routine)
            cues += step.count * (inner_cues + 1)
            seconds += step.count * inner_seconds
    return cues, seconds


def _speech_seconds(text: str | None, routine: Routine) -> float:
    """A generous estimate of how long a text takes to say at the routine's rate (see LIMIT_SECONDS_PER_CHARACTER)."""
    if not text:
        return 0.0
    rate = routine.voice.rate or LIMIT_REFERENCE_RATE
    return len(text) * LIMIT_SECONDS_PER_CHARACTER * LIMIT_REFERENCE_RATE / rate


def _limit(where: Where, message: str) -> Diagnostic:
    return Diagnostic(where.path, max(1, where.line), max(1, where.col), message)


# Side labels a routine may use without declaring them in `side_names` (compared ignoring case).
KNOWN_SIDES = frozenset({
    "left", "right", "front", "back", "inside", "outside", "inner", "outer", "upper", "lower", "top", "bottom",
    "forward", "backward", "up", "down", "near", "far", "clockwise", "anticlockwise", "counterclockwise",
    "first", "second", "both",
})


def routine_warnings(routine: Routine) -> list[Diagnostic]:
    """Problems that do not stop a routine: holds and rests shorter than their countdown, unknown side labels."""
    found: list[Diagnostic] = []
    countdown = routine.pace.countdown
    known_sides = KNOWN_SIDES | {name.casefold() for name in routine.side_names}

    def visit(steps: tuple[Step, ...]) -> None:
        for step in steps:
            if isinstance(step, (Hold, Rest)) and 0 < step.seconds < countdown:
                kind = "hold" if isinstance(step, Hold) else "rest"
                found.append(
                    _warning(step.where, f"{kind} of {_seconds(step.seconds)}s is shorter than the {countdown}-beep countdown")
                )
            elif isinstance(step, Repeat):
                visit(step.steps)

    for exercise in routine.exercises:
        for side, where in zip(exercise.sides, exercise.side_where or (exercise.where,) * len(exercise.sides)):
            if side.casefold() not in known_sides:
                suggestion = difflib.get_close_matches(side.casefold(), sorted(KNOWN_SIDES), n=1)
                hint = f"did you mean '{suggestion[0]}'? " if suggestion else ""
                message = f"side '{side}' is not a usual side label ({hint}list the routine's own in 'side_names')"
                found.append(_warning(where, message))
        visit(exercise.steps)
    return sorted(found, key=lambda warning: (warning.line, warning.col))


def stretch_warnings(stretched: tuple[Stretch, ...]) -> list[Diagnostic]:
    """A warning for each cue longer than its breath slot, at the step that set the slot."""
    seen: set[tuple[Where, str]] = set()
    found = []
    for stretch in stretched:
        if (stretch.where, stretch.text) in seen:
            continue
        seen.add((stretch.where, stretch.text))
        message = (
            f"cue takes {stretch.needed_ms / 1000:.1f}s to say, longer than its {stretch.slot_ms / 1000:g}s slot "
            f"(the slot is stretched): {stretch.text!r}"
        )
        found.append(_warning(stretch.where, message))
    return found


def _warning(where: Where, message: str) -> Diagnostic:
    return Diagnostic(where.path, max(1, where.line), max(1, where.col), message, severity="warning")


def intro_text(script: CueScript) -> str:
    """The intro cue: by construction the script's first spoken text."""
    return next(item.text for item in script if isinstance(item, Speak))
