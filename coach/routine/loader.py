"""Load a routine script (YAML, format version 1) into the frozen model, reporting every problem at its place.

The YAML is composed into a node tree (coach/composer.py: safe tags only, marks kept, depth and node count
bounded) and walked by hand, so each problem is located at its key or value, all of them are collected (up
to MAX_DIAGNOSTICS), and aliases are counted as they are walked.
"""

from __future__ import annotations

import codecs
import difflib
import math
import re
import string
import unicodedata
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, NamedTuple, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from coach.composer import TooDeep, TooLarge, compose
from coach.durations import USAGE, parse_duration
from coach.errors import Diagnostic, RoutineError
from coach.levels import NAMED_LEVELS, at_level, default_level, parse_level
from coach.model import (
    SPEECH_ENGINES,
    Breath,
    Breathe,
    Exercise,
    Hold,
    Music,
    Pace,
    Range,
    Repeat,
    Rest,
    Routine,
    Say,
    Step,
    Voice,
    Where,
)
from coach.ranges import looks_like_range, parse_count_range, parse_duration_range, parse_frequency
from coach.phrases import DEFAULT_PHRASES, PHRASE_FIELDS, TEXT_FIELDS, template_names

MAX_FILE_BYTES = 256 * 1024  # 35 times the longest built-in routine; PyYAML reads about 150 KB a second
MAX_TEXT_LENGTH = 1000  # characters in any one text (a 1000-character cue is about two minutes of speech)
MAX_EXERCISES = 100
MAX_STEPS = 200  # in any one `steps` list
MAX_SIDES = 4
MAX_SIDE_NAMES = 50
MAX_REPEAT = 100
MAX_BREATHE = 100
MAX_ROUNDS = 20
MAX_REPEAT_DEPTH = 4  # repeats inside repeats
MAX_COUNTDOWN = 10
MIN_RATE, MAX_RATE = 80, 450
MAX_DURATION_SECONDS = 3 * 3600  # any one duration; the compiler bounds the whole routine
MAX_NODES = 50_000  # YAML nodes walked, each pass through an alias counted again
MAX_YAML_DEPTH = 64  # nesting of YAML lists and mappings
MAX_DIAGNOSTICS = 100

ROUTINE_KEYS = (
    "title", "about", "credit", "frequency", "voice", "pace", "phrases", "pronounce", "side_names", "music", "exercises"
)
VOICE_KEYS = ("engine", "name", "rate")
PACE_KEYS = ("breath", "rest", "switch", "countdown", "halfway", "level")
MUSIC_KEYS = ("path", "level", "duck", "shuffle")
MUSIC_LEVEL_RANGE = (-40, -10)  # LUFS of the music between cues
MUSIC_DUCK_RANGE = (6, 40)  # dB the music drops under every cue
EXERCISE_KEYS = ("name", "note", "say_note", "setup", "sides", "rounds", "rest", "steps")
# Each step kind with the keys it may carry besides its own; a step has exactly one kind key.
STEP_KINDS: dict[str, tuple[str, ...]] = {
    "say": (),
    "hold": ("say",),
    "inhale": ("breath",),
    "exhale": ("breath",),
    "breathe": (),
    "repeat": ("steps", "count"),
    "rest": ("say",),
}
STEP_KEYS = (*STEP_KINDS, "breath", "count", "steps")
# The template names of spoken text (coach.phrases.TEXT_FIELDS) in the order messages and the schema list them.
TEXT_FIELD_ORDER = ("side", "Side", "other", "Other", "rep", "reps", "round", "rounds")

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


def parse_routine(data: bytes | str, path: str) -> Routine:
    """The routine in `data` (a file's bytes or text); raises RoutineError with every problem, in file order."""
    text, problem = _decoded(data, path)
    if problem is not None:
        raise RoutineError([problem])
    document, problems, saw_alias = _compose(text, path)
    builder = _Builder(path, saw_alias, text)
    routine = None
    if document is None or _is_blank(document):
        if not problems:
            problems.append(Diagnostic(path, 1, 1, "empty file: a routine needs at least 'title' and 'exercises'"))
    else:
        try:
            routine = builder.routine(document)
        except _OutOfBudget as stop:
            raise RoutineError([stop.diagnostic]) from None
        except _TooManyProblems:
            pass  # what was found so far is reported, cut at MAX_DIAGNOSTICS
    problems += builder.problems
    if problems or routine is None:
        raise RoutineError(_in_file_order(problems))
    return at_level(routine, default_level(routine))


