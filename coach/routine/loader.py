"""Load a routine script (YAML, format version 1) into the frozen model, reporting every problem at its place.

The YAML is composed into a node tree (coach/routine/composer.py: safe tags only, marks kept, depth and node count
bounded) and walked by hand, so each problem is located at its key or value, all of them are collected (up
to MAX_DIAGNOSTICS), and aliases are counted as they are walked.
"""

from __future__ import annotations

import codecs
import re
from types import MappingProxyType

import yaml
from yaml.nodes import Node, ScalarNode

from coach.errors import Diagnostic, RoutineError
from coach.routine.composer import TooDeep, TooLarge, compose
from coach.routine.levels import at_level, default_level
from coach.routine.limits import (  # noqa: F401  (the bounds and keys, read as loader.MAX_... by the schema and tests)
    EXERCISE_KEYS,
    FIGURE_KEYS,
    MAX_BREATHE,
    MAX_COUNTDOWN,
    MAX_DIAGNOSTICS,
    MAX_DURATION_SECONDS,
    MAX_EXERCISES,
    MAX_FILE_BYTES,
    MAX_NODES,
    MAX_RATE,
    MAX_REPEAT,
    MAX_REPEAT_DEPTH,
    MAX_ROUNDS,
    MAX_SIDE_NAMES,
    MAX_SIDES,
    MAX_STEPS,
    MAX_TEXT_LENGTH,
    MAX_YAML_DEPTH,
    MIN_RATE,
    MUSIC_DUCK_RANGE,
    MUSIC_KEYS,
    MUSIC_LEVEL_RANGE,
    PACE_KEYS,
    ROUTINE_KEYS,
    STEP_KEYS,
    STEP_KINDS,
    TEXT_FIELD_ORDER,
    VOICE_KEYS,
)
from coach.routine.model import (
    Pace,
    Routine,
    Voice,
)
from coach.routine.read_exercise import ExerciseReader
from coach.routine.read_nodes import (
    _NULL,
    _ROUTINE_HINTS,
    _diagnostic,
    _OutOfBudget,
    _TooManyProblems,
)
from coach.routine.read_sections import SectionReader
from coach.routine.read_steps import StepReader


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


def _in_file_order(problems: list[Diagnostic]) -> list[Diagnostic]:
    """Sorted by position (stable), without repeats (an aliased node is walked more than once), capped."""
    unique = list(dict.fromkeys(sorted(problems, key=lambda problem: (problem.line, problem.col))))
    if len(unique) <= MAX_DIAGNOSTICS:
        return unique
    last = unique[MAX_DIAGNOSTICS]
    stop = Diagnostic(last.path, last.line, last.col, f"too many problems: stopped after the first {MAX_DIAGNOSTICS}")
    return unique[:MAX_DIAGNOSTICS] + [stop]


# --- YAML nodes to the model -----------------------------------------------------------------------------------



class _Builder(ExerciseReader, StepReader, SectionReader):
    """Walks the node tree once, building the model and collecting every problem: the routine's top-level keys here, the rest in its readers."""

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

