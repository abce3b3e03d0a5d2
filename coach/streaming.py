"""A live session that starts speaking before all its speech is synthesized.

A cue's start depends only on the lengths of the cues before it (coach.timeline.scheduler), so the timeline can
grow as clips arrive: the intro is synthesized first and the session starts; the rest is synthesized in
time order, ahead of the playhead, in a background thread (and the render's worker processes). The
player mixes only what is settled (Timeline.settled_ms); should synthesis fall behind, it waits in
silence and counts the wait as lateness.

The loudness gain cannot wait for every clip either. Every voice but espeak synthesizes a sample of the
routine's cues first, spread over its length, and the gain of the intro and the sample is the estimate (within
0.6 dB of the exact gain on every built-in and level in the natural voice, against 1.6-2.6 dB for the first cue
alone); the sample also calibrates the length estimate below. A voice too slow to make the sample in
SAMPLE_BUDGET_SECONDS (piper) has time meanwhile for a proxy: in a process of its own, the same estimate is made
on espeak's clips (fast to make) and set against espeak's exact gain of the whole routine; the estimate in the
session's voice is corrected by that ratio, since how a sample stands against the whole comes from the
routine's words (how many short counts against long sentences), not from the voice. piper needs both: its
clips of one text differ in loudness from run to run (its model draws noise), so one clip alone may read
1 dB off. espeak itself needs neither: its whole routine is fast to measure exactly. Once every clip is in, the
exact gain is measured and stored, as `coach render` would, so the next session starts warm.

The intro says the session's length in minutes before the speech is measured: clips already cached count as
measured, the rest as their characters at the voice's rate, by the voice's own fit. That fit rounds to the true
length on every built-in and level in the natural voice; scaled by how the four-cue sample measured, it was a
minute off on five of the six, so the sample calibrates only where later cues are expected, and the intro is
synthesized with the sample (in threads, coach.speech.render) rather than after it.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from coach.speech.cache import ClipCache, ClipRef
from coach.timeline.compiler import compile_routine, intro_text
from coach.timeline.cues import CueScript, spoken_texts
from coach.errors import CoachError, RoutineError, UnspeakableText
from coach.routine.levels import level_title
from coach.routine.model import Routine
from coach.speech.pronounce import Pronouncer
from coach.speech.render import render
from coach.timeline.scheduler import schedule
from coach.speech import SpeechSettings, get_engine
from coach.speech.engine import SpeechEngine
from coach.timeline.timeline import Timeline

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from coach.audio.mixer import Mixer
    from coach.audio.music import MusicOptions
    from coach.audio.player import Player

STREAM_AFTER_SECONDS = 0.5  # synthesis expected to take longer than this: start speaking before it is done
SAMPLE_CUES = 4  # cues spread over the routine, synthesized before the first sound where the voice is fast enough
SAMPLE_BUDGET_SECONDS = 0.4  # what the sample may add to the first sound at most (by the engine's cue_seconds)


class _Stopped(Exception):
    """The session ended: stop synthesizing."""


def worth_streaming(routine: Routine, settings: SpeechSettings, cache_dir: Path, jobs: int | None = None) -> bool:
    """Whether synthesizing what the cache lacks for this routine would take long enough to start speaking first."""
    from coach.speech.render import available_cores

    speech = get_engine(settings.engine)
    profile = speech.profile(settings)
    cache = ClipCache(cache_dir)
    pronouncer = Pronouncer(routine.pronounce)
    missing = {pronouncer.spoken(text) for text in spoken_texts(compile_routine(routine))}
    missing = {text for text in missing if cache.lookup(text, profile) is None}
    workers = max(1, min(available_cores() if jobs is None else jobs, len(missing)))
    return len(missing) * speech.cue_seconds / workers > STREAM_AFTER_SECONDS


@dataclass
class StreamingSession:
    """A routine whose speech is synthesized while it plays: `start()`, then `live_player()`, then `close()`."""

    routine: Routine
    settings: SpeechSettings
    cache_dir: Path
    jobs: int | None = None
    engine: SpeechEngine | None = None  # default: the settings' own
    timeline: Timeline = field(init=False)
    gain: float = field(init=False, default=1.0)
    gain_measured_on: tuple[str, ...] = field(init=False, default=())  # the texts whose clips in this voice set the gain
    failure: BaseException | None = field(init=False, default=None)
    _clips: dict[str, np.ndarray] = field(init=False, default_factory=dict)
    _seconds: dict[str, float] = field(init=False, default_factory=dict)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _stopped: bool = field(init=False, default=False)
    _thread: threading.Thread | None = field(init=False, default=None)
    _mixer: Mixer | None = field(init=False, default=None)
    _player: Player | None = field(init=False, default=None)
    _scale: float = field(init=False, default=1.0)  # the length estimate's correction, from the sample

    def start(self) -> None:
        """Synthesize the intro, estimate the gain, and go on synthesizing the rest in the background."""
        self._speech = self.engine or get_engine(self.settings.engine)
        self._profile = self._speech.profile(self.settings)
        self._cache = ClipCache(self.cache_dir)
        self._cache.remove_stale_temporaries()
        self._pronouncer = Pronouncer(self.routine.pronounce)
        self.clip_rate = self._profile.sample_rate
        from coach.output.mp3frames import chapter_grid_ms

        self._grid_ms = chapter_grid_ms(self.clip_rate)
        self._title = level_title(self.routine)
        first = compile_routine(self.routine)
        first_intro = intro_text(first)
        for text in spoken_texts(first):  # what the cache already holds is measured
            if text != first_intro:
                self._take_cached(text)
        sample = self._sample(first, first_intro) if self._speech.name != "espeak" else []
        # A slow voice's sample takes longer than the proxy: measured meanwhile, it costs the first sound nothing.
        slow = self._speech.cue_seconds * SAMPLE_CUES > SAMPLE_BUDGET_SECONDS
        proxy = _ProxyGain(self.routine, self.settings, self.cache_dir, sample) if slow or not sample else None
        try:
            # The intro says the length as the voice's fit estimates it, so it is spoken with the sample, not after it.
            self.script = compile_routine(self.routine, minutes=self._minutes(first, first_intro))
            intro = intro_text(self.script)
            from coach.audio.loudness import CEILING_DBTP, program_gain, stepped_db

            missing = [text for text in (intro, *sample) if text not in self._clips and not self._take_cached(text)]
            self._synthesize(missing, jobs=self.jobs if self._speech.thread_safe else 1)  # threads: see coach.speech.render
            self._calibrate(sample)
            self._reschedule()
            self.gain_measured_on = (intro, *sample)
            measured = {text: self._clips[text] for text in self.gain_measured_on}
            estimate = program_gain(measured, self.clip_rate, ceiling_dbtp=CEILING_DBTP, stepped=False)
            if proxy is not None:
                estimate *= proxy.correction()
        finally:
            if proxy is not None:
                proxy.stop()
        self.gain = 10 ** (stepped_db(20 * math.log10(estimate)) / 20)
        self._thread = threading.Thread(target=self._synthesize_rest, name="coach-speech-ahead", daemon=True)
        self._thread.start()

    def live_player(self, start_ms: int = 0, tail_ms: int = 0, music: MusicOptions | None = None) -> Player:
        """A player over the growing timeline at the estimated gain, from the start (music is not mixed while streaming)."""
        from coach.audio.loudness import CEILING_DBTP
        from coach.audio.mixer import Mixer
        from coach.audio.player import Player

        if start_ms or music is not None:
            raise ValueError("a streaming session plays from the start, without music")
        with self._lock:
            self._mixer = Mixer(self.timeline, self._clips, self.clip_rate, gain=self.gain, ceiling_dbtp=CEILING_DBTP)
            self._player = Player(self.timeline, self._mixer, tail_frames=self._mixer.sample_rate * tail_ms // 1000)
            if self.failure is not None:
                self._player.failure = self.failure
        return self._player

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the synthesis to finish (True) or `timeout` seconds to pass (False)."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def close(self) -> None:
        """Stop synthesizing (a clip under way is finished and stored whole) and wait for the worker to stop."""
        self._stopped = True
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> StreamingSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Synthesis ---------------------------------------------------------------------------------------

    @staticmethod
    def _sample(script: CueScript, intro: str) -> list[str]:
        """SAMPLE_CUES texts spread evenly over the routine's distinct texts (the intro left out)."""
        texts = [text for text in dict.fromkeys(spoken_texts(script)) if text != intro]
        if len(texts) <= SAMPLE_CUES:
            return texts
        return list(dict.fromkeys(texts[round(i * (len(texts) - 1) / (SAMPLE_CUES - 1))] for i in range(SAMPLE_CUES)))

    def _minutes(self, script: CueScript, intro: str) -> int:
        """The session's length in whole minutes: clips measured so far, the rest (and the intro) estimated."""
        lengths = {**self._seconds, intro: self._estimate(intro)}
        return max(1, round(schedule(script, lengths, estimate=self._estimate).duration_ms / 60_000))

    def _calibrate(self, sample: list[str]) -> None:
        """Scale the length estimate of cues not synthesized yet by how the sample's clips measured against it."""
        self._scale = 1.0
        estimated = sum(self._estimate(text) for text in sample)
        measured = sum(self._seconds[text] for text in sample)
        if estimated > 0 and measured > 0:
            self._scale = measured / estimated

    def _estimate(self, text: str) -> float:
        spoken = self._pronouncer.spoken(text)
        speech = self._speech
        seconds = len(spoken) * speech.seconds_per_character_at_one_wpm / self._profile.rate + speech.seconds_per_clip
        return seconds * self._scale

    def _take_cached(self, text: str) -> bool:
        clip = self._cache.lookup(self._pronouncer.spoken(text), self._profile)
        if clip is None:
            return False
        self._add(text, clip)
        return True

    def _add(self, text: str, clip: ClipRef) -> None:
        self._clips[text] = clip.read()
        self._seconds[text] = clip.seconds

    def _synthesize(self, texts: list[str], jobs: int | None, on_clip: Callable[[str, ClipRef], None] | None = None) -> None:
        """Render `texts` (written; spoken after the routine's `pronounce:`) in their order, each added as it lands."""
        written: dict[str, list[str]] = {}
        for text in texts:
            written.setdefault(self._pronouncer.spoken(text), []).append(text)

        def landed(spoken: str, clip: ClipRef) -> None:
            if self._stopped:
                raise _Stopped
            with self._lock:
                for text in written[spoken]:
                    self._add(text, clip)
                if on_clip is not None:
                    on_clip(spoken, clip)

        try:
            render(list(written), self.settings, self._cache, engine=self._speech, jobs=jobs, on_clip=landed)
        except UnspeakableText as error:
            from coach.session import unspeakable_problem

            raise RoutineError([unspeakable_problem(self.script, self.routine, error)]) from None

    def _synthesize_rest(self) -> None:
        missing = [text for text in spoken_texts(self.script) if text not in self._clips]
        try:
            self._synthesize(list(dict.fromkeys(missing)), self.jobs, on_clip=lambda _spoken, _clip: self._reschedule())
            if not self._stopped:
                try:
                    self._store_exact_gain()
                except (CoachError, OSError):
                    pass  # this session plays on as it is; the next one measures the gain itself
        except _Stopped:
            return
        except Exception as error:  # noqa: BLE001 - it must reach the player, or the session would wait in silence forever
            with self._lock:
                self.failure = error
                if self._player is not None:
                    self._player.failure = error

    def _reschedule(self) -> None:
        """The timeline with what is measured so far; the mixer (if playing) follows it."""
        timeline = schedule(self.script, self._seconds, title=self._title, chapter_grid_ms=self._grid_ms, estimate=self._estimate)
        if self._mixer is not None:
            self._mixer.update(timeline)
        self.timeline = timeline  # after the mixer: what the session shows as settled, its player can already mix

    def _store_exact_gain(self) -> None:
        """Measure and store the exact gain, and the intro with the true length, so the next session starts warm."""
        from coach import session
        from coach.audio.loudness import CEILING_DBTP

        prepared = session.prepare(self.routine, self.settings, self.cache_dir, jobs=1, engine=self._speech)
        prepared.program_gain(prepared.clip_arrays(), CEILING_DBTP)


