"""Run `coach serve`: listen, publish every routine, and republish on every save, until stopped.

The HTTP server (uvicorn) runs on the main thread's event loop; one worker thread publishes the
routines and then waits for file events (watchfiles: inotify, FSEvents or ReadDirectoryChangesW,
not a polling loop) and republishes what changed. What happens is told to a `Reporter`, which the
front end draws; nothing here prints.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import signal
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from coach.errors import CoachError, RoutineError, ServerError, UsageError
from coach.serve.app import RequestLog, ServeApp
from coach.serve.library import Cancelled, Episode, Library, Published
from coach.serve.network import lan_addresses, url_host
from coach.serve.options import ServeOptions
from coach.serve.ownership import Ownership
from coach.site.routines import RoutineSet

WATCH_STEP_MS = 50  # a batch of file events is handled once no new event came for this long
WATCH_DEBOUNCE_MS = 1600  # ... or after this long, for a file that keeps changing
WATCH_TIMEOUT_MS = 5000  # how long one wait for events lasts before the loop looks at the stop flag again


@dataclass(frozen=True)
class Addresses:
    """Where the server can be reached: the page and feed URL on each candidate address, best first."""

    pages: tuple[str, ...]
    feeds: tuple[str, ...]
    library: Path


class Reporter(Protocol):
    """What the front end is told while serving (called from the server's threads)."""

    def listening(self, addresses: Addresses) -> None:
        """The server accepts connections at these addresses."""

    def publishing(self, path: Path) -> None:
        """A routine is being checked, rendered and exported (seconds, or minutes with a cold speech cache)."""

    def published(self, path: Path, published: Published) -> None:
        """A routine is served (exported now, or found already exported)."""

    def invalid(self, path: Path, error: RoutineError) -> None:
        """A routine has errors; its last good episode, if any, stays served."""

    def failed(self, path: Path, error: CoachError) -> None:
        """A routine could not be exported (speech or encoder failure); its last good episode stays."""

    def removed(self, path: Path, episode: Episode) -> None:
        """A routine file was deleted; its episode left the feed."""

    def request(self, log: RequestLog) -> None:
        """A request was answered."""


class Service:
    """The library, the routines it publishes, the listening socket and the web application, ready to run."""

    def __init__(self, options: ServeOptions, reporter: Reporter):
        from coach.output.encode import find_ffmpeg

        find_ffmpeg()  # before listening: without an encoder nothing can be published
        self.options = options
        self.reporter = reporter
        self.routines = RoutineSet(options.routines)
        # The folder is claimed before the library reads it: its start-up sweep removes staging folders,
        # which would be another live server's work in progress.
        self.ownership = Ownership.claim(options.library_path())
        try:
            self.library = Library(options.library_path(), options)
            self.socket = _listen(options.host, options.port)
        except BaseException:
            self.ownership.release()
            raise
        self.port = self.socket.getsockname()[1]
        hosts = [options.host] if options.host and options.host not in ("0.0.0.0", "::") else lan_addresses() or ["127.0.0.1"]
        secret = None if options.open else self.library.secret
        self.app = ServeApp(self.library, secret, url_host(hosts[0], self.port), reporter.request)
        base = [f"http://{url_host(host, self.port)}{self.app.prefix}" for host in hosts]
        self.addresses = Addresses(tuple(base), tuple(url + "feed.xml" for url in base), self.library.directory)
        self.ownership.record(base[0].removesuffix(self.app.prefix) + "/")  # no secret in a file others may read
        self._stop = threading.Event()
        self._server = None  # the uvicorn server while running: its should_exit is set by the signal handler itself

    def run(self) -> None:
        """Serve until interrupted (Ctrl-C or SIGTERM), then stop the watcher and close the socket."""
        import uvicorn

        from coach.serve.protocol import MAX_HEAD_BYTES, GuardedH11Protocol

        config = uvicorn.Config(
            self.app,
            http=GuardedH11Protocol,  # h11 with a deadline per request head (slowloris) and 431 for huge heads
            h11_max_incomplete_event_size=MAX_HEAD_BYTES,
            lifespan="off",
            access_log=False,  # the app reports each request itself, without the secret
            log_level="warning",
            server_header=False,
            proxy_headers=False,  # nothing proxies this server: the client address is the peer's
            timeout_graceful_shutdown=2,
        )
        server = self._server = uvicorn.Server(config)
        worker = threading.Thread(target=self._publish_and_watch, name="coach-serve-watch", daemon=True)
        # uvicorn stops gracefully on SIGINT and SIGTERM, then raises the signal again; by default SIGTERM
        # would then end the process before the watcher stops and the socket closes, so it unwinds like Ctrl-C.
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            self.reporter.listening(self.addresses)
            worker.start()
            asyncio.run(server.serve(sockets=[self.socket]))
        except KeyboardInterrupt:
            pass  # uvicorn stopped on the signal, then re-raised it for us: this is the normal way out
        finally:
            self._stop.set()
            if worker.is_alive():
                worker.join()
            self.socket.close()
            self.ownership.release()
            signal.signal(signal.SIGTERM, previous)

    def publish_all(self) -> None:
        """Publish every routine there is now, each reported on its own."""
        for path in self.routines.current():
            if self.stopping():
                return
            self.publish(path)

    def publish(self, path: Path) -> None:
        """Publish one routine, or report why its last good episode stays."""
        self.reporter.publishing(path)
        try:
            published = self.library.publish(path, self.routines.episode_id(path), self.stopping)
        except Cancelled:
            return  # stopping: the last good episode stays for the next start
        except RoutineError as error:
            self.reporter.invalid(path, error)
        except CoachError as error:
            if not self.stopping():  # Ctrl-C in a terminal reaches ffmpeg too: its failure then is no news
                self.reporter.failed(path, error)
        else:
            self.reporter.published(path, published)

    def stopping(self) -> bool:
        """Whether the server was told to stop (Ctrl-C, SIGTERM) and is on its way out."""
        return self._stop.is_set() or bool(self._server and self._server.should_exit)

    def changed(self, path: Path) -> None:
        """A routine file was saved, added or deleted."""
        if path.is_file():
            self.publish(path)
            return
        gone = self.library.remove(self.routines.episode_id(path))
        if gone is not None:
            self.reporter.removed(path, gone)

    def _publish_and_watch(self) -> None:
        # watchfiles' watch() generator starts watching only when first iterated, so a save made while
        # the first publish runs would be lost. Its Rust backend (documented for direct use) collects
        # events from the moment it exists: start it, then publish, then take what it collected.
        from watchfiles._rust_notify import RustNotify

        folders = [str(folder) for folder in self.routines.watched_folders()]
        with RustNotify(folders, False, False, 300, False, False) as watcher:
            self.publish_all()
            while not self.stopping():
                found = watcher.watch(WATCH_DEBOUNCE_MS, WATCH_STEP_MS, WATCH_TIMEOUT_MS, self._stop)
                if found in ("stop", "signal"):
                    return
                if found == "timeout":
                    continue
                for path in sorted({Path(name) for _change, name in found if self.routines.covers(Path(name))}):
                    if self.stopping():
                        return
                    self.changed(path)


def _interrupt(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _listen(host: str | None, port: int) -> socket.socket:
    """A listening TCP socket on host (every interface when None) and port (0: any free one)."""
    address = host or "0.0.0.0"
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    except ValueError:
        raise UsageError(f"--host {address}: not an IP address of this machine (like 192.168.1.20 or 0.0.0.0)") from None
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((address, port))
        listener.listen(128)
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            raise ServerError(f"port {port} is in use: stop what uses it, or choose another with --port") from None
        if error.errno == errno.EADDRNOTAVAIL:
            raise UsageError(f"--host {address}: not an address of this machine") from None
        raise ServerError(f"cannot listen on {url_host(address, port)}: {error.strerror or error}") from None
    listener.setblocking(False)
    return listener
