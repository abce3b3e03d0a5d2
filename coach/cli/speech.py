"""Commands about speech: render a routine's cues into the cache, list voices, and look after the cache."""

from __future__ import annotations

import sys
import time
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from coach import session
from coach.speech.cache import ClipCache
from coach.cli.app import command, counted, print_json, warn
from coach.cli.choice import cache_dir, checked_engine_name
from coach.cli.progress import SynthesisBar
from coach.errors import SpeechError, UsageError
from coach.speech import SpeechEngine, default_engine_name, fallback_engine_name, get_engine

JobsOption = typer.Option(
    None, "--jobs", "-j", metavar="N", min=1, show_default="all cores", help="Processes to synthesize with."
)


@command("render")
def render_command(
    routine_arg: str = typer.Argument(..., metavar="ROUTINE", help="A routine file or built-in name."),
    *,
    as_json, voice, rate, cache,  # coach.cli.app.SHARED_OPTIONS
    jobs: Optional[int] = JobsOption,
    engine, level, only, skip,
) -> None:
    """Synthesize the cues the cache lacks; report how many were synthesized and reused."""
    from coach.cli.choice import chosen, concrete_level

    # The session `play` or `export` with the same options will speak: they start warm after it.
    routine = chosen(session.load(routine_arg), concrete_level(routine_arg, level), only, skip)
    settings = session.checked_settings(routine, voice, rate, checked_engine_name(engine))
    directory = cache_dir(cache)
    started = time.perf_counter()
    with SynthesisBar() as bar:
        prepared = session.prepare(routine, settings, directory, jobs=jobs, on_progress=bar)
    # Measured now and stored, so the first `coach play` after a render starts at once instead of measuring it.
    from coach.audio.loudness import CEILING_DBTP

    prepared.program_gain(prepared.clip_arrays(), CEILING_DBTP)
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
        None, "--language", "-l", metavar="CODE", help="Only voices for this language (en, en-us, fr...)."
    ),
    engine: Optional[str] = typer.Option(
        None, "--engine", metavar="NAME", help="Only this engine's voices (espeak, hibari, piper, pyttsx3)."
    ),
    *,
    as_json,  # coach.cli.app.SHARED_OPTIONS
) -> None:
    """List the speech voices of every engine here: the ids to use as `voice.name` in a routine or with --voice."""
    engines: list[SpeechEngine] = []
    missing: list[SpeechError] = []
    for name in [checked_engine_name(engine)] if engine else _engines_here():
        try:
            engines.append(get_engine(name))
        except SpeechError as error:
            missing.append(error)
    if not engines:
        raise missing[0]
    listed = [(speech, voice) for speech in engines for voice in speech.voices(language)]
    if not listed:
        raise UsageError(f"no voice speaks '{language}'; try a shorter language code (e.g. 'en'), or no --language")
    if as_json:
        default = engines[0]
        print_json(
            {
                "engine": default.name,
                "engine_version": default.version,
                "default": default.default_voice,
                "engines": [
                    {"name": speech.name, "version": speech.version, "default": speech.default_voice} for speech in engines
                ],
                "voices": [
                    {"id": v.id, "name": v.name, "languages": list(v.languages), "engine": speech.name}
                    for speech, v in listed
                ],
            }
        )
        return
    for error in missing:
        warn(f"coach: {error}")
    languages = {(speech.name, voice.id): ", ".join(voice.languages) for speech, voice in listed}
    engine_width = max(len("engine"), *(len(speech.name) for speech in engines)) + 2
    id_width = max(len(voice.id) for _, voice in listed) + 2
    language_width = max(len("languages"), *map(len, languages.values())) + 2
    lines = [f"  {'engine':<{engine_width}}{'id':<{id_width}}{'languages':<{language_width}}name"]
    for speech, voice in listed:
        marker = "*" if voice.id == speech.default_voice else " "
        spoken = languages[(speech.name, voice.id)]
        lines.append(f"{marker} {speech.name:<{engine_width}}{voice.id:<{id_width}}{spoken:<{language_width}}{voice.name}")
    builds = ", ".join(f"{speech.name} {speech.version}" for speech in engines)
    lines.append(f"{counted(len(listed), 'voice')} ({builds}); * each engine's default; choose the engine with --engine or voice.engine")
    sys.stdout.write("\n".join(lines) + "\n")


def _engines_here() -> list[str]:
    """The engines `coach voices` lists by default: the default first, then the platform's own, then piper."""
    return list(dict.fromkeys([default_engine_name(), fallback_engine_name(), "piper"]))


class CacheAction(str, Enum):
    """What `coach cache` does."""

    stats = "stats"
    prune = "prune"
    clear = "clear"


@command("cache")
def cache_command(
    action: CacheAction = typer.Argument(
        ..., metavar="ACTION", help="stats (count and size), prune (remove unneeded clips) or clear (remove all)."
    ),
    routines: Optional[List[str]] = typer.Argument(
        None, metavar="ROUTINE", help="prune: keep only the clips these routines use."
    ),
    older_than: Optional[float] = typer.Option(
        None, "--older-than", metavar="DAYS", min=0, help="prune: remove clips unused for DAYS days."
    ),
    *,
    voice, rate, engine, cache, as_json,  # coach.cli.app.SHARED_OPTIONS
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
        keep = _keys_for(routines, voice, rate, engine, directory) if routines else None
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


def _keys_for(
    routines: List[str], voice: Optional[str], rate: Optional[int], engine: Optional[str], directory: Path
) -> set[str]:
    """The keys of every clip the routines speak with their settings that the cache holds (a prune adds nothing)."""
    keys: set[str] = set()
    for argument in routines:
        routine = session.load(argument)
        settings = session.checked_settings(routine, voice, rate, checked_engine_name(engine))
        keys |= session.cached_keys(routine, settings, directory)
    return keys


def megabytes(size: int) -> str:
    """A byte count for people: '3.4 MB'."""
    return f"{size / 1_000_000:.1f} MB"


def minutes(seconds: float) -> str:
    """A length for people: '5 min 12 s'."""
    whole = round(seconds)
    return f"{whole // 60} min {whole % 60} s" if whole >= 60 else f"{whole} s"
