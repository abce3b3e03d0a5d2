"""Live playback benchmark: time to first sound with a warm cache, and how far cue starts stray from the wall clock.

Run: .venv/bin/python bench/play.py [--routine NAME]... [--engine NAME]... [--engines-only] [--limit-seconds N]    (prints `name: value` lines)

A whole built-in session lasts 20 minutes or more and the NULL backend plays in real time, so by
default only the first 60 s of each built-in routine is played (--limit-seconds 0 plays it all).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach.audio import devices  # noqa: E402
from coach import session, streaming
from coach.routine import sources
from coach.terminal.play import DEVICE_PERIODS  # noqa: E402
from coach.audio.player import CueStarted  # noqa: E402
from starts import USER_ENVIRONMENT  # noqa: E402  (bench/starts.py)

REPEATS = 3  # time to first sound: best and median of three starts


def first_sound_seconds(routine: str, cache: Path, engine: str = "auto", extra: Sequence[str] = ()) -> float:
    """From starting `coach play` (with `extra` options) to its first cue line.

    The routine opens with the intro cue at 0:00.0, so the first block handed to the device is the first
    sound, and `--no-ui` prints that cue's line the moment that block is handed over.
    """
    command = [sys.executable, "-m", "coach", "play", routine, "--device", "null", "--no-ui", "--cache-dir", str(cache)]
    started = time.perf_counter()
    process = subprocess.Popen(
        command + ["--engine", engine, *extra], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT, env=USER_ENVIRONMENT
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    elapsed = time.perf_counter() - started
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    if not line:
        raise RuntimeError(f"coach play {routine} {' '.join(extra)} printed no cue (exit {process.returncode})")
    return elapsed


def import_seconds() -> float:
    """How long `import coach.cli` takes in a fresh interpreter: part of every start."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import coach.cli"], check=True, cwd=ROOT, env=USER_ENVIRONMENT)
    return time.perf_counter() - started


def clock_against_wall(routine_name: str, cache: Path, limit_seconds: float) -> dict[str, float]:
    """Play on the null device; fit the audio clock to the wall clock and see how far cue events stray from it.

    The loop samples (wall time, frames handed to the device) about every 50 ms; a straight-line fit
    of one against the other gives the clock's drift, and says at what wall time each cue's frame was
    due. A cue's error is when its event arrived minus that time: expected within one device period,
    since a cue is announced when the block holding it is handed over.
    """
    routine = session.load(routine_name)
    prepared = session.prepare(routine, session.speech_settings(routine), cache)
    timeline = prepared.timeline
    player = prepared.live_player(tail_ms=devices.PERIOD_MS * DEVICE_PERIODS)  # the same player `coach play` builds
    rate = player.sample_rate
    limit_ms = timeline.duration_ms if limit_seconds <= 0 else min(timeline.duration_ms, round(limit_seconds * 1000))
    device = devices.open_output(devices.NULL_OUTPUT, rate)
    samples: list[tuple[float, float]] = []  # (wall seconds, audio clock seconds)
    cues: list[tuple[float, float]] = []  # (wall seconds the event arrived, audio clock seconds of the cue)
    try:
        device.start(player.feed())
        while not player.ended and player.position_ms < limit_ms:
            event = player.next_event(0.05)
            now = time.perf_counter()
            samples.append((now, player.clock_frames / rate))
            if isinstance(event, CueStarted):
                cues.append((now, event.clock_frame / rate))
    finally:
        device.close()
    if len(cues) < 2:
        raise RuntimeError(f"{routine_name}: fewer than two cues in the first {limit_ms / 1000:g} s")
    walls, clocks = np.array(samples).T
    slope, offset = np.polyfit(clocks, walls, 1)  # wall = slope * clock + offset
    # The first cue rides on the device's start-up fill (it takes two periods at once): not the steady clock.
    errors = [arrived - (slope * clock + offset) for arrived, clock in cues[1:]]
    return {
        "played_s": limit_ms / 1000,
        "cues": len(cues),
        "max_error_ms": float(max(abs(error) for error in errors) * 1000),
        "mean_error_ms": float(statistics.fmean(errors) * 1000),
        "drift_ppm": float((slope - 1) * 1e6),
    }


ENGINES = ("hibari", "espeak", "piper")


def first_sound_by_engine(routines: list[str], engines: Sequence[str] = ENGINES) -> None:
    """Cold (empty cache) and warm (everything synthesized and measured) first sound, per engine, and for a session
    that starts before its speech is synthesized, how late its cues came."""
    from coach.errors import SpeechError
    from coach.speech import get_engine

    for engine in engines:
        try:
            get_engine(engine)
        except SpeechError as error:
            print(f"{engine}: skipped ({error})")
            continue
        for name in routines:
            with tempfile.TemporaryDirectory(prefix="coach-bench-play-") as folder:
                cache = Path(folder)
                first = first_sound_seconds(name, cache, engine)
                routine = session.load(name)
                settings = session.speech_settings(routine, engine=engine)
                print(f"{engine}.{name}.first_start_first_sound_s (an empty cache: what a voice keeps there made too): {first:.3f}")
                cold = []
                for _ in range(REPEATS):  # what a new or edited routine meets: nothing of it cached
                    _forget_all_but_voice_data(cache)
                    streamed = streaming.worth_streaming(routine, settings, cache)
                    cold.append(first_sound_seconds(name, cache, engine))
                how = "speech synthesized ahead of the playhead" if streamed else "all synthesized first"
                print(
                    f"{engine}.{name}.cold_first_sound_s (no clip cached, model load included; {how}; best of {REPEATS}): "
                    f"{min(cold):.3f}, median {statistics.median(cold):.3f}"
                )
                # Warm: the whole session synthesized and its gain stored (what a finished first session leaves).
                session.prepare(routine, settings, cache).live_player()
                warm = [first_sound_seconds(name, cache, engine) for _ in range(REPEATS)]
                print(f"{engine}.{name}.warm_first_sound_s (best of {REPEATS}): {min(warm):.3f}")
            if engine != "espeak":  # the voices that stream: speech synthesized while the session plays
                with tempfile.TemporaryDirectory(prefix="coach-bench-play-") as folder:
                    figures = cold_session_lateness(name, Path(folder), engine)
                print(f"{engine}.{name}.cold_session_synthesis_s (all speech synthesized while playing): {figures['synthesis_s']:.1f}")
                print(f"{engine}.{name}.cold_session_cues_started: {figures['cues']:g}")
                print(f"{engine}.{name}.cold_session_largest_cue_start_delay_ms (target: none late): {figures['largest_delay_ms']:.0f}")
                print(f"{engine}.{name}.cold_session_gain_error_db (the estimate it started at against the exact gain measured after): {figures['gain_error_db']:+.2f}")


