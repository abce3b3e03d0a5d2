"""Ranges as the text writes them, wherever a count or a duration goes: `5-10`, `30-60s`, `30s-1m30s`, `1-2m`.

A range is two ends joined by a hyphen (or an en dash, as pasted from a text), spaces allowed around it.
A duration's low end may leave out its unit when the high end has one unit: `30-60s` is 30s to 60s and
`1-2m` is 1m to 2m. Each end is a duration as coach.routine.durations reads it (or a whole number, for a count),
the low end comes first, and the two ends differ. The messages are short and human; the loader places them.
"""

from __future__ import annotations

import re

from coach.routine.durations import DURATION_PATTERN, parse_duration
from coach.routine.model import Range

RANGE_USAGE = "write the low end first, as in 30-60s or 5-10"
_DASH = re.compile(r"^(.+?)[ \t]*[-\u2013][ \t]*(.+)$")
_BARE_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_ONE_UNIT = re.compile(r"[0-9]+(?:\.[0-9]+)?[ \t]*([hms])")
_WHOLE = re.compile(r"[0-9]+")
_SHOWN_LENGTH = 40

# The same grammar for the JSON Schema (ECMA-262 and Python alike); it cannot say that the low end comes first.
_EDGE = "[ \t\r\n]*"
_DURATION_BODY = DURATION_PATTERN.removeprefix("^" + _EDGE).removesuffix(_EDGE + "$")
_RANGE_DASH = "[ \t]*[-\u2013][ \t]*"
DURATION_RANGE_PATTERN = f"^{_EDGE}(?:{_DURATION_BODY}){_RANGE_DASH}(?:{_DURATION_BODY}){_EDGE}$"
COUNT_RANGE_PATTERN = f"^{_EDGE}[0-9]+{_RANGE_DASH}[0-9]+{_EDGE}$"


def looks_like_range(text: str) -> bool:
    """Whether a text is meant as a range: a dash after its first character (a leading '-' is a minus sign)."""
    trimmed = text.strip()
    return bool(trimmed) and trimmed[0] != "-" and _DASH.match(trimmed) is not None


def parse_duration_range(text: str) -> Range:
    """The range of seconds in `text` ('30-60s'); raises ValueError with a short human message otherwise."""
    low_text, high_text = _ends(text)
    unit = _ONE_UNIT.fullmatch(high_text)
    bare_low = low_text
    if unit and _BARE_NUMBER.fullmatch(low_text):
        low_text += unit.group(1)  # "30-60s": the low end takes the high end's unit
    try:
        low = parse_duration(low_text)
        high = parse_duration(high_text)
    except ValueError as error:
        raise ValueError(f"bad range {_shown(text)}: {error}") from None
    if low > high and low_text != bare_low and parse_duration(bare_low) < high:
        reading = f"read as {low_text}-{high_text}: write {bare_low}s-{high_text} for seconds"
        raise ValueError(f"bad range {_shown(text)} ({reading})")
    return _ordered(text, low, high)


def parse_count_range(text: str) -> Range:
    """The range of whole numbers in `text` ('5-10'); raises ValueError with a short human message otherwise."""
    low_text, high_text = _ends(text)
    if not (_WHOLE.fullmatch(low_text) and _WHOLE.fullmatch(high_text)):
        raise ValueError(f"bad range {_shown(text)} (expected two whole numbers, as in 5-10)")
    if len(low_text) > 9 or len(high_text) > 9:
        raise ValueError(f"bad range {_shown(text)} (far too many)")
    return _ordered(text, int(low_text), int(high_text))


MAX_PER_WEEK = 21
_FREQUENCY = re.compile(
    r"[ \t]*([0-9]{1,3})(?:[ \t]*[-\u2013][ \t]*([0-9]{1,3}))?[ \t]*x?[ \t]*(?:/|per|a)[ \t]*week[ \t]*"
)
FREQUENCY_PATTERN = "^" + _FREQUENCY.pattern + "$"


def parse_frequency(text: str) -> Range:
    """Sessions a week from `1-3/week`, `2/week` or `1-3x a week`; raises ValueError with a short message otherwise."""
    found = _FREQUENCY.fullmatch(text)
    if found is None:
        raise ValueError(f"bad frequency {_shown(text)} (write sessions a week, as in 1-3/week or 2/week)")
    low = int(found.group(1))
    high = int(found.group(2)) if found.group(2) is not None else low
    if low > high:
        raise ValueError(f"bad frequency {_shown(text)} (the low end comes first)")
    if not (1 <= low and high <= MAX_PER_WEEK):
        raise ValueError(f"bad frequency {_shown(text)} (between 1 and {MAX_PER_WEEK} a week)")
    return Range(low, high)


def _ends(text: str) -> tuple[str, str]:
    found = _DASH.match(text.strip())
    if found is None:
        raise ValueError(f"bad range {_shown(text)} ({RANGE_USAGE})")
    return found.group(1).strip(), found.group(2).strip()


def _ordered(text: str, low: float, high: float) -> Range:
    if low > high:
        raise ValueError(f"bad range {_shown(text)} (the low end comes first)")
    if low == high:
        raise ValueError(f"bad range {_shown(text)} (both ends are the same: write one value)")
    return Range(low, high)


def _shown(text: str) -> str:
    if len(text) > _SHOWN_LENGTH:
        text = text[: _SHOWN_LENGTH - 3] + "..."
    return "'" + "".join(c if c.isprintable() else repr(c)[1:-1] for c in text.strip()) + "'"
