"""How the command line presents itself: help pages, usage errors, --version and --debug."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from coach import __version__
from coach.cli.app import app
from coach.cli.app import counted
from coach.cli.usage import debug_first
from coach.errors import UsageError

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def help_page(*command: str, columns: int = 80) -> str:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("command", [[], *([name] for name in COMMANDS)], ids=lambda c: " ".join(c) or "coach")
def test_every_help_page_names_values_in_words_and_fits_80_columns(command):
    page = help_page(*command)
    assert not re.search(r"<\w[^>]*>", page), page  # typer's <bool>, <str>, <int range>, <list[str]>, <path>
    assert "{" not in page.splitlines()[0]  # the usage line: ROUTINE, not {ROUTINE}
    assert not set(page) & set("╭╮╰╯│─"), page  # no boxes
    assert max(len(line) for line in page.splitlines()) <= 80


def test_export_help_shows_every_default_and_the_ways_of_o():
    page = " ".join(help_page("export").split())  # the words, whatever the wrapping
    assert "Usage: coach export [OPTIONS] ROUTINE" in page
    assert "-o, --output FILE" in page and "- for stdout" in page and "missing folders are made" in page
    assert "[default: ROUTINE.FORMAT here]" in page
    assert "--format mp3|m4a|ogg|wav" in page and "[default: from FILE's extension, else mp3]" in page
    assert "[default: mp3 64k, m4a 64k, ogg 80k]" in page
    assert "--transcript / --no-transcript" in page and "[default: --transcript]" in page
    assert "--rate WPM" in page and "[default: the routine's; 80 to 450]" in page
    assert "--cache-dir DIR" in page and "[default: $COACH_CACHE_DIR, else one per user: see `coach cache stats`]" in page


def test_defaults_that_are_values_are_shown_too():
    assert "[default: 0.3; 0.05 to 10.0]" in " ".join(help_page("watch").split())
    assert "Usage: coach check [OPTIONS] ROUTINE..." in help_page("check")
    assert "Usage: coach play [OPTIONS] [ROUTINE]" in help_page("play")


@pytest.mark.parametrize("columns", ["80", None], ids=["COLUMNS=80", "no COLUMNS"])
def test_help_in_a_pipe_is_plain_text_with_its_defaults(columns):
    environment = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    environment["TERM"] = "xterm-256color"
    if columns:
        environment["COLUMNS"] = columns
    command = [sys.executable, "-m", "coach", "export", "--help"]
    piped = subprocess.run(command, capture_output=True, text=True, env=environment, check=True).stdout
    assert "\x1b[" not in piped and not set(piped) & set("╭╮╰╯│─") and not re.search(r"<\w[^>]*>", piped)
    assert max(len(line) for line in piped.splitlines()) <= 80
    assert "[default: from FILE's extension, else mp3]" in " ".join(piped.split())


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["export"], "missing argument 'ROUTINE' (see `coach export --help`)"),
        (["export", "post-run", "--format", "flac"], "invalid value for '--format': 'flac' is not one of"),
        (["export", "post-run", "--zzz"], "no such option: --zzz (see `coach export --help`)"),  # --bogus: click suggests --jobs
        (["plan", "post-run", "--rate", "20"], "invalid value for '--rate'"),
        (["plan", "a", "b"], "got unexpected extra argument"),
        (["cache", "frob"], "invalid value for 'ACTION': 'frob' is not one of 'stats', 'prune', 'clear'"),
        (["frobnicate"], "no such command 'frobnicate' (see `coach --help`)"),
        (["play", "post-run", "--from", "x", "--at", "0:10"], "give --from or --at, not both"),
    ],
)
def test_every_usage_mistake_is_one_coach_error_line_and_exit_2(arguments, message):
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("coach: error: ") and message in line
    assert result.stdout == ""


def test_version_prints_the_packages_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert result.stdout == f"coach {__version__}\n" and __version__ == project["version"]


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback_before_or_after_the_command(where, tmp_path):
    missing = str(tmp_path / "nope.yaml")
    arguments = ["--debug", "plan", missing] if where == "before" else ["plan", missing, "--debug"]
    result = runner.invoke(app, arguments)
    assert isinstance(result.exception, UsageError)  # raised through, for the traceback
    quiet = runner.invoke(app, ["plan", missing])
    assert quiet.exit_code == 2 and quiet.stderr.startswith("coach: error: ")


def test_debug_after_double_dash_is_an_argument_not_the_option():
    assert debug_first(["plan", "x", "--debug"]) == ["--debug", "plan", "x"]
    assert debug_first(["plan", "--", "--debug"]) == ["plan", "--", "--debug"]
    assert debug_first(["plan", "x"]) == ["plan", "x"]


def test_a_traceback_shows_with_debug_after_the_command_in_a_real_process(tmp_path):
    command = [sys.executable, "-m", "coach", "plan", str(tmp_path / "nope.yaml")]
    plain = subprocess.run(command, capture_output=True, text=True)
    debug = subprocess.run([*command, "--debug"], capture_output=True, text=True)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert "Traceback" in debug.stderr and "coach.errors.UsageError" in debug.stderr


def test_counted_uses_the_singular_for_one():
    assert [counted(n, "chapter") for n in (0, 1, 2)] == ["0 chapters", "1 chapter", "2 chapters"]


def test_a_one_exercise_routine_is_not_called_1_exercises(tmp_path):
    routine = tmp_path / "one.yaml"
    routine.write_text("title: One\nexercises:\n  - name: Calf raise\n    steps:\n      - say: Rise.\n")
    checked = runner.invoke(app, ["check", "--quick", str(routine)])
    assert checked.stdout == f"{routine}: ok (1 exercise)\n"
    planned = runner.invoke(app, ["plan", str(routine), "--cache-dir", str(tmp_path / "cache")])
    assert re.search(r": 1 chapter, \d+ cues \(\d+ distinct\), \d+ tones?$", planned.stdout.splitlines()[-1])


def test_watch_counts_one_problem_in_the_singular(tmp_path, monkeypatch):
    import coach.cli.watch as watch_command

    routine = tmp_path / "broken.yaml"
    routine.write_text("title: Broken\nexercises: 3\n")
    said = []
    monkeypatch.setattr(watch_command, "say", said.append)
    watch_command._update(routine, None, None, None, None, tmp_path / "cache", [])
    assert said == [f"{routine}: 1 problem; waiting for the next save"]
