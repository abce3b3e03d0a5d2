"""Export a session to audio files: mix in blocks, encode with chapters and tags, and put files in place only when complete.

Long because the three ways out (one file, a split into pieces, a stream to stdout) share the options, the
destination checks and the staged replace kept here; they part into modules of their own with the per-chapter
mix cache, which changes all three.
"""

from __future__ import annotations

import datetime
import errno
import math
import os
import re
import secrets
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterator, Mapping

import numpy as np

from coach.clock import lrc as lrc_time
from coach.output.cover import cover_png
from coach.output.encode import FORMATS, EncodeJob, OutputFormat, checked_bitrate, encode, find_ffmpeg, output_format
from coach.errors import OutputError, UsageError
from coach.routine.levels import level_title
from coach.audio.loudness import TARGET_LUFS, program_gain
from coach.audio.mixer import Mixer, frame_at
from coach.routine.model import Routine
from coach.timeline.timeline import ChapterSpan, Timeline

try:
    import fcntl
except ImportError:  # Windows: no locks; stale staging files are then left for the user
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from coach.audio.music import MusicOptions
    from coach.output.chunked import SegmentStore

BLOCK_SECONDS = 4.0  # a few seconds per block: memory stays flat however long the session is
Progress = Callable[[int, int], None]  # (frames done, frames in all)
MUSIC_RATE = 44100  # with music the track is at CD rate: the speech clips' 22.05 kHz would cut the music at 11 kHz


@dataclass(frozen=True)
class TrackTags:
    """What the exported file says about itself."""

    title: str
    artist: str | None = None
    album: str = "coach"
    year: int | None = None
    comment: str | None = None
    cover_png: bytes | None = None  # PNG bytes of the cover art
    chapter_cards: tuple[bytes | None, ...] = ()  # a JPEG per chapter (coach/output/cards.py), for the MP3's chapters

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
        title=level_title(routine),
        artist=routine.credit,
        album="coach",
        year=year or datetime.date.today().year,
        comment=routine.about,
        cover_png=cover_png(level_title(routine)),
    )


DEFAULT_FORMAT = "mp3"


@dataclass(frozen=True)
class ExportOptions:
    """How to export: the format, the encoder's bitrate (None: the format's default), split per chapter, a transcript,
    and music under the voice."""

    format: str = DEFAULT_FORMAT
    bitrate: str | None = None
    split: bool = False  # one file per chapter and an .m3u8 playlist, instead of one file with chapters
    transcript: bool = True  # a timed .lrc beside each audio file
    music: MusicOptions | None = None  # a ducked bed: the track becomes 44.1 kHz, stereo when the music is
    jobs: int | None = None  # MP3 encoder processes (None: all cores)


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    output: Path | None  # the track, or with split the playlist; None when the track went to a stream
    duration: float  # seconds
    chapters: tuple[ChapterSpan, ...]
    files: tuple[Path, ...]  # every file written, the audio first
    format: str
    gain_db: float  # gain applied to the speech
    target_lufs: float  # the integrated loudness the gain brings the speech to
    channels: int = 1  # 2 with stereo music
    sample_rate: int = 0
    bitrate: str | None = None
    created_folders: tuple[Path, ...] = ()  # folders made for the output, outermost first
    removed: tuple[Path, ...] = ()  # files of an older split of the same playlist that this one replaced
    chunks_encoded: int = 0  # MP3: chunks encoded now
    chunks_reused: int = 0  # MP3: chunks taken from the segment cache


STANDARD_OUTPUT = "-"  # what `-o` takes for standard output


@dataclass(frozen=True)
class ExportTarget:
    """Where the user asked an export to go: a file (with split, the base of the files' names) or standard output."""

    path: Path | None  # None: standard output
    format: str


