"""Export benchmark: cold and warm `coach export` of the built-in routines and a synthetic hour, against the encoder alone;
coach's chunked MP3 encode stage against one ffmpeg pass (also for post-run with a stereo music bed), and the
re-export after a one-cue edit of post-run.

Run: .venv/bin/python bench/export.py    (prints `name: value` lines)

Each export runs in a fresh child process, so its peak memory is its own (see memory.peak_mb). The floor is
ffmpeg encoding the very same PCM (the mix written to a raw file first) with the same settings: what an
export costs beyond it is loading, rendering, mixing, limiting and tagging. The encode stage alone is
coach/output/chunked.py on that raw file (no mixing): parallel chunks on all cores, header and tags written.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from coach import session  # noqa: E402
from coach.routine import sources
from memory import peak_mb  # noqa: E402  (bench/memory.py, beside this file)
from routines import synthetic_routine  # noqa: E402  (bench/routines.py)
from starts import USER_ENVIRONMENT  # noqa: E402  (bench/starts.py)

REPEATS = 3  # best of three for the warm export and the floor: the machine is shared
STAGE_REPEATS = 5  # turns of ffmpeg alone and the encode stage (a few seconds each): best of each


def export_in_child(routine: str, output: Path, cache: Path) -> dict:
    """Run one export in a fresh interpreter; its timings and peak memory as a dict."""
    command = [sys.executable, __file__, "--child", routine, str(output), str(cache)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=USER_ENVIRONMENT)
    if result.returncode:
        raise RuntimeError(f"export of {routine} failed: {result.stderr.strip().splitlines()[-1:]}")
    return json.loads(result.stdout)


def command_seconds(routine: str, output: Path, cache: Path) -> float:
    """Best-of-N wall time of the `coach export` command itself (interpreter start and imports included)."""
    command = [sys.executable, "-m", "coach", "export", routine, "-o", str(output), "--cache-dir", str(cache)]
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True, env=USER_ENVIRONMENT)
        best = min(best, time.perf_counter() - started)
    return best


def child(routine_arg: str, output: Path, cache: Path) -> None:
    """The child's side: export in-process as `coach export` does, print timings, peak memory and the mix's PCM path."""
    from coach.output.export import ExportOptions

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
        "peak_mb": peak_mb(),
        "gain_db": result.gain_db,
        "chunks": [result.chunks_encoded, result.chunks_reused],
        "edges": [round(c.start_ms * prepared.clip_rate / 1000) for c in prepared.timeline.chapters],
    }
    pcm = output.with_suffix(".s16le")
    write_mix(prepared, prepared.clip_arrays(), result.gain_db, pcm)
    figures["pcm"] = str(pcm)
    figures["rate"] = prepared.clip_rate
    print(json.dumps(figures))


def write_mix(prepared, clips, gain_db: float, path: Path) -> None:
    """The same mix the export encoded, as raw s16le mono, for timing the encoder alone."""
    from coach.output.encode import FORMATS, pcm_s16le
    from coach.output.export import BLOCK_SECONDS
    from coach.audio.mixer import Mixer

    ceiling = FORMATS["mp3"].ceiling_dbtp
    mixer = Mixer(prepared.timeline, clips, prepared.clip_rate, gain=10 ** (gain_db / 20), ceiling_dbtp=ceiling)
    step = round(BLOCK_SECONDS * mixer.sample_rate)
    with open(path, "wb") as file:
        for position in range(0, mixer.total_frames, step):
            file.write(pcm_s16le(mixer.render(position, min(step, mixer.total_frames - position))))


def cpu_seconds() -> float:
    """CPU time used so far by this process and its finished children (ffmpeg, the encoder pool's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


CPU: dict[str, float] = {}  # the last measurement's CPU seconds, by what was measured: wall time lies on a loaded machine


def encoder_alone(pcm: Path, rate: int, output: Path, channels: int = 1, bitrate: str = "64k", repeats: int = REPEATS) -> float:
    """Best-of-N seconds for ffmpeg to encode the raw mix with the export's MP3 settings."""
    from coach.output.encode import FORMATS, find_ffmpeg

    fmt = FORMATS["mp3"]
    command = [find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "s16le", "-ar", str(rate), "-ac", str(channels)]
    command += ["-i", str(pcm), *fmt.codec, "-ac", str(channels), "-b:a", bitrate, str(output)]
    best = float("inf")
    for _ in range(repeats):
        started, cpu = time.perf_counter(), cpu_seconds()
        subprocess.run(command, check=True)
        best = min(best, time.perf_counter() - started)
        CPU["floor"] = cpu_seconds() - cpu
    return best


def pcm_renderer(pcm: Path, channels: int = 1):
    """A render function over a raw s16le file (interleaved when stereo), as the mixer's: the encode stage timed without mixing."""
    samples = np.memmap(pcm, dtype="<i2", mode="r")
    if channels > 1:
        samples = samples.reshape(-1, channels)

    def render(start: int, count: int) -> np.ndarray:
        out = np.zeros((count, *samples.shape[1:]), dtype=np.float32)
        lo, hi = max(start, 0), min(start + count, samples.shape[0])
        if hi > lo:
            out[lo - start : hi - start] = samples[lo:hi] / np.float32(32767.0)
        return out

    return render, samples.shape[0]


def encode_stage(pcm: Path, rate: int, edges: list[int], output: Path, segments=None, channels: int = 1, kbps: int = 64) -> tuple[float, object]:
    """Seconds for coach's MP3 encode stage (chunks on all cores, header and tag written) on the raw mix, and its report."""
    from coach.output import chunked, lame

    render, total = pcm_renderer(pcm, channels)
    started, cpu = time.perf_counter(), cpu_seconds()
    settings = lame.LameSettings(rate, kbps, channels=channels)
    report = chunked.encode_track(render, 0, total, edges, output, settings, segments=segments)
    CPU["stage"] = cpu_seconds() - cpu
    return time.perf_counter() - started, report


def encoder_and_stage(
    pcm: Path, rate: int, edges: list[int], scratch: Path, name: str, channels: int = 1, kbps: int = 64, repeats: int = STAGE_REPEATS
) -> tuple[float, float]:
    """Best-of-N seconds of ffmpeg alone and of the encode stage (no segment cache) on the same raw mix, and their CPU
    seconds in CPU, run in turns: on a shared machine each gets the same chances of a quiet moment."""
    floor = stage = floor_cpu = stage_cpu = float("inf")
    for _ in range(repeats):
        floor = min(floor, encoder_alone(pcm, rate, scratch / f"{name}-floor.mp3", channels, f"{kbps}k", repeats=1))
        floor_cpu = min(floor_cpu, CPU["floor"])
        stage = min(stage, encode_stage(pcm, rate, edges, scratch / f"{name}-stage.mp3", channels=channels, kbps=kbps)[0])
        stage_cpu = min(stage_cpu, CPU["stage"])
    CPU["floor"], CPU["stage"] = floor_cpu, stage_cpu
    return floor, stage


def bench_music(scratch: Path) -> None:
    """Post-run with a stereo music bed (44.1 kHz, 128k): the encode stage against one ffmpeg pass on the same stereo PCM."""
    import music  # bench/music.py, beside this file: the same music and child export

    song = music.make_music(scratch / "song.mp3", music.MUSIC_MINUTES)
    cache = scratch / "cache-music"
    music.export_in_child("post-run", scratch / "bed.mp3", cache, song)  # cold: speech rendered, music decoded
    warm = music.export_in_child("post-run", scratch / "bed.mp3", cache, song)
    pcm, rate, channels, bitrate = Path(warm["pcm"]), warm["rate"], warm["channels"], warm["bitrate"]
    floor, stage = encoder_and_stage(pcm, rate, warm["edges"], scratch, "bed", channels, int(bitrate.rstrip("k")), repeats=REPEATS)
    name = "post-run with music"
    print(f"{name}: {channels} channels, {rate} Hz, {bitrate}; warm export {warm['export']:.2f} s (segments cached)")
    print_encode_stage(name, floor, stage)


def print_encode_stage(name: str, floor: float, stage: float) -> None:
    """The encode stage against ffmpeg alone: wall, CPU, CPU spread over the cores, and the load meanwhile."""
    print(f"{name}: encoder alone (ffmpeg, same PCM, same settings): {floor:.2f} s")
    print(f"{name}: encode stage alone (coach's parallel chunks from the raw mix, header and tag written): {stage:.2f} s")
    print(f"{name}: encode stage / encoder alone: {stage / floor:.2f} x (target <= 0.6 x)")
    print(f"{name}: CPU seconds, encode stage (all processes) / encoder alone (least of each): {CPU['stage']:.2f} / {CPU['floor']:.2f} s")
    print(f"{name}: encode stage CPU spread over {os.cpu_count()} cores / encoder alone CPU: {CPU['stage'] / (os.cpu_count() or 1) / CPU['floor']:.2f} x (the wall ratio with the cores to itself)")
    print(f"{name}: load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def edit_one_cue(text: str, nth: int = 0, word: str = "slowly") -> str:
    """The routine with the `nth` plain `say:` line from its middle outwards changed (a word added)."""
    lines = text.splitlines()
    plain = [i for i, line in enumerate(lines) if line.strip().startswith(("- say: ", "say: ")) and not line.rstrip().endswith((">-", "'", '"'))]
    chosen = sorted(plain, key=lambda i: (abs(i - len(lines) // 2), i))[nth % len(plain)]
    lines[chosen] = lines[chosen].rstrip().rstrip(".") + f", {word}."
    return "\n".join(lines) + "\n"


EDITS = 6  # one-cue edits of post-run, each re-exported by the whole command


def bench_edit_command(scratch: Path, engine: str | None = None) -> None:
    """The whole `coach export` command after each of EDITS one-cue edits of post-run (each a new cue), against one
    ffmpeg pass over the same PCM, measured in turns; and how often an edit moved the program gain's step."""
    routine = scratch / "post-run-edits.yaml"
    original = sources.read(sources.resolve("post-run")).decode("utf-8")
    if engine is not None:  # the routine's own voice setting, as a user would write it
        original = original.replace("\nvoice:\n", f"\nvoice:\n  engine: {engine}\n", 1)
        assert f"engine: {engine}" in original
    routine.write_text(original, encoding="utf-8")
    cache = scratch / f"cache-edits-{engine or 'default'}"
    first = export_in_child(str(routine), scratch / "edits.mp3", cache)
    command = [sys.executable, "-m", "coach", "export", str(routine), "-o", str(scratch / "edits.mp3"), "--cache-dir", str(cache), "--json"]
    name = f"post-run one-cue edits ({engine or 'default voice'})"
    seconds, floors, gains, encoded = [], [], [first["gain_db"]], []
    for edit in range(EDITS):
        routine.write_text(edit_one_cue(original, edit, f"slowly {edit}"), encoding="utf-8")
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True, env=USER_ENVIRONMENT)
        seconds.append(time.perf_counter() - started)
        report = json.loads(done.stdout)
        gains.append(report["gain_db"])
        encoded.append(report["chunks"]["encoded"])
        floors.append(encoder_alone(Path(first["pcm"]), first["rate"], scratch / "edits-floor.mp3", repeats=1))
    floor = min(floors)
    flips = sum(1 for before, after in zip(gains, gains[1:]) if before != after)
    print(f"{name}: whole `coach export` command, median {sorted(seconds)[len(seconds) // 2]:.2f} s, best {min(seconds):.2f} s")
    print(f"{name}: one ffmpeg pass over the same PCM {floor:.2f} s (best of {EDITS}, in turns)")
    print(f"{name}: whole command / one pass: median {sorted(seconds)[len(seconds) // 2] / floor:.2f} x, best {min(seconds) / floor:.2f} x (target <= 0.2 x)")
    print(f"{name}: chunks encoded per edit {encoded}; the gain's step moved on {flips} of {EDITS} edits ({gains[0]:+.2f} dB first)")


def bench_edit(scratch: Path) -> None:
    """Post-run exported, one cue in its middle edited, exported again: what is encoded again, and what it costs."""
    from coach.speech.cache import ClipCache

    routine = scratch / "post-run-edit.yaml"
    routine.write_bytes(sources.read(sources.resolve("post-run")))
    cache = scratch / "cache-edit"
    before = export_in_child(str(routine), scratch / "before.mp3", cache)
    routine.write_text(edit_one_cue(routine.read_text(encoding="utf-8")), encoding="utf-8")
    after = export_in_child(str(routine), scratch / "after.mp3", cache)
    floor = encoder_alone(Path(after["pcm"]), after["rate"], scratch / "after-floor.mp3")
    # The encode stage alone: segments of the PCM before the edit stored, then the PCM after it encoded.
    stages = []
    for attempt in range(REPEATS):
        segments = ClipCache(scratch / f"segments-{attempt}")
        encode_stage(Path(before["pcm"]), before["rate"], before["edges"], scratch / "stage-before.mp3", segments)
        stages.append(encode_stage(Path(after["pcm"]), after["rate"], after["edges"], scratch / "stage-after.mp3", segments))
    seconds, report = min(stages, key=lambda pair: pair[0])
    encoded, reused = after["chunks"]
    print(f"post-run edit: gain {before['gain_db']:+.2f} dB before, {after['gain_db']:+.2f} dB after the edit")
    print(f"post-run edit: re-export encoded {encoded} chunks, reused {reused}")
    print(f"post-run edit: re-export encode stage alone: {seconds:.2f} s, {report.encoded} of {report.chunks} chunks encoded")
    print(f"post-run edit: encode stage / encoder alone: {seconds / floor:.2f} x (target <= 0.25 x)")
    print(f"post-run edit: CPU seconds, encode stage / encoder alone: {CPU['stage']:.2f} / {CPU['floor']:.2f} s")
    print(f"post-run edit: whole re-export (load, render the edited cue, mix, encode): {after['export']:.2f} s, {after['export'] / floor:.2f} x the encoder alone")


def bench(name: str, routine: str, scratch: Path) -> None:
    """Print the figures of one routine."""
    cache = scratch / f"cache-{name}"
    output = scratch / f"{name}.mp3"
    cold = export_in_child(routine, output, cache)
    warm = min((export_in_child(routine, output, cache) for _ in range(REPEATS)), key=lambda f: f["export"])
    floor, stage = encoder_and_stage(Path(warm["pcm"]), warm["rate"], warm["edges"], scratch, name)
    command = command_seconds(routine, output, cache)
    length = warm["duration"]
    print(f"{name}: session {length / 60:.1f} min, {warm['cues']} cues ({warm['distinct']} distinct)")
    print(f"{name}: cold export: {cold['export']:.2f} s ({cold['synthesized']} cues synthesized, loudness measured)")
    print(
        f"{name}: warm export: {warm['export']:.2f} s (load+render+schedule {warm['prepare']:.2f} s, "
        f"mix+encode {warm['mix_encode']:.2f} s)"
    )
    print(f"{name}: warm `coach export` command: {command:.2f} s (with interpreter start and imports)")
    print_encode_stage(name, floor, stage)
    print(f"{name}: warm export / encoder alone: {warm['export'] / floor:.2f} x")
    print(f"{name}: warm export / encode stage alone: {warm['export'] / stage:.2f} x (what loading and mixing add)")
    print(f"{name}: warm command / encoder alone: {command / floor:.2f} x")
    print(f"{name}: speed: {length / warm['export']:.0f} x real time")
    print(f"{name}: peak memory of the coach process: {warm['peak_mb']:.0f} MB (target < 300 MB)")


def main() -> int:
    """Bench every built-in routine and the synthetic hour."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", nargs=3, metavar=("ROUTINE", "OUTPUT", "CACHE"), help=argparse.SUPPRESS)
    parser.add_argument("--edits-only", action="store_true", help="only the one-cue edits of post-run")
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return 0
    if args.edits_only:
        with tempfile.TemporaryDirectory(prefix="coach-bench-edits-") as folder:
            bench_edit_command(Path(folder))
            bench_edit_command(Path(folder), engine="espeak")
        return 0
    with tempfile.TemporaryDirectory(prefix="coach-bench-export-") as folder:
        scratch = Path(folder)
        for name in sources.builtin_routines():
            bench(name, name, scratch)
        bench_edit(scratch)
        bench_edit_command(scratch)
        bench_edit_command(scratch, engine="espeak")  # the mix and encode without the neural voice's start-up
        synthetic = scratch / "synthetic-hour.yaml"
        synthetic.write_text(synthetic_routine(), encoding="utf-8")
        bench("synthetic-hour", str(synthetic), scratch)
        bench_music(scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
