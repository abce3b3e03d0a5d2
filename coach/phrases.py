"""The speech coach generates, as templates; a routine's `phrases:` overrides any of them (e.g. another language)."""

from __future__ import annotations

import string
from typing import Mapping

# Each phrase: its default template and the template names it may use.
DEFAULT_PHRASES: dict[str, str] = {
    "intro": "{title}. {exercises}, about {minutes}.",
    "exercise": "{name}.",
    "first_side": "{Side} side.",
    "switch": "Switch sides. {Side} side.",
    "round": "Round {round} of {rounds}.",
    "rep": "{rep}.",
    "inhale": "Inhale, {text}",
    "exhale": "Exhale, {text}",
    "breathe_in": "Breathe in.",
    "breathe_out": "Breathe out.",
    "hold": "Hold for {duration}.",
    "halfway": "Halfway.",
    "rest": "Rest for {duration}. Next up: {next}.",
    "outro": "Well done. That is the end of {title}.",
}

PHRASE_FIELDS: dict[str, frozenset[str]] = {
    "intro": frozenset({"title", "exercises", "minutes"}),
    "exercise": frozenset({"name"}),
    "first_side": frozenset({"side", "Side"}),
    "switch": frozenset({"side", "Side", "other", "Other"}),
    "round": frozenset({"round", "rounds"}),
    "rep": frozenset({"rep", "reps"}),
    "inhale": frozenset({"text"}),
    "exhale": frozenset({"text"}),
    "breathe_in": frozenset({"breath", "breaths"}),
    "breathe_out": frozenset({"breath", "breaths"}),
    "hold": frozenset({"duration", "seconds"}),
    "halfway": frozenset(),
    "rest": frozenset({"duration", "seconds", "next"}),
    "outro": frozenset({"title"}),
}

# Names a routine's own spoken text (say, setup, hold say, inhale, exhale, note) may use.
TEXT_FIELDS = frozenset({"side", "other", "Side", "Other", "rep", "reps", "round", "rounds"})

# Words for durations; overridable through phrases too.
UNIT_PHRASES: dict[str, str] = {
    "second": "second",
    "seconds": "seconds",
    "minute": "minute",
    "minutes": "minutes",
    "hour": "hour",
    "hours": "hours",
    "exercise_unit": "exercise",
    "exercises_unit": "exercises",
}
PHRASE_FIELDS.update({unit: frozenset() for unit in UNIT_PHRASES})
DEFAULT_PHRASES.update(UNIT_PHRASES)


def template_names(template: str) -> list[str]:
    """The `{name}` fields a template uses, in order; raises ValueError on a malformed template."""
    names = []
    for _literal, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"bad template field {{{name}}}")
        names.append(name)
    return names


def fill(template: str, values: Mapping[str, object]) -> str:
    """Fill a template's `{name}` fields; names not given stay as written."""
    parts = []
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        parts.append(literal)
        if name is not None:
            parts.append(str(values[name]) if name in values else "{" + name + "}")
    return "".join(parts)


class Phrases:
    """The routine's phrase book: defaults with its overrides, filled on demand."""

    def __init__(self, overrides: Mapping[str, str] | None = None):
        self._templates = {**DEFAULT_PHRASES, **dict(overrides or {})}

    def say(self, key: str, **values: object) -> str:
        """The phrase `key` filled with `values`."""
        return fill(self._templates[key], values)

    def counted(self, number: int | float, singular: str, plural: str) -> str:
        """`1 minute`, `2 minutes`: a number with its unit word from the phrase book."""
        word = self._templates[singular] if number == 1 else self._templates[plural]
        return f"{_number(number)} {word}"

    def duration(self, seconds: float) -> str:
        """A duration as words: 45 -> '45 seconds', 90 -> '1 minute 30 seconds', 3600 -> '1 hour'."""
        if seconds < 60 and seconds != int(seconds):
            return self.counted(round(seconds, 1), "second", "seconds")
        total = int(round(seconds))
        hours, rest = divmod(total, 3600)
        minutes, secs = divmod(rest, 60)
        parts = []
        if hours:
            parts.append(self.counted(hours, "hour", "hours"))
        if minutes:
            parts.append(self.counted(minutes, "minute", "minutes"))
        if secs or not parts:
            parts.append(self.counted(secs, "second", "seconds"))
        return " ".join(parts)


def _number(value: int | float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"
