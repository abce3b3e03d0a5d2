"""The live screen as pure text: what it shows at a position, and that it always fits the terminal."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.timeline.compiler import compile_routine
from coach.timeline.cues import Speak
from coach.routine.model import Breath, Exercise, Hold, Pace, Repeat, Routine, Say
from coach.terminal.braille import figure_size
from coach.timeline.moment import segments
from coach.timeline.scheduler import schedule
from coach.terminal.screen import (
    FULL_BLOCK,
    HUGE,
    PLAIN,
    SMALL,
    TYPE_SIZES,
    TypeSize,
    Screen,
    abbreviations,
    _FONT,
    big_text,
    big_width,
    cells,
    clip,
    cue_log_line,
    wrap,
)
from coach.clock import countdown as format_countdown
from coach.timeline.timeline import CueEvent

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
    return r, timeline, Screen(timeline)


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
    assert any(shows_big(frame, form.split()[0]) for form in abbreviations("Couch stretch")) or "COUCH STRETCH" in text
    assert "hold" in text


@pytest.mark.parametrize("width,height", SIZES)
def test_a_hold_shows_the_instruction_held_not_hold_for_or_halfway(plan, width, height):
    _, timeline, screen = plan
    span = hold_span(timeline, chapter=0)
    halfway = [cue for cue in timeline.cues if cue.overlay][0]
    for position in (span.start_ms + 100, halfway.start_ms + 200):
        text = "\n".join(screen.render(position, False, width, height))
        assert "» Tuck the" in text
        assert halfway.text not in text and "seconds" not in text


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


def test_the_side_shown_changes_at_the_cue_that_announces_it(plan):
    _, timeline, screen = plan
    switch = next(cue for cue in timeline.cues if re.search(r"\bright\b", cue.text, re.I))
    before = "\n".join(screen.render(switch.start_ms - 1, False, 200, 60))
    after = "\n".join(screen.render(switch.start_ms, False, 200, 60))
    assert "left side" in before and "right side" not in before
    assert "right side" in after and "left side" not in after


def test_outside_holds_the_line_is_the_last_cue_begun(plan):
    _, timeline, screen = plan
    holds = [span for span in timeline.spans if span.kind == "hold"]
    for cue in timeline.cues:
        if cue.overlay or any(span.start_ms <= cue.start_ms < span.end_ms for span in holds):
            continue
        text = "\n".join(screen.render(cue.start_ms, False, 200, 60))
        assert "» " + cue.text.split()[0] in text, cue.text


def between_rest(timeline):
    return [span for span in timeline.spans if span.kind == "rest" and span.end_ms == timeline.chapters[1].start_ms][0]


def test_the_rest_between_exercises_shows_the_exercise_coming_in_big_type(plan):
    _, timeline, screen = plan
    rest = between_rest(timeline)
    frame = screen.render(rest.start_ms + 2000, False, 200, 60)
    assert shows_big(frame, "90/90")
    assert not shows_big(frame, "COUCH")
    assert "rest" in "\n".join(frame)
    assert frame[0].endswith("2/2")  # the header counts the exercise shown


def test_the_rest_countdown_and_the_next_line_agree_at_every_instant(plan):
    _, timeline, screen = plan
    rest = between_rest(timeline)
    for position in range(rest.start_ms, rest.end_ms, 137):
        moment = screen.moments.at(position)
        text = "\n".join(screen.render(position, False, 200, 60))
        seconds = format_countdown(moment.countdown_ms)
        assert shows_big(screen.render(position, False, 200, 60), seconds, right_aligned=True)
        assert f"in 00:{int(seconds):02d}" in text, (position, seconds, text)


def test_a_counted_repeat_shows_its_rep_number():
    r = Routine(
        title="Reps",
        exercises=(Exercise("Bridge", (Repeat(6, (Breath("in", "Lift."), Breath("out", "Lower.")), count_aloud=True),)),),
        pace=Pace(rest=0.0, breath=3.0),
    )
    timeline = timeline_of(r)
    screen = Screen(timeline)
    third = [rep for rep in timeline.reps if rep.number == 3][0]
    frame = screen.render(third.start_ms + 500, False, 200, 60)
    assert shows_big(frame, "3/6", right_aligned=True)
    assert "rep 3 of 6" in "\n".join(frame)
    assert "rep 3 of 6" in "\n".join(screen.render(third.start_ms + 500, False, 30, 8))


@pytest.mark.parametrize("name", ["Café stretch", "Растяжка", "Run 🏃 fast", "ストレッチ"])
def test_a_name_the_font_lacks_letters_of_is_still_drawn_big_letter_by_letter(name):
    r = Routine(title="Any", exercises=(Exercise(name, (Say("Go."), Hold(10.0))),), pace=Pace(rest=0.0))
    timeline = timeline_of(r)
    frame = Screen(timeline).render(timeline.duration_ms // 2, False, 200, 60)
    assert any(find_block(frame, big_text(name, size) or ()) is not None for size in TYPE_SIZES), "\n".join(frame)
    if any(char.isascii() and char.isalpha() for char in name):  # the letters the font has are drawn in blocks
        assert any(FULL_BLOCK in line or "▀" in line or "▄" in line for line in frame[:12])


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


def test_big_text_draws_letters_the_font_lacks_as_themselves_and_keeps_the_rest_big():
    rows = big_text("AЖB", SMALL)
    assert rows[1].count("Ж") == 1 and all("Ж" not in row for index, row in enumerate(rows) if index != 1)
    assert rows[0].startswith(big_text("A", SMALL)[0])
    assert big_width("AЖB", SMALL) == max(cells(row) for row in rows)
    assert big_text("é", SMALL) == big_text("E", SMALL)  # an accent is dropped, the letter drawn
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


# The figure of the position: braille beside the type where the terminal has room, left out where it has not.

BRAILLE_BITS = ((0, 0, 0x01), (0, 1, 0x02), (0, 2, 0x04), (1, 0, 0x08), (1, 1, 0x10), (1, 2, 0x20), (0, 3, 0x40), (1, 3, 0x80))


@pytest.fixture(scope="module")
def figured():
    """The built-in post-run, whose every exercise has figures (the couch stretch two positions a side)."""
    from coach import session

    r = session.load("post-run")
    timeline = timeline_of(r)
    return timeline, Screen(timeline)


def braille_lines(frame: list[str]) -> list[str]:
    """The lines of a frame that draw dots in braille (U+2801..U+28FF)."""
    return [line for line in frame if any(0x2801 <= ord(char) <= 0x28FF for char in line)]


def dots(frame: list[str]) -> set[tuple[int, int]]:
    """The braille dots of a frame as (x, y), x counted from the braille column's left edge."""
    found = set()
    for row, line in enumerate(braille_lines(frame)):
        start = min(index for index, char in enumerate(line) if 0x2800 <= ord(char) <= 0x28FF)
        for column, char in enumerate(line[start:]):
            code = ord(char) - 0x2800
            if 0 <= code <= 0xFF:
                found.update((column * 2 + dx, row * 4 + dy) for dx, dy, bit in BRAILLE_BITS if code & bit)
    return found


