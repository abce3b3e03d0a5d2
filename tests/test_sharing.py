"""Issue 21, point 1: any number of coach processes share one speech cache, and every one succeeds with whole output.

espeak-ng's samples for a text vary with what the process spoke before, so two processes rendering one routine
at once make clips of different lengths for the same key. Each round here starts four real coach processes
together on a fresh cache (renders, exports, a live play to the null device) and checks every exit status and
every file they write.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from coach import staging
from coach.speech.cache import ClipCache
from coach.output.encode import find_ffmpeg
from coach.speech import SpeechSettings, get_engine

ROUNDS = 20
ROUTINE = """\
title: Short reset
exercises:
  - name: Calf stretch
    steps:
      - hold: 5s
        say: Lean into the wall, back heel down.
  - name: Hip circles
    steps:
      - repeat: 2
        steps:
          - say: Circle the hips slowly.
"""


def coach(*args: str, cache: Path, cwd: Path) -> subprocess.Popen:
    environment = {**os.environ, "COACH_CACHE_DIR": str(cache)}
    return subprocess.Popen(
        [sys.executable, "-m", "coach", *args, "--engine", "espeak"],
        cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def decode_errors(path: Path) -> str:
    """What ffmpeg says decoding the whole file (nothing for a whole MP3)."""
    ffmpeg = find_ffmpeg()
    done = subprocess.run([ffmpeg, "-v", "error", "-i", str(path), "-f", "null", "-"], capture_output=True, text=True)
    return done.stderr.strip() + ("" if done.returncode == 0 else f" (exit {done.returncode})")


def duration(path: Path) -> float:
    ffprobe = str(Path(find_ffmpeg()).with_name("ffprobe"))
    done = subprocess.run(
        [ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)], capture_output=True, text=True, check=True
    )
    return float(json.loads(done.stdout)["format"]["duration"])


@pytest.fixture(scope="module")
def routine(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sharing")
    (folder / "short.yaml").write_text(ROUTINE)
    return folder / "short.yaml"


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_four_processes_at_once_on_a_fresh_cache_all_succeed_with_whole_output(routine, tmp_path, round_number):
    cache = tmp_path / "cache"
    work = routine.parent
    names = [f"a{round_number}.mp3", f"b{round_number}.mp3"]
    # Which four: two exports and a render always; the fourth a live play, or a third export on odd rounds.
    commands = [
        ("export", str(routine), "-o", str(tmp_path / names[0]), "--no-transcript"),
        ("render", str(routine)),
        ("export", str(routine), "-o", str(tmp_path / names[1]), "--no-transcript"),
    ]
    if round_number % 2:
        names.append(f"c{round_number}.mp3")
        commands.append(("export", str(routine), "-o", str(tmp_path / names[2]), "--no-transcript"))
    else:
        commands.append(("play", str(routine), "--device", "null", "--no-ui", "--at", "0:37"))
    processes = [coach(*command, cache=cache, cwd=work) for command in commands]
    results = [(command[0], *process.communicate(), process.returncode) for command, process in zip(commands, processes)]
    for name, out, err, code in results:
        assert code == 0 and "error" not in err, f"coach {name} exited {code}: {err.strip()}"
        expected = {"export": "2 chapters", "render": "cues", "play": "Done: Short reset (00:39)"}[name]
        assert expected in out + err
    lengths = []
    for name in names:
        assert decode_errors(tmp_path / name) == ""
        lengths.append(duration(tmp_path / name))
    assert max(lengths) - min(lengths) < 0.03  # one MP3 frame: every export mixed the same clips
    assert not [path.name for path in cache.iterdir() if staging.is_temporary(path.name)]


def test_a_clip_stored_by_another_process_first_is_kept_and_returned(tmp_path):
    engine = get_engine("espeak")
    profile = engine.profile(SpeechSettings())
    first, second = ClipCache(tmp_path), ClipCache(tmp_path)
    kept = first.store("Breathe in.", profile, np.full(1000, 7, dtype=np.int16))
    mine = second.store("Breathe in.", profile, np.full(1200, 9, dtype=np.int16))  # another process's version
    assert mine.frames == kept.frames == 1000
    assert (kept.read() == 7).all() and (mine.read() == 7).all()


def test_a_damaged_clip_is_replaced_by_the_new_one(tmp_path):
    profile = get_engine("espeak").profile(SpeechSettings())
    cache = ClipCache(tmp_path)
    clip = cache.store("Breathe in.", profile, np.full(1000, 7, dtype=np.int16))
    clip.path.write_bytes(clip.path.read_bytes()[:-10])
    assert cache.store("Breathe in.", profile, np.full(1200, 9, dtype=np.int16)).frames == 1200
    assert cache.lookup("Breathe in.", profile).frames == 1200


def test_a_sweep_of_stale_files_never_takes_a_file_a_live_writer_holds(tmp_path):
    descriptor, temporary = staging.locked_temporary(tmp_path, "clip")
    sweeps = [threading.Thread(target=ClipCache(tmp_path).remove_stale_temporaries) for _ in range(4)]
    for sweep in sweeps:
        sweep.start()
    for sweep in sweeps:
        sweep.join()
    os.write(descriptor, b"whole")
    assert staging.publish(descriptor, temporary, tmp_path / "clip.bin")
    assert (tmp_path / "clip.bin").read_bytes() == b"whole"


def test_a_staged_file_whose_writer_died_is_swept(tmp_path):
    stale = tmp_path / ".clip.abc.tmp"
    stale.write_bytes(b"half")
    assert ClipCache(tmp_path).remove_stale_temporaries() == 1 and not stale.exists()


STOPPED_WHILE_STAGING = """
import sys
from pathlib import Path
from coach import staging
staging.locked_temporary(Path(sys.argv[1]), "clip")  # a Ctrl-C landing before the caller holds the name
raise KeyboardInterrupt
"""


def test_a_process_stopped_before_it_publishes_leaves_no_staged_file(tmp_path):
    stopped = subprocess.run([sys.executable, "-c", STOPPED_WHILE_STAGING, str(tmp_path)], capture_output=True, text=True)
    assert "KeyboardInterrupt" in stopped.stderr and stopped.returncode != 0
    assert list(tmp_path.iterdir()) == []
