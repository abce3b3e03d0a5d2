"""Every time format coach writes, with its edge cases and its rounding direction."""

import pytest

from coach import clock

HOUR = 3_600_000

CASES = [
    # (formatter, input, expected): clocks round down, countdowns up, lengths and LRC to nearest.
    (clock.elapsed, 0, "00:00"),
    (clock.elapsed, 59_999, "00:59"),
    (clock.elapsed, HOUR + 1_000, "60:01"),
    (clock.elapsed, -500, "00:00"),
    (clock.remaining, 0, "00:00"),
    (clock.remaining, 59_001, "01:00"),
    (clock.remaining, HOUR, "60:00"),
    (clock.remaining, -1, "00:00"),
    (clock.countdown, 0, "0"),
    (clock.countdown, 1, "1"),
    (clock.countdown, 59_999, "1:00"),
    (clock.countdown, 59_000, "59"),
    (clock.countdown, HOUR + 1, "60:01"),
    (clock.countdown, -2_000, "0"),
    (clock.log_stamp, 0, "00:00.0"),
    (clock.log_stamp, 59_999, "00:59.9"),
    (clock.log_stamp, HOUR + 61_250, "61:01.2"),
    (clock.log_stamp, -100, "00:00.0"),
    (clock.plan_time, 0, "0:00.0"),
    (clock.plan_time, 59_999, "0:59.9"),
    (clock.plan_time, HOUR + 61_250, "1:01:01.2"),
    (clock.plan_time, -100, "0:00.0"),
    (clock.length, 0, "0:00"),
    (clock.length, 59.999, "1:00"),
    (clock.length, 59.4, "0:59"),
    (clock.length, 3661.2, "1:01:01"),
    (clock.length, -3, "0:00"),
    (clock.lrc, 0, "00:00.00"),
    (clock.lrc, 59_999, "01:00.00"),
    (clock.lrc, 59_994, "00:59.99"),
    (clock.lrc, HOUR + 1_234, "60:01.23"),
    (clock.lrc, -10, "00:00.00"),
    (clock.webvtt, 0, "00:00:00.000"),
    (clock.webvtt, 59_999, "00:00:59.999"),
    (clock.webvtt, 25 * HOUR + 61_001, "25:01:01.001"),
    (clock.webvtt, -1, "00:00:00.000"),
    (clock.vorbis_chapter, HOUR + 61_001, "01:01:01.001"),
    (clock.vorbis_chapter, -1, "00:00:00.000"),
    (clock.srt, 0, "00:00:00,000"),
    (clock.srt, 59_999, "00:00:59,999"),
    (clock.srt, HOUR + 61_001, "01:01:01,001"),
    (clock.srt, -1, "00:00:00,000"),
]


@pytest.mark.parametrize("formatter, value, expected", CASES, ids=lambda v: getattr(v, "__name__", repr(v)))
def test_time_formats(formatter, value, expected):
    assert formatter(value) == expected


def test_plan_time_without_tenths_drops_them_and_still_rounds_down():
    assert clock.plan_time(59_999, tenths=False) == "0:59"
    assert clock.plan_time(HOUR, tenths=False) == "1:00:00"
