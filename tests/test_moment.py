"""What is happening at time t, read from the timeline's own structure, never from the cue texts."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from coach.timeline.compiler import compile_routine
from coach.timeline.cues import Speak
from coach.routine.model import Breath, Exercise, Hold, Pace, Repeat, Routine, Say
from coach.timeline.moment import MomentIndex, segments, segments_json
from coach.timeline.scheduler import schedule


def routine(phrases: dict[str, str] | None = None) -> Routine:
    return Routine(
        title="Post-run mobility",
        exercises=(
            Exercise(
                name="Couch stretch",
                sides=("left", "right"),
                steps=(
                    Say("Tuck the pelvis under and draw your buttocks back to the wall."),
                    Hold(40.0),
                    Say("Second position."),
                    Hold(10.0, "Chest upright, pelvis tucked."),
                ),
            ),
            Exercise(
                name="Hamstring",
                rounds=2,
                steps=(
                    Repeat(3, (Breath("in", "Lift."), Breath("out", "Lower.")), count_aloud=True),
                    Hold(5.0, "Stay there."),
                ),
            ),
        ),
        pace=Pace(breath=4.0, rest=15.0, switch=5.0, countdown=3, halfway=30.0),
        phrases=phrases or {},
    )


def timeline_of(r: Routine):
    script = compile_routine(r)
    # Any speech lengths will do: the moment reads only the timeline.
    seconds = {item.text: 0.35 * len(item.text.split()) + 0.3 for item in script if isinstance(item, Speak)}
    return schedule(script, seconds, title=r.title)


@pytest.fixture(scope="module")
def timeline():
    return timeline_of(routine())


@pytest.fixture(scope="module")
def index(timeline):
    return MomentIndex(timeline)


def spans(timeline, kind: str, chapter: int):
    return [span for span in timeline.spans if span.kind == kind and span.chapter == chapter]


def test_a_hold_shows_its_instruction_even_while_hold_for_and_halfway_are_spoken(timeline, index):
    hold = spans(timeline, "hold", 0)[0]
    [halfway] = [cue for cue in timeline.cues if cue.overlay and cue.chapter == 0][:1]
    assert hold.start_ms < halfway.start_ms < hold.end_ms
    for position in (hold.start_ms, halfway.start_ms, halfway.start_ms + 100, hold.end_ms - 1):
        moment = index.at(position)
        assert moment.activity == "hold"
        assert moment.line == "Tuck the pelvis under and draw your buttocks back to the wall."
        assert moment.countdown_end_ms == hold.end_ms
    # A hold with its own line holds that line.
    assert index.at(spans(timeline, "hold", 0)[1].start_ms + 10).line == "Chest upright, pelvis tucked."


def test_the_rest_between_exercises_shows_what_is_coming_and_its_countdown_agrees_with_next(timeline, index):
    rest = spans(timeline, "rest", 0)[0]
    between = [stage for stage in timeline.stages if stage.kind == "between"][0]
    announce = [cue for cue in timeline.cues if cue.start_ms == between.start_ms][0]  # "Rest ... Next up: ..."
    assert "Hamstring" in announce.text
    for position in (announce.start_ms, rest.start_ms, rest.start_ms + 7_300, rest.end_ms - 1):
        moment = index.at(position)
        assert moment.chapter == 0
        assert moment.title == "Hamstring" and moment.title_chapter == 1
        assert moment.side is None
        assert moment.next_title == "Hamstring"
        assert moment.next_start_ms == timeline.chapters[1].start_ms
    during = index.at(rest.start_ms + 7_300)
    assert during.activity == "rest"
    assert during.countdown_end_ms == during.next_start_ms
    assert during.countdown_ms == during.next_in_ms
    # Before the rest, the big type is still the exercise under way.
    assert index.at(announce.start_ms - 1).title == "Couch stretch"


def test_the_side_changes_at_the_cue_that_announces_it_and_ends_with_the_exercise(timeline, index):
    # The cues that announce each side, found by what they say rather than by the phrase book's exact words.
    first = next(cue for cue in timeline.cues if re.search(r"\bleft\b", cue.text, re.I))
    switch = next(cue for cue in timeline.cues if re.search(r"\bright\b", cue.text, re.I))
    assert index.at(first.start_ms - 1).side is None
    assert index.at(first.start_ms).side == "left"
    assert index.at(switch.start_ms - 1).side == "left"
    assert index.at(switch.start_ms).side == "right"
    switching = index.at(spans(timeline, "switch", 0)[0].start_ms + 100)
    assert switching.activity == "switch" and switching.side == "right"
    assert index.at(timeline.chapters[1].start_ms + 10).side is None


def test_counted_repeats_and_rounds_are_numbered(timeline, index):
    chapter = timeline.chapters[1]
    # Each counted rep starts with the cue that counts it: how many, its number, and the last one announced.
    cue_starts = {cue.start_ms: cue.text for cue in timeline.cues}
    assert [(cue_starts[rep.start_ms], rep.number) for rep in timeline.reps][:3] == [
        ("3 times. 1.", 1), ("2.", 2), ("Last one, then hold it.", 3)
    ]
    ones = [rep for rep in timeline.reps if rep.number == 1]
    threes = [rep for rep in timeline.reps if rep.number == 3]
    assert len(ones) == len(threes) == 2  # two rounds
    moment = index.at(ones[1].start_ms)
    assert (moment.rep, moment.reps, moment.round, moment.rounds) == (1, 3, 2, 2)
    moment = index.at(threes[0].start_ms + 1500)
    assert (moment.rep, moment.reps, moment.round, moment.rounds) == (3, 3, 1, 2)
    assert cue_starts[threes[0].start_ms] == "Last one, then hold it."
    hold = spans(timeline, "hold", 1)[0]
    moment = index.at(hold.start_ms + 10)
    assert (moment.rep, moment.round) == (None, 1)
    assert index.at(chapter.start_ms).round is None  # the exercise's name, before round 1 begins


def test_breath_cues_are_breath_for_their_whole_slot(timeline, index):
    lift = next(cue for cue in timeline.cues if cue.slot_end_ms)
    assert "Lift" in lift.text or "lift" in lift.text
    assert lift.slot_end_ms == lift.start_ms + 4000 > lift.end_ms
    assert index.at(lift.start_ms).activity == "breath"
    after = index.at(lift.end_ms + 10)
    assert after.activity == "breath" and after.line == lift.text


def test_intro_gap_and_end(timeline, index):
    assert index.at(0).activity == "intro"
    assert index.at(0).title == "Couch stretch"
    end = index.at(timeline.duration_ms + 5000)
    assert end.activity == "end" and end.position_ms == timeline.duration_ms
    assert end.countdown_end_ms is None and end.next_title is None
    outro = index.at(timeline.duration_ms - 1)
    assert outro.activity == "outro" and outro.next_title is None and outro.next_start_ms == timeline.duration_ms


def test_phrase_overrides_do_not_change_what_the_moment_knows():
    """The side came from matching the phrase book's texts; now it comes from the structure."""
    plain = timeline_of(routine())
    odd = timeline_of(routine({"first_side": "Begin with the {side}.", "switch": "Other way: {side}."}))
    assert [(s.side, s.chapter) for s in odd.sides] == [(s.side, s.chapter) for s in plain.sides] == [
        ("left", 0),
        ("right", 0),
    ]
    assert MomentIndex(odd).at(odd.sides[1].start_ms).side == "right"


