"""The pieces of `coach serve` on their own: transcripts, byte ranges, ids, the routine set, addresses, the library's atomicity."""

from __future__ import annotations

import functools
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from coach import session
from coach.errors import EncoderError, RoutineError
from coach.serve import library as library_module
from coach.serve.library import Library, episode_id_for
from coach.serve.network import _preference, url_host
from coach.serve.options import ServeOptions
from coach.serve.responses import parse_range
from coach.site.routines import RoutineSet
from coach.timeline.timeline import ChapterSpan, CueEvent, Timeline
from coach.timeline.transcripts import chapters_json, srt, webvtt

MINIMAL = Path(__file__).parent / "data" / "good" / "minimal.yaml"


def small_timeline() -> Timeline:
    return Timeline(
        title="Test",
        duration_ms=3_725_500,
        chapters=(ChapterSpan("One", 0, 3_600_000), ChapterSpan("Two & <three>", 3_600_000, 3_725_500)),
        cues=(
            CueEvent(0, 1_250, "Sit  tall.", 0),
            CueEvent(3_600_000, 3_601_999, "Knees -> chest & <breathe>", 1),
            CueEvent(3_700_000, 3_700_000, "Halfway.", 1, overlay=True),
        ),
        tones=(),
        spans=(),
    )


def test_webvtt_has_one_escaped_block_per_cue_with_hours():
    assert webvtt(small_timeline()) == (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:01.250\nSit tall.\n\n"
        "01:00:00.000 --> 01:00:01.999\nKnees -&gt; chest &amp; &lt;breathe&gt;\n\n"
        "01:01:40.000 --> 01:01:40.001\nHalfway.\n"
    )


def test_srt_numbers_its_blocks_and_uses_a_comma():
    assert srt(small_timeline()) == (
        "1\n00:00:00,000 --> 00:00:01,250\nSit tall.\n\n"
        "2\n01:00:00,000 --> 01:00:01,999\nKnees -> chest & <breathe>\n\n"
        "3\n01:01:40,000 --> 01:01:40,001\nHalfway.\n"
    )


def test_chapters_json_is_version_1_2_in_seconds():
    assert chapters_json(small_timeline()) == {
        "version": "1.2.0",
        "title": "Test",
        "chapters": [
            {"startTime": 0.0, "endTime": 3600.0, "title": "One"},
            {"startTime": 3600.0, "endTime": 3725.5, "title": "Two & <three>"},
        ],
    }


@pytest.mark.parametrize(
    "header, expected",
    [
        ("bytes=0-99", (0, 99)),
        ("bytes=990-2000", (990, 999)),  # clipped to the end
        ("bytes=-10", (990, 999)),
        ("bytes=-5000", (0, 999)),
        ("bytes=500-", (500, 999)),
        ("bytes=1000-", "unsatisfiable"),
        ("bytes=1000-1001", "unsatisfiable"),
        ("bytes=-0", "unsatisfiable"),
        ("bytes=5-4", None),  # invalid: ignored
        ("bytes=0-1,4-5", None),  # several ranges: the whole file instead
        ("items=0-5", None),
        ("bytes=-", None),
        ("bytes= 0-1", None),
    ],
)
def test_parse_range(header, expected):
    assert parse_range(header, 1000) == expected


def test_episode_ids_are_url_safe_and_unique():
    assert episode_id_for(Path("My Routine (v2).yaml"), set()) == "my-routine-v2"
    assert episode_id_for(Path("../../etc/passwd.yaml"), set()) == "passwd"
    assert episode_id_for(Path("日本.yaml"), set()) == "routine"
    assert episode_id_for(Path("a/post-run.yaml"), {"post-run", "post-run-2"}) == "post-run-3"


def test_a_folder_covers_its_routine_files_but_not_hidden_or_other_files(tmp_path):
    (tmp_path / "b.yaml").write_text("x")
    (tmp_path / "a.yml").write_text("x")
    (tmp_path / ".#a.yaml").write_text("x")  # an editor's lock file
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.yaml").write_text("x")
    routines = RoutineSet((str(tmp_path),))
    assert routines.current() == [tmp_path / "a.yml", tmp_path / "b.yaml"]
    assert routines.covers(tmp_path / "new.yaml") and not routines.covers(tmp_path / "sub" / "c.yaml")
    assert routines.watched_folders() == [tmp_path.resolve()]
    assert routines.episode_id(tmp_path / "b.yaml") == "b" == routines.episode_id(tmp_path / "b.yaml")


def test_no_argument_means_the_built_in_routines():
    names = [path.stem for path in RoutineSet(()).current()]
    assert names == ["post-run", "pre-run"]


def test_lan_addresses_prefer_home_networks_and_put_loopback_last():
    found = sorted(["127.0.0.1", "8.8.4.4", "169.254.1.2", "192.168.1.20", "172.20.3.4", "10.0.0.7"], key=_preference)
    assert found == ["10.0.0.7", "172.20.3.4", "192.168.1.20", "8.8.4.4", "169.254.1.2", "127.0.0.1"]
    assert url_host("::1", 80) == "[::1]:80" and url_host("10.0.0.7", 8765) == "10.0.0.7:8765"