def held(timeline, side: str, number: int = 0):
    """The middle of a hold on `side` that shows a figure."""
    holds = [s for s in segments(timeline) if s.moment.activity == "hold" and s.moment.figure is not None and s.moment.side == side]
    return (holds[number].start_ms + holds[number].end_ms) // 2


def test_a_roomy_terminal_shows_the_figure_in_braille_beside_the_type_and_80x24_does_not(figured):
    timeline, screen = figured
    position = held(timeline, "left")
    frame = screen.render(position, False, 120, 40)
    rows = braille_lines(frame)
    assert len(rows) >= 12, "\n".join(frame)
    assert len(frame) <= 40 and all(cells(line) <= 120 for line in frame)
    assert shows_big(frame, "Couch stretch") or shows_big(frame, "Couch")  # the type is still big, beside it
    assert all(line.index(next(c for c in line if 0x2800 <= ord(c) <= 0x28FF)) >= 60 for line in rows)  # on the right
    small = screen.render(position, False, 80, 24)
    assert not braille_lines(small)
    assert small == Screen(timeline).render(position, False, 80, 24)  # the same frame as before figures


def test_the_other_side_is_the_mirror_and_a_steps_second_position_another_figure(figured):
    timeline, screen = figured
    left = dots(screen.render(held(timeline, "left"), False, 120, 40))
    right = dots(screen.render(held(timeline, "right"), False, 120, 40))
    width = 2 * figure_size(120, 40)[0]  # dots across the figure's column
    flipped = {(width - 1 - x, y) for x, y in left}
    # Allow a column of slack (the picture is centred in an even number of dots) and the dithered floor's ends.
    near = {(x + dx, y) for x, y in right for dx in (-2, -1, 0, 1, 2)}
    assert len(left) > 200 and len(flipped - near) < 0.05 * len(left), (len(left), len(flipped - near))
    assert left != right
    second = dots(screen.render(held(timeline, "left", 1), False, 120, 40))  # the couch stretch's psoas position
    assert len(second ^ left) > 0.2 * len(left)


@pytest.mark.parametrize("width,height", [(100, 30), (120, 40), (160, 50), (230, 80), (99, 40), (120, 29)])
def test_frames_with_the_figure_fit_the_terminal_at_every_moment(figured, width, height):
    timeline, screen = figured
    shown = 0
    for position in range(0, timeline.duration_ms, 7000):
        frame = screen.render(position, position % 2 == 0, width, height)
        assert 0 < len(frame) <= height
        assert all(cells(line) <= width for line in frame), [line for line in frame if cells(line) > width]
        shown += bool(braille_lines(frame))
    assert (shown > 0) == (width >= 100 and height >= 30)


@settings(max_examples=120, deadline=None)
@given(width=st.integers(1, 230), height=st.integers(1, 80), where=st.floats(0, 1), paused=st.booleans())
def test_any_terminal_size_gets_a_frame_within_its_bounds_with_figures_too(figured, width, height, where, paused):
    timeline, screen = figured
    frame = screen.render(int(timeline.duration_ms * where), paused, width, height)
    assert len(frame) <= height
    assert all(cells(line) <= width for line in frame)
    assert bool(braille_lines(frame)) <= (width >= 100 and height >= 30)
