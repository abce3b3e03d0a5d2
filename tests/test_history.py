"""The session history: atomic appends that survive a kill and concurrent writers, `--level auto`, `coach history`."""

from __future__ import annotations

import datetime
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from coach import history
from coach.cli.app import app
from coach.history import SessionRecord

COACH = [sys.executable, "-m", "coach"]
UTC = datetime.timezone.utc


def record(
    n: int = 0, routine: str = "post-run", level: float | None = 0.0, completed: bool = True, time: str | None = None
) -> SessionRecord:
    return SessionRecord(
        time=time or history.now_text(datetime.datetime(2026, 11, 2, 8, 0, n % 60, tzinfo=UTC)),
        routine=routine,
        title="Post-run mobility",
        version="abcdef012345",
        level=level,
        completed=completed,
        done_ms=1000 * n,
        duration_ms=60_000,
        exercises_done=7 if completed else 2,
        exercises=7,
        frequency=(1, 3),
    )


def test_records_round_trip_and_a_broken_line_is_skipped_not_lost(tmp_path):
    path = tmp_path / "history.jsonl"
    history.append(record(1), path)
    with open(path, "ab") as out:
        out.write(b'{"time": "2026-11-02T08:00:0')  # a line cut short by hand or by an older writer
    history.append(record(2), path)
    assert history.read(path) == [record(1), record(2)]
    assert path.read_bytes().count(b"\n") == 3  # the next record started on its own line
    assert history.read(tmp_path / "none.jsonl") == []


def _append_many(path: str, writer: int, count: int) -> None:
    for n in range(count):
        history.append(record(writer * 100 + n), path=__import__("pathlib").Path(path))


def test_concurrent_appends_from_several_processes_lose_nothing(tmp_path):
    path = tmp_path / "history.jsonl"
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_append_many, args=(str(path), writer, 25)) for writer in range(4)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(120)
        assert process.exitcode == 0
    found = sorted(r.done_ms for r in history.read(path))
    assert found == sorted(1000 * (writer * 100 + n) for writer in range(4) for n in range(25))


KEEP_APPENDING = """
import pathlib, sys
from coach import history
from tests.test_history import record
path = pathlib.Path(sys.argv[1])
print("ready", flush=True)
n = 0
while True:
    n += 1
    history.append(record(n), path)
"""


def test_a_kill_mid_write_leaves_every_earlier_record_whole(tmp_path):
    path = tmp_path / "history.jsonl"
    for n in range(50):  # a long history, so a write takes a while
        history.append(record(n), path)
    before = history.read(path)
    for delay in (0.05, 0.13, 0.31):
        writer = subprocess.Popen([sys.executable, "-c", KEEP_APPENDING, str(path)], stdout=subprocess.PIPE, text=True)
        assert writer.stdout.readline() == "ready\n"
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        after = history.read(path)
        assert after[: len(before)] == before
        assert all(line and json.loads(line) for line in path.read_text().splitlines())  # no torn line
        before = after
    history.append(record(999), path)  # and the history still takes records
    assert history.read(path)[-1] == record(999)


def test_auto_level_steps_up_after_three_completed_sessions_and_stops_at_the_top():
    sessions = []
    seen = []
    for _ in range(20):
        found = history.auto_level(sessions, "post-run")
        seen.append(found.level)
        sessions.append(record(len(sessions), level=found.level))
        sessions.append(record(len(sessions), level=found.level, completed=False))  # stopped ones do not count
        sessions.append(record(len(sessions), routine="pre-run", level=found.level))  # nor other routines
    assert seen == [0.0] * 3 + [0.25] * 3 + [0.5] * 3 + [0.75] * 3 + [1.0] * 8
    assert history.auto_level([], "post-run") == history.AutoLevel(0.0, 0, False)
    # sessions at another level (chosen by hand) do not count toward the current one
    mixed = [record(1, level=0.0), record(2, level=1.0), record(3, level=0.0), record(4, level=0.0)]
    assert history.auto_level(mixed, "post-run") == history.AutoLevel(0.25, 0, True)


def test_this_week_counts_completed_sessions_since_monday():
    now = datetime.datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday
    times = ["2026-11-16T12:00:00+00:00", "2026-11-24T12:00:00+00:00", "2026-11-26T09:00:00+00:00"]
    sessions = [record(n, time=t) for n, t in enumerate(times)] + [record(9, completed=False, time=times[-1])]
    assert history.this_week(sessions, "post-run", now) == 2


SHORT = """\
title: Short
frequency: 1-3/week
pace: {rest: 0, countdown: 0}
exercises:
  - name: Neck roll
    steps: [{hold: 1-2s}]
  - name: Calf raise
    steps: [{hold: 1s}]
"""


@pytest.fixture
def short(tmp_path):
    path = tmp_path / "short.yaml"
    path.write_text(SHORT)
    return path


def test_coach_history_lists_two_null_device_sessions_and_the_week(short, tmp_path):
    cache = ["--cache-dir", str(tmp_path / "cache")]
    first = subprocess.run([*COACH, "play", str(short), "--device", "null", "--no-ui", "--level", "easy", *cache],
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    second = subprocess.run([*COACH, "play", str(short), "--device", "null", "--no-ui", "--from", "calf", *cache],
                            capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    shown = subprocess.run([*COACH, "history"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert len(lines) == 3
    assert re.fullmatch(r"[-0-9]{10} [0-9:]{5}  Short \(standard\)  from 0:\d\d, done, 1/2 exercises", lines[0])
    assert lines[1].endswith("  Short (easy)  done, 2/2 exercises")  # the newest first, above
    assert lines[2] == "this week: Short: 1 of 1-3 advised (on track)"  # a session from the middle is not a whole one
    payload = json.loads(subprocess.run([*COACH, "history", "--json"], capture_output=True, text=True).stdout)
    assert [s["level"] for s in payload["sessions"]] == [0.5, 0.0]
    assert payload["sessions"][0]["routine"] == str(short.resolve())
    assert len(payload["sessions"][0]["version"]) == 12


def test_level_auto_says_what_it_picked_when_the_session_starts(short, tmp_path):
    path = history.history_path()
    for n in range(3):
        history.append(record(n, routine=str(short.resolve()), level=0.0), path)
    result = CliRunner().invoke(app, ["plan", str(short), "--level", "auto", "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.stderr
    said = "level auto: stepped up to level 0.25 after 3 full sessions at the level below"
    assert result.stderr.splitlines()[0] == said
    assert result.stdout.splitlines()[0] == "Short (level 0.25)"


def test_no_history_yet_says_so():
    result = CliRunner().invoke(app, ["history"])
    assert result.exit_code == 0 and result.stdout.startswith("No sessions yet")


def test_a_write_that_dies_before_its_rename_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "history.jsonl"
    history.append(record(1), path)
    before = path.read_bytes()

    def killed(*_args):
        raise KeyboardInterrupt  # the moment between writing the new history and putting it in place

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        history.append(record(2), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    history.append(record(3), path)  # the left-over temporary file is simply written over
    assert history.read(path) == [record(1), record(3)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.jsonl", "history.jsonl.lock"]  # no stray file
