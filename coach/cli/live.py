"""`coach play`: the live session on the mat, hands-free, with a screen readable from the floor.

This is its typer command; what a run does is coach/cli/playing.py, which a plain `coach play` reaches without
typer (coach/cli/quick.py reads the same options).
"""

from __future__ import annotations

from typing import Optional

import typer

from coach.cli.app import command
from coach.cli.playing import PlayRequest
from coach.cli.playing import play as play_session


@command("play")
def play(
    routine_arg: Optional[str] = typer.Argument(None, metavar="ROUTINE", help="A routine file or built-in name."),
    start_from: Optional[str] = typer.Option(
        None, "--from", metavar="EXERCISE", help="Start at an exercise: its number, or its name or a part of it."
    ),
    at: Optional[str] = typer.Option(None, "--at", metavar="MM:SS", help="Start this far into the session."),
    device: Optional[str] = typer.Option(
        None, "--device", metavar="NAME", help="Audio output (part of its name); `null` plays in real time to no sound card."
    ),
    list_devices: bool = typer.Option(False, "--list-devices", help="List the audio outputs and exit."),
    no_ui: bool = typer.Option(
        False, "--no-ui", help="Print `[MM:SS.s] cue` lines instead of the full screen (implied when stdout is not a terminal)."
    ),
    *,
    music, no_music, voice, rate, cache, engine, level, only, skip,  # coach.cli.app.SHARED_OPTIONS
) -> None:
    """Play a session live, hands-free: space pauses, n skips ahead, b goes back, q quits."""
    request = PlayRequest(
        routine_arg=routine_arg, start_from=start_from, at=at, device=device, list_devices=list_devices, no_ui=no_ui,
        music=music, no_music=no_music, voice=voice, rate=rate, cache=cache, engine=engine, level=level,
        only=tuple(only or ()), skip=tuple(skip or ()),
    )  # fmt: skip
    return play_session(request)