def export_target(given: str | None, name: str, fmt: str | None = None) -> ExportTarget:
    """What `-o` means: nothing: NAME.FORMAT here; `-`: standard output; a folder (existing, or written with a
    trailing slash): NAME.FORMAT inside it; otherwise that very file, its format from `fmt` or its extension."""
    if given == STANDARD_OUTPUT:
        return ExportTarget(None, fmt or DEFAULT_FORMAT)
    if given == "":
        raise UsageError("-o needs a file or folder name (or - for standard output)")
    if given is None or given.endswith(("/", os.sep)) or Path(given).is_dir():
        form = output_format(fmt or DEFAULT_FORMAT)
        return ExportTarget(Path(given or ".") / f"{name}{form.extension}", form.name)
    path = Path(given)
    if fmt is not None:
        return ExportTarget(path, output_format(fmt).name)
    from_suffix = path.suffix.lower().lstrip(".")
    if from_suffix in FORMATS:
        return ExportTarget(path, from_suffix)
    choices = "|".join(FORMATS)
    if from_suffix:
        raise UsageError(f"cannot tell the format from {path.name}: add --format {choices}")
    if path.exists():  # a device or FIFO (a folder was taken above): its name cannot carry a format
        raise UsageError(f"cannot tell which format to write into {given}: add --format {choices}")
    # A name without an extension is written as it is, never renamed: a device such as /dev/full must not
    # become /dev/full.mp3 beside it. So the format has to be said.
    raise UsageError(
        f"cannot tell the format of {given}: it has no extension and is not a folder; "
        f"name it {path.name}.{DEFAULT_FORMAT}, or add --format {choices} to write it under that very name"
    )


def export_track(
    timeline: Timeline,
    clips: Mapping[str, np.ndarray],
    clip_rate: int,
    output: Path | BinaryIO,
    options: ExportOptions = ExportOptions(),
    *,
    tags: TrackTags | None = None,
    gain: float | None = None,
    on_progress: Progress | None = None,
    segments: SegmentStore | None = None,
    clip_keys: Mapping[str, str] | None = None,
) -> ExportResult:
    """Mix the timeline and encode it to `output` (with split: one file per chapter and an .m3u8 playlist).

    `output` is a file path, written under exactly that name, its missing folders created; or a device,
    FIFO or binary stream, which gets the finished track (and no transcript). Every file is written to a
    temporary name beside its target and moved into place only when all are complete; on any failure or
    interrupt the temporary files (and folders made for them) are removed and targets left as they were.
    A split replaces the files of an older split that the playlist it overwrites lists, and no others.
    With `options.music`, a ducked bed plays under the session (see coach/audio/bed.py) and the track is at MUSIC_RATE,
    stereo when the music is, at the format's music bitrate.
    MP3 chunks found in `segments` are not encoded again (see coach/output/chunked.py); with `clip_keys` (each cue
    text's clip key) a chapter whose mix is unchanged (coach/output/mixcache.py) is not even mixed.
    """
    form = output_format(options.format)
    music = options.music
    rate = checked_bitrate(form, options.bitrate, music=music is not None)
    destination = _destination(output, form, options.split)
    ffmpeg = find_ffmpeg()
    tags = tags or TrackTags(title=timeline.title)
    if gain is None:
        gain = program_gain(clips, clip_rate, timeline, ceiling_dbtp=form.ceiling_dbtp)
    if timeline.duration_ms <= 0:
        raise UsageError("nothing to export: the session is empty")
    mixer = _mixer(timeline, clips, clip_rate, form, gain, music)
    progress = _Progress(mixer.total_frames, on_progress)
    counts = [0, 0]  # MP3 chunks encoded, reused
    done = {
        "duration": mixer.total_frames / mixer.sample_rate,
        "chapters": timeline.chapters,
        "format": form.name,
        "gain_db": 20 * math.log10(gain) if gain > 0 else float("-inf"),
        "target_lufs": TARGET_LUFS,
        "channels": mixer.channels,
        "sample_rate": mixer.sample_rate,
        "bitrate": rate,
    }

    if destination.sink is not None:
        chapters = [(c.title, c.start_ms, c.end_ms) for c in timeline.chapters]
        with tempfile.TemporaryDirectory(prefix="coach-export-") as scratch:
            finished = Path(scratch) / f"track{form.extension}"
            job = EncodeJob(
                finished, form, mixer.sample_rate, rate, tags.metadata(), chapters, tags.cover_png, mixer.channels,
                chapter_pictures=tags.chapter_cards,
            )
            _encode(mixer, 0, mixer.total_frames, job, ffmpeg, progress, options, segments, counts, clip_keys)
            _copy_into(finished, destination.sink)
        device = destination.sink if isinstance(destination.sink, Path) else None
        return ExportResult(
            output=device, files=(device,) if device else (), chunks_encoded=counts[0], chunks_reused=counts[1], **done
        )

    target = destination.path
    assert target is not None
    older_split = _older_split(target.with_suffix(".m3u8"), target.stem) if options.split else []
    with _NewFolders(destination.missing, target) as created, _Staging() as staging:
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
                job = EncodeJob(
                    staging.new(piece), form, mixer.sample_rate, rate, piece_tags, (), tags.cover_png, mixer.channels
                )
                _encode(mixer, start, end, job, ffmpeg, progress, options, segments, counts, clip_keys)
                if options.transcript:
                    staging.write_text(piece.with_suffix(".lrc"), lrc(timeline, chapter.start_ms, chapter.end_ms))
                entries.append((piece.name, (end - start) / mixer.sample_rate, chapter.title))
            staging.write_text(playlist, m3u8(entries, tags.title))
            result_path = playlist
        else:
            chapters = [(c.title, c.start_ms, c.end_ms) for c in timeline.chapters]
            job = EncodeJob(
                staging.new(target), form, mixer.sample_rate, rate, tags.metadata(), chapters, tags.cover_png, mixer.channels,
                chapter_pictures=tags.chapter_cards,
            )
            _encode(mixer, 0, mixer.total_frames, job, ffmpeg, progress, options, segments, counts, clip_keys)
            if options.transcript:
                staging.write_text(target.with_suffix(".lrc"), lrc(timeline))
            result_path = target
        files = staging.commit()

    removed = _remove_files([path for path in older_split if path not in files])
    return ExportResult(output=result_path, files=tuple(files), created_folders=tuple(created), removed=tuple(removed),
        chunks_encoded=counts[0], chunks_reused=counts[1], **done,
    )


