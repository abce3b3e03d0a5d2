"""MP3 export in chunks encoded in parallel worker processes and joined sample-exactly, each chunk cached.

Each chunk is encoded on its own by libmp3lame (coach/output/lame.py) with the bit reservoir off, from a
pre-roll of at least PREROLL_FRAMES frames of the audio before it to a post-roll of POSTROLL_FRAMES
after it; of its frames, exactly those that carry its own samples are kept. Frame g of a stream carries
samples [g * F - D, (g + 1) * F - D) (F samples a frame: 576 at 22,050 Hz, 1152 at 44,100 Hz; D, the
encoder delay, is 576 at both), so the kept frames, laid end to end, are the frames of one stream with
no gap and no overlap; after the pre-roll the encoder's state has caught up with a single pass, and
because every chunk's encoder starts a whole padding period (mp3frames.padding_period) from the track's
start, even the padded frames fall where a single pass puts them: the joined frames are a single pass's
frames byte for byte. A Xing/LAME header for the whole track (coach/output/mp3frames.py) lets decoders cut
exactly the encoded samples.

Chunks end on the frame grid, never cross a chapter edge that is on the grid, and end in the quietest
frame near TARGET_SECONDS among those a minimal pre-roll after a period, at a place the audio fixes
(coach/output/cuts.py), so that cuts after an edit move with the audio: a chapter's chunks then depend
only on that chapter's own audio (and a pre-roll from the end of the one before), so after an edit only
the chunks whose PCM changed are encoded again; the others come from the segment cache, keyed by their
PCM with its rolls. A chapter whose mix key (coach/output/mixcache.py) has a stored record of its chunks is not
even rendered: its chunks' segments are taken as the record names them.

Long because the plan, the parallel encode and the chapter records all work on one chunk geometry (rolls, the
padding period, the frame grid) that must stay the same in each for the joined frames to be a single pass's.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, asdict
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Protocol, Sequence

import numpy as np

from coach.output import cuts, lame, mp3frames
from coach.errors import EncoderError, OutputError
from coach.processes import become_helper, pool_context

if TYPE_CHECKING:
    from coach.output.encode import EncodeJob

PREROLL_FRAMES = 4  # the frames of audio before a chunk its encoder starts from, dropped: enough to match a single pass
POSTROLL_FRAMES = 2  # the frames after it: with one, its last frame still differs from a single pass (the psychoacoustic look-ahead)
TARGET_SECONDS = 20.0  # a chunk's length: small enough for a one-cue edit to re-encode little, big enough that rolls cost <1 %
SEARCH_SECONDS = 5.0  # a cut moves up to this far either way to land in the quietest frame
REACH_SECONDS = 60.0  # a silence is followed this far beyond the search window to find its extent (see coach/output/cuts.py)
_MAX_PENDING = 16  # chunks encoded but not yet written, per process: their frames, a few hundred KB each
SEGMENT_SCHEMA = 2  # bump when a segment's bytes for the same key would change
PLAN_SCHEMA = 2  # bump when the chunks plan() cuts the same audio into would change (it names a chapter's record)

Render = Callable[[int, int], np.ndarray]  # (first sample, count) -> float samples in [-1, 1]


class SegmentStore(Protocol):
    """Where encoded chunks are kept between exports (see ClipCache.segment)."""

    def segment(self, key: str) -> bytes | None: ...

    def store_segment(self, key: str, data: bytes) -> None: ...


@dataclass(frozen=True)
class Chunk:
    """A chunk's own samples [start, end) and the samples around them its encoder is given."""

    start: int
    end: int
    preroll: int
    postroll: int
    first: bool  # the track's first chunk: it starts the stream (and keeps the encoder's delay frame)
    last: bool  # the track's last chunk: it ends the stream (and keeps the flushed frames)


@dataclass(frozen=True)
class ChunkedReport:
    """What a chunked encode did: chunks in all, and how many were encoded now (the rest came from the cache)."""

    chunks: int
    encoded: int
    processes: int