def too_large(path: str, size: int) -> Diagnostic:
    """The problem of a routine file of `size` bytes, past MAX_FILE_BYTES."""
    return Diagnostic(path, 1, 1, f"file too large ({size} bytes, at most {MAX_FILE_BYTES})")


# --- bytes to YAML nodes ---------------------------------------------------------------------------------------


def _decoded(data: bytes | str, path: str) -> tuple[str, Diagnostic | None]:
    """The file's text without a byte order mark, or the problem that stops it being read at all."""
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        return "", too_large(path, size)
    if isinstance(data, str):
        return data.removeprefix("\ufeff"), None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "", Diagnostic(path, 1, 1, "the file is UTF-16: save it as UTF-8")
    try:
        return data.removeprefix(codecs.BOM_UTF8).decode("utf-8"), None
    except UnicodeDecodeError as error:
        start = error.start + (len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0)
        before = data[:start]
        line_start = before.rfind(b"\n") + 1
        column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
        message = f"not valid UTF-8 (byte 0x{data[start]:02x}): save the file as UTF-8"
        return "", Diagnostic(path, before.count(b"\n") + 1, column, message)


def _compose(text: str, path: str) -> tuple[Node | None, list[Diagnostic], bool]:
    """The first YAML document's node tree (None if there is none or it is broken), its problems, and alias use."""
    try:
        composed = compose(text, MAX_YAML_DEPTH, MAX_NODES)
    except yaml.YAMLError as error:
        return None, [_yaml_problem(error, text, path)], False
    if composed.trailing_error is not None:
        return composed.document, [_yaml_problem(composed.trailing_error, text, path)], composed.saw_alias
    if composed.second_document is not None:
        message = "a second YAML document: a routine file holds one (remove the '---')"
        return composed.document, [_diagnostic(path, composed.second_document, message)], composed.saw_alias
    return composed.document, [], composed.saw_alias


def _yaml_problem(error: yaml.YAMLError, text: str, path: str) -> Diagnostic:
    """A YAML error as one diagnostic at its mark, worded for someone editing a routine."""
    if isinstance(error, yaml.reader.ReaderError):
        position = min(error.position, len(text))
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        return Diagnostic(path, line, column, f"character U+{error.character:04X} is not allowed in a YAML file")
    if not isinstance(error, yaml.MarkedYAMLError):
        return _diagnostic(path, None, f"invalid YAML: {error}")
    if isinstance(error, (TooDeep, TooLarge)):
        return _diagnostic(path, error.problem_mark, str(error.problem))
    problem = str(error.problem or error.context or "unreadable")
    context = str(error.context or "")
    mark = error.problem_mark or error.context_mark
    # libyaml words some problems differently from PyYAML's pure-Python parser: both are understood here.
    character = text[mark.index] if mark is not None and 0 <= mark.index < len(text) else "?"
    if "that cannot start any token" in problem and character == "\t":
        message = "a tab character where YAML needs spaces: indent with spaces, not tabs"
    elif "that cannot start any token" in problem:
        message = f"invalid YAML: a value cannot start with '{character}' (put the text in quotes)"
    elif problem.startswith("mapping values are not allowed"):
        message = "invalid YAML: unexpected ':' (put a text containing ': ' in quotes, or check the indentation)"
    elif problem.startswith(("expected <block end>", "did not find expected key", "did not find expected '-'")):
        message = "invalid YAML: bad indentation (items of one list or mapping must start in the same column)"
    elif context.startswith("while scanning a quoted scalar"):
        message, mark = "invalid YAML: a quoted text is not closed", error.context_mark or mark
    elif problem.startswith("exceeded maximum nesting depth"):  # libyaml's own bound, met before ours
        message = f"document nested more than {MAX_YAML_DEPTH} levels deep"
    elif context.startswith("found duplicate anchor"):
        message = "invalid YAML: " + context.split(";")[0]
    else:
        message = f"invalid YAML: {problem}"
    return _diagnostic(path, _within(mark, text), message)


_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


