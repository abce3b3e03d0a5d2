"""The session history: one JSON line per played session in the user's data directory.

Appends are atomic and safe between processes: under an exclusive lock on a sidecar file, the whole
history is written to one fixed temporary name, flushed to disk and renamed over the file. A process
killed mid-write leaves the previous history whole (and at most the temporary file, which the next
append overwrites); a line that is not a record (edited by hand) is skipped when reading, never lost.
"""

from __future__ import annotations

import datetime
import hashlib
import fcntl
import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

from coach.errors import HistoryError
from coach.routine import sources
from coach.routine.levels import level_name
from coach.routine.model import Routine
from coach.timeline.timeline import Timeline

HISTORY_NAME = "history.jsonl"
AUTO_START = 0.0  # `--level auto` starts at the low end of every range
AUTO_STEP = 0.25  # and steps up this far
AUTO_SESSIONS = 3  # after this many completed sessions at its current level


@dataclass(frozen=True)
class SessionRecord:
    """One played session: when, which routine (and which version of it), at what level, and how much was done."""

    time: str  # ISO 8601, UTC, to the second
    routine: str  # a built-in's name, else the routine file's absolute path
    title: str
    version: str  # the first 12 hex digits of the routine file's SHA-256
    level: float | None  # None: the routine has no ranges
    completed: bool  # it played to the end
    done_ms: int  # how far into the session it stopped (the end when completed)
    duration_ms: int
    exercises_done: int  # exercises played through, from where it started to where it stopped
    exercises: int
    frequency: tuple[int, int] | None = None  # the routine's `frequency:`, sessions a week, when it states one
    start_ms: int = 0  # where it started (`--from`, `--at`)

    @property
    def full(self) -> bool:
        """Whether every exercise was played, start to end: only such sessions count toward a level or a week."""
        return self.completed and self.exercises_done == self.exercises

    def to_json(self) -> str:
        """The record as one JSON line (without its newline)."""
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> SessionRecord | None:
        """A record from one line, or None when the line is not one."""
        try:
            fields = json.loads(line)
            frequency = fields.get("frequency")
            fields["frequency"] = tuple(frequency) if frequency else None
            record = cls(**fields)
            datetime.datetime.fromisoformat(record.time)
        except (ValueError, TypeError, AttributeError):
            return None
        return record

    @property
    def started(self) -> datetime.datetime:
        """When the session was recorded, as an aware UTC datetime."""
        return datetime.datetime.fromisoformat(self.time)


def data_dir() -> Path:
    """The user's data directory for coach: $XDG_DATA_HOME/coach, else ~/.local/share/coach."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "coach"


def history_path() -> Path:
    """Where the history lives."""
    return data_dir() / HISTORY_NAME


def append(record: SessionRecord, path: Path | None = None) -> None:
    """Add a record to the history atomically (see the module's note)."""
    path = path or history_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            before = path.read_bytes() if path.exists() else b""
            if before and not before.endswith(b"\n"):
                before += b"\n"
            temporary = path.with_name("." + path.name + ".tmp")
            with open(temporary, "wb") as out:
                out.write(before + record.to_json().encode("utf-8") + b"\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
    except OSError as error:
        raise HistoryError(f"cannot write the session history {path}: {error.strerror or error}") from error


def read(path: Path | None = None) -> list[SessionRecord]:
    """Every record in the history, oldest first (none when there is no history yet)."""
    path = path or history_path()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    except OSError as error:
        raise HistoryError(f"cannot read the session history {path}: {error.strerror or error}") from error
    records = (SessionRecord.from_json(line) for line in text.splitlines() if line.strip())
    return [record for record in records if record is not None]


@dataclass(frozen=True)
class AutoLevel:
    """What `--level auto` picks for a routine, and why."""

    level: float
    completed_at_level: int  # completed sessions at `level` so far
    stepped_up: bool  # the last completed session reached the count and moved the level up


def auto_level(records: Iterable[SessionRecord], routine: str) -> AutoLevel:
    """The level `--level auto` plays `routine` at: from the low end, up AUTO_STEP after every AUTO_SESSIONS
    full sessions at the current level, never past the top (1)."""
    level, streak, stepped = AUTO_START, 0, False
    for record in records:
        if record.routine != routine or not record.full or record.level is None:
            continue
        stepped = False
        if math.isclose(record.level, level):
            streak += 1
            if streak >= AUTO_SESSIONS and level < 1.0:
                level, streak, stepped = min(1.0, level + AUTO_STEP), 0, True
    return AutoLevel(level, streak, stepped)


def this_week(records: Iterable[SessionRecord], routine: str, now: datetime.datetime) -> int:
    """Full sessions of `routine` in the calendar week (Monday on, local time) that `now` is in."""
    local_now = now.astimezone()
    today = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    monday = today - datetime.timedelta(days=local_now.weekday())
    return sum(
        1
        for record in records
        if record.routine == routine and record.full and record.started.astimezone() >= monday
    )


def now_text(now: datetime.datetime | None = None) -> str:
    """A time as records store it: ISO 8601 in UTC, to the second."""
    moment = now or datetime.datetime.now(datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc).replace(microsecond=0).isoformat()


def routine_key(argument: str) -> str:
    """How the history names a routine: a built-in's name, else its file's absolute path."""
    path = sources.resolve(argument).resolve()
    for name, builtin in sources.builtin_routines().items():
        if builtin.resolve() == path:
            return name
    return str(path)


def routine_version(argument: str) -> str:
    """The first 12 hex digits of the routine file's SHA-256: which version of it was played."""
    return hashlib.sha256(sources.read(sources.resolve(argument))).hexdigest()[:12]


def session_record(
    argument: str, routine: Routine, timeline: Timeline, span_ms: tuple[int, int], completed: bool
) -> SessionRecord:
    """The record of a session of `routine` played from `span_ms[0]` to `span_ms[1]`."""
    start_ms = span_ms[0]
    done_ms = timeline.duration_ms if completed else max(start_ms, min(span_ms[1], timeline.duration_ms))
    done = sum(start_ms <= c.start_ms and c.end_ms <= done_ms for c in timeline.chapters)
    frequency = None if routine.frequency is None else (int(routine.frequency.low), int(routine.frequency.high))
    return SessionRecord(
        time=now_text(),
        routine=routine_key(argument),
        title=routine.title,
        version=routine_version(argument),
        level=routine.level,
        completed=completed,
        done_ms=done_ms,
        duration_ms=timeline.duration_ms,
        exercises_done=done,
        exercises=len(timeline.chapters),
        frequency=frequency,
        start_ms=start_ms,
    )


def auto_level_text(argument: str) -> tuple[str, str]:
    """The level `--level auto` means for this routine now, and the line that says why."""
    key = routine_key(argument)
    found = auto_level(read(), key)
    name = level_name(found.level)
    if found.stepped_up:
        why = f"stepped up to {name} after {AUTO_SESSIONS} full sessions at the level below"
    elif found.level >= 1.0:
        why = f"{name}, the top of every range"
    else:
        left = AUTO_SESSIONS - found.completed_at_level
        why = f"{name}: {left} more full {'session' if left == 1 else 'sessions'} here steps it up"
    return f"{found.level:g}", f"level auto: {why}"
