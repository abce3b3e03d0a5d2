"""The live screen as pure text: what it shows at a position, and that it always fits the terminal."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.compiler import compile_routine
from coach.cues import Speak
from coach.model import Exercise, Hold, Pace, Routine, Say
from coach.scheduler import schedule
from coach.terminal.screen import (
    FULL_BLOCK,
    HUGE,
    PLAIN,
    SMALL,
    TYPE_SIZES,
    TypeSize,
    Screen,
    _FONT,
    big_text,
    big_width,
    cells,
    clip,
    cue_log_line,
    format_countdown,
    side_marks,
    wrap,
)
from coach.timeline import CueEvent

SIZES = [(80, 24), (40, 12), (200, 60)]


def routine() -> Routine:
    return Routine(
        title="Post-run mobility",
        exercises=(
            Exercise(
                name="Couch stretch",
                sides=("left", "right"),
                steps=(Say("Tuck the pelvis under and draw your buttocks back to the wall."), Hold(30.0)),
            ),
            Exercise(name="90/90 internal rotation kinetic stretch", steps=(Say("Sit tall."), Hold(20.0))),
        ),
        pace=Pace(rest=15.0, switch=5.0, countdown=3),
    )


def timeline_of(r: Routine):
    script = compile_routine(r)
    # Speech lengths from the word count: any lengths will do, the screen only reads the timeline.
    seconds = {item.text: 0.35 * len(item.text.split()) + 0.3 for item in script if isinstance(item, Speak)}
    return schedule(script, seconds, title=r.title)


@pytest.fixture(scope="module")
def plan():
    r = routine()
    timeline = timeline_of(r)
    return r, timeline, Screen(timeline, side_marks(r, timeline))


def hold_span(timeline, chapter: int, number: int = 0):
    return [span for span in timeline.spans if span.kind == "hold" and span.chapter == chapter][number]


def find_block(frame: list[str], rows: tuple[str, ...], right_aligned: bool = False) -> int | None:
    """The line where `rows` (big type) start in `frame`, at the left edge or right-aligned; None if absent."""
    for top in range(len(frame) - len(rows) + 1):
        window = frame[top : top + len(rows)]
        if right_aligned:
            ok = all(line.rstrip().endswith(row.rstrip()) for line, row in zip(window, rows) if row.strip())
        else:
            ok = all(line.startswith(row) for line, row in zip(window, rows))
        if ok and any(row.strip() for row in rows):
            return top
    return None


def shows_big(frame: list[str], text: str, right_aligned: bool = False) -> bool:
    return any(
        find_block(frame, big_text(text, size) or (), right_aligned) is not None for size in TYPE_SIZES
    )


@pytest.mark.parametrize("width,height", SIZES)
def test_the_frame_fits_the_terminal(plan, width, height):
    _, timeline, screen = plan
    for position in range(0, timeline.duration_ms, 1500):
        for paused in (False, True):
            frame = screen.render(position, paused, width, height)
            assert 0 < len(frame) <= height
            assert all(cells(line) <= width for line in frame), [line for line in frame if cells(line) > width]


@pytest.mark.parametrize("width,height", SIZES)
def test_a_hold_shows_the_exercise_the_side_the_cue_and_the_seconds_left_in_big_digits(plan, width, height):
    _, timeline, screen = plan
    span = hold_span(timeline, chapter=0, number=1)  # the right side's hold
    position = span.start_ms + 7400
    frame = screen.render(position, False, width, height)
    text = "\n".join(frame)
    left = span.end_ms - position
    seconds = format_countdown(left)
    assert seconds == str(-(-left // 1000))
    assert shows_big(frame, seconds, right_aligned=True) or f"hold {seconds}" in text
    assert "right side" in text
    assert shows_big(frame, "COUCH") or "COUCH STRETCH" in text
    spoken = [cue for cue in timeline.cues if cue.start_ms <= position][-1]
    assert spoken.text.split()[0] in text
    assert "hold" in text


def test_a_big_terminal_gets_the_biggest_type(plan):
    _, timeline, screen = plan
    span = hold_span(timeline, chapter=0)
    frame = screen.render(span.start_ms + 1000, False, 200, 60)
    assert find_block(frame, big_text("COUCH", HUGE)) is not None
    assert find_block(frame, big_text("LEFT", HUGE)) is not None


def test_a_narrow_terminal_scales_the_type_down_or_abbreviates(plan):
    _, timeline, screen = plan
    chapter = timeline.chapters[1]
    frame = screen.render(chapter.start_ms + 500, False, 40, 12)
    text = "\n".join(frame)
    whole_name_drawn = any(
        find_block(frame, big_text("90/90", size) or ()) is not None for size in TYPE_SIZES
    )
    assert whole_name_drawn or "90/90 INTERNAL" in text


def test_paused_is_shown_large_with_how_to_resume(plan):
    _, timeline, screen = plan
    for width, height in SIZES:
        frame = screen.render(5000, True, width, height)
        text = "\n".join(frame)
        assert shows_big(frame, "PAUSED") or "PAUSED" in text
    assert "space resume" in "\n".join(screen.render(5000, True, 80, 24))
    assert "space resume" not in "\n".join(screen.render(5000, False, 80, 24))


def test_next_names_the_following_exercise_and_the_time_until_it(plan):
    _, timeline, screen = plan
    position = timeline.chapters[1].start_ms - 65_000
    text = "\n".join(screen.render(position, False, 200, 60))
    assert "Next: 90/90 internal rotation kinetic stretch in 01:05" in text


def test_the_progress_bar_fills_with_the_position_and_shows_elapsed_and_total(plan):
    _, timeline, screen = plan
    for fraction in (0.0, 0.25, 0.5, 0.9):
        position = int(timeline.duration_ms * fraction)
        frame = screen.render(position, False, 80, 24)
        [bar] = [line for line in frame if "░" in line or re.search(r"\d\d:\d\d / \d\d:\d\d$", line)]
        cells_of_bar = bar.count(FULL_BLOCK) + bar.count("░")
        assert abs(bar.count(FULL_BLOCK) / cells_of_bar - fraction) <= 1 / cells_of_bar
        total = timeline.duration_ms // 1000
        elapsed = position // 1000
        assert bar.endswith(f"{elapsed // 60:02d}:{elapsed % 60:02d} / {total // 60:02d}:{total % 60:02d}")


def test_the_side_changes_at_the_cue_that_announces_it(plan):
    r, timeline, screen = plan
    [marks, none] = side_marks(r, timeline)
    assert none == ()
    texts = {cue.start_ms: cue.text for cue in timeline.cues}
    assert [(texts[start], side) for start, side in marks] == [
        ("Left side.", "left"),
        ("Switch sides. Right side.", "right"),
    ]
    switch = marks[1][0]
    assert screen.moment(switch - 1).side == "left"
    assert screen.moment(switch).side == "right"


def test_the_cue_shown_is_the_last_one_begun(plan):
    _, timeline, screen = plan
    for cue, following in zip(timeline.cues, timeline.cues[1:]):
        if following.start_ms > cue.start_ms:
            assert screen.moment(cue.start_ms).cue == cue
            assert screen.moment(following.start_ms - 1).cue == cue


@settings(max_examples=300, deadline=None)
@given(width=st.integers(1, 230), height=st.integers(1, 80), where=st.floats(0, 1), paused=st.booleans())
def test_any_terminal_size_gets_a_frame_within_its_bounds(plan, width, height, where, paused):
    _, timeline, screen = plan
    frame = screen.render(int(timeline.duration_ms * where), paused, width, height)
    assert len(frame) <= height
    assert all(cells(line) <= width for line in frame)


def test_every_glyph_is_five_rows_of_one_width_and_no_two_are_alike():
    shapes = {}
    for char, rows in _FONT.items():
        assert len(rows) == 5 and len({len(row) for row in rows}) == 1, char
        if char != " ":
            assert rows not in shapes.values(), (char, [c for c, r in shapes.items() if r == rows])
        shapes[char] = rows


@pytest.mark.parametrize("size", TYPE_SIZES)
def test_big_text_is_as_wide_and_tall_as_promised(size):
    for text in ("COUCH STRETCH", "90/90", "1:30", "Côte"):
        rows = big_text(text, size)
        assert rows is not None
        assert len(rows) == size.height
        assert max(len(row) for row in rows) == big_width(text, size)


def test_big_text_refuses_what_the_font_cannot_draw():
    assert big_text("Упражнение", SMALL) is None
    assert big_text("anything", PLAIN) is None


def test_big_text_draws_each_letter_from_the_font():
    rows = big_text("HI", TypeSize("one to one", 1, 1))
    h, i = _FONT["H"], _FONT["I"]
    expected = [(a + "." + b).replace("#", FULL_BLOCK).replace(".", " ").rstrip() for a, b in zip(h, i)]
    assert list(rows) == expected


def test_wide_characters_count_twice_when_clipping_and_wrapping():
    text = "ストレッチ stretch"
    assert cells(text) == 18
    assert cells(clip(text, 7)) <= 7 and clip(text, 7).endswith("…")
    lines = wrap("a " * 30, 10, 2)
    assert len(lines) == 2 and all(cells(line) <= 10 for line in lines) and lines[-1].endswith("…")


def test_cue_log_lines_carry_the_plan_time_to_a_tenth():
    for start in (0, 99, 61_234, 3_725_950):
        line = cue_log_line(CueEvent(start, start + 500, "Inhale, lift the belly high.", 0))
        minutes, seconds, tenths, text = re.fullmatch(r"\[(\d{2,}):(\d\d)\.(\d)\] (.*)", line).groups()
        assert (int(minutes) * 60 + int(seconds)) * 10 + int(tenths) == start // 100
        assert text == "Inhale, lift the belly high."
