"""The scheduler: each cue starts when the previous slot ends; spans, tones and chapters at exact times."""

from __future__ import annotations

import pytest

from coach.timeline.cues import Chapter, Pause, Rep, Round, Side, Speak, Stage, Tone
from coach.routine.model import Where
from coach.timeline.scheduler import clip_ms, schedule
from coach.timeline.timeline import ChapterSpan, CountSpan, CueEvent, SideSpan, Span, StageSpan, Stretch, ToneEvent


def test_cues_follow_each_other_by_their_clip_lengths():
    script = (Chapter("A"), Speak("one"), Speak("two"), Pause(2.0), Speak("three"))
    timeline = schedule(script, {"one": 1.2, "two": 0.5, "three": 0.25})
    assert [(c.start_ms, c.end_ms, c.text) for c in timeline.cues] == [
        (0, 1200, "one"), (1200, 1700, "two"), (3700, 3950, "three"),
    ]
    assert timeline.duration_ms == 3950


def test_a_breath_slot_lasts_at_least_its_length():
    script = (Chapter("A"), Speak("in", slot=4.0), Speak("out", slot=4.0))
    timeline = schedule(script, {"in": 1.5, "out": 1.0})
    assert [c.start_ms for c in timeline.cues] == [0, 4000]
    assert timeline.duration_ms == 8000


def test_a_cue_longer_than_its_slot_stretches_it_and_is_reported():
    where = Where("r.yaml", 4, 9)
    script = (Chapter("A"), Speak("long", slot=2.0, where=where), Speak("next"))
    timeline = schedule(script, {"long": 2.7504, "next": 1.0})
    assert [c.start_ms for c in timeline.cues] == [0, 2751]
    assert timeline.stretched == (Stretch(where, "long", 2000, 2751),)


def test_overlay_cues_do_not_move_the_cursor():
    script = (Chapter("A"), Pause(10.0, "hold"), Speak("Halfway.", overlay=True), Pause(10.0, "hold"), Speak("after"))
    timeline = schedule(script, {"Halfway.": 0.8, "after": 1.0})
    assert timeline.cues == (CueEvent(10000, 10800, "Halfway.", 0, True), CueEvent(20000, 21000, "after", 0, False))


def test_a_pause_that_continues_the_one_before_extends_its_span_across_tones_and_overlays():
    script = (
        Chapter("A"), Speak("Hold."), Tone("start"), Pause(5.0, "hold", "Reach."), Tone("count"),
        Pause(1.0, "hold", "Reach.", continues=True), Tone("end"), Speak("Rest."), Pause(3.0, "rest"), Pause(1.0, "gap"),
    )
    timeline = schedule(script, {"Hold.": 1.0, "Rest.": 1.0})
    assert timeline.spans == (Span(1000, 7000, "hold", 0, "Reach."), Span(8000, 11000, "rest", 0))
    assert timeline.tones == (ToneEvent(1000, "start"), ToneEvent(6000, "count"), ToneEvent(7000, "end"))
    assert timeline.duration_ms == 12000


def test_chapters_run_from_their_start_to_the_next_start_and_the_last_to_the_end():
    script = (Chapter("A"), Speak("a"), Chapter("B"), Speak("b"), Pause(1.0))
    timeline = schedule(script, {"a": 2.0, "b": 3.0})
    assert timeline.chapters == (ChapterSpan("A", 0, 2000), ChapterSpan("B", 2000, 6000))
    assert [c.chapter for c in timeline.cues] == [0, 1]
    assert timeline.chapter_at(1999) == 0 and timeline.chapter_at(2000) == 1 and timeline.chapter_at(99999) == 1


def test_an_overlay_running_past_the_end_extends_the_duration():
    script = (Chapter("A"), Pause(1.0, "hold"), Speak("late", overlay=True))
    assert schedule(script, {"late": 2.0}).duration_ms == 3000


