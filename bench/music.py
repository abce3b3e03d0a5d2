"""Music bed benchmark: warm export of post-run with a stereo bed, without one, and ffmpeg alone on the same stereo PCM;
peak memory of a 60-minute session with a stereo bed; first sound of a warm `coach play` with music.

Run: .venv/bin/python bench/music.py    (prints `name: value` lines)

The music is made here by ffmpeg (stereo pink noise under two tones, 48 kHz MP3, so it is resampled once to
44.1 kHz when decoded). Each export runs in a fresh child process, so its peak memory (VmHWM, see memory.peak_mb) is its own.
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

from coach import session  # noqa: E402
from memory import peak_mb  # noqa: E402  (bench/memory.py, beside this file)
from routines import synthetic_routine  # noqa: E402  (bench/routines.py)
from play import first_sound_seconds  # noqa: E402  (bench/play.py)
from starts import USER_ENVIRONMENT  # noqa: E402  (bench/starts.py)

REPEATS = 3
MUSIC_MINUTES = 10  # one file, looped six times under the synthetic hour


def make_music(path: Path, minutes: float) -> Path:
    """A stereo MP3 of `minutes`: pink noise, different left and right, under two tones."""
    seconds = round(minutes * 60)
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
    command += ["-f", "lavfi", "-i", f"anoisesrc=d={seconds}:c=pink:a=0.3:seed=1"]
    command += ["-f", "lavfi", "-i", f"anoisesrc=d={seconds}:c=pink:a=0.3:seed=2"]
    command += ["-f", "lavfi", "-i", f"sine=frequency=220:duration={seconds}"]
    command += ["-filter_complex", "[0][2]amix=inputs=2[l];[1][2]amix=inputs=2[r];[l][r]amerge=inputs=2"]
    command += ["-ar", "48000", "-b:a", "192k", str(path)]
    subprocess.run(command, check=True)
    return path


def export_in_child(routine: str, output: Path, cache: Path, music: Path | None) -> dict:
    """One export in a fresh interpreter: its timings and peak memory."""
    command = [sys.executable, __file__, "--child", routine, str(output), str(cache), str(music or "")]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=USER_ENVIRONMENT)
    if result.returncode:
        raise RuntimeError(f"export of {routine} failed: {result.stderr.strip().splitlines()[-3:]}")
    return json.loads(result.stdout)


def child(routine_arg: str, output: Path, cache: Path, music_path: str) -> None:
    """The child's side: export in-process as `coach export` does, print its figures, and write the mix as raw PCM for ffmpeg alone."""
    from coach.output.encode import FORMATS
    from coach.output.export import ExportOptions
    from coach.audio.music import MusicOptions

    started = time.perf_counter()
    routine = session.load(routine_arg)
    prepared = session.prepare(routine, session.speech_settings(routine), cache)
    music = MusicOptions(Path(music_path), cache) if music_path else None
    result = prepared.export(output, ExportOptions(music=music))  # as `coach export` does
    done = time.perf_counter()
    figures = {
        "export": done - started,
        "cpu": cpu_seconds(resource.RUSAGE_SELF) + cpu_seconds(resource.RUSAGE_CHILDREN),  # with ffmpeg, a child
        "duration": result.duration,
        "channels": result.channels,
        "rate": result.sample_rate,
        "bitrate": result.bitrate,
        "peak_mb": peak_mb(),
        "edges": [round(c.start_ms * result.sample_rate / 1000) for c in prepared.timeline.chapters],  # for bench/export.py
    }
    pcm = output.with_suffix(".s16le")
    clips = prepared.clip_arrays()
    write_mix(prepared, clips, prepared.program_gain(clips, FORMATS["mp3"].ceiling_dbtp), music, pcm)
    figures["pcm"] = str(pcm)
    print(json.dumps(figures))


def write_mix(prepared, clips, gain: float, music, path: Path) -> None:
    """The same mix the export encoded, as raw s16le (interleaved when stereo), for timing the encoder alone."""
    from coach.output.encode import FORMATS, pcm_s16le
    from coach.output.export import BLOCK_SECONDS, MUSIC_RATE
    from coach.audio.mixer import Mixer
    from coach.audio.music import load_bed

    ceiling = FORMATS["mp3"].ceiling_dbtp
    if music is None:
        mixer = Mixer(prepared.timeline, clips, prepared.clip_rate, gain=gain, ceiling_dbtp=ceiling)
    else:
        bed = load_bed(music, prepared.timeline, MUSIC_RATE)
        mixer = Mixer(prepared.timeline, clips, prepared.clip_rate, MUSIC_RATE, gain=gain, ceiling_dbtp=ceiling, bed=bed)
    step = round(BLOCK_SECONDS * mixer.sample_rate)
    with open(path, "wb") as file:
        for position in range(0, mixer.total_frames, step):
            file.write(pcm_s16le(mixer.render(position, min(step, mixer.total_frames - position))))


