"""The entry point imports only what the command it runs needs (measured with python -X importtime in a fresh process)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from coach import cli

SERVER = ("starlette", "uvicorn", "coach.serve", "watchfiles")


def imported(*args: str, cache) -> set[str]:
    """The modules a fresh `coach ARGS...` imports, and its exit code checked."""
    command = [sys.executable, "-X", "importtime", "-c", "import sys; from coach.launch import main; sys.argv[0] = 'coach'; main()", *args]
    result = subprocess.run(command, capture_output=True, text=True, env={"COACH_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    return {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


def test_the_version_imports_no_command_line_at_all(tmp_path):
    found = imported("--version", cache=tmp_path)
    assert not {m for m in found if m.startswith(("typer", "coach.cli", "numpy"))}


def test_plan_loads_its_own_command_module_and_not_the_server_the_encoder_or_the_player(tmp_path):
    found = imported("plan", "post-run", "--engine", "espeak", cache=tmp_path)
    assert "coach.cli.routines" in found
    others = {f"coach.cli.{module}" for module in cli.COMMANDS.values()} - {"coach.cli.routines"}
    assert not found & others
    heavy = ("coach.output.export", "coach.output.chunked", "coach.output.lame", "lameenc", "miniaudio", "scipy")
    assert not {m for m in found if m.startswith(SERVER + heavy)}  # (coach.output.mp3frames: the chapter grid)


def test_play_loads_the_player_and_not_the_server(tmp_path):
    found = imported("play", "pre-run", "--engine", "espeak", "--device", "null", "--no-ui", "--at", "19:00", cache=tmp_path)
    assert "coach.cli.playing" in found and not found & {"coach.cli.live", "coach.cli.serve", "coach.cli.track"}
    assert not {m for m in found if m.startswith(SERVER)}
    assert "http.client" not in found  # miniaudio's internet radio (urllib.request) stays unloaded
    assert not {m for m in found if m.startswith(("typer", "click", "rich"))}  # a plain play is read by coach/cli/quick.py


def test_the_quick_play_reads_the_options_of_the_typer_command_and_only_them():
    from typer.main import get_command

    from coach.cli import quick
    from coach.cli.app import app
    from coach.cli.playing import PlayRequest
    from coach.routine.limits import MAX_RATE, MIN_RATE

    table = {**quick.VALUED, **quick.REPEATED, **quick.SWITCHES}
    seen = {}
    for param in get_command(app).commands["play"].params:
        if param.param_type_name == "argument" or param.name in ("help", "debug"):
            continue
        flag = next(opt for opt in param.opts if opt.startswith("--"))
        seen[flag] = param.name
        assert param.is_flag == (flag in quick.SWITCHES) and param.multiple == (flag in quick.REPEATED), flag
        if param.name == "rate":
            assert (param.type.min, param.type.max) == (MIN_RATE, MAX_RATE)
    assert {flag: table[flag] for flag in seen} == seen and set(table) == set(seen)
    paths = {name for name, kind in PlayRequest.__annotations__.items() if "Path" in str(kind)}
    assert paths == quick.PATHS and set(PlayRequest.__annotations__) == {*table.values(), "routine_arg"}


PLAIN_PLAYS = [
    ["play", "post-run"],
    ["play", "--no-ui", "pre-run", "--device=null", "--at", "1:30", "--rate", "170", "--engine", "espeak", "--debug"],
    ["play", "my routine.yaml", "--only", "couch", "--only=3", "--skip", "2", "--level", "deep", "--voice", "heart",
     "--cache-dir", "/tmp/c", "--music", "bed.mp3", "--from", "2", "--no-music", "--list-devices"],
]


@pytest.mark.parametrize("args", PLAIN_PLAYS)
def test_a_plain_play_is_read_quickly_as_typer_reads_it(args, monkeypatch):
    from typer.testing import CliRunner

    import coach.cli.live
    from coach.cli.app import app
    from coach.cli.playing import PlayRequest
    from coach.cli.quick import quick_request

    asked = []
    monkeypatch.setattr(coach.cli.live, "play_session", lambda request: asked.append(request) or 0)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    fields, _debug = quick_request(args)
    assert asked == [PlayRequest(**fields)]


@pytest.mark.parametrize("args", [
    ["play"], ["play", "--help"], ["play", "-h"], ["play", "a", "b"], ["play", "a", "--rate", "20"], ["play", "a", "--rate", "x"],
    ["play", "a", "--bogus"], ["play", "a", "--at"], ["play", "a", "--voice", "--no-ui"], ["play", "a", "--no-ui=1"], ["plan", "a"],
])  # fmt: skip
def test_anything_but_a_plain_play_is_left_to_typer(args):
    from coach.cli.quick import quick_request

    assert quick_request(args) is None


def test_a_module_imported_lazily_loads_on_its_first_use_and_then_is_the_module_itself():
    script = """if True:
        import sys
        from coach.extensions import import_lazily
        import_lazily("urllib.request")
        import urllib.request
        assert "http.client" not in sys.modules
        from urllib.request import Request
        assert "http.client" in sys.modules and sys.modules["urllib.request"].Request is Request
        assert urllib.request is sys.modules["urllib.request"] and type(urllib.request).__name__ == "module"
    """
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("args", [["--help"], ["no-such-command"]])
def test_help_or_an_unknown_name_loads_every_command(args):
    assert cli.command_named(args) in (None, "no-such-command")


def test_every_command_in_the_table_is_a_command_of_the_app():
    from typer.main import get_command

    from coach.cli.app import app

    group = get_command(app)
    assert set(group.commands) == set(cli.COMMANDS)  # noqa: SIM300
