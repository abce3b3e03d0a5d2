"""Each output format's settings, and encoding M4A, Ogg and WAV with one ffmpeg process fed s16le PCM on its stdin.

MP3 is not encoded here but by coach/output/chunked.py (libmp3lame in worker processes, see coach/output/lame.py).
"""

from __future__ import annotations

import base64
import queue
import re
import shutil
import struct
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterable, Mapping, Sequence

import numpy as np

from coach import clock, interrupts
from coach.output import id3
from coach.errors import EncoderError, OutputError, UsageError

FFMPEG_MISSING = "ffmpeg not found: install it (Debian: apt-get install ffmpeg)"


@dataclass(frozen=True)
class OutputFormat:
    """How one output format is encoded and what metadata it can carry."""

    name: str
    extension: str
    muxer: str
    codec: tuple[str, ...]
    default_bitrate: str | None  # None: the format has no bitrate (PCM)
    # How chapters and the cover travel: "id3" (coach writes CHAP/CTOC and APIC frames into the tag ffmpeg leaves
    # room in), "ffmetadata" (an MP4 chapter track from a metadata input), "attached" (a picture input),
    # "vorbis" (CHAPTERnnn and METADATA_BLOCK_PICTURE comments) or "none".
    chapters: str
    cover: str
    # The limiter's true-peak ceiling for this format: lossy encoders overshoot, so each keeps the
    # headroom it was measured to need to stay under -1 dBTP (post-run routine, default bitrate).
    ceiling_dbtp: float = -2.0
    # With a music bed (44.1 kHz, stereo when the music is): a voice needs little, music at 64k would swirl.
    music_bitrate: str | None = None


FORMATS: dict[str, OutputFormat] = {
    # Spoken word, mono. Encoded by coach/output/chunked.py, which writes an ID3v2.3 tag (more players read it than v2.4);
    # `codec` is what one ffmpeg pass with the same settings is given (LAME quality 5, coach/output/lame.py): the benchmarks'
    # reference. Quality 5 encodes about twice as fast as ffmpeg's default (3), with no audible loss for a voice.
    # Measured overshoot at 64k: +0.2..0.5 dB over the mix's true peak.
    "mp3": OutputFormat(
        "mp3", ".mp3", "mp3", ("-c:a", "libmp3lame", "-compression_level", "5", "-id3v2_version", "3"),
        "64k", "id3", "id3", ceiling_dbtp=-2.0, music_bitrate="128k",
    ),
    # ffmpeg's default AAC coder overshoots by up to 2.5 dB true peak and is 2.5x slower; "fast" does neither.
    "m4a": OutputFormat(
        "m4a", ".m4a", "ipod", ("-c:a", "aac", "-aac_coder", "fast"), "64k", "ffmetadata", "attached", ceiling_dbtp=-2.0,
        music_bitrate="128k",
    ),
    # Vorbis overshoots most (+0.8 dB at 64k, +0.3 at 80k); 80k is its highest bitrate for 22 kHz mono.
    "ogg": OutputFormat(
        "ogg", ".ogg", "ogg", ("-c:a", "libvorbis"), "80k", "vorbis", "vorbis", ceiling_dbtp=-2.5, music_bitrate="128k"
    ),
    "wav": OutputFormat("wav", ".wav", "wav", ("-c:a", "pcm_s16le"), None, "none", "none", ceiling_dbtp=-1.0),
}

_BITRATE = re.compile(r"^(\d{1,3})k$")
_MIN_KBPS, _MAX_KBPS = 16, 320


def output_format(name: str) -> OutputFormat:
    """The output format called `name` (mp3, m4a, ogg, wav)."""
    found = FORMATS.get(name.lower().lstrip("."))
    if found is None:
        raise UsageError(f"unknown format {name!r}: choose one of {', '.join(FORMATS)}")
    return found


def checked_bitrate(fmt: OutputFormat, bitrate: str | None, music: bool = False) -> str | None:
    """The bitrate to encode `fmt` with: the one asked for (validated, like '64k') or the format's default (with music: its music default)."""
    if bitrate is None:
        return (fmt.music_bitrate or fmt.default_bitrate) if music else fmt.default_bitrate
    if fmt.default_bitrate is None:
        raise UsageError(f"--bitrate does not apply to {fmt.name}: it is uncompressed")
    match = _BITRATE.match(bitrate.strip().lower())
    if not match or not _MIN_KBPS <= int(match.group(1)) <= _MAX_KBPS:
        raise UsageError(f"bad bitrate {bitrate!r}: give kilobits per second like 64k ({_MIN_KBPS}k to {_MAX_KBPS}k)")
    return f"{int(match.group(1))}k"