def test_no_drift_over_thousands_of_fractional_pauses():
    script = (Chapter("A"),) + (Pause(0.1, "hold"), Tone("count")) * 3000
    timeline = schedule(script, {})
    assert timeline.duration_ms == 300_000
    assert timeline.tones[-1].start_ms == 300_000


def test_clip_lengths_round_up_to_whole_milliseconds():
    assert clip_ms(1.0) == 1000
    assert clip_ms(1.0001) == 1001
    assert clip_ms(0.0) == 0


def test_a_missing_clip_length_is_an_error():
    with pytest.raises(KeyError):
        schedule((Chapter("A"), Speak("unrendered")), {})


def test_json_has_the_contract_fields():
    timeline = schedule((Chapter("A"), Speak("a"), Tone("end")), {"a": 1.5}, title="T")
    payload = timeline.to_json()
    assert payload["title"] == "T" and payload["duration"] == 1.5
    assert payload["chapters"] == [{"title": "A", "start": 0.0, "end": 1.5}]
    assert payload["cues"] == [{"start": 0.0, "end": 1.5, "text": "a", "chapter": "A"}]
    assert payload["tones"] == [{"start": 1.5, "kind": "end"}]


def test_back_to_back_holds_stay_two_spans_unless_the_second_continues_the_first():
    script = (Chapter("A"), Pause(5.0, "hold", "One."), Pause(5.0, "hold", "Two."))
    timeline = schedule(script, {})
    assert timeline.spans == (Span(0, 5000, "hold", 0, "One."), Span(5000, 10000, "hold", 0, "Two."))


def test_markers_become_side_rep_round_and_stage_spans_closed_by_the_next_marker_or_chapter():
    script = (
        Chapter("A"), Stage("intro"), Speak("intro"), Stage(None),
        Side("left"), Round(1, 2), Rep(1, 2), Speak("one"), Rep(2, 2), Speak("two"), Rep(None, None),
        Round(2, 2), Speak("three"), Side("right"), Speak("four"), Round(None, None), Side(None),
        Stage("between"), Speak("rest"), Pause(2.0, "rest"),
        Chapter("B"), Stage("outro"), Speak("bye"),
    )
    timeline = schedule(script, {text: 1.0 for text in ("intro", "one", "two", "three", "four", "rest", "bye")})
    assert timeline.stages == (StageSpan(0, 1000, "intro"), StageSpan(5000, 8000, "between"), StageSpan(8000, 9000, "outro"))
    assert timeline.sides == (SideSpan(1000, 4000, 0, "left"), SideSpan(4000, 5000, 0, "right"))
    # Without its closing marker a side runs to the chapter's end.
    open_side = schedule((Chapter("A"), Side("left"), Speak("one"), Chapter("B"), Speak("two")), {"one": 1.0, "two": 1.0})
    assert open_side.sides == (SideSpan(0, 1000, 0, "left"),)
    assert timeline.reps == (CountSpan(1000, 2000, 1, 2), CountSpan(2000, 3000, 2, 2))
    assert timeline.rounds == (CountSpan(1000, 3000, 1, 2), CountSpan(3000, 5000, 2, 2))


def test_a_breath_cue_knows_where_its_slot_ends():
    timeline = schedule((Chapter("A"), Speak("in", slot=4.0), Speak("say")), {"in": 1.5, "say": 1.0})
    assert [(c.end_ms, c.slot_end_ms) for c in timeline.cues] == [(1500, 4000), (5000, 0)]


