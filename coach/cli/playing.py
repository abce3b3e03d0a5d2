"""`coach play` without typer: what one run does with its options (a PlayRequest), for the typer command
(coach/cli/live.py) and the quick path that parses a plain `coach play` itself (coach/cli/quick.py)."""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from coach import history, session, streaming
from coach.cli.choice import cache_dir, checked_engine_name, chosen, concrete_level
from coach.cli.guard import WARNING_PREFIX
from coach.cli.progress import SynthesisBar
from coach.clock import elapsed as format_clock
from coach.errors import HistoryError, UsageError
from coach.routine.durations import parse_duration
from coach.routine.model import Routine
from coach.routine.selection import exercise_index
from coach.terminal.play import LiveOptions, Outcome, play_live
from coach.timeline.moment import MomentIndex
from coach.timeline.timeline import Timeline


@dataclass(frozen=True)
class PlayRequest:
    """The options of one `coach play`, as given (None: not given)."""

    routine_arg: str | None = None
    start_from: str | None = None
    at: str | None = None
    device: str | None = None
    list_devices: bool = False
    no_ui: bool = False
    music: Path | None = None
    no_music: bool = False
    voice: str | None = None
    rate: int | None = None
    cache: Path | None = None
    engine: str | None = None
    level: str | None = None
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()


def play(request: PlayRequest) -> int:
    """Play a session live and record it in the history: the exit code (130 after Ctrl-C, 128+N after signal N)."""
    from coach.audio import devices  # audio libraries load only for the command that plays

    if request.list_devices:
        for output in devices.list_outputs():
            detail = devices.NULL_DESCRIPTION if output.is_null else output.backend
            sys.stdout.write(f"{output.name}  ({detail})\n")
        return 0
    if request.routine_arg is None:
        raise UsageError("missing ROUTINE (a routine file or built-in name); see `coach play --help`")
    if request.start_from is not None and request.at is not None:
        raise UsageError("give --from or --at, not both")
    at_ms = _parse_at(request.at) if request.at is not None else None

    level = concrete_level(request.routine_arg, request.level)
    routine = chosen(session.load(request.routine_arg), level, request.only, request.skip)
    chapter = exercise_index([exercise.name for exercise in routine.exercises], request.start_from) if request.start_from else None
    output = devices.find_output(request.device)
    devices.check_output(output)  # before rendering speech: a missing device should not cost a wait
    from coach.audio.music import music_options

    directory = cache_dir(request.cache)
    bed = music_options(routine, directory, request.music, request.no_music)

    settings = session.checked_settings(routine, request.voice, request.rate, checked_engine_name(request.engine))
    full_screen = not request.no_ui and sys.stdout.isatty()
    from_start = request.start_from is None and at_ms is None
    prepared = session.prepare_cached(routine, settings, directory)
    if prepared is None and from_start and bed is None and streaming.worth_streaming(routine, settings, directory):
        # Speak at once and synthesize the rest ahead of the playhead (coach/streaming.py).
        with streaming.StreamingSession(routine, settings, directory) as live:
            live.start()
            ended = play_live(live, output, LiveOptions(full_screen=full_screen))
        start_ms = 0
    else:
        if prepared is None:
            with SynthesisBar() as bar:
                prepared = session.prepare(routine, settings, directory, on_progress=bar)
        start_ms = _start_ms(prepared.timeline, chapter, at_ms, request.at)
        ended = play_live(prepared, output, LiveOptions(start_ms=start_ms, full_screen=full_screen, music=bed))
    timeline = ended.timeline
    record_session(request.routine_arg, routine, timeline, (start_ms, ended.position_ms), completed=ended.outcome is Outcome.FINISHED)

    if ended.outcome is Outcome.FINISHED:
        # On stderr, so `--no-ui` output stays one line per cue; it also marks for logs when the session ended.
        sys.stderr.write(f"Done: {timeline.title} ({format_clock(timeline.duration_ms)}).\n")
        return 0
    passed = _passed_options(request, level) + _music_options(request.music, request.no_music)
    sys.stderr.write(resume_hint(request.routine_arg, timeline, ended.position_ms, passed))
    if ended.outcome is Outcome.INTERRUPTED:
        return 130
    if ended.outcome is Outcome.TERMINATED:
        return 128 + ended.signal_number  # 143 for SIGTERM, 129 for SIGHUP (a closed terminal)
    return 0  # quit on the keyboard


def _parse_at(text: str) -> int:
    try:
        seconds = parse_duration(text)
    except ValueError as error:
        raise UsageError(f"--at {text!r}: {error}; use MM:SS, e.g. --at 12:30") from None
    return round(seconds * 1000)


def _start_ms(timeline: Timeline, chapter: int | None, at_ms: int | None, at_text: str | None) -> int:
    if chapter is not None:
        if chapter >= len(timeline.chapters):  # the compiler makes one chapter per exercise; guard all the same
            raise UsageError(f"--from: the session has only {len(timeline.chapters)} chapters")
        return timeline.chapters[chapter].start_ms
    if at_ms is None:
        return 0
    if at_ms >= timeline.duration_ms:
        raise UsageError(f"--at {at_text} is past the end of the session ({format_clock(timeline.duration_ms)})")
    return at_ms


def _passed_options(request: PlayRequest, level: str | None) -> list[str]:
    """The options of this run that a resumed run needs to sound and behave the same (`level`: as it was resolved)."""
    passed: list[str] = []
    options = (
        ("--engine", request.engine), ("--voice", request.voice), ("--rate", request.rate), ("--cache-dir", request.cache),
        ("--device", request.device), ("--level", level),
    )  # fmt: skip
    for flag, value in options:
        if value is not None:
            passed += [flag, str(value)]
    for flag, values in (("--only", request.only), ("--skip", request.skip)):
        for value in values:
            passed += [flag, value]
    if request.no_ui:
        passed.append("--no-ui")
    return passed


def _music_options(music: Path | None, no_music: bool) -> list[str]:
    """--music PATH or --no-music as given, so a resumed run plays the same music (or none)."""
    if no_music:
        return ["--no-music"]
    return ["--music", str(music)] if music is not None else []


def resume_hint(routine_arg: str, timeline: Timeline, position_ms: int, options: Sequence[str] = ()) -> str:
    """How to carry on from here: by exercise (its name, or number if the name is not unique) or by time.

    Stopped in the rest before an exercise, the exercise to resume is that one: the last one was done.
    """
    moment = MomentIndex(timeline).at(position_ms)
    chapter, title = moment.title_chapter, moment.title
    unique = [c.title.casefold() for c in timeline.chapters].count(title.casefold()) == 1
    where = title if unique else str(chapter + 1)
    base = ["coach", "play", routine_arg, *options]
    by_exercise = shlex.join(base + ["--from", where])
    by_time = shlex.join(base + ["--at", format_clock(position_ms)])
    place = "before" if chapter != moment.chapter else "in"
    return f"Stopped at {format_clock(position_ms)} {place} {title!r}. To resume:\n  {by_exercise}\n  {by_time}\n"


def record_session(
    argument: str, routine: Routine, timeline: Timeline, span_ms: tuple[int, int], completed: bool
) -> None:
    """Add the session to the history; a history that cannot be written costs a warning, not the session."""
    try:
        history.append(history.session_record(argument, routine, timeline, span_ms, completed))
    except (HistoryError, UsageError) as error:
        sys.stderr.write(f"{WARNING_PREFIX}session not recorded: {error}\n")
