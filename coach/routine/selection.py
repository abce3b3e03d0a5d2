"""Choosing what to do today: a routine cut down to some of its exercises (`--only`, `--skip`)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from coach.errors import UsageError
from coach.model import Routine


def selected(routine: Routine, only: Collection[int] = (), skip: Collection[int] = ()) -> Routine:
    """The routine with only the exercises at the 0-based indexes `only` (all when empty), less those in `skip`.

    The order stays the routine's; the intro counts, and each rest's "Next up" names, what is left.
    """
    if not only and not skip:
        return routine
    kept = tuple(
        exercise
        for index, exercise in enumerate(routine.exercises)
        if (not only or index in only) and index not in skip
    )
    if not kept:
        raise UsageError("--only and --skip leave no exercise to do")
    return replace(routine, exercises=kept)
