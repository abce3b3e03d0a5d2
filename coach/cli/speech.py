"""Commands about speech: render a routine's cues into the cache, list voices, and look after the cache."""

from __future__ import annotations

import sys
import time
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from coach import session
from coach.cache import ClipCache
from coach.cli.app import CacheDirOption, JsonOption, RateOption, VoiceOption, cache_dir, command, counted, print_json
from coach.errors import UsageError
from coach.speech import get_engine

JobsOption = typer.Option(None, "--jobs", "-j", min=1, help="Processes to synthesize with (default: all cores).")


@command("render")
def render_command(
    routine_arg: str = typer.Argument(..., metavar="ROUTINE", help="A routine file or built-in name."),
    as_json: bool = JsonOption,
    voice: Optional[str] = VoiceOption,
    rate: Optional[int] = RateOption,
    cache: Optional[Path] = CacheDirOption,
    jobs: Optional[int] = JobsOption,
) -> None:
    """Synthesize the cues the cache lacks; report how many were synthesized and reused."""
    routine = session.load(routine_arg)
    settings = session.checked_settings(routine, voice, rate)
    directory = cache_dir(cache)
    started = time.perf_counter()
    prepared = session.prepare(routine, settings, directory, jobs=jobs, progress=sys.stderr.isatty())
    elapsed = time.perf_counter() - started
    report = prepared.report
    if as_json:
        print_json(
            {
                "routine": routine.source,
                "title": routine.title,
                "cues": len(report.clips),
                "synthesized": len(report.synthesized),
                "reused": len(report.reused),
                "synthesized_texts": report.synthesized,
                "speech_seconds": round(sum(clip.seconds for clip in report.clips.values()), 3),
                "engine": report.engine,
                "engine_version": report.version,
                "voice": report.voice,
                "rate": report.rate,
                "cache_dir": str(directory),
                "seconds": round(elapsed, 3),
            }
        )
        return
    sys.stdout.write(
        f"{routine.title}: {counted(len(report.clips), 'cue')}, {len(report.synthesized)} synthesized, "
        f"{len(report.reused)} reused in {elapsed:.1f} s "
        f"({report.engine} {report.version}, voice {report.voice}, {report.rate} wpm; cache {directory})\n"
    )


@command("voices")
def voices_command(
    language: Optional[str] = typer.Option(
        None, "--language", "-l", help="Only voices for this language (en, en-us, fr...)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """List the speech voices: the ids to use as `voice.name` in a routine or with --voice."""
    engine = get_engine()
    voices = engine.voices(language)
    if not voices:
        raise UsageError(f"no voice speaks '{language}'; try a shorter language code (e.g. 'en'), or no --language")
    if as_json:
        print_json(
            {
                "engine": engine.name,
                "engine_version": engine.version,
                "default": engine.default_voice,
                "voices": [{"id": v.id, "name": v.name, "languages": list(v.languages)} for v in voices],
            }
        )
        return
    languages = {voice.id: ", ".join(voice.languages) for voice in voices}
    id_width = max(len(voice.id) for voice in voices) + 2
    language_width = max(len("languages"), *map(len, languages.values())) + 2
    lines = [f"  {'id':<{id_width}}{'languages':<{language_width}}name"]
    for voice in voices:
        marker = "*" if voice.id == engine.default_voice else " "
        lines.append(f"{marker} {voice.id:<{id_width}}{languages[voice.id]:<{language_width}}{voice.name}")
    lines.append(f"{counted(len(voices), 'voice')} ({engine.name} {engine.version}); * the default")
    sys.stdout.write("\n".join(lines) + "\n")


class CacheAction(str, Enum):
    """What `coach cache` does."""

    stats = "stats"
    prune = "prune"
    clear = "clear"


@command("cache")
def cache_command(
    action: CacheAction = typer.Argument(
        ..., help="stats: count and size; prune: remove unneeded clips; clear: remove all."
    ),
    routines: Optional[List[str]] = typer.Argument(
        None, metavar="ROUTINE", help="prune: keep only the clips these routines use."
    ),
    older_than: Optional[float] = typer.Option(
        None, "--older-than", metavar="DAYS", min=0, help="prune: remove clips unused for DAYS days."
    ),
    voice: Optional[str] = VoiceOption,
    rate: Optional[int] = RateOption,
    cache: Optional[Path] = CacheDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Look after the speech cache: `stats`, `prune ROUTINE...` / `prune --older-than DAYS`, `clear`."""
    directory = cache_dir(cache)
    clips = ClipCache(directory)
    if action is not CacheAction.prune and (routines or older_than is not None):
        raise UsageError(f"`coach cache {action.value}` takes no ROUTINE or --older-than (those are for prune)")
    if action is CacheAction.stats:
        stats = clips.stats()
        if as_json:
            print_json(
                {
                    "directory": str(directory),
                    "clips": stats.clips,
                    "bytes": stats.bytes,
                    "seconds": round(stats.seconds, 3),
                    "damaged": stats.damaged,
                    "temporary": stats.temporary,
                }
            )
            return
        extra = "".join(
            f", {count} {what}" for count, what in ((stats.damaged, "damaged"), (stats.temporary, "temporary")) if count
        )
        sys.stdout.write(
            f"{directory}: {counted(stats.clips, 'clip')}, {megabytes(stats.bytes)}, "
            f"{minutes(stats.seconds)} of speech{extra}\n"
        )
        return
    if action is CacheAction.clear:
        result = clips.clear()
    else:
        if not routines and older_than is None:
            raise UsageError("`coach cache prune` needs ROUTINE... (keep what they use) or --older-than DAYS")
        keep = _keys_for(routines, voice, rate, directory) if routines else None
        result = clips.prune(keep=keep, unused_days=older_than)
    if as_json:
        print_json(
            {
                "directory": str(directory),
                "removed": result.removed,
                "freed_bytes": result.freed_bytes,
                "kept": result.kept,
            }
        )
        return
    freed = megabytes(result.freed_bytes)
    sys.stdout.write(f"{directory}: removed {counted(result.removed, 'clip')} ({freed}), kept {result.kept}\n")


def _keys_for(routines: List[str], voice: Optional[str], rate: Optional[int], directory: Path) -> set[str]:
    """The keys of every clip the routines speak with their settings that the cache holds (a prune adds nothing)."""
    keys: set[str] = set()
    for argument in routines:
        routine = session.load(argument)
        settings = session.checked_settings(routine, voice, rate)
        keys |= session.cached_keys(routine, settings, directory)
    return keys


def megabytes(size: int) -> str:
    """A byte count for people: '3.4 MB'."""
    return f"{size / 1_000_000:.1f} MB"


def minutes(seconds: float) -> str:
    """A length for people: '5 min 12 s'."""
    whole = round(seconds)
    return f"{whole // 60} min {whole % 60} s" if whole >= 60 else f"{whole} s"
