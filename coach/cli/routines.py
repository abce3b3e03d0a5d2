"""Commands about routine scripts: check, plan, list, schema."""

from __future__ import annotations

import json
import sys
from typing import List

import typer

from coach import session
from coach.routine import sources
from coach.cli.app import command, counted, print_json
from coach.cli.guard import error_line
from coach.cli.choice import cache_dir, checked_engine_name, chosen, concrete_level
from coach.clock import plan_time as clock
from coach.timeline.compiler import compile_routine, routine_warnings, stretch_warnings
from coach.errors import CoachError, RoutineError, SpeechError
from coach.routine.model import Routine
from coach.audio.music import music_problems
from coach.output.cards import image_problems
from coach.routine.schema import routine_schema
from coach.speech import SpeechSettings
from coach.timeline.timeline import Timeline


@command("check")
def check(
    routines: List[str] = typer.Argument(..., metavar="ROUTINE", help="Routine files or built-in names."),
    quick: bool = typer.Option(False, "--quick", help="Skip speech: no check of cues against their breath slots."),
    *,
    cache,  # coach.cli.app.SHARED_OPTIONS
) -> None:
    """Validate routines: every problem as path:line:col: error: message (exit 2 when invalid)."""
    invalid = False
    for argument in routines:
        try:
            routine = session.load(argument)
            compile_routine(routine)
            problems = music_problems(routine) + image_problems(routine)
            if problems:
                raise RoutineError(sorted(problems, key=lambda d: (d.line, d.col)))
            settings = _checked_voice(routine, quick)
        except RoutineError as error:
            invalid = True
            for diagnostic in error.diagnostics:
                sys.stderr.write(f"{diagnostic}\n")
            continue
        except SpeechError:
            raise  # no speech engine: the machine cannot check the routine (exit 1), the routine is not at fault
        except CoachError as error:
            invalid = True
            sys.stderr.write(error_line(str(error)) + "\n")
            continue
        warnings = routine_warnings(routine)
        if settings is not None and not quick:
            prepared = session.prepare(routine, settings, cache_dir(cache))
            warnings += stretch_warnings(prepared.timeline.stretched)
        for warning in sorted(warnings, key=lambda d: (d.line, d.col)):
            sys.stderr.write(f"{warning}\n")
        sys.stdout.write(f"{routine.source}: ok ({counted(len(routine.exercises), 'exercise')})\n")
    if invalid:
        raise typer.Exit(2)


def _checked_voice(routine: Routine, quick: bool) -> SpeechSettings | None:
    """The routine's speech settings checked against the engine's voices, even with --quick; with --quick, a
    machine without a speech engine only loses that check (a warning), as --quick needs no speech otherwise."""
    try:
        return session.checked_settings(routine)
    except SpeechError as error:
        if not quick:
            raise
        sys.stderr.write(f"{routine.source}: warning: voice not checked: {error}\n")
        return None


@command("plan")
def plan(
    routine_arg: str = typer.Argument(..., metavar="ROUTINE", help="A routine file or built-in name."),
    *,
    as_json, voice, rate, cache, engine, level, only, skip,  # coach.cli.app.SHARED_OPTIONS
) -> None:
    """Show the exact timeline: every cue at its time (speech rendered through the cache for true lengths)."""
    routine = chosen(session.load(routine_arg), concrete_level(routine_arg, level), only, skip)
    settings = session.checked_settings(routine, voice, rate, checked_engine_name(engine))
    prepared = session.prepare(routine, settings, cache_dir(cache))
    if as_json:
        print_json(prepared.timeline.to_json())
        return
    sys.stdout.write(plan_table(prepared.timeline))
    warnings = routine_warnings(routine) + stretch_warnings(prepared.timeline.stretched)
    for warning in sorted(warnings, key=lambda d: (d.line, d.col)):
        sys.stderr.write(f"{warning}\n")


def plan_table(timeline: Timeline) -> str:
    """The timeline as a readable table: time, then the chapter headings, cues and timed spans."""
    rows: list[tuple[int, int, str]] = []
    for index, chapter in enumerate(timeline.chapters):
        rows.append((chapter.start_ms, 0, f"== {index + 1}. {chapter.title} =="))
    for cue in timeline.cues:
        rows.append((cue.start_ms, 1, ("  (over) " if cue.overlay else "  ") + cue.text))
    for span in timeline.spans:
        seconds = (span.end_ms - span.start_ms) / 1000
        rows.append((span.start_ms, 2, f"  [{span.kind} {seconds:g}s]"))
    rows.sort(key=lambda row: (row[0], row[1]))
    lines = [f"{timeline.title}", f"{'time':>8}  what"]
    lines += [f"{clock(ms):>8}  {text}" for ms, _order, text in rows]
    distinct = len({cue.text for cue in timeline.cues})
    lines.append(
        f"total {clock(timeline.duration_ms)}: {counted(len(timeline.chapters), 'chapter')}, "
        f"{counted(len(timeline.cues), 'cue')} ({distinct} distinct), {counted(len(timeline.tones), 'tone')}"
    )
    return "\n".join(lines) + "\n"


@command("list")
def list_routines(*, as_json, cache) -> None:  # coach.cli.app.SHARED_OPTIONS
    """List the built-in routines with their length and number of exercises."""
    found = []
    for name in sources.builtin_routines():
        routine = session.load(name)
        prepared = session.prepare(routine, session.checked_settings(routine), cache_dir(cache))
        found.append(
            {
                "name": name,
                "title": routine.title,
                "exercises": len(routine.exercises),
                "duration": round(prepared.timeline.duration_ms / 1000, 3),
            }
        )
    if as_json:
        print_json({"routines": found})
        return
    for item in found:
        sys.stdout.write(
            f"{item['name']:<12} {clock(round(item['duration'] * 1000)):>8}  "
            f"{counted(item['exercises'], 'exercise')}  {item['title']}\n"
        )


@command("schema")
def schema() -> None:
    """Print the JSON Schema of the routine format, for editors with a YAML language server."""
    sys.stdout.write(json.dumps(routine_schema(), indent=2) + "\n")
