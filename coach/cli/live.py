"""`coach play`: the live session on the mat, hands-free, with a screen readable from the floor."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import time
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

import typer

from coach import session
from coach.cli.app import CacheDirOption, EngineOption, RateOption, VoiceOption, cache_dir, command
from coach.cli.progress import SynthesisBar
from coach.cli.speech import check_settings
from coach.durations import parse_duration
from coach.errors import AudioDeviceError, UsageError
from coach.keys import TerminalSession, Terminated
from coach.screen import Screen, cue_log_line, format_clock, side_marks
from coach.timeline import Timeline

if TYPE_CHECKING:
    from coach.player import Player

TICK_SECONDS = 0.05  # how often the loop looks at keys and redraws: quick enough to feel immediate
STALL_SECONDS = 5.0  # an output that takes no audio for this long has gone away
DEVICE_PERIODS = 3  # miniaudio's usual buffer; the silence after the end lets it play out


class Outcome(Enum):
    """How a live session ended."""

    FINISHED = "finished"
    QUIT = "quit"
    INTERRUPTED = "interrupted"
    TERMINATED = "terminated"


@command("play")
def play(
    routine_arg: Optional[str] = typer.Argument(None, metavar="ROUTINE", help="A routine file or built-in name."),
    start_from: Optional[str] = typer.Option(
        None, "--from", metavar="EXERCISE", help="Start at an exercise: its number, name, or the start of its name."
    ),
    at: Optional[str] = typer.Option(None, "--at", metavar="MM:SS", help="Start this far into the session."),
    device: Optional[str] = typer.Option(
        None, "--device", metavar="NAME", help="Audio output (part of its name); `null` plays in real time to no sound card."
    ),
    list_devices: bool = typer.Option(False, "--list-devices", help="List the audio outputs and exit."),
    no_ui: bool = typer.Option(
        False, "--no-ui", help="Print `[MM:SS.s] cue` lines instead of the full screen (implied when stdout is not a terminal)."
    ),
    voice: Optional[str] = VoiceOption,
    rate: Optional[int] = RateOption,
    cache: Optional[Path] = CacheDirOption,
    engine: Optional[str] = EngineOption,
) -> None:
    """Play a session live, hands-free: space pauses, n skips ahead, b goes back, q quits."""
    from coach import devices  # audio libraries load only for the command that plays

    if list_devices:
        for output in devices.list_outputs():
            detail = devices.NULL_DESCRIPTION if output.is_null else output.backend
            sys.stdout.write(f"{output.name}  ({detail})\n")
        return
    if routine_arg is None:
        raise UsageError("missing ROUTINE (a routine file or built-in name); see `coach play --help`")
    if start_from is not None and at is not None:
        raise UsageError("give --from or --at, not both")
    at_ms = _parse_at(at) if at is not None else None

    routine = session.load(routine_arg)
    settings = session.speech_settings(routine, voice, rate, engine)
    check_settings(settings)
    chapter = exercise_index([exercise.name for exercise in routine.exercises], start_from) if start_from else None
    output = devices.find_output(device)
    devices.check_output(output)  # before rendering speech: a missing device should not cost a wait

    with SynthesisBar() as bar:
        prepared = session.prepare(routine, settings, cache_dir(cache), on_progress=bar)
    timeline = prepared.timeline
    player = live_player(prepared, _start_ms(timeline, chapter, at_ms, at))
    full_screen = not no_ui and sys.stdout.isatty()
    screen = Screen(timeline, side_marks(routine, timeline)) if full_screen else None

    audio = devices.open_output(output, player.sample_rate)
    try:
        with TerminalSession(full_screen=full_screen, on_suspend=player.pause) as terminal:
            audio.start(player.feed())
            outcome = run_session(player, terminal, screen)
    except KeyboardInterrupt:  # between the terminal being taken and the loop starting
        outcome = Outcome.INTERRUPTED
    except Terminated:
        outcome = Outcome.TERMINATED
    finally:
        audio.close()

    if outcome is Outcome.FINISHED:
        # On stderr, so `--no-ui` output stays one line per cue; it also marks for logs when the session ended.
        sys.stderr.write(f"Done: {timeline.title} ({format_clock(timeline.duration_ms)}).\n")
        return
    sys.stderr.write(resume_hint(routine_arg, timeline, player.position_ms, _passed_options(voice, rate, cache, device, no_ui, engine)))
    if outcome is Outcome.INTERRUPTED:
        raise typer.Exit(130)
    if outcome is Outcome.TERMINATED:
        raise typer.Exit(143)


def live_player(prepared: session.Prepared, start_ms: int = 0) -> Player:
    """A player over a block mixer of the prepared session at the loudness target; nothing is mixed yet."""
    from coach import devices
    from coach.loudness import CEILING_DBTP
    from coach.mixer import Mixer
    from coach.player import Player

    clips = prepared.clip_arrays()
    gain = prepared.program_gain(clips, CEILING_DBTP)
    mixer = Mixer(prepared.timeline, clips, prepared.clip_rate, gain=gain)
    tail = mixer.sample_rate * devices.PERIOD_MS * DEVICE_PERIODS // 1000
    return Player(prepared.timeline, mixer, start_ms=start_ms, tail_frames=tail)


def run_session(player: Player, terminal: TerminalSession, screen: Screen | None) -> Outcome:
    """Follow the player until the plan ends or the user stops it: keys, cue lines or the screen."""
    from coach import devices
    from coach.player import CueStarted

    last_size = shutil.get_terminal_size()
    last_clock, last_move = player.clock_frames, time.monotonic()
    try:
        while not player.done:
            if terminal.reads_keys:
                for key in terminal.read_keys(TICK_SECONDS):
                    if _apply_key(player, key):
                        return Outcome.QUIT
                events = player.pending_events()
            else:
                first = player.next_event(TICK_SECONDS)
                events = ([first] if first is not None else []) + player.pending_events()
            if screen is None:
                for event in events:
                    if isinstance(event, CueStarted):
                        sys.stdout.write(cue_log_line(event.cue) + "\n")
                        sys.stdout.flush()
            else:
                size = shutil.get_terminal_size()
                state = player.state()
                frame = screen.render(state.position_ms, state.paused, size.columns, size.lines)
                terminal.draw(frame, force=size != last_size)  # a resized terminal may have scrambled the old frame
                last_size = size
            if player.failure is not None:
                raise player.failure
            now = time.monotonic()
            if player.clock_frames != last_clock:
                last_clock, last_move = player.clock_frames, now
            elif now - last_move > STALL_SECONDS:
                raise AudioDeviceError(f"the audio output stopped taking audio; {devices.NO_DEVICE_HINT}")
    except KeyboardInterrupt:
        return Outcome.INTERRUPTED
    except Terminated:
        return Outcome.TERMINATED
    except BrokenPipeError:  # whoever read the cue lines has gone (`| head`): stop, and say nothing more there
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return Outcome.QUIT
    return Outcome.FINISHED


def _apply_key(player: Player, key: str) -> bool:
    """Act on one key; True when it means quit."""
    if key in ("q", "escape"):
        return True
    if key in ("space", "p"):
        player.toggle_pause()
    elif key in ("n", "right"):
        player.skip()
    elif key in ("b", "left"):
        player.back()
    return False


def exercise_index(names: Sequence[str], wanted: str) -> int:
    """The 0-based exercise `--from` means: a 1-based number, a name, or the unique start of a name (any case)."""
    text = wanted.strip()
    folded = text.casefold()
    exact = [index for index, name in enumerate(names) if name.casefold() == folded]
    if exact:
        return exact[0]
    if text.isdigit():
        number = int(text)
        if 1 <= number <= len(names):
            return number - 1
    starting = [index for index, name in enumerate(names) if name.casefold().startswith(folded)]
    if len(starting) == 1:
        return starting[0]
    if len(starting) > 1:
        found = ", ".join(repr(names[index]) for index in starting)
        raise UsageError(f"--from {wanted!r} matches several exercises: {found}; give more of the name or its number")
    listing = "; ".join(f"{index + 1}. {name}" for index, name in enumerate(names))
    raise UsageError(f"--from {wanted!r} matches no exercise (give a number 1-{len(names)} or a name: {listing})")


def _parse_at(text: str) -> int:
    try:
        seconds = parse_duration(text)
    except ValueError as error:
        raise UsageError(f"--at {text!r}: {error}; use MM:SS, e.g. --at 12:30") from None
    return round(seconds * 1000)


def _start_ms(timeline: Timeline, chapter: int | None, at_ms: int | None, at_text: str | None) -> int:
    if chapter is not None:
        if chapter >= len(timeline.chapters):  # the compiler makes one chapter per exercise; guard all the same
            raise UsageError(f"--from: the session has only {len(timeline.chapters)} chapters")
        return timeline.chapters[chapter].start_ms
    if at_ms is None:
        return 0
    if at_ms >= timeline.duration_ms:
        raise UsageError(f"--at {at_text} is past the end of the session ({format_clock(timeline.duration_ms)})")
    return at_ms


def _passed_options(
    voice: str | None, rate: int | None, cache: Path | None, device: str | None, no_ui: bool, engine: str | None = None
) -> list[str]:
    """The options of this run that a resumed run needs to sound and behave the same."""
    passed: list[str] = []
    options = (("--engine", engine), ("--voice", voice), ("--rate", rate), ("--cache-dir", cache), ("--device", device))
    for flag, value in options:
        if value is not None:
            passed += [flag, str(value)]
    if no_ui:
        passed.append("--no-ui")
    return passed


def resume_hint(routine_arg: str, timeline: Timeline, position_ms: int, options: Sequence[str] = ()) -> str:
    """How to carry on from here: by exercise (its name, or number if the name is not unique) or by time."""
    chapter = timeline.chapter_at(position_ms)
    title = timeline.chapters[chapter].title
    unique = [c.title.casefold() for c in timeline.chapters].count(title.casefold()) == 1
    where = title if unique else str(chapter + 1)
    base = ["coach", "play", routine_arg, *options]
    by_exercise = shlex.join(base + ["--from", where])
    by_time = shlex.join(base + ["--at", format_clock(position_ms)])
    return f"Stopped at {format_clock(position_ms)} in {title!r}. To resume:\n  {by_exercise}\n  {by_time}\n"
