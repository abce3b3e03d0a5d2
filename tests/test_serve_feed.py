"""The feed of a real `coach serve`, read by gPodder's podcastparser and by feedparser, checked against the plan."""

from __future__ import annotations

import io
import json
import re
import subprocess
import xml.etree.ElementTree as ET

import feedparser
import podcastparser
import pytest

from coach.site.feed import PODCAST, PODCAST_LEGACY
from serving import Served, coach_json, get, shared_dirs

ROUTINES = {"Post-run mobility (standard)": "post-run", "Pre-run mobility (standard)": "pre-run"}  # titled with their level


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The built-in routines served from the shared library, once both are published."""
    cache, library = shared_dirs(tmp_path_factory)
    server = Served("--library", str(library), "--cache-dir", str(cache))
    for name in ROUTINES.values():
        server.wait_for(rf"{name}\.yaml: (exported|up to date)")
    server.cache = cache
    yield server
    assert server.stop() == 0


@pytest.fixture(scope="module")
def feed(served):
    """The feed's bytes."""
    status, headers, body = get(served.feed)
    assert status == 200 and headers["content-type"].startswith("application/rss+xml")
    return body


@pytest.fixture(scope="module")
def plans(served):
    """`coach plan --json` of each routine from the server's speech cache, by title."""
    return {title: coach_json("plan", name, "--cache-dir", str(served.cache)) for title, name in ROUTINES.items()}


@pytest.fixture(scope="module")
def gpodder(served, feed):
    """podcastparser's reading of the feed (the subscription as gPodder makes it)."""
    return podcastparser.parse(served.feed, io.BytesIO(feed))


@pytest.fixture(scope="module")
def downloads(gpodder, tmp_path_factory):
    """Every episode's enclosure downloaded, by title."""
    folder = tmp_path_factory.mktemp("downloads")
    found = {}
    for episode in gpodder["episodes"]:
        path = folder / f"{ROUTINES[episode['title']]}.mp3"
        path.write_bytes(get(episode["enclosures"][0]["url"])[2])
        found[episode["title"]] = path
    return found


def test_podcastparser_sees_a_channel_with_the_podcast_app_tags(gpodder, served):
    assert gpodder["title"] == "coach routines" and gpodder["description"]
    assert gpodder["language"] == "en" and gpodder["explicit"] is False
    assert gpodder["itunes_categories"] == [["Health & Fitness"]]
    assert gpodder["cover_url"] == served.url("cover.png")
    assert get(gpodder["cover_url"])[1]["content-type"] == "image/png"


def test_podcastparser_sees_every_routine_as_an_episode_with_its_enclosure(gpodder, plans, downloads):
    episodes = {episode["title"]: episode for episode in gpodder["episodes"]}
    assert set(episodes) == set(ROUTINES)
    for title, episode in episodes.items():
        [enclosure] = episode["enclosures"]
        assert enclosure["mime_type"] == "audio/mpeg"
        assert enclosure["file_size"] == downloads[title].stat().st_size
        assert episode["total_time"] == round(plans[title]["duration"])
        assert episode["guid"].startswith(f"coach:{ROUTINES[title]}:")
        assert episode["published"] > 0 and episode["explicit"] is False
        assert get(episode["episode_art_url"])[1]["content-type"] == "image/png"


def test_the_description_lists_the_exercises_and_the_safety_notes(gpodder):
    from coach import session

    episode = next(e for e in gpodder["episodes"] if e["title"] == "Post-run mobility (standard)")
    routine = session.load("post-run")
    for exercise in routine.exercises:
        assert exercise.name in episode["description"]
        if exercise.note:
            assert " ".join(exercise.note.split()) in episode["description"]


