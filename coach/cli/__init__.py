"""The command line: the one place that prints errors and chooses exit codes.

COMMANDS is where a command is registered: its name and the module of coach/cli that defines it (with
`@command(NAME)`). A run imports only the module of the command it runs, so `coach plan` and `coach play` never
load the server's, the encoder's or the other commands' imports; help without a command, or a name not in the
table, loads them all (in the table's order, the order of the help's listing).
"""

from __future__ import annotations

import sys

COMMANDS: dict[str, str] = {
    "history": "history",
    "play": "live",
    "check": "routines",
    "plan": "routines",
    "list": "routines",
    "schema": "routines",
    "serve": "serve",
    "render": "speech",
    "voices": "speech",
    "cache": "speech",
    "export": "track",
    "figure": "figures",
    "publish": "publish",
    "watch": "watch",
}

_wanted: set[str] | None = None  # the modules a run needs (None: all of them)
_loaded = False


def load_commands() -> None:
    """Import the modules whose commands this run needs (they register themselves on `app`); once."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in dict.fromkeys(COMMANDS.values()):
        if _wanted is None or module in _wanted:
            __import__(f"coach.cli.{module}")  # not importlib.import_module: -X importtime would not see it


def command_named(args: list[str]) -> str | None:
    """The command a command line runs: its first word that is not an option (--debug is the only global one)."""
    for arg in args:
        if arg in ("--help", "-h"):
            return None
        if not arg.startswith("-"):
            return arg
    return None


def main() -> None:
    """Run the coach command line, with only the module of the command it runs loaded."""
    global _wanted
    name = command_named(sys.argv[1:])
    if name in COMMANDS and not _loaded:
        _wanted = {COMMANDS[name]}
    from coach.cli.app import app  # the typer application; its commands load when it is first built

    app(prog_name="coach")
