"""Speech engines: the real libespeak-ng end to end, the checks every engine shares, and engine selection."""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from coach.errors import SpeechError
from coach.speech import SpeechSettings, default_engine_name, fallback_engine_name, get_engine
from coach.speech.engine import MAX_TRAILING_SILENCE, SILENCE_LEVEL, finish_clip, matches_language
from coach.speech.fake import FakeEngine
from coach.speech.pyttsx3_driver import platform_driver

SENTENCE = "Inhale, lift the belly high, tailbone out."  # 7 words


@pytest.fixture(scope="module")
def espeak():
    return get_engine("espeak")


def loud_span(samples: np.ndarray) -> tuple[int, int]:
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SILENCE_LEVEL)
    return int(loud[0]), int(loud[-1])


def test_espeak_speaks_a_sentence_for_a_plausible_time_and_not_silently(espeak):
    samples = espeak.synthesize(SENTENCE, SpeechSettings(rate=165))
    seconds = samples.size / espeak.sample_rate
    words_time = 7 / 165 * 60  # 2.5 s of words at 165 wpm; pauses at commas add some, trimming removes some
    assert samples.dtype == np.int16 and samples.ndim == 1
    assert 0.6 * words_time < seconds < 1.8 * words_time
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    assert rms > 500  # speech, not a near-silent hum


def test_espeak_still_speaks_after_another_espeak_engine_started_in_the_same_process(espeak):
    from coach.speech.espeak import EspeakEngine

    other = EspeakEngine()  # libespeak-ng is one per process: the newest engine took its one callback
    assert len(other.synthesize("Go.", SpeechSettings())) > 0
    assert len(espeak.synthesize("Find a comfortable position.", SpeechSettings())) > espeak.sample_rate // 2


def test_espeak_faster_rate_gives_a_shorter_clip(espeak):
    slow = espeak.synthesize(SENTENCE, SpeechSettings(rate=120)).size
    fast = espeak.synthesize(SENTENCE, SpeechSettings(rate=250)).size
    assert fast < 0.7 * slow


def test_espeak_rate_changes_take_effect_on_the_very_next_call(espeak):
    # pyttsx3's driver applied rate changes late; with the binding each call sets its own rate.
    lengths = [espeak.synthesize("Switch sides.", SpeechSettings(rate=rate)).size for rate in (100, 400, 100, 400)]
    assert lengths[0] > 1.5 * lengths[1] and lengths[2] > 1.5 * lengths[3]
    assert abs(lengths[0] - lengths[2]) < 0.05 * lengths[0]


def test_espeak_clips_keep_at_most_100_ms_of_trailing_silence(espeak):
    samples = espeak.synthesize("Hold for thirty seconds. Breathe.", SpeechSettings())
    first, last = loud_span(samples)
    assert first <= 0.010 * espeak.sample_rate + 1
    assert samples.size - 1 - last <= 0.100 * espeak.sample_rate + 1


def test_espeak_lists_voices_with_languages(espeak):
    voices = {voice.id: voice for voice in espeak.voices()}
    assert "gmw/en-us" in voices
    assert "en-us" in voices["gmw/en-us"].languages
    english = espeak.voices(language="en")
    assert english and all(matches_language(voice.languages, "en") for voice in english)
    assert len(english) < len(voices)
    assert espeak.voices(language="zz-nowhere") == []


def test_espeak_resolves_short_ids_and_names_to_one_canonical_id(espeak):
    assert espeak.resolve_voice("en-us") == "gmw/en-us"
    assert espeak.resolve_voice("English (America)") == "gmw/en-us"
    assert espeak.resolve_voice("GMW/EN-US") == "gmw/en-us"
    assert espeak.resolve_voice(None) == espeak.default_voice


@pytest.mark.parametrize(
    ("given", "voice"),
    [("en-gb", "gmw/en"), ("EN_GB", "gmw/en"), ("en-gb-x-rp", "gmw/en-gb-x-rp"), ("english (great britain)", "gmw/en"),
     ("fr", "roa/fr"), ("en-gb+f3", "gmw/en+f3"), ("English", "gmw/en-us"), ("french", "roa/fr")],
)
def test_espeak_accepts_language_codes_names_and_variants(espeak, given, voice):
    assert espeak.resolve_voice(given) == voice


@pytest.mark.parametrize(("given", "closest"), [("gmw/en-uss", "gmw/en-us"), ("en-gbb", "gmw/en"), ("engl", "gmw/en-us")])
def test_espeak_suggests_the_closest_voice_for_an_unknown_one(espeak, given, closest):
    with pytest.raises(SpeechError, match=f"unknown voice '{given}' \\(did you mean '{closest}'\\?"):
        espeak.resolve_voice(given)


def test_fake_engine_resolves_language_codes_and_names_like_every_engine():
    fake = get_engine("fake")
    assert fake.resolve_voice("xx") == "fake/low"  # the first voice speaking the language
    assert fake.resolve_voice("HIGH") == "fake/high"
    with pytest.raises(SpeechError, match="did you mean 'fake/high'"):
        fake.resolve_voice("fake/hihg")


def test_espeak_voice_choice_changes_the_sound(espeak):
    american = espeak.synthesize(SENTENCE, SpeechSettings(voice="gmw/en-us"))
    french = espeak.synthesize(SENTENCE, SpeechSettings(voice="roa/fr"))
    assert american.size != french.size or not np.array_equal(american, french)


