"""Reading YAML nodes: mappings and lists checked against their keys, the node budget, and each problem at its place."""

from __future__ import annotations

import difflib
import re
import string
import unicodedata
from dataclasses import dataclass
from typing import Callable, NamedTuple, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from coach.errors import Diagnostic
from coach.routine.limits import (
    EXERCISE_KEYS,
    MAX_DIAGNOSTICS,
    MAX_NODES,
    STEP_KEYS,
    TEXT_FIELD_ORDER,
)
from coach.routine.model import (
    Where,
)

_YAML = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_YAML + name for name in ("str", "int", "float", "bool", "null"))
_TIMESTAMP, _MERGE, _SEQ, _MAP = (_YAML + name for name in ("timestamp", "merge", "seq", "map"))
_SCALAR_TAGS = frozenset({_STR, _INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP, _MERGE})
_SCALARS = yaml.constructor.SafeConstructor()  # PyYAML's own readings of ints and booleans

_KIND_LIST = "'say', 'hold', 'inhale', 'exhale', 'breathe', 'repeat' or 'rest'"
_ROUTINE_HINTS = {"name": " (the routine's name goes in 'title')"}
_EXERCISE_HINTS = {key: " (steps go in the exercise's 'steps' list)" for key in STEP_KEYS if key not in EXERCISE_KEYS}
_BELONGS = {
    "say": "only with 'hold' or 'rest'",
    "breath": "only with 'inhale' or 'exhale'",
    "count": "only with 'repeat'",
    "steps": "only with 'repeat'",
}
_SIDE_NAMES = frozenset({"side", "Side"})
_OTHER_NAMES = frozenset({"other", "Other"})
_REP_NAMES = frozenset({"rep", "reps"})



