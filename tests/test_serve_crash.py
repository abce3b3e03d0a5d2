"""kill -9 of `coach serve` while it republishes a saved routine, round after round: on restart the feed parses,
every episode it names is whole (ffmpeg decodes it without an error, its size is the feed's enclosure length),
and no staging file of the killed server is left in the library.

COACH_CRASH_ROUNDS sets the number of rounds (5 in the suite; the issue asks for 20 once).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest

from coach.output.encode import find_ffmpeg
from serving import PATIENCE_SECONDS, Served, get, shared_dirs

ROUNDS = int(os.environ.get("COACH_CRASH_ROUNDS", "5"))
ROUTINE = """title: Crash course
exercises:
  - name: Calf stretch
    steps:
      - hold: {seconds}s
        say: Heel down.
      - hold: 90s
        say: Other heel.
"""


def staging_leftovers(library: Path) -> list[str]:
    """Files and folders of an unfinished write: staging folders, temporary files, episode folders no index names."""
    found = [str(path.relative_to(library)) for path in library.rglob("*") if path.name.startswith(".") or path.suffix in (".part", ".tmp")]
    index = (library / "index.json").read_text() if (library / "index.json").exists() else ""
    found += [f"episodes/{folder.name} (not in the index)" for folder in (library / "episodes").iterdir() if folder.name.split("-")[-1] not in index]
    return found


def check_feed(served: Served, library: Path) -> int:
    """Every enclosure of the feed downloads whole and decodes; returns how many there are."""
    status, _headers, body = get(served.feed)
    assert status == 200
    items = ElementTree.fromstring(body).findall("channel/item")
    for item in items:
        enclosure = item.find("enclosure")
        status, _headers, audio = get(enclosure.get("url"))
        assert status == 200 and len(audio) == int(enclosure.get("length")) > 10_000
        path = library.parent / "downloaded.mp3"
        path.write_bytes(audio)
        decoded = subprocess.run([find_ffmpeg(), "-v", "error", "-xerror", "-i", str(path), "-f", "null", "-"], capture_output=True, text=True)
        path.unlink()
        assert decoded.returncode == 0 and decoded.stderr == "", decoded.stderr
    return len(items)


def test_kill_9_while_republishing_leaves_a_whole_feed_and_no_staging_files(tmp_path, tmp_path_factory):
    cache, _library = shared_dirs(tmp_path_factory)
    routines, library = tmp_path / "routines", tmp_path / "library"
    routines.mkdir()
    (routines / "crash.yaml").write_text(ROUTINE.format(seconds=30))
    arguments = (str(routines), "--library", str(library), "--cache-dir", str(cache))
    server = Served(*arguments)
    writing = _staging_span(server, library)
    server.wait_for(r"crash\.yaml: exported as crash")
    try:
        rng = random.Random(21)
        killed_while_staging = 0
        for round_number in range(ROUNDS):
            mark = server.mark()
            (routines / "crash.yaml").write_text(ROUTINE.format(seconds=31 + round_number))  # a new timeline: a new export
            server.wait_for(r"crash\.yaml: publishing", since=mark)
            _wait_for_staging(server, library)
            # Mostly while it writes the episode, sometimes just after (its rename, the index, the old folder's removal).
            time.sleep(rng.uniform(0, 1.25 * writing))
            staging_at_kill = any(library.glob(".staging-*"))
            os.kill(server.process.pid, signal.SIGKILL)
            server.process.wait(PATIENCE_SECONDS)
            killed_while_staging += staging_at_kill
            _wait_for_group_to_end(server.process.pid)  # its helpers die with it (ffmpeg ends at its input's end)

            server = Served(*arguments)
            # The library's start-up sweep has already run when the server prints its address.
            assert staging_leftovers(library) == [], f"round {round_number}"
            server.wait_for(r"crash\.yaml: (exported|up to date) as crash")
            assert check_feed(server, library) == 1, f"round {round_number}"
            assert staging_leftovers(library) == []
    finally:
        if server.process.poll() is None:
            assert server.stop() == 0
    print(f"{ROUNDS} rounds, {killed_while_staging} killed with a staging folder present (it exists for {writing:.2f} s)")


def _wait_for_staging(server: Served, library: Path) -> None:
    """Return once an export has begun writing its files into a staging folder."""
    while not any(library.glob(".staging-*")):
        assert server.process.poll() is None, server.log()
        time.sleep(0.002)


def _staging_span(server: Served, library: Path) -> float:
    """How long the first export's staging folder exists (seconds): the span the kills are spread over."""
    _wait_for_staging(server, library)
    start = time.monotonic()
    while any(library.glob(".staging-*")):
        time.sleep(0.002)
    return time.monotonic() - start


def _wait_for_group_to_end(group: int) -> None:
    deadline = time.monotonic() + PATIENCE_SECONDS  # a guard against a hang, not a speed requirement
    while True:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"processes of the killed server's group {group} outlived it")
        time.sleep(0.05)
