"""Timing of the pure stages (load, compile, schedule) and of a warm `plan` on the built-in routines."""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coach import session  # noqa: E402
from coach.routine import sources
from coach.timeline.compiler import compile_routine  # noqa: E402
from coach.routine.loader import parse_routine  # noqa: E402
from coach.timeline.moment import MomentIndex, segments, segments_json  # noqa: E402
from coach.timeline.scheduler import schedule  # noqa: E402


def best_ms(action, repeats: int = 20) -> float:
    """The median wall time of `action` in milliseconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    """Print the figures for each built-in routine."""
    with tempfile.TemporaryDirectory() as cache:
        for name, path in sources.builtin_routines().items():
            data = path.read_bytes()
            routine = parse_routine(data, str(path))
            script = compile_routine(routine)
            prepared = session.prepare(routine, session.speech_settings(routine), Path(cache))
            seconds = {text: clip.seconds for text, clip in prepared.report.clips.items()}
            load = best_ms(lambda: parse_routine(data, str(path)))
            compile_ = best_ms(lambda: compile_routine(routine))
            place = best_ms(lambda: schedule(prepared.script, seconds, routine.title))
            warm = best_ms(lambda: session.prepare(routine, session.speech_settings(routine), Path(cache)), 5)
            print(f"{name}: cues: {len(prepared.timeline.cues)} ({len(seconds)} distinct), script items: {len(script)}")
            print(f"{name}: load: {load:.2f} ms")
            print(f"{name}: compile: {compile_:.2f} ms")
            print(f"{name}: schedule: {place:.2f} ms")
            print(f"{name}: warm plan (load excluded, cache hit for every cue): {warm:.1f} ms")
            print(f"{name}: session length: {prepared.timeline.duration_ms / 1000:.1f} s")
            timeline = prepared.timeline
            index = MomentIndex(timeline)
            positions = range(0, timeline.duration_ms, 50)  # one frame every 50 ms, as `coach play` draws
            per_frame = best_ms(lambda: [index.at(position) for position in positions], 5) / len(positions) * 1000
            cut = best_ms(lambda: segments(timeline), 5)
            print(f"{name}: moment at t: {per_frame:.1f} us a frame; segments: {len(segments(timeline))} in {cut:.1f} ms")
            print(f"{name}: segments JSON: {len(json.dumps(segments_json(timeline))) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