def _mixer(
    timeline: Timeline, clips: Mapping[str, np.ndarray], clip_rate: int, form: OutputFormat, gain: float, music: MusicOptions | None
) -> Mixer:
    """The mixer an export of `form` encodes from (with `music`, a bed at MUSIC_RATE)."""
    if music is None:
        return Mixer(timeline, clips, clip_rate, gain=gain, ceiling_dbtp=form.ceiling_dbtp)
    from coach.audio.music import load_bed

    bed = load_bed(music, timeline, MUSIC_RATE)
    return Mixer(timeline, clips, clip_rate, MUSIC_RATE, gain=gain, ceiling_dbtp=form.ceiling_dbtp, bed=bed)


def mp3_segment_keys(
    timeline: Timeline, clips: Mapping[str, np.ndarray], clip_rate: int, gain: float,
    clip_keys: Mapping[str, str] | None = None, segments: SegmentStore | None = None,
) -> set[str]:
    """The keys of the encoded segments (and chapter records) a plain MP3 export of the session (one file, default
    bitrate, no music) uses: from its chapter records when `segments` has them all, else mixed, not encoded."""
    from coach.output.chunked import segment_keys

    form = output_format("mp3")
    mixer = _mixer(timeline, clips, clip_rate, form, gain, None)
    job = EncodeJob(Path("unused.mp3"), form, mixer.sample_rate, checked_bitrate(form, None), channels=mixer.channels)
    edges = [frame_at(chapter.start_ms, mixer.sample_rate) for chapter in timeline.chapters]
    keys = _span_keys(mixer, 0, mixer.total_frames, edges, clip_keys) if clip_keys is not None and segments is not None else None
    return segment_keys(mixer.render, 0, mixer.total_frames, edges, job, keys, segments)