def cpu_seconds(who: int) -> float:
    """User and system CPU seconds of this process or of its finished children."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def encoder_alone(figures: dict, output: Path) -> tuple[float, float]:
    """Seconds, and CPU seconds, for ffmpeg to encode the raw mix with the export's MP3 settings (same rate, channels, bitrate)."""
    from coach.output.encode import FORMATS, find_ffmpeg

    fmt, channels = FORMATS["mp3"], str(figures["channels"])
    command = [find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "s16le", "-ar", str(figures["rate"])]
    command += ["-ac", channels, "-i", figures["pcm"], *fmt.codec, "-ac", channels, "-b:a", figures["bitrate"], str(output)]
    started, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True)
    return time.perf_counter() - started, cpu_seconds(resource.RUSAGE_CHILDREN) - cpu


def main() -> int:
    """Print the music figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", nargs=4, metavar=("ROUTINE", "OUTPUT", "CACHE", "MUSIC"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]), args.child[3])
        return 0
    with tempfile.TemporaryDirectory(prefix="coach-bench-music-") as folder:
        scratch = Path(folder)
        cache = scratch / "cache"
        song = make_music(scratch / "song.mp3", MUSIC_MINUTES)
        print(f"music: {MUSIC_MINUTES} min stereo MP3, 48 kHz 192k (ffmpeg-made noise and tones), looped as needed")

        cold = export_in_child("post-run", scratch / "cold.mp3", cache, song)
        # Interleaved, best of each: the machine is shared, so each figure gets the same chances of a quiet moment.
        runs = []
        for _ in range(REPEATS):
            with_bed = export_in_child("post-run", scratch / "bed.mp3", cache, song)
            runs.append((with_bed, export_in_child("post-run", scratch / "plain.mp3", cache, None)))
            runs[-1] += (encoder_alone(with_bed, scratch / "floor.mp3"),)
        with_bed = min((run[0] for run in runs), key=lambda f: f["export"])
        without = min((run[1] for run in runs), key=lambda f: f["export"])
        floor = min(run[2][0] for run in runs)
        floor_cpu = min(run[2][1] for run in runs)
        bed_cpu, plain_cpu = min(run[0]["cpu"] for run in runs), min(run[1]["cpu"] for run in runs)
        print(f"post-run: session {with_bed['duration'] / 60:.1f} min")
        print(f"post-run: cold export with music (decoding and measuring the music): {cold['export']:.2f} s")
        print(f"post-run: peak memory of that first export (speech synthesized, music decoded): {cold['peak_mb']:.0f} MB (target <= 400 MB)")
        print(
            f"post-run: warm export with music: {with_bed['export']:.2f} s "
            f"({with_bed['channels']} channels, {with_bed['rate']} Hz, {with_bed['bitrate']})"
        )
        print(f"post-run: warm export without music: {without['export']:.2f} s (mono, {without['rate']} Hz, {without['bitrate']})")
        print(f"post-run: ffmpeg alone on the same stereo PCM, same settings: {floor:.2f} s")
        print(f"post-run: warm export with music / ffmpeg alone: {with_bed['export'] / floor:.2f} x")
        print(f"post-run: warm export with music / without: {with_bed['export'] / without['export']:.2f} x")
        # CPU seconds (coach and its ffmpeg) depend far less on what else the machine runs than wall time does.
        print(f"post-run: CPU time: export with music {bed_cpu:.2f} s, without {plain_cpu:.2f} s, ffmpeg alone {floor_cpu:.2f} s")
        print(f"post-run: CPU time, export with music / ffmpeg alone: {bed_cpu / floor_cpu:.2f} x")
        print(f"post-run: peak memory with music: {with_bed['peak_mb']:.0f} MB, without: {without['peak_mb']:.0f} MB")

        hour = scratch / "synthetic-hour.yaml"
        hour.write_text(synthetic_routine(), encoding="utf-8")
        cold_hour = export_in_child(str(hour), scratch / "hour.mp3", cache, song)
        warm_hour = export_in_child(str(hour), scratch / "hour.mp3", cache, song)
        print(f"synthetic-hour: session {warm_hour['duration'] / 60:.1f} min with the stereo bed")
        print(f"synthetic-hour: peak memory, warm export: {warm_hour['peak_mb']:.0f} MB (target < 400 MB)")
        print(f"synthetic-hour: peak memory, first export (speech rendered, music decoded): {cold_hour['peak_mb']:.0f} MB")
        print(f"synthetic-hour: warm export: {warm_hour['export']:.2f} s")

        with_music = ("--music", str(song))
        starts = [(first_sound_seconds("post-run", cache, extra=with_music), first_sound_seconds("post-run", cache)) for _ in range(REPEATS)]
        print(f"post-run.time_to_first_sound_with_music_s (warm cache, best of {REPEATS}): {min(s[0] for s in starts):.3f}")
        print(f"post-run.time_to_first_sound_without_music_s (same runs, interleaved): {min(s[1] for s in starts):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
