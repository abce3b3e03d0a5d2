"""Files written beside their final name and moved into place, shared safely by any number of processes.

Every coach process that writes into the speech cache (clips, gains, encoded segments, decoded music) stages the
data in a temporary file that it holds an exclusive flock on from the moment the file exists until it is renamed
or removed. Any process may sweep temporary files whose lock is free (their writer died); the sweep removes a
file only while it holds the lock itself, so it can never take a file from under a live writer, and a writer
that finds its fresh file already unlinked (swept in the instant before it took the lock) simply makes another.

Publishing a file can keep what another process published first (`keep`): content made by different processes
need not be byte-identical (espeak-ng's output varies with what the process spoke before), and a reader that has
looked at one version must not find another one under the same name. That choice is made under a lock on the
folder (an flock on the folder itself, so no lock file is left in it) so that two writers never both replace.

A process stopped by Ctrl-C or SIGTERM removes, as it exits, the staged files it had not yet published: the stop
can land in any line, even between a file's creation and the caller holding its name.

Without fcntl (Windows) a temporary file is stale once it is STALE_SECONDS old, and publishing is not serialized.
"""

from __future__ import annotations

import atexit
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from coach import interrupts

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

TEMP_SUFFIX = ".tmp"
STALE_SECONDS = 3600.0  # without file locks: a temporary file this old belongs to a writer that died
_unpublished: set[str] = set()  # this process's staged files, not yet renamed into place or removed
_NO_FOLLOW = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def locked_temporary(directory: Path, stem: str) -> tuple[int, str]:
    """A new temporary file `.{stem}.*.tmp` in `directory`, open for writing and flocked by this process."""
    while True:
        with interrupts.held():  # no stop between the file's creation and its being known to the exit's clean-up
            descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{stem}.", suffix=TEMP_SUFFIX)
            _unpublished.add(temporary)
        try:
            if fcntl is None:
                return descriptor, temporary
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            if os.fstat(descriptor).st_nlink > 0:
                return descriptor, temporary
        except BaseException:  # Ctrl-C between the file's creation and its return: remove it here
            os.close(descriptor)
            _unlink(temporary)
            raise
        os.close(descriptor)  # swept as stale between its creation and the lock: make another


def publish(descriptor: int, temporary: str, target: Path, keep: Callable[[Path], bool] | None = None) -> bool:
    """Move the staged file onto `target` (its lock still held, so no sweep can take it first); close it.

    With `keep`, an existing target for which keep(target) is true stays and the staged file is removed.
    True when the staged file became the target. OSError when the folder refuses.
    """
    try:
        os.fchmod(descriptor, 0o644)  # mkstemp's 0600 would hide a shared cache from other users
        if keep is None:
            _replace(temporary, target)
            return True
        with folder_lock(target.parent):
            if os.path.lexists(target) and keep(target):
                _unlink(temporary)
                return False
            _replace(temporary, target)
            return True
    finally:
        os.close(descriptor)


@contextmanager
def folder_lock(directory: Path) -> Iterator[None]:
    """Hold the folder's publishing lock (an flock on the folder's own descriptor) for the duration."""
    if fcntl is None:
        yield
        return
    descriptor = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def is_temporary(name: str) -> bool:
    """Whether a file name is one of our staged files."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def remove_if_stale(path: Path) -> int:
    """Remove a staged file whose writer is gone (its lock free; without locks, an hour old); the bytes freed."""
    if not is_temporary(path.name):
        return 0
    if fcntl is None:
        try:
            info = path.lstat()
        except OSError:
            return 0
        if info.st_mtime >= time.time() - STALE_SECONDS:
            return 0
        return info.st_size if _unlink(path) else 0
    try:
        descriptor = os.open(path, _NO_FOLLOW)
    except OSError:
        return 0
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return 0  # a writer holds it
        # Still ours under this name (not renamed into place meanwhile): removed while the lock is held.
        info = os.fstat(descriptor)
        try:
            current = path.lstat()
        except OSError:
            return 0
        if (current.st_ino, current.st_dev) != (info.st_ino, info.st_dev):
            return 0
        return info.st_size if _unlink(path) else 0
    finally:
        os.close(descriptor)


def discard(temporary: str) -> None:
    """Remove a staged file that will not be published (its writer failed)."""
    _unlink(temporary)


def _replace(temporary: str, target: Path) -> None:
    os.replace(temporary, target)
    _unpublished.discard(temporary)


def _unlink(path: str | Path) -> bool:
    _unpublished.discard(str(path))
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


@atexit.register
def _remove_unpublished() -> None:
    # Threads have been joined by now (concurrent.futures waits for its workers before atexit runs).
    for temporary in list(_unpublished):
        try:
            os.unlink(temporary)
        except OSError:
            pass
    _unpublished.clear()
