"""uvicorn's h11 connection with the limits a server on an open network needs: a deadline for each request head
(slowloris), and 431 rather than 400 for a head that is too large.

uvicorn closes a kept-alive connection that stays silent after a response, but it waits forever on a fresh
connection that sends nothing, or a head that trickles in a byte at a time; each such connection holds a
socket and a buffer. Here every connection must deliver a whole request head within HEAD_SECONDS of the moment
the server starts waiting for one (its opening, or the end of the previous response), else it is closed.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEAD_SECONDS = 10.0  # a phone on a weak Wi-Fi sends its few hundred header bytes in well under a second
MAX_HEAD_BYTES = 16 * 1024  # request line and headers together; podcast apps and browsers send under 2 KB


class GuardedH11Protocol(H11Protocol):
    """An h11 connection that closes a request head not complete in HEAD_SECONDS and answers an oversized one 431."""

    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """A new connection: it starts waiting for its first request head."""
        super().connection_made(transport)
        self._await_head()

    def data_received(self, data: bytes) -> None:
        """Bytes of a request: the deadline stays while the head is still incomplete, and ends once it is whole."""
        super().data_received(data)
        self._await_head()

    def on_response_complete(self) -> None:
        """A response was sent: a kept-alive connection waits for the next head under a new deadline."""
        super().on_response_complete()
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection closed: no deadline is left behind."""
        self._cancel_head_deadline()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        """h11 refused the request: 431 when its head outgrew MAX_HEAD_BYTES (h11's own hint), else 400."""
        oversized = len(self.conn.trailing_data[0]) > MAX_HEAD_BYTES
        status, reason, text = (431, b"Request Header Fields Too Large", "request head too large\n") if oversized else (400, b"Bad Request", msg)
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
        try:
            self.transport.write(self.conn.send(h11.Response(status_code=status, headers=headers, reason=reason)))
            self.transport.write(self.conn.send(h11.Data(data=text.encode("ascii", "replace"))))
            self.transport.write(self.conn.send(h11.EndOfMessage()))
        except h11.LocalProtocolError:
            pass  # a response had already begun on this connection: closing it is the answer
        self.transport.close()

    def _await_head(self) -> None:
        waiting = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
        if not waiting:
            self._cancel_head_deadline()
        elif self._head_deadline is None:
            self._head_deadline = self.loop.call_later(HEAD_SECONDS, self._head_too_slow)

    def _cancel_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()  # no answer: a client this slow, or silent, is not reading one either
