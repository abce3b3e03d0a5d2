"""The session pipeline: the program gain is measured once per set of clips and then read from the cache."""

from __future__ import annotations

import math

import numpy as np
import pytest

import coach.audio.loudness as loudness
from coach import session
from coach.errors import UsageError
from coach.speech import SpeechSettings


def prepared(cache_dir, rate=None):
    """The built-in pre-run routine prepared with the fake engine."""
    routine = session.load("pre-run")
    return session.prepare(routine, SpeechSettings(voice="fake/low", rate=rate), cache_dir, engine="fake")


def test_the_program_gain_is_measured_once_then_read_from_the_cache(tmp_path, monkeypatch):
    first = prepared(tmp_path)
    clips = first.clip_arrays()
    measured = first.program_gain(clips, -2.0)
    assert 1.0 < measured < 20.0  # the fake voice (a sine at -12 dBFS) is lifted towards -16 LUFS
    calls = []
    real = loudness.program_gain
    monkeypatch.setattr(loudness, "program_gain", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = prepared(tmp_path)
    assert again.program_gain(again.clip_arrays(), -2.0) == measured
    assert calls == []
    again.program_gain(clips, -2.5)
    assert calls == [1]  # another ceiling is another measurement


def test_the_gain_key_follows_the_clips_and_the_ceiling(tmp_path):
    base = prepared(tmp_path)
    assert base.gain_key(-2.0) == prepared(tmp_path).gain_key(-2.0)
    assert base.gain_key(-2.0) != base.gain_key(-1.0)
    assert base.gain_key(-2.0) != prepared(tmp_path, rate=200).gain_key(-2.0)


def test_cache_keys_cover_every_clip_and_stored_gain(tmp_path):
    base = prepared(tmp_path)
    keys = session.cache_keys(base)
    assert {clip.key for clip in base.report.clips.values()} <= keys
    assert base.gain_key(loudness.CEILING_DBTP) in keys


def test_the_engine_in_force_comes_from_the_option_then_the_routine_and_keeps_only_its_own_voice_name():
    from dataclasses import replace

    from coach.routine.model import Voice

    routine = session.load("post-run")  # no voice name, 170 wpm, no engine: the default (the natural voice)
    assert session.speech_settings(routine) == SpeechSettings(voice=None, rate=170, engine="auto")
    espeak = replace(routine, voice=Voice(name="gmw/en-us", rate=160, engine="espeak"))
    assert session.speech_settings(espeak) == SpeechSettings(voice="gmw/en-us", rate=160, engine="espeak")
    # Another engine: the routine's espeak voice name means nothing to it, but its pace still holds.
    assert session.speech_settings(espeak, engine="piper") == SpeechSettings(voice=None, rate=160, engine="piper")
    assert session.speech_settings(espeak, voice="joe", engine="piper") == SpeechSettings("joe", 160, "piper")
    neural = replace(routine, voice=Voice(name="joe", rate=150, engine="piper"))
    assert session.speech_settings(neural) == SpeechSettings(voice="joe", rate=150, engine="piper")
    assert session.speech_settings(neural, engine="espeak", rate=170) == SpeechSettings(None, 170, "espeak")


def test_auto_means_the_natural_voice_unless_the_voice_named_is_one_only_espeak_has():
    from dataclasses import replace

    from coach.routine.model import Voice

    routine = session.load("post-run")
    assert session.speech_settings(routine, voice="heart").engine == "auto"
    assert session.speech_settings(routine, voice="en-gb") == SpeechSettings("en-gb", 170, "espeak")
    british = replace(routine, voice=Voice(name="gmw/en-gb-x-rp", rate=150))
    assert session.speech_settings(british) == SpeechSettings("gmw/en-gb-x-rp", 150, "espeak")
    # A voice neither has stays with `auto`, whose check names the closest voice of either engine.
    assert session.speech_settings(routine, voice="gmw/en-uss").engine == "auto"
    with pytest.raises(UsageError, match="did you mean 'gmw/en-us'"):
        session.checked_settings(routine, voice="gmw/en-uss")


def test_export_is_one_call_with_the_routines_tags_and_the_formats_gain(tmp_path):
    from coach.output.encode import output_format
    from coach.output.export import ExportOptions

    base = prepared(tmp_path / "cache")
    result = base.export(tmp_path / "pre.wav", ExportOptions(format="wav", transcript=False))
    assert result.files == (tmp_path / "pre.wav",)
    assert result.duration == pytest.approx(base.timeline.duration_ms / 1000, abs=0.01)
    ceiling = output_format("wav").ceiling_dbtp
    assert result.gain_db == pytest.approx(20 * math.log10(base.program_gain(base.clip_arrays(), ceiling)))


def test_live_player_starts_where_asked_and_plays_out_its_tail(tmp_path):
    base = prepared(tmp_path)
    start = base.timeline.chapters[1].start_ms
    player = base.live_player(start, tail_ms=100)
    assert player.position_ms == start
    assert player.tail_frames == player.sample_rate // 10
    assert np.abs(player.pull(player.sample_rate)).max() > 0  # the second exercise's name is spoken at once
