"""MPEG audio layer III frames: splitting a stream into frames, and the gapless header of a joined stream.

The header is a Xing "Info" frame carrying a LAME tag: the track's frame and byte counts, and the
encoder delay and padding, from which ffmpeg, mpg123 and other gapless decoders cut the decoded
audio to exactly the samples that were encoded.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from coach.errors import EncoderError

DECODER_DELAY = 529  # samples an MP3 decoder's filterbank adds before the encoder's own delay
_BITRATES = {  # kbit/s by bitrate index, layer III
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}  # by version bits
_TAG_BYTES = 120 + 36  # the Xing part with every field, then the LAME extension
_CBR = 1  # LAME tag: VBR method "constant bitrate"


@dataclass(frozen=True)
class FrameHeader:
    """The fields of a layer III frame header that size and place the frame."""

    version_bits: int  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    bitrate_index: int
    rate_index: int
    padding: int
    mono: bool
    protected: bool

    @property
    def mpeg1(self) -> bool:
        """True for MPEG-1 (32 kHz and up), whose frames hold 1152 samples."""
        return self.version_bits == 3

    @property
    def kbps(self) -> int:
        """The frame's bitrate."""
        return _BITRATES[1 if self.mpeg1 else 2][self.bitrate_index]

    @property
    def sample_rate(self) -> int:
        """The stream's sample rate."""
        return _RATES[self.version_bits][self.rate_index]

    @property
    def samples(self) -> int:
        """Samples per frame per channel."""
        return 1152 if self.mpeg1 else 576

    @property
    def size(self) -> int:
        """The frame's length in bytes, header included."""
        return (144 if self.mpeg1 else 72) * self.kbps * 1000 // self.sample_rate + self.padding

    @property
    def side_info(self) -> int:
        """Bytes of side information after the header (and its CRC)."""
        if self.mpeg1:
            return 17 if self.mono else 32
        return 9 if self.mono else 17


def frame_samples(sample_rate: int) -> int:
    """Samples per MP3 frame at `sample_rate`: 1152 from 32 kHz up (MPEG-1), else 576."""
    return 1152 if sample_rate >= 32000 else 576


def chapter_grid_ms(sample_rate: int) -> int:
    """The shortest whole number of milliseconds that is also a whole number of MP3 frames at `sample_rate` (1280 at 22,050 Hz)."""
    per_frame = frame_samples(sample_rate) * 1000  # ms x samples/s of one frame
    return per_frame // math.gcd(per_frame, sample_rate)


def padding_period(sample_rate: int) -> int:
    """Frames after which a CBR stream's pattern of padded frames starts again, at any whole kbit/s: one chapter grid (49 at 22,050 and 44,100 Hz).

    A grid's frames hold a whole number of bytes at any whole kbit/s (1280 ms x 64 kbit/s = 10,240 bytes), so
    LAME's running remainder that decides which frames get a padding byte is back where it started.
    """
    return chapter_grid_ms(sample_rate) * sample_rate // 1000 // frame_samples(sample_rate)


def parse_header(data: bytes, offset: int = 0) -> FrameHeader:
    """The layer III frame header at data[offset:]; EncoderError if there is none."""
    head = data[offset : offset + 4]
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        raise EncoderError(f"no MP3 frame at byte {offset}")
    version_bits, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate_index, rate_index = head[2] >> 4, (head[2] >> 2) & 3
    if version_bits == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        raise EncoderError(f"not a layer III frame at byte {offset}")
    return FrameHeader(version_bits, bitrate_index, rate_index, (head[2] >> 1) & 1, head[3] >> 6 == 3, not head[1] & 1)


def split_frames(data: bytes) -> list[bytes]:
    """A stream of frames (no tags) cut into its frames."""
    bounds = frame_offsets(data)
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


def frame_offsets(data: bytes) -> list[int]:
    """Where each frame of a stream of frames (no tags) starts, and its end: one more offset than frames."""
    offsets = []
    offset = 0
    end = len(data)
    sizes: dict[bytes, int] = {}  # frame size by header bytes 0-2: a track has two or three kinds of header
    while offset < end:
        offsets.append(offset)
        kind = data[offset : offset + 3]
        size = sizes.get(kind)
        if size is None:
            size = sizes[kind] = parse_header(data, offset).size
        offset += size
    if offset > end:
        raise EncoderError(f"the MP3 stream ends inside a frame at byte {offsets[-1]}")
    offsets.append(offset)
    return offsets


def info_frame(first_frame: bytes, frames: int, audio_bytes: int, samples: int, encoder_delay: int, music_crc: int, encoder: str) -> bytes:
    """The Xing "Info" frame with a LAME tag for a CBR stream of `frames` audio frames (`audio_bytes` long) holding `samples` samples.

    It takes the audio's own header (the bitrate raised if the tag would not fit in such a frame);
    `music_crc` is crc16 of the audio frames; `encoder` names the encoder (9 bytes, like 'LAME3.100').
    """
    header = parse_header(first_frame)
    padding_samples = frames * header.samples - encoder_delay - samples
    if padding_samples < 0 or encoder_delay > 0xFFF or padding_samples > 0xFFF:
        raise EncoderError(f"cannot describe {samples} samples in {frames} frames with a gapless header")
    index = header.bitrate_index
    while _size_at(header, index) < 4 + header.side_info + _TAG_BYTES:
        index += 1  # a low bitrate's frame is too small for the tag: decoders skip this frame whatever its rate
    tag_header = bytes([first_frame[0], first_frame[1] | 1, (index << 4) | (header.rate_index << 2), first_frame[3]])
    size = _size_at(header, index)
    total = size + audio_bytes
    toc = bytes(min(255, i * 256 // 100) for i in range(100))  # CBR: byte position grows linearly with time
    xing = b"Info" + struct.pack(">IIII", 0x0F, frames, total, 0)[:12] + toc + struct.pack(">I", 0)
    lame = (
        encoder.encode("ascii")[:9].ljust(9, b" ")
        + bytes([_CBR, 0])  # tag revision 0 and VBR method; lowpass unknown
        + struct.pack(">f", 0.0)  # peak amplitude: not measured
        + struct.pack(">HH", 0, 0)  # replay gains: none
        + bytes([0, min(255, header.kbps)])  # encoding flags and ATH type; the bitrate
        + (encoder_delay << 12 | padding_samples).to_bytes(3, "big")
        + bytes([0, 0])  # misc, MP3 gain
        + struct.pack(">H", 0)  # preset and surround
        + struct.pack(">IH", total, music_crc)
    )
    body = tag_header + bytes(header.side_info) + xing + lame
    body += struct.pack(">H", crc16(body))
    return body + bytes(size - len(body))


def _size_at(header: FrameHeader, bitrate_index: int) -> int:
    kbps = _BITRATES[1 if header.mpeg1 else 2][bitrate_index]
    return (144 if header.mpeg1 else 72) * kbps * 1000 // header.sample_rate


def _crc16_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        value = byte
        for _ in range(8):
            value = (value >> 1) ^ 0xA001 if value & 1 else value >> 1
        table.append(value)
    return tuple(table)


_CRC16 = _crc16_table()


def crc16(data: bytes, crc: int = 0) -> int:
    """The CRC-16 (polynomial 0x8005, reflected, as LAME computes its tag's checksums) of `data`, continuing from `crc`."""
    for byte in data:
        crc = (crc >> 8) ^ _CRC16[(crc ^ byte) & 0xFF]
    return crc
