"""Export a session to audio files: mix in blocks, encode with chapters and tags, and put files in place only when complete."""

from __future__ import annotations

import datetime
import errno
import math
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Mapping

import numpy as np

from coach.cover import cover_png
from coach.encode import EncodeJob, OutputFormat, checked_bitrate, encode, find_ffmpeg, output_format
from coach.errors import OutputError, UsageError
from coach.loudness import TARGET_LUFS, program_gain
from coach.mixer import Mixer, frame_at
from coach.model import Routine
from coach.timeline import ChapterSpan, Timeline

try:
    import fcntl
except ImportError:  # Windows: no locks; stale staging files are then left for the user
    fcntl = None  # type: ignore[assignment]

BLOCK_SECONDS = 4.0  # a few seconds per block: memory stays flat however long the session is
Progress = Callable[[int, int], None]  # (frames done, frames in all)


@dataclass(frozen=True)
class TrackTags:
    """What the exported file says about itself."""

    title: str
    artist: str | None = None
    album: str = "coach"
    year: int | None = None
    comment: str | None = None
    cover_png: bytes | None = None  # PNG bytes of the cover art

    def metadata(self) -> dict[str, str]:
        """The tags as ffmpeg metadata keys (empty ones left out)."""
        found = {
            "title": self.title,
            "artist": self.artist,
            "album": self.album,
            "date": str(self.year) if self.year else None,
            "comment": self.comment,
        }
        return {key: value for key, value in found.items() if value}


def track_tags(routine: Routine, year: int | None = None) -> TrackTags:
    """A routine's tags: its title, its credit as artist, album 'coach', this year, its about as comment, a cover."""
    return TrackTags(
        title=routine.title,
        artist=routine.credit,
        album="coach",
        year=year or datetime.date.today().year,
        comment=routine.about,
        cover_png=cover_png(routine.title),
    )


@dataclass(frozen=True)
class ExportOptions:
    """How to export: the format, the encoder's bitrate (None: the format's default), split per chapter, a transcript."""

    format: str = "mp3"
    bitrate: str | None = None
    split: bool = False  # one file per chapter and an .m3u8 playlist, instead of one file with chapters
    transcript: bool = True  # a timed .lrc beside each audio file


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    output: Path  # the track, or with split the playlist
    duration: float  # seconds
    chapters: tuple[ChapterSpan, ...]
    files: tuple[Path, ...]  # every file written, the audio first
    format: str
    gain_db: float  # gain applied to the speech
    target_lufs: float  # the integrated loudness the gain brings the speech to


def export_track(
    timeline: Timeline,
    clips: Mapping[str, np.ndarray],
    clip_rate: int,
    output: Path,
    options: ExportOptions = ExportOptions(),
    *,
    tags: TrackTags | None = None,
    gain: float | None = None,
    on_progress: Progress | None = None,
) -> ExportResult:
    """Mix the timeline and encode it to `output` (with split: one file per chapter and an .m3u8 playlist).

    Every file is written to a temporary name beside its target and moved into place only when all
    are complete; on any failure or interrupt the temporary files are removed and targets left as they were.
    """
    form = output_format(options.format)
    rate = checked_bitrate(form, options.bitrate)
    target = _target_path(Path(output), form)
    ffmpeg = find_ffmpeg()
    tags = tags or TrackTags(title=timeline.title)
    if gain is None:
        gain = program_gain(clips, clip_rate, timeline, ceiling_dbtp=form.ceiling_dbtp)
    mixer = Mixer(timeline, clips, clip_rate, gain=gain, ceiling_dbtp=form.ceiling_dbtp)
    if mixer.total_frames == 0:
        raise UsageError("nothing to export: the session is empty")
    progress = _Progress(mixer.total_frames, on_progress)

    with _Staging() as staging:
        if options.split:
            playlist = target.with_suffix(".m3u8")
            entries = []
            for index, chapter in enumerate(timeline.chapters):
                start, end = _chapter_frames(mixer, index)
                if end <= start:
                    continue  # a chapter with no time in it has nothing to play
                piece = target.with_name(f"{target.stem} - {index + 1:02d} - {_file_safe(chapter.title)}{form.extension}")
                piece_tags = {
                    **tags.metadata(),
                    "title": chapter.title,
                    "album": tags.title,
                    "track": f"{index + 1}/{len(timeline.chapters)}",
                }
                job = EncodeJob(staging.new(piece), form, mixer.sample_rate, rate, piece_tags, (), tags.cover_png)
                encode(_blocks(mixer, start, end, progress), job, ffmpeg)
                if options.transcript:
                    staging.write_text(piece.with_suffix(".lrc"), lrc(timeline, chapter.start_ms, chapter.end_ms))
                entries.append((piece.name, (end - start) / mixer.sample_rate, chapter.title))
            staging.write_text(playlist, m3u8(entries, tags.title))
            result_path = playlist
        else:
            chapters = [(c.title, c.start_ms, c.end_ms) for c in timeline.chapters]
            job = EncodeJob(staging.new(target), form, mixer.sample_rate, rate, tags.metadata(), chapters, tags.cover_png)
            encode(_blocks(mixer, 0, mixer.total_frames, progress), job, ffmpeg)
            if options.transcript:
                staging.write_text(target.with_suffix(".lrc"), lrc(timeline))
            result_path = target
        files = staging.commit()

    return ExportResult(
        output=result_path,
        duration=mixer.total_frames / mixer.sample_rate,
        chapters=timeline.chapters,
        files=tuple(files),
        format=form.name,
        gain_db=20 * math.log10(gain) if gain > 0 else float("-inf"),
        target_lufs=TARGET_LUFS,
    )


