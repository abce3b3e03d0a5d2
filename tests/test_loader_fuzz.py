"""Whatever it is given, the loader returns a Routine or raises a RoutineError with located diagnostics."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coach.errors import RoutineError
from coach.routine.loader import parse_routine
from coach.routine.model import Routine

DATA = Path(__file__).resolve().parent / "data"
# What YAML counts as a line break; a diagnostic's line can be no further down than the last of them.
LINE_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load(data: str | bytes) -> Routine | None:
    """Parse `data`, check the outcome is one of the two allowed, and return the routine if there is one."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    last_line = 1 + sum(text.count(mark) for mark in LINE_BREAKS)
    try:
        routine = parse_routine(data, "fuzz.yaml")
    except RoutineError as error:
        assert error.diagnostics
        for diagnostic in error.diagnostics:
            assert diagnostic.path == "fuzz.yaml" and diagnostic.severity == "error"
            assert 1 <= diagnostic.line <= last_line and diagnostic.col >= 1
            assert diagnostic.message and "\n" not in diagnostic.message
        positions = [(diagnostic.line, diagnostic.col) for diagnostic in error.diagnostics]
        assert positions == sorted(positions)
        return None
    assert isinstance(routine, Routine) and routine.exercises
    return routine


@FAST
@given(text=st.text(max_size=200))
def test_random_text(text):
    load(text)


# Text made of YAML's own punctuation and the routine format's words, so that more of it parses.
YAML_PIECES = [
    "\n", "\n  ", "\n    ", "\n      - ", " ", "\t", ": ", "- ", "[", "]", "{", "}", ", ", "&a ", "*a", "!!str ", "!x ",
    "'", '"', "#", "|\n  ", ">\n  ", "---\n", "...", "<<: ", "~", "true", "0", "-5", "45s", "1:75", "2.5",
    "title", "exercises", "name", "steps", "say", "hold", "inhale", "exhale", "breath", "breathe", "repeat",
    "count", "rest", "sides", "rounds", "pace", "voice", "phrases", "halfway", "{side}", "{rep}", "{", "\x00", "\ufeff",
]


@FAST
@given(pieces=st.lists(st.sampled_from(YAML_PIECES), max_size=60))
def test_random_yaml_like_text(pieces):
    load("".join(pieces))


@FAST
@given(data=st.binary(max_size=200))
def test_random_bytes(data):
    load(data)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["45s", "1:30", "{side}", "left", "say", "hold", "repeat", "steps", "title", "exercises"]),
)
KEYS = st.one_of(
    st.sampled_from(["title", "exercises", "name", "steps", "say", "hold", "repeat", "count", "sides", "pace"]),
    st.text(max_size=8),
)
STRUCTURES = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=5)),
    max_leaves=30,
)


@FAST
@given(structure=STRUCTURES)
def test_random_structures_dumped_as_yaml(structure):
    load(yaml.safe_dump(structure, allow_unicode=True))


@FAST
@given(title=st.text(max_size=30), steps=st.lists(st.dictionaries(KEYS, SCALARS, min_size=1, max_size=3), max_size=5))
def test_random_routine_shaped_structures(title, steps):
    load(yaml.safe_dump({"title": title, "exercises": [{"name": "E", "steps": steps}]}, allow_unicode=True))


SEEDS = [path.read_text(encoding="utf-8") for path in sorted((DATA / "good").glob("*.yaml"))]


@st.composite
def mutated_routines(draw) -> str:
    """A good routine with a few random edits: the kind of mistakes a person makes while typing."""
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(YAML_PIECES)) if edit != "delete" else ""
        cut = draw(st.integers(0, 6)) if edit != "insert" else 0
        text = text[:where] + piece + text[where + cut :]
    return text


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated_routines())
def test_good_routines_with_random_edits(text):
    load(text)


def test_the_seeds_load_untouched():
    assert len(SEEDS) >= 2
    for seed in SEEDS:
        assert load(seed) is not None
