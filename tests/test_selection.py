"""`--only` and `--skip`: today's session cut down to some exercises, the intro and next-up cues following it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from coach.cli.app import app
from coach.timeline.compiler import compile_routine
from coach.timeline.cues import Speak
from coach.errors import UsageError
from coach.routine.loader import parse_routine
from coach.routine.selection import selected

runner = CliRunner()

ROUTINE = """\
title: Sel
pace: {rest: 5s}
exercises:
  - {name: Couch stretch, steps: [{hold: 3s}]}
  - {name: Hamstring stretch, steps: [{hold: 3s}]}
  - {name: Half fish pose, steps: [{hold: 3s}]}
  - {name: Seated toe extension, steps: [{hold: 3s}]}
"""


def spoken(routine) -> list[str]:
    return [item.text for item in compile_routine(routine, minutes=1) if isinstance(item, Speak)]


def test_the_intro_and_each_next_up_follow_the_selection():
    routine = parse_routine(ROUTINE, "sel.yaml")
    said = spoken(selected(routine, only={0, 2, 3}, skip={3}))
    assert said[0] == "Sel. 2 exercises, about 1 minute."
    assert [text for text in said if "Next up" in text] == ["Rest for 5 seconds. Next up: Half fish pose."]
    assert "Hamstring stretch." not in said and "Seated toe extension." not in said
    assert spoken(selected(routine)) == spoken(routine)
    with pytest.raises(UsageError, match="leave no exercise"):
        selected(routine, only={1}, skip={1})


@pytest.fixture
def sel(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COACH_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "sel.yaml").write_text(ROUTINE)
    return "sel.yaml"


def chapters(*args: str) -> list[str]:
    result = runner.invoke(app, ["plan", *args, "--json"])
    assert result.exit_code == 0, result.stderr
    return [chapter["title"] for chapter in json.loads(result.stdout)["chapters"]]


def test_only_and_skip_take_numbers_and_names_as_from_does(sel):
    assert chapters(sel, "--only", "4", "--only", "couch") == ["Couch stretch", "Seated toe extension"]
    assert chapters(sel, "--skip", "half fish", "--skip", "1") == ["Hamstring stretch", "Seated toe extension"]
    assert chapters(sel, "--only", "1", "--only", "2", "--skip", "Hamstring stretch") == ["Couch stretch"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--only", "yoga"), "coach: error: --only 'yoga' matches no exercise"),
        (("--skip", "9"), "coach: error: --skip '9' matches no exercise"),
        (("--only", "h"), "coach: error: --only 'h' matches several exercises"),
        (("--only", "1", "--skip", "couch"), "coach: error: --only and --skip leave no exercise to do"),
    ],
)
def test_a_selection_that_names_nothing_is_one_line_and_exit_2(sel, args, message):
    result = runner.invoke(app, ["plan", sel, *args])
    assert result.exit_code == 2 and result.stderr.startswith(message) and result.stderr.count("\n") == 1


def test_the_resume_hint_keeps_the_level_and_the_selection():
    from coach.cli.playing import PlayRequest, _passed_options

    request = PlayRequest(device="null", no_ui=True, level="auto", only=("couch", "3"), skip=("2",))
    passed = _passed_options(request, level="0.25")
    assert passed == ["--device", "null", "--level", "0.25", "--only", "couch", "--only", "3", "--skip", "2", "--no-ui"]
