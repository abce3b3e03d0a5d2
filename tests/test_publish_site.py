"""`coach publish`: the built-ins as a static site served by a plain file server, read by real podcast parsers, checked
against the plan; republished after no change and after an edit; killed with SIGKILL half-way; and with --secret."""

from __future__ import annotations

import getpass
import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import feedparser
import podcastparser
import pytest

from coach.site.feed import ITUNES, PODCAST, PODCAST_LEGACY
from publishing import ROOT, StaticServer, coach_publish, edit_one_cue, free_port, publish_cmd, routine_copies, speech_cache
from serving import coach_json

TITLES = {"Post-run mobility (standard)": "post-run", "Pre-run mobility (standard)": "pre-run"}


@dataclass
class Site:
    """A published folder, the routines it was made from, the address it is served at, and the first publish's report."""

    base: Path
    routines: Path
    directory: Path
    url: str
    report: dict

    def args(self, directory: Path | None = None, routines: Path | None = None, *more: str) -> list[str]:
        """The arguments of `coach publish` for this site (or a copy of it)."""
        return [str(routines or self.routines), str(directory or self.directory), "--base-url", self.url, "--cache-dir", str(self.cache), *more]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built-in routines (copies, to edit) published once into a new folder."""
    base = tmp_path_factory.mktemp("publish")
    found = Site(base, routine_copies(base / "routines"), base / "site", f"http://127.0.0.1:{free_port()}/", {})
    found.cache = speech_cache(tmp_path_factory)
    found.report = json.loads(coach_publish(*found.args(), "--json").stdout)
    return found


@pytest.fixture(scope="module")
def static(site):
    """The site folder served by `python -m http.server` at the address it was published for."""
    server = StaticServer(site.directory, int(urlsplit(site.url).port))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def feed(static):
    """The feed's bytes, as a podcast app downloads them."""
    return fetch(static.url + "feed.xml")


@pytest.fixture(scope="module")
def plans(site):
    """`coach plan --json` of each routine from the same speech cache, by title."""
    return {title: coach_json("plan", str(site.routines / f"{name}.yaml"), "--cache-dir", str(site.cache)) for title, name in TITLES.items()}


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url) as response:
        return response.read()


