"""Every way coach writes a time: the one place each format and its rounding is decided.

Clocks (a time that has passed) round down, so a label never claims a second that has not
happened yet; countdowns (a time left) round up, so "0" appears only when nothing is left.
Lengths (how long a whole thing lasts) round to the nearest second. Negative input is
treated as zero everywhere: a time before the start is shown as the start.
"""

from __future__ import annotations

import math


def _non_negative(ms: float) -> int:
    return max(0, int(ms))


def elapsed(ms: int) -> str:
    """`MM:SS` (minutes may pass 59), rounded down to the second."""
    seconds = _non_negative(ms) // 1000
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def remaining(ms: int) -> str:
    """`MM:SS` for a time left, rounded up to the second."""
    seconds = math.ceil(_non_negative(ms) / 1000)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def countdown(ms: int) -> str:
    """Seconds left, rounded up, as `23` under a minute and `1:30` from a minute on."""
    seconds = math.ceil(_non_negative(ms) / 1000)
    return str(seconds) if seconds < 60 else f"{seconds // 60}:{seconds % 60:02d}"


def log_stamp(ms: int) -> str:
    """`MM:SS.s` (minutes may pass 59), rounded down to the tenth, for log lines."""
    tenths = _non_negative(ms) // 100
    minutes, rest = divmod(tenths, 600)
    return f"{minutes:02d}:{rest // 10:02d}.{rest % 10}"


def plan_time(ms: int, tenths: bool = True) -> str:
    """`M:SS.s`, or `H:MM:SS.s` from an hour, rounded down (without tenths `M:SS`/`H:MM:SS`)."""
    tenths_in_all = _non_negative(ms) // 100
    hours, rest = divmod(tenths_in_all, 36000)
    minutes, rest = divmod(rest, 600)
    seconds, tenth = divmod(rest, 10)
    text = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
    return f"{text}.{tenth}" if tenths else text


def length(seconds: float) -> str:
    """A duration as `M:SS` (`H:MM:SS` from an hour), rounded to the nearest second."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def lrc(ms: int) -> str:
    """An LRC time stamp `mm:ss.xx` (minutes pass 59), rounded to the nearest hundredth."""
    centis = (_non_negative(ms) + 5) // 10
    minutes, rest = divmod(centis, 6000)
    return f"{minutes:02d}:{rest // 100:02d}.{rest % 100:02d}"


def _hours_clock(ms: int, separator: str) -> str:
    hours, rest = divmod(_non_negative(ms), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def webvtt(ms: int) -> str:
    """A WebVTT cue time `HH:MM:SS.mmm` (exact to the millisecond)."""
    return _hours_clock(ms, ".")


def srt(ms: int) -> str:
    """An SRT cue time `HH:MM:SS,mmm` (exact to the millisecond)."""
    return _hours_clock(ms, ",")


def vorbis_chapter(ms: int) -> str:
    """An Ogg/Vorbis comment chapter time `HH:MM:SS.mmm` (same shape as WebVTT, exact to the millisecond)."""
    return _hours_clock(ms, ".")