def checked_output(output: Path, fmt: str = "mp3", bitrate: str | None = None) -> Path:
    """The file export_track would write for these arguments, or the UsageError or OutputError it would raise."""
    form = output_format(fmt)
    checked_bitrate(form, bitrate)
    return _target_path(Path(output), form)


def _target_path(output: Path, form: OutputFormat) -> Path:
    if output.is_dir():  # before adding an extension: `-o DIR` must not become DIR.mp3 beside it (nor crash on `-o .`)
        raise OutputError(f"cannot write {output}: it is a directory")
    if not output.suffix:
        output = output.with_name(output.name + form.extension)
    elif output.suffix.lower() != form.extension and output.suffix.lower().lstrip(".") in _KNOWN_EXTENSIONS:
        raise UsageError(f"output {output.name} does not match the format {form.name}: name it *{form.extension}")
    parent = output.parent
    if not parent.exists():
        raise OutputError(f"cannot write {output}: no such directory {parent}")
    if not parent.is_dir():
        raise OutputError(f"cannot write {output}: {parent} is not a directory")
    if output.is_dir():
        raise OutputError(f"cannot write {output}: it is a directory")
    return output


_KNOWN_EXTENSIONS = ("mp3", "m4a", "ogg", "wav", "opus", "aac", "flac")


def _chapter_frames(mixer: Mixer, index: int) -> tuple[int, int]:
    chapters = mixer.timeline.chapters
    start = frame_at(chapters[index].start_ms, mixer.sample_rate)
    end = frame_at(chapters[index + 1].start_ms, mixer.sample_rate) if index + 1 < len(chapters) else mixer.total_frames
    return start, max(start, end)


def _blocks(mixer: Mixer, start: int, end: int, progress: "_Progress") -> Iterator[np.ndarray]:
    step = max(1, round(BLOCK_SECONDS * mixer.sample_rate))
    for position in range(start, end, step):
        block = mixer.render(position, min(step, end - position))
        yield block
        progress.advance(block.size)


class _Progress:
    def __init__(self, total: int, callback: Progress | None):
        self.total, self.done, self.callback = total, 0, callback

    def advance(self, frames: int) -> None:
        self.done += frames
        if self.callback is not None:
            self.callback(self.done, self.total)


def lrc(timeline: Timeline, start_ms: int = 0, end_ms: int | None = None) -> str:
    """A timed transcript: one `[mm:ss.xx]text` line per cue starting in [start_ms, end_ms), times from start_ms."""
    stop = timeline.duration_ms + 1 if end_ms is None else end_ms
    lines = []
    for cue in timeline.cues:
        if start_ms <= cue.start_ms < stop:
            text = " ".join(cue.text.split())
            lines.append(f"[{lrc_time(cue.start_ms - start_ms)}]{text}")
    return "\n".join(lines) + ("\n" if lines else "")


def lrc_time(ms: int) -> str:
    """Milliseconds as an LRC time stamp mm:ss.xx (minutes go past 59 for long tracks)."""
    centis = (ms + 5) // 10
    minutes, rest = divmod(centis, 6000)
    return f"{minutes:02d}:{rest // 100:02d}.{rest % 100:02d}"


