"""The live player driven by hand: `pull` advances the audio clock, so no test sleeps or needs a device."""

from __future__ import annotations

import threading

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.audio.mixer import Mixer, frame_at
from coach.audio.player import BACK_GRACE_MS, CueStarted, Player, SessionEnded, frames_to_ms
from coach.timeline.scheduler import schedule
from coach.timeline.cues import Chapter, Pause, Speak, Tone

RATE = 8000


class RampMixer:
    """A stand-in mix whose every frame holds its own index (mod 2**20), so gaps and repeats show."""

    def __init__(self, total_frames: int, sample_rate: int = RATE):
        self.sample_rate = sample_rate
        self.total_frames = total_frames
        self.rendered: list[tuple[int, int]] = []

    def render(self, start: int, count: int) -> np.ndarray:
        self.rendered.append((start, count))
        return (np.arange(start, start + count) % (1 << 20)).astype(np.float32)


class FailingMixer(RampMixer):
    def render(self, start: int, count: int) -> np.ndarray:
        raise RuntimeError("mixer broke")


def three_chapter_timeline():
    """Three chapters of cues, holds and tones, with clip lengths chosen to fall between frames."""
    script = (
        Chapter("Intro"), Speak("Welcome."), Pause(1.0),
        Chapter("Couch stretch"), Speak("Couch stretch."), Speak("Hold for 6 seconds."), Tone("start"),
        Pause(3.0, "hold"), Speak("Halfway.", overlay=True), Pause(3.0, "hold"), Tone("end"),
        Chapter("Calf raise"), Speak("Calf raise."), Speak("Inhale, rise.", slot=2.0), Speak("Exhale, lower.", slot=2.0),
        Speak("Well done."),
    )
    seconds = {
        "Welcome.": 1.2345, "Couch stretch.": 0.9, "Hold for 6 seconds.": 1.4, "Halfway.": 0.6,
        "Calf raise.": 0.8, "Inhale, rise.": 1.1, "Exhale, lower.": 1.3, "Well done.": 1.0,
    }
    return schedule(script, seconds, title="Test"), seconds


def clips_for(seconds: dict[str, float], rate: int) -> dict[str, np.ndarray]:
    """A distinct tone per cue, int16 like rendered speech."""
    clips = {}
    for number, (text, length) in enumerate(seconds.items()):
        t = np.arange(round(length * rate)) / rate
        clips[text] = (np.sin(2 * np.pi * (200 + 50 * number) * t) * 12000).astype(np.int16)
    return clips


