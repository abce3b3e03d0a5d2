"""The pipeline from a ROUTINE argument to a timeline with its rendered clips: what every audio command starts with."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from coach import sources
from coach.cache import ClipCache
from coach.compiler import compile_routine, intro_text
from coach.cues import CueScript, spoken_texts
from coach.loader import parse_routine
from coach.model import Routine
from coach.render import RenderReport, render
from coach.scheduler import schedule
from coach.speech import SpeechSettings
from coach.timeline import Timeline


@dataclass(frozen=True)
class Prepared:
    """A routine ready to mix: its script, its timeline, and the clips every cue needs."""

    routine: Routine
    settings: SpeechSettings
    script: CueScript
    timeline: Timeline
    report: RenderReport

    @property
    def clip_rate(self) -> int:
        """The sample rate of the rendered clips."""
        rates = {clip.sample_rate for clip in self.report.clips.values()}
        return max(rates) if rates else 22050

    def clip_arrays(self) -> dict[str, np.ndarray]:
        """Every cue text mapped to its samples (int16 mono at clip_rate)."""
        return {text: clip.read() for text, clip in self.report.clips.items()}


def load(argument: str) -> Routine:
    """Load and validate the routine a ROUTINE argument names (path or built-in)."""
    path = sources.resolve(argument)
    return parse_routine(sources.read(path), sources.display_name(path))


def speech_settings(routine: Routine, voice: str | None = None, rate: int | None = None) -> SpeechSettings:
    """The voice and rate in force: command-line options over the routine's own."""
    return SpeechSettings(voice=voice or routine.voice.name, rate=rate or routine.voice.rate)


def prepare(
    routine: Routine,
    settings: SpeechSettings,
    cache_dir: Path,
    jobs: int | None = None,
    progress: bool = False,
    engine: str = "auto",
) -> Prepared:
    """Compile, render what the cache lacks, and schedule, with the intro saying the true length in minutes."""
    cache = ClipCache(cache_dir)
    script = compile_routine(routine)
    intro = intro_text(script)
    # Everything but the intro first: its "about N minutes" is only known once the rest is timed.
    body = [text for text in spoken_texts(script) if text != intro]
    body_report = render(body, settings, cache, engine=engine, jobs=jobs, progress=progress)
    lengths = {text: clip.seconds for text, clip in body_report.clips.items()}
    minutes = _minutes(schedule(script, {**lengths, intro: 0.0}).duration_ms)
    for _attempt in range(2):
        script = compile_routine(routine, minutes=minutes)
        intro_report = render([intro_text(script)], settings, cache, engine=engine)
        report = _merge(body_report, intro_report)
        timeline = _schedule(script, report, routine)
        if _minutes(timeline.duration_ms) == minutes:
            break
        minutes = _minutes(timeline.duration_ms)  # the intro itself tipped the rounding
    return Prepared(routine, settings, script, timeline, report)


def cue_texts(routine: Routine, settings: SpeechSettings, cache_dir: Path | None = None) -> list[str]:
    """Every text the routine speaks with these settings (with a cache: exactly as `prepare` renders them)."""
    if cache_dir is None:
        return spoken_texts(compile_routine(routine))
    return spoken_texts(prepare(routine, settings, cache_dir).script)


def _schedule(script: CueScript, report: RenderReport, routine: Routine) -> Timeline:
    seconds = {text: clip.seconds for text, clip in report.clips.items()}
    return schedule(script, seconds, title=routine.title)


def _minutes(duration_ms: int) -> int:
    return max(1, round(duration_ms / 60_000))


def _merge(body: RenderReport, intro: RenderReport) -> RenderReport:
    """One report for the body and the intro render (the intro's clip first, as it is spoken first)."""
    clips = {**intro.clips, **{text: clip for text, clip in body.clips.items() if text not in intro.clips}}
    synthesized = list(dict.fromkeys(intro.synthesized + body.synthesized))
    reused = [text for text in clips if text not in synthesized]
    return replace(body, clips=clips, synthesized=synthesized, reused=reused)