def files_of(directory: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under a folder: (inode, modification time, sha256) by path relative to it."""
    found = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            stat = path.stat()
            found[path.relative_to(directory).as_posix()] = (stat.st_ino, stat.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
    return found


def copy_of(site: Site, name: str) -> Path:
    """A copy of the published folder (times kept), to republish without touching the original."""
    target = site.base / name
    shutil.copytree(site.directory, target, copy_function=shutil.copy2)
    return target


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src", "data-sw", "data-moments", "data-cover") and value:
                self.links.append(value)
            if name in ("data-files", "data-shell") and value:
                self.links.extend(json.loads(value))


def assert_whole(directory: Path, strict: bool = True) -> dict[str, str]:
    """Every file the site's record names is there with the bytes recorded, and every page's and the feed's link resolves.

    Not strict (a publish killed while renaming its pages into place): the pages and feed may be old or new, each
    whole (the feed parses) with every link resolving; the episodes' files, named by their revision, are as recorded.
    """
    records = [directory / "coach-site.json", *directory.glob("*/coach-site.json")]
    [record] = [path for path in records if path.is_file()]
    listed = json.loads(record.read_text())["files"]
    for relative, digest in listed.items():
        data = (directory / relative).read_bytes()
        if strict or "/episodes/" in "/" + relative:
            assert hashlib.sha256(data).hexdigest()[:24] == digest, relative
    root = record.parent.relative_to(directory).as_posix()
    root = "" if root == "." else root + "/"
    parsed = feedparser.parse((directory / root / "feed.xml").read_bytes())
    assert not parsed.bozo and parsed.entries, parsed.get("bozo_exception")
    present = {path.relative_to(directory).as_posix() for path in directory.rglob("*") if path.is_file()}
    listed = {**{name: "" for name in present if "/." not in "/" + name}, **listed} if not strict else listed
    for page in [name for name in listed if name.endswith(".html") and name.startswith(root)]:
        parser = _Links()
        parser.feed((directory / page).read_text())
        for link in parser.links:
            if link.startswith(("http://", "https://", "podcast://")):
                continue
            target = urlsplit(urljoin("http://site/" + page, link)).path.lstrip("/")
            assert target in listed, (page, link)
    tree = ET.parse(directory / root / "feed.xml")
    base = tree.find("channel/link").text
    for element in tree.iter():
        for name in ("url", "href"):
            value = element.get(name)
            if value and value.startswith(base) and value != base:
                assert value[len(base) :] and (root + value[len(base) :]) in listed, value
    return listed


def missing_required_tags(feed: bytes) -> list[str]:
    """The tags Apple Podcasts and the RSS 2.0 spec require (and podcast apps read) that the feed lacks."""
    channel = ET.fromstring(feed).find("channel")
    missing = [tag for tag in ("title", "link", "description", "language", f"{{{ITUNES}}}explicit", f"{{{ITUNES}}}author") if not (channel.findtext(tag) or "").strip()]
    if channel.find(f"{{{ITUNES}}}image") is None or not channel.find(f"{{{ITUNES}}}image").get("href"):
        missing.append("itunes:image")
    if channel.find(f"{{{ITUNES}}}category") is None:
        missing.append("itunes:category")
    if channel.find(f"{{{PODCAST}}}guid") is None:
        missing.append("podcast:guid")
    for item in channel.findall("item"):
        for tag in ("title", "guid", "pubDate", "description", f"{{{ITUNES}}}duration"):
            if not (item.findtext(tag) or "").strip():
                missing.append(f"item {tag}")
        enclosure = item.find("enclosure")
        if enclosure is None or not all(enclosure.get(name) for name in ("url", "length", "type")):
            missing.append("item enclosure")
        for tag in ("chapters", "transcript"):
            if item.find(f"{{{PODCAST}}}{tag}") is None:
                missing.append(f"item podcast:{tag}")
    return missing


def test_the_first_publish_writes_the_whole_site_and_reports_every_file(site):
    on_disk = set(files_of(site.directory))
    assert set(site.report["written"]) == on_disk and site.report["removed"] == []
    assert {episode["id"] for episode in site.report["episodes"]} == set(TITLES.values())
    assert site.report["feed"] == site.url + "feed.xml" and site.report["page"] == site.url + "index.html"
    listed = assert_whole(site.directory)
    assert set(listed) | {"coach-site.json"} == on_disk


def test_podcast_parsers_read_the_served_feed_with_absolute_urls_and_the_required_tags(static, feed):
    assert missing_required_tags(feed) == []
    parsed = feedparser.parse(feed)
    assert not parsed.bozo, parsed.get("bozo_exception")
    gpodder = podcastparser.parse(static.url + "feed.xml", io.BytesIO(feed))
    assert {episode["title"] for episode in gpodder["episodes"]} == set(TITLES)
    assert gpodder["cover_url"] == static.url + "cover.png"
    for episode in gpodder["episodes"]:
        for url in (episode["enclosures"][0]["url"], episode["chapters_json_url"], episode["transcript_url"], episode["episode_art_url"], episode["link"]):
            assert url.startswith(static.url), url
            assert fetch(url)  # a plain static server finds every file the feed names
    for entry in parsed.entries:
        assert re.fullmatch(r"[0-9a-f-]{36}", entry.id)  # a UUID: stable for the routine at this address
        assert entry.podcastgh_chapters["url"] == entry.podcast_chapters["url"]
    # podcast:guid is the namespace's UUIDv5 of the feed's URL without its scheme (podcastindex.org's rule)
    expected = uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), (static.url + "feed.xml").split("://", 1)[1])
    assert ET.fromstring(feed).findtext(f"channel/{{{PODCAST}}}guid") == str(expected)
    for item in ET.fromstring(feed).iter("item"):
        assert item.find(f"{{{PODCAST}}}chapters").get("type") == "application/json+chapters"
        assert {t.get("type") for t in item.findall(f"{{{PODCAST}}}transcript")} == {"text/vtt", "application/x-subrip"}
    # the legacy namespace copy for podcastparser, as coach serve writes it
    assert ET.fromstring(feed).find(f"channel/item/{{{PODCAST_LEGACY}}}chapters") is not None


def test_every_downloaded_episode_matches_the_plan(static, feed, plans, tmp_path):
    gpodder = podcastparser.parse(static.url + "feed.xml", io.BytesIO(feed))
    for episode in gpodder["episodes"]:
        plan = plans[episode["title"]]
        path = tmp_path / f"{TITLES[episode['title']]}.mp3"
        path.write_bytes(fetch(episode["enclosures"][0]["url"]))
        assert path.stat().st_size == episode["enclosures"][0]["file_size"]
        command = ["ffprobe", "-v", "error", "-show_format", "-show_chapters", "-of", "json", str(path)]
        probed = json.loads(subprocess.run(command, capture_output=True, check=True, text=True).stdout)
        played = float(probed["format"]["duration"]) - float(probed["format"]["start_time"])
        assert played == pytest.approx(plan["duration"], abs=0.05)
        assert episode["total_time"] == round(plan["duration"])
        assert [c["tags"]["title"] for c in probed["chapters"]] == [c["title"] for c in plan["chapters"]]
        chapters = json.loads(fetch(episode["chapters_json_url"]))["chapters"]
        assert [(c["title"], c["startTime"]) for c in chapters] == [(c["title"], c["start"]) for c in plan["chapters"]]
        transcript = fetch(episode["transcript_url"]).decode()
        assert " ".join(plan["cues"][0]["text"].split()) in " ".join(transcript.split())


def test_no_local_path_user_or_host_name_is_in_any_published_file(site):
    paths = {str(site.base), str(site.base.resolve()), str(ROOT), str(Path.home()), str(site.cache), "/tmp/", "pytest-of"}
    words = {getpass.getuser(), socket.gethostname()}
    static = ROOT / "coach" / "site" / "static"
    for relative in files_of(site.directory):
        data = (site.directory / relative).read_bytes()
        for text in paths:
            assert text.encode() not in data, (relative, text)
        if relative.startswith("static/") or relative == "sw.js":  # coach's own files, copied as they are
            assert data == (static / Path(relative).name).read_bytes(), relative
            continue
        textual = relative.endswith((".html", ".xml", ".json", ".js", ".css", ".vtt", ".srt", ".svg", ".webmanifest"))
        for word in words:
            if textual or len(word) >= 6:  # a short name turns up by chance in compressed bytes
                assert not re.search(rb"(?<![A-Za-z0-9])" + re.escape(word.encode()) + rb"(?![A-Za-z0-9])", data), (relative, word)
    from mutagen.id3 import ID3

    for mp3 in site.directory.glob("episodes/*/*/episode.mp3"):
        frames = list(ID3(mp3).values())
        frames += [sub for frame in frames if frame.FrameID == "CHAP" for sub in frame.sub_frames.values()]
        tags = " ".join(str(frame) for frame in frames if not frame.FrameID.startswith(("APIC", "CHAP")))  # pictures are bytes
        assert all(word not in tags.split() for word in words) and "/" not in tags.replace("90/90", "")


def test_an_unchanged_republish_writes_nothing(site):
    copy = copy_of(site, "unchanged")
    before = files_of(copy)
    report = json.loads(coach_publish(*site.args(copy), "--json").stdout)
    assert report["written"] == [] and report["removed"] == []
    assert all(not episode["exported"] for episode in report["episodes"])
    assert files_of(copy) == before


def test_a_one_cue_edit_writes_only_the_changed_files_and_keeps_the_guid(site):
    copy = copy_of(site, "edited")
    routines = routine_copies(site.base / "edited-routines")
    edit_one_cue(routines, "First position, for the front of the thigh.")
    before = files_of(copy)
    report = json.loads(coach_publish(*site.args(copy, routines), "--json").stdout)
    after = files_of(copy)
    exported = {episode["id"]: episode["exported"] for episode in report["episodes"]}
    assert exported == {"post-run": True, "pre-run": False}
    [old] = {name.split("/")[2] for name in before if name.startswith("episodes/post-run/")}
    [new] = {name.split("/")[2] for name in after if name.startswith("episodes/post-run/")}
    assert old != new
    names = ("episode.mp3", "cover.png", "chapters.json", "transcript.vtt", "transcript.srt", "moments.json", "episode.json")
    cards = sorted(name.split("/")[3] for name in after if name.startswith(f"episodes/post-run/{new}/card-"))
    assert cards  # a chapter card per exercise, in the new revision's folder as in the old
    figures = sorted(name.split("/")[3] for name in after if name.startswith(f"episodes/post-run/{new}/figure-"))
    assert figures  # and the player's figures
    names += tuple(cards) + tuple(figures)
    assert set(report["written"]) == {f"episodes/post-run/{new}/{name}" for name in names} | {
        "index.html", "feed.xml", "play/post-run.html", "coach-site.json"
    }
    assert set(report["removed"]) == {f"episodes/post-run/{old}/{name}" for name in names}
    assert set(after) == (set(before) - set(report["removed"])) | set(report["written"])
    for name in set(after) - set(report["written"]):
        assert after[name] == before[name], name  # the same inode and time: not written again
    assert "front of the thigh" in (copy / f"episodes/post-run/{new}/transcript.vtt").read_text()
    guids = [{item.findtext("title"): item.findtext("guid") for item in ET.parse(folder / "feed.xml").iter("item")} for folder in (site.directory, copy)]
    assert guids[0] == guids[1]  # an app updates the episode in place: never the same routine twice
    assert_whole(copy)


def test_a_kill_9_mid_publish_leaves_the_previous_site_whole(site):
    copy = copy_of(site, "killed")
    routines = routine_copies(site.base / "killed-routines")
    edit_one_cue(routines, "First position, for the quadriceps.")
    before = files_of(copy)
    process = subprocess.Popen(publish_cmd(*site.args(copy, routines)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    staging = copy / "episodes" / "post-run"
    while not any(staging.glob(".*.staging-*")):  # the new revision's export is under way
        assert process.poll() is None, "coach publish ended before its export began: " + process.stderr.read().decode()
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    process.stderr.close()
    assert_whole(copy)
    left = files_of(copy)
    assert {name: value for name, value in left.items() if "/." not in "/" + name} == before  # only hidden staging names added
    again = json.loads(coach_publish(*site.args(copy, routines), "--json").stdout)
    assert [episode["id"] for episode in again["episodes"] if episode["exported"]] == ["post-run"]
    assert not [name for name in files_of(copy) if "/." in "/" + name]  # the killed run's staging is swept
    assert_whole(copy)


# `coach publish` with every rename and unlink inside the site counted, and a SIGKILL at the one numbered argv[2].
KILLER = """
import os, runpy, signal, sys
site, kill_at = sys.argv.pop(1), int(sys.argv.pop(1))
seen = [0]
def counted(real):
    def call(*args, **kwargs):
        if str(args[-1] if real is os.replace else args[0]).startswith(site):
            if seen[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            seen[0] += 1
        return real(*args, **kwargs)
    return call
os.replace, os.unlink = counted(os.replace), counted(os.unlink)
runpy.run_module("coach", run_name="__main__")
"""


def test_a_kill_9_at_any_rename_or_removal_leaves_every_file_whole_and_every_link_resolving(site):
    routines = routine_copies(site.base / "renames-routines")
    edit_one_cue(routines, "First position, for the thigh.")
    reference = copy_of(site, "renames-reference")
    coach_publish(*site.args(reference, routines))
    [new] = [path for path in (reference / "episodes" / "post-run").iterdir() if not (site.directory / "episodes" / "post-run" / path.name).exists()]
    for kill_at in range(100):
        copy = copy_of(site, f"renames-{kill_at}")
        if kill_at:  # the new revision's folder already in place, as a run killed after its export leaves it: every later step
            shutil.copytree(new, copy / "episodes" / "post-run" / new.name)
        command = [sys.executable, "-c", KILLER, str(copy), str(kill_at), "publish", *site.args(copy, routines)]
        result = subprocess.run(command, capture_output=True, text=True)
        assert_whole(copy, strict=False)
        if result.returncode == 0:
            break
        assert result.returncode == -signal.SIGKILL, result.stderr
        if kill_at % 4 == 1:  # (a few of the points: each run takes a second or two)
            coach_publish(*site.args(copy, routines))  # the next publish finishes the work and sweeps what the kill left
            assert_whole(copy)
            assert not [name for name in files_of(copy) if "/." in "/" + name]
        shutil.rmtree(copy)
    assert kill_at > 8  # the episode folder, the pages, feed and record, and the old revision's files: each a point


def test_secret_puts_the_site_in_an_unguessable_folder_kept_across_republishing(site):
    target = site.base / "private"
    first = json.loads(coach_publish(*site.args(target), "--secret", "--json").stdout)
    [secret] = set(os.listdir(target)) - {"index.html"}
    assert sorted(os.listdir(target)) == sorted(["index.html", secret])
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", secret)
    assert secret not in (target / "index.html").read_text()  # the page a listing would show names nothing
    assert first["feed"] == f"{site.url}{secret}/feed.xml"
    feed = (target / secret / "feed.xml").read_bytes()
    urls = re.findall(rb'(?:url|href)="([^"]+)"', feed)
    assert urls and all(url.startswith(f"{site.url}{secret}/".encode()) for url in urls)
    assert_whole(target)
    again = json.loads(coach_publish(*site.args(target), "--secret", "--json").stdout)
    assert again["feed"] == first["feed"] and again["written"] == [] and again["removed"] == []
    public = json.loads(coach_publish(*site.args(target), "--json").stdout)  # --secret off: the site moves to the top
    assert public["feed"] == f"{site.url}feed.xml" and not (target / secret).exists()
    assert set(public["removed"]) >= {f"{secret}/feed.xml", f"{secret}/index.html"}
    assert_whole(target)


def test_bad_input_is_one_line_and_changes_nothing(site, tmp_path):
    copy = copy_of(site, "refused")
    before = files_of(copy)
    result = coach_publish(*site.args(copy)[:2], "--base-url", "ftp://example.org/", check=False)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "--base-url" in result.stderr
    broken = routine_copies(tmp_path / "broken")
    (broken / "pre-run.yaml").write_text((broken / "pre-run.yaml").read_text() + "\nunknown_key: 1\n")
    result = coach_publish(*site.args(copy, broken), check=False)
    assert result.returncode == 2 and "pre-run.yaml:" in result.stderr
    assert files_of(copy) == before
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "index.html").write_text("mine")
    result = coach_publish(*site.args(foreign), check=False)
    assert result.returncode == 2 and "not a site coach published" in result.stderr
    assert os.listdir(foreign) == ["index.html"]
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(copy / "play")
    (copy / "play").symlink_to(outside)  # writing through it would leave the folder
    result = coach_publish(*site.args(copy), check=False)
    assert result.returncode == 2 and "symbolic link" in result.stderr and os.listdir(outside) == []
