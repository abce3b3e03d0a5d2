"""Faults from outside, on real `coach` processes (real espeak, real ffmpeg): SIGKILL, SIGTERM and SIGHUP
at several points of an export and a cold render. Afterwards the previous output is intact, the next
export leaves no staging file, and no process of the killed command is left behind.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
POLL = 0.01
PATIENCE = 120.0  # seconds to wait for something that must happen; a shared machine can be slow


def coach(*args: str, cwd: Path) -> subprocess.Popen:
    """A `coach` command in a session of its own, so its whole process group can be checked afterwards."""
    command = [sys.executable, "-m", "coach", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        time.sleep(POLL)


def group_is_gone(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def staging_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.name.startswith(".") and path.name.endswith(".part"))


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A folder holding a finished export of pre-run, its warm cache, and the track's digest."""
    folder = tmp_path_factory.mktemp("faults")
    cache = folder / "speech"
    done = coach("export", "pre-run", "-o", "track.mp3", "--cache-dir", str(cache), cwd=folder)
    assert done.wait() == 0, done.stderr.read().decode() if done.stderr else ""
    return folder, cache, digest(folder / "track.mp3")


def export_and_signal(folder: Path, cache: Path, number: int, point: str) -> int:
    """Start an export over track.mp3, send `number` at `point`, and return its exit status once its group is gone."""
    process = coach("export", "pre-run", "-o", "track.mp3", "--cache-dir", str(cache), cwd=folder)
    if point == "staging":  # while ffmpeg writes the staging file
        wait_for(lambda: staging_files(folder) or process.poll() is not None, "the staging file")
    elif point == "encoding":  # some way into the encode
        wait_for(lambda: any(p.stat().st_size > 20_000 for p in staging_files(folder)) or process.poll() is not None, "audio")
    if process.poll() is None:
        os.killpg(process.pid, number) if number == signal.SIGKILL else os.kill(process.pid, number)
    status = process.wait()
    process.stdout.close()
    process.stderr.close()
    wait_for(lambda: group_is_gone(process.pid), "the export's processes (ffmpeg) to end")
    return status


@pytest.mark.parametrize("point", ["start", "staging", "encoding"])
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL], ids=["TERM", "HUP", "KILL"])
def test_a_signal_during_export_leaves_the_previous_track_and_nothing_after_the_next_export(exported, number, point):
    folder, cache, before = exported
    status = export_and_signal(folder, cache, number, point)
    if status != 0:  # a signal that came after the export finished is no fault
        # 128 + n once coach handles the signal; killed by it (-n) if it came while Python was starting
        assert status in (-number, 128 + number), status
        assert digest(folder / "track.mp3") == before
        if number != signal.SIGKILL:
            assert staging_files(folder) == []  # cleaned up like Ctrl-C
    again = coach("export", "pre-run", "-o", "track.mp3", "--cache-dir", str(cache), cwd=folder)
    assert again.wait() == 0
    again.stdout.close()
    again.stderr.close()
    assert staging_files(folder) == []
    assert digest(folder / "track.mp3") == before  # the same session, so the same bytes


def test_a_kill_during_export_leaves_a_staging_name_no_player_lists(exported):
    folder, cache, _before = exported
    process = coach("export", "pre-run", "-o", "track.mp3", "--cache-dir", str(cache), cwd=folder)
    wait_for(lambda: staging_files(folder) or process.poll() is not None, "the staging file")
    left = staging_files(folder)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    process.stdout.close()
    process.stderr.close()
    for path in left:
        assert path.suffix == ".part" and path.name.startswith(".track.mp3.")
    again = coach("export", "pre-run", "-o", "track.mp3", "--cache-dir", str(cache), cwd=folder)
    assert again.wait() == 0
    again.stdout.close()
    again.stderr.close()
    assert staging_files(folder) == []


def many_cues(path: Path, count: int = 600) -> Path:
    """A routine of `count` distinct short cues: a cold render that runs long enough to be interrupted."""
    lines = ["title: Many cues", "exercises:"]
    for exercise in range(0, count, 200):  # at most 200 steps an exercise
        lines += [f"  - name: Talk {exercise}", "    steps:"]
        lines += [f"      - say: Cue number {n} of the fault test." for n in range(exercise, min(count, exercise + 200))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def clips_in(cache: Path) -> int:
    return len(list(cache.glob("*.wav"))) if cache.is_dir() else 0


@pytest.mark.parametrize("number", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP], ids=["KILL", "TERM", "HUP"])
@pytest.mark.parametrize("after", [1, 60], ids=["first-clips", "mid-way"])
def test_a_signal_during_a_cold_render_leaves_no_worker_behind(tmp_path, number, after):
    # espeak: hundreds of cues in a few seconds; how processes end does not depend on the voice (one run in the
    # natural voice below).
    signalled_render(tmp_path, number, after, ["--engine", "espeak"], count=250)


def test_a_signal_during_a_cold_render_in_the_natural_voice_leaves_no_worker_behind(tmp_path):
    signalled_render(tmp_path, signal.SIGTERM, 20, ["--engine", "hibari"], count=120)


def signalled_render(tmp_path: Path, number: int, after: int, engine: list[str], count: int | None = None) -> None:
    """Signal a cold render's parent once `after` clips are in; then no worker is left, and a second render
    finishes with every clip whole."""
    routine = many_cues(tmp_path / "many.yaml") if count is None else many_cues(tmp_path / "many.yaml", count)
    cache = tmp_path / "speech"
    process = coach("render", str(routine), "--cache-dir", str(cache), "--jobs", "2", *engine, cwd=tmp_path)
    wait_for(lambda: clips_in(cache) >= after or process.poll() is not None, "clips")
    if process.poll() is None:
        os.kill(process.pid, number)  # the parent only: its workers must notice by themselves
    status = process.wait()
    process.stdout.close()
    process.stderr.close()
    wait_for(lambda: group_is_gone(process.pid), "the render's worker processes to end")
    assert status in (0, -number, 128 + number), status
    finish = coach("render", str(routine), "--cache-dir", str(cache), *engine, cwd=tmp_path)
    assert finish.wait() == 0
    finish.stdout.close()
    finish.stderr.close()
    stats = coach("cache", "stats", "--json", "--cache-dir", str(cache), cwd=tmp_path)
    out, _err = stats.communicate()
    assert b'"damaged": 0' in out and b'"temporary": 0' in out  # a killed worker's half-written clip is gone
