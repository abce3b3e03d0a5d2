"""The options several commands share are defined once (coach.cli.app.SHARED_OPTIONS) and mean the same everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from coach.cli.app import app
from coach.cli.app import SHARED_OPTIONS, shared_options

runner = CliRunner()


def probe_app(function) -> typer.Typer:
    """A one-command typer app around `function`, its shared options filled in."""
    probe = typer.Typer(add_completion=False)
    probe.command()(shared_options(function))
    return probe


def test_a_bare_keyword_only_parameter_becomes_its_shared_option():
    seen = {}

    def probe(name: str = typer.Argument(...), *, voice, rate, cache, only, as_json, count: int = typer.Option(1, "--count")):
        seen.update(name=name, voice=voice, rate=rate, cache=cache, only=only, as_json=as_json, count=count)

    result = runner.invoke(probe_app(probe), ["x", "--voice", "en-gb", "--rate", "150", "--cache-dir", "c", "--only", "1", "--only", "ankle", "--json"])
    assert result.exit_code == 0, result.output
    assert seen == {"name": "x", "voice": "en-gb", "rate": 150, "cache": Path("c"), "only": ["1", "ankle"], "as_json": True, "count": 1}
    result = runner.invoke(probe_app(probe), ["x", "--rate", "20"])
    assert result.exit_code == 2  # the shared option's own range check (80 to 450)


def test_a_parameter_with_its_own_type_or_default_is_left_as_written():
    def probe(*, level: Optional[str] = typer.Option(None, "--stage")):
        pass

    page = runner.invoke(probe_app(probe), ["--help"]).output
    assert "--stage" in page and "--level" not in page


def test_a_bare_parameter_that_is_no_shared_option_is_refused_at_once():
    def probe(*, volume):
        pass

    with pytest.raises(TypeError, match="no shared option is named 'volume'"):
        shared_options(probe)


# Options with a shared name that mean something else in one command, and say so in its help.
OWN_MEANING = {
    ("serve", "level"): "every routine's level, not one routine's",
    ("publish", "level"): "every routine's level, not one routine's",
    ("voices", "engine"): "a filter on the voices listed, not the engine to speak with",
}


def test_every_command_taking_a_shared_option_takes_the_same_one():
    group = typer.main.get_command(app)
    expected = {}
    for name, (_annotation, option) in SHARED_OPTIONS.items():
        expected[name] = (option.param_decls, option.help)
    seen = set()
    for command_name, command in group.commands.items():  # type: ignore[attr-defined]
        for parameter in command.params:
            if parameter.param_type_name == "option" and parameter.name in expected:
                if (command_name, parameter.name) in OWN_MEANING:
                    continue
                declarations, help_text = expected[parameter.name]
                assert tuple(parameter.opts) == tuple(declarations) and parameter.help == help_text, (command_name, parameter.name)
                seen.add(parameter.name)
    assert seen == set(SHARED_OPTIONS)
