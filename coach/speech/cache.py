"""The content-addressed cache of rendered cue clips: one WAV file per (text, engine, version, voice, rate, format).

Files are named `slug-<first 16 hex of the key>.wav` so a person can see what a clip says. A clip is
written to a temporary file in the same directory and renamed over its final name, so readers only
ever see whole clips, and two processes storing the same clip both succeed (the last rename wins;
both wrote the same content); the data is synced to disk before the rename, so a power cut cannot
leave a named clip without its audio. Each clip carries a CRC-32 of its samples in a chunk of its
own (`crc `, which WAV readers skip), checked with the header on every lookup and read: a clip
damaged any way (a disk filling up under another tool, a block overwritten) is seen as missing and
rendered again. Once a whole clip is under its name it stays: a process that synthesized the same
text too keeps the clip already there and uses it (espeak-ng's samples vary with what the process spoke
before, so two processes' clips of one text may differ in length), so a clip another process looked up
never changes under it. Files are opened without following symbolic links: a link planted in the cache is
never served as a clip nor touched through. A lookup that hits sets the file's mtime to now: that
is the "last used" time `prune --older-than` goes by (atime is unreliable under relatime).

Beside the clips, `gain-<key>.json` files keep each session's program gain (see loudness.program_gain):
measuring it takes about a second and loads scipy, which a warm `coach play` must not wait for.
They follow the clips' rules: written atomically, checked on read, pruned and cleared with them. So do the
other JSON records: `level-<key>.json`, a clip's measured gating blocks at the gain steps a program gain looked
at (so after an edit only the new clip is measured), and `chapter-<key>.json`, what one chapter's mix gave an
export (its chunks' keys and its loudness, coach/output/mixcache.py).
So do `segment-<key>.bin` files: MP3 chunks as encoded by an export (see coach/output/chunked.py), each with
its full key and the sha256 of its bytes, so a damaged one is seen as missing and encoded again. Decoded music
(`music-<key>.pcm`, coach/audio/music.py), chapter cards (`card-<key>.jpg`) and what a voice derives from its
package to load faster (`voice-<key>.bin`, checked like a segment: a phonemizer's tables, an optimized model; see
coach/speech/hibari_tables.py and hibari_runtime.py) are cleared with the clips and pruned by age only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import struct
import sys
import time
import unicodedata
import zlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coach import staging
from coach.errors import CacheError
from coach.speech.engine import VoiceProfile, normalize_text

CACHE_SCHEMA = 2  # bump when what a key means changes (trimming, file layout); 2: the CRC chunk
AUDIO_FORMAT = "wav/pcm_s16le/mono"
# RIFF/WAVE, a 16-byte fmt chunk, a `crc ` chunk with the CRC-32 of the samples, then the data chunk.
WAV_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sII4sI")
_FIXED_CHUNKS = WAV_HEADER.size - 8  # what the RIFF size counts besides the samples
SLUG_LENGTH = 40
CLIP_NAME = re.compile(r"^(?P<slug>[a-z0-9-]+)-(?P<hash>[0-9a-f]{16})\.wav$")
GAIN_NAME = re.compile(r"^(?:gain|level|chapter)-(?P<hash>[0-9a-f]{16})\.json$")  # JSON records: gains, clips' levels, chapters
RECORD_KINDS = ("level", "chapter")  # the records besides gains (see ClipCache.record)
MUSIC_NAME = re.compile(r"^music-(?P<hash>[0-9a-f]{16})\.pcm$")  # decoded music (coach/audio/music.py)
SEGMENT_NAME = re.compile(r"^segment-(?P<hash>[0-9a-f]{16})\.bin$")
CARD_NAME = re.compile(r"^card-(?P<hash>[0-9a-f]{16})\.jpg$")  # chapter cards (coach/output/cards.py), like music: by age
VOICE_DATA_NAME = re.compile(r"^voice-(?P<hash>[0-9a-f]{16})\.bin$")  # what a voice keeps (speech/hibari_tables.py): by age
SEGMENT_MAGIC = b"coach-segment-1\n"
VOICE_DATA_MAGIC = b"coach-voice-1\n"
TEMP_SUFFIX = staging.TEMP_SUFFIX
_OTHER_KINDS = (GAIN_NAME, MUSIC_NAME, SEGMENT_NAME, CARD_NAME, VOICE_DATA_NAME)  # the cache's files besides the clips


_CHECKOUT = Path(__file__).resolve().parents[2]  # the source checkout, when coach runs from one


def default_directory() -> Path:
    """The one speech cache of this user wherever coach runs: $COACH_CACHE_DIR; else, run from a source
    checkout, its audio_cache/; else the platform's user cache folder (XDG_CACHE_HOME or ~/.cache on Linux)."""
    configured = os.environ.get("COACH_CACHE_DIR")
    if configured:
        return Path(configured)
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "audio_cache").is_dir():
        return _CHECKOUT / "audio_cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "coach"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "coach" / "Cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "coach"