def _within(mark: yaml.Mark | None, text: str) -> yaml.Mark | None:
    """The mark, or the end of the text when the mark is past it (libyaml puts the end of the stream on a line of its own)."""
    if mark is None or mark.index < len(text):
        return mark
    breaks = list(_LINE_BREAK.finditer(text))
    column = len(text) - (breaks[-1].end() if breaks else 0)
    return yaml.Mark(mark.name, len(text), len(breaks), column, None, None)


def _is_blank(document: Node) -> bool:
    return isinstance(document, ScalarNode) and document.tag == _NULL and document.value == ""


def _diagnostic(path: str, mark: yaml.Mark | None, message: str) -> Diagnostic:
    """A diagnostic at a YAML mark (the file's start without one), on one printable line."""
    # Keys and values quoted in messages can hold newlines and control characters: show them escaped.
    printable = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    if mark is None:
        return Diagnostic(path, 1, 1, printable)
    return Diagnostic(path, mark.line + 1, mark.column + 1, printable)


def _in_file_order(problems: list[Diagnostic]) -> list[Diagnostic]:
    """Sorted by position (stable), without repeats (an aliased node is walked more than once), capped."""
    unique = list(dict.fromkeys(sorted(problems, key=lambda problem: (problem.line, problem.col))))
    if len(unique) <= MAX_DIAGNOSTICS:
        return unique
    last = unique[MAX_DIAGNOSTICS]
    stop = Diagnostic(last.path, last.line, last.col, f"too many problems: stopped after the first {MAX_DIAGNOSTICS}")
    return unique[:MAX_DIAGNOSTICS] + [stop]


# --- YAML nodes to the model -----------------------------------------------------------------------------------


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


