"""The pipeline from a ROUTINE argument to a timeline with its rendered clips: what every audio command starts with."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Mapping

import numpy as np

from coach.routine import sources
from coach.speech.cache import ClipCache, ClipRef
from coach.timeline.compiler import MAX_SESSION_SECONDS, compile_routine, intro_text
from coach.timeline.cues import CueScript, Speak, spoken_texts
from coach.errors import Diagnostic, RoutineError, SpeechError, UnspeakableText, UsageError
from coach.routine.levels import level_title
from coach.routine.loader import parse_routine
from coach.audio.loudness import GAIN_ALGORITHM, TARGET_LUFS, cue_uses
from coach.routine.model import Routine
from coach.speech.pronounce import Pronouncer
from coach.speech.render import RenderProgress, RenderReport, render
from coach.timeline.scheduler import schedule
from coach.speech import SpeechSettings, default_engine_name, get_engine
from coach.speech.registry import engine_for_voice, unknown_to_auto
from coach.speech.engine import SpeechEngine, VoiceInfo, normalize_text
from coach.timeline.timeline import Timeline

if TYPE_CHECKING:  # the encoder and player stacks load only for the command that uses them
    from coach.output.export import ExportOptions, ExportResult, Progress
    from coach.audio.music import MusicOptions
    from coach.audio.player import Player


@dataclass(frozen=True)
class Prepared:
    """A routine ready to mix: its script, its timeline, and the clips every cue needs."""

    routine: Routine
    settings: SpeechSettings
    script: CueScript
    timeline: Timeline
    report: RenderReport
    cache: ClipCache

    @property
    def clip_rate(self) -> int:
        """The sample rate of the rendered clips."""
        return _clip_rate(self.report)

    def clip_arrays(self) -> "Clips":
        """Every cue text mapped to its samples (int16 mono at clip_rate), each read when first asked for."""
        return Clips(self.report.clips)

    def program_gain(self, clips: Mapping[str, np.ndarray], ceiling_dbtp: float) -> float:
        """The gain that brings this session's speech to the loudness target under `ceiling_dbtp`: from the cache, else measured and stored."""
        key = self.gain_key(ceiling_dbtp)
        found = self.cache.gain(key)
        if found is None:
            from coach.audio.loudness import program_gain

            found = program_gain(clips, self.clip_rate, self.timeline, ceiling_dbtp=ceiling_dbtp, store=self.cache, clip_keys=self.clip_keys())
            self.cache.store_gain(key, found)
        return found

    def live_player(self, start_ms: int = 0, tail_ms: int = 0, music: MusicOptions | None = None) -> Player:
        """A player over a block mixer of this session at the loudness target, from `start_ms`; nothing is mixed yet.

        `tail_ms` of silence follows the end, so a device's buffer plays out before the session is done. With
        `music`, a ducked bed at the clips' rate (resampling the speech would load scipy before the first sound),
        decoded in the background: new music never delays the first sound, it fades in when ready.
        """
        from coach.audio.loudness import CEILING_DBTP
        from coach.audio.mixer import Mixer
        from coach.audio.player import Player

        clips = self.clip_arrays()
        bed = None
        if music is not None:
            from coach.audio.music import LiveBed

            bed = LiveBed(music, self.timeline, self.clip_rate)
        mixer = Mixer(self.timeline, clips, self.clip_rate, gain=self.program_gain(clips, CEILING_DBTP), bed=bed)
        return Player(self.timeline, mixer, start_ms=start_ms, tail_frames=mixer.sample_rate * tail_ms // 1000)

    def export(self, target: Path, options: ExportOptions, on_progress: Progress | None = None) -> ExportResult:
        """Mix and encode this session to `target` with the routine's tags, at the format's loudness and ceiling."""
        from coach.output.cards import with_chapter_cards
        from coach.output.encode import output_format
        from coach.output.export import export_track, track_tags

        clips = self.clip_arrays()
        gain = self.program_gain(clips, output_format(options.format).ceiling_dbtp)
        return export_track(
            self.timeline, clips, self.clip_rate, target, options,
            tags=with_chapter_cards(track_tags(self.routine), self.routine, self.timeline, self.cache.directory),
            gain=gain, on_progress=on_progress, segments=self.cache, clip_keys=self.clip_keys(),
        )  # fmt: skip

    def clip_keys(self) -> dict[str, str]:
        """Every cue text's clip key in the cache."""
        return {text: clip.key for text, clip in self.report.clips.items()}

    def gain_key(self, ceiling_dbtp: float) -> str:
        """The cache key of the program gain: every clip it weighs (its key, length and uses), the target and the ceiling."""
        uses = cue_uses(self.timeline)
        weighed = sorted((clip.key, clip.frames, uses[text]) for text, clip in self.report.clips.items() if uses[text])
        fields = [GAIN_ALGORITHM, TARGET_LUFS, ceiling_dbtp, self.clip_rate, weighed]
        return hashlib.sha256(json.dumps(fields).encode()).hexdigest()


class Clips(Mapping[str, np.ndarray]):
    """Cue texts mapped to their clips' samples, read from the cache on first use; `frames` tells a length from the header.

    The mix reads only the clips of the chapters it mixes, and the gain only the clips it has not measured yet.
    """

    def __init__(self, refs: Mapping[str, ClipRef]):
        self._refs = refs
        self._read: dict[str, np.ndarray] = {}

    def __getitem__(self, text: str) -> np.ndarray:
        found = self._read.get(text)
        if found is None:
            found = self._read[text] = self._refs[text].read()
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._refs)

    def __len__(self) -> int:
        return len(self._refs)

    def __contains__(self, text: object) -> bool:
        return text in self._refs

    def frames(self, text: str) -> int:
        """The clip's length in frames, known without reading it."""
        return self._refs[text].frames


