"""The JSON Schema: valid draft 2020-12, and agreeing with the loader on real routines, fixtures and random ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coach.routine import loader
from coach.errors import RoutineError
from coach.routine.loader import parse_routine
from coach.routine.phrases import DEFAULT_PHRASES, TEXT_FIELDS
from coach.routine.schema import routine_schema

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
GOOD_FILES = sorted((ROOT / "scripts").glob("*.yaml")) + sorted((DATA / "good").glob("*.yaml"))
BAD_FILES = sorted((DATA / "bad").glob("*.yaml"))

SCHEMA = routine_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def test_the_schema_is_a_valid_draft_2020_12_schema_and_plain_json():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert json.loads(json.dumps(SCHEMA)) == SCHEMA


def test_good_files_exist():
    assert len(GOOD_FILES) >= 2 and BAD_FILES


@pytest.mark.parametrize("path", GOOD_FILES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_routines_the_loader_accepts_are_valid(path):
    parse_routine(path.read_bytes(), path.name)
    errors = [f"{list(error.absolute_path)}: {error.message}" for error in VALIDATOR.iter_errors(_document(path))]
    assert errors == []


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda path: path.name)
def test_routines_the_loader_refuses_are_invalid(path):
    with pytest.raises(RoutineError):
        parse_routine(path.read_bytes(), path.name)
    assert not VALIDATOR.is_valid(_document(path))


def test_keys_are_the_loaders_keys():
    defs = SCHEMA["$defs"]
    assert tuple(SCHEMA["properties"]) == loader.ROUTINE_KEYS
    assert tuple(SCHEMA["properties"]["voice"]["properties"]) == loader.VOICE_KEYS
    assert tuple(SCHEMA["properties"]["pace"]["properties"]) == loader.PACE_KEYS
    assert tuple(SCHEMA["properties"]["phrases"]["properties"]) == tuple(DEFAULT_PHRASES)
    assert tuple(defs["exercise"]["properties"]) == loader.EXERCISE_KEYS
    for kind, options in loader.STEP_KINDS.items():
        assert set(defs[f"{kind}Step"]["properties"]) == {kind, *options, *loader.FIGURE_KEYS}
    assert [branch["$ref"] for branch in defs["step"]["oneOf"]] == [f"#/$defs/{kind}Step" for kind in loader.STEP_KINDS]
    assert set(loader.TEXT_FIELD_ORDER) == TEXT_FIELDS


def _subschemas(schema: Any) -> Iterator[dict[str, Any]]:
    if isinstance(schema, dict):
        yield schema
        for key, value in schema.items():
            if key != "if":  # a condition names properties without describing them
                yield from _subschemas(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _subschemas(value)


def test_every_property_is_described_and_every_object_is_closed():
    objects = [schema for schema in _subschemas(SCHEMA) if "properties" in schema]
    assert len(objects) >= 10
    for schema in objects:
        assert schema["additionalProperties"] is False
        for name, prop in schema["properties"].items():
            assert prop.get("description"), name


def _document(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# Random routines near the valid ones, to check that the schema and the loader agree on each. They avoid what
# the schema cannot say (template names, sides differing only in case, zero written as text for a positive
# duration, repeats nested past the limit) and YAML-only spellings. Each value is mostly valid, so that about
# one routine in seven is.


def mostly(valid: list[Any], invalid: list[Any]) -> st.SearchStrategy[Any]:
    """One of `valid`, and one time in thirty one of `invalid` instead."""
    return st.integers(0, 29).flatmap(lambda roll: st.sampled_from(invalid if roll == 0 else valid))


def mostly_from(valid: st.SearchStrategy[Any], invalid: list[Any]) -> st.SearchStrategy[Any]:
    """A value drawn from `valid`, and one time in thirty one of `invalid` instead."""
    return st.integers(0, 29).flatmap(lambda roll: st.sampled_from(invalid) if roll == 0 else valid)


TEXTS = mostly(
    ["Lift.", "Hold it there.", "Left", "1:30", "yes"],
    ["", "   ", "x" * (loader.MAX_TEXT_LENGTH + 1), "a\x07b", 7, True, None, ["x"]],
)
SINGLE_DURATIONS = mostly(
    [5, 2.5, 45, "45s", "1m30s", "1:30", "0:05", "2h"],
    [0, -1, 99999, "abc", "1h75m", "", True, None, [1]],
)
# Ranges the schema can judge: it cannot tell a reversed range or one past the limits, which the loader refuses.
DURATIONS = mostly(
    [5, 2.5, 45, "45s", "1m30s", "1:30", "0:05", "2h", "30-60s", "1-2m", "30s-1m30s", "4 - 6"],
    [0, -1, 99999, "abc", "1h75m", "", True, None, [1], "30-", "-30s", "30-abc", "30-60-90"],
)
COUNTS = mostly([1, 3, 20, "5-10", "1-2"], [0, 101, 2.5, "3", True, None, "5-", "5-7.5", "five-ten"])
FLAGS = mostly([True, False], ["yes", 1, None])


@st.composite
def some_of(draw, required: dict[str, Any], optional: dict[str, Any]) -> dict[str, Any]:
    """A mapping with the required keys (one time in sixty one dropped), some optional ones, rarely an unknown one."""
    found = {key: draw(value) for key, value in required.items()}
    for key, value in optional.items():
        if draw(st.booleans()):
            found[key] = draw(value)
    if found and draw(st.integers(0, 59)) == 0:
        found.pop(draw(st.sampled_from(sorted(found))))
    if draw(st.integers(0, 59)) == 0:
        found["bogus"] = 1
    return found


# Steps that are wrong as a whole: a key their kind does not take, two kinds, no kind, not a mapping.
WRONG_STEPS = [
    {"say": "Go.", "count": True},
    {"hold": 5, "breath": 3},
    {"inhale": "Up.", "exhale": "Down."},
    {"breath": 4},
    "Go.",
]


def steps_of(depth: int) -> st.SearchStrategy[Any]:
    kinds = [
        some_of({"say": TEXTS}, {}),
        some_of({"hold": DURATIONS}, {"say": TEXTS}),
        some_of({"inhale": TEXTS}, {"breath": DURATIONS}),
        some_of({"exhale": TEXTS}, {"breath": DURATIONS}),
        some_of({"breathe": COUNTS}, {}),
        some_of({"rest": DURATIONS}, {}),
    ]
    if depth < loader.MAX_REPEAT_DEPTH:
        kinds.append(some_of({"repeat": COUNTS, "steps": st.deferred(lambda: steps_of(depth + 1))}, {"count": FLAGS}))
    step = mostly_from(st.one_of(kinds), WRONG_STEPS)
    return mostly_from(st.lists(step, min_size=1, max_size=3), [[], "Go.", None])


EXERCISES = some_of(
    {"name": TEXTS, "steps": steps_of(0)},
    {
        "note": TEXTS,
        "say_note": FLAGS,
        "setup": TEXTS,
        "sides": mostly(
            [["left", "right"], ["left"], ["up", "down", "left", "right"]],
            [[], ["left", "left"], [""], "left", ["a", "b", "c", "d", "e"]],
        ),
        "rounds": COUNTS,
        "rest": mostly_from(DURATIONS, [0]),
    },
)
ROUTINES = some_of(
    {"title": TEXTS, "exercises": mostly_from(st.lists(EXERCISES, min_size=1, max_size=2), [[], None, "Couch"])},
    {
        "about": TEXTS,
        "credit": TEXTS,
        "voice": some_of({}, {"name": TEXTS, "rate": mostly([80, 160, 450], [50, 500, "fast", 160.5])}),
        "pace": some_of(
            {},
            {
                "breath": DURATIONS,
                "rest": mostly_from(DURATIONS, [0]),
                "switch": mostly_from(DURATIONS, [0]),
                "countdown": mostly([0, 3, 10], [11, -1, 2.5]),
                "halfway": mostly_from(SINGLE_DURATIONS, [False]),
                "level": mostly(["easy", "standard", "deep", 0, 0.3, 1], ["hard", "0.5", 1.5, -0.1, True, None]),
            },
        ),
        "phrases": some_of({}, {"hold": TEXTS, "halfway": TEXTS, "seconds": TEXTS}),
    },
)


def loads(document: Any) -> bool:
    """Whether the loader accepts the document, written out as YAML."""
    try:
        parse_routine(yaml.safe_dump(document, allow_unicode=True), "r.yaml")
    except RoutineError:
        return False
    return True


def test_the_schema_and_the_loader_agree_on_random_routines():
    outcomes = set()

    @settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(document=ROUTINES)
    def agree(document):
        loaded = loads(document)
        outcomes.add(loaded)
        assert VALIDATOR.is_valid(yaml.safe_load(yaml.safe_dump(document))) == loaded

    agree()
    assert outcomes == {True, False}, "the random routines should include both valid and invalid ones"
