"""`--level` end to end: real espeak and ffmpeg; the level in the title, the intro, the tag and the file name."""

from __future__ import annotations

import json
import subprocess

import pytest
from typer.testing import CliRunner

from coach.cli.app import app

runner = CliRunner()

RANGED = """\
title: Ranged
exercises:
  - name: Stretch
    steps:
      - hold: 5-15s
      - breathe: 1-3
"""


@pytest.fixture
def ranged(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COACH_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "ranged.yaml").write_text(RANGED)
    return "ranged.yaml"


def plan(*args: str) -> dict:
    result = runner.invoke(app, ["plan", *args, "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_the_level_picks_the_ranges_and_the_plan_names_it(ranged):
    easy, deep = plan(ranged, "--level", "easy"), plan(ranged, "--level", "deep")
    assert (easy["title"], deep["title"]) == ("Ranged (easy)", "Ranged (deep)")
    assert easy["cues"][0]["text"].startswith("Ranged, easy level. 1 exercise")
    assert [c["text"] for c in easy["cues"] if "Hold" in c["text"]] == ["Hold for 5 seconds."]
    assert [c["text"] for c in deep["cues"] if "Hold" in c["text"]] == ["Hold for 15 seconds."]
    assert sum("Breathe in" in c["text"] for c in easy["cues"]) == 1
    assert sum("In." in c["text"] or "Breathe in" in c["text"] for c in deep["cues"]) == 3
    assert plan(ranged)["title"] == "Ranged (standard)"
    assert plan(ranged, "--level", "0.3")["cues"][0]["text"].startswith("Ranged, level 0.3.")
    table = runner.invoke(app, ["plan", ranged, "--level", "easy"])
    assert table.stdout.splitlines()[0] == "Ranged (easy)"


@pytest.mark.parametrize("level", ["hard", "2", "-1", "auto-ish"])
def test_a_bad_level_is_one_line_and_exit_2(ranged, level):
    result = runner.invoke(app, ["plan", ranged, "--level", level])
    assert result.exit_code == 2
    assert result.stderr.startswith("coach: error: --level: ") and result.stderr.count("\n") == 1


def test_an_export_at_a_level_is_named_and_tagged_with_it(ranged, tmp_path):
    result = runner.invoke(app, ["export", ranged, "--level", "easy", "--no-transcript"])
    assert result.exit_code == 0, result.stderr
    track = tmp_path / "ranged-easy.mp3"
    assert track.is_file() and not (tmp_path / "ranged.mp3").exists()
    command = ["ffprobe", "-v", "error", "-show_format", "-of", "json", str(track)]
    tags = json.loads(subprocess.run(command, capture_output=True, check=True, text=True).stdout)["format"]["tags"]
    assert tags["title"] == "Ranged (easy)"


def test_an_export_of_some_exercises_does_not_overwrite_the_whole_sessions_track(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COACH_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "two.yaml").write_text(
        "title: Two\nexercises:\n  - {name: One, steps: [hold: 1s]}\n  - {name: Two, steps: [hold: 1-2s]}\n"
    )
    result = runner.invoke(app, ["export", "two.yaml", "--skip", "1", "--no-transcript"])
    assert result.exit_code == 0, result.stderr
    assert sorted(path.name for path in tmp_path.glob("*.mp3")) == ["two-standard-exercises-2.mp3"]


def test_render_at_a_level_leaves_that_levels_session_warm(ranged, tmp_path):
    from coach import session
    from coach.cli.choice import chosen

    result = runner.invoke(app, ["render", ranged, "--level", "deep", "--only", "Stretch", "--json"])
    assert result.exit_code == 0, result.stderr
    routine = session.load(ranged)
    settings = session.speech_settings(routine)
    deep = chosen(routine, "deep", ["Stretch"], None)
    assert session.prepare_cached(deep, settings, tmp_path / "cache") is not None  # `play --level deep` starts warm
    assert session.prepare_cached(chosen(routine, "easy", None, None), settings, tmp_path / "cache") is None
