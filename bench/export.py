"""Export benchmark: cold and warm `coach export` of the built-in routines and a synthetic hour, against the encoder alone.

Run: .venv/bin/python bench/export.py    (prints `name: value` lines)

Each export runs in a fresh child process, so its peak memory (ru_maxrss) is its own. The floor is
ffmpeg encoding the very same PCM (the mix written to a raw file first) with the same settings: what an
export costs beyond it is loading, rendering, mixing, limiting and tagging.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from coach import session, sources  # noqa: E402

REPEATS = 3  # best of three for the warm export and the floor: the machine is shared
SYNTHETIC_EXERCISES = 12  # about an hour with the steps below


def synthetic_routine(exercises: int = SYNTHETIC_EXERCISES) -> str:
    """A routine of about an hour: every exercise two sides of counted breaths, a 45 s hold and slow breathing."""
    lines = [
        "title: Synthetic hour",
        "about: A long routine for the export benchmark.",
        "credit: coach bench",
        "pace: {breath: 4s, rest: 20s, switch: 8s, countdown: 3, halfway: 30s}",
        "exercises:",
    ]
    for n in range(1, exercises + 1):
        lines += [
            f"  - name: Exercise {n}",
            f"    setup: Set up for exercise number {n}, with the {{side}} foot forward.",
            "    sides: [left, right]",
            "    steps:",
            f"      - say: Settle into position {n} on the {{side}} side.",
            "      - repeat: 6",
            "        count: true",
            "        steps:",
            f"          - inhale: Lift and lengthen, movement {n}.",
            "          - exhale: Fold over the {side} thigh.",
            "      - hold: 45s",
            "        say: Hold here, breathing slowly.",
            "      - breathe: 4",
        ]
    return "\n".join(lines) + "\n"


def export_in_child(routine: str, output: Path, cache: Path) -> dict:
    """Run one export in a fresh interpreter; its timings and peak memory as a dict."""
    command = [sys.executable, __file__, "--child", routine, str(output), str(cache)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"export of {routine} failed: {result.stderr.strip().splitlines()[-1:]}")
    return json.loads(result.stdout)


def command_seconds(routine: str, output: Path, cache: Path) -> float:
    """Best-of-N wall time of the `coach export` command itself (interpreter start and imports included)."""
    command = [sys.executable, "-m", "coach", "export", routine, "-o", str(output), "--cache-dir", str(cache)]
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        best = min(best, time.perf_counter() - started)
    return best


def child(routine_arg: str, output: Path, cache: Path) -> None:
    """The child's side: export in-process as `coach export` does, print timings, peak memory and the mix's PCM path."""
    from coach.export import ExportOptions

    started = time.perf_counter()
    routine = session.load(routine_arg)
    prepared = session.prepare(routine, session.speech_settings(routine), cache)
    prepared_at = time.perf_counter()
    # The program gain is measured cold and stored: warm runs read it.
    result = prepared.export(output, ExportOptions())
    done = time.perf_counter()
    figures = {
        "export": done - started,
        "prepare": prepared_at - started,
        "mix_encode": done - prepared_at,  # with the program gain (cold: measured; warm: read from the cache)
        "duration": result.duration,
        "cues": len(prepared.timeline.cues),
        "distinct": len(prepared.report.clips),
        "synthesized": len(prepared.report.synthesized),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "gain_db": result.gain_db,
    }
    pcm = output.with_suffix(".s16le")
    write_mix(prepared, prepared.clip_arrays(), result.gain_db, pcm)
    figures["pcm"] = str(pcm)
    figures["rate"] = prepared.clip_rate
    print(json.dumps(figures))


def write_mix(prepared, clips, gain_db: float, path: Path) -> None:
    """The same mix the export encoded, as raw s16le mono, for timing the encoder alone."""
    from coach.encode import FORMATS, pcm_s16le
    from coach.export import BLOCK_SECONDS
    from coach.mixer import Mixer

    ceiling = FORMATS["mp3"].ceiling_dbtp
    mixer = Mixer(prepared.timeline, clips, prepared.clip_rate, gain=10 ** (gain_db / 20), ceiling_dbtp=ceiling)
    step = round(BLOCK_SECONDS * mixer.sample_rate)
    with open(path, "wb") as file:
        for position in range(0, mixer.total_frames, step):
            file.write(pcm_s16le(mixer.render(position, min(step, mixer.total_frames - position))))


def encoder_alone(pcm: Path, rate: int, output: Path) -> float:
    """Best-of-N seconds for ffmpeg to encode the raw mix with the export's MP3 settings."""
    from coach.encode import FORMATS, find_ffmpeg

    fmt = FORMATS["mp3"]
    command = [find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "s16le", "-ar", str(rate), "-ac", "1"]
    command += ["-i", str(pcm), *fmt.codec, "-ac", "1", "-b:a", str(fmt.default_bitrate), str(output)]
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        subprocess.run(command, check=True)
        best = min(best, time.perf_counter() - started)
    return best