def load(argument: str) -> Routine:
    """Load and validate the routine a ROUTINE argument names (path or built-in)."""
    path = sources.resolve(argument)
    return parse_routine(sources.read(path), sources.display_name(path))


def speech_settings(
    routine: Routine, voice: str | None = None, rate: int | None = None, engine: str | None = None
) -> SpeechSettings:
    """The engine, voice and rate in force: command-line options over the routine's own.

    A routine's voice name belongs to the routine's engine: with another engine in force it is left
    out (that engine's default voice speaks), while its rate, a pace in words per minute, still applies.
    """
    routine_engine = routine.voice.engine or "auto"
    in_force = engine or routine_engine
    # Resolving `auto` may start the default engine: only when the voice name depends on it.
    keeps_name = voice is None and routine.voice.name is not None
    same_engine = keeps_name and (in_force == routine_engine or _engine_named(in_force) == _engine_named(routine_engine))
    name = voice or (routine.voice.name if same_engine else None)
    if in_force == "auto":  # a voice only espeak has (another language, an accent) chooses espeak
        in_force = engine_for_voice(name)
    return SpeechSettings(voice=name, rate=rate or routine.voice.rate, engine=in_force)


def checked_settings(
    routine: Routine, voice: str | None = None, rate: int | None = None, engine: str | None = None
) -> SpeechSettings:
    """The settings in force, checked against the engine's voices: an unknown voice is bad input (exit 2), located at
    the routine's `voice.name` when that is where it comes from; no engine at all stays a SpeechError (exit 1)."""
    settings = speech_settings(routine, voice, rate, engine)
    speech = get_engine(settings.engine)
    try:
        speech.resolve_voice(settings.voice)
    except SpeechError as error:
        # Under `auto` the closest voice may be either engine's.
        problem = unknown_to_auto(settings.voice) if settings.engine == "auto" and settings.voice is not None else error
        if voice is None and settings.voice is not None:
            where = routine.voice.name_where
            raise RoutineError([Diagnostic(where.path, where.line, where.col, f"voice.name: {problem}")]) from None
        raise UsageError(f"--voice: {problem}") from None
    try:
        speech.resolve_rate(settings.rate)
    except SpeechError as error:
        raise UsageError(str(error)) from None
    return settings


