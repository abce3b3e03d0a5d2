"""`coach export`: the session as one audio file (or one per exercise) with chapters, tags and a transcript."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from coach import session
from coach.cli.app import command, counted, print_json
from coach.cli.choice import cache_dir, checked_engine_name, chosen, concrete_level
from coach.cli.progress import SynthesisBar
from coach.clock import plan_time as clock
from coach.output.encode import FORMATS
from coach.errors import UsageError
from coach.routine.levels import level_slug
from coach.routine.model import Routine


# The formats `coach export` writes, as typer wants them: an Enum of their names.
Format = Enum("Format", {name: name for name in FORMATS}, type=str)  # type: ignore[misc]
_DEFAULT_BITRATES = ", ".join(f"{form.name} {form.default_bitrate}" for form in FORMATS.values() if form.default_bitrate)


@command("export")
def export(
    routine_arg: str = typer.Argument(..., metavar="ROUTINE", help="A routine file or built-in name."),
    output: Optional[str] = typer.Option(
        None,
        "--output",
        "-o",
        metavar="FILE",
        show_default="ROUTINE.FORMAT here",
        help="Where to write: a file, a folder (ROUTINE.FORMAT in it; missing folders are made), or - for stdout.",
    ),
    fmt: Optional[Format] = typer.Option(
        None,
        "--format",
        metavar="|".join(Format.__members__),
        case_sensitive=False,
        show_default="from FILE's extension, else mp3",
        help="Audio format.",
    ),
    bitrate: Optional[str] = typer.Option(
        None, "--bitrate", metavar="RATE", show_default=_DEFAULT_BITRATES, help="Encoder bitrate like 64k."
    ),
    split: bool = typer.Option(
        False, "--split", help="One file per exercise and an .m3u8 playlist; replaces this playlist's older split."
    ),
    transcript: bool = typer.Option(True, "--transcript/--no-transcript", help="Write a timed .lrc transcript beside it."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Processes to encode MP3 with (default: all cores)."),
    *,
    as_json, music, no_music, voice, rate, cache, engine, level, only, skip,  # coach.cli.app.SHARED_OPTIONS
) -> None:
    """Write the session as an audio file for a phone: a chapter per exercise, tags, cover art, a transcript."""
    from coach.output.encode import find_ffmpeg, output_format
    from coach.output.export import ExportOptions, checked_output, export_target
    from coach.audio.music import music_options

    whole = session.load(routine_arg)
    routine = chosen(whole, concrete_level(routine_arg, level), only, skip)
    target = export_target(output, _file_stem(routine_arg, whole, routine), fmt.value if fmt else None)
    if target.path is None:
        _check_standard_output(as_json, split)
    destination = target.path if target.path is not None else sys.stdout.buffer
    settings = session.checked_settings(routine, voice, rate, checked_engine_name(engine))
    bed = music_options(routine, cache_dir(cache), music, no_music)
    options = ExportOptions(format=target.format, bitrate=bitrate, split=split, transcript=transcript, music=bed, jobs=jobs)
    checked_output(destination, options)  # before rendering speech, like the encoder: a bad -o or --bitrate
    find_ffmpeg()  # before rendering speech: a missing encoder should not cost a wait
    with SynthesisBar() as bar:
        prepared = session.prepare(routine, settings, cache_dir(cache), on_progress=bar)
    result = prepared.export(destination, options, on_progress=_ProgressLine() if sys.stderr.isatty() and not as_json else None)
    report = prepared.report
    if as_json:
        print_json(
            {
                "output": str(result.output),
                "format": result.format,
                "duration": round(result.duration, 3),
                "cues": len(report.clips),
                "synthesized": len(report.synthesized),
                "reused": len(report.reused),
                "chapters": [
                    {"title": c.title, "start": round(c.start_ms / 1000, 3), "end": round(c.end_ms / 1000, 3)}
                    for c in result.chapters
                ],
                "files": [str(path) for path in result.files],
                "created_folders": [str(path) for path in result.created_folders],
                "removed": [str(path) for path in result.removed],
                "target_lufs": result.target_lufs,
                "chunks": {"encoded": result.chunks_encoded, "reused": result.chunks_reused},
                "gain_db": round(result.gain_db, 2),
                "music": str(bed.source) if bed else None,
                "channels": result.channels,
                "sample_rate": result.sample_rate,
                "bitrate": result.bitrate,
            }
        )
        return
    lines = [f"created folder {folder}" for folder in result.created_folders]
    # A WAV carries no chapters: say so only for formats that do.
    chapters = f"{counted(len(result.chapters), 'chapter')}; " if output_format(result.format).chapters != "none" else ""
    lines.append(
        f"{result.output or 'standard output'}  {clock(round(result.duration * 1000), tenths=False)}  "
        f"({chapters}{counted(len(report.clips), 'cue')}: "
        f"{len(report.synthesized)} synthesized, {len(report.reused)} reused; "
        f"speech {result.gain_db:+.1f} dB to {result.target_lufs:g} LUFS"
        + (f"; music from {bed.source}, {'stereo' if result.channels == 2 else 'mono'} {result.bitrate or ''})" if bed else ")")
    )
    if chapters:
        lines += [f"  {clock(c.start_ms, tenths=False):>7}  {c.title}" for c in result.chapters]
    others = [path for path in result.files if path != result.output]
    if split and others:
        lines.append(f"also wrote {counted(len(others), 'file')} beside it, as the playlist lists them")
    elif others:
        lines.append("also wrote: " + ", ".join(str(path) for path in others))
    if result.removed:
        lines.append(f"removed the older split's {counted(len(result.removed), 'file')}: " + ", ".join(path.name for path in result.removed))
    report_to = sys.stderr if target.path is None else sys.stdout  # with `-o -` standard output carries the audio
    report_to.write("\n".join(lines) + "\n")


def _check_standard_output(as_json: bool, split: bool) -> None:
    """`-o -` needs standard output for one track alone, and not a terminal."""
    if split:
        raise UsageError("--split writes several files: give -o a folder or a file name, not -")
    if as_json:
        raise UsageError("--json and -o - both use standard output: give -o a file, or leave out --json")
    if sys.stdout.isatty():
        raise UsageError("-o - writes audio to standard output, which is a terminal: redirect it (> file.mp3) or pipe it")


def _file_stem(routine_arg: str, whole: Routine, routine: Routine) -> str:
    """The default file name's stem: the routine's name, its level when it has ranges, and the exercises kept
    when --only or --skip left some out ('post-run-easy', 'post-run-easy-exercises-4-5'), so that no
    export overwrites another kind of session's track."""
    stem = Path(routine_arg).stem
    if routine.level is not None:
        stem += f"-{level_slug(routine.level)}"
    kept = {exercise.where for exercise in routine.exercises}
    if len(kept) < len(whole.exercises):
        numbers = [str(index + 1) for index, exercise in enumerate(whole.exercises) if exercise.where in kept]
        stem += "-exercises-" + "-".join(numbers)
    return stem


class _ProgressLine:
    """`exporting 42%` on stderr, rewritten in place, cleared at the end."""

    def __init__(self) -> None:
        self._shown = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // max(total, 1)
        if percent != self._shown:
            self._shown = percent
            sys.stderr.write(f"exporting {percent:3d}%\r" if done < total else "\r\x1b[K")
            sys.stderr.flush()
