"""Reading an exercise: its name, notes, sides, rounds and rest around its steps."""

from __future__ import annotations

from yaml.nodes import Node

from coach.routine.limits import (
    EXERCISE_KEYS,
    MAX_EXERCISES,
    MAX_ROUNDS,
    MAX_SIDES,
)
from coach.routine.model import (
    Exercise,
    Range,
)
from coach.routine.read_nodes import (
    _EXERCISE_HINTS,
    _Scope,
    _shortened,
)
from coach.routine.read_figures import FigureReader


class ExerciseReader(FigureReader):
    """Reads the exercise list and each exercise (its steps through `self.steps`)."""

    def exercises(self, node: Node) -> tuple[Exercise, ...] | None:
        """The `exercises` list."""
        items = self.items("exercises", node, "exercises", "exercise", MAX_EXERCISES)
        if items is None:
            return None
        built = [self.exercise(item) for item in items]
        return None if None in built else tuple(built)  # type: ignore[arg-type]

    def exercise(self, node: Node) -> Exercise | None:
        """One exercise mapping."""
        before = len(self.problems)
        expected = "expected an exercise (a mapping with 'name' and 'steps')"
        fields = self.mapping(node, expected, "exercise", EXERCISE_KEYS, _EXERCISE_HINTS)
        if fields is None:
            return None
        self.require(node, fields, ("name", "steps"), "exercise")
        name = self.optional(fields, "name", lambda value: self.text("name", value))
        sides = self.optional(fields, "sides", self.sides)
        side_nodes = fields["sides"].value.value if sides is not None and "sides" in fields else []
        scope = _Scope(sides=len(sides) if sides is not None else (None if "sides" in fields else 0))
        note = self.optional(fields, "note", lambda value: self.spoken("note", value, scope))
        say_note = self.optional(fields, "say_note", lambda value: self.flag("say_note", value))
        if say_note and "note" not in fields:
            self.error(fields["say_note"].key, "say_note: there is no 'note' to say")
        setup = self.optional(fields, "setup", lambda value: self.spoken("setup", value, scope))
        ranges: list[tuple[str, Range]] = []
        rounds = self.optional(
            fields, "rounds", lambda value: self.ranged_whole("rounds", value, 1, MAX_ROUNDS, "rounds", ranges)
        )
        rest = self.optional(fields, "rest", lambda value: self.ranged_duration("rest", value, False, "rest", ranges))
        figure = self.figure_of(fields)
        steps = self.optional(fields, "steps", lambda value: self.steps(value, scope, depth=0))
        if len(self.problems) > before or name is None or steps is None:
            return None
        return Exercise(
            name=name,
            steps=steps,
            note=note,
            say_note=bool(say_note),
            setup=setup,
            sides=sides or (),
            rounds=1 if rounds is None else rounds,
            rest=rest,  # type: ignore[arg-type]
            where=self.where(node),
            side_where=tuple(self.where(side) for side in side_nodes),
            ranges=tuple(ranges),
            figure=figure,
        )

    def sides(self, node: Node) -> tuple[str, ...] | None:
        """An exercise's `sides`: 1..MAX_SIDES names, different even ignoring case."""
        items = self.items("sides", node, "sides such as [left, right]", "side", MAX_SIDES)
        if items is None:
            return None
        before = len(self.problems)
        seen: set[str] = set()
        found = []
        for item in items:
            side = self.text("sides", item)
            if side is None:
                continue
            if side.casefold() in seen:
                self.error(item, f"sides: '{_shortened(side)}' is listed twice")
            seen.add(side.casefold())
            found.append(side)
        return None if len(self.problems) > before else tuple(found)

