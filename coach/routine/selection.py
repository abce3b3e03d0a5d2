"""Choosing what to do today: a routine cut down to some of its exercises (`--only`, `--skip`)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace

from coach.errors import UsageError
from coach.routine.model import Routine


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


def exercise_index(names: Sequence[str], wanted: str) -> int:
    """The 0-based exercise `--from` means: a 1-based number, a name, or the one name that starts with or contains it (any case)."""
    text = wanted.strip()
    folded = text.casefold()
    exact = [index for index, name in enumerate(names) if name.casefold() == folded]
    if exact:
        return exact[0]
    if text.isdigit():
        number = int(text)
        if 1 <= number <= len(names):
            return number - 1
    # The one name starting with it wins over names that only contain it: "calf" is "Calf raise", not "Seated calf".
    starting = [index for index, name in enumerate(names) if name.casefold().startswith(folded)]
    containing = [index for index, name in enumerate(names) if folded and folded in name.casefold()]
    for found in (starting, containing):
        if len(found) == 1:
            return found[0]
    if containing:
        listed = ", ".join(repr(names[index]) for index in (starting or containing))
        raise UsageError(f"--from {wanted!r} matches several exercises: {listed}; give more of the name or its number")
    listing = "; ".join(f"{index + 1}. {name}" for index, name in enumerate(names))
    raise UsageError(f"--from {wanted!r} matches no exercise (give a number 1-{len(names)} or a name: {listing})")
