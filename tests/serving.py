"""A real `coach serve` process for the serve tests: started on 127.0.0.1 on a free port, its log read as it runs."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

# A guard against a hung test run, not a speed requirement: the first start renders every cue with espeak.
PATIENCE_SECONDS = 900


def shared_dirs(tmp_path_factory) -> tuple[Path, Path]:
    """One speech cache and one library for every serve test module: the first start exports, later ones reuse."""
    base = tmp_path_factory.getbasetemp() / "serve-shared"
    (base / "cache").mkdir(parents=True, exist_ok=True)
    return base / "cache", base / "library"


class Served:
    """`coach serve ARGS --host 127.0.0.1 --port 0` in its own process group, with its stdout and stderr lines collected."""

    def __init__(self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None):
        command = [sys.executable, "-m", "coach", "serve", *args, "--host", "127.0.0.1", "--port", "0"]
        environment = {**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            cwd=cwd,
            env=environment,
            start_new_session=True,
        )
        self.lines: list[tuple[str, str]] = []  # (stream, line) in arrival order
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read, args=(name, stream), daemon=True)
            for name, stream in (("out", self.process.stdout), ("err", self.process.stderr))
        ]
        for reader in self._readers:
            reader.start()
        self.page = self.wait_for(r"^\s+page\s+(\S+)$").group(1)
        self.feed = self.wait_for(r"^\s+feed\s+(\S+)").group(1)
        self.port = int(re.search(r":(\d+)/", self.page).group(1))

    def _read(self, name: str, stream) -> None:
        for line in stream:
            with self._changed:
                self.lines.append((name, line.rstrip("\n")))
                self._changed.notify_all()
        with self._changed:
            self.lines.append((name, None))  # end of stream
            self._changed.notify_all()

    def mark(self) -> int:
        """A position in the log, to wait for lines after it."""
        with self._changed:
            return len(self.lines)

    def wait_for(self, pattern: str, since: int = 0, stream: str | None = None) -> re.Match:
        """The first line at or after `since` (on `stream`, if given) matching `pattern`."""
        compiled = re.compile(pattern)
        with self._changed:
            position = since
            while True:
                while position < len(self.lines):
                    name, line = self.lines[position]
                    position += 1
                    if line is not None and (stream is None or stream == name) and (found := compiled.search(line)):
                        return found
                if sum(1 for _name, line in self.lines if line is None) == 2:  # both streams ended: the process is gone
                    raise AssertionError(f"coach serve ended before a line matching {pattern!r}:\n{self.log()}")
                if not self._changed.wait(PATIENCE_SECONDS):
                    raise AssertionError(f"no line matching {pattern!r}:\n{self.log()}")

    def log(self, since: int = 0) -> str:
        """The collected lines as text."""
        with self._changed:
            return "\n".join(f"{name}: {line}" for name, line in self.lines[since:] if line is not None)

    def url(self, path: str) -> str:
        """An absolute URL under the page's prefix."""
        return self.page + path

    def stop(self) -> int:
        """Ctrl-C (SIGINT) the server and return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        code = self.process.wait(PATIENCE_SECONDS)
        for reader in self._readers:
            reader.join()
        try:  # its own process group: anything left in it (ffmpeg, a speech worker) was left behind
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            pass
        else:
            raise AssertionError(f"coach serve left processes behind in its group {self.process.pid}")
        return code


def get(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of one request, errors included."""
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, _lower(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, _lower(error.headers), error.read()


def raw_request(port: int, target: bytes) -> tuple[int, bytes]:
    """Send a request line exactly as given (no client-side normalisation) and return (status, body)."""
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def coach_json(*args: str) -> dict:
    """The JSON a coach command prints (e.g. the plan to compare with)."""
    result = subprocess.run([sys.executable, "-m", "coach", *args, "--json"], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def _lower(headers) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}
