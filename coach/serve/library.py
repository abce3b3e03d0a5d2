"""The served library: every routine exported atomically into a folder, looked up by id in the library's own index.

Each published episode lives in `episodes/<id>-<revision>/` under fixed file names and is listed in
`index.json`; requests name an episode id and a file kind, never a path. The revision is a hash of
everything the files are made of (timeline, clips, tags), so a second start with a warm speech cache
finds its episodes already published and encodes nothing. A random secret, kept in `secret`, is the
first path segment of every URL so that subscriptions survive restarts.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Callable, Mapping

from coach import session
from coach.errors import OutputError
from coach.routine import sources
from coach.routine.levels import at_level
from coach.routine.model import Routine
from coach.serve.options import ServeOptions
from coach.site import episodes as site_episodes
from coach.site.episodes import CARD_NAME, EPISODE_FILES, Cancelled, Episode, EpisodeFile, episode_id_for, feed_cover  # noqa: F401  (the server's names)
from coach.site.episodes import write_atomically as _write_atomically

if TYPE_CHECKING:
    from coach.audio.music import MusicOptions

LIBRARY_FORMAT = site_episodes.EPISODE_FORMAT  # bump when the published files change shape: every episode is exported again


@dataclass(frozen=True)
class Published:
    """What publishing one routine did: the episode now served, and whether it was exported (else reused)."""

    episode: Episode
    exported: bool
    synthesized: int  # cues the speech engine had to render


class Library:
    """The published episodes by id, the folder they live in, and the secret URL segment."""

    def __init__(self, directory: Path, options: ServeOptions):
        self.directory = directory
        self.options = options
        self._lock = threading.Lock()
        self._episodes: Mapping[str, Episode] = MappingProxyType({})
        self.version = 0  # bumped on every change, so the feed and pages can be cached per version
        try:
            (directory / "episodes").mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(f"cannot use {directory} for the library: {error.strerror or error}") from None
        self.secret = self._secret()
        self._stored = self._read_index()
        self._sweep()

    def episodes(self) -> list[Episode]:
        """The episodes now published, in the order they were first published."""
        return list(self._episodes.values())

    def episode(self, episode_id: str) -> Episode | None:
        """The episode with this id, if published."""
        return self._episodes.get(episode_id)

    def file_path(self, episode: Episode, kind: str) -> Path:
        """Where an episode's file of this kind lives (kind is one of EPISODE_FILES)."""
        return self._folder(episode.id, episode.revision) / EPISODE_FILES[kind][0]

    def card_path(self, episode: Episode, name: str) -> Path:
        """Where an episode's chapter card lives (name is one of episode.cards, never a request's text)."""
        assert name in episode.cards
        return self._folder(episode.id, episode.revision) / name

    def publish(self, path: Path, episode_id: str, stopping: Callable[[], bool] = lambda: False) -> Published:
        """Load, render and export the routine at `path` as episode `episode_id`, unless that exact revision is served.

        Raises RoutineError for an invalid routine (the episode already published stays), other
        CoachErrors when it cannot be exported, and Cancelled when `stopping()` turns true during the
        export; nothing half-written is ever published.
        """
        routine = session.load(str(path))
        if self.options.level is not None:
            routine = at_level(routine, self.options.level)
        from coach.audio.music import music_options

        settings = session.speech_settings(routine, self.options.voice, self.options.rate, self.options.engine)
        music = music_options(routine, self.options.cache_dir, self.options.music, self.options.no_music)
        prepared = session.prepare(routine, settings, self.options.cache_dir)
        revision = self._revision(prepared, music)
        current = self._episodes.get(episode_id) or self._stored.get(episode_id)
        if current is not None and current.revision == revision and self._complete(current):
            self._put(current)
            return Published(current, exported=False, synthesized=len(prepared.report.synthesized))
        episode = self._export(prepared, routine, path, episode_id, revision, stopping, music)
        self._put(episode)
        if current is not None and current.revision != revision:
            shutil.rmtree(self._folder(current.id, current.revision), ignore_errors=True)
        return Published(episode, exported=True, synthesized=len(prepared.report.synthesized))

    def remove(self, episode_id: str) -> Episode | None:
        """Stop serving an episode (its routine was deleted); returns it, if it was published."""
        with self._lock:
            episodes = dict(self._episodes)
            gone = episodes.pop(episode_id, None)
            if gone is None:
                return None
            self._commit(episodes)
        shutil.rmtree(self._folder(gone.id, gone.revision), ignore_errors=True)
        return gone

    def _put(self, episode: Episode) -> None:
        with self._lock:
            episodes = dict(self._episodes)
            if episodes.get(episode.id) == episode:
                return
            episodes[episode.id] = episode
            self._commit(episodes)

    def _commit(self, episodes: dict[str, Episode]) -> None:
        """Swap in the new index (readers keep the snapshot they hold) and store it; with the lock held."""
        self._episodes = MappingProxyType(episodes)
        self.version += 1
        records = {episode_id: episode.to_record() for episode_id, episode in episodes.items()}
        _write_atomically(self.directory / "index.json", json.dumps({"format": LIBRARY_FORMAT, "episodes": records}, indent=1).encode())

    def _export(
        self,
        prepared: session.Prepared,
        routine: Routine,
        path: Path,
        episode_id: str,
        revision: str,
        stopping: Callable[[], bool],
        music: MusicOptions | None,
    ) -> Episode:
        staging = self.directory / f".staging-{episode_id}-{secrets.token_hex(4)}"
        try:
            staging.mkdir()
            files, cards, result = site_episodes.write_files(prepared, staging, music, stopping)
            final = self._folder(episode_id, revision)
            shutil.rmtree(final, ignore_errors=True)  # a leftover of a run that stopped before its index was written
            os.replace(staging, final)
        except OSError as error:
            raise OutputError(f"cannot publish {path}: {error.strerror or error}") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return site_episodes.episode_for(
            routine, episode_id, sources.display_name(path), revision, time.time(), result.duration, len(prepared.timeline.chapters), files, cards
        )

    def _revision(self, prepared: session.Prepared, music: MusicOptions | None = None) -> str:
        return site_episodes.revision(prepared, music)

    def _folder(self, episode_id: str, revision: str) -> Path:
        return self.directory / "episodes" / f"{episode_id}-{revision}"

    def _complete(self, episode: Episode) -> bool:
        """Whether every file of a stored episode is still on disk with the size recorded."""
        for kind, item in episode.files.items():
            try:
                if self.file_path(episode, kind).stat().st_size != item.size:
                    return False
            except OSError:
                return False
        return set(episode.files) == set(EPISODE_FILES)

    def _secret(self) -> str:
        path = self.directory / "secret"
        try:
            found = path.read_text().strip()
        except FileNotFoundError:
            found = ""
        except OSError as error:
            raise OutputError(f"cannot read {path}: {error.strerror or error}") from None
        if re.fullmatch(r"[A-Za-z0-9_-]{16,}", found):
            return found
        made = secrets.token_urlsafe(12)  # 96 bits: not guessable over a network
        _write_atomically(path, (made + "\n").encode(), mode=0o600)
        return made

    def _read_index(self) -> dict[str, Episode]:
        try:
            stored = json.loads((self.directory / "index.json").read_text(encoding="utf-8"))
            if stored.get("format") != LIBRARY_FORMAT:
                return {}
            return {episode_id: Episode.from_record(record) for episode_id, record in stored["episodes"].items()}
        except (OSError, ValueError, KeyError, TypeError):
            return {}  # no index, or one this version cannot read: every routine is exported again

    def _sweep(self) -> None:
        """Remove staging folders, temporary files and episode folders no stored episode names (left by a killed run).

        Safe only because this server owns the folder (serve/ownership.py): nothing here is another's work in progress.
        """
        keep = {f"{episode.id}-{episode.revision}" for episode in self._stored.values()}
        for leftover in self.directory.glob(".staging-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in self.directory.glob(".*.part"):  # _write_atomically's, of the index or the secret
            leftover.unlink(missing_ok=True)
        for folder in (self.directory / "episodes").iterdir():
            if folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)