def test_with_a_chapter_grid_every_chapter_starts_on_it_and_a_silence_goes_before_the_rest_leading_into_it():
    script = (
        Chapter("A"), Speak("a"), Speak("Rest."), Pause(5.0, "rest"), Tone("count"), Pause(1.0, "rest", continues=True),
        Tone("end"), Chapter("B"), Speak("b"), Chapter("C"), Speak("c"),
    )  # fmt: skip
    timeline = schedule(script, {"a": 1.234, "Rest.": 0.5, "b": 0.5, "c": 0.5}, chapter_grid_ms=1280)
    assert [c.start_ms for c in timeline.chapters] == [0, 8960, 10240]  # 1234 + 500 + 6000 -> 8960; 9460 -> 10240
    assert [(c.start_ms, c.text) for c in timeline.cues] == [(0, "a"), (2460, "Rest."), (8960, "b"), (10240, "c")]
    assert [(s.start_ms, s.end_ms) for s in timeline.spans] == [(2960, 8960)]  # the rest lasts what it says, 6 s
    assert [(t.start_ms, t.kind) for t in timeline.tones] == [(7960, "count"), (8960, "end")]  # its countdown leads in


def test_a_grid_of_1280_ms_is_a_whole_number_of_576_sample_frames_at_22050_hz():
    from coach.output.mp3frames import chapter_grid_ms

    assert chapter_grid_ms(22050) == 1280 and 1280 * 22050 % (1000 * 576) == 0
    assert chapter_grid_ms(16000) == 36 and chapter_grid_ms(48000) == 24


# A timeline that grows as clips are measured (a live session that starts before synthesis is done) -------------


def _prefix(timeline, before_ms: int) -> tuple:
    """Everything in `timeline` that starts before `before_ms`, with chapter starts: what a player has committed to."""
    return (
        [c for c in timeline.cues if c.start_ms < before_ms],
        [t for t in timeline.tones if t.start_ms < before_ms],
        [(s.start_ms, s.kind, s.chapter, s.text) for s in timeline.spans if s.start_ms < before_ms],
        [(c.title, c.start_ms) for c in timeline.chapters if c.start_ms < before_ms],
    )


@pytest.mark.parametrize("grid_ms", [0, 1280])
@pytest.mark.parametrize("name", ["post-run", "pre-run"])
def test_clips_measured_in_time_order_never_move_what_is_settled(name, grid_ms):
    from coach import session
    from coach.timeline.compiler import compile_routine

    script = compile_routine(session.load(name))
    texts = list(dict.fromkeys(item.text for item in script if isinstance(item, Speak)))
    truth = {text: 0.35 + 0.061 * len(text) for text in texts}  # lengths unlike the estimate
    final = schedule(script, truth, chapter_grid_ms=grid_ms)
    assert final.settled_ms is None and final.complete

    measured: dict[str, float] = {}
    settled_points = []
    for text in texts:  # first use in script order is time order
        growing = schedule(script, measured, chapter_grid_ms=grid_ms, estimate=lambda t: 0.4 * len(t.split()))
        assert growing.settled_ms is not None and not growing.complete
        settled_points.append(growing.settled_ms)
        assert _prefix(growing, growing.settled_ms) == _prefix(final, growing.settled_ms)
        measured[text] = truth[text]
    done = schedule(script, measured, chapter_grid_ms=grid_ms, estimate=lambda t: 0.0)
    assert done.settled_ms is None and done == final
    assert settled_points == sorted(settled_points) and settled_points[0] == 0
    assert settled_points[-1] > final.duration_ms // 2  # the last clip to come is late in the session


def test_the_pad_before_a_chapter_waits_for_the_rest_announcement_it_depends_on():
    script = (Chapter("A"), Speak("go"), Pause(1.0), Speak("Rest."), Pause(5.0, "rest"), Chapter("B"), Speak("b"))
    growing = schedule(script, {"go": 1.0}, chapter_grid_ms=1280, estimate=lambda t: 1.0)
    assert growing.settled_ms == 2000  # where the pad goes: its length depends on "Rest." still to come
    final = schedule(script, {"go": 1.0, "Rest.": 0.5, "b": 1.0}, chapter_grid_ms=1280)
    assert final.chapters[1].start_ms % 1280 == 0 and final.cues[1].start_ms > 2000
