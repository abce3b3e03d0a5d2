"""One `coach serve` per library folder: a second one is refused with a line naming the first; a killed one's lock is taken over."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from serving import PATIENCE_SECONDS, Served, get, shared_dirs

ROUTINE = """title: Lock check
exercises:
  - name: Calf stretch
    steps:
      - hold: 5s
        say: Heel down.
"""


@pytest.fixture()
def folders(tmp_path, tmp_path_factory):
    """(routines folder, library folder, shared speech cache)."""
    cache, _library = shared_dirs(tmp_path_factory)
    routines = tmp_path / "routines"
    routines.mkdir()
    (routines / "lock.yaml").write_text(ROUTINE)
    return routines, tmp_path / "library", cache


def second_server(routines, library, cache) -> subprocess.CompletedProcess:
    """A second `coach serve` on the same library (another free port), run to its end."""
    command = [sys.executable, "-m", "coach", "serve", str(routines), "--library", str(library), "--cache-dir", str(cache)]
    return subprocess.run([*command, "--host", "127.0.0.1", "--port", "0"], capture_output=True, text=True, timeout=PATIENCE_SECONDS)


def test_a_second_server_on_one_library_is_refused_with_the_first_ones_address_and_pid(folders):
    routines, library, cache = folders
    first = Served(str(routines), "--library", str(library), "--cache-dir", str(cache))
    try:
        first.wait_for(r"lock\.yaml: exported as lock")
        result = second_server(routines, library, cache)
        assert result.returncode == 1, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("coach: error: the library folder ")
        assert f"pid {first.process.pid}, at http://127.0.0.1:{first.port}/" in lines[0]
        assert "listening" not in result.stdout and "page" not in result.stdout
        # The secret is not in the lock file (other users may read the folder); the refused server changed nothing.
        record = json.loads((library / "serve.lock").read_text())
        assert record == {"pid": first.process.pid, "address": f"http://127.0.0.1:{first.port}/"}
        assert get(first.feed)[0] == 200
    finally:
        assert first.stop() == 0
    assert (library / "serve.lock").read_text() == ""  # released on a clean stop: no owner named


def test_the_lock_of_a_killed_server_is_taken_over(folders):
    routines, library, cache = folders
    first = Served(str(routines), "--library", str(library), "--cache-dir", str(cache))
    first.wait_for(r"lock\.yaml: exported as lock")
    os.killpg(first.process.pid, signal.SIGKILL)  # no clean-up of any kind: the lock file still names it
    first.process.wait(PATIENCE_SECONDS)
    assert json.loads((library / "serve.lock").read_text())["pid"] == first.process.pid
    second = Served(str(routines), "--library", str(library), "--cache-dir", str(cache))
    try:
        second.wait_for(r"lock\.yaml: up to date as lock")
        assert get(second.feed)[0] == 200
        record = json.loads((library / "serve.lock").read_text())
        assert record == {"pid": second.process.pid, "address": f"http://127.0.0.1:{second.port}/"}
        # and it, in turn, keeps a third one out
        third = second_server(routines, library, cache)
        assert third.returncode == 1 and f"pid {second.process.pid}," in third.stderr
    finally:
        assert second.stop() == 0
