"""`coach play` in a real terminal (tmux): the figure of the position in braille at 120x40, none at 80x24."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUARD_SECONDS = 120  # a guard against a hang while the speech is made, not a speed requirement


def braille_rows(screen: str) -> list[str]:
    return [line for line in screen.splitlines() if any(0x2801 <= ord(char) <= 0x28FF for char in line)]


@pytest.fixture
def tmux(tmp_path):
    """A private tmux server (its own socket): run(args) runs a tmux command on it; killed at the end."""
    if not shutil.which("tmux"):
        pytest.fail("tmux is missing: run tools/setup.sh --test (make test does)")
    socket = f"coach-test-{os.getpid()}"

    def run(*args: str) -> str:
        return subprocess.run(["tmux", "-L", socket, *args], check=True, capture_output=True, text=True).stdout

    yield run
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)


def wait_for(capture, check) -> str:
    """The pane's text once `check` holds for it."""
    deadline = time.monotonic() + GUARD_SECONDS
    while True:
        screen = capture()
        if check(screen):
            return screen
        assert time.monotonic() < deadline, screen
        time.sleep(0.2)


def test_play_in_tmux_shows_the_figure_at_120x40_and_leaves_it_out_at_80x24(tmux, tmp_path):
    # Without COLUMNS and LINES (pytest may set them), which would override the terminal's own size.
    command = ["env", "-u", "COLUMNS", "-u", "LINES", sys.executable, "-m", "coach", "play", "post-run", "--device", "null", "--engine", "espeak",
               "--cache-dir", str(tmp_path / "cache")]
    tmux("new-session", "-d", "-s", "play", "-x", "120", "-y", "40", "-c", str(ROOT), shlex.join(command) + "; sleep 30")
    capture = lambda: tmux("capture-pane", "-p", "-t", "play")  # noqa: E731
    wide = wait_for(capture, lambda screen: "Post-run mobility" in screen and len(braille_rows(screen)) >= 12)
    rows = braille_rows(wide)
    assert all(line.index(next(c for c in line if 0x2800 <= ord(c) <= 0x28FF)) >= 60 for line in rows)  # beside the type
    assert "█" in wide and "space pause" in wide
    print("\n" + wide)
    tmux("resize-window", "-t", "play", "-x", "80", "-y", "24")
    # Redrawn for the new size: the header's "n/7" at its right edge, column 80.
    small = wait_for(capture, lambda screen: any(len(line.rstrip()) == 80 and line.rstrip().endswith("/7") for line in screen.splitlines()))
    assert not braille_rows(small) and max(len(line.rstrip()) for line in small.splitlines()) <= 80
    assert "█" in small  # the large type is still there
    print(small)
    tmux("send-keys", "-t", "play", "q")
    wait_for(capture, lambda screen: "space pause" not in screen)  # it quit and gave the terminal back
