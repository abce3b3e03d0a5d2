"""Find and read routine files: a path, or the name of a built-in routine in scripts/."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from coach.errors import RoutineError, UsageError
from coach.routine.loader import MAX_FILE_BYTES, too_large

BUILTIN_DIR = Path(__file__).resolve().parents[2] / "scripts"


def builtin_routines() -> dict[str, Path]:
    """The built-in routines by name (file stem), sorted."""
    if not BUILTIN_DIR.is_dir():
        return {}
    return {path.stem: path for path in sorted(BUILTIN_DIR.glob("*.yaml"))}


def resolve(argument: str) -> Path:
    """The file a ROUTINE argument names: an existing regular file, else a built-in routine's name."""
    path = Path(argument)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UsageError(f"{argument}: a loop of symbolic links, not a routine file") from None
        raise UsageError(f"{argument}: cannot read: {error.strerror or error}") from None
    if mode is not None and stat.S_ISREG(mode):
        return path
    builtins = builtin_routines()
    name = argument[:-5] if argument.endswith(".yaml") else argument
    if name in builtins and mode is None and not path.is_symlink():
        return builtins[name]
    if mode is not None:
        raise UsageError(f"{argument}: is {_kind_of_file(mode)}, not a routine file")
    if path.is_symlink():
        raise UsageError(f"{argument}: a symbolic link to a file that does not exist")
    names = ", ".join(builtins) or "none"
    raise UsageError(f"{argument}: no such file, and not a built-in routine (built-in: {names})")


def _kind_of_file(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """A routine file's bytes, never more than `limit` + 1 read; RoutineError when the file is larger, UsageError when unreadable."""
    try:
        # O_NONBLOCK: a file swapped for a FIFO since resolve() must not hang the open.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise UsageError(f"{path}: is {_kind_of_file(info.st_mode)}, not a routine file")
            if info.st_size > limit:
                raise RoutineError([too_large(display_name(path), info.st_size)])
            data = file.read(limit + 1)
    except OSError as error:
        raise UsageError(f"{path}: cannot read: {error.strerror or error}") from error
    if len(data) > limit:  # grown since fstat
        raise RoutineError([too_large(display_name(path), len(data))])
    return data


def display_name(path: Path) -> str:
    """How a routine file is named in diagnostics: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
