"""Music for the bed: find the files, decode them with pydub (through ffmpeg), resample once, cache the result.

A decoded track is cached in the speech cache folder as `music-<key>.pcm` (a small header, then int16 frames),
keyed by the file's content and the sample rate, written to a temporary name and renamed, so a second export or
play reads it instead of decoding again. Only what the session needs is decoded: a long file is decoded in
pieces until the session is covered (plus a crossfade), never to its end. Tracks are read back block by block,
so memory stays flat however long the music is.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

import numpy as np

from coach import staging
from coach.audio.bed import CROSSFADE_MS, DUCK_DB, FADE_IN_MS, LEVEL_LUFS, MIN_TRACK_MS, Bed
from coach.errors import CacheError, CoachError, Diagnostic, MusicError, UsageError
from coach.routine.model import Routine
from coach.timeline.timeline import Timeline

AUDIO_EXTENSIONS = frozenset({".mp3", ".m4a", ".aac", ".mp4", ".ogg", ".oga", ".opus", ".flac", ".wav", ".wma", ".aiff", ".aif"})
DECODE_VERSION = 1  # bump when the same file would decode to other samples: old entries are ignored
DECODE_CHUNK_SECONDS = 300  # decoded per ffmpeg call: bounds memory for an hour-long file
_MAX_TRACK_GAIN_DB = 20.0  # a near-silent file is lifted at most this much, not into a wall of noise
_HEADER = struct.Struct("<8sIIIQdB")  # magic, version, rate, channels, frames, loudness, complete
_MAGIC = b"COACHBED"


@dataclass(frozen=True)
class MusicOptions:
    """The music under a session: a file or a folder (a playlist in name order), where decoded tracks are cached
    (the speech cache folder), its level, duck depth and order."""

    source: Path
    cache_dir: Path
    level_lufs: float = LEVEL_LUFS
    duck_db: float = DUCK_DB
    shuffle: bool = False


def music_options(routine: Routine, cache_dir: Path, music: Path | None = None, no_music: bool = False) -> MusicOptions | None:
    """The music a command plays: none with --no-music, else --music PATH, else the routine's `music:` (its path
    relative to the routine file, its level, duck and shuffle); its files are checked now, before any speech is rendered.
    """
    if music is not None and no_music:
        raise UsageError("give --music or --no-music, not both")
    if no_music:
        return None
    if music is not None:
        options = MusicOptions(music, cache_dir)
    elif routine.music is not None:
        chosen = routine.music
        options = MusicOptions(
            Path(routine.source).parent / chosen.path,
            cache_dir,
            LEVEL_LUFS if chosen.level is None else chosen.level,
            DUCK_DB if chosen.duck is None else chosen.duck,
            chosen.shuffle,
        )
    else:
        return None
    music_files(options.source)
    return options


def music_problems(routine: Routine) -> list[Diagnostic]:
    """What `coach check` says about a routine's `music:`: a path that is missing or holds no audio, at its position."""
    if routine.music is None:
        return []
    try:
        music_files(Path(routine.source).parent / routine.music.path)
    except MusicError as error:
        where = routine.music.where
        reason = str(error).split(": ", 1)[1] if ": " in str(error) else str(error)
        return [Diagnostic(where.path, where.line, where.col, f"music: {routine.music.path}: {reason}")]
    return []


def music_files(source: Path, shuffle: bool = False) -> list[Path]:
    """The files a music source plays: the file itself, or a folder's audio files in name order (or shuffled)."""
    if not source.exists():
        raise MusicError(f"music {source}: no such file or folder")
    if source.is_dir():
        try:
            names = sorted(os.listdir(source), key=lambda name: (name.casefold(), name))
        except OSError as error:
            raise MusicError(f"music {source}: cannot read the folder: {error.strerror or error}") from None
        found = [source / name for name in names if Path(name).suffix.lower() in AUDIO_EXTENSIONS and (source / name).is_file()]
        if not found:
            listed = ", ".join(sorted(AUDIO_EXTENSIONS))
            raise MusicError(f"music {source}: the folder has no audio files ({listed})")
        if shuffle:
            random.shuffle(found)
        return found
    if not os.access(source, os.R_OK):
        raise MusicError(f"music {source}: cannot read: permission denied")
    return [source]


