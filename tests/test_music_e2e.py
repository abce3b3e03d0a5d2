"""`coach export` with music end to end: real espeak, real pydub decoding, real ffmpeg; checked with ffprobe and pyloudnorm."""

from __future__ import annotations

import json
import math
import subprocess

import numpy as np
import pyloudnorm
import pytest
from typer.testing import CliRunner

from coach.audio.bed import LEVEL_LUFS
from coach.cli.app import app
from test_export_e2e import true_peak_dbtp

runner = CliRunner()

ROUTINE = """\
title: Music test
music: tunes/
exercises:
  - name: Calf stretch
    steps:
      - say: Step back with the right foot and press the heel down.
      - hold: 25s
        say: Hold it here.
      - say: Release.
  - name: Quad stretch
    steps:
      - hold: 20s
        say: Pull the heel to the seat.
"""


def invoke(*args: str):
    return runner.invoke(app, list(args))


def stereo_noise(path, seconds):
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
    command += ["-f", "lavfi", "-i", f"anoisesrc=d={seconds}:c=pink:a=0.4:seed=3"]
    command += ["-f", "lavfi", "-i", f"anoisesrc=d={seconds}:c=pink:a=0.4:seed=4"]
    command += ["-filter_complex", "[0][1]amerge=inputs=2", "-ar", "48000", "-b:a", "192k", str(path)]
    subprocess.run(command, check=True)


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """The routine exported with its music folder (a 30 s MP3, so it loops) and with --no-music, and its plan."""
    folder = tmp_path_factory.mktemp("music-e2e")
    (folder / "tunes").mkdir()
    stereo_noise(folder / "tunes" / "song.mp3", 30)
    routine = folder / "routine.yaml"
    routine.write_text(ROUTINE)
    cache = str(folder / "cache")
    reports = {}
    for name, extra in (("music", []), ("plain", ["--no-music"])):
        result = invoke("export", str(routine), "-o", str(folder / f"{name}.mp3"), "--cache-dir", cache, "--json", *extra)
        assert result.exit_code == 0, result.stderr
        reports[name] = json.loads(result.stdout)
    plan = json.loads(invoke("plan", str(routine), "--cache-dir", cache, "--json").stdout)
    return folder, reports, plan


def probe(path):
    command = ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)]
    return json.loads(subprocess.run(command, capture_output=True, check=True, text=True).stdout)


def decode(path, channels):
    command = ["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", str(channels), "-ar", "44100", "-"]
    raw = subprocess.run(command, stdout=subprocess.PIPE, check=True).stdout
    return np.frombuffer(raw, dtype="<f4").reshape(-1, channels).astype(np.float64)


def quiet_stretches(plan, least=3.0):
    """(start, end) seconds with no cue or tone, clear of the duck's ramps, at least `least` s long."""
    busy = sorted([(c["start"], c["end"]) for c in plan["cues"]] + [(t["start"], t["start"] + 0.6) for t in plan["tones"]])
    found, last_end = [], 0.0
    for start, end in busy:
        window = (last_end + 0.8, start - 0.3)  # past a release, before an attack
        if window[1] - window[0] >= least:
            found.append(window)
        last_end = max(last_end, end)
    return found


def test_the_track_is_stereo_at_44_1_khz_and_128k_with_music_and_mono_without(session):
    folder, reports, plan = session
    music, plain = probe(folder / "music.mp3"), probe(folder / "plain.mp3")
    stream = music["streams"][0]
    assert (stream["channels"], stream["sample_rate"], stream["bit_rate"]) == (2, "44100", "128000")
    assert float(music["format"]["duration"]) == pytest.approx(plan["duration"], abs=0.1)
    assert (plain["streams"][0]["channels"], plain["streams"][0]["bit_rate"]) == (1, "64000")
    assert reports["music"]["music"] == str(folder / "tunes") and reports["plain"]["music"] is None


