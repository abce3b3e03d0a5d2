"""What the options every command shares choose, without typer: which session of a routine to run today (`--level`,
the point in its ranges, `--only` and `--skip`), the speech engine and the cache."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional, Sequence

from coach.errors import UsageError
from coach.routine.levels import at_level, default_level, parse_level
from coach.routine.model import SPEECH_ENGINES, Routine
from coach.routine.selection import exercise_index, selected


def concrete_level(argument: str, level: Optional[str]) -> Optional[str]:
    """`--level` as given, except `auto`: the level the history calls for, said on stderr with the reason."""
    if level is None or level.strip().casefold() != "auto":
        return level
    from coach.history import auto_level_text  # reads the routine file: loaded only for --level auto

    value, why = auto_level_text(argument)
    sys.stderr.write(why + "\n")
    return value


def leveled(routine: Routine, level: Optional[str]) -> Routine:
    """The routine at the level asked for (None: its own default); a bad level is a usage error."""
    if level is None:
        return at_level(routine, default_level(routine))
    try:
        return at_level(routine, parse_level(level))
    except ValueError as error:
        raise UsageError(f"--level: {error}") from None


def chosen(
    routine: Routine, level: Optional[str], only: Optional[List[str]] = None, skip: Optional[List[str]] = None
) -> Routine:
    """Today's session: the routine at its level, cut down to the exercises `--only` and `--skip` leave."""
    names = [exercise.name for exercise in routine.exercises]
    kept = _indexes(names, only or (), "--only")
    left_out = _indexes(names, skip or (), "--skip")
    return selected(leveled(routine, level), kept, left_out)


def _indexes(names: Sequence[str], wanted: Sequence[str], option: str) -> set[int]:
    """The exercises named as `--from` names one (coach.routine.selection.exercise_index), its messages saying `option`."""

    found = set()
    for text in wanted:
        try:
            found.add(exercise_index(names, text))
        except UsageError as error:
            raise UsageError(str(error).replace("--from", option, 1)) from None
    return found


def cache_dir(option: Optional[Path]) -> Path:
    """The cache directory: the option, else the user's one cache (see coach.speech.cache.default_directory)."""
    from coach.speech.cache import default_directory

    return option if option is not None else default_directory()


def checked_engine_name(name: str | None) -> str | None:
    """An engine name given on the command line (None: not given); UsageError (exit 2) if coach has no such engine."""
    if name is not None and name != "auto" and name not in SPEECH_ENGINES:
        raise UsageError(f"--engine: unknown engine '{name}' (choose from auto, {', '.join(SPEECH_ENGINES)})")
    return name
