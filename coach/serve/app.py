"""The web application: a fixed set of URLs under the secret segment, each file found by id in the library's index.

No part of a request path is ever joined to a filesystem path. The raw path is split into segments and
matched against the few shapes below; anything else, a percent-encoded byte included (`%2e%2e`, `%2f`,
`%00`), gets the same bare 404. Any method but GET and HEAD gets 405 on every path (so it tells nothing of
which paths exist), a path over MAX_PATH_BYTES 414, and a request head over MAX_HEAD_BYTES 431.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from importlib import resources
from typing import Callable

import anyio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import Message, Receive, Scope, Send

from coach.site import pages
from coach.site.feed import feed_xml
from coach.serve.library import CARD_NAME, EPISODE_FILES, Library, feed_cover
from coach.serve.protocol import MAX_HEAD_BYTES
from coach.site.episodes import picture_type
from coach.serve.responses import Gone, Resource, respond

STATIC_FILES = {
    "clock.js": "text/javascript; charset=utf-8",
    "player.js": "text/javascript; charset=utf-8",
    "library.js": "text/javascript; charset=utf-8",
    "offline.js": "text/javascript; charset=utf-8",
    "sw.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
_FILE_KINDS = {name: kind for kind, (name, _type) in EPISODE_FILES.items()}
_SAFE_PATH = re.compile(r"^[A-Za-z0-9/._-]*$")
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")
_IMMUTABLE = "public, max-age=31536000, immutable"  # revisioned URLs never change content
MAX_PATH_BYTES = 1024  # the longest URL the server makes is under 200 bytes


@dataclass(frozen=True)
class RequestLog:
    """One answered request, for the terminal's log line."""

    client: str
    method: str
    path: str  # with the secret segment left out
    status: int
    bytes: int


