"""A plain `coach play` read without typer, so a live session's first sound does not wait for typer's imports
and its command building (about 0.1 s).

Only a well-formed play is read here: its one routine and the options of the typer command (coach/cli/live.py),
spelt out in full. Anything else (help, a mistake, an option given short or without its value) goes to typer,
which reads it as always and explains what is wrong. A test holds this table to the typer command's options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from coach.cli.guard import exit_code_of, show_coach_warnings
from coach.routine.limits import MAX_RATE, MIN_RATE

VALUED = {
    "--from": "start_from", "--at": "at", "--device": "device", "--music": "music", "--voice": "voice",
    "--rate": "rate", "--cache-dir": "cache", "--engine": "engine", "--level": "level",
}  # fmt: skip
REPEATED = {"--only": "only", "--skip": "skip"}
SWITCHES = {"--list-devices": "list_devices", "--no-ui": "no_ui", "--no-music": "no_music"}
PATHS = {"music", "cache"}


def quick_request(args: Sequence[str]) -> tuple[dict[str, object], bool] | None:
    """A `play ...` command line's options as PlayRequest fields, and whether --debug was given; None for typer."""
    if not args or args[0] != "play":
        return None
    fields: dict[str, object] = {"only": [], "skip": []}
    debug = False
    positional: list[str] = []
    rest = list(args[1:])
    while rest:
        arg = rest.pop(0)
        if not arg.startswith("-"):
            positional.append(arg)
            continue
        flag, has_value, value = arg.partition("=")
        if flag == "--debug" and not has_value:
            debug = True
        elif flag in SWITCHES and not has_value:
            fields[SWITCHES[flag]] = True
        elif flag in VALUED or flag in REPEATED:
            if not has_value:
                if not rest or rest[0].startswith("-"):
                    return None
                value = rest.pop(0)
            if flag in REPEATED:
                fields[REPEATED[flag]].append(value)  # type: ignore[union-attr]
            else:
                fields[VALUED[flag]] = value
        else:
            return None
    if len(positional) != 1:
        return None
    fields["routine_arg"] = positional[0]
    if "rate" in fields:
        rate = str(fields["rate"])
        if not rate.isdigit() or not MIN_RATE <= int(rate) <= MAX_RATE:
            return None
        fields["rate"] = int(rate)
    for name in PATHS & fields.keys():
        fields[name] = Path(str(fields[name]))
    fields["only"], fields["skip"] = tuple(fields["only"]), tuple(fields["skip"])  # type: ignore[arg-type]
    return fields, debug


def run_quick(args: Sequence[str]) -> int | None:
    """Run a plain `coach play` (the arguments after `coach`) and give its exit code; None: typer should read it."""
    found = quick_request(args)
    if found is None:
        return None
    fields, debug = found
    from coach.cli.playing import PlayRequest, play

    show_coach_warnings()
    request = PlayRequest(**fields)  # type: ignore[arg-type]
    return exit_code_of(lambda: play(request), debug=debug)