def checked_output(output: Path | BinaryIO, options: ExportOptions = ExportOptions()) -> None:
    """Raise the UsageError or OutputError export_track would raise for these arguments, before anything is encoded."""
    form = output_format(options.format)
    checked_bitrate(form, options.bitrate)
    _destination(output, form, options.split)


@dataclass(frozen=True)
class _Destination:
    path: Path | None = None  # a regular file to stage beside and replace (with split: the base of the names)
    sink: Path | BinaryIO | None = None  # a device, FIFO or stream: given the finished track, written in place
    missing: tuple[Path, ...] = ()  # folders to create for path, outermost first


def _destination(output: Path | BinaryIO, form: OutputFormat, split: bool) -> _Destination:
    if not isinstance(output, (str, os.PathLike)):
        found = _Destination(sink=output)
    else:
        found = _file_destination(Path(output), form)
    if split and found.sink is not None:
        shown = found.sink if isinstance(found.sink, Path) else "a stream"
        raise UsageError(f"--split writes several files: give a folder or a file name, not {shown}")
    return found


def _file_destination(output: Path, form: OutputFormat) -> _Destination:
    suffix = output.suffix.lower()
    if suffix and suffix != form.extension and suffix.lstrip(".") in _KNOWN_EXTENSIONS:
        raise UsageError(f"output {output.name} does not match the format {form.name}: name it *{form.extension}")
    try:
        mode = output.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None  # the folders are looked at below
    except OSError as error:
        raise _output_error(output, error) from None
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError(f"cannot write {output}: it is a directory")
    if mode is not None and not stat.S_ISREG(mode):
        return _Destination(sink=output)  # a device or FIFO: no temporary file beside it, no extension added
    if output.is_symlink():
        # Write where the link points: a rename onto the link would replace it (onto /dev/stdout, the device's link).
        output = Path(os.path.realpath(output))
    missing = []
    parent = output.parent
    while not parent.exists() and not parent.is_symlink() and parent != parent.parent:
        missing.insert(0, parent)
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"cannot write {output}: {parent} is not a directory")
    return _Destination(path=output, missing=tuple(missing))


_KNOWN_EXTENSIONS = ("mp3", "m4a", "ogg", "wav", "opus", "aac", "flac")


def _copy_into(finished: Path, sink: Path | BinaryIO) -> None:
    """Copy a finished track into a device, FIFO or stream."""
    if isinstance(sink, Path):
        shown = str(sink)
    else:
        shown = "standard output" if getattr(sink, "name", None) == "<stdout>" else "the output stream"
    try:
        with open(finished, "rb") as source:
            if isinstance(sink, Path):
                with open(sink, "wb") as device:
                    shutil.copyfileobj(source, device)
            else:
                shutil.copyfileobj(source, sink)
                sink.flush()
    except BrokenPipeError:
        raise OutputError(f"cannot write {shown}: the reader has gone") from None
    except OSError as error:
        raise _output_error(shown, error) from None


class _NewFolders:
    """The missing folders of a target, created outermost first; removed again (if still empty) when the export fails."""

    def __init__(self, missing: tuple[Path, ...], target: Path):
        self._missing, self._target = missing, target
        self._created: list[Path] = []

    def __enter__(self) -> list[Path]:
        for folder in self._missing:
            try:
                folder.mkdir()
            except FileExistsError:
                if folder.is_dir():
                    continue  # another process made it meanwhile: not ours to remove
                self._remove()
                raise OutputError(f"cannot write {self._target}: {folder} is not a directory") from None
            except OSError as error:
                self._remove()
                raise _output_error(self._target, error) from None
            self._created.append(folder)
        return self._created

    def __exit__(self, exc_type: object, *_exc: object) -> None:
        if exc_type is not None:
            self._remove()

    def _remove(self) -> None:
        for folder in reversed(self._created):
            try:
                folder.rmdir()
            except OSError:
                pass  # something else is in it now: it is no longer only ours