class _OutOfBudget(Exception):
    """Walking stops at once: the document expands past MAX_NODES."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


class _TooManyProblems(Exception):
    """Walking stops: more problems than are ever shown have been found (22,000 unknown keys need not all be named)."""


class _Entry(NamedTuple):
    key: ScalarNode
    value: Node


@dataclass(frozen=True)
class _Scope:
    """What a spoken text may refer to where it stands."""

    sides: int | None  # how many sides the exercise has; None when its `sides` is itself wrong
    in_repeat: bool = False


_T = TypeVar("_T")



class NodeReader:
    """The walk's bookkeeping and structure: mappings, lists, node budget, and problems at their places."""

    def __init__(self, path: str, saw_alias: bool, source: str = ""):
        self.path = path
        self.saw_alias = saw_alias
        self.source = source  # the file's text, to place a problem inside a multi-line text
        self.problems: list[Diagnostic] = []
        self.visits = 0


    # -- mappings and lists

    def mapping(
        self,
        node: Node,
        expected: str,
        context: str,
        known: tuple[str, ...],
        hints: dict[str, str] | None = None,
    ) -> dict[str, _Entry] | None:
        """The known keys of a mapping node in file order; unknown, duplicate and odd keys are reported."""
        if not self.visit(node):
            return None
        if not isinstance(node, MappingNode):
            self.error(node, f"{expected}, got {_describe(node)}")
            return None
        found: dict[str, _Entry] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not self.visit(key_node):
                continue
            if not isinstance(key_node, ScalarNode):
                self.error(key_node, f"a key must be a name, got {_describe(key_node)}")
                continue
            if key_node.tag == _MERGE:
                self.error(key_node, "merge keys ('<<') are not supported: write the keys out")
                continue
            key = key_node.value
            if key in first_line:
                self.error(key_node, f"duplicate key '{_shortened(key)}' (first on line {first_line[key]})")
                continue
            first_line[key] = key_node.start_mark.line + 1
            if key not in known:
                hint = (hints or {}).get(key) or _did_you_mean(key, known)
                self.error(key_node, f"unknown key '{_shortened(key)}' in {context}{hint}")
                continue
            found[key] = _Entry(key_node, value_node)
        return found

    def require(self, node: Node, fields: dict[str, _Entry], keys: tuple[str, ...], context: str) -> None:
        """Report each of `keys` missing from a mapping, at the mapping."""
        for key in keys:
            if key not in fields:
                self.error(node, f"missing required key '{key}' in {context}")

    def optional(self, fields: dict[str, _Entry], key: str, read: Callable[[Node], _T | None]) -> _T | None:
        """`read` applied to the key's value when the key is there, else None."""
        entry = fields.get(key)
        return None if entry is None else read(entry.value)

    def items(self, label: str, node: Node, plural: str, singular: str, most: int) -> list[Node] | None:
        """The items of a list node holding 1..most things."""
        if not self.visit(node):
            return None
        if not isinstance(node, SequenceNode):
            self.error(node, f"{label}: expected a list of {plural}, got {_describe(node)}")
            return None
        if not node.value:
            self.error(node, f"{label}: needs at least one {singular}")
            return None
        if len(node.value) > most:
            self.error(node, f"{label}: too many {label} ({len(node.value)}, at most {most})")
            return None
        return list(node.value)


    # -- bookkeeping

    def visit(self, node: Node) -> bool:
        """Count a node against the budget; False (reported) when its YAML tag is not a standard one."""
        self.visits += 1
        if self.visits > MAX_NODES:
            reason = f"aliases expand past {MAX_NODES} nodes" if self.saw_alias else f"more than {MAX_NODES} nodes"
            raise _OutOfBudget(self.at(node, f"document too large: {reason}"))
        if isinstance(node, ScalarNode):
            fits = node.tag in _SCALAR_TAGS
        else:
            fits = node.tag == (_MAP if isinstance(node, MappingNode) else _SEQ)
        if not fits:
            self.error(node, f"unsupported YAML tag '{_tag_name(node.tag)}'")
        return fits

    def where(self, node: Node) -> Where:
        """The position of a mapping's first key (of the node itself when it has none)."""
        first = node.value[0][0] if isinstance(node, MappingNode) and node.value else node
        return Where(self.path, first.start_mark.line + 1, first.start_mark.column + 1)

    def at(self, node: Node, message: str) -> Diagnostic:
        """A diagnostic at the start of a node."""
        return _diagnostic(self.path, node.start_mark, message)

    def error(self, node: Node, message: str) -> None:
        """Report a problem at the start of a node; stop the walk once more are found than can be shown."""
        self.problems.append(self.at(node, message))
        if len(self.problems) > MAX_DIAGNOSTICS:
            raise _TooManyProblems()

    def error_in(self, node: Node, value: str, offset: int | None, message: str) -> None:
        """Report a problem at character `offset` of a scalar's (trimmed) value, where the file has it."""
        index = None if offset is None else _source_index(self.source, node, value, offset)
        if index is None:
            self.error(node, message)
            return
        line = self.source.count("\n", 0, index) + 1
        column = index - (self.source.rfind("\n", 0, index) + 1) + 1
        self.problems.append(Diagnostic(self.path, line, column, _diagnostic(self.path, None, message).message))



_OFF = object()  # `halfway: false`
# How PyYAML's scalar constructors fail on text their tag does not fit (`!!float ""` indexes an empty
# string, `!!int 0b` gives int() nothing, a long sexagesimal overflows): LookupError and ArithmeticError
# cover IndexError, KeyError and OverflowError.
_CONSTRUCTOR_FAILURES = (ValueError, TypeError, LookupError, ArithmeticError)
_DECIMAL = re.compile(r"[-+]?[0-9]+")


def _yaml_int(node: ScalarNode) -> int | None:
    if len(node.value) > 40:  # far past any limit, and int() refuses very long digit strings anyway
        return 10**40
    if _DECIMAL.fullmatch(node.value):
        return int(node.value, 10)  # 010 is ten, as a runner (and YAML 1.2) reads it, not YAML 1.1's octal eight
    try:
        return _SCALARS.construct_yaml_int(node)
    except _CONSTRUCTOR_FAILURES:
        return None


def _duration_value(node: ScalarNode) -> object:
    """What parse_duration gets: YAML numbers as the numbers a YAML-aware editor sees, clocks and text as written."""
    if node.tag == _STR or ":" in node.value:  # YAML 1.1 reads 1:30 as 90, but also 1:5 as 65
        return node.value
    if node.tag == _INT:
        number = _yaml_int(node)
        return node.value if number is None else number
    try:
        return _SCALARS.construct_yaml_float(node)
    except _CONSTRUCTOR_FAILURES:
        return node.value


def _has_words(text: str) -> bool:
    """Whether a text has anything a voice can say: a letter or a digit (punctuation, spaces and
    invisible characters alone render silence)."""
    return any(unicodedata.category(character)[0] in "LN" for character in text)


