"""Build a static site of routines in a folder: the feed, every episode, the library and player pages, the web app.

Everything coach writes goes inside the folder given, under names it chose (no part of a routine's text or
path becomes a file name but its URL-safe id). Episodes are content-addressed (`episodes/<id>/<revision>/`,
the revision a hash of everything its files are made of) and written to a staging folder renamed into place
whole; the other files (pages, feed, assets, the record) are staged beside their targets and renamed only
once every episode is in place; files the site no longer names are removed last. A `kill -9` at any point
leaves every file whole and every link of the pages and feed resolving; the next publish sweeps what it
left. A file whose bytes are unchanged is not written again, so a republish with nothing changed writes
nothing at all.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol
from urllib.parse import urlsplit

from coach import session
from coach.errors import OutputError, UsageError
from coach.publish import tree
from coach.routine.levels import at_level
from coach.site import episodes as site_episodes
from coach.site import pages
from coach.site.episodes import EPISODE_FILES, Episode
from coach.site.feed import FeedStyle, feed_xml
from coach.site.routines import RoutineSet

if TYPE_CHECKING:
    from coach.routine.model import Routine

EPISODE_RECORD = "episode.json"  # beside an episode's files: what the feed and pages say about it
STATIC_NAMES = ("style.css", "clock.js", "player.js", "library.js", "offline.js", "icon.svg")
DESCRIPTION = "Voice-guided mobility routines for runners, published with coach."
BLANK_PAGE = b'<!doctype html>\n<meta charset="utf-8">\n<meta name="robots" content="noindex">\n<title></title>\n'


@dataclass(frozen=True)
class PublishOptions:
    """What `coach publish` is asked to do: which routines, into which folder, at which address, with which voice."""

    directory: Path
    base_url: str  # where the folder will be served from, e.g. https://example.org/coach/
    routines: tuple[str, ...] = ()  # files, folders or built-in names; none means the built-in routines
    secret: bool = False  # the site in an unguessable folder inside `directory` (kept across republishing)
    cache_dir: Path = Path("audio_cache")
    voice: str | None = None
    rate: int | None = None
    engine: str | None = None
    music: Path | None = None
    no_music: bool = False
    level: float | None = None


@dataclass(frozen=True)
class EpisodeReport:
    """One routine as published: its id, title, length, and whether it was exported now (else reused)."""

    source: str  # the routine file's name
    id: str
    title: str
    duration: float
    exported: bool
    synthesized: int


@dataclass
class Report:
    """What a publish changed: files written and removed (relative to the folder), how many stayed, and the URLs."""

    episodes: list[EpisodeReport] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    page_url: str = ""
    feed_url: str = ""
    secret: str | None = None

    def to_json(self) -> dict:
        """The report as `--json` prints it."""
        return {
            "page": self.page_url,
            "feed": self.feed_url,
            "episodes": [vars(episode) for episode in self.episodes],
            "written": self.written,
            "removed": self.removed,
            "unchanged": self.unchanged,
        }


class Reporter(Protocol):
    """What the front end is told while publishing."""

    def publishing(self, path: Path) -> None:
        """A routine is being rendered and exported (or found already published)."""


def check_base_url(url: str) -> str:
    """The base URL with one trailing slash; UsageError unless it is an absolute http(s) URL without query or fragment."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment or "@" in parts.netloc:
        raise UsageError(f"--base-url {url}: give the absolute http(s) address the folder will be served from, like https://example.org/coach/")
    return url.strip().rstrip("/") + "/"


