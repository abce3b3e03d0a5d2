"""The speech commands end to end with the real engine: render, voices, cache stats/prune/clear."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import coach.cli.speech  # noqa: F401  (registers the commands)
from coach.cli.app import app

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env)


def run_json(*args: str, env: dict[str, str] | None = None) -> dict:
    result = run(*args, "--json", env=env)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def cache(tmp_path: Path) -> str:
    return str(tmp_path / "speech")


@pytest.fixture(scope="module")
def rendered_once(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A cache holding post-run at its own settings, rendered once for the module, and that render's report."""
    directory = tmp_path_factory.mktemp("rendered") / "speech"
    return directory, run_json("render", "post-run", "--cache-dir", str(directory))


@pytest.fixture
def warm_cache(tmp_path: Path, rendered_once: tuple[Path, dict]) -> str:
    """A private copy of the rendered cache."""
    target = tmp_path / "warm"
    shutil.copytree(rendered_once[0], target)
    return str(target)


def test_render_synthesizes_everything_once_then_reuses_it(rendered_once, warm_cache):
    first = rendered_once[1]  # into an empty cache
    assert first["cues"] > 20
    assert first["synthesized"] == first["cues"] and first["reused"] == 0
    assert first["engine"] == "hibari" and first["voice"] == "heart" and first["rate"] == 170  # the built-in's own pace
    second = run_json("render", "post-run", "--cache-dir", warm_cache)
    assert (second["cues"], second["synthesized"], second["reused"]) == (first["cues"], 0, first["cues"])


def test_render_with_another_rate_synthesizes_again_and_says_so_in_text(warm_cache):
    result = run("render", "post-run", "--cache-dir", warm_cache, "--rate", "210", "--jobs", "1")
    assert result.exit_code == 0, result.stderr
    assert "synthesized" in result.stdout and "210 wpm" in result.stdout
    assert " 0 synthesized" not in result.stdout


def test_cache_dir_comes_from_the_environment_when_not_given(warm_cache):
    report = run_json("render", "post-run", env={"COACH_CACHE_DIR": warm_cache})
    assert report["synthesized"] == 0 and report["cache_dir"] == warm_cache


def test_an_unknown_voice_is_bad_input_with_a_one_line_error(cache):
    result = run("render", "post-run", "--cache-dir", cache, "--voice", "nobody")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "coach: error: --voice: unknown voice 'nobody' (run `coach voices` to list the voices available)"
    ]
    assert not Path(cache).exists()


def test_a_misspelt_voice_gets_the_closest_one_suggested(cache):
    result = run("render", "post-run", "--cache-dir", cache, "--voice", "gmw/en-uss")
    assert result.exit_code == 2
    assert "unknown voice 'gmw/en-uss' (did you mean 'gmw/en-us'?" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("given", "voice"), [("en-gb", "gmw/en"), ("EN_GB", "gmw/en"), ("en-gb-x-rp", "gmw/en-gb-x-rp")])
def test_voice_accepts_language_codes_and_short_ids(cache, given, voice):
    report = run_json("render", "pre-run", "--cache-dir", cache, "--voice", given)
    assert report["voice"] == voice


def test_a_routine_voice_the_engine_lacks_is_bad_input_at_its_position(tmp_path, cache):
    routine = tmp_path / "voiced.yaml"
    routine.write_text("title: T\nvoice:\n  name: nonexistent\nexercises:\n  - name: E\n    steps: [say: Go.]\n")
    for command in (["render", str(routine), "--cache-dir", cache], ["plan", str(routine), "--cache-dir", cache]):
        result = run(*command)
        assert result.exit_code == 2, command
        assert result.stderr.startswith(f"{routine}:3:9: error: voice.name: unknown voice 'nonexistent'"), command
        assert len(result.stderr.strip().splitlines()) == 1


def test_an_unusable_cache_directory_is_a_one_line_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run("render", "post-run", "--cache-dir", str(blocker))
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "not a directory" in result.stderr


