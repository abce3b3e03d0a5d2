"""`coach play`: the live session on the mat, hands-free, with a screen readable from the floor."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Optional, Sequence

import typer

from coach import session, streaming
from coach.cli.app import cache_dir, checked_engine_name, command
from coach.cli.choice import chosen, concrete_level
from coach.routine.selection import exercise_index
from coach.cli.history import record_session
from coach.cli.progress import SynthesisBar
from coach.routine.durations import parse_duration
from coach.errors import UsageError
from coach.timeline.moment import MomentIndex
from coach.terminal.play import LiveOptions, Outcome, play_live
from coach.clock import elapsed as format_clock
from coach.timeline.timeline import Timeline


@command("play")
def play(
    routine_arg: Optional[str] = typer.Argument(None, metavar="ROUTINE", help="A routine file or built-in name."),
    start_from: Optional[str] = typer.Option(
        None, "--from", metavar="EXERCISE", help="Start at an exercise: its number, or its name or a part of it."
    ),
    at: Optional[str] = typer.Option(None, "--at", metavar="MM:SS", help="Start this far into the session."),
    device: Optional[str] = typer.Option(
        None, "--device", metavar="NAME", help="Audio output (part of its name); `null` plays in real time to no sound card."
    ),
    list_devices: bool = typer.Option(False, "--list-devices", help="List the audio outputs and exit."),
    no_ui: bool = typer.Option(
        False, "--no-ui", help="Print `[MM:SS.s] cue` lines instead of the full screen (implied when stdout is not a terminal)."
    ),
    *,
    music, no_music, voice, rate, cache, engine, level, only, skip,  # coach.cli.app.SHARED_OPTIONS
) -> None:
    """Play a session live, hands-free: space pauses, n skips ahead, b goes back, q quits."""
    from coach.audio import devices  # audio libraries load only for the command that plays

    if list_devices:
        for output in devices.list_outputs():
            detail = devices.NULL_DESCRIPTION if output.is_null else output.backend
            sys.stdout.write(f"{output.name}  ({detail})\n")
        return
    if routine_arg is None:
        raise UsageError("missing ROUTINE (a routine file or built-in name); see `coach play --help`")
    if start_from is not None and at is not None:
        raise UsageError("give --from or --at, not both")
    at_ms = _parse_at(at) if at is not None else None

    level = concrete_level(routine_arg, level)
    routine = chosen(session.load(routine_arg), level, only, skip)
    chapter = exercise_index([exercise.name for exercise in routine.exercises], start_from) if start_from else None
    output = devices.find_output(device)
    devices.check_output(output)  # before rendering speech: a missing device should not cost a wait
    from coach.audio.music import music_options

    bed = music_options(routine, cache_dir(cache), music, no_music)

    settings = session.checked_settings(routine, voice, rate, checked_engine_name(engine))
    full_screen = not no_ui and sys.stdout.isatty()
    from_start = start_from is None and at_ms is None
    prepared = session.prepare_cached(routine, settings, cache_dir(cache))
    if prepared is None and from_start and bed is None and streaming.worth_streaming(routine, settings, cache_dir(cache)):
        # Speak at once and synthesize the rest ahead of the playhead (coach/streaming.py).
        with streaming.StreamingSession(routine, settings, cache_dir(cache)) as live:
            live.start()
            ended = play_live(live, output, LiveOptions(full_screen=full_screen))
        start_ms = 0
    else:
        if prepared is None:
            with SynthesisBar() as bar:
                prepared = session.prepare(routine, settings, cache_dir(cache), on_progress=bar)
        start_ms = _start_ms(prepared.timeline, chapter, at_ms, at)
        ended = play_live(prepared, output, LiveOptions(start_ms=start_ms, full_screen=full_screen, music=bed))
    timeline = ended.timeline
    record_session(routine_arg, routine, timeline, (start_ms, ended.position_ms), completed=ended.outcome is Outcome.FINISHED)

    if ended.outcome is Outcome.FINISHED:
        # On stderr, so `--no-ui` output stays one line per cue; it also marks for logs when the session ended.
        sys.stderr.write(f"Done: {timeline.title} ({format_clock(timeline.duration_ms)}).\n")
        return
    passed = _passed_options(voice, rate, cache, device, no_ui, engine, level=level, only=only, skip=skip) + _music_options(music, no_music)
    sys.stderr.write(resume_hint(routine_arg, timeline, ended.position_ms, passed))
    if ended.outcome is Outcome.INTERRUPTED:
        raise typer.Exit(130)
    if ended.outcome is Outcome.TERMINATED:
        raise typer.Exit(128 + ended.signal_number)  # 143 for SIGTERM, 129 for SIGHUP (a closed terminal)


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


def _passed_options(
    voice: str | None,
    rate: int | None,
    cache: Path | None,
    device: str | None,
    no_ui: bool,
    engine: str | None = None,
    level: str | None = None,
    only: Sequence[str] | None = None,
    skip: Sequence[str] | None = None,
) -> list[str]:
    """The options of this run that a resumed run needs to sound and behave the same."""
    passed: list[str] = []
    options = (
        ("--engine", engine), ("--voice", voice), ("--rate", rate), ("--cache-dir", cache), ("--device", device),
        ("--level", level),
    )  # fmt: skip
    for flag, value in options:
        if value is not None:
            passed += [flag, str(value)]
    for flag, values in (("--only", only), ("--skip", skip)):
        for value in values or ():
            passed += [flag, value]
    if no_ui:
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
