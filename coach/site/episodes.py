"""One routine as a published episode: its files (audio, cover, chapters, transcripts, moments), made into a folder.

Shared by `coach serve` (a library folder served by coach) and `coach publish` (a static site): both write
the same files under the same names, and both name a revision by a hash of everything the files are made
of, so an unchanged routine is never exported again.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import os
import re
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Callable, Mapping

from coach.errors import OutputError
from coach.routine.levels import level_title
from coach.routine.model import Routine

if TYPE_CHECKING:
    from coach import session
    from coach.audio.music import MusicOptions
    from coach.output.export import ExportResult

EPISODE_FORMAT = 3  # bump when the published files change shape: every episode is exported again

# kind -> (file name in the episode folder, media type). The only files a request can reach.
EPISODE_FILES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "audio": ("episode.mp3", "audio/mpeg"),
        "cover": ("cover.png", "image/png"),
        "chapters": ("chapters.json", "application/json+chapters"),
        "vtt": ("transcript.vtt", "text/vtt; charset=utf-8"),
        "srt": ("transcript.srt", "application/x-subrip; charset=utf-8"),
        "moments": ("moments.json", "application/json"),
    }
)
# An episode's pictures: a chapter's card (coach/output/cards.py), named by its chapter number, and a position the
# player shows (one SVG per distinct figure and side), named by its content.
CARD_NAME = re.compile(r"card-[0-9]{2,3}\.jpg|figure-[0-9a-f]{16}\.svg")
FEED_COVER_SIZE = 1400  # the smallest square cover Apple Podcasts accepts; the MP3 keeps its smaller one


@dataclass(frozen=True)
class EpisodeFile:
    """One published file: its size and entity tag (a hash of its bytes)."""

    size: int
    etag: str


@dataclass(frozen=True)
class Episode:
    """One routine as published: what the feed and the pages say about it, and its files."""

    id: str
    source: str  # the routine file, as diagnostics name it (never written into a published file)
    revision: str
    published: float  # epoch seconds of the export that made this revision
    title: str
    about: str | None
    credit: str | None
    duration: float  # seconds
    exercises: tuple[str, ...]
    notes: tuple[tuple[str, str], ...]  # (exercise, safety note)
    chapters: int
    files: Mapping[str, EpisodeFile] = field(default_factory=dict)
    cards: Mapping[str, EpisodeFile] = field(default_factory=dict)  # card-NN.jpg and figure-HASH.svg -> file (CARD_NAME)

    def to_record(self) -> dict:
        """The episode as stored in an index."""
        record = asdict(self)
        record["files"] = {kind: asdict(item) for kind, item in self.files.items()}
        record["cards"] = {name: asdict(item) for name, item in self.cards.items()}
        return record

    @staticmethod
    def from_record(record: dict) -> "Episode":
        """An episode read back from an index."""
        return Episode(
            **{
                **record,
                "exercises": tuple(record["exercises"]),
                "notes": tuple((name, note) for name, note in record["notes"]),
                "files": {kind: EpisodeFile(**item) for kind, item in record["files"].items()},
                "cards": {name: EpisodeFile(**item) for name, item in record.get("cards", {}).items() if CARD_NAME.fullmatch(name)},
            }
        )


class Cancelled(Exception):
    """Publishing stopped half-way because the process is stopping; nothing of it was kept."""


def revision(prepared: session.Prepared, music: MusicOptions | None = None) -> str:
    """A hash of everything an episode's files are made of; equal revisions have equal files."""
    routine = prepared.routine
    made_of = [
        _music_revision(music),
        EPISODE_FORMAT,
        prepared.timeline.to_json(),
        sorted(clip.key for clip in prepared.report.clips.values()),
        [level_title(routine), routine.about, routine.credit, datetime.date.today().year],
        [[exercise.name, exercise.note] for exercise in routine.exercises],
    ]
    return hashlib.sha256(json.dumps(made_of, sort_keys=True).encode()).hexdigest()[:16]


