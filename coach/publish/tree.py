"""The published folder on disk: what the last publish wrote (its record), staged writes, and what to remove.

A site is a folder of plain files. Its record, `coach-site.json` at the site's root, names every file coach
wrote, relative to the folder given (with `--secret`, the site's root is a random folder inside it, and only
a blank page sits beside it). Only files a record names, and anything inside the folders coach owns in a
site (`episodes/`, `play/`, `static/`), are ever removed: a folder holding other things (a git checkout)
keeps them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from coach.errors import OutputError, UsageError

RECORD = "coach-site.json"
RECORD_FORMAT = 1
OWNED_FOLDERS = ("episodes", "play", "static")  # inside a site's root, only coach writes here
TOP_NAMES = ("index.html", "feed.xml", "cover.png", "sw.js", "manifest.webmanifest", RECORD, *OWNED_FOLDERS)
_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_PART = re.compile(r"^\..+\.[0-9a-f]{8}\.part$")


@dataclass
class Previous:
    """The site the last publish left: its secret folder (None: the folder itself) and the files it wrote."""

    secret: str | None = None
    files: dict[str, str] = field(default_factory=dict)  # path relative to the folder -> sha256 (24 hex) of its bytes
    made: dict[str, str] = field(default_factory=dict)  # path -> a key of what a costly file was made from


def read_previous(directory: Path) -> Previous:
    """The last publish's record in `directory` (at its top, or in its one secret folder), else an empty one."""
    candidates = [(None, directory / RECORD)]
    if directory.is_dir():
        candidates += [(child.name, child / RECORD) for child in sorted(directory.iterdir()) if _SECRET.match(child.name) and child.is_dir()]
    for secret, path in candidates:
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue
        except (OSError, ValueError) as error:
            raise OutputError(f"cannot read {path}: {error}") from None
        if isinstance(stored, dict) and stored.get("format") == RECORD_FORMAT and isinstance(stored.get("files"), dict):
            made = stored.get("made") if isinstance(stored.get("made"), dict) else {}
            return Previous(secret, {str(name): str(digest) for name, digest in stored["files"].items()}, {str(k): str(v) for k, v in made.items()})
    return Previous()


def check_folder(directory: Path, previous: Previous) -> None:
    """Refuse a folder that is not one (or not a site yet, and holding files of the names a site has)."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory}: not a folder (coach publish writes a folder of files)")
    if previous.files or not directory.is_dir():
        return
    clashing = sorted(name for name in TOP_NAMES if (directory / name).exists())
    if clashing:
        raise UsageError(
            f"{directory} holds {', '.join(clashing)} but no {RECORD}: it is not a site coach published; choose an empty or new folder"
        )


def check_no_links(directory: Path, root: str) -> None:
    """Refuse a site whose own names inside the folder are symbolic links: writing through one would leave the folder."""
    base = directory / root if root else directory
    for path in [base, *(base / name for name in TOP_NAMES), directory / "index.html"]:
        if path.is_symlink():
            raise UsageError(f"{path}: a symbolic link; coach publish writes only inside {directory} (remove the link)")


def new_secret() -> str:
    """An unguessable folder name (96 bits)."""
    return secrets.token_urlsafe(12)


def digest(data: bytes) -> str:
    """The short content hash a record keeps of a file."""
    return hashlib.sha256(data).hexdigest()[:24]


def record_bytes(files: dict[str, str], made: dict[str, str] | None = None) -> bytes:
    """The record of a site with these files (the record itself not among them), and what costly ones were made from."""
    record = {"format": RECORD_FORMAT, "generator": "coach", "files": dict(sorted(files.items())), "made": dict(sorted((made or {}).items()))}
    return (json.dumps(record, indent=1) + "\n").encode()


class StagedWrites:
    """Files written beside their targets under hidden names, renamed into place together at the end."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._staged: list[tuple[Path, Path]] = []

    def stage(self, relative: str, data: bytes) -> None:
        """Write `data` for the file at `relative` (under the folder) to a staging name beside it, synced."""
        target = self.directory / relative
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            temporary.unlink(missing_ok=True)
            raise OutputError(f"cannot write {relative}: {error.strerror or error}") from None
        self._staged.append((temporary, target))

    def commit(self) -> None:
        """Rename every staged file onto its target, in the order staged (the record last)."""
        for temporary, target in self._staged:
            try:
                os.replace(temporary, target)
            except OSError as error:
                raise OutputError(f"cannot write {target.relative_to(self.directory)}: {error.strerror or error}") from None
        self._staged = []

    def discard(self) -> None:
        """Remove what was staged and not committed (a failure or Ctrl-C on the way)."""
        for temporary, _target in self._staged:
            temporary.unlink(missing_ok=True)
        self._staged = []


def remove_stale(directory: Path, previous: Previous, root: str, keep: set[str]) -> list[str]:
    """Remove what the last publish wrote and this one does not name, and stray files in the site's own folders.

    `root` is the site's root relative to the folder ("" or the secret); returns the removed paths, sorted.
    """
    removed = set()
    for relative in previous.files:
        if relative not in keep and _remove(directory / relative):
            removed.add(relative)
    base = directory / root if root else directory
    for folder in OWNED_FOLDERS:
        if not (base / folder).is_dir() or (base / folder).is_symlink():
            continue
        for path in sorted((base / folder).rglob("*")):
            relative = path.relative_to(directory).as_posix()
            if (path.is_file() or path.is_symlink()) and relative not in keep and _remove(path):
                if "/." not in "/" + relative:  # a staging leftover of a killed run goes unmentioned
                    removed.add(relative)
    for path in base.glob(".*.part"):  # a staged top file of a run that was killed
        if _PART.match(path.name):
            _remove(path)
    for folder in OWNED_FOLDERS:
        _prune_empty(base / folder, directory)
    if root:
        _prune_empty(base, directory)
    return sorted(removed)


def _remove(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False
    except IsADirectoryError:
        shutil.rmtree(path, ignore_errors=True)
        return True
    except OSError as error:
        raise OutputError(f"cannot remove {path.name}: {error.strerror or error}") from None


def _prune_empty(path: Path, directory: Path) -> None:
    """Remove empty folders under `path` (a site that dropped its last episode of an id), never `directory` itself."""
    if not path.is_dir() or path.is_symlink():
        return
    for child in sorted(path.rglob("*"), reverse=True):
        if child.is_dir() and not child.is_symlink() and not any(child.iterdir()):
            child.rmdir()
    if path != directory and not any(path.iterdir()):
        path.rmdir()
