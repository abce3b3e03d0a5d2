"""Rendering: only what the cache lacks is synthesized, damaged clips are replaced, processes agree with one."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from coach.speech.cache import ClipCache
from coach.errors import SpeechError, UsageError
from coach.speech.render import available_cores, min_cues_per_process, process_count, render
from coach.speech import SpeechSettings
from coach.speech.fake import FakeEngine

MIN_CUES_PER_PROCESS = min_cues_per_process(FakeEngine())  # the same as espeak's

ROUTINE_TEXTS = [
    "Post-run mobility. 3 exercises, about 9 minutes.",
    "Couch stretch.",
    "Place your left foot against the wall behind you.",
    "Hold for 45 seconds.",
    "Halfway.",
    "Switch sides. Right side.",
    "Rest for 15 seconds. Next up: Pigeon.",
]

# Enough distinct cues that jobs=2 really starts two processes.
MANY_TEXTS = [f"Repetition {number}. Inhale, lift the belly high." for number in range(1, 2 * MIN_CUES_PER_PROCESS + 9)]


@pytest.fixture
def cache(tmp_path: Path) -> ClipCache:
    return ClipCache(tmp_path / "clips")


def test_second_render_synthesizes_nothing(cache):
    fake = FakeEngine()
    first = render(ROUTINE_TEXTS, SpeechSettings(), cache, engine=fake, jobs=1)
    second = render(ROUTINE_TEXTS, SpeechSettings(), cache, engine=fake, jobs=1)
    assert first.synthesized == ROUTINE_TEXTS and first.reused == []
    assert second.synthesized == [] and second.reused == ROUTINE_TEXTS
    assert fake.synthesized == ROUTINE_TEXTS  # the engine was not called again
    assert {text: clip.frames for text, clip in second.clips.items()} == {
        text: clip.frames for text, clip in first.clips.items()
    }


def test_editing_one_text_synthesizes_exactly_that_one(cache):
    fake = FakeEngine()
    render(ROUTINE_TEXTS, SpeechSettings(), cache, engine=fake, jobs=1)
    edited = [text.replace("45 seconds", "60 seconds") for text in ROUTINE_TEXTS]
    report = render(edited, SpeechSettings(), cache, engine=fake, jobs=1)
    assert report.synthesized == ["Hold for 60 seconds."]
    assert fake.synthesized[len(ROUTINE_TEXTS) :] == ["Hold for 60 seconds."]
    assert len(report.reused) == len(ROUTINE_TEXTS) - 1


@pytest.mark.parametrize(
    "settings, engine_version",
    [(SpeechSettings(rate=200), "1"), (SpeechSettings(voice="fake/high"), "1"), (SpeechSettings(), "2")],
)
def test_a_new_rate_voice_or_engine_version_renders_everything_again(cache, settings, engine_version):
    render(ROUTINE_TEXTS, SpeechSettings(), cache, engine=FakeEngine("1"), jobs=1)
    report = render(ROUTINE_TEXTS, settings, cache, engine=FakeEngine(engine_version), jobs=1)
    assert report.synthesized == ROUTINE_TEXTS


def test_report_names_the_effective_voice_and_rate_and_maps_every_text(cache):
    texts = ["Rest.", "Rest.", "Halfway."]
    report = render(texts, SpeechSettings(voice="High"), cache, engine=FakeEngine(), jobs=1)
    assert (report.engine, report.voice, report.rate, report.processes) == ("fake", "fake/high", 165, 1)
    assert list(report.clips) == ["Rest.", "Halfway."]
    assert report.clips["Rest."].seconds == pytest.approx(len("Rest.") * 0.06, abs=0.02)


def test_texts_differing_only_in_whitespace_share_one_synthesis(cache):
    fake = FakeEngine()
    report = render(["Hold  still.", "Hold still.", " Hold still. "], SpeechSettings(), cache, engine=fake, jobs=1)
    assert fake.synthesized == ["Hold still."]
    assert len({clip.path for clip in report.clips.values()}) == 1
    assert len(report.synthesized) == 1 and len(report.reused) == 2


def test_a_truncated_clip_is_synthesized_again_and_replaced(cache):
    fake = FakeEngine()
    first = render(ROUTINE_TEXTS, SpeechSettings(), cache, engine=fake, jobs=1)
    victim = first.clips["Halfway."]
    victim.path.write_bytes(victim.path.read_bytes()[:60])
    second = render(ROUTINE_TEXTS, SpeechSettings(), cache, engine=fake, jobs=1)
    assert second.synthesized == ["Halfway."]
    assert second.clips["Halfway."].read().size == victim.frames
    assert cache.stats().damaged == 0


def test_empty_text_or_unknown_voice_fails_before_anything_is_synthesized(cache):
    fake = FakeEngine()
    with pytest.raises(SpeechError, match="empty text"):
        render(["Rest.", "  "], SpeechSettings(), cache, engine=fake, jobs=1)
    with pytest.raises(SpeechError, match="unknown voice 'nobody'"):
        render(["Rest."], SpeechSettings(voice="nobody"), cache, engine=fake, jobs=1)
    assert fake.synthesized == [] and cache.stats().clips == 0


def test_process_count_stays_in_process_for_a_few_cues_and_honours_jobs():
    least = MIN_CUES_PER_PROCESS
    assert least > 1
    assert process_count(0, None, least) == 1
    assert process_count(least - 1, 8, least) == 1
    assert process_count(100 * least, 1, least) == 1
    assert process_count(100 * least, 3, least) == 3
    assert process_count(100 * least, None, least) == available_cores()
    for bad in (0, -2, True):
        with pytest.raises(UsageError):
            process_count(10, bad, least)


def test_a_slow_engine_gets_a_worker_per_cue_and_chunks_of_one():
    class Slow(FakeEngine):
        cue_seconds = 0.4

    assert min_cues_per_process(Slow()) == 1
    assert process_count(2, None, min_cues_per_process(Slow())) == min(2, available_cores())


def test_progress_is_a_callback_per_clip_and_the_library_prints_nothing(cache, capsys):
    render(ROUTINE_TEXTS[:3], SpeechSettings(), cache, engine=FakeEngine(), jobs=1)
    seen: list[tuple[int, int]] = []
    render(ROUTINE_TEXTS, SpeechSettings(), cache, engine=FakeEngine(), jobs=1, on_progress=lambda *call: seen.append(call))
    missing = len(ROUTINE_TEXTS) - 3
    assert seen == [(done, missing) for done in range(missing + 1)]
    assert capsys.readouterr() == ("", "")
    seen.clear()
    render(ROUTINE_TEXTS, SpeechSettings(), cache, engine=FakeEngine(), jobs=1, on_progress=lambda *call: seen.append(call))
    assert seen == []  # nothing to synthesize: nothing to show


def test_parallel_progress_counts_every_clip_once(tmp_path):
    seen: list[tuple[int, int]] = []
    report = render(
        MANY_TEXTS, SpeechSettings(), ClipCache(tmp_path), engine=FakeEngine(), jobs=2, on_progress=lambda *c: seen.append(c)
    )
    assert report.processes == 2
    assert seen[0] == (0, len(MANY_TEXTS)) and seen[-1] == (len(MANY_TEXTS), len(MANY_TEXTS))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_parallel_espeak_render_matches_a_single_process_render(tmp_path):
    serial = render(MANY_TEXTS, SpeechSettings(rate=180), ClipCache(tmp_path / "one"), engine="espeak", jobs=1)
    parallel = render(MANY_TEXTS, SpeechSettings(rate=180), ClipCache(tmp_path / "two"), engine="espeak", jobs=2)
    assert (serial.processes, parallel.processes) == (1, 2)
    assert sorted(parallel.synthesized) == sorted(MANY_TEXTS)
    for text in MANY_TEXTS:
        # espeak's voicing has random flutter: the same text varies by up to ~20 ms from render to render.
        # 50 ms still catches a worker using another rate (175 wpm instead of 180 is ~90 ms here) or voice.
        assert parallel.clips[text].seconds == pytest.approx(serial.clips[text].seconds, abs=0.05)
        samples = parallel.clips[text].read()
        assert samples.size == parallel.clips[text].frames and np.abs(samples).max() > 1000
    again = render(MANY_TEXTS, SpeechSettings(rate=180), ClipCache(tmp_path / "two"), engine="espeak", jobs=2)
    assert again.synthesized == [] and again.processes == 1


def test_an_error_in_a_worker_process_reaches_the_caller(cache):
    texts = MANY_TEXTS + ["..."]  # espeak renders only silence for it: an error inside a worker
    with pytest.raises(SpeechError, match="only silence"):
        render(texts, SpeechSettings(), cache, engine="espeak", jobs=2)
    assert cache.stats().temporary == 0 and cache.stats().damaged == 0


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from coach.speech.cache import ClipCache
    from coach.speech.render import render
    from coach.speech import SpeechSettings

    directory, go, count, ready = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    texts = [f"Cue number {n}. Breathe out slowly." for n in range(count)]
    ready.touch()
    while not go.exists():  # start together with the other writer
        time.sleep(0.002)
    report = render(texts, SpeechSettings(), ClipCache(directory), engine="espeak", jobs=1)
    print(len(report.clips))
    """
)