def _yaml_bool(node: Node) -> bool | None:
    if not (isinstance(node, ScalarNode) and node.tag == _BOOL):
        return None
    return _SCALARS.bool_values.get(node.value.lower())


def _describe(node: Node) -> str:
    """What a node is, for 'expected X, got Y'."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return {
        _NULL: "nothing",
        _BOOL: "a boolean",
        _INT: "a number",
        _FLOAT: "a number",
        _TIMESTAMP: "a date",
        _MERGE: "'<<'",
    }.get(node.tag, "a string")


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(_YAML):] if tag.startswith(_YAML) else tag


def _field_order(name: str) -> tuple[int, str]:
    """Template names in the order a reader thinks of them: side before other, lower case before capitalised."""
    return (TEXT_FIELD_ORDER.index(name) if name in TEXT_FIELD_ORDER else len(TEXT_FIELD_ORDER), name)


def _did_you_mean(word: str, choices: tuple[str, ...], braces: bool = False) -> str:
    """' (did you mean 'x'?)' when one of `choices` is close to `word`, else ''."""
    if len(word) > 40:
        return ""
    by_lower = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    if not close:
        return ""
    match = by_lower[close[0]]
    return f" (did you mean '{{{match}}}'?)" if braces else f" (did you mean '{match}'?)"


def _name_list(names: frozenset[str]) -> str:
    shown = ["{" + name + "}" for name in sorted(names, key=_field_order)]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def _template_problem(text: str, error: str) -> str:
    """Python's format-string complaint, said for a routine's text."""
    if error.startswith("bad template field"):
        field = _first_odd_field(text) or error.removeprefix("bad template field ")
        hint = "(use a plain name such as {side}; write '{{' and '}}' for braces)"
        return f"bad template field {_shortened(field)} {hint}"
    if "Single '{'" in error or "expected '}'" in error or "unmatched '{'" in error:
        return "a '{' without its '}' (write '{{' for a brace)"
    if "Single '}'" in error:
        return "a '}' without its '{' (write '}}' for a brace)"
    return f"bad template: {error}"


def _first_odd_field(text: str) -> str | None:
    """The first field as written (`{a.b}`, `{side!r}`) that is not a plain name; the text parses as a template."""
    for _literal, name, spec, conversion in string.Formatter().parse(text):
        if name is not None and (not name.isidentifier() or spec or conversion):
            return "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
    return None


_BRACES = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def _fields(template: str) -> list[tuple[int, str]]:
    """Each `{name}` field of a valid template with the offset of its brace, in order ('{{' is not a field)."""
    return [(found.start(), found.group(1)) for found in _BRACES.finditer(template) if found.group(1) is not None]


def _odd_brace(template: str) -> int | None:
    """The offset of the first field that is not a plain name, or of the first lone brace."""
    for found in _BRACES.finditer(template):
        if found.group(0) in ("{", "}") or (found.group(1) is not None and not found.group(1).isidentifier()):
            return found.start()
    return None


def _source_index(source: str, node: Node, value: str, offset: int) -> int | None:
    """Where the character at `offset` of a scalar's value is in the file, or None when it cannot be placed.

    Folding, indentation and quoting change only whitespace and quotes, so the value's other characters
    appear in the file in the same order: walk them forward from the scalar's first character.
    """
    if not source or not isinstance(node, ScalarNode) or offset >= len(value):
        return None
    start, end = node.start_mark.index, node.end_mark.index
    if node.style in ("|", ">"):
        start = source.find("\n", start, end) + 1  # past the block's header line
        if start == 0:
            return None
    elif node.style in ('"', "'"):
        start += 1
    cursor = start
    for character in value[: offset + 1]:
        if character.isspace():
            continue
        found = source.find(character, cursor, end)
        if found < 0:
            return None
        cursor = found + 1
    return cursor - 1


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _shortened(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _diagnostic(path: str, mark: yaml.Mark | None, message: str) -> Diagnostic:
    """A diagnostic at a YAML mark (the file's start without one), on one printable line."""
    # Keys and values quoted in messages can hold newlines and control characters: show them escaped.
    printable = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    if mark is None:
        return Diagnostic(path, 1, 1, printable)
    return Diagnostic(path, mark.line + 1, mark.column + 1, printable)
