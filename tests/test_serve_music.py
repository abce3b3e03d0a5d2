"""`coach serve --music` and `--no-music`: the published episode carries the bed, and a new bed is a new revision."""

from __future__ import annotations

import functools
import json
import subprocess
import sys

import pytest

from coach import session
from coach.errors import MusicError
from coach.serve import library as library_module
from coach.serve.library import Library
from coach.serve.options import ServeOptions

ROUTINE = """\
title: Short
exercises:
  - name: Stretch
    steps:
      - hold: 6s
        say: Reach up.
"""


@pytest.fixture()
def routine(tmp_path, monkeypatch):
    monkeypatch.setattr(library_module.session, "prepare", functools.partial(session.prepare, engine="fake"))
    path = tmp_path / "short.yaml"
    path.write_text(ROUTINE)
    return path


def stereo_tone(path, frequency: int) -> None:
    """A 20 s stereo tone made by ffmpeg: a different pitch on each side, so the channels differ."""
    source = f"sine=frequency={frequency}:duration=20"
    other = f"sine=frequency={frequency * 3 // 2}:duration=20"
    command = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-f", "lavfi", "-i", other]
    subprocess.run(command + ["-filter_complex", "[0][1]amerge=inputs=2", str(path)], check=True)


def channels(path) -> int:
    probe = ["ffprobe", "-v", "error", "-show_streams", "-select_streams", "a", "-of", "json", str(path)]
    return json.loads(subprocess.run(probe, capture_output=True, check=True).stdout)["streams"][0]["channels"]


def test_music_is_under_the_published_episode_and_changing_it_republishes(tmp_path, routine):
    music = tmp_path / "bed.flac"
    stereo_tone(music, 220)
    library = Library(tmp_path / "library", ServeOptions(cache_dir=tmp_path / "cache", music=music))
    first = library.publish(routine, "short")
    assert first.exported
    assert channels(library.file_path(first.episode, "audio")) == 2
    assert not library.publish(routine, "short").exported  # the same bed: nothing to do
    stereo_tone(music, 330)
    assert library.publish(routine, "short").episode.revision != first.episode.revision

    plain = Library(tmp_path / "plain", ServeOptions(cache_dir=tmp_path / "cache", music=music, no_music=False))
    plain_options = ServeOptions(cache_dir=tmp_path / "cache", no_music=True)
    quiet = Library(tmp_path / "quiet", plain_options).publish(routine, "short")
    assert quiet.episode.revision != plain.publish(routine, "short").episode.revision


def test_serve_refuses_music_and_no_music_together(tmp_path):
    command = [sys.executable, "-m", "coach", "serve", "--port", "0", "--library", str(tmp_path), "--music", "x.mp3", "--no-music"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stderr) == (2, "coach: error: give --music or --no-music, not both\n")


def test_serve_reports_missing_music_for_the_routine_and_keeps_serving_nothing_of_it(tmp_path, routine):
    library = Library(tmp_path / "library", ServeOptions(cache_dir=tmp_path / "cache", music=tmp_path / "nope.mp3"))
    with pytest.raises(MusicError, match="no such file or folder"):
        library.publish(routine, "short")
    assert library.episodes() == []
