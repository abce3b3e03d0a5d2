"""`--level`: the point a session takes in every range of its routine (plan, play, export)."""

from __future__ import annotations

from typing import Optional

import typer

from coach.errors import UsageError
from coach.levels import at_level, default_level, parse_level
from coach.model import Routine

LevelOption = typer.Option(
    None,
    "--level",
    metavar="LEVEL",
    help="Where to be in the routine's ranges: easy, standard, deep, or 0 (low end) to 1 (high end) "
    "[default: the routine's pace.level, else standard].",
)


def leveled(routine: Routine, level: Optional[str]) -> Routine:
    """The routine at the level asked for (None: its own default); a bad level is a usage error."""
    if level is None:
        return at_level(routine, default_level(routine))
    try:
        return at_level(routine, parse_level(level))
    except ValueError as error:
        raise UsageError(f"--level: {error}") from None
