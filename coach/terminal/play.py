"""The live session in a terminal: the player on an audio output, followed by the screen or by cue lines, keys applied."""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, TextIO

from coach.errors import AudioDeviceError
from coach.timeline.timeline import Timeline
from coach.interrupts import Terminated
from coach.terminal.keys import TerminalSession
from coach.clock import elapsed as format_clock
from coach.terminal.screen import Screen, cue_log_line

if TYPE_CHECKING:
    from coach.audio.devices import Output
    from coach.audio.music import MusicOptions
    from coach.audio.player import Player
    from coach.session import Prepared
    from coach.streaming import StreamingSession

TICK_SECONDS = 0.05  # how often the loop looks at keys and redraws: quick enough to feel immediate
STALL_SECONDS = 5.0  # an output that takes no audio for this long has gone away
DEVICE_PERIODS = 3  # miniaudio's usual buffer; the silence after the end lets it play out


class Outcome(Enum):
    """How a live session ended."""

    FINISHED = "finished"
    QUIT = "quit"
    INTERRUPTED = "interrupted"
    TERMINATED = "terminated"


@dataclass(frozen=True)
class LiveOptions:
    """How to run a live session: where to start, the full screen or one line per cue, and music under the voice."""

    start_ms: int = 0
    full_screen: bool = True
    music: MusicOptions | None = None


@dataclass(frozen=True)
class Ended:
    """How the session ended and where in the plan it was then."""

    outcome: Outcome
    position_ms: int
    timeline: Timeline  # as it stood at the end (a streaming session's grows while it plays)
    signal_number: int = 0  # TERMINATED: the signal that asked it to stop (SIGTERM, SIGHUP)


def play_live(prepared: Prepared | StreamingSession, output: Output, options: LiveOptions) -> Ended:
    """Play `prepared` on `output` until it ends or the user stops it; the terminal is always given back.

    A streaming session's speech may still be synthesizing: the screen follows its timeline as it grows.
    """
    from coach.audio import devices  # audio libraries load only for the command that plays

    player = prepared.live_player(options.start_ms, tail_ms=devices.PERIOD_MS * DEVICE_PERIODS, music=options.music)
    screen = Screen(prepared.timeline) if options.full_screen else None
    stopped_by = 0
    try:
        audio = devices.open_output(output, player.sample_rate, channels=player.channels)
        try:
            with TerminalSession(full_screen=options.full_screen, on_suspend=player.pause) as terminal:
                audio.start(player.feed())
                outcome = run_session(player, terminal, screen)
        except KeyboardInterrupt:  # between the terminal being taken and the loop starting
            outcome = Outcome.INTERRUPTED
        except Terminated as stop:
            outcome, stopped_by = Outcome.TERMINATED, stop.signal_number
        finally:
            audio.close()
    finally:
        player.close()  # the music decoder, if any, stops with the session
    return Ended(outcome, player.position_ms, player.timeline, stopped_by)


def run_session(player: Player, terminal: TerminalSession, screen: Screen | None, out: TextIO | None = None) -> Outcome:
    """Follow the player until the plan ends or the user stops it: keys, and the screen or cue lines on `out`.

    A stop signal (SIGTERM, SIGHUP) raises Terminated, which says which one it was.
    """
    from coach.audio import devices
    from coach.audio.player import CueStarted

    out = out or sys.stdout
    last_size = shutil.get_terminal_size()
    last_clock, last_move = player.clock_frames, time.monotonic()
    was_paused = player.paused
    late_frames = 0
    try:
        while not player.done:
            if terminal.reads_keys:
                for key in terminal.read_keys(TICK_SECONDS):
                    action = apply_key(player, key)
                    if action == "quit":
                        return Outcome.QUIT
                    if screen is None and action in ("skip", "back"):
                        out.write(_jumped(player, "skipped to" if action == "skip" else "back to"))
                events = player.pending_events()
            else:
                first = player.next_event(TICK_SECONDS)
                events = ([first] if first is not None else []) + player.pending_events()
            if screen is None:
                for event in events:
                    if isinstance(event, CueStarted):
                        waited = event.late_frames - late_frames  # silence before this cue while its speech was made
                        late_frames = event.late_frames
                        out.write(cue_log_line(event.cue, waited * 1000 // player.sample_rate) + "\n")
                state = player.state()
                if state.paused != was_paused:  # a key, or Ctrl-Z and back
                    out.write(f"paused at {format_clock(state.position_ms)}\n" if state.paused else "resumed\n")
                    was_paused = state.paused
                out.flush()
            else:
                if screen.timeline is not player.timeline:  # it grew: more of the speech was synthesized
                    screen = Screen(player.timeline)
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
    except BrokenPipeError:  # whoever read the cue lines has gone (`| head`): stop, and say nothing more there
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        return Outcome.QUIT
    return Outcome.FINISHED


def apply_key(player: Player, key: str) -> str | None:
    """Act on one key; what it did ('quit', 'pause', 'skip', 'back'), None for a key that means nothing."""
    if key in ("q", "escape"):
        return "quit"
    if key in ("space", "p"):
        player.toggle_pause()
        return "pause"
    if key in ("n", "right"):
        player.skip()
        return "skip"
    if key in ("b", "left"):
        player.back()
        return "back"
    return None


def _jumped(player: Player, what: str) -> str:
    """The `--no-ui` line after a skip or back: where the session is now."""
    position = player.position_ms
    timeline = player.timeline
    if position >= timeline.duration_ms:
        return f"{what} the end\n"
    return f"{what} {timeline.chapters[timeline.chapter_at(position)].title} at {format_clock(position)}\n"