class ServeApp:
    """The ASGI application serving a library's feed, pages and episode files."""

    def __init__(self, library: Library, secret: str | None, fallback_host: str, on_request: Callable[[RequestLog], None] | None = None):
        self.library = library
        self.secret = secret
        self.prefix = f"/{secret}/" if secret else "/"
        self.fallback_host = fallback_host  # host[:port] for absolute URLs when a request's Host header is unusable
        self.on_request = on_request
        self._static = {name: _bytes_resource(_static_bytes(name), media_type) for name, media_type in STATIC_FILES.items()}
        self._feeds: dict[tuple[str, int], Resource] = {}
        self._channel_cover: Resource | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no lifespan or websocket work to do
        request = Request(scope, receive)
        status, sent = 0, 0

        async def counting_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            response = await self._route(request)
            await response(scope, receive, counting_send)
        finally:
            if self.on_request is not None and status:
                client = scope.get("client") or ("?", 0)
                self.on_request(RequestLog(client[0], scope["method"], self._shown_path(scope), status, sent))

    async def _route(self, request: Request) -> Response:
        target = request.scope.get("raw_path", b"")
        raw = target.split(b"?", 1)[0].decode("latin-1")
        if len(target) > MAX_PATH_BYTES:
            return _plain(414, "URI too long")
        # h11 bounds a head that arrives in pieces; one that came whole in a single read is measured here.
        head = len(target) + len(request.scope.get("query_string", b""))
        head += sum(len(name) + len(value) + 4 for name, value in request.scope["headers"])
        if head > MAX_HEAD_BYTES:
            return _plain(431, "request head too large")
        if request.method not in ("GET", "HEAD"):
            return _plain(405, "method not allowed", {"Allow": "GET, HEAD"})
        if not _SAFE_PATH.match(raw):
            return _not_found()
        if self.secret and raw == self.prefix.rstrip("/"):
            return RedirectResponse(self.prefix, status_code=308)
        if not raw.startswith(self.prefix):
            return _not_found()
        parts = raw[len(self.prefix) :].split("/")
        try:
            return await self._dispatch(request, parts)
        except Gone:
            return _not_found()

    async def _dispatch(self, request: Request, parts: list[str]) -> Response:
        match parts:
            case [""]:
                html = pages.library_page(self.library.episodes(), self.prefix, self._url(request, "feed.xml"))
                return await respond(request, _bytes_resource(html.encode(), "text/html; charset=utf-8"))
            case ["feed.xml"]:
                return await respond(request, self._feed(request))
            case ["cover.png"]:
                return await respond(request, await self._cover())
            case ["sw.js"]:  # at the prefix's root, so the service worker's scope is every page under it
                return await respond(request, self._static["sw.js"])
            case ["manifest.webmanifest"]:
                return await respond(request, _bytes_resource(pages.manifest(), "application/manifest+json"))
            case ["static", name] if name in self._static:
                return await respond(request, self._static[name])
            case ["play", episode_id] if (episode := self.library.episode(episode_id)) is not None:
                html = pages.player_page(episode, self.prefix)
                return await respond(request, _bytes_resource(html.encode(), "text/html; charset=utf-8"))
            case ["episodes", episode_id, revision, name] if name in _FILE_KINDS:
                episode = self.library.episode(episode_id)
                if episode is None or episode.revision != revision:
                    return _not_found()
                kind = _FILE_KINDS[name]
                if kind == "chapters" and episode.cards:
                    chapters = self._chapters(request, episode)
                    return _not_found() if chapters is None else await respond(request, chapters)
                resource = Resource(
                    media_type=EPISODE_FILES[kind][1],
                    etag=f'"{episode.files[kind].etag}"',
                    path=self.library.file_path(episode, kind),
                    cache_control=_IMMUTABLE,
                )
                return await respond(request, resource)
            case ["episodes", episode_id, revision, name] if CARD_NAME.fullmatch(name):
                episode = self.library.episode(episode_id)
                if episode is None or episode.revision != revision or name not in episode.cards:
                    return _not_found()
                path = self.library.card_path(episode, name)
                resource = Resource(media_type=picture_type(name), etag=f'"{episode.cards[name].etag}"', path=path, cache_control=_IMMUTABLE)
                return await respond(request, resource)
        return _not_found()

    def _chapters(self, request: Request, episode) -> Resource | None:
        """The chapters file with each card's `img` as an absolute URL on the host the client used (None: gone meanwhile)."""
        import json

        try:
            chapters = json.loads(self.library.file_path(episode, "chapters").read_bytes())
        except (OSError, ValueError):
            return None
        folder = f"episodes/{episode.id}/{episode.revision}/"
        for chapter in chapters["chapters"]:
            if chapter.get("img") in episode.cards:
                chapter["img"] = self._url(request, folder + chapter["img"])
        data = json.dumps(chapters, ensure_ascii=False, indent=1).encode()
        return _bytes_resource(data, EPISODE_FILES["chapters"][1])

    def _feed(self, request: Request) -> Resource:
        host = self._host(request)
        key = (host, self.library.version)
        found = self._feeds.get(key)
        if found is None:
            data = feed_xml(self.library.episodes(), lambda path: f"http://{host}{self.prefix}{path}", time.time())
            found = _bytes_resource(data, "application/rss+xml; charset=utf-8")
            # One entry per host name clients use; a new library version or an odd client's many names start afresh.
            if len(self._feeds) >= 8 or any(k[1] != self.library.version for k in self._feeds):
                self._feeds = {}
            self._feeds[key] = found
        return found

    async def _cover(self) -> Resource:
        if self._channel_cover is None:
            data = await anyio.to_thread.run_sync(feed_cover, "coach")
            self._channel_cover = _bytes_resource(data, "image/png", _IMMUTABLE)
        return self._channel_cover

    def _url(self, request: Request, path: str) -> str:
        return f"http://{self._host(request)}{self.prefix}{path}"

    def _host(self, request: Request) -> str:
        """The host the client used (so the feed's URLs work from where it was fetched), if it is a plain host[:port]."""
        host = request.headers.get("host", "")
        return host if _HOST.match(host) else self.fallback_host

    def _shown_path(self, scope: Scope) -> str:
        path = scope.get("raw_path", b"").split(b"?", 1)[0].decode("latin-1", "replace")
        if self.secret and path.startswith(f"/{self.secret}"):
            return "/…" + path[len(self.secret) + 1 :]
        return path


def _not_found() -> Response:
    return Response("Not Found\n", status_code=404, media_type="text/plain")


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(text + "\n", status_code=status, media_type="text/plain", headers={**(headers or {}), "Connection": "close"})


def _bytes_resource(data: bytes, media_type: str, cache_control: str = "no-cache") -> Resource:
    return Resource(media_type=media_type, etag=f'"{hashlib.sha256(data).hexdigest()[:24]}"', data=data, cache_control=cache_control)


def _static_bytes(name: str) -> bytes:
    return (resources.files("coach.site") / "static" / name).read_bytes()
