"""Render cue texts to clips: reuse what the cache holds, synthesize the rest, in worker processes when it pays.

Parallel synthesis uses processes, never threads: libespeak-ng keeps its state in globals. Each
worker gets one engine (on Linux forked from this process, already initialized) and writes its
clips into the cache itself, so only small ClipRefs travel back. Starting a pool costs about as
much as synthesizing a handful of espeak cues (fork ~15 ms against ~4 ms a cue), so a render with few
missing cues stays in this process; a neural cue costs ~0.4 s, so for it a worker pays from one cue.
Work goes out in chunks of about 0.1 s (many espeak cues, one neural cue): Ctrl-C waits only for the
running chunks, and every clip is written whole or not at all. An engine with a model loads it
before the fork, so workers start with it. A few cues (at most THREAD_CUES) of an engine that is thread-safe
(hibari) are spoken in threads of this process instead: a pool of processes took as long to start as it saved on
the four cues a live session samples before its first sound, and two threads speak them in 60 % of the time,
since the model runs outside the GIL. Progress goes to the caller's callback; nothing here draws.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from coach.speech.cache import ClipCache, ClipRef, clip_key
from coach.errors import SpeechError, UsageError
from coach.speech.engine import SpeechEngine, SpeechSettings, VoiceProfile, check_text
from coach.speech.registry import get_engine

POOL_START_SECONDS = 0.03  # what starting a pool costs; a worker must have more work than this to pay
CHUNK_SECONDS = 0.1  # work per chunk: Ctrl-C waits for running chunks, so it stops about this promptly
CHUNKS_PER_PROCESS = 4  # small enough chunks to balance the load and move the progress bar
MAX_CHUNK = 16  # cues
THREAD_CUES = 8  # up to this many cues of a thread-safe engine go to threads rather than processes
RenderProgress = Callable[[int, int], None]  # (cues synthesized so far, cues to synthesize); the front end draws it
ClipLanded = Callable[[str, ClipRef], None]  # a clip synthesized and stored; an exception raised here stops the render


@dataclass(frozen=True)
class RenderReport:
    """What a render produced: every text's clip, which were synthesized now and which reused, and the voice used."""

    clips: dict[str, ClipRef]
    synthesized: list[str]
    reused: list[str]
    engine: str
    voice: str
    rate: int
    version: str = ""
    processes: int = 1  # how many processes synthesized (1: this one)


def render(
    texts: Sequence[str],
    settings: SpeechSettings,
    cache: ClipCache,
    engine: str | SpeechEngine | None = None,
    jobs: int | None = None,
    on_progress: RenderProgress | None = None,
    on_clip: ClipLanded | None = None,
) -> RenderReport:
    """Give every text a clip in `cache`, synthesizing only what is missing or damaged; `jobs=None` uses all cores.

    `engine` (a name or an engine; default: `settings.engine`) speaks; `on_progress` hears of every clip
    synthesized, `on_clip` gets each one as it lands. Work goes out in the order of `texts`.
    """
    if engine is None:
        engine = settings.engine
    speech = engine if isinstance(engine, SpeechEngine) else get_engine(engine)
    profile = speech.profile(settings)  # an unknown voice or bad rate fails here, before any work
    for text in texts:
        check_text(text)
    clips: dict[str, ClipRef] = {}
    reused: list[str] = []
    missing: dict[str, list[str]] = {}  # key -> texts that differ only in whitespace share one clip
    for text in dict.fromkeys(texts):
        clip = cache.lookup(text, profile)
        if clip is not None:
            clips[text] = clip
            reused.append(text)
        else:
            missing.setdefault(clip_key(text, profile), []).append(text)
    to_synthesize = [group[0] for group in missing.values()]
    processes = process_count(len(to_synthesize), jobs, min_cues_per_process(speech))
    made = _synthesize(to_synthesize, speech, profile, cache, processes, _Progress(len(to_synthesize), on_progress, on_clip))
    for group in missing.values():
        clips[group[0]] = made[group[0]]
        for twin in group[1:]:
            clips[twin] = replace(made[group[0]], text=twin)
            reused.append(twin)
    ordered = {text: clips[text] for text in dict.fromkeys(texts)}
    return RenderReport(
        clips=ordered,
        synthesized=to_synthesize,
        reused=reused,
        engine=speech.name,
        voice=profile.voice,
        rate=profile.rate,
        version=speech.version,
        processes=processes,
    )