def encode_track(
    render: Render,
    start: int,
    end: int,
    edges: Sequence[int],
    output: Path,
    settings: lame.LameSettings,
    id3_tag: bytes = b"",
    *,
    jobs: int | None = None,
    segments: SegmentStore | None = None,
    on_samples: Callable[[int], None] | None = None,
    cuts: Sequence[int] | None = None,
    span_keys: Sequence[str | None] | None = None,
) -> ChunkedReport:
    """Encode samples [start, end) of `render` to `output` (after `id3_tag`) as one gapless CBR MP3.

    `edges` are chapter starts a chunk must not cross; `cuts`, when given, are the chunk boundaries
    to use instead of choosing them (for tests that place joins). `on_samples(n)` is told as each
    chunk is done. With `segments`, chunks found there are not encoded again and new ones are stored.
    With `span_keys` too (the mix key of each of spans(...), coach/output/mixcache.py), a span whose record
    of chunks is stored with all its segments is not rendered at all: its chunks are taken as they are.
    """
    if end <= start:
        raise EncoderError("nothing to encode")
    frame = mp3frames.frame_samples(settings.sample_rate)
    delay = lame.encoder_delay(settings)
    channels = settings.channels
    records: list[tuple[str, int, list[tuple[Chunk, str]]]] = []  # chapter records to store once their segments are
    sizes: dict[str | None, int] = {}  # frames of each chunk written, by segment key
    known: dict[str, int] = {}  # segment key -> its frames, as a chapter record says (its bytes checked by sha256)
    if cuts is None and span_keys is not None and segments is not None and hasattr(segments, "record"):
        planned = _recorded(render, start, end, edges, settings, span_keys, segments, records, known)
    else:
        chosen = plan(render, start, end, edges, frame, settings.sample_rate, channels) if cuts is None else (
            _given(render, start, end, cuts, frame, settings.sample_rate, channels))
        planned = ((chunk, pcm, segment_key(settings, chunk, pcm) if segments is not None else None, None) for chunk, pcm in chosen)
    fresh = end - start  # samples that may need encoding: with records, only the spans that have none
    if cuts is None and span_keys is not None and segments is not None and hasattr(segments, "record"):
        bounds = spans(start, end, edges, frame)
        keys = record_keys(start, end, edges, settings, span_keys)
        fresh = sum(hi - lo for lo, hi, key in zip(bounds, bounds[1:], keys) if key is None or segments.record("chapter", key) is None)
    # A pool's start costs about as much as encoding a few seconds: a one-chapter edit may be quicker in this process.
    processes = 1 if cuts == [] else _processes(jobs, fresh, settings.sample_rate)
    encoded = chunks = 0
    try:
        handle = open(output, "wb")
    except OSError as error:
        raise _write_error(output, error) from None
    pool = _pool(processes) if processes > 1 else None
    try:
        with handle:
            handle.write(id3_tag)
            header_at = handle.tell()
            pending: deque[tuple[Chunk, str | None, Future[tuple[bytes, int]] | tuple[bytes, int]]] = deque()
            writer = _Writer(handle)

            def finish_oldest() -> None:
                nonlocal encoded
                chunk, key, job = pending.popleft()
                if isinstance(job, Future):
                    data, frames = job.result()
                    encoded += 1
                    if segments is not None and key is not None:
                        segments.store_segment(key, data)
                else:
                    data, frames = job
                writer.add(data, frames)
                sizes[key] = frames
                if on_samples is not None:
                    on_samples(chunk.end - chunk.start)

            for chunk, pcm, key, found in planned:
                chunks += 1
                if found is None and segments is not None and key is not None:
                    found = segments.segment(key)
                frames = (known.pop(key, 0) or _whole_frames(found)) if found is not None else 0
                if found is not None and frames:
                    pending.append((chunk, key, (found, frames)))
                elif pool is not None:
                    pending.append((chunk, key, pool.submit(encode_chunk, settings, chunk, pcm, delay)))
                else:
                    done: Future[tuple[bytes, int]] = Future()
                    done.set_result(encode_chunk(settings, chunk, pcm, delay))
                    pending.append((chunk, key, done))
                # Enough queued to keep every worker busy, the oldest written as soon as it is done. The bound is
                # on chunks not yet encoded (their PCM waits in memory), not on chunks not yet written: a worker
                # held up on one chunk (a busy machine) must not leave the others without work.
                while pending:
                    unfinished = [job for _chunk, _key, job in pending if isinstance(job, Future) and not job.done()]
                    if _ready(pending[0][2]):
                        finish_oldest()
                    elif len(unfinished) > 2 * processes or len(pending) > _MAX_PENDING * processes:
                        wait(unfinished, return_when=FIRST_COMPLETED)
                    else:
                        break
            while pending:
                finish_oldest()
            for record_key, lo, made in records:  # every segment they name is stored now
                rows = [[c.start - lo, c.end - lo, c.preroll, c.postroll, c.first, c.last, k, sizes[k]] for c, k in made]
                segments.store_record("chapter", record_key, {"chunks": rows})  # type: ignore[union-attr]
            if writer.frames == 0:
                raise EncoderError("the MP3 encoder produced no audio")
            header = mp3frames.info_frame(
                writer.first_frame, writer.frames, writer.bytes, end - start, delay, writer.crc, "LAME" + lame.version()
            )
            # The header goes before the audio: the audio is written after room left for it, then the header into that room.
            handle.seek(header_at)
            handle.write(header)
    except BrokenProcessPool as error:
        raise EncoderError("an MP3 encoder process died (out of memory?); try again with --jobs 1") from error
    except OSError as error:
        raise _write_error(output, error) from None
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return ChunkedReport(chunks, encoded, processes)