def test_segments_cover_the_session_and_every_position_inside_matches_at(timeline, index):
    found = segments(timeline)
    assert found[0].start_ms == 0
    assert found[-1].start_ms == found[-1].end_ms == timeline.duration_ms
    assert found[-1].moment.activity == "end"
    for before, after in zip(found, found[1:]):
        assert before.end_ms == after.start_ms and before.start_ms < before.end_ms
        assert replace(before.moment, position_ms=0) != replace(after.moment, position_ms=0)
    for segment in found[:-1]:
        for position in {segment.start_ms, (segment.start_ms + segment.end_ms) // 2, segment.end_ms - 1}:
            assert index.at(position) == replace(segment.moment, position_ms=position)


def test_segments_json_is_plain_json_in_seconds(timeline):
    data = json.loads(json.dumps(segments_json(timeline)))
    assert data["title"] == "Post-run mobility"
    assert data["duration"] == round(timeline.duration_ms / 1000, 3)
    assert [c["title"] for c in data["chapters"]] == ["Couch stretch", "Hamstring"]
    rest = spans(timeline, "rest", 0)[0]
    t = (rest.start_ms + 4_000) / 1000
    [segment] = [s for s in data["segments"] if s["start"] <= t < s["end"]]
    assert segment["activity"] == "rest" and segment["title"] == "Hamstring"
    assert segment["countdown_end"] == segment["next_start"] == round(rest.end_ms / 1000, 3)
    assert set(segment) == {
        "start", "end", "chapter", "title", "title_chapter", "side", "activity", "line", "countdown_end",
        "rep", "reps", "round", "rounds", "next_title", "next_start", "figure", "mirrored",
    }


def test_the_moment_module_is_pure():
    tree = ast.parse(Path(__import__("coach.timeline.moment").timeline.moment.__file__).read_text())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert imported <= {"__future__", "bisect", "dataclasses", "typing", "coach"}
    coach_modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module.startswith("coach")}
    assert coach_modules == {"coach.timeline.timeline"}

