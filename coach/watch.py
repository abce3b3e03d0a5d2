"""Notice when a routine file is saved: polling its signature, so it works on every platform and editor."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable, Iterator

Signature = tuple[int, int] | None


def signature(path: Path) -> Signature:
    """What changes when a file is saved (modification time and size); None while it does not exist."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_mtime_ns, status.st_size)


def saves(
    path: Path,
    interval: float = 0.3,
    settle: float = 0.1,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Signature]:
    """Yield at once, then after every save of `path`, once the file has stopped changing for `settle` s."""
    last = signature(path)
    yield last
    while True:
        sleep(interval)
        current = signature(path)
        if current == last:
            continue
        # Editors save in several writes (truncate, write, rename): wait until the file holds still.
        while True:
            sleep(settle)
            steady = signature(path)
            if steady == current:
                break
            current = steady
        last = current
        if current is not None:
            yield current


def changed_texts(before: list[str], after: list[str]) -> tuple[list[str], list[str]]:
    """(texts new in `after`, texts gone from `before`), each in order."""
    old, new = set(before), set(after)
    return [text for text in after if text not in old], [text for text in before if text not in new]