def _forget_all_but_voice_data(cache: Path) -> None:
    """Empty the cache but for what a voice keeps there (coach/speech/hibari_tables.py), which outlives every routine's clips."""
    for path in cache.iterdir():
        if not path.name.startswith("voice-"):
            path.unlink()


def cold_session_lateness(name: str, cache: Path, engine: str) -> dict[str, float]:
    """Play a session on an empty cache on the null device, in real time, until all its speech is synthesized:
    how long that took, and the largest delay of a cue's start (silence waited for its speech), in ms."""
    import math

    from coach.audio.loudness import CEILING_DBTP

    routine = session.load(name)
    settings = session.speech_settings(routine, engine=engine)
    started = time.perf_counter()
    with streaming.StreamingSession(routine, settings, cache) as live:
        live.start()
        player = live.live_player(tail_ms=devices.PERIOD_MS * DEVICE_PERIODS)
        device = devices.open_output(devices.NULL_OUTPUT, player.sample_rate)
        starts: list[CueStarted] = []
        try:
            device.start(player.feed())
            while not live.wait(0.05):
                starts += [event for event in player.pending_events() if isinstance(event, CueStarted)]
            synthesis = time.perf_counter() - started
            time.sleep(1.0)  # the blocks mixed from the last clips
            starts += [event for event in player.pending_events() if isinstance(event, CueStarted)]
        finally:
            device.close()
        # Each cue's own delay: the silence waited since the cue before it (late_frames only grows).
        waited = [event.late_frames - before for before, event in zip([0] + [e.late_frames for e in starts], starts)]
        largest_ms = max(waited, default=0) * 1000 / player.sample_rate
        gain = live.gain
    exact = session.prepare(routine, settings, cache)
    exact_gain = exact.program_gain(exact.clip_arrays(), CEILING_DBTP)
    return {
        "synthesis_s": synthesis,
        "cues": len(starts),
        "largest_delay_ms": largest_ms,
        "gain_error_db": 20 * math.log10(gain / exact_gain),
    }


def main() -> int:
    """Print the playback figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routine", action="append", help="a routine file or built-in name (repeatable; default: all built-ins)")
    parser.add_argument("--limit-seconds", type=float, default=60.0, help="play this much of each routine (0: all)")
    parser.add_argument("--engine", action="append", choices=ENGINES, help="first sound of this engine only (repeatable; default: all)")
    parser.add_argument("--engines-only", action="store_true", help="only the per-engine first-sound figures")
    args, _ = parser.parse_known_args()
    routines = args.routine or list(sources.builtin_routines())
    limit = args.limit_seconds
    print(f"device: null (miniaudio NULL backend, real time), period {devices.PERIOD_MS} ms")
    print(f"played: {'whole routines' if limit <= 0 else f'first {limit:g} s of each routine'}")
    print("bytecode: cached, as a user's Python keeps it (PYTHONDONTWRITEBYTECODE unset for the starts)")
    print(f"import_coach_cli_s: {min(import_seconds() for _ in range(REPEATS)):.3f}")
    first_sound_by_engine(routines, args.engine or ENGINES)
    if args.engines_only:
        return 0
    with tempfile.TemporaryDirectory(prefix="coach-bench-play-") as folder:
        cache = Path(folder)
        os.environ["COACH_CACHE_DIR"] = str(cache)
        for name in routines:
            routine = session.load(name)
            # Warm the cache first: the clips, and the program gain the first live session measures and stores.
            session.prepare(routine, session.speech_settings(routine), cache).live_player()
            starts = [first_sound_seconds(name, cache) for _ in range(REPEATS)]
            print(f"{name}.time_to_first_sound_s (warm cache, best of {REPEATS}): {min(starts):.3f}")
            print(f"{name}.time_to_first_sound_median_s: {statistics.median(starts):.3f}")
            figures = clock_against_wall(name, cache, limit)
            print(f"{name}.played_s: {figures['played_s']:g}")
            print(f"{name}.cue_events: {figures['cues']:g}")
            print(f"{name}.cue_start_error_max_ms (cue event vs audio clock on the wall clock, after the first cue): {figures['max_error_ms']:.1f}")
            print(f"{name}.cue_start_error_mean_ms: {figures['mean_error_ms']:.1f}")
            print(f"{name}.audio_clock_drift_ppm (vs wall clock, over the played time): {figures['drift_ppm']:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
