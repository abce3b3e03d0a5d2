"""The compiler: sides, rounds, repeats, breaths, holds, rests and generated speech, expanded in order."""

from __future__ import annotations

import pytest

from coach.compiler import MAX_SESSION_SECONDS, compile_routine, estimated_minutes, routine_warnings
from coach.cues import Chapter, Pause, Speak, Tone, spoken_texts
from coach.errors import RoutineError
from coach.model import Breath, Breathe, Exercise, Hold, Pace, Repeat, Rest, Routine, Say, Where

QUIET = Pace(breath=4.0, rest=0.0, switch=0.0, countdown=0, halfway=None)


def routine(*exercises: Exercise, pace: Pace = QUIET, phrases=None) -> Routine:
    return Routine(title="Test", exercises=tuple(exercises), pace=pace, phrases=phrases or {})


def texts(script) -> list[str]:
    return [item.text for item in script if isinstance(item, Speak)]


def test_intro_names_title_count_and_minutes_then_exercise_then_outro():
    script = compile_routine(routine(Exercise("Reach", (Say("Reach up."),))), minutes=3)
    assert texts(script) == [
        "Test. 1 exercise, about 3 minutes.",
        "Reach.",
        "Reach up.",
        "Well done. That is the end of Test.",
    ]
    assert script[0] == Chapter("Reach")


def test_sides_run_steps_once_per_side_with_side_and_other_filled():
    exercise = Exercise(
        "Lunge",
        (Say("{Side} foot forward, {other} knee down."),),
        setup="Kneel with your {side} foot forward.",
        sides=("left", "right"),
    )
    assert texts(compile_routine(routine(exercise), minutes=1))[1:-1] == [
        "Lunge.",
        "Kneel with your left foot forward.",
        "Left side.",
        "Left foot forward, right knee down.",
        "Switch sides. Right side.",
        "Right foot forward, left knee down.",
    ]


def test_switch_pause_follows_the_switch_cue():
    pace = Pace(breath=4.0, rest=0.0, switch=5.0, countdown=0, halfway=None)
    script = compile_routine(routine(Exercise("E", (Say("Go."),), sides=("left", "right")), pace=pace), minutes=1)
    index = script.index(Speak("Switch sides. Right side."))
    assert script[index + 1] == Pause(5.0, "switch")


def test_rounds_repeat_steps_per_side_and_announce_each_round():
    exercise = Exercise("E", (Say("Press, round {round} of {rounds}."),), sides=("left",), rounds=2)
    assert texts(compile_routine(routine(exercise), minutes=1))[2:-1] == [
        "Left side.",
        "Round 1 of 2.",
        "Press, round 1 of 2.",
        "Round 2 of 2.",
        "Press, round 2 of 2.",
    ]


def test_repeat_with_count_speaks_rep_numbers_and_fills_rep_templates():
    step = Repeat(3, (Say("Rep {rep} of {reps}."),), count_aloud=True)
    assert texts(compile_routine(routine(Exercise("E", (step,))), minutes=1))[2:-1] == [
        "1.", "Rep 1 of 3.", "2.", "Rep 2 of 3.", "3.", "Rep 3 of 3.",
    ]


def test_inhale_and_exhale_take_a_breath_slot_and_lower_the_first_letter():
    steps = (Breath("in", "Lift the belly high."), Breath("out", "ACL safe fold.", seconds=6.0))
    script = compile_routine(routine(Exercise("E", steps)), minutes=1)
    spoken = [item for item in script if isinstance(item, Speak) and item.slot]
    assert spoken == [Speak("Inhale, lift the belly high.", slot=4.0), Speak("Exhale, ACL safe fold.", slot=6.0)]


def test_breathe_generates_in_and_out_cues_in_breath_slots():
    script = compile_routine(routine(Exercise("E", (Breathe(2),))), minutes=1)
    slotted = [(item.text, item.slot) for item in script if isinstance(item, Speak) and item.slot]
    assert slotted == [("Breathe in.", 4.0), ("Breathe out.", 4.0)] * 2


def test_hold_speaks_its_cue_then_times_with_halfway_and_countdown():
    pace = Pace(breath=4.0, rest=0.0, switch=0.0, countdown=3, halfway=30.0)
    script = compile_routine(routine(Exercise("E", (Hold(45.0, "Hold it."),)), pace=pace), minutes=1)
    start = script.index(Speak("Hold it."))
    assert script[start : start + 12] == (
        Speak("Hold it."),
        Speak("Hold for 45 seconds."),
        Tone("start"),
        Pause(22.5, "hold", "Hold it."),
        Speak("Halfway.", overlay=True),
        Pause(19.5, "hold", "Hold it.", continues=True),
        Tone("count"),
        Pause(1.0, "hold", "Hold it.", continues=True),
        Tone("count"),
        Pause(1.0, "hold", "Hold it.", continues=True),
        Tone("count"),
        Pause(1.0, "hold", "Hold it.", continues=True),
    )
    assert script[start + 12] == Tone("end")