def find_ffmpeg() -> str:
    """The path of the ffmpeg executable on PATH."""
    found = shutil.which("ffmpeg")
    if found is None:
        raise EncoderError(FFMPEG_MISSING)
    return found


@dataclass(frozen=True)
class EncodeJob:
    """One file to encode: where, how, and the metadata to put in it (chapters as (title, start_ms, end_ms))."""

    output: Path
    fmt: OutputFormat
    sample_rate: int
    bitrate: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    chapters: Sequence[tuple[str, int, int]] = ()
    cover_png: bytes | None = None
    channels: int = 1  # the blocks are (frames,) for 1, else (frames, channels), interleaved into the PCM
    chapter_pictures: Sequence[bytes | None] = ()  # a JPEG card per chapter (None: none), in the MP3's CHAP frames


def pcm16(block: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] as signed 16-bit little-endian integers, the same shape."""
    scaled = np.clip(block, -1.0, 1.0)
    np.multiply(scaled, 32767.0, out=scaled)  # in place: an export converts every sample, so no extra copies
    np.rint(scaled, out=scaled)
    return scaled.astype("<i2")


def pcm_s16le(block: np.ndarray) -> bytes:
    """Float samples in [-1, 1] as signed 16-bit little-endian PCM bytes (frames of several channels interleaved)."""
    return pcm16(block).tobytes()


def encode(blocks: Iterable[np.ndarray], job: EncodeJob, ffmpeg: str | None = None) -> None:
    """Encode float PCM blocks into job.output with ffmpeg (not MP3: see coach/output/chunked.py); on any failure or interrupt ffmpeg is stopped first."""
    if job.fmt.chapters == "id3":
        raise ValueError("MP3 is encoded by coach.output.chunked.encode_mp3, not by ffmpeg")
    executable = ffmpeg or find_ffmpeg()
    with tempfile.TemporaryDirectory(prefix="coach-encode-") as scratch:
        command = _command(executable, job, Path(scratch))
        with tempfile.TemporaryFile() as errors:
            _run(command, blocks, errors, job.output)


def id3_frames(job: EncodeJob) -> bytes:
    """The ID3 frames of an MP3's tag besides its text frames (comment, cover, chapters); empty for other formats."""
    if job.fmt.chapters != "id3":
        return b""
    comment = job.tags.get("comment")
    frames = id3.comment_frame(comment) if comment else b""
    if job.cover_png is not None:
        frames += id3.picture_frame(job.cover_png)
    return frames + id3.chapter_frames(job.chapters, job.chapter_pictures)


def _run(command: list[str], blocks: Iterable[np.ndarray], errors: BinaryIO, output: Path) -> None:
    process: subprocess.Popen | None = None
    writer: _PipeWriter | None = None
    finished = False
    try:
        with interrupts.held():  # a stop signal while Popen starts ffmpeg would leave it running unseen
            process = _start(command, errors)
            assert process.stdin is not None
            writer = _PipeWriter(process.stdin)
        for block in blocks:
            if not writer.put(block):
                break  # ffmpeg stopped reading: its exit status and message say why
        writer.close()
        code = process.wait()
        finished = True
    finally:
        if not finished and process is not None:
            process.kill()  # first, so a write blocked on the pipe fails and the writer can stop
            if writer is not None:
                writer.close()
            process.wait()
    if code != 0:
        raise _failure(code, _tail(errors), output)


def _start(command: list[str], errors: BinaryIO) -> subprocess.Popen:
    try:
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors)
    except FileNotFoundError:
        raise EncoderError(FFMPEG_MISSING) from None
    except OSError as error:
        raise EncoderError(f"cannot start ffmpeg: {error.strerror or error}") from None


class _PipeWriter:
    """Converts blocks to PCM and writes them to ffmpeg's stdin from its own thread, so the next block is mixed meanwhile."""

    def __init__(self, pipe: BinaryIO, depth: int = 4):
        self._pipe = pipe
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=depth)  # bounded: memory stays flat
        self.broken = False
        self._thread = threading.Thread(target=self._write_all, name="coach-encoder-feed", daemon=True)
        self._thread.start()

    def put(self, block: np.ndarray) -> bool:
        """Queue a float block for ffmpeg; False once ffmpeg has stopped reading."""
        if self.broken:
            return False
        self._queue.put(block)
        return True

    def close(self) -> None:
        """Send what is queued, close the pipe and wait for the thread."""
        self._queue.put(None)
        self._thread.join()

    def _write_all(self) -> None:
        while (block := self._queue.get()) is not None:
            if self.broken:
                continue  # keep taking from the queue so the producer never blocks
            try:
                self._pipe.write(pcm_s16le(block))
            except (BrokenPipeError, OSError, ValueError):
                self.broken = True
        try:
            self._pipe.close()
        except (BrokenPipeError, OSError):
            pass