def publish(options: PublishOptions, reporter: Reporter, stopping: Callable[[], bool] = lambda: False) -> Report:
    """Publish every routine into the options' folder; raises RoutineError (before writing anything) or other CoachErrors."""
    from coach.audio.music import music_options
    from coach.output.encode import find_ffmpeg

    base_url = check_base_url(options.base_url)
    directory = options.directory
    previous = tree.read_previous(directory)
    tree.check_folder(directory, previous)
    routines = RoutineSet(options.routines, verb="publish")
    loaded: list[tuple[Path, str, Routine]] = []
    for path in routines.current():  # every routine is checked before a byte is written
        routine = session.load(str(path))
        loaded.append((path, routines.episode_id(path), at_level(routine, options.level) if options.level is not None else routine))
    find_ffmpeg()
    secret = (previous.secret or tree.new_secret()) if options.secret else None
    root = f"{secret}/" if secret else ""
    site = directory / secret if secret else directory
    tree.check_no_links(directory, secret or "")
    try:
        (site / "episodes").mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot write into {directory}: {error.strerror or error}") from None
    report = Report(page_url=f"{base_url}{root}index.html", feed_url=f"{base_url}{root}feed.xml", secret=secret)
    published: list[Episode] = []
    for path, episode_id, routine in loaded:
        reporter.publishing(path)
        settings = session.speech_settings(routine, options.voice, options.rate, options.engine)
        music = music_options(routine, options.cache_dir, options.music, options.no_music)
        prepared = session.prepare(routine, settings, options.cache_dir)
        episode, exported = _episode(site, prepared, routine, path, episode_id, music, stopping)
        published.append(episode)
        report.episodes.append(
            EpisodeReport(path.name, episode.id, episode.title, episode.duration, exported, len(prepared.report.synthesized))
        )
    cover, cover_key = _channel_cover(directory, root, previous)
    files = _site_files(published, f"{base_url}{root}", cover)
    _write(directory, root, files, published, previous, report, {root + "cover.png": cover_key})
    return report


