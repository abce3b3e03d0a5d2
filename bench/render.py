"""Render benchmark: cold and warm speech renders of the built-in routines' cues, 1 process and all cores.

Run: .venv/bin/python bench/render.py    (prints `name: value unit` lines)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.memory import run_tree  # noqa: E402
from coach.speech.cache import ClipCache  # noqa: E402
from coach.errors import SpeechError  # noqa: E402
from coach.speech.render import available_cores, render  # noqa: E402
from coach.speech import SpeechSettings, get_engine  # noqa: E402

REPEATS = 3  # best of three: the machine is shared, the minimum is the least disturbed figure


def routine_texts() -> tuple[str, list[str]]:
    """The distinct cue texts of every built-in routine (or a stand-in list when the pipeline is not there)."""
    try:
        from coach import session
        from coach.routine import sources

        texts: dict[str, None] = {}
        names = list(sources.builtin_routines())
        for name in names:
            routine = session.load(name)
            texts.update(dict.fromkeys(session.cue_texts(routine)))
        if texts:
            return f"built-in routines ({', '.join(names)})", list(texts)
    except Exception as error:  # the bench must still measure speech while other stages are broken
        print(f"note: built-in routines unavailable ({type(error).__name__}: {error}); using stand-in cues")
    return "stand-in cues", stand_in_texts()


def stand_in_texts() -> list[str]:
    """About 150 cue sentences shaped like the routines' own."""
    moves = [
        "lift the belly high", "fold over the right thigh", "press the hips forward", "reach the arms overhead",
        "draw the knee to the chest", "tuck the pelvis under", "lower the knee slowly", "turn the chest to the wall",
    ]  # fmt: skip
    texts = [f"Inhale, {move}." for move in moves] + [f"Exhale, {move}." for move in moves]
    texts += [f"Hold for {seconds} seconds." for seconds in (10, 15, 20, 30, 45, 60)]
    texts += [f"{number}." for number in range(1, 21)]
    texts += [f"Round {a} of {b}." for b in (2, 3) for a in range(1, b + 1)]
    texts += [f"Rest for {s} seconds. Next up: exercise {n}." for s in (10, 15, 20) for n in range(1, 13)]
    sides = ("left", "right")
    texts += [f"Exercise {n}. Place your {side} foot forward, back knee soft." for n in range(1, 21) for side in sides]
    texts += ["Halfway.", "Switch sides. Right side.", "Switch sides. Left side.", "Breathe in.", "Breathe out."]
    texts += [f"Hold the {side} side, breathing slowly, for {s} seconds." for side in sides for s in (20, 40)]
    texts += [f"Step {n}: keep the spine long and the ribs down." for n in range(1, 17)]
    return texts


def timed_render(texts: list[str], settings: SpeechSettings, jobs: int | None, warm: bool) -> tuple[float, int]:
    """Best-of-N seconds for one render into a fresh cache (warm: a second render of an already full one)."""
    best = float("inf")
    processes = 1
    for _ in range(REPEATS):
        with tempfile.TemporaryDirectory(prefix="coach-bench-") as folder:
            cache = ClipCache(Path(folder))
            if warm:
                render(texts, settings, cache, jobs=jobs)
            started = time.perf_counter()
            report = render(texts, settings, cache, jobs=jobs)
            best = min(best, time.perf_counter() - started)
            processes = report.processes
    return best, processes


COLD_RENDER = """
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from coach.speech.cache import ClipCache
from coach.speech.render import render
from coach.speech import SpeechSettings, get_engine

engine, jobs, texts = sys.argv[2], (None if sys.argv[3] == "all" else int(sys.argv[3])), json.loads(sys.stdin.read())
started = time.perf_counter()
get_engine(engine)
report = render(texts, SpeechSettings(engine=engine), ClipCache(Path(sys.argv[4])), jobs=jobs)
seconds = time.perf_counter() - started
cpu = sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))
speech = sum(c.seconds for c in report.clips.values())
print(json.dumps({"seconds": seconds, "cpu": cpu, "processes": report.processes, "speech": speech}))
"""