class _Builder:
    """Walks the node tree once, building the model and collecting every problem."""

    def __init__(self, path: str, saw_alias: bool, source: str = ""):
        self.path = path
        self.saw_alias = saw_alias
        self.source = source  # the file's text, to place a problem inside a multi-line text
        self.problems: list[Diagnostic] = []
        self.visits = 0

    # -- the routine and its sections

    def routine(self, node: Node) -> Routine | None:
        """The whole routine from the document's node."""
        before = len(self.problems)
        expected = "expected a routine (a mapping with 'title' and 'exercises')"
        fields = self.mapping(node, expected, "routine", ROUTINE_KEYS, _ROUTINE_HINTS)
        if fields is None:
            return None
        self.require(node, fields, ("title", "exercises"), "routine")
        title = self.optional(fields, "title", lambda value: self.text("title", value))
        about = self.optional(fields, "about", lambda value: self.text("about", value))
        credit = self.optional(fields, "credit", lambda value: self.text("credit", value))
        frequency = self.optional(fields, "frequency", self.frequency)
        voice = self.optional(fields, "voice", self.voice) or Voice()
        pace = self.optional(fields, "pace", self.pace) or Pace()
        phrases = self.optional(fields, "phrases", self.phrases) or {}
        pronounce = self.optional(fields, "pronounce", self.pronounce) or {}
        side_names = self.optional(fields, "side_names", self.side_names) or ()
        music = self.optional(fields, "music", self.music)
        exercises = self.optional(fields, "exercises", self.exercises)
        if len(self.problems) > before or title is None or exercises is None:
            return None
        return Routine(
            title=title,
            exercises=exercises,
            about=about,
            credit=credit,
            frequency=frequency,
            voice=voice,
            pace=pace,
            phrases=MappingProxyType(dict(phrases)),
            pronounce=MappingProxyType(dict(pronounce)),
            side_names=side_names,
            source=self.path,
            music=music,
        )

    def voice(self, node: Node) -> Voice | None:
        """The `voice` section."""
        expected = "voice: expected a mapping with 'engine', 'name' and/or 'rate'"
        fields = self.mapping(node, expected, "voice", VOICE_KEYS)
        if fields is None:
            return None
        engine = self.optional(fields, "engine", self.engine)
        name = self.optional(fields, "name", lambda value: self.text("voice.name", value))
        rate = self.optional(fields, "rate", lambda value: self.whole("voice.rate", value, MIN_RATE, MAX_RATE))
        name_where = self.where(fields["name"].value) if "name" in fields else Voice().name_where
        return Voice(name=name, rate=rate, engine=engine, name_where=name_where)

    def engine(self, node: Node) -> str | None:
        """`voice.engine`: one of SPEECH_ENGINES."""
        value = self.text("voice.engine", node)
        if value is None:
            return None
        if value not in SPEECH_ENGINES:
            self.error(node, f"voice.engine: unknown engine '{_shortened(value)}' (choose from {', '.join(SPEECH_ENGINES)})")
            return None
        return value

    def music(self, node: Node) -> Music | None:
        """The `music` section: a path, or a mapping with a path and optional level, duck and shuffle."""
        where = Where(self.path, node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, ScalarNode):
            path = self.text("music", node)
            return None if path is None else Music(path, where=where)
        before = len(self.problems)
        expected = "music: expected a file or folder path, or a mapping with 'path'"
        fields = self.mapping(node, expected, "music", MUSIC_KEYS)
        if fields is None:
            return None
        self.require(node, fields, ("path",), "music")
        path = self.optional(fields, "path", lambda value: self.text("music.path", value))
        level = self.optional(fields, "level", lambda value: self.number("music.level", value, *MUSIC_LEVEL_RANGE))
        duck = self.optional(fields, "duck", lambda value: self.number("music.duck", value, *MUSIC_DUCK_RANGE))
        shuffle = self.optional(fields, "shuffle", lambda value: self.flag("music.shuffle", value))
        if len(self.problems) > before or path is None:
            return None
        path_node = fields["path"].value
        where = Where(self.path, path_node.start_mark.line + 1, path_node.start_mark.column + 1)
        return Music(path, level, duck, bool(shuffle), where)

    def pace(self, node: Node) -> Pace | None:
        """The `pace` section; keys left out keep the model's defaults."""
        before = len(self.problems)
        fields = self.mapping(node, "pace: expected a mapping of timings", "pace", PACE_KEYS)
        if fields is None:
            return None
        given: dict[str, object] = {}
        ranges: list[tuple[str, Range]] = []
        for key, entry in fields.items():
            label = f"pace.{key}"
            if key == "countdown":
                given[key] = self.whole(label, entry.value, 0, MAX_COUNTDOWN)
            elif key == "halfway":
                given[key] = self.duration(label, entry.value, positive=True, off_allowed=True)
            elif key == "level":
                given[key] = self.level(label, entry.value)
            else:
                given[key] = self.ranged_duration(label, entry.value, key == "breath", key, ranges)
        if len(self.problems) > before:
            return None
        settings = {key: (None if value is _OFF else value) for key, value in given.items()}
        settings["ranges"] = tuple(ranges)
        return Pace(**settings)  # type: ignore[arg-type]

    def phrases(self, node: Node) -> dict[str, str] | None:
        """The `phrases` overrides that are valid (the others are reported)."""
        expected = "phrases: expected a mapping of phrase names to texts"
        fields = self.mapping(node, expected, "phrases", tuple(DEFAULT_PHRASES))
        if fields is None:
            return None
        found = {}
        for key, entry in fields.items():
            label = f"phrases.{key}"
            template = self.text(label, entry.value)
            if template is not None and self.phrase_template_ok(label, entry.value, template, PHRASE_FIELDS[key]):
                found[key] = template
        return found

    def pronounce(self, node: Node) -> dict[str, str] | None:
        """The `pronounce` table: a written word or phrase to what the voice says instead."""
        if not self.visit(node):
            return None
        if not isinstance(node, MappingNode):
            self.error(node, f"pronounce: expected a mapping of written text to spoken text, got {_describe(node)}")
            return None
        found: dict[str, str] = {}
        for key_node, value_node in node.value:
            written = self.text("pronounce", key_node)
            spoken = self.text(f"pronounce.{_shortened(written or '')}", value_node)
            if written is None or spoken is None:
                continue
            if written in found:
                self.error(key_node, f"pronounce: '{_shortened(written)}' is listed twice")
                continue
            found[written] = spoken
        return found

    def side_names(self, node: Node) -> tuple[str, ...] | None:
        """`side_names`: side labels the routine uses besides the known ones (no warning for them)."""
        items = self.items("side_names", node, "side labels such as [top, bottom]", "side label", MAX_SIDE_NAMES)
        if items is None:
            return None
        names = [self.text("side_names", item) for item in items]
        return None if None in names else tuple(names)  # type: ignore[arg-type]

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
            if key not in STEP_KINDS[kind] and key not in kinds:
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
