"""HTTP responses for what the server publishes: conditional (ETag) and byte-range requests, files streamed in chunks."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

CHUNK_BYTES = 256 * 1024  # large enough that the thread hop per chunk costs little, small enough to start at once
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_BEYOND_ANY_FILE = 10**18  # a byte position written with more digits than this is past the end of every file


@dataclass(frozen=True)
class Resource:
    """Something the server can send: a file it published (path) or bytes it made (data), with its validator."""

    media_type: str
    etag: str  # quoted entity tag, e.g. '"3f2a..."'
    path: Path | None = None
    data: bytes | None = None
    cache_control: str = "no-cache"  # revalidate with the ETag; media files under a revision URL say immutable


class Gone(Exception):
    """The file a resource names is no longer there (its episode was republished a moment ago)."""


async def respond(request: Request, resource: Resource) -> Response:
    """The response to a GET or HEAD of `resource`: 304 when If-None-Match matches, 206/416 for a Range, else 200."""
    headers = {
        "ETag": resource.etag,
        "Cache-Control": resource.cache_control,
        "Accept-Ranges": "bytes",
        "Content-Type": resource.media_type,
    }
    if _matches(request.headers.get("if-none-match"), resource.etag):
        del headers["Content-Type"]
        return Response(status_code=304, headers=headers)
    send_body = request.method != "HEAD"
    if resource.data is not None:
        return _bytes_response(resource.data, request, headers, send_body)
    assert resource.path is not None
    try:
        file = await anyio.to_thread.run_sync(open, resource.path, "rb")
    except OSError as error:
        raise Gone(str(resource.path)) from error
    try:
        size = os.fstat(file.fileno()).st_size
        status, start, length = _plan(request, resource.etag, size, headers)
    except BaseException:
        file.close()
        raise
    if status == 416:
        file.close()
        return Response(status_code=416, headers=headers)
    return _FileSlice(file, start, length, status, headers, send_body)


def _bytes_response(data: bytes, request: Request, headers: dict[str, str], send_body: bool) -> Response:
    status, start, length = _plan(request, headers["ETag"], len(data), headers)
    if status == 416:
        return Response(status_code=416, headers=headers)
    body = data[start : start + length]
    headers["Content-Length"] = str(length)
    return Response(body if send_body else b"", status_code=status, headers=headers)


def _plan(request: Request, etag: str, size: int, headers: dict[str, str]) -> tuple[int, int, int]:
    """(status, first byte, byte count) for the request's Range; sets Content-Range (and on 416 the size alone)."""
    wanted = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if wanted is None or (if_range is not None and if_range.strip() != etag):
        return 200, 0, size
    span = parse_range(wanted, size)
    if span is None:
        # Not a single byte range: another unit, several ranges, or a syntactically invalid one. RFC 9110
        # (14.1.1, 14.2) has such a Range ignored, so the answer is the whole file, never 416. For several
        # ranges this is a choice: multipart/byteranges is a second response format for clients that do not
        # exist here (podcast apps and browsers' media elements ask for one range at a time), a 416 would
        # fail a client that the whole file serves well, and overlapping ranges (bytes=0-,0-,0-...) cannot
        # multiply what one request costs.
        return 200, 0, size
    if span == "unsatisfiable":
        headers["Content-Range"] = f"bytes */{size}"
        return 416, 0, 0
    first, last = span
    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return 206, first, last - first + 1


def parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """A single `bytes=` range as (first, last) inclusive, "unsatisfiable", or None when it is not one we serve."""
    found = _RANGE.match(header.strip())
    if found is None:
        return None
    first_text, last_text = found.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # suffix: the last N bytes
        suffix = _position(last_text)
        if suffix == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - suffix), size - 1
    first = _position(first_text)
    if last_text and _position(last_text) < first:
        return None  # syntactically invalid: ignored, like no Range at all (RFC 9110 14.1.1)
    if first >= size:
        return "unsatisfiable"
    last = _position(last_text) if last_text else size - 1
    return first, min(last, size - 1)


def _position(digits: str) -> int:
    """A byte position; a huge one (Python refuses int() of over 4300 digits) counts as past the end of any file."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 18 else _BEYOND_ANY_FILE


def _matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


class _FileSlice(Response):
    """`length` bytes of an open file from `start`, read in a worker thread chunk by chunk; the file is closed at the end."""

    def __init__(self, file: BinaryIO, start: int, length: int, status: int, headers: dict[str, str], send_body: bool):
        self.file, self.start, self.length, self.send_body = file, start, length, send_body
        self.status_code = status
        self.background = None
        self.init_headers({**headers, "Content-Length": str(length)})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            if not self.send_body or self.length == 0:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            async with anyio.create_task_group() as group:
                # A client that goes away (a phone seeking elsewhere) ends the read loop at once.
                async def stop_on_disconnect() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()

                group.start_soon(stop_on_disconnect)
                await self._stream(send)
                group.cancel_scope.cancel()
        finally:
            self.file.close()

    async def _stream(self, send: Send) -> None:
        position, remaining = self.start, self.length
        while remaining > 0:
            chunk = await anyio.to_thread.run_sync(os.pread, self.file.fileno(), min(CHUNK_BYTES, remaining), position)
            if not chunk:  # published files never shrink; end the body rather than spin if one somehow did
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            position += len(chunk)
            remaining -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": remaining > 0})
