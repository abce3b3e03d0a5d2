"""`coach watch`: a real process watching a real file through saves, a broken save, and Ctrl-C."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

from coach.watch import changed_texts, saves

ROUTINE = "title: W\nexercises:\n  - name: E\n    steps:\n      - say: {text}\n"
NO_LINE_WITHIN = 60.0  # seconds before a missing line is called a failure rather than a hang


def test_saves_yields_at_start_and_after_each_change_only(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("a")
    ticks = []

    def sleep(_seconds):
        ticks.append(1)
        if len(ticks) == 2:
            path.write_text("bb")

    stream = saves(path, sleep=sleep)
    assert next(stream) is not None
    changed = next(stream)
    assert changed[1] == 2  # the new size
    assert len(ticks) >= 3  # looked again after the change until the file held still


def test_changed_texts_lists_added_and_removed_in_order():
    assert changed_texts(["a", "b", "c"], ["a", "c", "d", "e"]) == (["d", "e"], ["b"])


class Watcher:
    """A `coach watch` process whose output lines are read as they come."""

    def __init__(self, routine: Path, cache: Path):
        env = {**os.environ, "COACH_CACHE_DIR": str(cache)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "coach", "watch", str(routine), "--interval", "0.05"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
        )
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.process.stdout, selectors.EVENT_READ)
        self.pending = b""
        self.lines: list[str] = []
        self.seen: list[str] = []

    def wait_for(self, fragment: str) -> str:
        deadline = time.monotonic() + NO_LINE_WITHIN
        while time.monotonic() < deadline:
            while self.lines:
                line = self.lines.pop(0)
                self.seen.append(line)
                if fragment in line:
                    return line
            if self.selector.select(timeout=0.5):
                chunk = os.read(self.process.stdout.fileno(), 65536)
                if not chunk:
                    break
                *complete, self.pending = (self.pending + chunk).split(b"\n")
                self.lines += [line.decode() for line in complete]
        raise AssertionError(f"no line with {fragment!r}; saw: {self.seen}")


def test_watch_rerenders_only_the_changed_cue_survives_a_broken_save_and_stops_on_ctrl_c(tmp_path):
    routine = tmp_path / "r.yaml"
    routine.write_text(ROUTINE.format(text="Reach up."))
    watcher = Watcher(routine, tmp_path / "cache")
    try:
        first = watcher.wait_for(": ok,")
        assert "0 reused" in first

        time.sleep(0.05)
        routine.write_text(ROUTINE.format(text="Reach higher."))
        second = watcher.wait_for(": ok,")
        assert "1 synthesized" in second
        assert watcher.wait_for("+ Reach higher.")
        assert watcher.wait_for("- Reach up.")

        time.sleep(0.05)
        routine.write_text(ROUTINE.format(text="Reach {sid}."))
        assert "unknown template name" in watcher.wait_for("r.yaml:5:")
        assert watcher.wait_for("waiting for the next save").endswith("r.yaml: 1 problem; waiting for the next save")

        time.sleep(0.05)
        routine.write_text(ROUTINE.format(text="Reach higher."))
        third = watcher.wait_for(": ok,")
        assert "0 synthesized" in third
    finally:
        watcher.process.send_signal(signal.SIGINT)
        try:
            code = watcher.process.wait(timeout=NO_LINE_WITHIN)
        except subprocess.TimeoutExpired:  # never leave a watcher behind the test, even when it fails
            watcher.process.kill()
            watcher.process.wait()
            raise
    assert code == 0
    assert "stopped watching" in (watcher.pending + watcher.process.stdout.read()).decode()