_PLAYLIST_READ_LIMIT = 1 << 20  # characters: far more than any split's playlist, and a bound on a stray big file


def _older_split(playlist: Path, base: str) -> list[Path]:
    """The files of an earlier split that `playlist` lists and that carry coach's names for pieces of `base`."""
    if not playlist.is_file():
        return []
    try:
        with playlist.open(encoding="utf-8", errors="replace") as file:
            listing = file.read(_PLAYLIST_READ_LIMIT)
    except OSError:
        return []
    extensions = "|".join(re.escape(form.extension) for form in FORMATS.values())
    own_name = re.compile(rf"{re.escape(base)} - \d{{2,}} - .+(?:{extensions})")
    found: list[Path] = []
    for line in listing.splitlines():
        name = line.strip()
        if own_name.fullmatch(name) and "/" not in name and os.sep not in name:
            piece = playlist.parent / name
            found += [piece, piece.with_suffix(".lrc")]
    return found


def _remove_files(paths: list[Path]) -> list[Path]:
    """Remove the regular files among paths (never what a symlink points at); returns those removed."""
    removed = []
    for path in paths:
        if path.is_symlink() or not path.is_file():
            continue
        try:
            path.unlink()
        except OSError:
            continue  # the new export is complete; an old file that cannot go stays as it was
        removed.append(path)
    return removed


def _chapter_frames(mixer: Mixer, index: int) -> tuple[int, int]:
    chapters = mixer.timeline.chapters
    start = frame_at(chapters[index].start_ms, mixer.sample_rate)
    end = frame_at(chapters[index + 1].start_ms, mixer.sample_rate) if index + 1 < len(chapters) else mixer.total_frames
    return start, max(start, end)


def _encode(
    mixer: Mixer, start: int, end: int, job: EncodeJob, ffmpeg: str, progress: "_Progress", options: ExportOptions,
    segments: SegmentStore | None, counts: list[int], clip_keys: Mapping[str, str] | None = None,
) -> None:
    """Encode frames [start, end) of the mix: MP3 in parallel chunks (cached in `segments`, counted in `counts`; with
    `clip_keys`, the unchanged chapters' chunks taken from their records unmixed); other formats by one ffmpeg pass."""
    if job.fmt.name == "mp3":
        from coach.output.chunked import encode_mp3

        edges = [frame_at(chapter.start_ms, mixer.sample_rate) for chapter in mixer.timeline.chapters]  # as mp3_segment_keys
        keys = _span_keys(mixer, start, end, edges, clip_keys) if clip_keys is not None and segments is not None else None
        done = encode_mp3(
            mixer.render, start, end, edges, job, jobs=options.jobs, segments=segments, on_samples=progress.advance, span_keys=keys
        )
        counts[0] += done.encoded
        counts[1] += done.chunks - done.encoded
    else:
        encode(_blocks(mixer, start, end, progress), job, ffmpeg)


def _span_keys(mixer: Mixer, start: int, end: int, edges: list[int], clip_keys: Mapping[str, str]) -> list[str | None]:
    """The mix key of each span the chunked encoder cuts [start, end) into (coach/output/mixcache.py)."""
    from coach.output import chunked, mp3frames
    from coach.output.mixcache import chapter_keys

    before, after = chunked.context_frames(mixer.sample_rate)
    bounds = chunked.spans(start, end, edges, mp3frames.frame_samples(mixer.sample_rate))
    return chapter_keys(mixer, bounds, clip_keys, before, after)


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


def _output_error(target: Path | str, error: OSError) -> OutputError:
    reason = {errno.EACCES: "permission denied", errno.ENOSPC: "disk full", errno.EROFS: "read-only file system"}.get(error.errno or 0)
    return OutputError(f"cannot write {target}: {reason or error.strerror or error}")