def _write_error(output: Path, error: OSError) -> OutputError:
    if error.errno == errno.ENOSPC:
        return OutputError(f"disk full while writing {output.parent}")
    return OutputError(f"cannot write {output}: {error.strerror or error}")


class _Writer:
    """Appends chunks' frames after room for the header, counting what the header must say."""

    def __init__(self, handle) -> None:
        self._handle = handle
        self.frames = self.bytes = self.crc = 0
        self.first_frame = b""

    def add(self, data: bytes, frames: int) -> None:
        """Append `data`, `frames` whole frames."""
        if not self.first_frame:
            header = mp3frames.parse_header(data)
            self.first_frame = data[: header.size]
            self._handle.write(bytes(_header_room(header)))
        self._handle.write(data)
        self.frames += frames
        self.bytes += len(data)
        self.crc = lame.music_crc(data, self.crc)


def _header_room(header: mp3frames.FrameHeader) -> int:
    # The info frame's size depends only on the audio's header: build a dummy one to measure it.
    probe = bytes([0xFF, 0xE0 | (header.version_bits << 3) | 0b011, header.bitrate_index << 4 | header.rate_index << 2, 0xC0 if header.mono else 0])
    return len(mp3frames.info_frame(probe + bytes(header.size - 4), 1, header.size, 0, 0, 0, "LAME"))


def encode_chunk(settings: lame.LameSettings, chunk: Chunk, pcm: np.ndarray, delay: int) -> tuple[bytes, int]:
    """The frames that carry a chunk's own samples, encoded from its PCM with its rolls, and how many they are.

    Frame g of the track holds samples [g * F - delay, (g + 1) * F - delay) of it, so the chunk starting at
    s (on the grid) begins with frame s / F + delay // F. Its PCM starts `preroll` (whole frames) before s:
    of its encoder's frames, the first (preroll + delay) // F carry only pre-roll and are dropped.
    """
    frame = mp3frames.frame_samples(settings.sample_rate)
    stream = lame.encode(pcm, settings)
    bounds = mp3frames.frame_offsets(stream)
    made = len(bounds) - 1
    lead = delay // frame  # frames before the one that holds a chunk's first sample: 1 at MPEG-2 rates, 0 at MPEG-1
    skip = 0 if chunk.first else (chunk.preroll + delay) // frame
    count = made - skip if chunk.last else (chunk.end - chunk.start) // frame + (lead if chunk.first else 0)
    if count <= 0 or skip + count > made:
        raise EncoderError(f"the MP3 encoder gave {made} frames for a chunk that needs {skip + max(count, 1)}")
    return stream[bounds[skip] : bounds[skip + count]], count


def segment_key(settings: lame.LameSettings, chunk: Chunk, pcm: np.ndarray) -> str:
    """The cache key of a chunk's encoded frames: the encoder and its settings, the chunk's shape and its PCM with rolls.

    Not its position: a chapter moved by whole frames after an edit before it keeps its chunks' keys.
    """
    shape = [SEGMENT_SCHEMA, lame.version(), asdict(settings), chunk.end - chunk.start, chunk.preroll, chunk.postroll, chunk.first, chunk.last]
    digest = hashlib.sha256(json.dumps(shape).encode())
    digest.update(np.ascontiguousarray(pcm, dtype="<i2").tobytes())
    return digest.hexdigest()