def test_voices_lists_ids_filtered_by_language():
    everything = run_json("voices")
    ids = {voice["id"] for voice in everything["voices"]}
    assert "gmw/en-us" in ids and everything["default"] in ids
    english = run_json("voices", "--language", "en")["voices"]
    assert english and len(english) < len(ids)
    assert all(any(lang == "en" or lang.startswith("en-") for lang in voice["languages"]) for voice in english)
    text = run("voices", "-l", "en")
    assert text.exit_code == 0 and "gmw/en-us" in text.stdout and "roa/fr" not in text.stdout


def test_voices_for_an_unknown_language_says_so_and_fails():
    for args in (["voices", "--language", "zz"], ["voices", "-l", "zz", "--json"]):
        result = run(*args)
        assert result.exit_code == 2 and result.stdout == ""
        assert result.stderr.startswith("coach: error: no voice speaks 'zz'")


def test_cache_stats_prune_by_routine_then_clear(warm_cache, rendered_once):
    cache, rendered = warm_cache, rendered_once[1]
    slower = run_json("render", "post-run", "--cache-dir", cache, "--rate", "120")
    before = run_json("cache", "stats", "--cache-dir", cache)
    assert before["clips"] >= rendered["cues"] + slower["cues"] and before["bytes"] > 0 and before["damaged"] == 0
    text = run("cache", "stats", "--cache-dir", cache)
    assert text.exit_code == 0 and f"{before['clips']} clips" in text.stdout and "MB" in text.stdout

    pruned = run_json("cache", "prune", "post-run", "--cache-dir", cache)
    assert pruned["kept"] == rendered["cues"] and pruned["removed"] == before["clips"] - rendered["cues"]
    assert run_json("cache", "stats", "--cache-dir", cache)["clips"] == rendered["cues"]
    assert run_json("render", "post-run", "--cache-dir", cache)["synthesized"] == 0

    Path(cache, "keep-me.txt").write_text("not a clip")
    held = run_json("cache", "stats", "--cache-dir", cache)["clips"]
    cleared = run_json("cache", "clear", "--cache-dir", cache)
    assert cleared["removed"] == held >= rendered["cues"]
    assert run_json("cache", "stats", "--cache-dir", cache)["clips"] == 0
    assert Path(cache, "keep-me.txt").exists()


def test_cache_prune_older_than_removes_only_idle_clips(warm_cache):
    cache = warm_cache
    clips = sorted(Path(cache).glob("*.wav"))
    old = time.time() - 10 * 86400
    for path in clips[: len(clips) // 2]:
        os.utime(path, (old, old))
    result = run_json("cache", "prune", "--older-than", "7", "--cache-dir", cache)
    assert result["removed"] == len(clips) // 2 and result["kept"] == len(clips) - len(clips) // 2
    assert all(path.exists() == (index >= len(clips) // 2) for index, path in enumerate(clips))


@pytest.mark.parametrize(
    "args, message",
    [
        (["cache", "prune"], "needs ROUTINE"),
        (["cache", "stats", "post-run"], "takes no ROUTINE"),
        (["cache", "clear", "--older-than", "3"], "takes no ROUTINE"),
    ],
)
def test_cache_usage_mistakes_exit_2(cache, args, message):
    result = run(*args, "--cache-dir", cache)
    assert result.exit_code == 2 and message in result.stderr


def test_render_stores_the_play_gain_so_the_first_play_does_not_measure_it(rendered_once, monkeypatch):
    import coach.audio.loudness as loudness
    from coach import session

    directory = rendered_once[0]
    routine = session.load("post-run")
    prepared = session.prepare(routine, session.speech_settings(routine), directory)
    assert prepared.cache.gain(prepared.gain_key(loudness.CEILING_DBTP)) is not None
    monkeypatch.setattr(loudness, "program_gain", lambda *a, **k: pytest.fail("the first play measured the gain"))
    prepared.live_player()
