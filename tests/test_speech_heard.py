"""The natural voice through an independent recognizer: each cue of the built-ins heard in its planned window of
the exported MP3 (after the pronunciation table), numbers, ranges, times and sides among them, and far better than
espeak's."""

from __future__ import annotations

import re
import statistics
import subprocess
from pathlib import Path

import numpy as np
import pytest

from coach import session
from coach.output.export import ExportOptions
from coach.speech.pronounce import Pronouncer
from recognizer import RATE, Heard, Listener, words

NUMBERS = set(words(" ".join(str(number) for number in range(100))))
KEY_WORDS = re.compile(r"\d|\b(left|right|side|sides|ninety|seconds?|minutes?|times|breaths?)\b", re.IGNORECASE)
LEAD_MS, TAIL_MS = 100, 200  # around a cue's planned window: the listener needs a little air on each side
HEARD = 0.8  # a cue is heard when this share of its words is, in order


@pytest.fixture(scope="module")
def listener() -> Listener:
    return Listener()


def decoded(path: Path) -> np.ndarray:
    """An audio file as the listener hears it: float32 mono at 16 kHz, decoded by ffmpeg."""
    command = ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(RATE), "-"]
    pcm = subprocess.run(command, capture_output=True, check=True).stdout
    return np.frombuffer(pcm, np.int16).astype(np.float32) / 32768


def heard_in_the_export(routine_name: str, engine: str, directory: Path, listener: Listener, every: int = 1) -> list[Heard]:
    """Each distinct cue of the routine (every `every`th), heard in its first planned window of the exported MP3."""
    routine = session.load(routine_name)
    prepared = session.prepare(routine, session.speech_settings(routine, engine=engine), directory / "cache")
    prepared.export(directory / "session.mp3", ExportOptions(transcript=False))
    audio = decoded(directory / "session.mp3")
    first = {}
    for cue in prepared.timeline.cues:
        first.setdefault(cue.text, cue)
    cues = list(first.values())[::every]
    per_ms = RATE // 1000
    windows = [audio[max(0, cue.start_ms - LEAD_MS) * per_ms : (cue.end_ms + TAIL_MS) * per_ms] for cue in cues]
    pronouncer = Pronouncer(routine.pronounce)
    return listener.listen([pronouncer.spoken(cue.text) for cue in cues], windows)


def share_heard(results: list[Heard]) -> float:
    return sum(result.recall >= HEARD for result in results) / len(results)


def worst(results: list[Heard], count: int = 8) -> str:
    return "\n".join(f"{r.recall:.2f}  {r.wanted!r} heard as {r.heard!r}" for r in sorted(results, key=lambda r: r.recall)[:count])


@pytest.fixture(scope="module")
def natural(tmp_path_factory, listener) -> dict[str, list[Heard]]:
    """Every distinct cue of both built-ins in the natural voice, as heard in the export (the listener takes about
    0.5 s of CPU a cue)."""
    return {name: heard_in_the_export(name, "hibari", tmp_path_factory.mktemp(name), listener) for name in ("post-run", "pre-run")}


@pytest.mark.parametrize("routine_name", ["post-run", "pre-run"])
def test_each_cue_of_a_built_in_is_heard_in_its_planned_window(natural, routine_name):
    results = natural[routine_name]
    assert len(results) > 35
    # Measured: 99 % of post-run's cues heard and 97.5 % of pre-run's (98-99 % of the words); what is missed is a
    # word the listener hears its own way ("Couch" as "Cowed", "Leg swings" as "Legs, wings").
    assert share_heard(results) >= 0.95, worst(results)
    assert statistics.fmean(result.recall for result in results) >= 0.93, worst(results)


def test_numbers_ranges_times_and_sides_are_heard_in_their_sentences(natural):
    keyed = [result for results in natural.values() for result in results if KEY_WORDS.search(result.wanted)]
    assert len(keyed) > 30
    wanted = heard_right = 0
    for result in keyed:
        keys = [word for word in words(result.wanted) if KEY_WORDS.fullmatch(word) or word in NUMBERS]
        got = set(words(result.heard))
        wanted += len(keys)
        heard_right += sum(word in got for word in keys)
    assert wanted > 60
    assert heard_right / wanted >= 0.93, worst(keyed)


def share_heard_whole(results: list[Heard]) -> float:
    return sum(result.recall == 1.0 for result in results) / len(results)


def test_the_natural_voice_is_heard_far_better_than_espeak(tmp_path_factory, listener, natural):
    # Measured on all of pre-run: 90 % of the natural voice's cues heard whole, espeak's 53 % with the bundled
    # espeak ("Inhale" as "in jail"); most of espeak's cues are half heard, so its share heard depends on which
    # espeak it is (75-85 %), while a whole cue stays far apart.
    robotic = heard_in_the_export("pre-run", "espeak", tmp_path_factory.mktemp("espeak"), listener, every=2)
    natural_whole = share_heard_whole(natural["pre-run"])
    assert natural_whole >= share_heard_whole(robotic) + 0.2, (natural_whole, share_heard_whole(robotic), worst(robotic))
