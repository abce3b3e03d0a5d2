"""`coach export`: the session as one audio file (or one per exercise) with chapters, tags and a transcript."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from coach import session
from coach.cli.app import (
    CacheDirOption,
    EngineOption,
    JsonOption,
    RateOption,
    VoiceOption,
    cache_dir,
    checked_engine_name,
    command,
    counted,
    print_json,
)
from coach.cli.progress import SynthesisBar
from coach.cli.routines import clock
from coach.errors import UsageError


class Format(str, Enum):
    """Output formats `coach export` writes."""

    mp3 = "mp3"
    m4a = "m4a"
    ogg = "ogg"
    wav = "wav"


@command("export")
def export(
    routine_arg: str = typer.Argument(..., metavar="ROUTINE", help="A routine file or built-in name."),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Where to write [default: <routine name>.<format> here]."
    ),
    fmt: Optional[Format] = typer.Option(
        None, "--format", case_sensitive=False, help="Audio format [default: from FILE's extension, else mp3]."
    ),
    bitrate: Optional[str] = typer.Option(
        None, "--bitrate", metavar="RATE", help="Encoder bitrate like 64k [default: mp3/m4a 64k, ogg 80k]."
    ),
    split: bool = typer.Option(False, "--split", help="One file per exercise, and an .m3u8 playlist of them."),
    transcript: bool = typer.Option(True, "--transcript/--no-transcript", help="Write a timed .lrc transcript beside it."),
    as_json: bool = JsonOption,
    voice: Optional[str] = VoiceOption,
    rate: Optional[int] = RateOption,
    cache: Optional[Path] = CacheDirOption,
    engine: Optional[str] = EngineOption,
) -> None:
    """Write the session as an audio file for a phone: a chapter per exercise, tags, cover art, a transcript."""
    from coach.encode import find_ffmpeg, output_format  # the encoder stack loads only for the command that encodes
    from coach.export import ExportOptions, checked_output

    name = _format_name(fmt, output)
    target = output if output is not None else Path(f"{Path(routine_arg).stem}.{name}")
    routine = session.load(routine_arg)
    settings = session.checked_settings(routine, voice, rate, checked_engine_name(engine))
    checked_output(target, name, bitrate)  # before rendering speech, like the encoder: a bad -o or --bitrate
    find_ffmpeg()  # before rendering speech: a missing encoder should not cost a wait
    with SynthesisBar() as bar:
        prepared = session.prepare(routine, settings, cache_dir(cache), on_progress=bar)
    options = ExportOptions(format=name, bitrate=bitrate, split=split, transcript=transcript)
    result = prepared.export(target, options, on_progress=_ProgressLine() if sys.stderr.isatty() and not as_json else None)
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
                "target_lufs": result.target_lufs,
                "gain_db": round(result.gain_db, 2),
            }
        )
        return
    # A WAV carries no chapters: say so only for formats that do.
    chapters = f"{counted(len(result.chapters), 'chapter')}; " if output_format(name).chapters != "none" else ""
    lines = [
        f"{result.output}  {clock(round(result.duration * 1000), tenths=False)}  "
        f"({chapters}{counted(len(report.clips), 'cue')}: "
        f"{len(report.synthesized)} synthesized, {len(report.reused)} reused; "
        f"speech {result.gain_db:+.1f} dB to {result.target_lufs:g} LUFS)"
    ]
    if chapters:
        lines += [f"  {clock(c.start_ms, tenths=False):>7}  {c.title}" for c in result.chapters]
    others = [path for path in result.files if path != result.output]
    if others:
        lines.append("also wrote: " + ", ".join(str(path) for path in others))
    sys.stdout.write("\n".join(lines) + "\n")


def _format_name(fmt: Optional[Format], output: Optional[Path]) -> str:
    """The format asked for, else the one output's extension names, else mp3."""
    from_name = output.suffix.lower().lstrip(".") if output is not None else ""
    if fmt is not None:
        return fmt.value
    if from_name in Format.__members__:
        return from_name
    if from_name:
        raise UsageError(f"cannot tell the format from {output.name}: add --format mp3|m4a|ogg|wav")
    return Format.mp3.value


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
