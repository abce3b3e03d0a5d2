"""The speech coach generates, as templates; a routine's `phrases:` overrides any of them (e.g. another language)."""

from __future__ import annotations

import math
import re
import string
from typing import Mapping

# Each phrase: its default template and the template names it may use.
DEFAULT_PHRASES: dict[str, str] = {
    "intro": "{title}. {exercises}, about {minutes}.",
    "intro_level": "{title}, {level}. {exercises}, about {minutes}.",  # a routine with ranges: the level picked
    "level_named": "{name} level",  # easy, standard, deep
    "level_number": "level {number}",  # a level between 0 and 1 given as a number
    "exercise": "{name}.",
    "first_side": "{Side} side.",
    "switch": "Switch sides. {Side} side.",
    "round": "Round {round} of {rounds}.",
    # A repeat with `count: true`: how many, then every number from 1 (so the first is counted like the
    # others), then the last one announced.
    "rep_first": "{reps} times. {rep}.",
    "rep": "{rep}.",
    "rep_last": "Last one.",
    "rep_last_hold": "Last one, then hold it.",  # when a hold follows the repeat
    "inhale": "Inhale, {text}",
    "exhale": "Exhale, {text}",
    # An inhale/exhale of a long repeat after the first two repetitions, once the movement is known.
    "inhale_again": "Inhale.",
    "exhale_again": "Exhale.",
    # `breathe: N`: the first breath in full with the count, then counted short ones, and the last announced.
    "breathe_first": "{breaths} slow breaths. Breathe in.",
    "breathe_in": "Breathe in.",  # `breathe: 1`
    "breathe_out": "Breathe out.",
    "breathe_in_again": "{breath}. In.",
    "breathe_out_again": "Out.",
    "breathe_in_last": "Last breath. Breathe in.",
    # A hold: alone, after the author's line, or continuing the author's line when it starts with "Hold".
    "hold": "Hold for {duration}.",
    "hold_after": "{text} Hold for {duration}.",
    "hold_on": "{text} for {duration}.",
    "halfway": "Halfway.",
    # A rest step inside an exercise, spoken like a hold.
    "rest_step": "Rest for {duration}.",
    "rest_step_after": "{text} Rest for {duration}.",
    "rest_step_on": "{text} for {duration}.",
    # The rest between exercises.
    "rest": "Rest for {duration}. Next up: {next}.",
    "outro": "Well done. That is the end of {title}.",
}

