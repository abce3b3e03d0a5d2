"""Reading an exercise's steps: say, hold, inhale, exhale, breathe, repeat and rest, repeats nested."""

from __future__ import annotations

from dataclasses import replace

from yaml.nodes import Node

from coach.routine.limits import (
    FIGURE_KEYS,
    MAX_BREATHE,
    MAX_REPEAT,
    MAX_REPEAT_DEPTH,
    MAX_STEPS,
    STEP_KEYS,
    STEP_KINDS,
)
from coach.routine.model import (
    Breath,
    Breathe,
    Hold,
    Range,
    Repeat,
    Rest,
    Say,
    Step,
    Where,
)
from coach.routine.read_nodes import (
    _BELONGS,
    _KIND_LIST,
    _article,
    _Entry,
    _Scope,
)
from coach.routine.read_figures import FigureReader


class StepReader(FigureReader):
    """Reads a list of steps and each step of every kind."""

    # -- steps

    def steps(self, node: Node, scope: _Scope, depth: int) -> tuple[Step, ...] | None:
        """A `steps` list, `depth` repeats deep."""
        items = self.items("steps", node, "steps", "step", MAX_STEPS)
        if items is None:
            return None
        built = [self.step(item, scope, depth) for item in items]
        return None if None in built else tuple(built)  # type: ignore[arg-type]

    def step(self, node: Node, scope: _Scope, depth: int) -> Step | None:
        """One step mapping: its kind is its one kind key, which decides the other keys it may have."""
        before = len(self.problems)
        expected = "expected a step (a mapping such as 'say: ...' or 'hold: 30s')"
        fields = self.mapping(node, expected, "step", STEP_KEYS)
        if fields is None:
            return None
        kinds = [key for key in fields if key in STEP_KINDS]
        if len(kinds) > 1 and "say" in kinds:
            kinds.remove("say")  # `say` is a kind on its own, and the spoken line of a hold or rest
        if not kinds:
            if len(self.problems) == before:  # an unknown key already explains a step without a kind
                hint = " ('steps' needs 'repeat: N')" if "steps" in fields else ""
                self.error(node, f"a step needs one of {_KIND_LIST}{hint}")
            return None
        kind = kinds[0]
        for other in kinds[1:]:
            message = f"'{other}' cannot be in the same step as '{kind}' (make it a step of its own)"
            self.error(fields[other].key, message)
        for key, entry in fields.items():
            if key not in STEP_KINDS[kind] and key not in kinds and key not in FIGURE_KEYS:
                self.error(entry.key, f"'{key}' is not allowed in {_article(kind)} '{kind}' step ({_BELONGS[key]})")
        where = self.where(node)
        value = fields[kind].value
        step: Step | None = None
        ranges: list[tuple[str, Range]] = []
        if kind == "say":
            text = self.spoken("say", value, scope)
            step = None if text is None else Say(text, where)
        elif kind == "hold":
            seconds = self.ranged_duration("hold", value, True, "seconds", ranges)
            line = self.optional(fields, "say", lambda said: self.spoken("say", said, scope))
            step = None if seconds is None else Hold(seconds, line, where, tuple(ranges))
        elif kind in ("inhale", "exhale"):
            text = self.spoken(kind, value, scope)
            seconds = self.optional(
                fields, "breath", lambda slot: self.ranged_duration("breath", slot, True, "seconds", ranges)
            )
            phase = "in" if kind == "inhale" else "out"
            step = None if text is None else Breath(phase, text, seconds, where, tuple(ranges))
        elif kind == "breathe":
            count = self.ranged_whole("breathe", value, 1, MAX_BREATHE, "count", ranges)
            step = None if count is None else Breathe(int(count), where, tuple(ranges))
        elif kind == "rest":
            seconds = self.ranged_duration("rest", value, True, "seconds", ranges)
            line = self.optional(fields, "say", lambda said: self.spoken("say", said, scope))
            step = None if seconds is None else Rest(seconds, line, where, tuple(ranges))
        else:
            step = self.repeat(node, fields, scope, depth, where)
        figure = self.figure_of(fields)
        if figure is not None and step is not None:
            step = replace(step, figure=figure)
        return None if len(self.problems) > before else step

    def repeat(self, node: Node, fields: dict[str, _Entry], scope: _Scope, depth: int, where: Where) -> Repeat | None:
        """A `repeat` step, whose steps may use {rep} and {reps}."""
        ranges: list[tuple[str, Range]] = []
        count = self.ranged_whole("repeat", fields["repeat"].value, 1, MAX_REPEAT, "count", ranges)
        hint = " (the number of repetitions goes after 'repeat:')"
        aloud = self.optional(fields, "count", lambda value: self.flag("count", value, hint))
        self.require(node, fields, ("steps",), "'repeat' step")
        if depth + 1 > MAX_REPEAT_DEPTH:
            message = f"repeat: nested too deep (at most {MAX_REPEAT_DEPTH} repeats inside each other)"
            self.error(fields["repeat"].key, message)
            return None
        inner = _Scope(sides=scope.sides, in_repeat=True)
        steps = self.optional(fields, "steps", lambda value: self.steps(value, inner, depth + 1))
        if count is None or steps is None:
            return None
        return Repeat(int(count), steps, bool(aloud), where, tuple(ranges))