def prepare(
    routine: Routine,
    settings: SpeechSettings,
    cache_dir: Path,
    jobs: int | None = None,
    on_progress: RenderProgress | None = None,
    engine: str | SpeechEngine | None = None,
) -> Prepared:
    """Compile, render what the cache lacks, and schedule, with the intro saying the true length in minutes.

    `engine` (default: the settings' own) overrides the engine; `on_progress` follows the body's synthesis.
    """
    cache = ClipCache(cache_dir)
    script = compile_routine(routine)
    cache.remove_stale_temporaries()  # what a killed render left behind
    intro = intro_text(script)
    # Everything but the intro first: its "about N minutes" is only known once the rest is timed.
    body = [text for text in spoken_texts(script) if text != intro]
    try:
        body_report = _render(body, routine, settings, cache, engine=engine, jobs=jobs, on_progress=on_progress)
    except UnspeakableText as error:
        raise RoutineError([unspeakable_problem(script, routine, error)]) from None
    lengths = {text: clip.seconds for text, clip in body_report.clips.items()}
    minutes = _minutes(schedule(script, {**lengths, intro: 0.0}).duration_ms)
    for _attempt in range(2):
        script = compile_routine(routine, minutes=minutes)
        try:
            intro_report = _render([intro_text(script)], routine, settings, cache, engine=engine)
        except UnspeakableText as error:
            raise RoutineError([unspeakable_problem(script, routine, error)]) from None
        report = _merge(body_report, intro_report)
        timeline = _schedule(script, report, routine)
        if _minutes(timeline.duration_ms) == minutes:
            break
        minutes = _minutes(timeline.duration_ms)  # the intro itself tipped the rounding
    _check_length(timeline, routine)
    return Prepared(routine, settings, script, timeline, report, cache)


def unspeakable_problem(script: CueScript, routine: Routine, error: UnspeakableText) -> Diagnostic:
    """A text the voice said nothing for, as a problem at the step that speaks it."""
    pronouncer = Pronouncer(routine.pronounce)
    where = next(
        (
            item.where
            for item in script
            if isinstance(item, Speak) and normalize_text(pronouncer.spoken(item.text)) == error.text
        ),
        None,
    )
    message = f"nothing to say: {error} (write words the voice can speak)"
    if where is None or where.line < 1:
        return Diagnostic(routine.source, 1, 1, message)
    return Diagnostic(where.path, where.line, max(1, where.col), message)


def _check_length(timeline: Timeline, routine: Routine) -> None:
    """Refuse a session longer than the limit once its speech is measured (the compiler only estimated it)."""
    limit_ms = MAX_SESSION_SECONDS * 1000
    if timeline.duration_ms <= limit_ms:
        return
    exercise = routine.exercises[min(timeline.chapter_at(limit_ms), len(routine.exercises) - 1)]
    hours, minutes = divmod(round(timeline.duration_ms / 60_000), 60)
    message = (
        f"the session lasts {hours} h {minutes:02d} min with its speech, more than {MAX_SESSION_SECONDS // 3600} hours "
        "(it passes the limit in this exercise)"
    )
    where = exercise.where
    raise RoutineError([Diagnostic(where.path, max(1, where.line), max(1, where.col), message)])


def cue_texts(routine: Routine) -> list[str]:
    """Every text the routine speaks, the intro's length in minutes as compiled without timing (see `prepare`)."""
    return spoken_texts(compile_routine(routine))


def cache_keys(prepared: Prepared) -> set[str]:
    """Every cache key a prepared session uses: its clips, its stored gain and clips' levels for playing and for each
    export format, and the chapter records and encoded segments of its plain MP3 export (when that export's gain is
    stored, so it has run)."""
    from coach.output.encode import FORMATS
    from coach.output.export import mp3_segment_keys
    from coach.audio.loudness import CEILING_DBTP

    from coach.audio.loudness import level_key

    ceilings = {CEILING_DBTP} | {form.ceiling_dbtp for form in FORMATS.values()}
    clips = prepared.report.clips.values()
    keys = {clip.key for clip in clips} | {prepared.gain_key(c) for c in ceilings}
    keys |= {level_key(clip.key, prepared.clip_rate, ceiling) for clip in clips for ceiling in ceilings}
    mp3_gain = prepared.cache.gain(prepared.gain_key(FORMATS["mp3"].ceiling_dbtp))
    if mp3_gain is not None:
        keys |= mp3_segment_keys(
            prepared.timeline, prepared.clip_arrays(), prepared.clip_rate, mp3_gain, prepared.clip_keys(), prepared.cache
        )
    return keys


class _NotCached(Exception):
    """A clip the routine needs is not in the cache (and a prune must not make it)."""