@dataclass(frozen=True)
class DecodedTrack:
    """A track in the cache: `frames` int16 frames of `channels` channels at `rate` after a header, and its loudness."""

    path: Path
    rate: int
    channels: int
    frames: int
    loudness: float  # LUFS as a mono file measures (a stereo reading minus 3 dB); -inf when silent
    complete: bool  # decoded to the end of the file (else it stops where the session no longer needs it)


class DecodeStopped(Exception):
    """Decoding stopped half-way because its bed was closed; nothing of the track was cached."""


def load_bed(options: MusicOptions, timeline: Timeline, rate: int, stopping: Callable[[], bool] = lambda: False) -> Bed:
    """The session's ducked music bed at `rate`, decoding (and caching) only the tracks and the part of them it plays.

    `stopping` is asked between pieces of decoding: once it answers True, DecodeStopped is raised."""
    files = music_files(options.source, options.shuffle)
    total = -(-timeline.duration_ms * rate // 1000)
    crossfade = round(CROSSFADE_MS * rate / 1000)
    tracks: list[DecodedTrack] = []
    remaining = total
    for path in files:
        # Enough to reach the session's end and crossfade past it; a later track plays only if this one ends first.
        wanted = remaining + crossfade + rate
        tracks.append(decoded(path, rate, wanted, options.cache_dir, stopping))
        remaining -= tracks[-1].frames - crossfade
        if remaining <= 0:
            break
    channels = 2 if any(track.channels == 2 for track in tracks) else 1
    gains = [_level_gain(track.loudness, options.level_lufs) for track in tracks]
    readers = [_TrackReader(track, channels) for track in tracks]

    def read(index: int, first: int, count: int) -> np.ndarray:
        return readers[index].read(first, count)

    # The decoded files' names carry their content keys (content_key): the bed is keyed by what it plays.
    identity = json.dumps([[t.path.name, t.frames, t.channels, t.loudness] for t in tracks])
    return Bed(timeline, rate, channels, [t.frames for t in tracks], gains, read, options.duck_db, identity=identity)


class LiveBed:
    """The bed of a live session, loaded in a background thread so decoding never delays the first sound.

    Always stereo (a mono bed is doubled), since the device is opened before the music's channels are known.
    Until the music is ready its blocks are silent; then it fades in over FADE_IN_MS. A load that fails raises its
    error from `render`, which the player reports as its failure (a one-line error, exit 1). `close` stops the
    decoding (within one piece of it) and waits for its thread: a session that ends leaves nothing running.
    """

    channels = 2

    def __init__(self, options: MusicOptions, timeline: Timeline, rate: int):
        self.rate = int(rate)
        self._bed: Bed | None = None
        self._failure: CoachError | None = None
        self._played: int | None = None  # frames rendered with the music, while it fades in
        self._fade = round(FADE_IN_MS * self.rate / 1000)
        self.ready = threading.Event()
        self._closing = threading.Event()
        self._thread = threading.Thread(
            target=self._load, args=(options, timeline), name="coach-music-decoder", daemon=True
        )
        self._thread.start()

    def _load(self, options: MusicOptions, timeline: Timeline) -> None:
        try:
            self._bed = load_bed(options, timeline, self.rate, self._closing.is_set)
        except CoachError as error:
            self._failure = error
        except DecodeStopped:
            pass  # closed: the session is over, its blocks stay silent
        finally:
            self.ready.set()

    def close(self) -> None:
        """Stop decoding and wait for the decoder thread to end (a partly decoded track is not cached)."""
        self._closing.set()
        self._thread.join()

    def render(self, start: int, count: int) -> np.ndarray:
        """Frames [start, start + count) as float32 (count, 2): silence until the music is ready."""
        if self._failure is not None:
            raise self._failure
        bed = self._bed
        if bed is None:
            return np.zeros((count, 2), dtype=np.float32)
        out = bed.render(start, count)
        if bed.channels == 1:
            out = np.repeat(out, 2, axis=1)
        if self._played is None:
            # Ready for the session's first block: its own fade-in covers the start. Ready later: fade in from here.
            self._played = self._fade if start <= 0 else 0
        if self._played < self._fade:  # counted in frames played, so a seek does not undo or restart the fade
            ramp = np.minimum((self._played + np.arange(count)) / self._fade, 1.0)
            out *= (0.5 - 0.5 * np.cos(np.pi * ramp)).astype(np.float32)[:, None]
            self._played += count
        return out


def decoded(
    path: Path, rate: int, wanted_frames: int, cache_dir: Path, stopping: Callable[[], bool] = lambda: False
) -> DecodedTrack:
    """`path` decoded at `rate` (at least `wanted_frames` of it, or all of it), from the cache or decoded and stored."""
    key = content_key(path, rate)
    target = Path(cache_dir) / f"music-{key[:16]}.pcm"
    found = _read_header(target)
    if found is not None and found.rate == rate and (found.complete or found.frames >= wanted_frames):
        try:
            os.utime(target)  # last used: what `coach cache prune --older-than` goes by
        except OSError:
            pass
        return found
    return _decode_to_cache(path, rate, wanted_frames, target, stopping)


def content_key(path: Path, rate: int) -> str:
    """The cache key of a decoded track: the file's bytes, the rate and the decoder's version."""
    digest = hashlib.sha256(f"coach-music/{DECODE_VERSION}/{rate}/".encode())
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError as error:
        raise MusicError(f"music {path}: cannot read: {error.strerror or error}") from None
    return digest.hexdigest()


def _decode_to_cache(path: Path, rate: int, wanted_frames: int, target: Path, stopping: Callable[[], bool]) -> DecodedTrack:
    directory = target.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # Locked while it is written (a decode takes seconds): another process's sweep of stale files leaves it be.
        descriptor, temporary = staging.locked_temporary(directory, target.stem)
    except OSError as error:
        raise CacheError(f"cannot write to speech cache {directory}: {error.strerror or error}") from None
    try:
        try:
            with os.fdopen(os.dup(descriptor), "wb") as handle:
                handle.write(b"\0" * _HEADER.size)  # filled in once the frames are known
                channels, frames, loudness, complete = _decode(path, rate, wanted_frames, handle, stopping)
                handle.seek(0)
                handle.write(_HEADER.pack(_MAGIC, DECODE_VERSION, rate, channels, frames, loudness, complete))
        except BaseException:
            os.close(descriptor)
            raise
        kept: list[DecodedTrack] = []

        def keep_longer(existing: Path) -> bool:
            # Another process's decode of the same file is the same samples: the longer one serves both, and a
            # bed already reading the longer one must not find it cut short under it.
            found = _read_header(existing)
            if found is not None and found.rate == rate and (found.complete or found.frames >= frames):
                kept.append(found)
                return True
            return False

        staging.publish(descriptor, temporary, target, keep_longer)
        temporary = None
        if kept:
            return kept[0]
    except OSError as error:
        raise CacheError(f"cannot write to speech cache {directory}: {error.strerror or error}") from None
    finally:
        if temporary is not None:
            try:
                os.unlink(temporary)
            except FileNotFoundError:
                pass
    return DecodedTrack(target, rate, channels, frames, loudness, complete)


def _decode(path: Path, rate: int, wanted_frames: int, out: BinaryIO, stopping: Callable[[], bool]) -> tuple[int, int, float, bool]:
    """Decode up to `wanted_frames` of `path` into `out` as int16 frames; (channels, frames, loudness, complete)."""
    from coach.audio.loudness import LoudnessMeter, gated_loudness

    written, channels, meters, ended, cut = 0, 0, [], False, False
    start = 0
    while written < wanted_frames and not ended:
        if stopping():
            raise DecodeStopped(path)
        piece, ended = _decode_piece(path, start, rate)
        if start == 0:
            if piece.shape[0] == 0:
                raise MusicError(f"music {path}: has no audio in it")
            channels = piece.shape[1]
            meters = [LoudnessMeter(rate) for _ in range(channels)]
        cut = piece.shape[0] > wanted_frames - written
        piece = piece[: wanted_frames - written]
        out.write(np.clip(np.rint(piece * 32767.0), -32768, 32767).astype("<i2").tobytes())
        for channel, meter in enumerate(meters):
            meter.add(piece[:, channel])
        written += piece.shape[0]
        start += DECODE_CHUNK_SECONDS
    if written < round(MIN_TRACK_MS * rate / 1000):
        seconds = f"{written / rate:.2f} s; at least {MIN_TRACK_MS / 1000:g} s"
        raise MusicError(f"music {path}: too short to play under a session ({seconds})")
    powers = sum(meter.block_powers() for meter in meters)
    loudness = gated_loudness(powers) - 10 * math.log10(channels)  # a stereo reading sums both channels
    return channels, written, loudness, ended and not cut


def _decode_piece(path: Path, start: int, rate: int) -> tuple[np.ndarray, bool]:
    """Seconds [start, start + DECODE_CHUNK_SECONDS) of `path` at `rate` as float32 (frames, 1 or 2), and whether the file ends there.

    Each piece is decoded with a second more on either side and resampled as a whole, then cut: pieces meet
    without an edge, as if the file had been resampled in one go.
    """
    from pydub import AudioSegment

    lead = 1 if start else 0
    try:
        segment = AudioSegment.from_file(str(path), start_second=start - lead if lead else None, duration=lead + DECODE_CHUNK_SECONDS + 1)
    except Exception as error:  # noqa: BLE001 - pydub raises many kinds for a file ffmpeg cannot read
        raise MusicError(f"music {path}: cannot decode: {_reason(str(error))}") from None
    width = segment.sample_width
    raw = np.frombuffer(segment.raw_data, dtype={1: np.int8, 2: "<i2", 4: "<i4"}.get(width, "<i2"))
    values = raw.reshape(-1, segment.channels).astype(np.float32) * np.float32(2.0 ** (1 - 8 * width))
    if segment.channels > 2:  # surround: fold into stereo, even channels left, odd right
        values = np.stack([values[:, 0::2].mean(axis=1), values[:, 1::2].mean(axis=1)], axis=1)
    native = segment.frame_rate
    ended = values.shape[0] < (lead + DECODE_CHUNK_SECONDS) * native
    if native != rate:
        from scipy import signal  # only when decoding, never on a warm start

        factor = math.gcd(native, rate)
        values = signal.resample_poly(values, rate // factor, native // factor, axis=0).astype(np.float32)
    return values[lead * rate : (lead + DECODE_CHUNK_SECONDS) * rate], ended


def _reason(message: str) -> str:
    skip = ("Decoding failed", "Output from", "ffmpeg version", "built with", "configuration:", "lib")
    lines = [line.strip() for line in message.splitlines() if line.strip() and not line.strip().startswith(skip)]
    return lines[-1] if lines else "not an audio file ffmpeg can read"


def _level_gain(loudness: float, level_lufs: float) -> float:
    if not math.isfinite(loudness):
        return 1.0
    return 10 ** (min(level_lufs - loudness, _MAX_TRACK_GAIN_DB) / 20)


def _read_header(path: Path) -> DecodedTrack | None:
    """The cached track at `path`, or None when it is missing or not whole."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(_HEADER.size)
            size = os.fstat(handle.fileno()).st_size
    except OSError:
        return None
    if len(header) < _HEADER.size:
        return None
    magic, version, rate, channels, frames, loudness, complete = _HEADER.unpack(header)
    if magic != _MAGIC or version != DECODE_VERSION or channels not in (1, 2) or rate <= 0 or frames <= 0:
        return None
    if size != _HEADER.size + frames * channels * 2:
        return None
    return DecodedTrack(path, rate, channels, frames, loudness, bool(complete))


class _TrackReader:
    """Reads frames of a cached track as float32 (frames, channels), a mono track doubled into a stereo bed."""

    def __init__(self, track: DecodedTrack, channels: int):
        self.track = track
        self.channels = channels
        try:
            self._descriptor = os.open(track.path, os.O_RDONLY)
        except OSError as error:
            raise CacheError(f"cannot read decoded music {track.path}: {error.strerror or error}") from None

    def read(self, first: int, count: int) -> np.ndarray:
        """`count` frames from frame `first` (pread: safe from any thread, no shared file position)."""
        width = self.track.channels * 2
        data = os.pread(self._descriptor, count * width, _HEADER.size + first * width)
        if len(data) != count * width:
            raise CacheError(f"decoded music {self.track.path} changed while playing; run the command again")
        values = np.frombuffer(data, dtype="<i2").reshape(count, self.track.channels).astype(np.float32)
        values *= np.float32(1 / 32768)
        if self.track.channels < self.channels:
            values = np.repeat(values, self.channels, axis=1)
        return values

    def __del__(self) -> None:
        try:
            os.close(self._descriptor)
        except (OSError, AttributeError):
            pass