def ramp_player(start_ms: int = 0, tail_frames: int = 0) -> Player:
    timeline, _ = three_chapter_timeline()
    return Player(timeline, RampMixer(-(-timeline.duration_ms * RATE // 1000)), start_ms=start_ms, tail_frames=tail_frames)


def pull_ms(player: Player, ms: int, block: int = 160) -> np.ndarray:
    """Pull about `ms` of audio in device-sized blocks."""
    frames = ms * player.sample_rate // 1000
    parts = []
    while frames > 0:
        parts.append(player.pull(min(block, frames)))
        frames -= block
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def cue_events(player: Player) -> list[CueStarted]:
    return [event for event in player.pending_events() if isinstance(event, CueStarted)]


def test_a_whole_session_streams_exactly_the_mix_and_announces_every_cue_at_its_frame():
    timeline, seconds = three_chapter_timeline()
    mixer = Mixer(timeline, clips_for(seconds, 22050), 22050)
    player = Player(timeline, mixer)
    sizes = [441, 1000, 37, 2048, 1]  # uneven device blocks, as real backends ask for
    blocks, index = [], 0
    while not player.done:
        blocks.append(player.pull(sizes[index % len(sizes)]))
        index += 1
    streamed = np.concatenate(blocks)
    whole = mixer.render(0, mixer.total_frames)
    np.testing.assert_array_equal(streamed[: mixer.total_frames], whole)
    assert not np.any(streamed[mixer.total_frames :])
    events = player.pending_events()
    cues = [event for event in events if isinstance(event, CueStarted)]
    assert [event.cue for event in cues] == list(timeline.cues)
    assert [event.clock_frame for event in cues] == [frame_at(cue.start_ms, 22050) for cue in timeline.cues]
    assert events[-1] == SessionEnded(mixer.total_frames)
    assert player.position_ms == timeline.duration_ms


def test_the_position_is_the_count_of_frames_handed_to_the_device():
    player = ramp_player()
    pull_ms(player, 1500)
    assert player.position_frames == 1500 * RATE // 1000
    assert player.position_ms == 1500
    assert player.clock_frames == player.position_frames


def test_pause_gives_silence_holds_the_position_and_resume_continues_with_the_next_frame():
    player = ramp_player()
    before = pull_ms(player, 2200)  # just before the second cue (at 2235 ms)
    player.pending_events()
    player.pause()
    held = player.position_frames
    silence = pull_ms(player, 2000)
    assert not np.any(silence)
    assert player.position_frames == held
    assert player.clock_frames == held + 2000 * RATE // 1000  # the audio clock keeps counting
    assert cue_events(player) == []
    player.resume()
    after = player.pull(100)
    assert after[0] == before[-1] + 1
    np.testing.assert_array_equal(after, np.arange(held, held + 100, dtype=np.float32))


def test_a_cue_due_during_a_pause_is_announced_after_resume_on_the_audio_clock():
    timeline, _ = three_chapter_timeline()
    player = ramp_player()
    second = timeline.cues[1]
    pull_ms(player, second.start_ms - 100, block=8)
    player.pending_events()
    player.pause()
    pull_ms(player, 3000)
    assert cue_events(player) == []
    player.resume()
    pull_ms(player, 200, block=8)
    [event] = cue_events(player)
    assert event.cue == second
    paused_frames = 3000 * RATE // 1000
    assert event.clock_frame == frame_at(second.start_ms, RATE) + paused_frames


def test_skip_goes_to_the_next_chapter_start_and_its_cues_follow_in_order():
    timeline, _ = three_chapter_timeline()
    player = ramp_player()
    pull_ms(player, 300)
    player.pending_events()
    player.skip()
    assert player.position_ms == timeline.chapters[1].start_ms
    block = player.pull(80)  # 10 ms
    assert block[0] == frame_at(timeline.chapters[1].start_ms, RATE)
    pull_ms(player, timeline.chapters[1].end_ms - timeline.chapters[1].start_ms - 10)
    announced = [event.cue for event in cue_events(player)]
    assert announced == [cue for cue in timeline.cues if cue.chapter == 1]


def test_skip_in_the_last_chapter_ends_the_session():
    timeline, _ = three_chapter_timeline()
    player = ramp_player(start_ms=timeline.chapters[-1].start_ms + 500)
    player.skip()
    assert player.ended and player.done
    assert isinstance(player.pending_events()[-1], SessionEnded)
    assert not np.any(player.pull(500))


def test_back_restarts_the_chapter_and_twice_in_a_row_goes_to_the_one_before():
    timeline, _ = three_chapter_timeline()
    chapter = timeline.chapters[2]
    player = ramp_player(start_ms=chapter.start_ms + BACK_GRACE_MS + 1000)
    player.back()
    assert player.position_ms == chapter.start_ms
    player.back()  # pressed again right at the chapter start
    assert player.position_ms == timeline.chapters[1].start_ms
    pull_ms(player, BACK_GRACE_MS + 200)  # well into chapter 1 now
    player.back()
    assert player.position_ms == timeline.chapters[1].start_ms


def test_back_at_the_very_start_stays_at_the_start():
    player = ramp_player()
    player.back()
    assert player.position_ms == 0


def test_back_re_announces_the_chapter_cues():
    timeline, _ = three_chapter_timeline()
    player = ramp_player(start_ms=timeline.chapters[1].start_ms)
    pull_ms(player, 4000)
    first_pass = [event.cue for event in cue_events(player)]
    player.back()
    pull_ms(player, 4000)
    assert [event.cue for event in cue_events(player)] == first_pass
    assert first_pass[0].text == "Couch stretch."


def test_seek_into_a_cue_skips_it_and_announces_the_next_one():
    timeline, _ = three_chapter_timeline()
    cue = timeline.cues[2]  # "Hold for 6 seconds."
    player = ramp_player()
    player.seek(cue.start_ms + 10)
    pull_ms(player, timeline.cues[3].start_ms - cue.start_ms)
    assert [event.cue for event in cue_events(player)] == [timeline.cues[3]]


def test_seek_is_clamped_to_the_plan():
    timeline, _ = three_chapter_timeline()
    player = ramp_player()
    player.seek(-5000)
    assert player.position_ms == 0
    player.seek(timeline.duration_ms + 10_000)
    assert player.ended


def test_controls_act_on_a_paused_player_without_unpausing_it():
    timeline, _ = three_chapter_timeline()
    player = ramp_player()
    player.pause()
    player.skip()
    assert player.paused and player.position_ms == timeline.chapters[1].start_ms
    assert not np.any(player.pull(400))


def test_starting_part_way_plays_from_there():
    timeline, _ = three_chapter_timeline()
    start = timeline.chapters[2].start_ms
    player = ramp_player(start_ms=start)
    assert player.pull(10)[0] == frame_at(start, RATE)
    pull_ms(player, 20_000)
    assert [e.cue for e in cue_events(player)] == [c for c in timeline.cues if c.start_ms >= start]


def test_the_session_is_done_only_after_its_tail_of_silence():
    timeline, _ = three_chapter_timeline()
    player = ramp_player(start_ms=timeline.duration_ms - 100, tail_frames=400)
    player.pull(RATE // 10)  # exactly the last 100 ms
    assert player.ended and not player.done
    player.pull(399)
    assert not player.done
    player.pull(1)
    assert player.done


def test_a_mixer_failure_in_the_audio_thread_is_kept_for_the_main_thread_and_ends_the_session():
    timeline, _ = three_chapter_timeline()
    player = Player(timeline, FailingMixer(100_000), tail_frames=800)
    feed = player.feed()
    block = feed.send(256)
    assert len(block) == 256 and not np.any(block)
    assert isinstance(player.failure, RuntimeError)
    assert player.done


def test_the_feed_generator_yields_exactly_the_frames_asked_for():
    player = ramp_player()
    feed = player.feed()
    for frames in (1, 441, 1024, 7):
        assert feed.send(frames).shape == (frames,)


def test_a_pulling_thread_and_controls_from_another_keep_the_plan_consistent():
    timeline, _ = three_chapter_timeline()
    player = ramp_player()
    stop = threading.Event()
    problems: list[str] = []

    def device() -> None:
        while not stop.is_set() and not player.done:
            block = player.pull(64)
            if block.shape != (64,):
                problems.append(f"block of {block.shape}")

    thread = threading.Thread(target=device)
    thread.start()
    for _ in range(300):
        player.toggle_pause()
        player.skip() if player.position_ms < timeline.chapters[1].start_ms else player.back()
    stop.set()
    thread.join()
    assert problems == []
    assert 0 <= player.position_ms <= timeline.duration_ms


operations = st.lists(
    st.one_of(
        st.tuples(st.just("pull"), st.integers(1, 3000)),
        st.tuples(st.sampled_from(["pause", "resume", "skip", "back"]), st.just(0)),
        st.tuples(st.just("seek"), st.integers(-1000, 20_000)),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(operations)
def test_any_sequence_of_controls_keeps_the_stream_continuous_and_the_cues_in_order(ops):
    timeline, _ = three_chapter_timeline()
    player = ramp_player()
    expected_next = 0  # the frame the next non-silent pull must start at
    announced: list = []
    for name, value in ops:
        if name == "pull":
            paused, ended, frame = player.paused, player.ended, player.position_frames
            block = player.pull(value)
            assert block.shape == (value,)
            if paused or ended:
                assert not np.any(block)
                assert player.position_frames == frame
            else:
                assert frame == expected_next
                count = min(value, player.total_frames - frame)
                np.testing.assert_array_equal(block[:count], np.arange(frame, frame + count, dtype=np.float32))
                assert player.position_frames == frame + count
            expected_next = player.position_frames
        else:
            getattr(player, name)(*([value] if name == "seek" else []))
            expected_next = player.position_frames
            announced.append(None)  # a jump: order restarts
        for event in player.pending_events():
            if isinstance(event, CueStarted):
                announced.append(event.cue)
        assert 0 <= player.position_ms <= timeline.duration_ms
    run: list = []
    for cue in announced + [None]:
        if cue is None:
            assert [c.start_ms for c in run] == sorted(c.start_ms for c in run)
            assert len(set(run)) == len(run)  # no cue twice without a jump in between
            run = []
        else:
            run.append(cue)


@settings(max_examples=300, deadline=None)
@given(ms=st.integers(0, 3 * 3600 * 1000), rate=st.sampled_from([8000, 16000, 22050, 24000, 44100, 48000]))
def test_a_millisecond_turned_into_frames_reads_back_as_itself(ms, rate):
    frame = frame_at(ms, rate)
    assert frames_to_ms(frame, rate) == ms
    # Frames between two milliseconds' frames read as the earlier millisecond.
    assert frames_to_ms(frame_at(ms + 1, rate) - 1, rate) == ms


@settings(max_examples=200, deadline=None)
@given(starts=st.lists(st.integers(1, 600_000), min_size=1, max_size=6, unique=True), rate=st.sampled_from([22050, 44100]))
def test_skip_lands_in_the_next_chapter_whatever_its_start_millisecond(starts, rate):
    """Chapter starts come from measured speech, so any millisecond: skipping must reach each chapter in turn."""
    starts = sorted(starts)
    script = [Chapter("first"), Pause(starts[0] / 1000)]
    for number, (start, following) in enumerate(zip(starts, starts[1:] + [starts[-1] + 1000])):
        script += [Chapter(f"chapter {number}"), Pause((following - start) / 1000)]
    timeline = schedule(tuple(script), {}, title="t")
    player = Player(timeline, RampMixer(frame_at(timeline.duration_ms, rate) + 1, rate))
    for index in range(1, len(timeline.chapters)):
        player.skip()
        assert player.position_ms == timeline.chapters[index].start_ms
        assert timeline.chapter_at(player.position_ms) == index


def test_closing_the_player_stops_the_sources_background_work_and_the_sound():
    from coach.audio.mixer import Mixer
    from coach.audio.player import Player
    from coach.timeline.timeline import ChapterSpan, Timeline

    class Bed:
        rate, channels = 8000, 2
        closed = False

        def render(self, start, count):
            return np.zeros((count, 2), dtype=np.float32)

        def close(self):
            Bed.closed = True

    timeline = Timeline("t", 2000, (ChapterSpan("A", 0, 2000),), (), (), ())
    player = Player(timeline, Mixer(timeline, {}, 8000, bed=Bed()))
    player.close()
    assert Bed.closed and player.ended and player.done
    assert not player.pull(100).any()