def test_short_hold_has_no_halfway_and_a_countdown_no_longer_than_itself():
    pace = Pace(breath=4.0, rest=0.0, switch=0.0, countdown=3, halfway=30.0)
    script = compile_routine(routine(Exercise("E", (Hold(2.0),)), pace=pace), minutes=1)
    hold = script[script.index(Speak("Hold for 2 seconds.")) + 1 :]
    assert hold[:6] == (
        Tone("start"), Tone("count"), Pause(1.0, "hold"), Tone("count"), Pause(1.0, "hold", continues=True), Tone("end"),
    )
    assert Speak("Halfway.", overlay=True) not in script


def test_rest_between_exercises_names_the_next_one_and_the_last_has_none():
    pace = Pace(breath=4.0, rest=15.0, switch=0.0, countdown=0, halfway=None)
    first = Exercise("One", (Say("a"),), rest=20.0)
    script = compile_routine(routine(first, Exercise("Two", (Say("b"),)), pace=pace), minutes=1)
    assert "Rest for 20 seconds. Next up: Two." in texts(script)
    assert sum(item.seconds for item in script if isinstance(item, Pause) and item.kind == "rest") == 20.0
    assert [item.title for item in script if isinstance(item, Chapter)] == ["One", "Two"]


def test_rest_step_inside_an_exercise_is_a_timed_rest():
    script = compile_routine(routine(Exercise("E", (Rest(10.0),))), minutes=1)
    assert Pause(10.0, "rest") in script


def test_spoken_note_and_phrase_overrides():
    exercise = Exercise("Couch", (Say("Go."),), note="Stop if your knee hurts.", say_note=True)
    phrases = {"exercise": "Next: {name}!", "outro": "Fertig.", "intro": "{title}."}
    assert texts(compile_routine(routine(exercise, phrases=phrases), minutes=1)) == [
        "Test.", "Next: Couch!", "Stop if your knee hurts.", "Go.", "Fertig.",
    ]


def test_durations_are_spoken_as_words():
    pace = Pace(breath=4.0, rest=0.0, switch=0.0, countdown=0, halfway=None)
    holds = (Hold(90.0), Hold(60.0), Hold(1.0), Hold(3600.0), Hold(2.5))
    said = texts(compile_routine(routine(Exercise("E", holds), pace=pace), minutes=1))
    assert [text for text in said if text.startswith("Hold")] == [
        "Hold for 1 minute 30 seconds.",
        "Hold for 1 minute.",
        "Hold for 1 second.",
        "Hold for 1 hour.",
        "Hold for 2.5 seconds.",
    ]


def test_spoken_texts_are_distinct_in_first_use_order():
    step = Repeat(3, (Say("Again."),))
    assert spoken_texts(compile_routine(routine(Exercise("E", (step,))), minutes=1)).count("Again.") == 1


def test_estimated_minutes_follow_the_timed_content():
    ten_minutes = Exercise("E", (Hold(600.0),))
    assert estimated_minutes(routine(ten_minutes)) == 10


def test_routine_longer_than_the_limit_is_refused_before_expansion():
    where = Where("r.yaml", 7, 5)
    huge = Repeat(100, (Repeat(100, (Hold(600.0),)),))
    with pytest.raises(RoutineError) as caught:
        compile_routine(routine(Exercise("E", (huge,), where=where)))
    assert [str(d) for d in caught.value.diagnostics] == [
        f"r.yaml:7:5: error: routine lasts more than {MAX_SESSION_SECONDS // 3600} hours by this exercise"
    ]


def test_too_many_cues_are_refused_even_when_short():
    where = Where("r.yaml", 3, 5)
    chatty = Repeat(100, (Repeat(100, (Repeat(3, (Say("a"),)),)),))  # 30,000 cues, some 40 min of speech
    with pytest.raises(RoutineError, match="more than 20000 cues"):
        compile_routine(routine(Exercise("E", (chatty,), where=where)))


def test_warning_for_a_hold_shorter_than_its_countdown():
    pace = Pace(countdown=5)
    where = Where("r.yaml", 9, 9)
    warnings = routine_warnings(routine(Exercise("E", (Repeat(2, (Hold(3.0, where=where),)),)), pace=pace))
    assert [str(w) for w in warnings] == ["r.yaml:9:9: warning: hold of 3s is shorter than the 5-beep countdown"]
