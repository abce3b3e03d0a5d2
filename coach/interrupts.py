"""Stop requests (Ctrl-C, SIGTERM, SIGHUP) held back over the few steps that must not be cut in half.

A signal handler raises in whatever Python line is running. Inside `subprocess.Popen` that can be after
the child started but before the caller holds it: ffmpeg then runs on unseen and writes its file after
the clean-up. Inside the import of a compiled module (the neural voice's runtime, as its model loads) it
fails the import, which then reads as a broken install. Code doing such a step runs it under `held()`;
the front end's handlers call `deliver()`, which raises at once, or at the end of the held section, and
Python's own Ctrl-C handler is swapped for one that does the same while a section is held.

Signals are handled in the main thread, so only its held sections hold them: a section another thread holds
(a clip staged by a live session's speech thread) neither delays the main thread's stop nor catches it, which
would raise it in that thread and leave the session playing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Terminated(Exception):
    """The process was asked to stop by SIGTERM or SIGHUP (raised by the CLI's handler and the terminal session's)."""

    def __init__(self, signal_number: int):
        self.signal_number = signal_number
        super().__init__(signal.Signals(signal_number).name)


_depth = 0  # how deep the main thread is in held sections
_waiting: list[BaseException] = []


@contextmanager
def held() -> Iterator[None]:
    """Run a block with stop requests held; one that came meanwhile is raised as the block ends (main thread only)."""
    global _depth
    if threading.current_thread() is not threading.main_thread():
        yield  # no signal is raised in this thread: nothing to hold
        return
    # Only Python's default Ctrl-C handler is ours to stand in for.
    swap = _depth == 0 and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if swap:
        signal.signal(signal.SIGINT, _hold_ctrl_c)
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if swap:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        if _depth == 0 and _waiting:
            error = _waiting[0]
            _waiting.clear()
            raise error


def deliver(error: BaseException) -> None:
    """Raise a stop request now, or when the held section running (if any) ends."""
    if _depth:
        _waiting.append(error)
        return
    raise error


def _hold_ctrl_c(number: int, frame: FrameType | None) -> None:
    deliver(KeyboardInterrupt())
