"""`figure:` and `image:` in a routine: read into the model, every mistake located, missing images found by check."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from coach.cli.app import app
from coach.errors import RoutineError
from coach.routine.loader import parse_routine
from coach.routine.model import Figure, routine_figures

GOOD = """\
title: Figures
exercises:
  - name: Couch stretch
    figure: couch-quadriceps
    sides: [left, right]
    steps:
      - hold: 30s
      - hold: 30s
        figure: {pose: couch-psoas, lumbar: {flex: -8}}
  - name: Own picture
    image: pics/mine.png
    steps:
      - repeat: 2
        steps:
          - inhale: Up.
            figure: {left_shoulder: {flex: 170}, right_shoulder: {flex: 170}}
          - exhale: Down.
            figure: stand
"""

BROKEN = """\
title: Broken
exercises:
  - name: Couch stretch
    figure: couch-quadricep
    steps:
      - hold: 30s
        figure: {pose: couch-psoas, left_knee: {flex: 200}, left_elbw: {flex: 10}}
      - say: Hi.
        figure: {right_hip: {twist: 10}}
      - say: Hi.
        image: me.gif
      - say: Hi.
        figure: stand
        image: me.png
      - say: Hi.
        figure: {}
"""


def test_figures_are_read_on_exercises_and_steps_of_every_depth():
    routine = parse_routine(GOOD, "good.yaml")
    couch, own = routine.exercises
    assert couch.figure == Figure(pose="couch-quadriceps", where=couch.figure.where)
    assert couch.steps[0].figure is None
    assert couch.steps[1].figure.pose == "couch-psoas" and couch.steps[1].figure.angles == (("lumbar", "flex", -8.0),)
    assert own.figure.image == "pics/mine.png" and (own.figure.where.line, own.figure.where.col) == (11, 12)
    inhale = own.steps[0].steps[0]
    assert inhale.figure.pose is None and inhale.figure.angles == (("left_shoulder", "flex", 170.0), ("right_shoulder", "flex", 170.0))
    assert [f.pose or f.image for f in routine_figures(routine)] == ["couch-quadriceps", "couch-psoas", "pics/mine.png", None, "stand"]


def test_every_figure_mistake_is_reported_at_its_place_in_one_run():
    with pytest.raises(RoutineError) as caught:
        parse_routine(BROKEN, "broken.yaml")
    found = [(d.line, d.col, d.message) for d in caught.value.diagnostics]
    assert found == [
        (4, 13, "figure: unknown pose 'couch-quadricep' (did you mean 'couch-quadriceps'?)"),
        (7, 55, "figure: left_knee.flex: must be between 0 and 165, got 200"),
        (7, 61, "unknown key 'left_elbw' in figure (did you mean 'left_elbow'?)"),
        (9, 30, "unknown key 'twist' in figure.right_hip (its angles: flex, abduct, rotate)"),
        (11, 16, "image: 'me.gif' is not a picture coach shows (.png, .jpg, .jpeg, .svg)"),
        (14, 9, "'image' cannot be in the same place as 'figure' (choose one picture)"),
        (16, 17, "figure: give a 'pose' or at least one joint's angles"),
    ]


def test_check_reports_a_missing_image_at_its_place_with_the_other_problems(tmp_path):
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "mine.png").write_bytes(b"\x89PNG")
    routine = tmp_path / "r.yaml"
    routine.write_text(GOOD.replace("image: pics/mine.png", "image: pics/gone.png") + "music: nothere.mp3\n")
    result = CliRunner().invoke(app, ["check", "--quick", str(routine)])
    assert result.exit_code == 2
    lines = re.findall(r"r\.yaml:(\d+):(\d+): error: (.*)", result.stderr)
    assert lines == [("11", "12", "image: pics/gone.png: no such file"), ("19", "8", "music: nothere.mp3: no such file or folder")]
    routine.write_text(GOOD)
    assert CliRunner().invoke(app, ["check", "--quick", str(routine)]).exit_code == 0


# --- the timeline carries the figures ------------------------------------------------------------------------

from coach import session  # noqa: E402
from coach.timeline.compiler import compile_routine  # noqa: E402
from coach.timeline.cues import Speak  # noqa: E402
from coach.timeline.moment import MomentIndex, segments_json  # noqa: E402
from coach.timeline.scheduler import schedule  # noqa: E402


def _timeline(routine):
    script = compile_routine(routine)
    return schedule(script, {item.text: 2.0 for item in script if isinstance(item, Speak)}, routine.title)


def _hold_starts(timeline, chapter):
    return [span.start_ms for span in timeline.spans if span.kind == "hold" and span.chapter == chapter]


def test_the_moment_says_which_figure_and_mirrors_it_on_the_right_side():
    routine = session.load("post-run")
    timeline = _timeline(routine)
    index = MomentIndex(timeline)
    holds = _hold_starts(timeline, 0)  # left: quadriceps, psoas; right: quadriceps, psoas
    shown = [(index.at(start + 1000).figure.pose, index.at(start + 1000).mirrored, index.at(start + 1000).side) for start in holds]
    assert shown == [("couch-quadriceps", False, "left"), ("couch-psoas", False, "left"),
                     ("couch-quadriceps", True, "right"), ("couch-psoas", True, "right")]
    rest = next(span for span in timeline.spans if span.kind == "rest" and span.chapter == 0)
    ready = index.at(rest.start_ms + 1000)  # the rest before the 90/90: its first position, its first side (right)
    assert (ready.title, ready.figure.pose, ready.mirrored) == ("90/90 gluteal kinetic stretch", "ninety-tall", True)
    breaths = [cue for cue in timeline.cues if cue.chapter == 1 and cue.slot_end_ms]
    assert [index.at(cue.start_ms).figure.pose for cue in breaths[:4]] == ["ninety-tall", "ninety-fold"] * 2
    assert index.at(timeline.duration_ms - 1).figure is None  # the outro shows no position


def test_every_exercise_of_every_built_in_shows_a_figure_from_its_first_cue_on():
    for name in ("post-run", "pre-run"):
        timeline = _timeline(session.load(name))
        index = MomentIndex(timeline)
        for number, chapter in enumerate(timeline.chapters):
            cues = [cue for cue in timeline.cues if cue.chapter == number]
            after_intro = [cue for cue in cues if index.at(cue.start_ms).activity != "intro"]
            for cue in after_intro[:-1] if number == len(timeline.chapters) - 1 else after_intro:
                assert index.at(cue.start_ms).figure is not None, (name, chapter.title, cue.text)


def test_segments_json_names_the_pose_or_gives_the_angles_and_the_mirror():
    routine = parse_routine(GOOD, "good.yaml")
    data = segments_json(_timeline(routine))
    figures = {(str(s["figure"]), s["mirrored"]) for s in data["segments"] if s["figure"] is not None}
    assert ("couch-quadriceps", False) in figures and ("couch-quadriceps", True) in figures
    assert (str({"pose": "couch-psoas", "angles": {"lumbar": {"flex": -8.0}}}), True) in figures
    assert (str({"image": "pics/mine.png"}), False) in figures
    assert (str({"pose": None, "angles": {"left_shoulder": {"flex": 170.0}, "right_shoulder": {"flex": 170.0}}}), False) in figures


def test_each_position_of_a_built_in_exercise_is_drawn_differently():
    from coach.figure import render
    from coach.output.cards import figure_pose
    from coach.routine.model import exercise_figures

    for name in ("post-run", "pre-run"):
        for exercise in session.load(name).exercises:
            drawn = [render(figure_pose(figure), None, "svg") for figure in exercise_figures(exercise)]
            assert drawn and len(set(drawn)) == len(drawn), (name, exercise.name)
