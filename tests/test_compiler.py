"""The compiler: sides, rounds, repeats, breaths, holds, rests and generated speech, expanded in order."""

from __future__ import annotations

import pytest

from coach.timeline.compiler import MAX_SESSION_SECONDS, compile_routine, estimated_minutes, routine_warnings
from coach.timeline.cues import Chapter, Pause, Speak, Tone, spoken_texts
from coach.errors import RoutineError
from coach.routine.model import Breath, Breathe, Exercise, Hold, Pace, Repeat, Rest, Routine, Say, Where

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


def test_repeat_with_count_says_how_many_then_counts_and_announces_the_last_one():
    step = Repeat(3, (Say("Rep {rep} of {reps}."),), count_aloud=True)
    assert texts(compile_routine(routine(Exercise("E", (step,))), minutes=1))[2:-1] == [
        "3 times. 1.", "Rep 1 of 3.", "2.", "Rep 2 of 3.", "Last one.", "Rep 3 of 3.",
    ]


def test_a_counted_repeat_of_one_says_no_count():
    step = Repeat(1, (Say("Press."),), count_aloud=True)
    assert texts(compile_routine(routine(Exercise("E", (step,))), minutes=1))[2:-1] == ["Press."]


def test_a_long_repeat_shortens_its_breath_cues_after_two_and_says_the_last_one_in_full_before_a_hold():
    inhale = Breath("in", "Lift the belly high, tailbone out.")
    exhale = Breath("out", "Belly and chest over the thigh.")
    steps = (Repeat(6, (inhale, exhale), count_aloud=True), Hold(8.0, "Stay over the thigh."))
    said = texts(compile_routine(routine(Exercise("E", steps)), minutes=1))[2:-1]
    full = ["Inhale, lift the belly high, tailbone out.", "Exhale, belly and chest over the thigh."]
    short = ["Inhale.", "Exhale."]
    assert said == [
        "6 times. 1.", *full, "2.", *full, "3.", *short, "4.", *short, "5.", *short,
        "Last one, then hold it.", *full, "Stay over the thigh. Hold for 8 seconds.",
    ]


def test_a_long_uncounted_repeat_shortens_its_whole_block_and_still_announces_the_last_one():
    steps = (Repeat(4, (Breath("in", "Knee forward, to the wall."), Breath("out", "Back."))),)
    said = texts(compile_routine(routine(Exercise("E", steps)), minutes=1))[2:-1]
    assert said == [
        "Inhale, knee forward, to the wall.", "Exhale, back.",
        "Inhale, knee forward, to the wall.", "Exhale, back.",
        "Inhale.", "Exhale.",
        "Last one.", "Inhale, knee forward, to the wall.", "Exhale, back.",
    ]


def test_a_long_repeat_of_short_cues_keeps_them_whole():
    steps = (Repeat(4, (Breath("in", "Forward."), Breath("out", "Back."))),)
    said = texts(compile_routine(routine(Exercise("E", steps)), minutes=1))[2:-1]
    assert said == ["Inhale, forward.", "Exhale, back."] * 3 + ["Last one.", "Inhale, forward.", "Exhale, back."]


def test_a_short_uncounted_repeat_is_said_as_written():
    steps = (Repeat(3, (Say("Again."),)),)
    assert texts(compile_routine(routine(Exercise("E", steps)), minutes=1))[2:-1] == ["Again."] * 3


def test_sequence_phrasing_follows_the_phrase_book():
    phrases = {"rep_first": "{reps} Mal.", "rep": "{rep}!", "rep_last": "Letzte.", "inhale_again": "Ein: {text}"}
    steps = (Repeat(4, (Breath("in", "Arme hoch und weit."),), count_aloud=True),)
    said = texts(compile_routine(routine(Exercise("E", steps), phrases=phrases), minutes=1))[2:-1]
    assert said == [
        "4 Mal.", "Inhale, arme hoch und weit.", "2!", "Inhale, arme hoch und weit.",
        "3!", "Ein: Arme hoch und weit.", "Letzte.", "Inhale, arme hoch und weit.",
    ]


def test_inhale_and_exhale_take_a_breath_slot_and_lower_the_first_letter():
    steps = (Breath("in", "Lift the belly high."), Breath("out", "ACL safe fold.", seconds=6.0))
    script = compile_routine(routine(Exercise("E", steps)), minutes=1)
    spoken = [item for item in script if isinstance(item, Speak) and item.slot]
    assert spoken == [Speak("Inhale, lift the belly high.", slot=4.0), Speak("Exhale, ACL safe fold.", slot=6.0)]


def test_breathe_generates_in_and_out_cues_in_breath_slots():
    script = compile_routine(routine(Exercise("E", (Breathe(2),))), minutes=1)
    slotted = [(item.text, item.slot) for item in script if isinstance(item, Speak) and item.slot]
    assert slotted == [
        ("2 slow breaths. Breathe in.", 4.0), ("Breathe out.", 4.0),
        ("Last breath. Breathe in.", 4.0), ("Breathe out.", 4.0),
    ]


def test_one_breath_is_just_in_and_out():
    said = texts(compile_routine(routine(Exercise("E", (Breathe(1),))), minutes=1))[2:-1]
    assert said == ["Breathe in.", "Breathe out."]


def test_a_long_breathe_is_counted_short_and_its_last_breath_announced():
    said = texts(compile_routine(routine(Exercise("E", (Breathe(12),))), minutes=1))[2:-1]
    assert len(said) == 24
    assert said[:6] == ["12 slow breaths. Breathe in.", "Breathe out.", "2. In.", "Out.", "3. In.", "Out."]
    assert said[-4:] == ["11. In.", "Out.", "Last breath. Breathe in.", "Breathe out."]
    assert said.count("Breathe in.") == 0


