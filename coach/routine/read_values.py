"""Reading scalar values of a routine: texts and templates, numbers, flags, durations, ranges and levels."""

from __future__ import annotations

import math
import unicodedata

from yaml.nodes import Node, ScalarNode

from coach.routine.durations import USAGE, parse_duration
from coach.routine.levels import NAMED_LEVELS, parse_level
from coach.routine.limits import (
    MAX_DURATION_SECONDS,
    MAX_TEXT_LENGTH,
)
from coach.routine.model import (
    Range,
)
from coach.routine.phrases import TEXT_FIELDS, template_names
from coach.routine.ranges import (
    looks_like_range,
    parse_count_range,
    parse_duration_range,
    parse_frequency,
)
from coach.routine.read_nodes import (
    _FLOAT,
    _INT,
    _NULL,
    _OFF,
    _OTHER_NAMES,
    _REP_NAMES,
    _SIDE_NAMES,
    _STR,
    NodeReader,
    _describe,
    _did_you_mean,
    _duration_value,
    _fields,
    _has_words,
    _name_list,
    _odd_brace,
    _Scope,
    _shortened,
    _template_problem,
    _yaml_bool,
    _yaml_int,
)


class ValueReader(NodeReader):
    """Reads one scalar value of each kind, or records why it cannot."""

    # -- scalars

    def text(self, label: str, node: Node) -> str | None:
        """A non-empty string of bounded length without control characters, trimmed."""
        if not self.visit(node):
            return None
        if not (isinstance(node, ScalarNode) and node.tag == _STR):
            hint = " (put it in quotes to use it as text)" if isinstance(node, ScalarNode) and node.tag != _NULL else ""
            self.error(node, f"{label}: expected a string, got {_describe(node)}{hint}")
            return None
        raw = node.value
        if len(raw) > MAX_TEXT_LENGTH:
            self.error(node, f"{label}: too long ({len(raw)} characters, at most {MAX_TEXT_LENGTH})")
            return None
        if not raw.strip():
            self.error(node, f"{label}: must not be empty")
            return None
        control = next((c for c in raw if unicodedata.category(c) == "Cc" and c not in "\n\t"), None)
        if control is not None:
            self.error(node, f"{label}: contains a control character (U+{ord(control):04X})")
            return None
        return raw.strip()

    def spoken(self, label: str, node: Node, scope: _Scope) -> str | None:
        """A text the coach speaks: its template names must exist and make sense where it stands."""
        text = self.text(label, node)
        if text is None:
            return None
        names = self.template_names_of(label, node, text)
        if names is None:
            return None
        if not names and not _has_words(text):
            self.error(node, f"{label}: nothing to say (the voice speaks letters and digits, and this has none)")
            return None
        before = len(self.problems)
        for offset, name in _fields(text):
            field = "{" + name + "}"
            if name not in TEXT_FIELDS:
                suggestion = _did_you_mean(name, tuple(sorted(TEXT_FIELDS)), braces=True)
                hint = suggestion or f" (use {_name_list(TEXT_FIELDS)})"
                self.error_in(node, text, offset, f"{label}: unknown template name '{field}'{hint}")
            elif name in _SIDE_NAMES and scope.sides == 0:
                self.error_in(node, text, offset, f"{label}: '{field}' can only be used in an exercise with 'sides'")
            elif name in _OTHER_NAMES and scope.sides is not None and scope.sides < 2:
                message = f"{label}: '{field}' can only be used in an exercise with two or more 'sides'"
                self.error_in(node, text, offset, message)
            elif name in _REP_NAMES and not scope.in_repeat:
                self.error_in(node, text, offset, f"{label}: '{field}' can only be used inside a 'repeat'")
        return None if len(self.problems) > before else text

    def phrase_template_ok(self, label: str, node: Node, template: str, allowed: frozenset[str]) -> bool:
        """Whether a phrase override uses only the names its phrase is filled with."""
        names = self.template_names_of(label, node, template)
        if names is None:
            return False
        unknown = [(offset, name) for offset, name in _fields(template) if name not in allowed]
        for offset, name in unknown:
            hint = f"use {_name_list(allowed)}" if allowed else "this phrase takes no names"
            self.error_in(node, template, offset, f"{label}: unknown template name '{{{name}}}' ({hint})")
        return not unknown

    def template_names_of(self, label: str, node: Node, text: str) -> list[str] | None:
        """The template names a text uses, or None (reported) when the text is not a valid template."""
        try:
            return template_names(text)
        except ValueError as error:
            self.error_in(node, text, _odd_brace(text), f"{label}: {_template_problem(text, str(error))}")
            return None

    def whole(self, label: str, node: Node, least: int, most: int, hint: str = "") -> int | None:
        """A whole number in least..most."""
        if not self.visit(node):
            return None
        if isinstance(node, ScalarNode) and node.tag == _FLOAT:
            self.error(node, f"{label}: expected a whole number, got {_shortened(node.value)}")
            return None
        if not (isinstance(node, ScalarNode) and node.tag == _INT):
            self.error(node, f"{label}: expected a whole number, got {_describe(node)}{hint}")
            return None
        value = _yaml_int(node)
        if value is None:
            self.error(node, f"{label}: expected a whole number, got '{_shortened(node.value)}'")
            return None
        if not least <= value <= most:
            self.error(node, f"{label}: must be between {least} and {most}, got {_shortened(node.value)}")
            return None
        return value

    def number(self, label: str, node: Node, least: float, most: float) -> float | None:
        """A number (whole or decimal) in least..most."""
        if not self.visit(node):
            return None
        if not (isinstance(node, ScalarNode) and node.tag in (_INT, _FLOAT)):
            self.error(node, f"{label}: expected a number, got {_describe(node)}")
            return None
        try:
            value = float(node.value.replace("_", ""))
        except ValueError:
            value = float("nan")
        if not (math.isfinite(value) and least <= value <= most):
            self.error(node, f"{label}: must be between {least:g} and {most:g}, got {_shortened(node.value)}")
            return None
        return value

    def flag(self, label: str, node: Node, hint: str = "") -> bool | None:
        """true or false (YAML's yes/no/on/off too)."""
        if not self.visit(node):
            return None
        value = _yaml_bool(node)
        if value is None:
            self.error(node, f"{label}: expected true or false, got {_describe(node)}{hint}")
        return value

    def duration(self, label: str, node: Node, positive: bool, off_allowed: bool = False) -> float | object | None:
        """Seconds from a duration value; with `off_allowed`, `false` gives _OFF."""
        if not self.visit(node):
            return None
        if off_allowed and _yaml_bool(node) is False:
            return _OFF
        expected = f"a duration ({USAGE})" + (" or false" if off_allowed else "")
        if not (isinstance(node, ScalarNode) and node.tag in (_INT, _FLOAT, _STR)):
            self.error(node, f"{label}: expected {expected}, got {_describe(node)}")
            return None
        try:
            seconds = parse_duration(_duration_value(node))
        except ValueError as error:
            self.error(node, f"{label}: {error}")
            return None
        if positive and seconds == 0:
            hint = " (use false to turn it off)" if off_allowed else ""
            self.error(node, f"{label}: must be longer than 0 seconds{hint}")
            return None
        if seconds > MAX_DURATION_SECONDS:
            limit = MAX_DURATION_SECONDS // 3600
            self.error(node, f"{label}: must be at most {limit} hours, got '{_shortened(node.value)}'")
            return None
        return seconds

    def ranged_duration(
        self, label: str, node: Node, positive: bool, name: str, ranges: list[tuple[str, Range]]
    ) -> float | None:
        """A duration or a range of them ('30-60s'): a range is added to `ranges` as `name` and its low end returned."""
        if not (isinstance(node, ScalarNode) and node.tag == _STR and looks_like_range(node.value)):
            return self.duration(label, node, positive=positive)  # type: ignore[return-value]
        if not self.visit(node):
            return None
        try:
            span = parse_duration_range(node.value)
        except ValueError as error:
            self.error(node, f"{label}: {error}")
            return None
        if positive and span.low == 0:
            self.error(node, f"{label}: range '{_shortened(node.value.strip())}' must start above 0 seconds")
            return None
        if span.high > MAX_DURATION_SECONDS:
            limit = MAX_DURATION_SECONDS // 3600
            self.error(node, f"{label}: range '{_shortened(node.value.strip())}' must end at most {limit} hours")
            return None
        ranges.append((name, span))
        return span.low

    def ranged_whole(
        self, label: str, node: Node, least: int, most: int, name: str, ranges: list[tuple[str, Range]]
    ) -> int | None:
        """A whole number in least..most or a range of them ('5-10'), added to `ranges` as `name`."""
        if not (isinstance(node, ScalarNode) and node.tag == _STR):
            return self.whole(label, node, least, most)
        if not self.visit(node):
            return None
        if not looks_like_range(node.value):
            shown = _shortened(node.value.strip())
            self.error(node, f"{label}: expected a whole number or a range such as 5-10, got '{shown}'")
            return None
        try:
            span = parse_count_range(node.value)
        except ValueError as error:
            self.error(node, f"{label}: {error}")
            return None
        if not (least <= span.low and span.high <= most):
            shown = _shortened(node.value.strip())
            self.error(node, f"{label}: range '{shown}' must be within {least} to {most}")
            return None
        ranges.append((name, span))
        return int(span.low)

    def frequency(self, node: Node) -> Range | None:
        """`frequency`: how many sessions a week the text advises, such as 1-3/week."""
        if not self.visit(node):
            return None
        if not (isinstance(node, ScalarNode) and node.tag == _STR):
            self.error(node, f"frequency: expected sessions a week such as 1-3/week, got {_describe(node)}")
            return None
        try:
            return parse_frequency(node.value)
        except ValueError as error:
            self.error(node, f"frequency: {error}")
            return None

    def level(self, label: str, node: Node) -> float | None:
        """A level: easy, standard, deep or a number from 0 to 1."""
        if not self.visit(node):
            return None
        expected = f"{label}: expected easy, standard, deep or a number from 0 to 1"
        if not (isinstance(node, ScalarNode) and node.tag in (_STR, _INT, _FLOAT)):
            self.error(node, f"{expected}, got {_describe(node)}")
            return None
        if node.tag == _STR and node.value.strip().casefold() not in NAMED_LEVELS:
            # a number in quotes is text to an editor's schema: refuse it here too
            self.error(node, f"{expected}, got '{_shortened(node.value)}'")
            return None
        try:
            return parse_level(node.value)
        except ValueError as error:
            self.error(node, f"{label}: {error}")
            return None