def test_the_music_track_is_encoded_in_chunks_sample_exact_and_a_warm_export_reuses_them_all(session):
    folder, reports, _plan = session
    chunks = reports["music"]["chunks"]
    assert chunks["encoded"] >= 2 and chunks["reused"] == 0
    expected = -(-round(reports["music"]["duration"] * 1000) * 44100 // 1000)
    mpg123 = subprocess.run(["mpg123", "-q", "-s", str(folder / "music.mp3")], capture_output=True, check=True).stdout
    assert decode(folder / "music.mp3", 2).shape == (expected, 2) and len(mpg123) == expected * 2 * 2
    again = folder / "again.mp3"
    result = invoke("export", str(folder / "routine.yaml"), "-o", str(again), "--cache-dir", str(folder / "cache"), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["chunks"] == {"encoded": 0, "reused": chunks["encoded"]}
    assert again.read_bytes() == (folder / "music.mp3").read_bytes()


def test_the_music_between_cues_is_at_its_level_by_an_independent_meter(session):
    folder, _reports, plan = session
    samples = decode(folder / "music.mp3", 2)
    meter = pyloudnorm.Meter(44100)
    stretches = quiet_stretches(plan)
    assert len(stretches) >= 2
    for start, end in stretches:
        part = samples[round(start * 44100) : round(end * 44100)]
        # pyloudnorm sums the channels as BS.1770 says; the levels are as a mono file measures, 3 dB less.
        assert meter.integrated_loudness(part) - 10 * math.log10(2) == pytest.approx(LEVEL_LUFS, abs=1.0)


def test_the_speech_is_as_loud_as_without_music_and_the_true_peak_stays_under_minus_1(session):
    folder, _reports, plan = session
    music = decode(folder / "music.mp3", 2)
    plain = decode(folder / "plain.mp3", 1)[:, 0]
    meter = pyloudnorm.Meter(44100)
    cues = np.zeros(plain.size, dtype=bool)
    for cue in plan["cues"]:
        cues[round(cue["start"] * 44100) : round(cue["end"] * 44100)] = True
    with_music = meter.integrated_loudness(music[cues[: music.shape[0]], 0])
    without = meter.integrated_loudness(plain[cues])
    assert with_music == pytest.approx(without, abs=0.5)
    for channel in range(2):
        assert true_peak_dbtp(music[:, channel]) < -1.0


def test_check_reports_a_missing_music_path_at_its_position(tmp_path):
    routine = tmp_path / "r.yaml"
    routine.write_text(ROUTINE.replace("music: tunes/", "music:\n  path: nowhere/song.mp3\n  level: -20"))
    result = invoke("check", "--quick", str(routine))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith("r.yaml:3:9: error: music: nowhere/song.mp3: no such file or folder")


@pytest.mark.parametrize("content, message", [(None, "no such file"), (b"not audio at all\n", "cannot decode")])
def test_bad_music_fails_in_one_line_with_exit_1_and_writes_nothing(session, tmp_path, content, message):
    folder, _reports, _plan = session
    song = tmp_path / "song.mp3"
    if content is not None:
        song.write_bytes(content)
    target = tmp_path / "out.mp3"
    result = invoke("export", str(folder / "routine.yaml"), "-o", str(target), "--music", str(song), "--cache-dir", str(folder / "cache"))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("coach: error: music ") and message in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ([] if content is None else ["song.mp3"])


def test_music_and_no_music_together_is_a_usage_error(session):
    folder, _reports, _plan = session
    result = invoke("export", str(folder / "routine.yaml"), "--music", str(folder / "tunes"), "--no-music")
    assert result.exit_code == 2 and "not both" in result.stderr


def test_play_with_stereo_music_on_the_null_device_keeps_time_and_ends_with_the_plan(session, tmp_path):
    import sys
    import time

    from coach import session as pipeline
    from test_cli_play import MAT_ROUTINE

    folder, _reports, _plan = session
    routine_path = tmp_path / "mat.yaml"
    routine_path.write_text(MAT_ROUTINE)
    cache = folder / "cache"
    routine = pipeline.load(str(routine_path))
    timeline = pipeline.prepare(routine, pipeline.speech_settings(routine), cache).timeline
    command = [sys.executable, "-m", "coach", "play", str(routine_path), "--device", "null", "--no-ui"]
    command += ["--music", str(folder / "tunes" / "song.mp3"), "--cache-dir", str(cache)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    arrivals = [(time.perf_counter(), line.rstrip("\n")) for line in process.stdout]
    assert process.wait(timeout=300) == 0, arrivals
    assert arrivals[-1][1].startswith("Done: ")
    assert len(arrivals) - 1 == len(timeline.cues)
    plan = (timeline.duration_ms - timeline.cues[0].start_ms) / 1000
    # Real time, stereo or not: the null device takes samples in real time, so it cannot end early; how late a
    # loaded machine lets the reader see the end is not the player's doing, so no upper wall-clock bound.
    assert arrivals[-1][0] - arrivals[0][0] >= plan * 0.99


def test_play_with_undecodable_music_stops_with_a_one_line_error_and_exit_1(session, tmp_path):
    import sys

    folder, _reports, _plan = session
    junk = tmp_path / "junk.mp3"
    junk.write_text("not audio\n")
    command = [sys.executable, "-m", "coach", "play", str(folder / "routine.yaml"), "--device", "null", "--no-ui"]
    command += ["--music", str(junk), "--cache-dir", str(folder / "cache")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"coach: error: music {junk}: cannot decode: ")