def test_hold_speaks_its_cue_then_times_with_halfway_and_countdown():
    pace = Pace(breath=4.0, rest=0.0, switch=0.0, countdown=3, halfway=30.0)
    script = compile_routine(routine(Exercise("E", (Hold(45.0, "Hold it."),)), pace=pace), minutes=1)
    start = script.index(Speak("Hold it for 45 seconds."))
    assert script[start : start + 12] == (
        Speak("Hold it for 45 seconds."),
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
        Tone("end"),
    )


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


def test_rest_step_inside_an_exercise_is_a_spoken_timed_rest():
    script = compile_routine(routine(Exercise("E", (Rest(10.0),))), minutes=1)
    assert Pause(10.0, "rest") in script
    assert "Rest for 10 seconds." in texts(script)


def test_rest_step_says_its_line_with_the_duration_like_a_hold():
    steps = (Rest(10.0, "Shake out the leg."), Rest(20.0, "Rest and breathe."))
    said = texts(compile_routine(routine(Exercise("E", steps)), minutes=1))[2:-1]
    assert said == ["Shake out the leg. Rest for 10 seconds.", "Rest and breathe for 20 seconds."]


@pytest.mark.parametrize(
    ("line", "spoken"),
    [
        ("Tuck the pelvis under and draw your buttocks back to the wall.",
         "Tuck the pelvis under and draw your buttocks back to the wall. Hold for 30 seconds."),
        ("Hold.", "Hold for 30 seconds."),
        ("Hold it there.", "Hold it there for 30 seconds."),
        ("Relax. Hold that press!", "Relax. Hold that press for 30 seconds."),
        ("Hold for ten seconds.", "Hold for ten seconds."),
        ("Stay here, thirty seconds or so.", "Stay here, thirty seconds or so."),
        ("Holding steady.", "Holding steady. Hold for 30 seconds."),
        ("Relax into the stretch", "Relax into the stretch. Hold for 30 seconds."),
        ("Hold it there", "Hold it there for 30 seconds."),
        ("Second position, on the psoas.", "Second position, on the psoas. Hold for 30 seconds."),
        ("Keep the second side still.", "Keep the second side still. Hold for 30 seconds."),
        ("Stay a minute.", "Stay a minute."),
        ("Stay for 1 minute.", "Stay for 1 minute."),
    ],
)
def test_a_hold_says_its_duration_once_merged_into_its_own_line(line, spoken):
    said = texts(compile_routine(routine(Exercise("E", (Hold(30.0, line),))), minutes=1))[2:-1]
    assert said == [spoken]


def test_a_hold_without_a_line_says_only_its_duration():
    assert texts(compile_routine(routine(Exercise("E", (Hold(30.0),))), minutes=1))[2:-1] == ["Hold for 30 seconds."]


@pytest.mark.parametrize(
    ("step", "spoken"),
    [
        (Breath("in", "Inhale and lift the chest."), "Inhale and lift the chest."),
        (Breath("out", "exhale."), "Exhale."),
        (Breath("out", "Exhale, exhale."), "Exhale, exhale."),
        (Breath("in", "Inhaling deeply, lift."), "Inhale, inhaling deeply, lift."),
    ],
)
def test_an_inhale_or_exhale_never_repeats_the_word_the_author_wrote_first(step, spoken):
    assert texts(compile_routine(routine(Exercise("E", (step,))), minutes=1))[2:-1] == [spoken]


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
        "Hold for 3 seconds.",
    ]


@pytest.mark.parametrize(
    ("seconds", "spoken"),
    [(59.6, "1 minute"), (90.5, "1 minute 31 seconds"), (90.4, "1 minute 30 seconds"), (0.2, "1 second"),
     (2.5, "3 seconds"), (45, "45 seconds"), (119.5, "2 minutes")],
)
def test_one_number_rule_for_every_spoken_duration(seconds, spoken):
    pace = Pace(breath=4.0, rest=seconds, switch=0.0, countdown=0, halfway=None)
    steps = (Hold(float(seconds)), Rest(float(seconds)))
    said = texts(compile_routine(routine(Exercise("A", steps), Exercise("B", (Say("b"),)), pace=pace), minutes=1))
    assert f"Hold for {spoken}." in said
    assert f"Rest for {spoken}." in said
    assert f"Rest for {spoken}. Next up: B." in said


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


def test_warning_for_a_side_label_outside_the_usual_set_at_its_position_unless_listed():
    sides = ("Rigth", "left")
    places = (Where("r.yaml", 4, 13), Where("r.yaml", 4, 20))
    exercise = Exercise("E", (Say("{Side}."),), sides=sides, side_where=places)
    warnings = routine_warnings(routine(exercise))
    assert [str(w) for w in warnings] == [
        "r.yaml:4:13: warning: side 'Rigth' is not a usual side label "
        "(did you mean 'right'? list the routine's own in 'side_names')"
    ]
    listed = Routine(title="T", exercises=(exercise,), side_names=("rigth",))
    assert routine_warnings(listed) == []


def test_a_routine_compiled_again_gives_the_kept_script_and_an_equal_routine_its_own():
    import dataclasses

    reach = routine(Exercise(name="Reach", steps=(Say("Reach up."), Hold(seconds=30))))
    script = compile_routine(reach)
    assert compile_routine(reach) is script
    assert compile_routine(reach, minutes=estimated_minutes(reach)) is script  # the length it estimated
    longer = compile_routine(reach, minutes=40)
    assert longer is not script and "about 40 minutes" in texts(longer)[0]
    twin = dataclasses.replace(reach)
    assert compile_routine(twin) == script and compile_routine(twin) is not script