def test_espeak_version_names_the_library_version(espeak):
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?\S*", espeak.version)
    assert espeak.sample_rate == 22050


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_refused(espeak, text):
    with pytest.raises(SpeechError, match="cannot speak empty text"):
        espeak.synthesize(text, SpeechSettings())


def test_unknown_voice_is_named_and_points_to_the_voices_command(espeak):
    with pytest.raises(SpeechError) as raised:
        espeak.synthesize("Hello.", SpeechSettings(voice="klingon-xx"))
    assert "klingon-xx" in str(raised.value) and "coach voices" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_text_that_renders_only_silence_is_an_error_not_a_silent_clip(espeak):
    with pytest.raises(SpeechError, match="only silence"):
        espeak.synthesize("...", SpeechSettings())


@pytest.mark.parametrize("rate", [79, 451, 0, -5])
def test_rate_out_of_range_is_refused(espeak, rate):
    with pytest.raises(SpeechError, match="out of range"):
        espeak.synthesize("Hello.", SpeechSettings(rate=rate))


def test_a_voice_that_renders_nothing_is_an_error():
    with pytest.raises(SpeechError, match="rendered nothing"):
        FakeEngine().synthesize("Hello.", SpeechSettings(voice="fake/mute"))


def test_finish_clip_trims_padding_to_the_limits():
    rate = 16000
    speech = (np.sin(np.arange(rate) / 5) * 10000).astype(np.int16)
    padded = np.concatenate([np.zeros(rate, np.int16), speech, np.zeros(2 * rate, np.int16)])
    trimmed = finish_clip(padded, rate, "x", "v")
    first, last = loud_span(trimmed)
    assert first <= 0.010 * rate
    assert trimmed.size - 1 - last <= 0.100 * rate
    assert trimmed.size - 1 - last >= min(MAX_TRAILING_SILENCE * rate, 2 * rate) - 1  # the decay is kept, not cut
    assert trimmed.size >= speech.size - 2  # the speech itself is all there


def test_fake_engine_is_deterministic_and_follows_text_length_and_rate():
    fake = FakeEngine()
    short = fake.synthesize("Rest.", SpeechSettings())
    long = fake.synthesize("Rest for fifteen seconds.", SpeechSettings())
    fast = fake.synthesize("Rest for fifteen seconds.", SpeechSettings(rate=330))
    assert np.array_equal(long, fake.synthesize("Rest for fifteen seconds.", SpeechSettings()))
    assert short.size < long.size and fast.size < 0.6 * long.size
    assert fake.synthesized == ["Rest."] + ["Rest for fifteen seconds."] * 3


def test_auto_falls_back_to_espeak_on_linux_and_the_system_voice_elsewhere():
    assert fallback_engine_name("linux") == "espeak"
    assert fallback_engine_name("darwin") == "pyttsx3"
    assert fallback_engine_name("win32") == "pyttsx3"


def test_auto_means_the_natural_voice_where_it_starts():
    assert default_engine_name() == "hibari"
    assert get_engine("auto").name == "hibari"


def test_pyttsx3_engine_picks_the_platform_driver_and_refuses_linux():
    assert platform_driver("darwin") == ("nsss", ".aiff")
    assert platform_driver("win32") == ("sapi5", ".wav")
    with pytest.raises(SpeechError, match="espeak"):
        platform_driver("linux")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="checks the Linux refusal")
def test_asking_for_pyttsx3_on_linux_points_to_the_espeak_engine():
    with pytest.raises(SpeechError, match="use the espeak engine"):
        get_engine("pyttsx3")


def test_factory_refuses_unknown_engines_and_shares_one_instance_per_process():
    with pytest.raises(SpeechError, match="unknown speech engine 'festival'"):
        get_engine("festival")
    assert get_engine("auto") is get_engine(default_engine_name())


def test_engine_pickles_to_the_factory_instance(espeak):
    # What a spawned worker process receives: the engine rebuilt by name, not a copy of native state.
    assert pickle.loads(pickle.dumps(espeak)) is espeak


def _engine_in_subprocess(library: str) -> subprocess.CompletedProcess[str]:
    script = textwrap.dedent(
        """
        from pathlib import Path
        from coach.errors import SpeechError
        from coach.speech import SpeechSettings, get_engine
        try:
            engine = get_engine("espeak")
        except SpeechError as error:
            print("error:", error)
            raise SystemExit(3)
        samples = engine.synthesize("Breathe out slowly.", SpeechSettings())
        maps = Path("/proc/self/maps").read_text()
        print(engine.library, samples.size / engine.sample_rate, "espeakng_loader" in maps)
        """
    )
    env = {**os.environ, "COACH_ESPEAK_LIBRARY": library}
    return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)


def test_the_espeakng_loader_wheel_works_when_forced():
    result = _engine_in_subprocess("bundled")
    assert result.returncode == 0, result.stderr + result.stdout
    library, seconds, mapped = result.stdout.split()
    assert library == "bundled" and mapped == "True"
    assert 0.5 < float(seconds) < 3.0


def test_forcing_the_system_library_uses_it_or_says_what_to_install():
    import ctypes.util

    result = _engine_in_subprocess("system")
    if ctypes.util.find_library("espeak-ng"):
        assert result.returncode == 0, result.stderr
        assert result.stdout.split()[0] == "system"
    else:
        assert result.returncode == 3
        assert "no system libespeak-ng" in result.stdout and "apt install" in result.stdout


def test_a_bad_library_choice_is_a_clear_error():
    result = _engine_in_subprocess("somewhere")
    assert result.returncode == 3 and "COACH_ESPEAK_LIBRARY" in result.stdout