def clip_key(text: str, profile: VoiceProfile) -> str:
    """The sha256 hex key of a clip: normalized text plus everything that changes how it sounds."""
    fields = [CACHE_SCHEMA, normalize_text(text), profile.engine, profile.version, profile.voice, profile.rate]
    fields += [AUDIO_FORMAT, profile.sample_rate]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


def slug(text: str, limit: int = SLUG_LENGTH) -> str:
    """A readable file-name stem from a text: lower-case ascii words joined by '-', cut at a word, or 'cue'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    stem = ""
    for word in words:
        candidate = f"{stem}-{word}" if stem else word
        if len(candidate) > limit:
            break
        stem = candidate
    if not stem and words:
        stem = words[0][:limit]
    return stem or "cue"


def clip_file_name(text: str, key: str) -> str:
    """The file name a clip is stored under."""
    return f"{slug(normalize_text(text))}-{key[:16]}.wav"


@dataclass(frozen=True)
class ClipRef:
    """A clip in the cache: which text it speaks, its key, its file, and its length in frames."""

    text: str
    key: str
    path: Path
    sample_rate: int
    frames: int

    @property
    def seconds(self) -> float:
        """The clip's length in seconds."""
        return self.frames / self.sample_rate

    def read(self) -> np.ndarray:
        """The clip's samples (int16 mono); CacheError if the file vanished or changed since lookup."""
        try:
            data = _read_file(self.path)
        except OSError as error:
            raise CacheError(f"cannot read speech clip {self.path}: {error.strerror or error}") from error
        if _parse_clip(data) != (self.sample_rate, self.frames):
            raise CacheError(f"speech clip {self.path} is damaged; run `coach render` again to replace it")
        return np.frombuffer(data, dtype="<i2", offset=WAV_HEADER.size).astype(np.int16)


@dataclass(frozen=True)
class CacheStats:
    """What a cache directory holds."""

    directory: Path
    clips: int
    bytes: int
    seconds: float
    damaged: int
    temporary: int


@dataclass(frozen=True)
class PruneResult:
    """What a prune or clear removed and kept."""

    removed: int
    freed_bytes: int
    kept: int