def _episode(
    site: Path, prepared: session.Prepared, routine: Routine, path: Path, episode_id: str, music, stopping: Callable[[], bool]
) -> tuple[Episode, bool]:
    """The episode of this revision: read back when its folder is whole, else exported into a staging folder and renamed."""
    revision = site_episodes.revision(prepared, music)
    final = site / "episodes" / episode_id / revision
    found = _read_episode(final)
    if found is not None:
        return found, False
    staging = final.with_name(f".{revision}.staging-{secrets.token_hex(4)}")
    try:
        staging.mkdir(parents=True)
        files, cards, result = site_episodes.write_files(prepared, staging, music, stopping)
        episode = site_episodes.episode_for(
            routine, episode_id, path.name, revision, round(time.time()), result.duration, len(prepared.timeline.chapters), files, cards
        )
        (staging / EPISODE_RECORD).write_bytes(site_episodes.json_bytes(episode.to_record()))
        shutil.rmtree(final, ignore_errors=True)  # a folder with a file missing (someone deleted one)
        os.replace(staging, final)
    except OSError as error:
        raise OutputError(f"cannot write episodes/{episode_id}: {error.strerror or error}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return episode, True


def _read_episode(folder: Path) -> Episode | None:
    """The episode whose files are all in `folder` with the sizes its record gives, else None."""
    try:
        episode = Episode.from_record(json.loads((folder / EPISODE_RECORD).read_text(encoding="utf-8")))
        whole = set(episode.files) == set(EPISODE_FILES) and all(
            (folder / EPISODE_FILES[kind][0]).stat().st_size == item.size for kind, item in episode.files.items()
        ) and all((folder / name).stat().st_size == item.size for name, item in episode.cards.items())
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return episode if whole else None


def _channel_cover(directory: Path, root: str, previous: tree.Previous) -> tuple[bytes, str]:
    """The channel's cover and the key of what it is drawn from: the published one when its key and bytes match
    (drawing it takes a second, most of an unchanged republish)."""
    from coach import __version__
    from coach.output import cover

    key = tree.digest(json.dumps(["coach", site_episodes.FEED_COVER_SIZE, __version__, tree.digest(Path(cover.__file__).read_bytes())]).encode())
    name = root + "cover.png"
    if previous.made.get(name) == key and name in previous.files:
        try:
            data = (directory / name).read_bytes()
        except OSError:
            data = b""
        if tree.digest(data) == previous.files[name]:
            return data, key
    return site_episodes.feed_cover("coach"), key


def _site_files(episodes: list[Episode], site_url: str, cover: bytes) -> dict[str, bytes]:
    """Every file of the site but the episodes' own, by path relative to the site's root."""
    url = lambda relative: site_url + relative  # noqa: E731
    built = max((episode.published for episode in episodes), default=0.0)  # the same bytes when nothing changed
    style = FeedStyle(description=DESCRIPTION, play_suffix=".html", stable_guids=True)
    files = {
        "index.html": pages.library_page(
            episodes, "", url("feed.xml"), play_suffix=".html", blurb="to follow anywhere", edits=pages.EDITS_IN_PLACE
        ).encode(),
        "feed.xml": feed_xml(episodes, url, built, style),
        "cover.png": cover,
        "manifest.webmanifest": pages.manifest("./index.html"),
        "sw.js": _static("sw.js"),
    }
    for name in STATIC_NAMES:
        files[f"static/{name}"] = _static(name)
    for episode in episodes:
        files[f"play/{episode.id}.html"] = pages.player_page(episode, "../", home="../index.html").encode()
    return files


def _write(
    directory: Path, root: str, files: dict[str, bytes], episodes: list[Episode], previous: tree.Previous, report: Report, made: dict[str, str]
) -> None:
    """Stage the files that differ, rename them into place (the record last), then remove what is no longer named."""
    site = directory / root if root else directory
    named = {root + relative: data for relative, data in files.items()}
    if root:
        named["index.html"] = BLANK_PAGE  # a blank page beside the secret folder: no listing shows its name
    wanted = {relative: tree.digest(data) for relative, data in named.items()}
    wanted.update(_episode_digests(site, root, episodes))
    staged = tree.StagedWrites(directory)
    try:
        for relative, data in sorted(named.items()):
            if _same(directory / relative, data):
                report.unchanged += 1
                continue
            staged.stage(relative, data)
            report.written.append(relative)
        record = tree.record_bytes(wanted, made)
        if not _same(site / tree.RECORD, record):
            staged.stage(root + tree.RECORD, record)
            report.written.append(root + tree.RECORD)
        staged.commit()
    finally:
        staged.discard()
    keep = set(wanted) | {root + tree.RECORD}
    old_root = f"{previous.secret}/" if previous.secret else ""
    if previous.files and old_root != root and (directory / (old_root + tree.RECORD)).is_file():
        (directory / (old_root + tree.RECORD)).unlink()  # --secret turned on or off: the old root's record goes too
    new_episode_files = sorted(name for name in wanted if name.startswith(root + "episodes/") and name not in previous.files)
    report.written = sorted(set(report.written) | set(new_episode_files))
    report.unchanged += sum(1 for name in wanted if name.startswith(root + "episodes/") and name in previous.files)
    report.removed = tree.remove_stale(directory, previous, root.rstrip("/"), keep)
    if previous.secret and previous.secret != root.rstrip("/"):
        report.removed += tree.remove_stale(directory, tree.Previous(), previous.secret, keep)


def _episode_digests(site: Path, root: str, episodes: list[Episode]) -> dict[str, str]:
    """Every episode's files, by path relative to the folder, with the hashes a record keeps."""
    found = {}
    for episode in episodes:
        folder = f"{root}episodes/{episode.id}/{episode.revision}/"
        for kind, (name, _type) in EPISODE_FILES.items():
            found[folder + name] = episode.files[kind].etag  # the same short sha256 as tree.digest
        for name, item in episode.cards.items():
            found[folder + name] = item.etag
        found[folder + EPISODE_RECORD] = tree.digest((site / "episodes" / episode.id / episode.revision / EPISODE_RECORD).read_bytes())
    return found


def _same(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _static(name: str) -> bytes:
    return (resources.files("coach.site") / "static" / name).read_bytes()