@pytest.fixture()
def fake_speech(monkeypatch):
    """The library's sessions rendered by the deterministic fake engine."""
    monkeypatch.setattr(library_module.session, "prepare", functools.partial(session.prepare, engine="fake"))


def test_the_secret_is_kept_private_and_survives_a_restart(tmp_path, fake_speech):
    options = ServeOptions(cache_dir=tmp_path / "cache")
    first = Library(tmp_path / "library", options)
    assert len(first.secret) >= 16
    assert stat.S_IMODE(os.stat(tmp_path / "library" / "secret").st_mode) == 0o600
    assert Library(tmp_path / "library", options).secret == first.secret


def test_a_failed_export_publishes_nothing_and_leaves_no_files(tmp_path, fake_speech, monkeypatch):
    library = Library(tmp_path / "library", ServeOptions(cache_dir=tmp_path / "cache"))
    published = library.publish(MINIMAL, "minimal")
    before = sorted(p.relative_to(tmp_path) for p in (tmp_path / "library").rglob("*"))
    routine = tmp_path / "minimal.yaml"
    routine.write_text(MINIMAL.read_text().replace("back heel down", "back heel pressed down"))

    def broken(*_args, **_kwargs):
        raise EncoderError("ffmpeg failed")

    import coach.output.export

    monkeypatch.setattr(coach.output.export, "export_track", broken)
    with pytest.raises(EncoderError):
        library.publish(routine, "minimal")
    assert library.episode("minimal") == published.episode
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "library").rglob("*")) == before


def test_an_invalid_routine_keeps_the_published_episode(tmp_path, fake_speech):
    library = Library(tmp_path / "library", ServeOptions(cache_dir=tmp_path / "cache"))
    routine = tmp_path / "minimal.yaml"
    routine.write_text(MINIMAL.read_text())
    published = library.publish(routine, "minimal")
    routine.write_text(MINIMAL.read_text().replace("hold: 1m", "hold: soon"))
    with pytest.raises(RoutineError):
        library.publish(routine, "minimal")
    assert library.episode("minimal") == published.episode


def test_a_damaged_index_or_missing_file_means_exporting_again(tmp_path, fake_speech):
    options = ServeOptions(cache_dir=tmp_path / "cache")
    first = Library(tmp_path / "library", options).publish(MINIMAL, "minimal")
    assert first.exported
    again = Library(tmp_path / "library", options).publish(MINIMAL, "minimal")
    assert not again.exported and again.episode == first.episode
    library = Library(tmp_path / "library", options)
    library.file_path(first.episode, "srt").unlink()
    assert library.publish(MINIMAL, "minimal").exported
    (tmp_path / "library" / "index.json").write_text("{not json")
    assert Library(tmp_path / "library", options).publish(MINIMAL, "minimal").exported


def test_leftovers_of_an_interrupted_run_are_swept(tmp_path, fake_speech):
    root = tmp_path / "library"
    (root / "episodes" / "gone-0123").mkdir(parents=True)
    (root / ".staging-x-1234").mkdir()
    Library(root, ServeOptions(cache_dir=tmp_path / "cache"))
    assert not (root / "episodes" / "gone-0123").exists() and not (root / ".staging-x-1234").exists()


def coach_serve(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "coach", "serve", *args], capture_output=True, text=True, timeout=None)


def test_a_port_in_use_is_one_line_and_exit_1(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = coach_serve("--host", "127.0.0.1", "--port", str(port), "--library", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr == f"coach: error: port {port} is in use: stop what uses it, or choose another with --port\n"


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--host", "my-laptop"], "not an IP address"),
        (["--host", "203.0.113.77"], "not an address of this machine"),
        (["no-such-routine"], "no such file"),
        (["{empty}"], "no routine files to serve"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, arguments, message):
    (tmp_path / "empty").mkdir()
    arguments = [a.replace("{empty}", str(tmp_path / "empty")) for a in arguments]
    result = coach_serve(*arguments, "--port", "0", "--library", str(tmp_path / "library"))
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_a_stop_during_an_export_cancels_it_and_keeps_nothing(tmp_path, fake_speech):
    from coach.serve.library import Cancelled

    library = Library(tmp_path / "library", ServeOptions(cache_dir=tmp_path / "cache"))
    with pytest.raises(Cancelled):
        library.publish(MINIMAL, "minimal", stopping=lambda: True)
    assert library.episode("minimal") is None
    assert sorted(p.name for p in (tmp_path / "library").iterdir()) == ["episodes", "secret"]
    assert list((tmp_path / "library" / "episodes").iterdir()) == []


def test_a_library_path_that_is_a_file_is_one_line_and_exit_1(tmp_path):
    (tmp_path / "file").write_text("")
    result = coach_serve("--port", "0", "--library", str(tmp_path / "file"))
    assert result.returncode == 1
    assert result.stderr == f"coach: error: cannot use {tmp_path / 'file'} for the library: Not a directory\n"