class _CacheOnlyEngine(SpeechEngine):
    """The real engine's identity (so the same keys) without its voice: synthesizing raises _NotCached."""

    def __init__(self, engine: SpeechEngine):
        self._engine = engine
        self.name, self.version, self.sample_rate = engine.name, engine.version, engine.sample_rate
        self.default_voice, self.default_rate = engine.default_voice, engine.default_rate

    def all_voices(self) -> list[VoiceInfo]:
        return self._engine.all_voices()

    def resolve_voice(self, voice: str | None) -> str:
        return self._engine.resolve_voice(voice)

    def _synthesize(self, text: str, voice: str, rate: int) -> np.ndarray:
        raise _NotCached(text)

    def __reduce__(self) -> tuple[object, ...]:
        # A worker process would rebuild the real engine (SpeechEngine.__reduce__) and synthesize.
        raise TypeError("the cache-only engine stays in this process")


def prepare_cached(routine: Routine, settings: SpeechSettings, cache_dir: Path) -> Prepared | None:
    """The routine prepared from the cache alone, or None when a clip it needs is missing; synthesizes nothing."""
    try:
        return prepare(routine, settings, cache_dir, jobs=1, engine=_CacheOnlyEngine(get_engine(settings.engine or "auto")))
    except _NotCached:
        return None


def cached_keys(routine: Routine, settings: SpeechSettings, cache_dir: Path, engine: str | None = None) -> set[str]:
    """The cache keys of every clip and gain the routine uses that the cache holds; synthesizes nothing.

    When a clip is missing the session's length (which the intro says) is unknown: then only the
    clips found are kept; those are all a prune can keep anyway.
    """
    cache_only = _CacheOnlyEngine(get_engine(engine or settings.engine or "auto"))
    try:
        return cache_keys(prepare(routine, settings, cache_dir, jobs=1, engine=cache_only))
    except _NotCached:
        pass
    cache = ClipCache(cache_dir)
    profile = cache_only.profile(settings)
    pronouncer = Pronouncer(routine.pronounce)
    texts = spoken_texts(compile_routine(routine))
    found = (cache.lookup(pronouncer.spoken(text), profile) for text in texts)
    return {clip.key for clip in found if clip is not None}


def _engine_named(name: str) -> str:
    return default_engine_name() if name == "auto" else name


def _render(
    texts: list[str], routine: Routine, settings: SpeechSettings, cache: ClipCache, **options: object
) -> RenderReport:
    """Render what each written cue text sounds like (after the routine's `pronounce:`), keyed by the written text."""
    pronouncer = Pronouncer(routine.pronounce)
    spoken = {text: pronouncer.spoken(text) for text in texts}
    report = render(list(dict.fromkeys(spoken.values())), settings, cache, **options)  # type: ignore[arg-type]
    clips = {text: replace(report.clips[said], text=text) for text, said in spoken.items()}
    made = set(report.synthesized)
    synthesized = [text for text, said in spoken.items() if said in made]
    reused = [text for text in clips if text not in synthesized]
    return replace(report, clips=clips, synthesized=synthesized, reused=reused)


def _schedule(script: CueScript, report: RenderReport, routine: Routine) -> Timeline:
    from coach.output.mp3frames import chapter_grid_ms

    seconds = {text: clip.seconds for text, clip in report.clips.items()}
    # Chapters on the MP3 frame grid: an edit re-encodes only the chunks of its own chapter (see coach/output/chunked.py).
    return schedule(script, seconds, title=level_title(routine), chapter_grid_ms=chapter_grid_ms(_clip_rate(report)))


def _clip_rate(report: RenderReport) -> int:
    return max((clip.sample_rate for clip in report.clips.values()), default=22050)


def _minutes(duration_ms: int) -> int:
    return max(1, round(duration_ms / 60_000))


def _merge(body: RenderReport, intro: RenderReport) -> RenderReport:
    """One report for the body and the intro render (the intro's clip first, as it is spoken first)."""
    clips = {**intro.clips, **{text: clip for text, clip in body.clips.items() if text not in intro.clips}}
    synthesized = list(dict.fromkeys(intro.synthesized + body.synthesized))
    reused = [text for text in clips if text not in synthesized]
    return replace(body, clips=clips, synthesized=synthesized, reused=reused)
