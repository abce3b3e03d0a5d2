"""Ranges in the routine format (`hold: 30-60s`, `repeat: 5-10`) and the level that picks the point in each."""

from __future__ import annotations

import pytest

from coach.errors import RoutineError
from coach.routine.levels import at_level, has_ranges, level_name, level_title, parse_level, pick
from coach.routine.loader import parse_routine
from coach.routine.model import Range
from coach.routine.ranges import parse_count_range, parse_duration_range


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("30-60s", 30, 60),
        ("30s-60s", 30, 60),
        ("30 - 60s", 30, 60),
        ("30\u201360s", 30, 60),  # an en dash, as pasted from a text
        ("30s-1m30s", 30, 90),
        ("1-2m", 60, 120),
        ("1:00-1:30", 60, 90),
        ("4-6", 4, 6),
        ("2.5-3.5s", 2.5, 3.5),
        ("45s-1m", 45, 60),
        ("30-1m30s", 30, 90),  # a bare low end takes the high end's unit only when the high end has one unit
    ],
)
def test_duration_ranges_read_as_written(text, low, high):
    span = parse_duration_range(text)
    assert (span.low, span.high) == (low, high)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("60-30s", "bad range '60-30s' (the low end comes first)"),
        ("30-30s", "bad range '30-30s' (both ends are the same: write one value)"),
        ("30-6x0s", "bad range '30-6x0s': bad duration '6x0s' (use 45, 45s, 1m, 1m30s or 1:30)"),
        ("1m75s-2m", "bad range '1m75s-2m': bad duration '1m75s' (seconds must be under 60 after minutes or hours)"),
        ("2m-1m", "bad range '2m-1m' (the low end comes first)"),
        ("45-1m", "bad range '45-1m' (read as 45m-1m: write 45s-1m for seconds)"),
    ],
)
def test_bad_duration_ranges_say_what_is_wrong(text, message):
    with pytest.raises(ValueError) as raised:
        parse_duration_range(text)
    assert str(raised.value) == message


def test_count_ranges():
    assert parse_count_range("5-10") == Range(5, 10)
    assert parse_count_range(" 10 \u2013 15 ") == Range(10, 15)
    for text, message in [
        ("10-5", "bad range '10-5' (the low end comes first)"),
        ("5-7.5", "bad range '5-7.5' (expected two whole numbers, as in 5-10)"),
        ("five-ten", "bad range 'five-ten' (expected two whole numbers, as in 5-10)"),
    ]:
        with pytest.raises(ValueError) as raised:
            parse_count_range(text)
        assert str(raised.value) == message


ROUTINE = """\
title: Ranges
pace: {{rest: 10-20s{pace}}}
exercises:
  - name: One
    rounds: 1-2
    sides: [left, right]
    steps:
      - repeat: 5-10
        count: true
        steps:
          - inhale: Up.
            breath: 4-6s
          - exhale: Down.
      - hold: 30-90s
      - breathe: 10-15
      - rest: 30s-1m30s
"""


def loaded(pace: str = ""):
    return parse_routine(ROUTINE.format(pace=pace), "r.yaml")


def values(routine):
    exercise = routine.exercises[0]
    repeat, hold, breathe, rest = exercise.steps
    return {
        "rest": routine.pace.rest,
        "rounds": exercise.rounds,
        "repeat": repeat.count,
        "breath": repeat.steps[0].seconds,
        "hold": hold.seconds,
        "breathe": breathe.count,
        "rest_step": rest.seconds,
    }


def test_a_level_picks_every_range_rounded_as_a_person_says_it():
    routine = loaded()
    names = ("rest", "rounds", "repeat", "breath", "hold", "breathe", "rest_step")
    expected = {
        0.0: (10, 1, 5, 4, 30, 10, 30),
        1.0: (20, 2, 10, 6, 90, 15, 90),
        # the middle: halves up (7.5 repetitions are 8), whole seconds, 5-second steps in long wide ranges
        0.5: (15, 2, 8, 5, 60, 13, 60),
        0.3: (13, 1, 7, 5, 50, 12, 50),
    }
    for level, numbers in expected.items():
        assert values(at_level(routine, level)) == dict(zip(names, numbers)), level
    assert isinstance(at_level(routine, 0.3).exercises[0].steps[0].count, int)


def test_the_loaded_routine_is_at_its_own_level_else_standard():
    assert loaded().level == 0.5 and values(loaded())["hold"] == 60
    easy = loaded(", level: easy")
    assert easy.level == 0.0 and values(easy)["hold"] == 30
    assert values(loaded(", level: 0.25"))["hold"] == 45
    # a level picks from the text's ranges, not from a value an earlier level picked
    assert values(at_level(at_level(easy, 1.0), 0.5)) == values(at_level(easy, 0.5))


def test_a_routine_without_ranges_carries_no_level():
    plain = parse_routine("title: Plain\nexercises:\n  - name: A\n    steps:\n      - hold: 30s\n", "p.yaml")
    assert not has_ranges(plain) and plain.level is None and level_title(plain) == "Plain"
    assert at_level(plain, 1.0).level is None
    assert level_title(at_level(loaded(), 0.0)) == "Ranges (easy)"


@pytest.mark.parametrize(("span", "level", "count", "expected"), [
    (Range(21, 23), 0.5, False, 22),
    (Range(20, 30), 0.5, False, 25),
    (Range(30, 60), 0.1, False, 35),
    (Range(1, 2), 0.49, True, 1),
    (Range(1, 2), 0.5, True, 2),
    (Range(2.5, 3.5), 0.5, False, 3),
    (Range(2.5, 3.5), 0.01, False, 3),
])
def test_pick_rounds_and_stays_inside_the_range(span, level, count, expected):
    assert pick(span, level, count) == expected


