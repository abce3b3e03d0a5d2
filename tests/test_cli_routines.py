"""check, plan, list and schema through typer's test runner."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from coach.cli.app import app
from coach.clock import plan_time as clock

runner = CliRunner()

SEVERAL_MISTAKES = """\
title: Broken
pace:
  breath: fast
exercises:
  - name: Couch stretch
    sidess: [left, right]
    steps:
      - hold: 45 seconds
      - say: Hello {sid}
"""


def run(*args: str, env: dict | None = None):
    return runner.invoke(app, list(args), env=env)


@pytest.fixture
def cache_env(tmp_path):
    return {"COACH_CACHE_DIR": str(tmp_path / "cache")}


def test_check_lists_every_mistake_with_its_line_and_column_in_one_run(tmp_path):
    routine = tmp_path / "broken.yaml"
    routine.write_text(SEVERAL_MISTAKES)
    result = run("check", "--quick", str(routine))
    assert result.exit_code == 2
    positions = re.findall(r"broken\.yaml:(\d+):(\d+): error: ", result.stderr)
    assert [(int(line), int(col)) for line, col in positions] == [(3, 11), (6, 5), (8, 15), (9, 20)]
    assert "Traceback" not in result.output


def test_check_quick_refuses_a_voice_the_engine_lacks_at_its_position(tmp_path):
    routine = tmp_path / "voiced.yaml"
    routine.write_text("title: T\nvoice: {name: nonexistent, rate: 150}\nexercises:\n  - name: E\n    steps: [say: Go.]\n")
    result = run("check", "--quick", str(routine))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{routine}:2:15: error: voice.name: unknown voice 'nonexistent'")
    assert "ok" not in result.stdout


def test_check_quick_without_a_speech_engine_only_skips_the_voice_check_and_a_full_check_exits_1(tmp_path, monkeypatch):
    from coach import session
    from coach.errors import SpeechError

    def no_engine(name="auto"):
        raise SpeechError("no speech engine here")

    monkeypatch.setattr(session, "get_engine", no_engine)
    routine = tmp_path / "r.yaml"
    routine.write_text("title: T\nvoice: {name: gmw/en-us}\nexercises:\n  - name: E\n    steps: [say: Go.]\n")
    quick = run("check", "--quick", str(routine))
    assert quick.exit_code == 0 and quick.stdout == f"{routine}: ok (1 exercise)\n"
    assert quick.stderr == f"{routine}: warning: voice not checked: no speech engine here\n"
    full = run("check", str(routine))
    assert full.exit_code == 1 and full.stderr == "coach: error: no speech engine here\n"


def test_check_accepts_a_language_code_as_the_voice_and_counts_one_exercise_in_the_singular(tmp_path):
    routine = tmp_path / "one.yaml"
    routine.write_text("title: T\nvoice: {name: en-gb}\nexercises:\n  - name: E\n    steps: [say: Go.]\n")
    result = run("check", "--quick", str(routine))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{routine}: ok (1 exercise)\n"


def test_check_warns_about_an_unusual_side_label_unless_the_routine_lists_it(tmp_path):
    routine = tmp_path / "sides.yaml"
    body = "exercises:\n  - name: E\n    sides: [rigth, left]\n    steps: [say: '{Side} leg.']\n"
    routine.write_text("title: T\n" + body)
    result = run("check", "--quick", str(routine))
    assert result.exit_code == 0
    assert result.stderr == (
        f"{routine}:4:13: warning: side 'rigth' is not a usual side label "
        "(did you mean 'right'? list the routine's own in 'side_names')\n"
    )
    routine.write_text("title: T\nside_names: [rigth]\n" + body)
    result = run("check", "--quick", str(routine))
    assert result.exit_code == 0 and result.stderr == ""


def test_plan_of_one_exercise_says_chapter_in_the_singular(tmp_path, cache_env):
    routine = tmp_path / "one.yaml"
    routine.write_text("title: T\nexercises:\n  - name: E\n    steps: [say: Go.]\n")
    result = run("plan", str(routine), env=cache_env)
    assert result.exit_code == 0, result.stderr
    assert re.search(r"total 0:0\d\.\d: 1 chapter, 4 cues \(4 distinct\), 0 tones\n$", result.stdout)


def test_check_good_routines_reports_ok_and_exit_0(cache_env):
    result = run("check", "post-run", "pre-run", env=cache_env)
    assert result.exit_code == 0, result.stderr
    assert "post-run.yaml: ok (7 exercises)" in result.stdout
    assert "warning" not in result.stderr


def test_check_warns_about_a_cue_longer_than_its_slot_with_its_position(tmp_path, cache_env):
    routine = tmp_path / "tight.yaml"
    routine.write_text(
        "title: Tight\nexercises:\n  - name: E\n    steps:\n"
        "      - inhale: Lift the belly high and tilt the pelvis forward, poking your tailbone out behind you.\n"
        "        breath: 1s\n"
    )
    result = run("check", str(routine), env=cache_env)
    assert result.exit_code == 0
    assert re.search(r"tight\.yaml:5:9: warning: cue takes \d+\.\ds to say, longer than its 1s slot", result.stderr)


def test_check_missing_file_is_a_one_line_error_exit_2(tmp_path):
    result = run("check", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"coach: error: {tmp_path / 'nope.yaml'}: no such file, and not a built-in routine (built-in: post-run, pre-run)"
    ]


def test_plan_table_shows_chapters_cues_spans_and_total(cache_env):
    result = run("plan", "post-run", env=cache_env)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Post-run mobility (standard)"  # the level its ranges were picked at
    assert "  0:00.0  == 1. Couch stretch ==" in lines
    assert any(line.endswith("  Left side.") for line in lines)
    assert any(line.endswith("[hold 60s]") for line in lines)  # the hamstring hold, 30-90 s at standard
    assert re.fullmatch(r"total \d+:\d\d\.\d: 7 chapters, \d+ cues \(\d+ distinct\), \d+ tones", lines[-1])


def test_plan_json_has_the_contract_fields(cache_env):
    result = run("plan", "pre-run", "--json", env=cache_env)
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["title"] == "Pre-run mobility (standard)"
    assert {"title", "duration", "chapters", "cues", "tones"} <= set(plan)
    assert plan["chapters"][-1]["end"] == plan["duration"]
    assert {"start", "end", "text", "chapter"} == set(plan["cues"][0])


def test_plan_rate_option_changes_the_length(cache_env, tmp_path):
    routine = tmp_path / "r.yaml"
    routine.write_text("title: R\nexercises:\n  - name: E\n    steps:\n      - say: A fairly long sentence to say here.\n")
    slow = json.loads(run("plan", str(routine), "--json", "--rate", "100", env=cache_env).stdout)
    fast = json.loads(run("plan", str(routine), "--json", "--rate", "300", env=cache_env).stdout)
    assert fast["duration"] < slow["duration"]


def test_list_shows_both_built_ins_with_length_and_count(cache_env):
    result = run("list", "--json", env=cache_env)
    assert result.exit_code == 0, result.stderr
    routines = json.loads(result.stdout)["routines"]
    assert [r["name"] for r in routines] == ["post-run", "pre-run"]
    assert all(r["exercises"] == 7 and r["duration"] > 300 for r in routines)


def test_schema_prints_the_json_schema():
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert "exercises" in schema["properties"]


def test_unknown_command_is_a_usage_error():
    assert run("frobnicate").exit_code == 2


def test_committed_schema_file_is_what_coach_schema_prints():
    from pathlib import Path

    committed = Path(__file__).resolve().parent.parent / "coach-routine.schema.json"
    assert json.loads(committed.read_text()) == json.loads(run("schema").stdout), (
        "refresh it: .venv/bin/coach schema > coach-routine.schema.json"
    )


@pytest.mark.parametrize(
    "ms, tenths, shown",
    [
        (0, True, "0:00.0"),
        (61_999, True, "1:01.9"),  # rounded down, as a clock shows it
        (3_723_456, True, "1:02:03.4"),
        (941_600, False, "15:41"),
        (3_600_000, False, "1:00:00"),
    ],
)
def test_clock_shows_minutes_and_seconds_with_hours_from_an_hour(ms, tenths, shown):
    assert clock(ms, tenths) == shown