def plan(
    render: Render, start: int, end: int, edges: Sequence[int], frame: int, rate: int, channels: int = 1
) -> Iterator[tuple[Chunk, np.ndarray]]:
    """The chunks of [start, end), each with its PCM (int16, rolls included, (n,) or (n, channels)): cut at edges
    on the frame grid, else in the quietest frame near the target length."""
    period = mp3frames.padding_period(rate)
    window = _Window(render, start, end, channels)
    bounds = spans(start, end, edges, frame)
    for lo, hi in zip(bounds, bounds[1:]):
        yield from _span_chunks(window, start, end, lo, hi, frame, rate, period)


def _span_chunks(
    window: "_Window", start: int, end: int, lo: int, hi: int, frame: int, rate: int, period: int
) -> Iterator[tuple[Chunk, np.ndarray]]:
    """The chunks of one span [lo, hi): cut in the quietest frame near the target length."""
    target = round(TARGET_SECONDS * rate / frame) * frame
    search = round(SEARCH_SECONDS * rate / frame) * frame
    reach = round(REACH_SECONDS * rate / frame) * frame
    position = lo
    while position < hi:
        if hi - position <= target + search:
            cut = hi
        else:
            cut = _quietest(window, start, (lo, hi), position + target, search, reach, frame, period)
        yield _chunk(window, start, end, position, cut, frame, period)
        window.drop_before(cut - reach - (PREROLL_FRAMES + period) * frame)
        position = cut


def spans(start: int, end: int, edges: Sequence[int], frame: int) -> list[int]:
    """The bounds of the spans plan() cuts [start, end) into first: the edges on the frame grid, with start and end."""
    return [start] + sorted({e for e in edges if start < e < end and (e - start) % frame == 0}) + [end]


def context_frames(rate: int) -> tuple[int, int]:
    """Frames before and after a span that its chunks' PCM reaches into: the longest pre-roll, the post-roll."""
    frame = mp3frames.frame_samples(rate)
    return (PREROLL_FRAMES + mp3frames.padding_period(rate)) * frame, POSTROLL_FRAMES * frame


def _recorded(
    render: Render, start: int, end: int, edges: Sequence[int], settings: lame.LameSettings,
    span_keys: Sequence[str | None], segments, records: list, known: dict[str, int],
) -> Iterator[tuple[Chunk, np.ndarray | None, str, bytes | None]]:
    """plan()'s chunks with their segment keys, a span at a time: a span whose record and segments are all stored is
    given as they are (no PCM: nothing rendered), the others planned on their own PCM and listed in `records`."""
    rate, channels = settings.sample_rate, settings.channels
    frame, period = mp3frames.frame_samples(rate), mp3frames.padding_period(rate)
    bounds = spans(start, end, edges, frame)
    window = _Window(render, start, end, channels)
    for lo, hi, record_key in zip(bounds, bounds[1:], record_keys(start, end, edges, settings, span_keys)):
        if record_key is not None:
            stored = _stored_span(segments, record_key, lo, known)
            if stored is not None:
                yield from stored
                continue
        window.seek(max(start, lo - context_frames(rate)[0]))
        made = []
        for chunk, pcm in _span_chunks(window, start, end, lo, hi, frame, rate, period):
            key = segment_key(settings, chunk, pcm)
            made.append((chunk, key))
            yield chunk, pcm, key, None
        if record_key is not None:
            records.append((record_key, lo, made))


def record_keys(start: int, end: int, edges: Sequence[int], settings: lame.LameSettings, span_keys: Sequence[str | None]) -> list[str | None]:
    """The cache key of each span's chapter record: its mix key, the encoder, and where the span sits on the padding period."""
    frame, period = mp3frames.frame_samples(settings.sample_rate), mp3frames.padding_period(settings.sample_rate)
    bounds = spans(start, end, edges, frame)
    keys: list[str | None] = []
    for lo, hi, mix_key in zip(bounds, bounds[1:], span_keys):
        before = (lo - start) // frame
        shape = [SEGMENT_SCHEMA, lame.version(), asdict(settings), mix_key, before % period, min(before, PREROLL_FRAMES + period),
                 lo == start, hi == end, PREROLL_FRAMES, POSTROLL_FRAMES, TARGET_SECONDS, SEARCH_SECONDS, PLAN_SCHEMA]
        keys.append(hashlib.sha256(json.dumps(shape).encode()).hexdigest() if mix_key is not None else None)
    return keys


