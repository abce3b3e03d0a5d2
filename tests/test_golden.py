"""Golden plans of the built-in routines.

With the deterministic fake engine the whole timeline is compared exactly; with the real engines (the
default neural voice, hibari, and espeak, the fallback), the cue texts, chapters and tones exactly and
the times within a tolerance (an engine upgrade may move a clip by a few milliseconds). After a deliberate change to a routine, the compiler or the phrases, refresh
them with:  COACH_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from coach import session
from coach.timeline.cues import Chapter, Pause, Speak
from coach.routine.levels import at_level, parse_level
from coach.routine.model import Repeat
from coach.output.mp3frames import chapter_grid_ms
from coach.routine.phrases import Phrases
from coach.timeline.scheduler import clip_ms
from coach.routine.sources import builtin_routines
from coach.speech import SpeechSettings

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("COACH_UPDATE_GOLDEN") == "1"
BUILTINS = sorted(builtin_routines())
TIME_TOLERANCE = 0.02  # of the routine's length, for the real engine only


def compare_or_update(name: str, actual: dict) -> dict:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"no golden file {path}: run with COACH_UPDATE_GOLDEN=1 to write it")
        path.write_text(json.dumps(actual, indent=1, ensure_ascii=False) + "\n")
    return json.loads(path.read_text())


REAL_ENGINES = ("hibari", "espeak")


@pytest.fixture(scope="module")
def engine_plans(tmp_path_factory) -> dict[tuple[str, str], session.Prepared]:
    """Each built-in prepared with each real engine, as `coach` would with `--engine`."""
    cache = tmp_path_factory.mktemp("cache")
    plans = {}
    for engine in REAL_ENGINES:
        for name in BUILTINS:
            routine = session.load(name)
            plans[name, engine] = session.prepare(routine, session.speech_settings(routine, engine=engine), cache)
    return plans


@pytest.fixture(scope="module")
def real_plans(engine_plans) -> dict[str, session.Prepared]:
    """Each built-in as a user hears it by default."""
    return {name: engine_plans[name, "hibari"] for name in BUILTINS}


def test_the_default_engine_is_the_natural_voice(real_plans):
    assert {prepared.report.engine for prepared in real_plans.values()} == {"hibari"}


def test_the_built_in_routines_are_post_run_and_pre_run():
    assert BUILTINS == ["post-run", "pre-run"]


@pytest.mark.parametrize("level", ["easy", "standard", "deep"])
@pytest.mark.parametrize("name", BUILTINS)
def test_fake_engine_plan_matches_golden_exactly(name, level, tmp_path):
    routine = at_level(session.load(name), parse_level(level))
    settings = SpeechSettings(voice="fake/low", rate=routine.voice.rate)
    prepared = session.prepare(routine, settings, tmp_path, engine="fake")
    actual = prepared.timeline.to_json()
    suffix = "" if level == "standard" else f".{level}"
    assert actual == compare_or_update(f"{name}{suffix}.fake.json", actual)


@pytest.mark.parametrize("engine", REAL_ENGINES)
@pytest.mark.parametrize("name", BUILTINS)
def test_real_engine_plan_matches_golden_within_tolerance(name, engine, engine_plans):
    actual = engine_plans[name, engine].timeline.to_json()
    golden = compare_or_update(f"{name}.{engine}.json", actual)
    assert [c["text"] for c in actual["cues"]] == [c["text"] for c in golden["cues"]]
    assert [c["chapter"] for c in actual["cues"]] == [c["chapter"] for c in golden["cues"]]
    assert [c["title"] for c in actual["chapters"]] == [c["title"] for c in golden["chapters"]]
    assert [t["kind"] for t in actual["tones"]] == [t["kind"] for t in golden["tones"]]
    allowed = golden["duration"] * TIME_TOLERANCE
    assert actual["duration"] == pytest.approx(golden["duration"], abs=allowed)
    for mine, theirs in zip(actual["cues"], golden["cues"]):
        assert mine["start"] == pytest.approx(theirs["start"], abs=allowed), mine["text"]


POST_RUN_EXERCISES = [
    "Couch stretch",
    "90/90 gluteal kinetic stretch",
    "90/90 internal rotation kinetic stretch",
    "Hamstring stretch with isometrics",
    "Half fish pose",
    "Combat stance ankle stretch with isometrics",
    "Seated toe extension with isometrics",
]


def test_post_run_has_all_seven_exercises_in_order_with_both_sides(real_plans):
    timeline = real_plans["post-run"].timeline
    assert [c.title for c in timeline.chapters] == POST_RUN_EXERCISES
    sided = {c.title for c in timeline.chapters} - {"Seated toe extension with isometrics"}
    for index, chapter in enumerate(timeline.chapters):
        said = [cue.text for cue in timeline.cues if cue.chapter == index]
        switched = any(text.startswith("Switch sides.") for text in said)
        assert switched == (chapter.title in sided), chapter.title


def test_post_run_carries_the_seed_text_holds_and_safety_notes(real_plans):
    said = [cue.text for cue in real_plans["post-run"].timeline.cues]
    assert "Keep the knee comfortable on a towel. Stop this stretch at any point if you feel knee pain." in said
    assert "Inhale, lift the belly high, tailbone out." in said
    assert said.count("13 slow breaths. Breathe in.") == 2  # half fish, standard: 10-15 breaths either side
    assert said.count("Last breath. Breathe in.") == 2
    assert said.count("Relax into the stretch. Hold for 1 minute.") == 6  # hamstring: 30-90 s, 2-3 rounds a side


def ranges_of(steps, exercise):
    for index, step in enumerate(steps):
        for field, span in getattr(step, "ranges", ()):
            yield exercise, index, type(step).__name__, field, (span.low, span.high)
        if isinstance(step, Repeat):
            yield from ranges_of(step.steps, exercise)


def test_post_run_carries_the_texts_ranges_as_written():
    routine = session.load("post-run")
    found = [(e.name, "-", "Exercise", f, (s.low, s.high)) for e in routine.exercises for f, s in e.ranges]
    found = [(name, field, span) for name, _i, _k, field, span in found]
    steps = [
        (name, kind, field, span)
        for exercise in routine.exercises
        for name, _index, kind, field, span in ranges_of(exercise.steps, exercise.name)
    ]
    assert found == [
        ("Hamstring stretch with isometrics", "rounds", (2, 3)),  # steps 1-3, then "repeat steps 1-3 once or twice"
        ("Combat stance ankle stretch with isometrics", "rounds", (2, 3)),
    ]
    assert steps == [
        ("Couch stretch", "Hold", "seconds", (15, 30)),  # "30-60 seconds each side", over two positions
        ("Couch stretch", "Hold", "seconds", (15, 30)),
        ("90/90 gluteal kinetic stretch", "Repeat", "count", (5, 10)),  # "Repeat 5-10x"
        ("90/90 gluteal kinetic stretch", "Hold", "seconds", (5, 10)),  # "holding for 5-10 seconds"
        ("90/90 internal rotation kinetic stretch", "Repeat", "count", (5, 10)),
        ("90/90 internal rotation kinetic stretch", "Hold", "seconds", (5, 10)),
        ("Hamstring stretch with isometrics", "Hold", "seconds", (30, 90)),  # "Hold for 30-90 seconds"
        ("Half fish pose", "Breathe", "count", (10, 15)),  # "Hold for 10-15 breaths either side"
        ("Combat stance ankle stretch with isometrics", "Hold", "seconds", (30, 60)),  # no number in the text
        ("Seated toe extension with isometrics", "Hold", "seconds", (20, 30)),  # "for >15 seconds"
    ]


def test_post_run_easy_and_deep_differ_at_the_ends_of_the_texts_ranges(tmp_path):
    said = {}
    for level in ("easy", "deep"):
        routine = at_level(session.load("post-run"), parse_level(level))
        settings = SpeechSettings(voice="fake/low", rate=routine.voice.rate)
        said[level] = [c.text for c in session.prepare(routine, settings, tmp_path, engine="fake").timeline.cues]
    easy, deep = said["easy"], said["deep"]
    assert easy.count("5 times. 1.") == 4 and deep.count("10 times. 1.") == 4  # both 90/90 stretches, both sides
    assert "10 times. 1." not in easy and "5 times. 1." not in deep
    assert easy.count("10 slow breaths. Breathe in.") == 2 and deep.count("15 slow breaths. Breathe in.") == 2
    assert easy.count("Relax into the stretch. Hold for 30 seconds.") == 4  # two rounds a side
    assert deep.count("Relax into the stretch. Hold for 1 minute 30 seconds.") == 6  # three rounds a side
    assert easy[0].startswith("Post-run mobility, easy level.") and deep[0].startswith("Post-run mobility, deep level.")


@pytest.mark.parametrize("name", BUILTINS)
def test_every_timed_hold_and_rest_is_announced_with_its_duration(name, real_plans):
    timeline = real_plans[name].timeline
    for span in timeline.spans:
        if span.kind in ("hold", "rest"):
            before = [cue for cue in timeline.cues if cue.end_ms <= span.start_ms and not cue.overlay][-1]
            seconds = round((span.end_ms - span.start_ms) / 1000)
            assert f"for {Phrases().duration(seconds)}." in before.text, (before.text, span)


def test_post_run_says_each_hold_once_and_its_duration_once(real_plans):
    said = [cue.text for cue in real_plans["post-run"].timeline.cues]
    for before, after in zip(said, said[1:]):
        assert not (after.startswith("Hold for") and before.startswith("Hold")), (before, after)
    assert not [text for text in said if text.lower().count("hold") > 1]
    assert not [text for text in said if text.lower().startswith(("inhale, inhale", "exhale, exhale"))]


def test_the_built_ins_speak_90_90_as_a_person_says_it(real_plans):
    from coach.speech.pronounce import Pronouncer

    routine = real_plans["post-run"].routine
    shown = [cue.text for cue in real_plans["post-run"].timeline.cues]
    assert any("90/90" in text for text in shown)  # the screen and transcript keep the written form
    assert not any("90/90" in Pronouncer(routine.pronounce).spoken(text) for text in shown)


@pytest.mark.parametrize("name", BUILTINS)
def test_length_follows_from_the_routine_with_no_drift(name, real_plans):
    prepared = real_plans[name]
    lengths = {text: clip_ms(clip.seconds) for text, clip in prepared.report.clips.items()}
    grid = chapter_grid_ms(prepared.clip_rate)  # each chapter starts on the MP3 frame grid: the rest before it is padded
    expected = 0
    for item in prepared.script:
        if isinstance(item, Chapter):
            expected = -(-expected // grid) * grid
        elif isinstance(item, Speak) and not item.overlay:
            expected += max(lengths[item.text], round(item.slot * 1000))
        elif isinstance(item, Pause):
            expected += round(item.seconds * 1000)
    assert prepared.timeline.duration_ms == expected
    starts = [cue.start_ms for cue in prepared.timeline.cues]
    assert starts == sorted(starts)


@pytest.mark.parametrize("name", BUILTINS)
def test_built_in_routines_fit_their_slots_and_say_their_true_length(name, real_plans):
    prepared = real_plans[name]
    assert prepared.timeline.stretched == ()
    minutes = round(prepared.timeline.duration_ms / 60_000)
    assert f"about {minutes} minutes." in prepared.timeline.cues[0].text