class _ProxyGain:
    """How the whole routine's speech stands against its intro and `sample` in loudness, measured on espeak's voice
    (see the module docstring), in a process of its own while this one synthesizes them in the session's voice
    (in a thread, its Python would take turns with the synthesis and slow the first sound by a second)."""

    def __init__(self, routine: Routine, settings: SpeechSettings, cache_dir: Path, sample: list[str]):
        from coach.processes import pool_context

        context = pool_context()
        self._reader, writer = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_measure_proxy, args=(writer, routine, settings, cache_dir, sample, os.getpid()), name="coach-proxy-gain"
        )
        self._process.start()
        writer.close()

    def correction(self) -> float:
        """The whole routine's gain over its intro's and sample's, in espeak's voice (1.0 where espeak cannot say)."""
        try:
            ratio = float(self._reader.recv())
        except (EOFError, OSError, ValueError):
            ratio = 1.0  # the measuring process failed or was stopped: the first cue's gain stands alone
        return ratio if ratio > 0 and math.isfinite(ratio) else 1.0

    def stop(self) -> None:
        """End the measuring process, done or not (its cache writes are atomic: nothing is left half-written)."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._reader.close()


def _measure_proxy(
    writer: Connection, routine: Routine, settings: SpeechSettings, cache_dir: Path, sample: list[str], parent: int
) -> None:
    """The proxy process: espeak's whole-routine gain over its intro's and sample's, sent through `writer` (1.0 on failure)."""
    from coach import session
    from coach.audio.loudness import CEILING_DBTP, program_gain
    from coach.processes import become_helper
    from coach.speech.render import available_cores

    become_helper(parent)
    ratio = 1.0
    try:
        proxy = SpeechSettings(voice=None, rate=settings.rate, engine="espeak")
        # One core fewer than there are: one synthesizes in the session's voice meanwhile.
        prepared = session.prepare(routine, proxy, cache_dir, jobs=max(1, available_cores() - 1))
        clips = prepared.clip_arrays()
        intro = prepared.timeline.cues[0].text  # espeak's intro: the same words, its own length in minutes
        measured = {text: clips[text] for text in (intro, *sample) if text in clips}
        whole = program_gain(clips, prepared.clip_rate, prepared.timeline, ceiling_dbtp=CEILING_DBTP, stepped=False)
        alone = program_gain(measured, prepared.clip_rate, ceiling_dbtp=CEILING_DBTP, stepped=False)
        ratio = whole / alone
    except (CoachError, OSError):
        pass  # no espeak here: the estimate in the session's voice stands alone
    finally:
        writer.send(ratio)
        writer.close()
