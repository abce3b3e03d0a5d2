"""Helper processes (speech workers, MP3 chunk encoders, the streaming session's loudness proxy): how they start,
and how they behave towards the process that started them."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
PARENT_POLL_SECONDS = 0.5  # the watchdog's fallback where prctl is missing (not Linux)


def pool_context() -> multiprocessing.context.BaseContext:
    """How helper processes start: fork on Linux, spawn elsewhere."""
    # fork starts a worker in ~7 ms with the engine already loaded; spawn takes ~300 ms and is the
    # only safe choice on macOS, where system frameworks do not survive fork.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def become_helper(parent: int) -> None:
    """Make this (forked) process a helper of `parent`: Ctrl-C is left to the parent, which stops it cleanly;
    SIGTERM just ends it; it dies with the parent (blocked on a queue, it would otherwise wait forever after a `kill -9`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for number in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if number is not None:
            signal.signal(number, signal.SIG_DFL)  # the parent's handlers came with fork
    _die_with_parent(parent)


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when its parent dies (Linux), and watch the parent's pid as well."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl: the watchdog below still notices
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    watchdog = threading.Thread(target=_watch_parent, args=(parent,), name="coach-parent-watchdog", daemon=True)
    watchdog.start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)  # orphaned: reparented to init or a subreaper