class ClipCache:
    """A directory of rendered clips keyed by content; safe to share between processes."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path_for(self, text: str, profile: VoiceProfile) -> Path:
        """Where the clip for `text` spoken with `profile` lives (whether or not it exists yet)."""
        return self.directory / clip_file_name(text, clip_key(text, profile))

    def lookup(self, text: str, profile: VoiceProfile) -> ClipRef | None:
        """The cached clip for `text`, or None when it is missing or damaged; marks a hit as used now."""
        key = clip_key(text, profile)
        path = self.directory / clip_file_name(text, key)
        header = _check_clip(path, touch=True)
        if header is None or header[0] != profile.sample_rate:
            return None
        return ClipRef(text=text, key=key, path=path, sample_rate=header[0], frames=header[1])

    def store(self, text: str, profile: VoiceProfile, samples: np.ndarray) -> ClipRef:
        """Write a clip atomically under its final name and return it (or the whole clip another process stored first); CacheError if the disk refuses."""
        samples = np.asarray(samples, dtype="<i2").reshape(-1)
        if samples.size == 0:
            raise CacheError(f"refusing to cache an empty clip for {text[:40]!r}")
        key = clip_key(text, profile)
        path = self.directory / clip_file_name(text, key)
        payload = samples.tobytes()
        header = WAV_HEADER.pack(
            b"RIFF", _FIXED_CHUNKS + len(payload), b"WAVE", b"fmt ", 16, 1, 1,
            profile.sample_rate, profile.sample_rate * 2, 2, 16,
            b"crc ", 4, zlib.crc32(payload), b"data", len(payload),
        )  # fmt: skip
        kept: list[tuple[int, int]] = []

        def keep_whole(existing: Path) -> bool:
            found = _check_clip(existing)
            if found is not None and found[0] == profile.sample_rate:
                kept.append(found)
                return True
            return False  # damaged or of another rate: replaced

        self._write_atomically(path, header + payload, keep=keep_whole)
        frames = kept[0][1] if kept else samples.size
        return ClipRef(text=text, key=key, path=path, sample_rate=profile.sample_rate, frames=frames)

    def gain(self, key: str) -> float | None:
        """The program gain stored under `key` (a sha256 hex), or None when missing or damaged; marks a hit as used now."""
        path = self.directory / _gain_file_name(key)
        found = _read_gain(path, touch=True)
        if found is None or found[0] != key:
            return None
        return found[1]

    def store_gain(self, key: str, gain: float) -> None:
        """Store a program gain under `key`, atomically; CacheError if the disk refuses."""
        payload = json.dumps({"key": key, "gain": float(gain)}).encode()
        self._write_atomically(self.directory / _gain_file_name(key), payload)

    def record(self, kind: str, key: str) -> dict | None:
        """The JSON record of `kind` (RECORD_KINDS) under `key`, or None when missing or damaged; marks a hit as used now."""
        if kind not in RECORD_KINDS:
            raise ValueError(f"unknown record kind {kind!r}")
        try:
            record = json.loads(_read_file(self.directory / f"{kind}-{key[:16]}.json", touch=True))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and record.get("key") == key else None

    def store_record(self, kind: str, key: str, record: dict) -> None:
        """Store a JSON record (with `key` in it) of `kind` under `key`, atomically; CacheError if the disk refuses."""
        payload = json.dumps({**record, "key": key}, separators=(",", ":")).encode()
        self._write_atomically(self.directory / f"{kind}-{key[:16]}.json", payload)

    def segment(self, key: str) -> bytes | None:
        """The encoded segment stored under `key` (a sha256 hex), or None when missing or damaged; marks a hit as used now."""
        return self._checked(_segment_file_name(key), SEGMENT_MAGIC, key)

    def store_segment(self, key: str, data: bytes) -> None:
        """Store an encoded segment under `key`, atomically, with a checksum; CacheError if the disk refuses."""
        self._store_checked(_segment_file_name(key), SEGMENT_MAGIC, key, data)

    def voice_data(self, key: str) -> bytes | None:
        """What a voice kept under `key` (a sha256 hex), or None when missing or damaged; marks a hit as used now."""
        return self._checked(f"voice-{key[:16]}.bin", VOICE_DATA_MAGIC, key)

    def store_voice_data(self, key: str, data: bytes) -> None:
        """Keep a voice's data under `key`, atomically, with a checksum; CacheError if the disk refuses."""
        self._store_checked(f"voice-{key[:16]}.bin", VOICE_DATA_MAGIC, key, data)

    def _checked(self, name: str, magic: bytes, key: str) -> bytes | None:
        found = _read_checked(self.directory / name, magic, touch=True)
        return found[1] if found is not None and found[0] == key else None

    def _store_checked(self, name: str, magic: bytes, key: str, data: bytes) -> None:
        digest = hashlib.sha256(data).digest()
        self._write_atomically(self.directory / name, magic + key.encode("ascii") + digest + data)

    def _write_atomically(self, path: Path, payload: bytes, keep: Callable[[Path], bool] | None = None) -> None:
        self._ensure_directory()
        temporary = None
        try:
            descriptor, temporary = self._locked_temporary(path)
            try:
                # A duplicate shares the flock: closing it leaves the file locked until it is published.
                with os.fdopen(os.dup(descriptor), "wb") as handle:
                    handle.write(payload)
                    handle.flush()
                    os.fsync(handle.fileno())  # the data on disk before the name: a power cut leaves no empty clip
            except BaseException:
                os.close(descriptor)
                raise
            staging.publish(descriptor, temporary, path, keep)
            temporary = None
        except OSError as error:
            raise CacheError(f"cannot write to speech cache {self.directory}: {error.strerror or error}") from error
        finally:
            if temporary is not None:
                staging.discard(temporary)

    def stats(self) -> CacheStats:
        """Count and size the clips (and damaged or leftover temporary files) in the directory."""
        clips = size = damaged = temporary = 0
        seconds = 0.0
        for path in self._files():
            if any(kind.match(path.name) for kind in _OTHER_KINDS):
                continue  # bookkeeping, decoded music, encoded chunks, cards and what a voice keeps, not clips
            if path.name.endswith(TEMP_SUFFIX):
                temporary += 1
                continue
            header = _check_clip(path)
            if header is None:
                damaged += 1
                continue
            clips += 1
            size += _size(path)
            seconds += header[1] / header[0]
        return CacheStats(self.directory, clips, size, seconds, damaged, temporary)

    def prune(self, keep: Collection[str] | None = None, unused_days: float | None = None) -> PruneResult:
        """Remove clips (and stored gains) neither in `keep` nor used within `unused_days` (whichever are given), and damaged ones.

        The counts are of clips; stored gains and encoded segments go by the same rules without being counted
        (session.cache_keys names the segments of a routine's plain MP3 export; others are encoded again when needed).
        """
        kept_prefixes = None if keep is None else {key[:16] for key in keep}
        cutoff = None if unused_days is None else time.time() - unused_days * 86400
        removed = freed = kept = 0
        for path in self._files():
            if MUSIC_NAME.match(path.name) or CARD_NAME.match(path.name) or VOICE_DATA_NAME.match(path.name):
                if cutoff is not None and _mtime(path) < cutoff:
                    freed += _remove(path)
                continue
            gain = GAIN_NAME.match(path.name)
            segment = SEGMENT_NAME.match(path.name)
            match = CLIP_NAME.match(path.name) or gain or segment
            if match is None:
                freed += self._remove_if_stale(path)
                continue
            tidy_only = kept_prefixes is None and cutoff is None
            wanted = kept_prefixes is not None and match["hash"] in kept_prefixes
            recent = cutoff is not None and _mtime(path) >= cutoff
            if gain:
                whole = _read_gain(path) is not None
            elif segment:
                whole = _read_checked(path, SEGMENT_MAGIC) is not None
            else:
                whole = _check_clip(path) is not None
            counted = not (gain or segment)
            if (tidy_only or wanted or recent) and whole:
                kept += 1 if counted else 0
                continue
            freed += _remove(path)
            removed += 1 if counted else 0
        return PruneResult(removed, freed, kept)

    def clear(self) -> PruneResult:
        """Remove every clip (and leftover temporary file); other files in the directory are left alone."""
        removed = freed = 0
        for path in self._files():
            if CLIP_NAME.match(path.name):
                freed += _remove(path)
                removed += 1
            elif any(kind.match(path.name) for kind in _OTHER_KINDS):
                freed += _remove(path)
            else:
                freed += self._remove_if_stale(path)
        return PruneResult(removed, freed, 0)

    def _files(self, temporaries_only: bool = False) -> list[Path]:
        """This cache's files (clips and our temporary files, or only those), never anything else in the directory."""
        if not self.directory.exists():
            return []
        if not self.directory.is_dir():
            raise CacheError(f"speech cache {self.directory} is not a directory")
        try:
            names = sorted(os.listdir(self.directory))
        except OSError as error:
            raise CacheError(f"cannot read speech cache {self.directory}: {error.strerror or error}") from error
        ours = () if temporaries_only else (CLIP_NAME, *_OTHER_KINDS)
        return [
            self.directory / name
            for name in names
            if staging.is_temporary(name) or any(kind.match(name) for kind in ours)
        ]

    def _locked_temporary(self, path: Path) -> tuple[int, str]:
        """A new temporary file for `path`, locked (flock) until it is published or removed."""
        return staging.locked_temporary(self.directory, path.stem)

    def remove_stale_temporaries(self) -> int:
        """Remove temporary files left by writers that died (a killed render); the number removed."""
        removed = 0
        for path in self._files(temporaries_only=True):  # every prepare asks: a clip's name is not looked at
            if self._remove_if_stale(path):
                removed += 1
        return removed

    def _remove_if_stale(self, path: Path) -> int:
        """Remove a temporary file whose writer is gone, under its lock (see coach.staging); the bytes freed."""
        try:
            return staging.remove_if_stale(path)
        except OSError as error:
            raise CacheError(f"cannot remove {path} from the speech cache: {error.strerror or error}") from error

    def _ensure_directory(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except FileExistsError as error:
            raise CacheError(f"speech cache {self.directory} is not a directory") from error
        except OSError as error:
            raise CacheError(f"cannot create speech cache {self.directory}: {error.strerror or error}") from error


def _parse_clip(data: bytes) -> tuple[int, int] | None:
    """(sample rate, frames) of a whole clip file's bytes in this cache's layout, or None if it is damaged."""
    if len(data) < WAV_HEADER.size:
        return None
    (riff, riff_size, wave, fmt, fmt_size, encoding, channels, rate, byte_rate, align, bits,
     crc_id, crc_size, crc, data_id, data_size) = WAV_HEADER.unpack_from(data)  # fmt: skip
    valid = (
        (riff, wave, fmt, crc_id, data_id) == (b"RIFF", b"WAVE", b"fmt ", b"crc ", b"data")
        and (fmt_size, encoding, channels, align, bits, crc_size) == (16, 1, 1, 2, 16, 4)
        and rate > 0
        and byte_rate == rate * 2
        and data_size > 0
        and data_size % 2 == 0
        and riff_size == _FIXED_CHUNKS + data_size
        and len(data) == WAV_HEADER.size + data_size
        and zlib.crc32(memoryview(data)[WAV_HEADER.size :]) == crc
    )
    return (rate, data_size // 2) if valid else None


_NO_FOLLOW = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def _read_file(path: Path, touch: bool = False) -> bytes:
    """A regular file's bytes, opened without following a symbolic link; with `touch`, its mtime set to now."""
    descriptor = os.open(path, _NO_FOLLOW)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{path} is not a regular file")
        with os.fdopen(os.dup(descriptor), "rb") as handle:
            data = handle.read()
        if touch:
            try:
                os.utime(descriptor if os.utime in os.supports_fd else path)
            except OSError:
                pass  # a read-only cache still serves clips; only its last-used times go stale
        return data
    finally:
        os.close(descriptor)


def _check_clip(path: Path, touch: bool = False) -> tuple[int, int] | None:
    """(sample rate, frames) of a whole, undamaged clip file (read and checked in full), else None."""
    try:
        return _parse_clip(_read_file(path, touch))
    except OSError:
        return None


def _gain_file_name(key: str) -> str:
    return f"gain-{key[:16]}.json"


def _read_gain(path: Path, touch: bool = False) -> tuple[str, float] | None:
    """(key, gain) of a stored gain (for another record, gain 0), or None if the file is missing or not a whole, valid record."""
    try:
        record = json.loads(_read_file(path, touch))
        key, gain = record["key"], float(record.get("gain", 0.0) if not path.name.startswith("gain-") else record["gain"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (key, gain) if isinstance(key, str) and gain >= 0 and gain != float("inf") else None


def _segment_file_name(key: str) -> str:
    return f"segment-{key[:16]}.bin"


def _read_checked(path: Path, magic: bytes, touch: bool = False) -> tuple[str, bytes] | None:
    """(key, data) of a file stored as `magic`, key, sha256, data; None if it is missing or its checksum does not match."""
    try:
        content = _read_file(path, touch)
    except OSError:
        return None
    head = len(magic)
    key, digest, data = content[head : head + 64], content[head + 64 : head + 96], content[head + 96 :]
    if content[:head] != magic or not data or hashlib.sha256(data).digest() != digest:
        return None
    return key.decode("ascii", "replace"), data


def _size(path: Path) -> int:
    try:
        return path.lstat().st_size
    except OSError:
        return 0


def _mtime(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except OSError:
        return 0.0


def _remove(path: Path) -> int:
    """Delete a file (another process may have beaten us to it); the bytes freed."""
    size = _size(path)
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    except OSError as error:
        raise CacheError(f"cannot remove {path} from the speech cache: {error.strerror or error}") from error
    return size