def _stored_span(segments, record_key: str, lo: int, known: dict[str, int]) -> list[tuple[Chunk, None, str, bytes]] | None:
    """A span's chunks from its stored record, each with its stored segment (its frames put in `known`); None unless all are there."""
    record = segments.record("chapter", record_key)
    if record is None:
        return None
    found = []
    try:
        for first, last, preroll, postroll, is_first, is_last, key, frames in record["chunks"]:
            data = segments.segment(key)
            if data is None or int(frames) <= 0:
                return None
            known[key] = int(frames)
            found.append((Chunk(lo + first, lo + last, preroll, postroll, bool(is_first), bool(is_last)), None, key, data))
    except (KeyError, TypeError, ValueError):
        return None
    return found or None


def _given(
    render: Render, start: int, end: int, cuts: Sequence[int], frame: int, rate: int, channels: int = 1
) -> Iterator[tuple[Chunk, np.ndarray]]:
    bounds = [start] + sorted({c for c in cuts if start < c < end}) + [end]
    if any((c - start) % frame for c in bounds[1:-1]):
        raise ValueError(f"chunk cuts must be on the {frame}-sample frame grid")
    window = _Window(render, start, end, channels)
    period = mp3frames.padding_period(rate)
    for lo, hi in zip(bounds, bounds[1:]):
        yield _chunk(window, start, end, lo, hi, frame, period)


def _chunk(window: "_Window", start: int, end: int, own_start: int, own_end: int, frame: int, period: int) -> tuple[Chunk, np.ndarray]:
    # The encoder starts on a whole padding period from the track's start, where a single pass's pattern of padded
    # frames starts again: its frames are then the single pass's frames byte for byte, not just the same audio.
    before = (own_start - start) // frame
    preroll = min(PREROLL_FRAMES + (before - PREROLL_FRAMES) % period, before) * frame
    postroll = min(POSTROLL_FRAMES * frame, end - own_end)
    chunk = Chunk(own_start, own_end, preroll, postroll, own_start == start, own_end == end)
    return chunk, window.get(own_start - preroll, own_end + postroll)


