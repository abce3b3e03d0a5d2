"""Pictures of the positions for the output: the user's own images checked, and a chapter card per exercise."""

from __future__ import annotations

from pathlib import Path

from coach.errors import Diagnostic
from coach.routine.model import Figure, Routine, routine_figures


def image_path(routine: Routine, figure: Figure) -> Path:
    """Where a figure's `image:` is: relative to the routine file."""
    return Path(routine.source).parent / str(figure.image)


def image_problems(routine: Routine) -> list[Diagnostic]:
    """What `coach check` says about a routine's `image:` paths: each one missing or unreadable, at its position."""
    found = []
    for figure in routine_figures(routine):
        if figure.image is None:
            continue
        path = image_path(routine, figure)
        where = figure.where
        if not path.is_file():
            reason = "is a folder, not a picture" if path.is_dir() else "no such file"
            found.append(Diagnostic(where.path, where.line, where.col, f"image: {figure.image}: {reason}"))
        else:
            try:
                with open(path, "rb"):
                    pass
            except OSError as error:
                found.append(Diagnostic(where.path, where.line, where.col, f"image: {figure.image}: cannot read: {error.strerror}"))
    return found
