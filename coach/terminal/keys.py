"""Single key presses from the terminal, and a terminal that is always given back as it was found.

`TerminalSession` turns off line buffering and echo (Ctrl-C still interrupts), optionally hides
the cursor and switches to the alternate screen, and undoes all of it on every way out: normal
return, exception, Ctrl-C, and SIGTERM/SIGHUP (turned into an exception so the undo runs).
Ctrl-Z gives the terminal back while stopped and takes it again on `fg`.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import termios
import tty
from types import FrameType, TracebackType
from typing import Callable, TextIO

from coach.interrupts import Terminated

ENTER_ALTERNATE_SCREEN = "\x1b[?1049h"
LEAVE_ALTERNATE_SCREEN = "\x1b[?1049l"
HIDE_CURSOR = "\x1b[?25l"
SHOW_CURSOR = "\x1b[?25h"
HOME = "\x1b[H"
CLEAR_TO_END_OF_LINE = "\x1b[K"
CLEAR_TO_END_OF_SCREEN = "\x1b[J"

# Escape sequences of the arrow keys, as the names the player understands.
_SEQUENCES = {"\x1b[C": "right", "\x1b[D": "left", "\x1bOC": "right", "\x1bOD": "left"}
_NAMED = {" ": "space", "\r": "enter", "\n": "enter"}


def parse_keys(data: str) -> list[str]:
    """Key names in what the terminal sent: arrows by name, space as 'space', letters in lower case."""
    keys = []
    index = 0
    while index < len(data):
        sequence = next((seq for seq in _SEQUENCES if data.startswith(seq, index)), None)
        if sequence is not None:
            keys.append(_SEQUENCES[sequence])
            index += len(sequence)
            continue
        char = data[index]
        if char == "\x1b":
            # A lone escape is the Esc key; any other sequence (F-keys, mouse) is skipped whole.
            end = index + 1
            if end < len(data) and data[end] in "[O":
                end += 1
                while end < len(data) and not data[end].isalpha() and data[end] != "~":
                    end += 1
                index = end + 1
            else:
                keys.append("escape")
                index = end
            continue
        keys.append(_NAMED.get(char, char.lower()))
        index += 1
    return keys


def _file_descriptor(stream: TextIO | None) -> int | None:
    """The stream's file descriptor, or None when it has none (closed, or an in-memory stream)."""
    try:
        return stream.fileno() if stream is not None else None
    except (OSError, ValueError):  # io.UnsupportedOperation is both
        return None


class TerminalSession:
    """The terminal in key-at-a-time mode (and full screen, if asked) until the `with` block ends."""

    def __init__(
        self,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        full_screen: bool = False,
        on_suspend: Callable[[], None] | None = None,
    ):
        self._stdin = stdin or sys.stdin
        self._stdout = stdout or sys.stdout
        self.full_screen = full_screen
        self._on_suspend = on_suspend
        self._fd = _file_descriptor(self._stdin)
        self.reads_keys = self._fd is not None and os.isatty(self._fd)
        self._saved: list | None = None
        self._drawn: list[str] | None = None  # what the screen shows now; None: unknown, draw it all
        self._previous_handlers: dict[int, object] = {}

    def __enter__(self) -> "TerminalSession":
        for number in (signal.SIGTERM, signal.SIGHUP):
            self._previous_handlers[number] = signal.signal(number, self._terminate)
        if self.reads_keys:
            self._previous_handlers[signal.SIGTSTP] = signal.signal(signal.SIGTSTP, self._suspend)
        try:
            self._take()
        except BaseException:
            self._give_back()
            self._restore_handlers()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            self._give_back()
        finally:
            self._restore_handlers()

    def read_keys(self, timeout: float) -> list[str]:
        """The keys pressed within `timeout` seconds ('space', 'n', 'left', ...); [] if none."""
        if not self.reads_keys or self._fd is None:
            return []
        try:
            ready, _, _ = select.select([self._fd], [], [], timeout)
        except InterruptedError:  # a signal (a window resize) arrived instead of a key
            return []
        if not ready:
            return []
        return parse_keys(os.read(self._fd, 64).decode("utf-8", errors="replace"))

    def draw(self, lines: list[str], force: bool = False) -> None:
        """Replace the screen with `lines` in one write, so it does not flicker; unchanged frames are not rewritten."""
        if lines == self._drawn and not force:
            return
        self._drawn = list(lines)
        text = HOME + "".join(line + CLEAR_TO_END_OF_LINE + "\r\n" for line in lines[:-1])
        if lines:
            text += lines[-1] + CLEAR_TO_END_OF_LINE
        self._stdout.write(text + CLEAR_TO_END_OF_SCREEN)
        self._stdout.flush()

    # Taking and giving back ---------------------------------------------------------------------

    def _take(self) -> None:
        if self.reads_keys and self._fd is not None:
            self._saved = termios.tcgetattr(self._fd)
            # cbreak, not raw: Ctrl-C still raises KeyboardInterrupt, output newlines stay as they were.
            tty.setcbreak(self._fd, termios.TCSANOW)
        if self.full_screen:
            self._stdout.write(ENTER_ALTERNATE_SCREEN + HIDE_CURSOR)
            self._stdout.flush()
            self._drawn = None  # a fresh (or, after Ctrl-Z, restored) screen: the next frame is drawn whole

    def _give_back(self) -> None:
        try:
            if self.full_screen:
                self._stdout.write(SHOW_CURSOR + LEAVE_ALTERNATE_SCREEN)
                self._stdout.flush()
        finally:
            if self._saved is not None:
                termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
                self._saved = None

    def _restore_handlers(self) -> None:
        for number, handler in self._previous_handlers.items():
            signal.signal(number, handler)  # type: ignore[arg-type]
        self._previous_handlers.clear()

    def _terminate(self, number: int, _frame: FrameType | None) -> None:
        raise Terminated(number)

    def _suspend(self, _number: int, _frame: FrameType | None) -> None:
        """Ctrl-Z: give the terminal back, stop, and take it again when continued."""
        if self._on_suspend is not None:
            self._on_suspend()
        self._give_back()
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTSTP)
        # Running again (after `fg`).
        signal.signal(signal.SIGTSTP, self._suspend)
        self._take()
