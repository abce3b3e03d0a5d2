"""`coach serve FOLDER` republishes on save: an edit becomes a new episode, an invalid edit keeps the last good one."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from serving import Served, get, shared_dirs

ROUTINE = """title: Two-minute reset
exercises:
  - name: Calf stretch
    steps:
      - hold: 20s
        say: {line}
"""


def episodes(served: Served) -> dict[str, tuple[str, str]]:
    """guid -> (title, enclosure URL) of every item in the feed now."""
    feed = get(served.feed)[2].decode()
    items = re.findall(r"<item>(.*?)</item>", feed, flags=re.S)
    found = {}
    for item in items:
        guid = re.search(r"<guid[^>]*>([^<]+)</guid>", item).group(1)
        found[guid] = (re.search(r"<title>([^<]+)</title>", item).group(1), re.search(r'<enclosure url="([^"]+)"', item).group(1))
    return found


@pytest.fixture()
def served(tmp_path, tmp_path_factory):
    """A folder with one small routine, served and published."""
    cache, _library = shared_dirs(tmp_path_factory)
    folder = tmp_path / "routines"
    folder.mkdir()
    (folder / "reset.yaml").write_text(ROUTINE.format(line="Lean into the wall, back heel down."))
    server = Served(str(folder), "--library", str(tmp_path / "library"), "--cache-dir", str(cache))
    server.wait_for(r"reset\.yaml: exported as reset")
    server.folder = folder
    yield server
    assert server.stop() == 0


def test_a_saved_edit_is_republished_as_a_new_episode(served):
    [(old_guid, (title, old_audio))] = episodes(served).items()
    assert title == "Two-minute reset"
    mark = served.mark()
    (served.folder / "reset.yaml").write_text(ROUTINE.format(line="Press the back heel into the floor."))
    served.wait_for(r"reset\.yaml: exported as reset", since=mark)
    [(new_guid, (_title, new_audio))] = episodes(served).items()
    assert new_guid != old_guid and new_audio != old_audio
    assert get(old_audio)[0] == 404 and get(new_audio)[0] == 200
    transcript = get(new_audio.replace("episode.mp3", "transcript.vtt"))[2].decode()
    assert "Press the back heel into the floor." in transcript and "Lean into the wall" not in transcript


def test_an_invalid_edit_prints_its_diagnostic_and_keeps_the_last_good_episode(served):
    before = episodes(served)
    mark = served.mark()
    path = served.folder / "reset.yaml"
    # Saved the way many editors save: a new file renamed over the old one.
    temporary = served.folder / ".reset.yaml.tmp"
    temporary.write_text(ROUTINE.format(line="Fine.").replace("hold: 20s", "hold: twenty"))
    os.replace(temporary, path)
    diagnostic = served.wait_for(r"reset\.yaml:(\d+):(\d+): error: .*", since=mark, stream="err")
    assert diagnostic.group(1) == "5"  # the line of `hold: twenty`
    served.wait_for(r"reset\.yaml: not published .* the last good version stays", since=mark)
    assert episodes(served) == before
    [(_guid, (_title, audio))] = before.items()
    assert get(audio)[0] == 200
    mark = served.mark()
    path.write_text(ROUTINE.format(line="Fixed again."))
    served.wait_for(r"reset\.yaml: exported as reset", since=mark)
    assert episodes(served) != before


def test_a_routine_added_to_the_folder_joins_the_feed_and_leaves_it_when_deleted(served):
    mark = served.mark()
    shutil.copy(Path(__file__).parent / "data" / "good" / "minimal.yaml", served.folder / "calf.yaml")
    served.wait_for(r"calf\.yaml: exported as calf", since=mark)
    assert len(episodes(served)) == 2
    mark = served.mark()
    (served.folder / "calf.yaml").unlink()
    served.wait_for(r"calf\.yaml: deleted; calf left the feed", since=mark)
    assert [title for title, _url in episodes(served).values()] == ["Two-minute reset"]


def test_a_second_start_with_a_warm_library_exports_nothing(tmp_path, tmp_path_factory):
    cache, _library = shared_dirs(tmp_path_factory)
    folder = tmp_path / "routines"
    folder.mkdir()
    (folder / "reset.yaml").write_text(ROUTINE.format(line="Lean into the wall, back heel down."))
    arguments = (str(folder), "--library", str(tmp_path / "library"), "--cache-dir", str(cache))
    first = Served(*arguments)
    first.wait_for(r"reset\.yaml: exported as reset")
    published = episodes(first), re.findall(r"<pubDate>([^<]+)", get(first.feed)[2].decode())
    assert first.stop() == 0
    second = Served(*arguments)
    second.wait_for(r"reset\.yaml: up to date as reset")
    assert second.page == first.page.replace(f":{first.port}/", f":{second.port}/")  # the secret survives a restart
    assert set(episodes(second)) == set(published[0])  # same guid: podcast apps see nothing new
    assert re.findall(r"<pubDate>([^<]+)", get(second.feed)[2].decode()) == published[1]
    assert second.stop() == 0


def test_a_save_made_while_the_first_routines_are_published_is_not_lost(tmp_path, tmp_path_factory):
    cache, _library = shared_dirs(tmp_path_factory)
    folder = tmp_path / "routines"
    folder.mkdir()
    (folder / "a.yaml").write_text(ROUTINE.format(line="Lean into the wall, back heel down."))
    # A long routine published second: the save below lands while it is being exported.
    shutil.copy(Path(__file__).parent.parent / "scripts" / "post-run.yaml", folder / "b.yaml")
    server = Served(str(folder), "--library", str(tmp_path / "library"), "--cache-dir", str(cache))
    try:
        mark = server.wait_for(r"a\.yaml: exported as a") and server.mark()
        (folder / "a.yaml").write_text(ROUTINE.format(line="Saved while b was being published."))
        server.wait_for(r"b\.yaml: exported as b", since=mark)
        server.wait_for(r"a\.yaml: exported as a", since=mark)
        [audio] = [url for title, url in episodes(server).values() if title == "Two-minute reset"]
        assert "Saved while b was being published." in get(audio.replace("episode.mp3", "transcript.vtt"))[2].decode()
    finally:
        assert server.stop() == 0


def test_sigterm_stops_the_server_cleanly_like_ctrl_c(served):
    served.process.terminate()
    assert served.process.wait() == 0
    assert "stopped serving" in served.log()  # the fixture's stop() then checks that nothing was left in its group