def cold_render(engine: str, texts: list[str], jobs: str) -> dict[str, float]:
    """One cold render in a fresh process (engine start and model load included), with its tree's peak memory."""
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as folder:
        command = [sys.executable, "-c", COLD_RENDER, str(ROOT), engine, jobs, folder]
        run = run_tree(command, ROOT, stdin=json.dumps(texts))
    figures = json.loads(run.stdout)
    return {**figures, "pss_mb": run.peak_pss_mb, "largest_rss_mb": run.largest_rss_mb}


def engine_installed(name: str) -> bool:
    """Whether an engine starts here (the neural one needs the `neural` extra)."""
    try:
        get_engine(name)
    except SpeechError as error:
        print(f"{name}: skipped ({error})")
        return False
    return True


def main() -> int:
    """Print the render figures."""
    started = time.perf_counter()
    engine = get_engine()
    engine_start = time.perf_counter() - started
    source, texts = routine_texts()
    settings = SpeechSettings()
    cores = available_cores()
    print(f"cues: {len(texts)} distinct ({source})")
    print(f"engine: {engine.name} {engine.version} ({getattr(engine, 'library', 'n/a')}), {engine.sample_rate} Hz")
    print(f"engine start: {engine_start * 1000:.1f} ms")
    print(f"cores: {cores}")
    cold_one, _ = timed_render(texts, settings, jobs=1, warm=False)
    cold_all, processes = timed_render(texts, settings, jobs=None, warm=False)
    warm, _ = timed_render(texts, settings, jobs=None, warm=True)
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as folder:
        clips = render(texts, settings, ClipCache(Path(folder)), jobs=None).clips.values()
        speech_seconds = sum(clip.seconds for clip in clips)
        mean_clip = statistics.mean(clip.seconds for clip in clips)
    print(f"speech rendered: {speech_seconds:.1f} s (mean clip {mean_clip:.2f} s)")
    per_cue = cold_one / len(texts) * 1000
    print(f"cold render, 1 process: {cold_one:.3f} s ({len(texts) / cold_one:.0f} cues/s, {per_cue:.2f} ms/cue)")
    print(f"cold render, all cores ({processes} processes): {cold_all:.3f} s ({len(texts) / cold_all:.0f} cues/s)")
    print(f"parallel speed-up: {cold_one / cold_all:.2f} x")
    print(f"warm render (all cached): {warm * 1000:.1f} ms ({len(texts) / warm:.0f} cues/s)")
    print(f"real-time factor, 1 process: {speech_seconds / cold_one:.0f} x")
    print()
    print("cold render in a fresh process per engine (engine start and model load included; memory: the process tree's peak)")
    one_worker: dict[str, float] = {}
    for name in ("hibari", "espeak", "piper"):
        if not engine_installed(name):
            continue
        one = cold_render(name, texts, "1")
        every = cold_render(name, texts, "all")
        one_worker[name] = one["seconds"]
        for label, figures in (("1 worker", one), (f"all cores ({every['processes']:g} processes)", every)):
            print(
                f"{name} cold render, {label}: {figures['seconds']:.2f} s, "
                f"{figures['speech'] / figures['seconds']:.1f} x real time, CPU {figures['cpu']:.1f} s, "
                f"peak memory {figures['pss_mb']:.0f} MB PSS (largest process {figures['largest_rss_mb']:.0f} MB RSS)"
            )
        print(
            f"{name} parallel speed-up: {one['seconds'] / every['seconds']:.2f} x on {every['processes']:g} processes "
            f"(CPU spent: {every['cpu'] / one['cpu']:.2f} x one worker's; load average {os.getloadavg()[0]:.1f} on {cores} cores)"
        )
    if "espeak" in one_worker:
        for name, seconds in one_worker.items():
            print(f"{name} cold render, 1 worker, against espeak's in this run: {seconds / one_worker['espeak']:.2f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