_TIMED = frozenset({"duration", "seconds"})
_TIMED_TEXT = frozenset({"duration", "seconds", "text"})
PHRASE_FIELDS: dict[str, frozenset[str]] = {
    "intro": frozenset({"title", "exercises", "minutes"}),
    "intro_level": frozenset({"title", "level", "exercises", "minutes"}),
    "level_named": frozenset({"name"}),
    "level_number": frozenset({"number"}),
    "exercise": frozenset({"name"}),
    "first_side": frozenset({"side", "Side"}),
    "switch": frozenset({"side", "Side", "other", "Other"}),
    "round": frozenset({"round", "rounds"}),
    "rep_first": frozenset({"rep", "reps"}),
    "rep": frozenset({"rep", "reps"}),
    "rep_last": frozenset({"rep", "reps"}),
    "rep_last_hold": frozenset({"rep", "reps"}),
    "inhale": frozenset({"text"}),
    "exhale": frozenset({"text"}),
    "inhale_again": frozenset({"text"}),
    "exhale_again": frozenset({"text"}),
    "breathe_first": frozenset({"breath", "breaths"}),
    "breathe_in": frozenset({"breath", "breaths"}),
    "breathe_out": frozenset({"breath", "breaths"}),
    "breathe_in_again": frozenset({"breath", "breaths"}),
    "breathe_out_again": frozenset({"breath", "breaths"}),
    "breathe_in_last": frozenset({"breath", "breaths"}),
    "hold": _TIMED,
    "hold_after": _TIMED_TEXT,
    "hold_on": _TIMED_TEXT,
    "halfway": frozenset(),
    "rest_step": _TIMED,
    "rest_step_after": _TIMED_TEXT,
    "rest_step_on": _TIMED_TEXT,
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
_TIME_UNITS = ("second", "seconds", "minute", "minutes", "hour", "hours")  # singular, plural, ...
_ONE_WORDS = frozenset({"a", "an", "one", "half"})

_SENTENCE_ENDS = (".", "!", "?", "…", '"', "'", ")")
_SENTENCE_END = re.compile(r"[.!?…]+[\"')\]]*\s+")
_WORD = re.compile(r"\w+")


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


def whole_seconds(seconds: float) -> int:
    """The one number rule for spoken time: whole seconds, halves rounded up, and never 0 for a real duration."""
    whole = math.floor(seconds + 0.5)
    return max(1, whole) if seconds > 0 else 0


class Phrases:
    """The routine's phrase book: defaults with its overrides, filled on demand."""

    def __init__(self, overrides: Mapping[str, str] | None = None):
        self._templates = {**DEFAULT_PHRASES, **dict(overrides or {})}

    def say(self, key: str, **values: object) -> str:
        """The phrase `key` filled with `values`."""
        return fill(self._templates[key], values)

    def counted(self, number: int, singular: str, plural: str) -> str:
        """`1 minute`, `2 minutes`: a whole number with its unit word from the phrase book."""
        word = self._templates[singular] if number == 1 else self._templates[plural]
        return f"{number} {word}"

    def duration(self, seconds: float) -> str:
        """A duration as a person says it: 45 -> '45 seconds', 90.4 -> '1 minute 30 seconds', 3600 -> '1 hour'."""
        hours, rest = divmod(whole_seconds(seconds), 3600)
        minutes, secs = divmod(rest, 60)
        parts = []
        if hours:
            parts.append(self.counted(hours, "hour", "hours"))
        if minutes:
            parts.append(self.counted(minutes, "minute", "minutes"))
        if secs or not parts:
            parts.append(self.counted(secs, "second", "seconds"))
        return " ".join(parts)

    def timed(self, kind: str, seconds: float, text: str | None) -> str:
        """The one cue of a hold or rest (`kind`): the author's line and the duration, said once and without repeats.

        A line that already says how long ('Hold for ten seconds.') is said as written; a line whose
        last sentence starts with the phrase's own first word ('Hold it there.') is continued ('Hold it
        there for 10 seconds.'); any other line is followed by the phrase.
        """
        values = {"duration": self.duration(seconds), "seconds": whole_seconds(seconds)}
        if not text:
            return self.say(kind, **values)
        if self.names_a_duration(text):
            return text
        last_sentence = _SENTENCE_END.split(text.strip())[-1]
        if _first_word(last_sentence) and _first_word(last_sentence) == _first_word(self._templates[kind]):
            return self.say(f"{kind}_on", text=text.rstrip().rstrip(".!…"), **values)
        ended = text if text.rstrip().endswith(_SENTENCE_ENDS) else text.rstrip() + "."
        return self.say(f"{kind}_after", text=ended, **values)

    def names_a_duration(self, text: str) -> bool:
        """Whether a line already says how long: a plural time unit of the phrase book ('ten seconds'), or a
        singular one after a number or 'a' ('1 minute', 'a second'; not 'Second position')."""
        plural = {self._templates[unit].casefold() for unit in _TIME_UNITS[1::2]}
        singular = {self._templates[unit].casefold() for unit in _TIME_UNITS[::2]}
        words = [word.casefold() for word in _WORD.findall(text)]
        for before, word in zip(["", *words], words):
            if word in plural or (word in singular and (before.isdigit() or before in _ONE_WORDS)):
                return True
        return False

    def breath(self, key: str, text: str) -> str:
        """An inhale/exhale cue: the phrase around the author's text, unless the text already starts with its word."""
        if _first_word(text) and _first_word(text) == _first_word(self._templates[key]):
            return text[0].upper() + text[1:]
        return self.say(key, text=_lower_first(text))


def _first_word(text: str) -> str:
    """The first word, case-folded ('' when there is none): 'Inhale, {text}' -> 'inhale'."""
    found = _WORD.search(text.split("{", 1)[0])  # a template's first word is before its first field
    return found.group(0).casefold() if found else ""


def _lower_first(text: str) -> str:
    """'Lift the belly' -> 'lift the belly' (after 'Inhale, '), but leave 'I' and acronyms like 'ACL' alone."""
    if len(text) >= 2 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text
