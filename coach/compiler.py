"""Compile a Routine into a flat cue script: sides, rounds, repeats, breaths, holds and rests expanded."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterator

from coach.cues import Chapter, Cue, CueScript, Pause, Rep, Round, Side, Speak, Stage, Tone
from coach.errors import Diagnostic, RoutineError
from coach.model import Breath, Breathe, Exercise, Hold, Repeat, Rest, Routine, Say, Step, Where
from coach.phrases import Phrases, fill
from coach.timeline import Stretch

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
    _check_limits(routine)
    phrases = Phrases(routine.phrases)
    if minutes is None:
        minutes = estimated_minutes(routine)
    return tuple(_routine_cues(routine, phrases, minutes))


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
            yield Speak(
                phrases.say(
                    "intro",
                    title=routine.title,
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
                yield Speak(phrases.say("rest", duration=phrases.duration(rest), seconds=_seconds(rest), next=next_name))
                yield from _timer(rest, "rest", routine, phrases)
        else:
            yield Stage("outro")
            yield Speak(phrases.say("outro", title=routine.title))


def _exercise_cues(exercise: Exercise, routine: Routine, phrases: Phrases) -> Iterator[Cue]:
    sides = exercise.sides or (None,)
    first = _Context(side=sides[0], other=_other(exercise.sides, 0), rounds=exercise.rounds)
    yield Speak(phrases.say("exercise", name=exercise.name), where=exercise.where)
    if exercise.note and exercise.say_note:
        yield Speak(fill(exercise.note, first.values()), where=exercise.where)
    if exercise.setup:
        yield Speak(fill(exercise.setup, first.values()), where=exercise.where)
    for side_index, side in enumerate(sides):
        context = replace(first, side=side, other=_other(exercise.sides, side_index))
        if side is not None:
            yield Side(side)
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
                yield Speak(phrases.say("round", round=round_number, rounds=exercise.rounds))
            yield from _steps_cues(exercise.steps, round_context, routine, phrases)
        if exercise.rounds > 1:
            yield Round(None, None)
    if exercise.sides:
        yield Side(None)


def _steps_cues(steps: tuple[Step, ...], context: _Context, routine: Routine, phrases: Phrases) -> Iterator[Cue]:
    for index, step in enumerate(steps):
        if isinstance(step, Say):
            yield Speak(fill(step.text, context.values()), where=step.where)
        elif isinstance(step, Hold):
            if step.text:
                yield Speak(fill(step.text, context.values()), where=step.where)
            yield Speak(phrases.say("hold", duration=phrases.duration(step.seconds), seconds=_seconds(step.seconds)))
            instruction = step.text or _last_instruction(steps[:index])
            yield from _timer(step.seconds, "hold", routine, phrases, fill(instruction, context.values()))
        elif isinstance(step, Breath):
            text = _lower_first(fill(step.text, context.values()))
            key = "inhale" if step.phase == "in" else "exhale"
            slot = routine.pace.breath if step.seconds is None else step.seconds
            yield Speak(phrases.say(key, text=text), slot=slot, where=step.where)
        elif isinstance(step, Breathe):
            for breath in range(1, step.count + 1):
                for key in ("breathe_in", "breathe_out"):
                    text = phrases.say(key, breath=breath, breaths=step.count)
                    yield Speak(text, slot=routine.pace.breath, where=step.where)
        elif isinstance(step, Rest):
            yield from _timer(step.seconds, "rest", routine, phrases)
        elif isinstance(step, Repeat):
            for rep in range(1, step.count + 1):
                rep_context = replace(context, rep=rep, reps=step.count)
                yield Rep(rep, step.count)
                if step.count_aloud:
                    yield Speak(phrases.say("rep", rep=rep, reps=step.count), where=step.where)
                yield from _steps_cues(step.steps, rep_context, routine, phrases)
            yield Rep(context.rep, context.reps)  # an outer repeat's count, if any, is in force again
        else:  # pragma: no cover - the model has no other step kinds
            raise TypeError(f"unknown step {step!r}")


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


def _lower_first(text: str) -> str:
    """'Lift the belly' -> 'lift the belly' (after 'Inhale, '), but leave 'I' and acronyms like 'ACL' alone."""
    if len(text) >= 2 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


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
            cues += 2 + routine.pace.countdown
            seconds += step.seconds
        elif isinstance(step, Repeat):
            inner_cues, inner_seconds = _steps_size(step.steps, routine)
            cues += step.count * (inner_cues + (1 if step.count_aloud else 0))
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


def routine_warnings(routine: Routine) -> list[Diagnostic]:
    """Problems that do not stop a routine: holds and rests shorter than their countdown."""
    found: list[Diagnostic] = []
    countdown = routine.pace.countdown

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
        visit(exercise.steps)
    return found


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
