"""`coach figure`: the pictures of a routine's positions (one exercise, or a contact sheet of all) as SVG or PNG."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer

from coach import session, staging
from coach.cli.app import command
from coach.errors import OutputError, UsageError
from coach.figure import POSES, render
from coach.figure.sheet import CELL_H, CELL_W, sheet_png, sheet_svg
from coach.routine.model import Exercise, Figure, Routine, exercise_figures
from coach.routine.selection import exercise_index
from coach.timeline.compiler import mirrored

FORMATS = (".svg", ".png")


@command("figure")
def figure_command(
    routine_arg: Optional[str] = typer.Argument(None, metavar="ROUTINE", help="A routine file or built-in name."),
    exercise_arg: Optional[str] = typer.Argument(
        None, metavar="[EXERCISE]", help="Only this exercise (its number, or its name or a part of it)."
    ),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="FILE.svg|FILE.png", help="The picture to write."),
    side: Optional[str] = typer.Option(None, "--side", metavar="SIDE", help="Draw for this side of the exercise (default: its first)."),
    list_poses: bool = typer.Option(False, "--list", help="List the pose library's names and what each shows."),
    library: bool = typer.Option(False, "--poses", help="Draw the whole pose library (no ROUTINE)."),
) -> None:
    """Draw the positions of a routine: one exercise's, or a contact sheet of every exercise's."""
    if list_poses:
        width = max(map(len, POSES))
        for name, pose in POSES.items():
            sys.stdout.write(f"{name:<{width}}  {pose.caption}\n")
        return
    target, suffix = _target(output)
    if library:
        if routine_arg is not None:
            raise UsageError("--poses draws the pose library: give no ROUTINE with it")
        cells = [(name, pose) for name, pose in POSES.items()]
        data = _sheet([(name, render(pose, None, suffix[1:], CELL_W, CELL_H)) for name, pose in cells], suffix, columns=5)
        _write(target, data)
        sys.stdout.write(f"{target}: {len(cells)} poses\n")
        return
    if routine_arg is None:
        raise UsageError("give a ROUTINE (or --poses for the pose library, --list for its names)")
    routine = session.load(routine_arg)
    if exercise_arg is None:
        if side is not None:
            raise UsageError("--side needs an EXERCISE")
        found = [(number, exercise, figure) for number, exercise in enumerate(routine.exercises, 1)
                 for figure in exercise_figures(exercise)]
        if not found:
            raise UsageError(f"{routine.source} has no figure: give 'figure:' or 'image:' to its exercises")
        cells = [(_label(number, figure), _cell(routine, figure, mirrored(exercise.sides, 0), suffix))
                 for number, exercise, figure in found]
        _write(target, _sheet(cells, suffix))
        sys.stdout.write(f"{target}: {len(cells)} positions of {len(routine.exercises)} exercises\n")
        return
    names = [exercise.name for exercise in routine.exercises]
    exercise = routine.exercises[exercise_index(names, exercise_arg)]
    figures = exercise_figures(exercise)
    if not figures:
        raise UsageError(f"'{exercise.name}' has no figure: give it 'figure:' or 'image:'")
    flip = mirrored(exercise.sides, _side_index(exercise, side))
    if len(figures) == 1:
        data = _picture(routine, figures[0], flip, suffix, 480, 360)
    else:
        data = _sheet([(_label(number, figure), _cell(routine, figure, flip, suffix)) for number, figure in enumerate(figures, 1)],
                      suffix)
    _write(target, data)
    sys.stdout.write(f"{target}: {exercise.name}, {len(figures)} position{'s' if len(figures) != 1 else ''}\n")


def _target(output: Path | None) -> tuple[Path, str]:
    if output is None:
        raise UsageError("give -o FILE.svg or -o FILE.png")
    suffix = output.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"-o {output}: the picture is written as SVG or PNG: name it FILE.svg or FILE.png")
    return output, suffix


def _side_index(exercise: Exercise, side: str | None) -> int:
    if side is None:
        return 0
    folded = [name.casefold() for name in exercise.sides]
    if side.casefold() not in folded:
        listed = ", ".join(exercise.sides) or "none"
        raise UsageError(f"--side {side}: '{exercise.name}' has the sides {listed}")
    return folded.index(side.casefold())


def _label(number: int, figure: Figure) -> str:
    what = figure.image or figure.pose or "angles"
    return f"{number}. {what}{' (changed)' if figure.pose and figure.angles else ''}"


def _picture(routine: Routine, figure: Figure, flip: bool, suffix: str, width: int, height: int) -> str | bytes | None:
    from coach.output.cards import figure_png, figure_svg

    if suffix == ".svg":
        return figure_svg(routine, figure, flip, width, height)
    data = figure_png(routine, figure, flip, width, height)
    if data is None:
        raise UsageError(f"image: {figure.image}: an SVG picture can go only into an SVG: write -o FILE.svg")
    return data


def _cell(routine: Routine, figure: Figure, flip: bool, suffix: str):
    from coach.output.cards import figure_png, figure_svg

    if suffix == ".svg":
        return figure_svg(routine, figure, flip, CELL_W, CELL_H)
    return figure_png(routine, figure, flip, CELL_W, CELL_H)  # None for an SVG picture: its cell stays blank


def _sheet(cells, suffix: str, columns: int | None = None):
    return sheet_svg(cells, columns) if suffix == ".svg" else sheet_png(cells, columns)


def _write(target: Path, data: str | bytes) -> None:
    """The picture staged beside its target and renamed over it whole."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"-o {target}: no folder {folder}")
    try:
        descriptor, temporary = staging.locked_temporary(folder, target.name)
    except OSError as error:
        raise OutputError(f"cannot write {target}: {error.strerror or error}") from None
    try:
        os.write(descriptor, payload)
        staging.publish(descriptor, temporary, target)
    except OSError as error:
        try:
            os.close(descriptor)
        except OSError:
            pass
        staging.remove_if_stale(Path(temporary))
        raise OutputError(f"cannot write {target}: {error.strerror or error}") from None
