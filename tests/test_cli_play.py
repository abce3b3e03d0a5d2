"""`coach play` end to end: real speech, miniaudio's NULL backend in real time, a pseudo-terminal for the screen."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shlex
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import miniaudio
import pytest
from typer.testing import CliRunner

from coach.audio import devices
from coach import session
from coach.cli.app import app
from coach.cli.playing import resume_hint
from coach.routine.selection import exercise_index
from coach.timeline.compiler import compile_routine
from coach.timeline.cues import Speak
from coach.errors import AudioDeviceError, UsageError
from coach.routine.loader import parse_routine
from coach.timeline.scheduler import schedule
from coach.terminal.keys import ENTER_ALTERNATE_SCREEN, LEAVE_ALTERNATE_SCREEN, SHOW_CURSOR, parse_keys
from coach.clock import elapsed as format_clock
from coach.terminal.screen import cue_log_line

COACH = [sys.executable, "-m", "coach"]

# About 20 s: long enough that a 1 % timing error (0.2 s) is several device periods, short enough to run often.
MAT_ROUTINE = """\
title: Mat test
pace:
  rest: 0
  switch: 1s
  countdown: 2
  breath: 2s
exercises:
  - name: Neck roll
    sides: [left, right]
    steps:
      - hold: 2s
  - name: Calf raise
    steps:
      - inhale: Rise.
