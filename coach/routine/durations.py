"""Durations as routine authors write them: `45`, `45s`, `2.5s`, `1m`, `1m30s`, `1h5m`, `1:30`, `1:05:00`.

The grammar, after trimming whitespace (ASCII digits only):

- a number of seconds: `45`, `2.5`;
- units in the order h, m, s, each at most once, at least one: `1h`, `1m30s`, `1h 5m`, `2.5s`; spaces may
  separate the parts and a number from its unit; only the last part may have a fraction, and after a
  larger unit the minutes and seconds must be under 60;
- a clock: `M:SS` or `H:MM:SS` with two-digit minutes and seconds under 60, an optional fraction on the
  seconds (`1:30.5`).

Numbers (int or float, not bool) are seconds and must be finite and not negative. DURATION_PATTERN is the
same grammar as one regular expression that means the same in Python and ECMA-262, for the JSON Schema.
"""

from __future__ import annotations

import math
import re

USAGE = "use 45, 45s, 1m, 1m30s or 1:30"

_TRIM = " \t\r\n"
_GAP = "[ \t]*"
_DECIMAL = r"[0-9]+(?:\.[0-9]+)?"
_WHOLE = "[0-9]+"
_UNDER_60 = "0*[0-5]?[0-9]"
_UNDER_60_DECIMAL = _UNDER_60 + r"(?:\.[0-9]+)?"


def _unit(number: str, unit: str) -> str:
    return f"{number}{_GAP}{unit}"


def _alternatives(*forms: str) -> str:
    return "(?:" + "|".join(forms) + ")"


_UNIT_FORMS = _alternatives(
    _unit(_DECIMAL, "s"),
    _unit(_DECIMAL, "m"),
    _unit(_WHOLE, "m") + _GAP + _unit(_UNDER_60_DECIMAL, "s"),
    _unit(_DECIMAL, "h"),
    _unit(_WHOLE, "h") + _GAP + _unit(_UNDER_60_DECIMAL, "m"),
    _unit(_WHOLE, "h") + _GAP + _unit(_UNDER_60_DECIMAL, "s"),
    _unit(_WHOLE, "h") + _GAP + _unit(_UNDER_60, "m") + _GAP + _unit(_UNDER_60_DECIMAL, "s"),
)
_CLOCK_FORMS = _alternatives(
    rf"{_WHOLE}:[0-5][0-9](?:\.[0-9]+)?",
    rf"{_WHOLE}:[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?",
)
_BODY = _alternatives(_DECIMAL, _UNIT_FORMS, _CLOCK_FORMS)
_VALID = re.compile(_BODY)

DURATION_PATTERN = f"^[ \t\r\n]*{_BODY}[ \t\r\n]*$"

# Tokens, not parts: `[0-9.]+` then a unit letter never backtracks (a `number gap unit` pattern retried at
# every digit of a long digit string was quadratic).
_TOKEN = re.compile(r"[0-9.]+|[hms]")
_SCALE = {"h": 3600, "m": 60, "s": 1}
# Looser shapes, only to say what is wrong with a string that is not a duration.
_LOOSE_UNITS = re.compile(
    rf"(?=[0-9])(?:({_DECIMAL}){_GAP}h{_GAP})?(?:({_DECIMAL}){_GAP}m{_GAP})?(?:({_DECIMAL}){_GAP}s)?"
)
_LOOSE_CLOCK = re.compile(r"[0-9]+(?::[0-9]+){1,2}(?:\.[0-9]+)?")
_SHOWN_LENGTH = 40
# Longer than any duration a person writes ("1h 05m 30.25s" is 13): refused before any pattern runs,
# so no regular expression ever sees a long string.
MAX_TEXT_LENGTH = 64


def parse_duration(value: object) -> float:
    """Seconds from a duration number or text; raises ValueError with a short human message otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected a duration, got {_kind(value)}")
    if isinstance(value, str):
        return _parse_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"bad duration {_shown(value)} ({USAGE})")
    if value < 0:
        raise ValueError(f"bad duration {_shown(value)} (must not be negative)")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"bad duration {_shown(value)} (far too long)") from None


def _parse_text(text: str) -> float:
    trimmed = text.strip(_TRIM)
    if len(trimmed) > MAX_TEXT_LENGTH:
        raise ValueError(f"bad duration {_shown(text)} (far too long)")
    if not _VALID.fullmatch(trimmed):
        raise ValueError(f"bad duration {_shown(text)} ({_what_is_wrong(trimmed)})")
    if ":" in trimmed:
        seconds = sum(float(part) * 60**power for power, part in enumerate(reversed(trimmed.split(":"))))
    else:
        tokens = _TOKEN.findall(trimmed)  # numbers and units alternate: the text matched the grammar
        parts = zip(tokens[::2], tokens[1::2])
        seconds = sum(float(number) * _SCALE[unit] for number, unit in parts) if len(tokens) > 1 else float(trimmed)
    # A few hundred digits overflow a float to inf: a typo, not a duration.
    if not math.isfinite(seconds):
        raise ValueError(f"bad duration {_shown(text)} (far too long)")
    return seconds


def _what_is_wrong(trimmed: str) -> str:
    if trimmed.startswith("-") and _VALID.fullmatch(trimmed[1:].lstrip(_TRIM)):
        return "must not be negative"
    units = _LOOSE_UNITS.fullmatch(trimmed)
    if units:
        given = [(unit, number) for unit, number in zip("hms", units.groups()) if number is not None]
        if any("." in number for _unit, number in given[:-1]):
            return "only the last part may have a fraction"
        if units[1] is not None and units[2] is not None and float(units[2]) >= 60:
            return "minutes must be under 60 after hours"
        if units[3] is not None and len(given) > 1 and float(units[3]) >= 60:
            return "seconds must be under 60 after minutes or hours"
    if _LOOSE_CLOCK.fullmatch(trimmed):
        return "after ':' write two digits under 60, as in 1:05"
    return USAGE


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a value of type {type(value).__name__}"


def _shown(value: object) -> str:
    """A value as a message shows it: text quoted, shortened, control characters escaped."""
    if isinstance(value, float):
        return f"{value:g}"
    if not isinstance(value, str):
        text = str(value)
        return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 3] + "..."
    if len(value) > _SHOWN_LENGTH:
        value = value[: _SHOWN_LENGTH - 3] + "..."
    return "'" + "".join(c if c.isprintable() else repr(c)[1:-1] for c in value) + "'"