def m3u8(entries: list[tuple[str, float, str]], title: str) -> str:
    """An extended M3U playlist of (file name, seconds, title) entries, UTF-8."""
    lines = ["#EXTM3U", f"#PLAYLIST:{_one_line(title)}"]
    for name, seconds, entry_title in entries:
        lines += [f"#EXTINF:{seconds:.3f},{_one_line(entry_title)}", name]
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _file_safe(title: str) -> str:
    cleaned = re.sub(r"[^\w ,.'()+-]+", "-", title, flags=re.UNICODE).strip(" .-")
    return re.sub(r"[- ]{2,}", " ", cleaned)[:60].rstrip(" .-") or "chapter"


def staging_name(target: Path, token: str) -> str:
    """The hidden name a file for `target` is written under: `.NAME.<8 hex>.part`, which no player lists."""
    return f".{target.name}.{token}.part"


def _staging_pattern(target: Path) -> re.Pattern[str]:
    return re.compile(re.escape(f".{target.name}.") + r"[0-9a-f]{8}\.part")


class _Staging:
    """Temporary files beside their targets: moved into place together by commit, or all removed.

    Each staging file is locked (flock) by the export writing it, for as long as that process lives:
    a staging file of the same target whose lock can be taken belongs to an export that died (SIGKILL,
    a power cut) and is removed before a new one is made. The lock, not the file's age, tells a dead
    export from one still running.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []  # (temporary, target)
        self._locks: list[int] = []  # open descriptors holding each staging file's lock

    def __enter__(self) -> "_Staging":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.discard()

    def new(self, target: Path) -> Path:
        """A new empty temporary file in target's directory, to be moved to target on commit."""
        remove_stale_staging(target)
        while True:
            temporary = target.with_name(staging_name(target, secrets.token_hex(4)))
            # Listed before it exists: a signal from here on (SIGTERM arriving mid-call) still has it removed.
            self._pending.append((temporary, target))
            try:
                # Mode 0o666 through the umask, like any file the user creates (mkstemp would give 0o600).
                descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
            except OSError as error:
                self._pending.pop()
                raise _output_error(target, error) from None
            self._locks.append(descriptor)
            if fcntl is None:
                return temporary
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            if os.fstat(descriptor).st_nlink > 0:
                return temporary
            # Another export's clean-up took it for stale between our open and our lock: make another.
            self._pending.pop()

    def write_text(self, target: Path, text: str) -> None:
        """Stage a text file (UTF-8) for target."""
        temporary = self.new(target)
        try:
            temporary.write_text(text, encoding="utf-8")
        except OSError as error:
            raise _output_error(target, error) from None

    def commit(self) -> list[Path]:
        """Move every staged file onto its target (after syncing it to disk); returns the targets."""
        try:
            for temporary, _target in self._pending:
                with open(temporary, "rb") as file:
                    os.fsync(file.fileno())
            for temporary, target in self._pending:
                os.replace(temporary, target)
        except OSError as error:
            raise _output_error(self._pending[0][1], error) from None
        done = [target for _temporary, target in self._pending]
        self._pending = []
        self._unlock()
        return done

    def discard(self) -> None:
        """Remove every staged file that is still there."""
        for temporary, _target in self._pending:
            try:
                temporary.unlink()
            except FileNotFoundError:
                pass
        self._pending = []
        self._unlock()

    def _unlock(self) -> None:
        for descriptor in self._locks:
            os.close(descriptor)
        self._locks = []


def remove_stale_staging(target: Path) -> list[Path]:
    """Remove the staging files of `target` left by exports that died (only coach's own, by exact name); the ones removed."""
    if fcntl is None:
        return []
    pattern = _staging_pattern(target)
    directory = target.parent
    try:
        names = [name for name in os.listdir(directory) if pattern.fullmatch(name)]
    except OSError:
        return []  # an unreadable folder: creating the new staging file will say what is wrong
    removed = []
    for name in names:
        path = directory / name
        try:
            descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue  # gone already, a symlink, or not ours to open
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                continue
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a running export holds it
            path.unlink()
            removed.append(path)
        except OSError:
            continue
        finally:
            os.close(descriptor)
    return removed


def _output_error(target: Path, error: OSError) -> OutputError:
    reason = {errno.EACCES: "permission denied", errno.ENOSPC: "disk full", errno.EROFS: "read-only file system"}.get(error.errno or 0)
    return OutputError(f"cannot write {target}: {reason or error.strerror or error}")