def test_two_processes_rendering_into_one_cache_both_succeed_and_leave_it_valid(tmp_path):
    directory, go, count = tmp_path / "shared", tmp_path / "go", 40
    ready = [tmp_path / f"ready-{index}" for index in range(2)]
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(directory), str(go), str(count), str(flag)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for flag in ready
    ]
    # Both loaded and waiting (or one already failed) before either starts writing.
    while not all(flag.exists() for flag in ready) and all(writer.poll() is None for writer in writers):
        time.sleep(0.002)
    go.touch()
    results = [writer.communicate() for writer in writers]
    for writer, (out, err) in zip(writers, results):
        assert writer.returncode == 0, err
        assert out.split() == [str(count)]
    stats = ClipCache(directory).stats()
    assert (stats.clips, stats.damaged, stats.temporary) == (count, 0, 0)
    texts = [f"Cue number {n}. Breathe out slowly." for n in range(count)]
    check = render(texts, SpeechSettings(), ClipCache(directory), engine="espeak", jobs=1)
    assert check.synthesized == []
    assert all(clip.read().size == clip.frames for clip in check.clips.values())


INTERRUPTED = textwrap.dedent(
    """
    import signal, sys
    from pathlib import Path
    from coach.speech.cache import ClipCache
    from coach.speech.render import render
    from coach.speech import SpeechSettings

    signal.signal(signal.SIGINT, signal.default_int_handler)  # the test runner may start us with SIGINT ignored
    texts = [f"Exercise {n}. Place your left foot forward and keep the back knee soft." for n in range(3000)]
    try:
        render(texts, SpeechSettings(), ClipCache(Path(sys.argv[1])), engine="espeak", jobs=int(sys.argv[2]))
    except KeyboardInterrupt:
        print("interrupted")
        sys.exit(130)
    print("finished")
    """
)


