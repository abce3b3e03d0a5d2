"""Durations: every written form, the exact messages for bad ones, and the schema pattern agreeing with the parser."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.routine.durations import DURATION_PATTERN, parse_duration


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        (45, 45.0),
        (0, 0.0),
        (2.5, 2.5),
        ("45", 45.0),
        ("2.5", 2.5),
        ("45s", 45.0),
        ("2.5s", 2.5),
        ("1m", 60.0),
        ("1.5m", 90.0),
        ("90m", 5400.0),
        ("1m30s", 90.0),
        ("1m 30s", 90.0),
        ("1 m 30 s", 90.0),
        ("1m 0.5s", 60.5),
        ("1h", 3600.0),
        ("1h5m", 3900.0),
        ("1h 30s", 3630.0),
        ("1h5m30s", 3930.0),
        ("1h 30.5m", 5430.0),
        ("1:30", 90.0),
        ("0:05", 5.0),
        ("1:30.5", 90.5),
        ("75:00", 4500.0),
        ("1:05:00", 3900.0),
        ("  45s\n", 45.0),
        ("0s", 0.0),
    ],
)
def test_written_forms_give_their_seconds(written, seconds):
    assert parse_duration(written) == seconds


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("abc", "bad duration 'abc' (use 45, 45s, 1m, 1m30s or 1:30)"),
        ("", "bad duration '' (use 45, 45s, 1m, 1m30s or 1:30)"),
        ("45 seconds", "bad duration '45 seconds' (use 45, 45s, 1m, 1m30s or 1:30)"),
        ("1m30", "bad duration '1m30' (use 45, 45s, 1m, 1m30s or 1:30)"),
        ("30s1m", "bad duration '30s1m' (use 45, 45s, 1m, 1m30s or 1:30)"),
        ("1m1m", "bad duration '1m1m' (use 45, 45s, 1m, 1m30s or 1:30)"),
        ("45S", "bad duration '45S' (use 45, 45s, 1m, 1m30s or 1:30)"),
        (".5", "bad duration '.5' (use 45, 45s, 1m, 1m30s or 1:30)"),
        ("\u0664\u0665", "bad duration '\u0664\u0665' (use 45, 45s, 1m, 1m30s or 1:30)"),
        ("-5", "bad duration '-5' (must not be negative)"),
        ("-1m30s", "bad duration '-1m30s' (must not be negative)"),
        ("1.5h30m", "bad duration '1.5h30m' (only the last part may have a fraction)"),
        ("1h75m", "bad duration '1h75m' (minutes must be under 60 after hours)"),
        ("1m90s", "bad duration '1m90s' (seconds must be under 60 after minutes or hours)"),
        ("1:75", "bad duration '1:75' (after ':' write two digits under 60, as in 1:05)"),
        ("1:5", "bad duration '1:5' (after ':' write two digits under 60, as in 1:05)"),
        ("1:60:00", "bad duration '1:60:00' (after ':' write two digits under 60, as in 1:05)"),
        ("a\x07b", "bad duration 'a\\x07b' (use 45, 45s, 1m, 1m30s or 1:30)"),
        ("x" * 50, "bad duration '" + "x" * 37 + "...' (use 45, 45s, 1m, 1m30s or 1:30)"),
        ("9" * 400, "bad duration '" + "9" * 37 + "...' (far too long)"),
        (-1, "bad duration -1 (must not be negative)"),
        (-0.5, "bad duration -0.5 (must not be negative)"),
        (float("nan"), "bad duration nan (use 45, 45s, 1m, 1m30s or 1:30)"),
        (float("inf"), "bad duration inf (use 45, 45s, 1m, 1m30s or 1:30)"),
        (10**400, "bad duration " + "1" + "0" * 36 + "... (far too long)"),
        (True, "expected a duration, got a boolean"),
        (False, "expected a duration, got a boolean"),
        (None, "expected a duration, got nothing"),
        ([30], "expected a duration, got a list"),
        ({"s": 30}, "expected a duration, got a mapping"),
    ],
)
def test_bad_durations_say_what_is_wrong(written, message):
    with pytest.raises(ValueError) as caught:
        parse_duration(written)
    assert str(caught.value) == message


@given(hours=st.integers(0, 99), minutes=st.integers(0, 59), seconds=st.integers(0, 59))
def test_units_and_clock_forms_agree(hours, minutes, seconds):
    total = hours * 3600 + minutes * 60 + seconds
    assert parse_duration(f"{hours}h{minutes}m{seconds}s") == total
    assert parse_duration(f"{hours}h {minutes:02d}m {seconds}s") == total
    assert parse_duration(f"{hours}:{minutes:02d}:{seconds:02d}") == total
    assert parse_duration(f"{hours * 60 + minutes}:{seconds:02d}") == total
    assert parse_duration(f"{hours * 60 + minutes}m{seconds}s") == total
    assert parse_duration(str(total)) == total


def _accepted(text: str) -> bool:
    try:
        parse_duration(text)
    except ValueError:
        return False
    return True


# Strings built from the grammar's own characters, so that both accepted and refused ones are common.
_NEAR_DURATIONS = st.text(alphabet=st.sampled_from(list("0123456789.:hms -\t")), max_size=12)


@settings(max_examples=400)
@given(text=st.one_of(_NEAR_DURATIONS, st.text(max_size=8)))
def test_schema_pattern_accepts_exactly_what_the_parser_accepts(text):
    assert (re.search(DURATION_PATTERN, text) is not None) == _accepted(text)
