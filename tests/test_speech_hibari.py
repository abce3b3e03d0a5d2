"""The hibari engine, end to end with the real model: offline voice, pinned model, bit-identical clips, real exports."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coach.errors import CoachWarning, SpeechError
from coach.speech import SpeechSettings, get_engine
from coach.speech.engine import SILENCE_LEVEL
from coach.speech.hibari import LONGEST_PAUSE, tightened_pauses

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def hibari():
    return get_engine("hibari")


def test_it_speaks_a_cue_at_24_khz_with_its_silence_trimmed(hibari):
    clip = hibari.synthesize("Hold for thirty seconds, breathing slowly.", SpeechSettings())
    assert hibari.sample_rate == 24000 and clip.dtype == np.int16
    assert 1.5 < clip.size / 24000 < 5.0
    loud = np.flatnonzero(np.abs(clip.astype(np.int32)) > SILENCE_LEVEL)
    assert loud[0] <= 0.011 * 24000  # the cue starts on its beat
    assert clip.size - loud[-1] <= 0.101 * 24000


def test_the_rate_sets_the_models_speed(hibari):
    text = "Slowly lower the hips toward the floor and keep breathing."
    slow = hibari.synthesize(text, SpeechSettings(rate=120)).size
    fast = hibari.synthesize(text, SpeechSettings(rate=240)).size
    assert fast < 0.7 * slow


def test_only_the_bundled_voice_is_offered(hibari):
    assert [voice.id for voice in hibari.all_voices()] == ["heart"]
    with pytest.raises(SpeechError):
        hibari.resolve_voice("emma")  # hibari would download it: coach refuses it first


def test_a_model_file_that_is_not_the_pinned_one_is_refused(monkeypatch):
    from coach.speech import hibari as module

    monkeypatch.setattr(module, "MODEL_SHA256", "0" * 64)
    with pytest.raises(SpeechError, match="not the one coach was built for"):
        module.HibariEngine()


def test_the_version_in_the_cache_key_carries_the_model_hash(hibari):
    digest = hashlib.sha256(hibari.model_path.read_bytes()).hexdigest()
    assert digest[:16] in hibari.version and hibari.version.startswith("0.2.1")


def test_two_processes_render_bit_identical_clips(tmp_path):
    code = (
        "import hashlib, sys; from coach.speech import SpeechSettings, get_engine;"
        "clip = get_engine('hibari').synthesize(sys.argv[1], SpeechSettings());"
        "print(hashlib.sha256(clip.tobytes()).hexdigest())"
    )
    text = "Exhale, belly and chest over the right thigh. Ninety-ninety, five times."
    digests = {
        subprocess.run([sys.executable, "-c", code, text], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    }
    assert len(digests) == 1


def test_export_of_pre_run_with_hibari_is_whole_and_at_the_target_loudness(tmp_path):
    pyloudnorm = pytest.importorskip("pyloudnorm")
    output = tmp_path / "pre-run.mp3"
    env = {"COACH_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "coach", "export", "pre-run", "--engine", "hibari", "-o", str(output), "--json"],
        capture_output=True, text=True, cwd=ROOT, env=env,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(output)],
        capture_output=True, text=True, check=True,
    )
    assert abs(float(probe.stdout) - report["duration"]) < 0.1
    pcm = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(output), "-f", "f32le", "-ac", "1", "-ar", "48000", "-"],
        capture_output=True, check=True,
    ).stdout
    samples = np.frombuffer(pcm, dtype=np.float32)
    loudness = pyloudnorm.Meter(48000).integrated_loudness(samples.astype(np.float64))
    assert -17.5 < loudness < -14.5


def _longest_pause(clip: np.ndarray, rate: int) -> float:
    quiet = np.abs(clip.astype(np.int32)) <= SILENCE_LEVEL
    longest = run = 0
    for sample_is_quiet in quiet:
        run = run + 1 if sample_is_quiet else 0
        longest = max(longest, run)
    return longest / rate


def test_pauses_between_sentences_are_cut_to_a_coachs_half_second():
    tone = (np.sin(np.arange(2400) / 3) * 10000).astype(np.int16)
    silence = np.zeros(24000, dtype=np.int16)
    clip = np.concatenate([tone, silence, tone, silence[:6000], tone])
    tightened = tightened_pauses(clip, 10800)
    # The tone's own zero crossings at its ends join the silence, by a sample or two.
    assert tightened.size == pytest.approx(clip.size - (24000 - 10800), abs=2)
    assert _longest_pause(tightened, 24000) == pytest.approx(0.45, abs=0.001)
    assert _longest_pause(tightened[2400 + 10800 :], 24000) >= 0.25  # a pause shorter than the limit stays whole
    assert np.array_equal(tightened[:2400], tone) and np.array_equal(tightened[-2400:], tone)


def test_the_real_voice_pauses_at_most_half_a_second_between_sentences(hibari):
    clip = hibari.synthesize("Switch sides. Right side. Rest for 20 seconds.", SpeechSettings(rate=170))
    assert 0.2 < _longest_pause(clip, hibari.sample_rate) <= LONGEST_PAUSE + 0.01


HIDE_HIBARI = 'import sys\nsys.modules["hibari"] = None  # as on a platform where it could not be installed\n'


def test_without_the_natural_voice_coach_warns_once_and_speaks_with_espeak(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(HIDE_HIBARI)
    routine = tmp_path / "r.yaml"
    routine.write_text("title: Fallback\nexercises:\n  - name: Calf raise\n    steps:\n      - hold: 5s\n")
    environment = {**os.environ, "PYTHONPATH": str(tmp_path / "site"), "COACH_CACHE_DIR": str(tmp_path / "cache")}
    result = subprocess.run(
        [sys.executable, "-m", "coach", "export", str(routine), "-o", str(tmp_path / "r.mp3")],
        capture_output=True, text=True, env=environment, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    warnings_shown = [line for line in result.stderr.splitlines() if line.startswith("coach: warning:")]
    assert warnings_shown == [
        "coach: warning: speaking with espeak, not the natural voice: the hibari voice is not installed; "
        "reinstall it with: pip install 'hibari-tts==0.2.1' (or `make setup` in a checkout)"
    ]
    assert "Traceback" not in result.stderr
    assert (tmp_path / "r.mp3").stat().st_size > 10_000
    asked = subprocess.run(
        [sys.executable, "-m", "coach", "render", str(routine), "--engine", "hibari"],
        capture_output=True, text=True, env=environment, timeout=600,
    )
    assert asked.returncode == 1  # asked for by name, it is an error, not a quiet substitute
    assert asked.stderr.strip().splitlines() == [
        "coach: error: the hibari voice is not installed; reinstall it with: pip install 'hibari-tts==0.2.1' (or `make setup` in a checkout)"
    ]


def test_a_damaged_model_makes_auto_fall_back_with_a_warning(monkeypatch):
    from coach.speech import hibari as hibari_module, registry

    monkeypatch.setattr(hibari_module, "MODEL_SHA256", "0" * 64)
    monkeypatch.setattr(registry, "_engines", {})
    monkeypatch.setattr(registry, "_default_name", None)
    with pytest.warns(CoachWarning, match="speaking with espeak, not the natural voice: the hibari model .* is not the one"):
        assert registry.default_engine_name() == "espeak"
    assert registry.get_engine("auto").name == "espeak"