def test_feedparser_reads_the_same_episodes_enclosures_and_durations(feed, gpodder):
    parsed = feedparser.parse(feed)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == "coach routines"
    assert [tag.term for tag in parsed.feed.tags] == ["Health & Fitness"]
    by_guid = {episode["guid"]: episode for episode in gpodder["episodes"]}
    assert len(parsed.entries) == len(by_guid)
    for entry in parsed.entries:
        theirs = by_guid[entry.id]
        [enclosure] = entry.enclosures
        assert (enclosure.href, int(enclosure.length), enclosure.type) == (
            theirs["enclosures"][0]["url"],
            theirs["enclosures"][0]["file_size"],
            "audio/mpeg",
        )
        assert int(entry.itunes_duration) == theirs["total_time"]
        # feedparser keeps unknown namespaces under the prefix the feed declares; gPodder reads the legacy URI.
        assert entry.podcast_chapters["url"] == theirs["chapters_json_url"]
        assert entry.podcast_chapters["type"] == "application/json+chapters"
        assert entry.podcast_transcript["url"] == theirs["transcript_url"]


def test_the_chapters_file_equals_the_plan(gpodder, plans):
    for episode in gpodder["episodes"]:
        status, headers, body = get(episode["chapters_json_url"])
        assert status == 200 and headers["content-type"] == "application/json+chapters"
        chapters = json.loads(body)
        assert chapters["version"] == "1.2.0"
        seen = [(c["title"], c["startTime"], c["endTime"]) for c in chapters["chapters"]]
        assert seen == [(c["title"], c["start"], c["end"]) for c in plans[episode["title"]]["chapters"]]


def cues_of(plan: dict) -> list[tuple[float, float, str]]:
    return sorted((cue["start"], max(cue["end"], cue["start"] + 0.001), " ".join(cue["text"].split())) for cue in plan["cues"])


def seconds(stamp: str) -> float:
    hours, minutes, rest = stamp.replace(",", ".").split(":")
    return round(int(hours) * 3600 + int(minutes) * 60 + float(rest), 3)


def parse_timed_text(text: str) -> list[tuple[float, float, str]]:
    """(start, end, text) of every block of a WebVTT or SRT file."""
    found = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is None:
            continue  # the WEBVTT header
        start, end = (seconds(part.strip()) for part in lines[timing].split("-->"))
        words = "\n".join(lines[timing + 1 :]).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        found.append((start, end, words))
    return found


def test_both_transcripts_resolve_and_equal_the_plans_cues(feed, plans):
    channel = ET.fromstring(feed).find("channel")
    for item in channel.findall("item"):
        plan = plans[item.findtext("title")]
        for namespace in (PODCAST, PODCAST_LEGACY):
            transcripts = {t.get("type"): t.get("url") for t in item.findall(f"{{{namespace}}}transcript")}
            assert set(transcripts) == {"text/vtt", "application/x-subrip"}
            vtt = get(transcripts["text/vtt"])
            assert vtt[1]["content-type"].startswith("text/vtt") and vtt[2].startswith(b"WEBVTT")
            srt = get(transcripts["application/x-subrip"])
            assert srt[1]["content-type"].startswith("application/x-subrip")
            assert parse_timed_text(vtt[2].decode()) == cues_of(plan)
            assert parse_timed_text(srt[2].decode()) == cues_of(plan)


def test_every_downloaded_episode_lasts_as_the_plan_with_its_chapters(downloads, plans):
    for title, path in downloads.items():
        command = ["ffprobe", "-v", "error", "-show_format", "-show_chapters", "-of", "json", str(path)]
        probed = json.loads(subprocess.run(command, capture_output=True, check=True, text=True).stdout)
        plan = plans[title]
        played = float(probed["format"]["duration"]) - float(probed["format"]["start_time"])  # less the encoder delay
        assert played == pytest.approx(plan["duration"], abs=0.05)
        chapters = probed["chapters"]
        assert [c["tags"]["title"] for c in chapters] == [c["title"] for c in plan["chapters"]]
        for seen, planned in zip(chapters, plan["chapters"]):
            assert float(seen["start_time"]) == pytest.approx(planned["start"], abs=0.03)
            assert float(seen["end_time"]) == pytest.approx(planned["end"], abs=0.03)


def test_the_feed_uses_the_host_the_client_asked_for(served):
    body = get(served.feed.replace("127.0.0.1", "localhost"))[2].decode()
    urls = re.findall(r'url="([^"]+)"', body)
    assert urls and all(url.startswith(f"http://localhost:{served.port}/") for url in urls)