def _failure(code: int, message: str, output: Path) -> Exception:
    if "No space left on device" in message:
        return OutputError(f"disk full while writing {output.parent}")
    if "Permission denied" in message:
        return OutputError(f"cannot write {output}: permission denied")
    return EncoderError(f"ffmpeg failed (exit {code}): {message or 'no message'}")


def _tail(errors: BinaryIO) -> str:
    errors.seek(0)
    lines = [line.strip() for line in errors.read().decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _command(ffmpeg: str, job: EncodeJob, scratch: Path) -> list[str]:
    fmt = job.fmt
    command = [ffmpeg, "-hide_banner", "-nostats", "-loglevel", "error", "-y"]
    pcm = ["-f", "s16le", "-ar", str(job.sample_rate), "-ac", str(job.channels), "-i", "pipe:0"]
    maps = ["-map", "0:a"]
    metadata = scratch / "metadata.txt"
    metadata.write_text(ffmetadata(job), encoding="utf-8")
    # With several inputs ffmpeg reads each in its own thread, and the PCM arrives in 1024-sample packets:
    # a short queue between them made encoding 50 % slower. (With one input the queue costs 15 %.)
    command += ["-thread_queue_size", "1024", *pcm, "-i", str(metadata)]
    maps += ["-map_metadata", "1", "-map_chapters", "1" if fmt.chapters == "ffmetadata" else "-1"]
    if job.cover_png is not None and fmt.cover == "attached":
        cover = scratch / "cover.png"
        cover.write_bytes(job.cover_png)
        command += ["-i", str(cover)]
        maps += ["-map", "2:v", "-c:v", "copy", "-disposition:v", "attached_pic"]
        # ffmpeg makes the picture type "front cover" from this comment.
        maps += ["-metadata:s:v", "title=Cover", "-metadata:s:v", "comment=Cover (front)"]
    command += maps + list(fmt.codec) + ["-ac", str(job.channels)]
    if job.bitrate:
        command += ["-b:a", job.bitrate]
    return command + ["-f", fmt.muxer, str(job.output)]


def ffmetadata(job: EncodeJob) -> str:
    """The ffmetadata file for a job (not MP3): global tags, and chapters in the form the format carries them."""
    tags = dict(job.tags)
    lines = [";FFMETADATA1"]
    if job.fmt.chapters == "vorbis":
        for number, (title, start_ms, _end_ms) in enumerate(job.chapters, start=1):
            tags[f"CHAPTER{number:03d}"] = clock.vorbis_chapter(start_ms)
            tags[f"CHAPTER{number:03d}NAME"] = title
    if job.cover_png is not None and job.fmt.cover == "vorbis":
        tags["METADATA_BLOCK_PICTURE"] = base64.b64encode(_flac_picture(job.cover_png)).decode("ascii")
    lines += [f"{_escape(key)}={_escape(value)}" for key, value in tags.items() if value]
    if job.fmt.chapters == "ffmetadata":
        for title, start_ms, end_ms in job.chapters:
            lines += ["", "[CHAPTER]", "TIMEBASE=1/1000", f"START={start_ms}", f"END={end_ms}", f"title={_escape(title)}"]
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    # ffmpeg's ffmetadata reader also ends a line at \r, and takes a line ending in an escaped backslash for one
    # continued on the next (swallowing the next tag): so \r is escaped, and trailing backslashes are dropped.
    return re.sub(r"([=;#\\\n\r])", r"\\\1", str(text).rstrip("\\"))


def _flac_picture(png: bytes) -> bytes:
    """A FLAC PICTURE block (front cover), the form Ogg comments carry cover art in."""
    width, height = struct.unpack(">II", png[16:24])  # from the PNG's IHDR
    mime, description = b"image/png", b"Cover"
    return (
        struct.pack(">II", 3, len(mime))
        + mime
        + struct.pack(">I", len(description))
        + description
        + struct.pack(">IIIII", width, height, 24, 0, len(png))
        + png
    )