def available_cores() -> int:
    """The CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def min_cues_per_process(speech: SpeechEngine) -> int:
    """Below this many missing cues per worker, starting a pool costs more than it saves (espeak: 8, piper: 1)."""
    return max(1, math.ceil(POOL_START_SECONDS / speech.cue_seconds))


def process_count(missing: int, jobs: int | None, min_per_process: int) -> int:
    """How many processes to synthesize `missing` cues with, given `jobs` (None: all cores); 1 means in-process."""
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise UsageError(f"jobs must be a whole number of at least 1, not {jobs!r}")
    limit = available_cores() if jobs is None else jobs
    return max(1, min(limit, missing // min_per_process))


def _synthesize(
    texts: list[str],
    speech: SpeechEngine,
    profile: VoiceProfile,
    cache: ClipCache,
    processes: int,
    progress: _Progress,
) -> dict[str, ClipRef]:
    if not texts:
        return {}
    # Loaded before any fork, so forked workers share the parent's model instead of each loading one.
    speech.load(cache)
    if processes <= 1:
        made: dict[str, ClipRef] = {}
        for text in texts:
            made[text] = _render_one(speech, profile, cache, text)
            progress.landed(made[text])
        return made
    if speech.thread_safe and len(texts) <= THREAD_CUES:
        return _synthesize_in_threads(texts, speech, profile, cache, processes, progress)
    return _synthesize_in_pool(texts, speech, profile, cache, processes, progress)


def _synthesize_in_threads(
    texts: list[str], speech: SpeechEngine, profile: VoiceProfile, cache: ClipCache, threads: int, progress: _Progress
) -> dict[str, ClipRef]:
    from concurrent.futures import ThreadPoolExecutor, as_completed  # only where it renders: a warm start has no use for it

    made: dict[str, ClipRef] = {}
    # Leaving the block waits for the cues under way (each stored whole), a Ctrl-C's included; the rest are cancelled.
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="coach-speech") as pool:
        futures = [pool.submit(_render_one, speech, profile, cache, text) for text in texts]
        try:
            for future in as_completed(futures):
                clip = future.result()
                made[clip.text] = clip
                progress.landed(clip)  # in the caller's thread, as from a pool of processes
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return made


def _synthesize_in_pool(
    texts: list[str], speech: SpeechEngine, profile: VoiceProfile, cache: ClipCache, processes: int, progress: _Progress
) -> dict[str, ClipRef]:
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    from coach.processes import pool_context

    longest = max(1, min(MAX_CHUNK, round(CHUNK_SECONDS / speech.cue_seconds)))
    size = max(1, min(longest, -(-len(texts) // (processes * CHUNKS_PER_PROCESS))))
    chunks = [texts[start : start + size] for start in range(0, len(texts), size)]
    made: dict[str, ClipRef] = {}
    executor = ProcessPoolExecutor(
        max_workers=processes,
        mp_context=pool_context(),
        initializer=_start_worker,
        initargs=(speech, profile, cache, os.getpid()),
    )
    try:
        for future in as_completed([executor.submit(_render_chunk, chunk) for chunk in chunks]):
            for clip in future.result():
                made[clip.text] = clip
                progress.landed(clip)
    except BrokenProcessPool as error:
        raise SpeechError("a speech worker process died (out of memory?); try again with --jobs 1") from error
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return made


_worker: tuple[SpeechEngine, VoiceProfile, ClipCache] | None = None


def _start_worker(speech: SpeechEngine, profile: VoiceProfile, cache: ClipCache, parent: int) -> None:
    """Worker initializer: keep the engine for every chunk, and behave as a helper process (become_helper)."""
    from coach.processes import become_helper

    global _worker
    become_helper(parent)
    _worker = (speech, profile, cache)


def _render_chunk(texts: list[str]) -> list[ClipRef]:
    """Worker task: synthesize and store a chunk of texts."""
    if _worker is None:
        raise RuntimeError("speech worker used before its initializer ran")
    speech, profile, cache = _worker
    return [_render_one(speech, profile, cache, text) for text in texts]


def _render_one(speech: SpeechEngine, profile: VoiceProfile, cache: ClipCache, text: str) -> ClipRef:
    return cache.store(text, profile, speech.synthesize(text, profile.settings))


class _Progress:
    """Counts clips synthesized and tells the callbacks (the count at the start too, so a bar can show 0 of N)."""

    def __init__(self, total: int, callback: RenderProgress | None, on_clip: ClipLanded | None = None) -> None:
        self.total, self.done, self.callback, self.on_clip = total, 0, callback, on_clip
        if callback is not None and total:
            callback(0, total)

    def landed(self, clip: ClipRef) -> None:
        """Count one more clip done, and pass it on."""
        self.done += 1
        if self.callback is not None:
            self.callback(self.done, self.total)
        if self.on_clip is not None:
            self.on_clip(clip.text, clip)