@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_stops_a_render_promptly_and_leaves_only_whole_clips(tmp_path, jobs):
    directory = tmp_path / "clips"
    child = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED, str(directory), str(jobs)], stdout=subprocess.PIPE, text=True
    )
    while not any(directory.glob("*.wav")) and child.poll() is None:  # interrupt mid-render
        time.sleep(0.01)
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate()
    assert (child.returncode, out.strip()) == (130, "interrupted")
    stats = ClipCache(directory).stats()
    assert 0 < stats.clips < 3000  # stopped, not finished (a swallowed Ctrl-C would let all 3000 render)
    assert (stats.damaged, stats.temporary) == (0, 0)


class _ThreadSafeFake(FakeEngine):
    """A fake that may speak in threads (as hibari does), noting which thread spoke each text."""

    thread_safe = True
    cue_seconds = 0.05  # a neural voice's: a worker pays from one cue

    def __init__(self) -> None:
        super().__init__()
        self.threads: dict[str, str] = {}

    def _synthesize(self, text: str, voice: str, rate: int) -> np.ndarray:
        import threading

        self.threads[text] = threading.current_thread().name
        return super()._synthesize(text, voice, rate)


def test_a_few_cues_of_a_thread_safe_engine_are_spoken_in_threads_and_land_in_the_callers_thread(cache):
    import threading

    engine, landed = _ThreadSafeFake(), []
    texts = ["Reach up.", "Hold it there.", "Breathe out slowly.", "Switch sides."]
    report = render(texts, SpeechSettings(), cache, engine=engine, jobs=2, on_clip=lambda text, clip: landed.append(threading.current_thread().name))
    assert report.processes == 2 and sorted(report.synthesized) == sorted(texts)
    assert all(name.startswith("coach-speech") for name in engine.threads.values())
    assert landed == [threading.current_thread().name] * 4
    alone = render(texts, SpeechSettings(), ClipCache(cache.directory / "alone"), engine=_ThreadSafeFake(), jobs=1)
    assert {text: clip.read().tobytes() for text, clip in report.clips.items()} == {
        text: clip.read().tobytes() for text, clip in alone.clips.items()
    }
