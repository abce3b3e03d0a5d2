"""`coach serve --level`: every routine published at the level asked for, named with it."""

from __future__ import annotations

import functools
import subprocess
import sys

import pytest

from coach import session
from coach.serve import library as library_module
from coach.serve.library import Library
from coach.serve.options import ServeOptions

RANGED = """\
title: Ranged
exercises:
  - name: Stretch
    steps:
      - hold: 5-15s
"""


@pytest.fixture()
def ranged(tmp_path, monkeypatch):
    monkeypatch.setattr(library_module.session, "prepare", functools.partial(session.prepare, engine="fake"))
    path = tmp_path / "ranged.yaml"
    path.write_text(RANGED)
    return path


def test_a_level_is_published_in_the_title_and_the_audio(tmp_path, ranged):
    published = {}
    for level in (None, 0.0, 1.0):
        options = ServeOptions(cache_dir=tmp_path / "cache", level=level)
        published[level] = Library(tmp_path / f"library-{level}", options).publish(ranged, "ranged").episode
    assert [published[level].title for level in (None, 0.0, 1.0)] == ["Ranged (standard)", "Ranged (easy)", "Ranged (deep)"]
    assert published[0.0].duration + 9 < published[1.0].duration  # 5 s against 15 s of holding
    assert len({episode.revision for episode in published.values()}) == 3


@pytest.mark.parametrize(
    ("level", "message"),
    [
        ("hard", "coach: error: --level: unknown level 'hard' (use easy, standard, deep or a number from 0 to 1)\n"),
        ("auto", "coach: error: --level auto is for plan, play and export (it follows one routine's history)\n"),
    ],
)
def test_a_bad_serve_level_is_one_line_and_exit_2(tmp_path, level, message):
    command = [sys.executable, "-m", "coach", "serve", "--port", "0", "--library", str(tmp_path), "--level", level]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stderr) == (2, message)
