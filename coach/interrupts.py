"""Stop requests (SIGTERM, SIGHUP) held back over the few steps that must not be cut in half.

A signal handler raises in whatever Python line is running. Inside `subprocess.Popen` that can be after
the child started but before the caller holds it: ffmpeg then runs on unseen and writes its file after
the clean-up. Code that starts such a child runs it under `held()`; the front end's handlers call
`deliver()`, which raises at once, or at the end of the held section.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

_depth = 0
_waiting: list[BaseException] = []


@contextmanager
def held() -> Iterator[None]:
    """Run a block with stop requests held; one that came meanwhile is raised as the block ends."""
    global _depth
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
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