def write_files(
    prepared: session.Prepared,
    folder: Path,
    music: MusicOptions | None,
    stopping: Callable[[], bool] = lambda: False,
) -> tuple[dict[str, EpisodeFile], dict[str, EpisodeFile], ExportResult]:
    """Export the session, its chapter cards and its side files into `folder` (a staging folder: its caller renames
    it into place): (the files by kind, the cards by name, the export's result).

    Raises Cancelled when `stopping()` turns true during the export, OSError when the folder refuses.
    """
    from coach.output.cards import chapter_cards
    from coach.output.export import ExportOptions  # the encoder stack loads only when something is exported
    from coach.timeline.moment import segments_json
    from coach.timeline.transcripts import chapters_json, srt, webvtt

    def stop_when_asked(_done: int, _total: int) -> None:
        if stopping():
            raise Cancelled(str(folder))

    target = folder / EPISODE_FILES["audio"][0]
    result = prepared.export(target, ExportOptions(format="mp3", transcript=False, music=music), on_progress=stop_when_asked)
    timeline = prepared.timeline
    made = chapter_cards(prepared.routine, timeline, prepared.cache.directory)
    cards = {f"card-{number + 1:02d}.jpg": card for number, card in enumerate(made) if card}
    for name, card in cards.items():
        (folder / name).write_bytes(card)
    images = [name if name in cards else None for name in (f"card-{n + 1:02d}.jpg" for n in range(len(timeline.chapters)))]
    texts = {
        "cover": feed_cover(level_title(prepared.routine)),
        "chapters": json_bytes(chapters_json(timeline, images=images)),  # img relative to the chapters file
        "vtt": webvtt(timeline).encode(),
        "srt": srt(timeline).encode(),
    }
    figures = figure_files(prepared.routine, timeline)
    texts["moments"] = json_bytes(with_pictures(segments_json(timeline), figures, images))
    for kind, data in texts.items():
        (folder / EPISODE_FILES[kind][0]).write_bytes(data)
    for name, svg in figures.values():
        (folder / name).write_bytes(svg)
    files = {kind: describe(folder / name) for kind, (name, _type) in EPISODE_FILES.items()}
    pictures = [*cards, *sorted({name for name, _svg in figures.values()})]
    return files, {name: describe(folder / name) for name in pictures}, result


def figure_files(routine: Routine, timeline) -> dict[str, tuple[str, bytes]]:
    """One SVG per distinct (figure, mirrored) the timeline shows: {its key: (file name, bytes)}, named by content."""
    from coach.output.cards import figure_svg
    from coach.timeline.timeline import figure_json

    found: dict[str, tuple[str, bytes]] = {}
    for span in timeline.figures:
        key = _figure_key(figure_json(span.figure), span.mirrored)
        if key not in found:
            svg = figure_svg(routine, span.figure, span.mirrored).encode()
            found[key] = (f"figure-{hashlib.sha256(svg).hexdigest()[:16]}.svg", svg)
    return found


def with_pictures(plan: dict, figures: Mapping[str, tuple[str, bytes]], images: list[str | None]) -> dict:
    """The moments plan with each segment's `picture` (its figure's SVG file) and each chapter's `img` (its card),
    both relative to the moments file: the player only shows what it names."""
    for segment in plan["segments"]:
        found = figures.get(_figure_key(segment["figure"], segment["mirrored"])) if segment["figure"] is not None else None
        segment["picture"] = found[0] if found else None
    for chapter, image in zip(plan["chapters"], images):
        chapter["img"] = image
    return plan


def _figure_key(figure: object, mirrored: bool) -> str:
    return json.dumps([figure, mirrored], sort_keys=True)


def picture_type(name: str) -> str:
    """The media type of one of an episode's pictures (a name CARD_NAME matches)."""
    return "image/svg+xml" if name.endswith(".svg") else "image/jpeg"


def episode_for(
    routine: Routine,
    episode_id: str,
    source: str,
    revision_: str,
    published: float,
    duration: float,
    chapters: int,
    files: Mapping[str, EpisodeFile],
    cards: Mapping[str, EpisodeFile] | None = None,
) -> Episode:
    """The episode record of a routine exported as `revision_`."""
    return Episode(
        id=episode_id,
        source=source,
        revision=revision_,
        published=published,
        title=level_title(routine),
        about=routine.about,
        credit=routine.credit,
        duration=duration,
        exercises=tuple(exercise.name for exercise in routine.exercises),
        notes=tuple((exercise.name, exercise.note) for exercise in routine.exercises if exercise.note),
        chapters=chapters,
        files=dict(files),
        cards=dict(cards or {}),
    )


def episode_id_for(path: Path, taken: set[str]) -> str:
    """A short URL-safe id from a routine's file name, made unique against `taken`."""
    base = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")[:48] or "routine"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


@functools.lru_cache(maxsize=16)
def feed_cover(title: str) -> bytes:
    """The feed's cover for a title (a second to draw at this size, so drawn once per title and run)."""
    from coach.output.cover import cover_png

    return cover_png(title, FEED_COVER_SIZE)


def describe(path: Path) -> EpisodeFile:
    """The size and entity tag of a file."""
    data = path.read_bytes()
    return EpisodeFile(size=len(data), etag=hashlib.sha256(data).hexdigest()[:24])


def json_bytes(payload: object) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def write_atomically(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write `data` to a hidden staging name beside `path`, synced, then rename it over `path`."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None


def _music_revision(music: MusicOptions | None) -> list | None:
    """What a bed is made of, cheaply: its settings and each file's name, size and modification time."""
    if music is None:
        return None
    from coach.audio.music import music_files

    stats = [(path, path.stat()) for path in music_files(music.source)]
    files = [[str(path), stat.st_size, stat.st_mtime_ns] for path, stat in stats]
    return [music.level_lufs, music.duck_db, music.shuffle, files]
