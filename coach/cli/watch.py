"""`coach watch`: on every save, check, re-render only the changed cues, and re-plan or re-export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from coach import session
from coach.routine import sources
from coach.cli.app import command, counted
from coach.cli.choice import cache_dir, checked_engine_name
from coach.clock import plan_time as clock
from coach.cli.guard import error_line
from coach.timeline.cues import spoken_texts
from coach.errors import CoachError, RoutineError, UsageError
from coach.watch import changed_texts, saves

if TYPE_CHECKING:
    from coach.output.export import ExportTarget


@command("watch")
def watch(
    routine_arg: str = typer.Argument(..., metavar="ROUTINE", help="A routine file or built-in name."),
    output: Optional[str] = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Re-export on every save: a file, or a folder for ROUTINE.mp3 in it."
    ),
    *,
    voice, rate, cache, engine,  # coach.cli.app.SHARED_OPTIONS
    interval: float = typer.Option(
        0.3, "--interval", metavar="SECONDS", min=0.05, max=10.0, help="Seconds between looks at the file."
    ),
) -> None:
    """Watch a routine file: on every save, check it, render only what changed, and re-plan (or re-export)."""
    path = sources.resolve(routine_arg)
    directory = cache_dir(cache)
    target = _export_target(output, path) if output is not None else None
    previous: list[str] = []
    say(f"watching {path} (Ctrl-C to stop)")
    try:
        for _save in saves(path, interval=interval):
            previous = _update(path, target, voice, rate, engine, directory, previous)
    except KeyboardInterrupt:
        say("stopped watching")


def _export_target(output: str, path: Path) -> ExportTarget:
    """Where `-o` re-exports to, checked once before watching: the same rules as `coach export -o`."""
    from coach.output.export import ExportOptions, checked_output, export_target

    target = export_target(output, path.stem)
    if target.path is None:
        raise UsageError("watch re-exports on every save: give -o a file or a folder, not -")
    checked_output(target.path, ExportOptions(format=target.format))
    return target


def _update(
    path: Path,
    target: Optional[ExportTarget],
    voice: Optional[str],
    rate: Optional[int],
    engine: Optional[str],
    directory: Path,
    previous: list[str],
) -> list[str]:
    """One round after a save; returns the texts now spoken (unchanged after a broken save)."""
    try:
        routine = session.load(str(path))
        settings = session.checked_settings(routine, voice, rate, checked_engine_name(engine))
        prepared = session.prepare(routine, settings, directory)
    except RoutineError as error:
        for diagnostic in error.diagnostics:
            sys.stderr.write(f"{diagnostic}\n")
        say(f"{path}: {counted(len(error.diagnostics), 'problem')}; waiting for the next save")
        return previous
    except CoachError as error:
        say(error_line(f"{error}; waiting for the next save"))
        return previous
    texts = spoken_texts(prepared.script)
    added, removed = changed_texts(previous, texts) if previous else ([], [])
    report = prepared.report
    say(
        f"{path}: ok, {clock(prepared.timeline.duration_ms)}, {counted(len(texts), 'cue')}: "
        f"{len(report.synthesized)} synthesized, {len(report.reused)} reused"
    )
    for text in added:
        say(f"  + {text}")
    for text in removed:
        say(f"  - {text}")
    if target is not None and target.path is not None:  # _export_target refused standard output
        from coach.output.export import ExportOptions  # the encoder stack loads only when exporting

        try:
            result = prepared.export(target.path, ExportOptions(format=target.format))
        except CoachError as error:
            say(error_line(str(error)))
        else:
            for folder in result.created_folders:
                say(f"created folder {folder}")
            say(f"wrote {result.output} ({clock(round(result.duration * 1000))})")
    return texts


def say(line: str) -> None:
    """One line of the watch log, flushed at once (it is read while the command runs)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