"""


@pytest.fixture(scope="module")
def mat(tmp_path_factory):
    """The routine file, a warm speech cache, and the timeline `coach play` will follow."""
    folder = tmp_path_factory.mktemp("play")
    routine_path = folder / "mat.yaml"
    routine_path.write_text(MAT_ROUTINE)
    cache = folder / "cache"
    routine = session.load(str(routine_path))
    prepared = session.prepare(routine, session.speech_settings(routine), cache)
    return routine_path, cache, prepared.timeline


def test_play_on_the_null_device_prints_every_cue_on_time_and_ends_with_the_plan(mat):
    routine_path, cache, timeline = mat
    process = subprocess.Popen(
        [*COACH, "play", str(routine_path), "--device", "null", "--no-ui", "--cache-dir", str(cache)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one pipe keeps the order of cue lines (stdout) and the end line (stderr)
        text=True,
    )
    arrivals: list[tuple[float, str]] = []
    for line in process.stdout:  # each line is flushed as its cue starts
        arrivals.append((time.perf_counter(), line.rstrip("\n")))
    assert process.wait(timeout=300) == 0, arrivals
    *cue_lines, (finished, done_line) = arrivals
    assert [line for _, line in cue_lines] == [cue_log_line(cue) for cue in timeline.cues]
    assert done_line == f"Done: {timeline.title} ({format_clock(timeline.duration_ms)})."

    # Timed from the first cue (the intro, at 0:00.0), so start-up is not part of it. The null device
    # consumes samples in real time, so the session cannot end early; how late a loaded machine lets the
    # process notice the end is not the player's doing, so no upper wall-clock bound is asserted.
    started = cue_lines[0][0]
    first_cue = timeline.cues[0].start_ms / 1000
    plan = timeline.duration_ms / 1000 - first_cue
    wall = finished - started
    assert wall >= plan * 0.99, (plan, wall)
    # Each cue is printed when the audio clock reaches it, never before its plan time.
    for (arrived, _), cue in zip(cue_lines, timeline.cues):
        assert (arrived - started) >= (cue.start_ms / 1000 - first_cue) - 0.15, cue


@pytest.mark.parametrize("wanted", ["calf", "RAISE"], ids=["start of the name", "part of the name"])
def test_from_starts_at_that_exercise(mat, wanted):
    routine_path, cache, timeline = mat
    result = CliRunner().invoke(
        app, ["play", str(routine_path), "--from", wanted, "--device", "null", "--cache-dir", str(cache)]
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("Done: ")
    start = timeline.chapters[1].start_ms
    assert result.stdout.splitlines() == [cue_log_line(cue) for cue in timeline.cues if cue.start_ms >= start]


def test_no_audio_device_is_a_clear_error_before_any_speech_is_rendered(mat, tmp_path, monkeypatch):
    routine_path, _, _ = mat

    def no_device(*args, **kwargs):
        raise miniaudio.MiniaudioError("failed to init device", -401)

    monkeypatch.setattr(miniaudio, "PlaybackDevice", no_device)
    cache = tmp_path / "untouched"
    result = CliRunner().invoke(app, ["play", str(routine_path), "--cache-dir", str(cache)])
    assert result.exit_code == 1
    [message] = result.stderr.splitlines()
    assert message.startswith("coach: error: no audio output") and "--device null" in message
    assert not cache.exists()


def test_an_output_that_silently_falls_back_to_the_null_backend_is_refused(monkeypatch):
    closed = []

    class FallsBackToNull:
        backend = "Null"

        def __init__(self, **kwargs):
            pass

        def close(self):
            closed.append(True)

    monkeypatch.setattr(miniaudio, "PlaybackDevice", FallsBackToNull)
    with pytest.raises(AudioDeviceError, match="--device null"):
        devices.open_output(devices.DEFAULT_OUTPUT, 22050)
    assert closed == [True]
    assert devices.open_output(devices.NULL_OUTPUT, 22050).backend == "Null"  # asked for: fine


def test_a_backend_this_system_lacks_gives_the_same_clear_error():
    backend = "Core Audio" if sys.platform != "darwin" else "ALSA"
    with pytest.raises(AudioDeviceError, match="--device null"):
        devices.open_output(devices.Output("speakers", backend), 22050)


def test_an_unknown_device_name_is_an_error_naming_the_way_out():
    with pytest.raises(AudioDeviceError, match="--list-devices"):
        devices.find_output("no such output anywhere")


def test_list_devices_includes_the_null_output():
    result = CliRunner().invoke(app, ["play", "--list-devices"])
    assert result.exit_code == 0
    assert any(line.startswith("null ") for line in result.stdout.splitlines())


@pytest.mark.parametrize(
    "options,needle",
    [
        (["--from", "Neck roll", "--at", "0:10"], "not both"),
        (["--from", "shoulder"], "matches no exercise"),
        (["--at", "ten"], "--at"),
        (["--at", "59:00"], "past the end"),
    ],
)
def test_bad_start_options_are_usage_errors(mat, options, needle):
    routine_path, cache, _ = mat
    result = CliRunner().invoke(
        app, ["play", str(routine_path), "--device", "null", "--cache-dir", str(cache), *options]
    )
    assert result.exit_code == 2
    assert needle in result.stderr


def test_exercise_index_accepts_numbers_names_and_unique_prefixes_in_any_case():
    names = ["Couch stretch", "90/90 gluteal kinetic stretch", "90/90 internal rotation", "Calf raise"]
    assert exercise_index(names, "couch STRETCH") == 0
    assert exercise_index(names, "4") == 3
    assert exercise_index(names, "90/90 I") == 2
    assert exercise_index(names, "cal") == 3
    with pytest.raises(UsageError, match="several"):
        exercise_index(names, "90/90")
    with pytest.raises(UsageError, match="1-4"):
        exercise_index(names, "5")


def test_exercise_index_accepts_an_unambiguous_part_of_a_name():
    names = [exercise.name for exercise in session.load("post-run").exercises]
    assert names[exercise_index(names, "ankle")] == "Combat stance ankle stretch with isometrics"
    assert names[exercise_index(names, "FISH")] == "Half fish pose"
    assert names[exercise_index(names, "internal")] == "90/90 internal rotation kinetic stretch"
    with pytest.raises(UsageError, match="several exercises: 'Hamstring stretch with isometrics', 'Combat stance"):
        exercise_index(names, "isometrics")
    with pytest.raises(UsageError, match="matches no exercise"):
        exercise_index(names, "shoulder")


def test_a_unique_start_of_a_name_wins_over_names_that_only_contain_it():
    names = ["Seated calf stretch", "Calf raise", "Standing calf stretch"]
    assert exercise_index(names, "calf") == 1
    with pytest.raises(UsageError, match="several exercises: 'Seated calf stretch', 'Standing calf stretch'"):
        exercise_index(names, "calf stretch")


def test_the_resume_hint_leads_back_to_where_the_session_stopped(mat):
    routine_path, _, timeline = mat
    position = timeline.chapters[1].start_ms + 1500
    hint = resume_hint(str(routine_path), timeline, position, ["--voice", "gmw/en-us"])
    commands = [shlex.split(line) for line in hint.splitlines() if line.startswith("  coach play")]
    by_exercise, by_time = commands
    assert by_exercise[:5] == ["coach", "play", str(routine_path), "--voice", "gmw/en-us"]
    wanted = by_exercise[by_exercise.index("--from") + 1]
    assert exercise_index([c.title for c in timeline.chapters], wanted) == 1
    minutes, seconds = by_time[by_time.index("--at") + 1].split(":")
    assert (int(minutes) * 60 + int(seconds)) * 1000 == position // 1000 * 1000


def test_stopped_in_the_rest_before_an_exercise_the_hint_resumes_at_that_exercise():
    routine = parse_routine(
        b"title: T\npace: {rest: 20s}\nexercises:\n  - {name: One, steps: [{say: Go.}]}\n  - {name: Two, steps: [{say: Go.}]}\n",
        "t.yaml",
    )
    script = compile_routine(routine)
    timeline = schedule(script, {item.text: 1.0 for item in script if isinstance(item, Speak)}, routine.title)
    rest = next(span for span in timeline.spans if span.kind == "rest")
    hint = resume_hint("t.yaml", timeline, rest.start_ms + 5000)
    assert hint.startswith("Stopped at 00:") and "before 'Two'" in hint
    assert "--from Two" in hint


def test_key_presses_are_named_whatever_arrives_together():
    assert parse_keys(" nB\x1b[C\x1b[D\x1bq\x1b[15~") == ["space", "n", "b", "right", "left", "escape", "q"]


class Terminal:
    """A pseudo-terminal of a given size running `coach play`, its output collected in the background."""

    def __init__(self, args: list[str], columns: int = 80, lines: int = 24):
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.settings_before = termios.tcgetattr(self.slave)
        # Its own process group, as a shell starts a job: pytest's group may be orphaned (CI starts it without
        # job control) and the kernel drops a stop signal sent to an orphaned group; a group whose member's
        # parent is in the same session is not orphaned, so Ctrl-Z stops it as it would from a shell.
        self.process = subprocess.Popen(
            args, stdin=self.slave, stdout=self.slave, stderr=self.slave, close_fds=True, process_group=0
        )
        self.output = b""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    return
                if not data:
                    return
                self.output += data
            elif self.process.poll() is not None:
                return

    def wait_for(self, text: str, after: int = 0) -> int:
        """Where `text` appears in the output after offset `after`; fails if the program ends first."""
        needle = text.encode()
        deadline = time.monotonic() + 120  # only a guard against hanging forever
        while time.monotonic() < deadline:
            found = self.output.find(needle, after)
            if found >= 0:
                return found
            if self.process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError(f"{text!r} never appeared; output:\n{self.output[-2000:].decode(errors='replace')}")

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def finish(self) -> int:
        code = self.process.wait(timeout=60)
        self._reader.join(timeout=10)
        return code

    def settings_now(self) -> list:
        return termios.tcgetattr(self.slave)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def terminal_play(mat):
    routine_path, cache, _ = mat
    terminals = []

    def start(*extra: str) -> Terminal:
        terminal = Terminal([*COACH, "play", str(routine_path), "--device", "null", "--cache-dir", str(cache), *extra])
        terminals.append(terminal)
        return terminal

    yield start
    for terminal in terminals:
        terminal.close()


def test_the_full_screen_session_answers_its_keys_and_quits_on_q_giving_the_terminal_back(terminal_play):
    terminal = terminal_play()
    shown = terminal.wait_for("space pause")
    assert terminal.output.find(ENTER_ALTERNATE_SCREEN.encode()) < shown
    assert terminal.settings_now()[3] & termios.ECHO == 0  # the session has the keyboard, no echo
    terminal.type(" ")
    paused = terminal.wait_for("space resume", shown)
    terminal.type("n")
    terminal.wait_for("2/2", paused)  # the header counts exercises: now on the second
    terminal.type("q")
    assert terminal.finish() == 0
    tail = terminal.output[paused:]
    assert tail.find(SHOW_CURSOR.encode()) >= 0 and tail.find(LEAVE_ALTERNATE_SCREEN.encode()) >= 0
    assert terminal.settings_now() == terminal.settings_before
    assert b"--from 'Calf raise'" in tail and b"--at 00:" in tail


@pytest.mark.parametrize("signal_number,exit_code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_the_terminal_is_given_back_when_the_session_is_interrupted(terminal_play, signal_number, exit_code):
    terminal = terminal_play()
    terminal.wait_for("space pause")
    terminal.process.send_signal(signal_number)
    assert terminal.finish() == exit_code
    assert terminal.settings_now() == terminal.settings_before
    assert terminal.output.rfind(LEAVE_ALTERNATE_SCREEN.encode()) > terminal.output.find(ENTER_ALTERNATE_SCREEN.encode())
    assert b"To resume" in terminal.output


def process_state(pid: int) -> str:
    """The one-letter state of a process from /proc ('T' when stopped)."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_ctrl_z_gives_the_terminal_back_while_stopped_and_comes_back_paused(terminal_play):
    terminal = terminal_play()
    shown = terminal.wait_for("space pause")
    terminal.process.send_signal(signal.SIGTSTP)
    left = terminal.wait_for(LEAVE_ALTERNATE_SCREEN, shown)
    deadline = time.monotonic() + 60  # a guard against hanging only
    while process_state(terminal.process.pid) != "T" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process_state(terminal.process.pid) == "T"
    assert terminal.settings_now() == terminal.settings_before  # the shell gets a normal terminal
    terminal.process.send_signal(signal.SIGCONT)
    back = terminal.wait_for(ENTER_ALTERNATE_SCREEN, left)
    terminal.wait_for("space resume", back)  # redrawn at once, and paused while it was stopped
    terminal.type("q")
    assert terminal.finish() == 0
    assert terminal.settings_now() == terminal.settings_before


def test_no_ui_says_when_it_is_paused_resumed_skipped_and_sent_back(terminal_play):
    terminal = terminal_play("--no-ui")
    first = terminal.wait_for("[00:00.0] ")
    terminal.type(" ")
    paused = terminal.wait_for("paused at 00:0", first)
    terminal.type(" ")
    resumed = terminal.wait_for("resumed", paused)
    terminal.type("n")
    skipped = terminal.wait_for("skipped to Calf raise at 00:", resumed)
    terminal.type("b")
    terminal.wait_for("back to Neck roll at 00:00", skipped)  # within the grace period: the previous exercise
    terminal.type("q")
    assert terminal.finish() == 0
    assert ENTER_ALTERNATE_SCREEN.encode() not in terminal.output