def _quietest(
    window: "_Window", start: int, span: tuple[int, int], aim: int, search: int, reach: int, frame: int, period: int
) -> int:
    """The cut within `search` samples of `aim` in the quietest audio (coach/output/cuts.py), among the frame boundaries
    PREROLL_FRAMES after a whole padding period from `start` (so its pre-roll is the shortest); quiet runs are followed
    up to `reach` samples beyond the window, within the span."""
    lo, hi = aim - search, aim + search
    first = max(span[0], lo - reach)  # the boundaries looked at: from first to last, on the frame grid
    last = first + (min(span[1], hi + reach) - first) // frame * frame
    levels = cuts.boundary_levels(window.get(first - frame, last + frame), frame)
    positions = first + np.arange(levels.size) * frame
    allowed = ((positions - start) // frame - PREROLL_FRAMES) % period == 0
    chosen = cuts.choose(levels, allowed, slice((lo - first) // frame, (hi - first) // frame + 1), (aim - first) // frame,
                         spacing=2 * search // frame)
    return int(positions[chosen])


class _Window:
    """int16 PCM of a stretch of the track, rendered once as the plan moves forward."""

    def __init__(self, render: Render, start: int, end: int, channels: int = 1) -> None:
        self._render, self._start, self._end = render, start, end
        self.channels = channels
        self._lo = self._hi = start
        self._pcm = np.zeros(self._shape(0), dtype=np.int16)

    def _shape(self, count: int) -> tuple[int, ...]:
        return (count,) if self.channels == 1 else (count, self.channels)

    def get(self, lo: int, hi: int) -> np.ndarray:
        """Samples [lo, hi) (silence outside the track's range)."""
        if hi > self._hi:
            upto = min(max(hi, self._hi), self._end)
            if upto > self._hi:
                fresh = as_pcm16(self._render(self._hi, upto - self._hi))
                self._pcm = np.concatenate([self._pcm, fresh])
                self._hi = upto
        out = np.zeros(self._shape(hi - lo), dtype=np.int16)
        a, b = max(lo, self._lo), min(hi, self._hi)
        if b > a:
            out[a - lo : b - lo] = self._pcm[a - self._lo : b - self._lo]
        return out

    def seek(self, position: int) -> None:
        """Go on from `position` (what was skipped is never rendered), unless the window already reaches it."""
        if position > self._hi:
            self._lo = self._hi = position
            self._pcm = np.zeros(self._shape(0), dtype=np.int16)

    def drop_before(self, position: int) -> None:
        """Forget samples before `position`: memory stays at about one chunk."""
        if position > self._lo:
            cut = min(position, self._hi) - self._lo
            self._pcm = self._pcm[cut:].copy()
            self._lo += cut


def as_pcm16(block: np.ndarray) -> np.ndarray:
    """Float samples as the int16 values the encoder gets (the same rounding as every other export)."""
    from coach.output.encode import pcm16

    return pcm16(block)


def _whole_frames(data: bytes) -> int:
    """How many whole frames `data` is (0 if it is not whole frames)."""
    try:
        return len(mp3frames.split_frames(data))
    except EncoderError:
        return 0


def _ready(job: Future[tuple[bytes, int]] | tuple[bytes, int]) -> bool:
    return not isinstance(job, Future) or job.done()


def _processes(jobs: int | None, samples: int, rate: int) -> int:
    from coach.speech.render import available_cores

    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        from coach.errors import UsageError

        raise UsageError(f"jobs must be a whole number of at least 1, not {jobs!r}")
    limit = available_cores() if jobs is None else jobs
    # A pool's start costs about as much as encoding a few seconds: short tracks stay in this process.
    return max(1, min(limit, samples // round(2 * TARGET_SECONDS * rate)))


def _pool(processes: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=processes, mp_context=pool_context(), initializer=_start_worker, initargs=(os.getpid(),)
    )


def _start_worker(parent: int) -> None:
    """A chunk encoder: a helper of the exporting process (coach.processes.become_helper)."""
    become_helper(parent)
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def encode_mp3(
    render: Render,
    start: int,
    end: int,
    edges: Sequence[int],
    job: "EncodeJob",
    *,
    jobs: int | None = None,
    segments: SegmentStore | None = None,
    on_samples: Callable[[int], None] | None = None,
    span_keys: Sequence[str | None] | None = None,
) -> ChunkedReport:
    """Encode an MP3 export job from samples [start, end) of `render`: its ID3 tag (text, comment, cover, chapters), then the chunked audio."""
    from coach.output import id3
    from coach.output.encode import id3_frames

    tag = id3.tag(id3.text_frames(job.tags) + id3_frames(job))
    return encode_track(
        render, start, end, edges, job.output, _settings(job), tag, jobs=jobs, segments=segments, on_samples=on_samples, span_keys=span_keys
    )


def segment_keys(
    render: Render, start: int, end: int, edges: Sequence[int], job: "EncodeJob", span_keys: Sequence[str | None] | None = None,
    segments=None,
) -> set[str]:
    """The segment cache keys encode_mp3 would look up for the same arguments, found by planning alone (nothing is encoded);
    with `span_keys` and `segments`, the chapter records found there (and the segments they name) instead, when all are."""
    settings = _settings(job)
    if span_keys is not None and segments is not None:
        found: set[str] = set()
        for key in record_keys(start, end, edges, settings, span_keys):
            record = segments.record("chapter", key) if key is not None else None
            if record is None:
                break
            found |= {key} | {row[6] for row in record.get("chunks", []) if isinstance(row, list) and len(row) > 6}
        else:
            return found
    frame = mp3frames.frame_samples(settings.sample_rate)
    chunks = plan(render, start, end, edges, frame, settings.sample_rate, settings.channels)
    return {segment_key(settings, chunk, pcm) for chunk, pcm in chunks}


def _settings(job: "EncodeJob") -> lame.LameSettings:
    kbps = int((job.bitrate or job.fmt.default_bitrate or "64k").rstrip("k"))
    return lame.LameSettings(job.sample_rate, kbps, channels=job.channels)
