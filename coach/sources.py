"""Find and read routine files: a path, or the name of a built-in routine in scripts/."""

from __future__ import annotations

from pathlib import Path

from coach.errors import UsageError

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "scripts"


def builtin_routines() -> dict[str, Path]:
    """The built-in routines by name (file stem), sorted."""
    if not BUILTIN_DIR.is_dir():
        return {}
    return {path.stem: path for path in sorted(BUILTIN_DIR.glob("*.yaml"))}


def resolve(argument: str) -> Path:
    """The file a ROUTINE argument names: an existing path, else a built-in routine's name."""
    path = Path(argument)
    if path.is_file():
        return path
    builtins = builtin_routines()
    name = argument[:-5] if argument.endswith(".yaml") else argument
    if name in builtins and not path.exists():
        return builtins[name]
    if path.is_dir():
        raise UsageError(f"{argument}: is a directory, not a routine file")
    names = ", ".join(builtins) or "none"
    raise UsageError(f"{argument}: no such file, and not a built-in routine (built-in: {names})")


def read(path: Path) -> bytes:
    """A routine file's bytes, with a one-line error when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise UsageError(f"{path}: cannot read: {error.strerror or error}") from error


def display_name(path: Path) -> str:
    """How a routine file is named in diagnostics: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