def test_levels_by_name_or_number():
    assert [parse_level(text) for text in ("easy", "Standard", " deep ", "0", "0.3", "1")] == [0, 0.5, 1, 0, 0.3, 1]
    assert [level_name(value) for value in (0, 0.5, 1, 0.3)] == ["easy", "standard", "deep", "level 0.3"]
    for text, message in [
        ("hard", "unknown level 'hard' (use easy, standard, deep or a number from 0 to 1)"),
        ("1.5", "level '1.5' is outside 0 to 1 (use easy, standard, deep or a number from 0 to 1)"),
        ("nan", "level 'nan' is outside 0 to 1 (use easy, standard, deep or a number from 0 to 1)"),
    ]:
        with pytest.raises(ValueError) as raised:
            parse_level(text)
        assert str(raised.value) == message


@pytest.mark.parametrize(
    ("line", "diagnostic"),
    [
        ("      - hold: 60-30s", "r.yaml:5:15: error: hold: bad range '60-30s' (the low end comes first)"),
        ("      - hold: 0-30s", "r.yaml:5:15: error: hold: range '0-30s' must start above 0 seconds"),
        ("      - hold: 1h-4h", "r.yaml:5:15: error: hold: range '1h-4h' must end at most 3 hours"),
        (
            "      - hold: 30-abc",
            "r.yaml:5:15: error: hold: bad range '30-abc': bad duration 'abc' (use 45, 45s, 1m, 1m30s or 1:30)",
        ),
        (
            "      - repeat: 10-5\n        steps: [say: Go.]",
            "r.yaml:5:17: error: repeat: bad range '10-5' (the low end comes first)",
        ),
        (
            "      - repeat: 5-200\n        steps: [say: Go.]",
            "r.yaml:5:17: error: repeat: range '5-200' must be within 1 to 100",
        ),
        ("      - breathe: 0-5", "r.yaml:5:18: error: breathe: range '0-5' must be within 1 to 100"),
        (
            "      - breathe: ten",
            "r.yaml:5:18: error: breathe: expected a whole number or a range such as 5-10, got 'ten'",
        ),
        (
            "      - inhale: Up.\n        breath: 6-4s",
            "r.yaml:6:17: error: breath: bad range '6-4s' (the low end comes first)",
        ),
    ],
)
def test_a_bad_range_is_a_positioned_error(line, diagnostic):
    text = f"title: T\nexercises:\n  - name: A\n    steps:\n{line}\n"
    with pytest.raises(RoutineError) as raised:
        parse_routine(text, "r.yaml")
    assert [str(d) for d in raised.value.diagnostics] == [diagnostic]


def test_bad_ranges_and_levels_in_the_pace_and_exercise_are_positioned_too():
    text = (
        "title: T\npace: {rest: 20-10s, level: 2}\n"
        "exercises:\n  - name: A\n    rounds: 3-1\n    steps: [say: Go.]\n"
    )
    with pytest.raises(RoutineError) as raised:
        parse_routine(text, "r.yaml")
    assert [str(d) for d in raised.value.diagnostics] == [
        "r.yaml:2:14: error: pace.rest: bad range '20-10s' (the low end comes first)",
        "r.yaml:2:29: error: pace.level: level '2' is outside 0 to 1 (use easy, standard, deep or a number from 0 to 1)",
        "r.yaml:5:13: error: rounds: bad range '3-1' (the low end comes first)",
    ]


@pytest.mark.parametrize(
    ("written", "expected"),
    [("1-3/week", Range(1, 3)), ("2/week", Range(2, 2)), ("1-3x a week", Range(1, 3)), (" 2 per week", Range(2, 2))],
)
def test_frequency_is_sessions_a_week(written, expected):
    text = f"title: T\nfrequency: {written}\nexercises: [{{name: A, steps: [say: Go.]}}]\n"
    assert parse_routine(text, "r.yaml").frequency == expected


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("3-1/week", "frequency: bad frequency '3-1/week' (the low end comes first)"),
        ("0/week", "frequency: bad frequency '0/week' (between 1 and 21 a week)"),
        ("daily", "frequency: bad frequency 'daily' (write sessions a week, as in 1-3/week or 2/week)"),
        ("3", "frequency: expected sessions a week such as 1-3/week, got a number"),
    ],
)
def test_a_bad_frequency_is_a_positioned_error(written, message):
    text = f"title: T\nfrequency: {written}\nexercises: [{{name: A, steps: [say: Go.]}}]\n"
    with pytest.raises(RoutineError) as raised:
        parse_routine(text, "r.yaml")
    assert [str(d) for d in raised.value.diagnostics] == [f"r.yaml:2:12: error: {message}"]


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("hard", "pace.level: expected easy, standard, deep or a number from 0 to 1, got 'hard'"),
        ("'0.5'", "pace.level: expected easy, standard, deep or a number from 0 to 1, got '0.5'"),
        ("[easy]", "pace.level: expected easy, standard, deep or a number from 0 to 1, got a list"),
    ],
)
def test_pace_level_is_a_level_name_or_a_number(written, message):
    text = f"title: T\npace:\n  level: {written}\nexercises: [{{name: A, steps: [say: Go.]}}]\n"
    with pytest.raises(RoutineError) as raised:
        parse_routine(text, "r.yaml")
    assert [str(d) for d in raised.value.diagnostics] == [f"r.yaml:3:10: error: {message}"]
