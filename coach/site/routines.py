"""Which routine files `coach serve` and `coach publish` publish: the files and folders given (or the built-in routines), and what to watch."""

from __future__ import annotations

from pathlib import Path

from coach.routine import sources
from coach.errors import UsageError
from coach.site.episodes import episode_id_for

ROUTINE_SUFFIXES = (".yaml", ".yml")


class RoutineSet:
    """The routine files to publish, each with a stable episode id; folders given pick up files added later."""

    def __init__(self, arguments: tuple[str, ...], verb: str = "serve"):
        self._folders: list[Path] = []
        self._files: list[Path] = []  # named one by one (or the built-ins)
        self._ids: dict[Path, str] = {}
        if not arguments:
            self._folders.append(sources.BUILTIN_DIR.resolve())
        for argument in arguments:
            path = Path(argument)
            if path.is_dir():
                self._folders.append(path.resolve())
            else:
                self._files.append(sources.resolve(argument).resolve())
        if not self.current():
            raise UsageError(f"no routine files to {verb}" + (f" in {', '.join(arguments)}" if arguments else ""))

    def current(self) -> list[Path]:
        """Every routine file there is now: the files given, then each folder's routine files by name."""
        found = list(self._files)
        for folder in self._folders:
            found += sorted(p for p in folder.iterdir() if self.covers(p) and p.is_file())
        return list(dict.fromkeys(found))

    def watched_folders(self) -> list[Path]:
        """The folders to watch: those given and those of the files given (editors replace files on save)."""
        return list(dict.fromkeys([*self._folders, *(path.parent for path in self._files)]))

    def covers(self, path: Path) -> bool:
        """Whether a changed path is one of the routines (given by name, or a routine file in a folder given)."""
        path = path.resolve()
        if path in self._files:
            return True
        return path.parent in self._folders and path.suffix.lower() in ROUTINE_SUFFIXES and not path.name.startswith(".")

    def episode_id(self, path: Path) -> str:
        """The episode id of a routine file, the same for the whole run."""
        path = path.resolve()
        if path not in self._ids:
            self._ids[path] = episode_id_for(path, set(self._ids.values()))
        return self._ids[path]