def encode_stage_alone(pcm: Path, rate: int, output: Path) -> float:
    """Best-of-N seconds for coach's encode stage (ffmpeg fed through its pipe, tags and chapters written) on the raw mix."""
    from coach.encode import FORMATS, EncodeJob, encode
    from coach.export import BLOCK_SECONDS

    step = round(BLOCK_SECONDS * rate) * 2  # bytes of s16le mono

    def blocks():
        with open(pcm, "rb") as file:
            while chunk := file.read(step):
                yield np.frombuffer(chunk, dtype="<i2").astype(np.float32) / np.float32(32767.0)

    fmt = FORMATS["mp3"]
    job = EncodeJob(output, fmt, rate, fmt.default_bitrate, {"title": "bench"}, [("All", 0, 1000)])
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        encode(blocks(), job)
        best = min(best, time.perf_counter() - started)
    return best


def bench(name: str, routine: str, scratch: Path) -> None:
    """Print the figures of one routine."""
    cache = scratch / f"cache-{name}"
    output = scratch / f"{name}.mp3"
    cold = export_in_child(routine, output, cache)
    warm = min((export_in_child(routine, output, cache) for _ in range(REPEATS)), key=lambda f: f["export"])
    floor = encoder_alone(Path(warm["pcm"]), warm["rate"], scratch / f"{name}-floor.mp3")
    piped = encode_stage_alone(Path(warm["pcm"]), warm["rate"], scratch / f"{name}-piped.mp3")
    command = command_seconds(routine, output, cache)
    length = warm["duration"]
    print(f"{name}: session {length / 60:.1f} min, {warm['cues']} cues ({warm['distinct']} distinct)")
    print(f"{name}: cold export: {cold['export']:.2f} s ({cold['synthesized']} cues synthesized, loudness measured)")
    print(
        f"{name}: warm export: {warm['export']:.2f} s (load+render+schedule {warm['prepare']:.2f} s, "
        f"mix+encode {warm['mix_encode']:.2f} s)"
    )
    print(f"{name}: warm `coach export` command: {command:.2f} s (with interpreter start and imports)")
    print(f"{name}: encoder alone (ffmpeg, same PCM, same settings): {floor:.2f} s")
    print(f"{name}: encode stage alone (ffmpeg fed through coach's pipe, tags and chapters written, no mixing): {piped:.2f} s")
    print(f"{name}: warm export / encoder alone: {warm['export'] / floor:.2f} x (target <= 1.2 x)")
    print(f"{name}: warm export / encode stage alone: {warm['export'] / piped:.2f} x (what mixing adds)")
    print(f"{name}: warm command / encoder alone: {command / floor:.2f} x")
    print(f"{name}: speed: {length / warm['export']:.0f} x real time")
    print(f"{name}: peak memory of the coach process: {warm['peak_mb']:.0f} MB (target < 300 MB)")


def main() -> int:
    """Bench every built-in routine and the synthetic hour."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", nargs=3, metavar=("ROUTINE", "OUTPUT", "CACHE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return 0
    with tempfile.TemporaryDirectory(prefix="coach-bench-export-") as folder:
        scratch = Path(folder)
        for name in sources.builtin_routines():
            bench(name, name, scratch)
        synthetic = scratch / "synthetic-hour.yaml"
        synthetic.write_text(synthetic_routine(), encoding="utf-8")
        bench("synthetic-hour", str(synthetic), scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
