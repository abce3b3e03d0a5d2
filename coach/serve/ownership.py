"""One `coach serve` per library folder: an flock on `serve.lock` in the folder, which names its owner.

Two servers on one folder would sweep each other's staging folders and overwrite each other's index, so the
second one to start stops with one line naming the first (its address and pid). The lock is an flock, held
on an open descriptor for the server's whole life: the kernel releases it when the process ends in any way
(kill -9 included), so a lock file left by a dead server is simply taken over by the next one. The file
is never renamed or removed while held (the lock belongs to its inode); its text is only a description of
the owner, rewritten in place.

Without fcntl (Windows) the folder is not guarded.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

from coach.errors import OutputError, ServerError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = "serve.lock"


class Ownership:
    """This process's hold on a library folder, from `claim` until `release` (or the process's end)."""

    def __init__(self, directory: Path, descriptor: int | None):
        self.directory = directory
        self._descriptor = descriptor

    @staticmethod
    def claim(directory: Path) -> "Ownership":
        """Take the folder's lock, or raise ServerError naming the server that holds it."""
        try:
            directory.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        except FileExistsError:  # mkdir's word for a file in the folder's place
            raise OutputError(f"cannot use {directory} for the library: {os.strerror(errno.ENOTDIR)}") from None
        except OSError as error:
            raise OutputError(f"cannot use {directory} for the library: {error.strerror or error}") from None
        if fcntl is None:
            return Ownership(directory, descriptor)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            owner = _describe(_read(descriptor))
            os.close(descriptor)
            raise ServerError(
                f"the library folder {directory} is in use by another coach serve ({owner}): "
                "stop it, or give this one another --library"
            ) from None
        ownership = Ownership(directory, descriptor)
        ownership.record(None)
        return ownership

    def record(self, address: str | None) -> None:
        """Write who holds the folder (this pid, and the address once listening) into the lock file."""
        if self._descriptor is None:
            return
        text = json.dumps({"pid": os.getpid(), "address": address}).encode() + b"\n"
        try:
            # In place, longest first: a reader sees the old or the new text, or a prefix it reports as unknown.
            os.pwrite(self._descriptor, text, 0)
            os.ftruncate(self._descriptor, len(text))
        except OSError:
            pass  # the lock is what guards the folder; its description is a courtesy

    def release(self) -> None:
        """Let the folder go (the lock file stays, emptied, for the next server)."""
        if self._descriptor is None:
            return
        descriptor, self._descriptor = self._descriptor, None
        try:
            os.ftruncate(descriptor, 0)
        except OSError:
            pass
        os.close(descriptor)  # closing the only descriptor releases the flock


def _read(descriptor: int) -> bytes:
    try:
        return os.pread(descriptor, 4096, 0)
    except OSError:
        return b""


def _describe(text: bytes) -> str:
    """'pid 123, at http://...' from the lock file's text, or as much of it as can be read."""
    try:
        record = json.loads(text)
        pid = int(record["pid"])
        address = record.get("address")
    except (ValueError, KeyError, TypeError):
        return "pid unknown: it is starting"
    if not address:
        return f"pid {pid}, still starting"
    return f"pid {pid}, at {address}"
