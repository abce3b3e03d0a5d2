"""`coach serve` figures: start to feed served, save-to-feed-updated after a one-cue edit, range throughput for 1 and 8 clients."""

from __future__ import annotations

import http.client
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from starts import USER_ENVIRONMENT  # (bench/starts.py, beside this file)

ROOT = Path(__file__).resolve().parent.parent
RANGE_BYTES = 1 << 20  # what a phone's player asks for at a time, roughly
PASSES = 3  # whole-file passes per client in the throughput runs
GIVE_UP_SECONDS = 600  # a broken edit or export would otherwise leave the bench waiting for ever


class Server:
    """A `coach serve` process on 127.0.0.1, its page URL read from its output."""

    def __init__(self, *args: str):
        self.started = time.perf_counter()
        command = [sys.executable, "-m", "coach", "serve", *args, "--host", "127.0.0.1", "--port", "0"]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=USER_ENVIRONMENT)
        for line in self.process.stdout:
            found = re.match(r"\s+feed\s+(\S+)", line)
            if found:
                self.feed = found.group(1)
                break
        else:
            raise SystemExit("coach serve ended before printing its feed URL")
        threading.Thread(target=self.process.stdout.read, daemon=True).start()  # keep its pipe drained
        self.host, self.port = re.match(r"http://([^:/]+):(\d+)", self.feed).groups()

    def items(self) -> list[str]:
        """The feed's items (raw XML), [] until it answers."""
        try:
            with urllib.request.urlopen(self.feed) as response:
                return re.findall(r"<item>.*?</item>", response.read().decode(), flags=re.S)
        except OSError:
            return []

    def wait_for_items(self, count: int, differing_from: set[str] = frozenset()) -> float:
        """Seconds since `started` until the feed has `count` items, none of them in `differing_from`."""
        while True:
            if time.perf_counter() - self.started > GIVE_UP_SECONDS:
                self.stop()
                raise SystemExit(f"the feed did not show {count} new item(s) in {GIVE_UP_SECONDS} s")
            items = self.items()
            if len(items) == count and not set(items) & differing_from:
                return time.perf_counter() - self.started
            time.sleep(0.01)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait()


def start_to_feed(library: Path, cache: Path, routines: int) -> float:
    """Seconds from launching `coach serve` on the built-in routines to a feed listing all of them."""
    server = Server("--library", str(library), "--cache-dir", str(cache))
    try:
        return server.wait_for_items(routines)
    finally:
        server.stop()


def edit_latencies(folder: Path, library: Path, cache: Path, edits: int = 3) -> list[float]:
    """Seconds from saving a one-cue edit of post-run to a feed with the new episode, for a few edits."""
    routine = folder / "post-run.yaml"
    original = routine.read_text()
    anchor = re.search(r"say: ([A-Z][^\"'{}\n]*)\.$", original, flags=re.M)  # a plain one-line cue: safe to reword
    server = Server(str(folder), "--library", str(library), "--cache-dir", str(cache))
    latencies = []
    try:
        server.wait_for_items(1)
        for number in range(1, edits + 1):
            before = set(server.items())
            edited = original.replace(anchor.group(0), f"say: {anchor.group(1)} now, take {number}.", 1)
            server.started = time.perf_counter()
            routine.write_text(edited)
            latencies.append(server.wait_for_items(1, differing_from=before))
    finally:
        server.stop()
    return latencies


def throughput(server: Server, path: str, size: int, clients: int) -> float:
    """MB/s served in all when `clients` connections each read the whole file PASSES times in 1 MiB ranges."""
    def client() -> None:
        connection = http.client.HTTPConnection(server.host, int(server.port))
        for _pass in range(PASSES):
            for first in range(0, size, RANGE_BYTES):
                last = min(size, first + RANGE_BYTES) - 1
                connection.request("GET", path, headers={"Range": f"bytes={first}-{last}"})
                response = connection.getresponse()
                body = response.read()
                assert response.status == 206 and len(body) == last - first + 1
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return clients * PASSES * size / (time.perf_counter() - started) / 1e6


def main() -> None:
    """Print the serve figures."""
    with tempfile.TemporaryDirectory() as temporary:
        base = Path(temporary)
        cache, library = base / "cache", base / "library"
        builtins = len(list((ROOT / "scripts").glob("*.yaml")))
        cold = start_to_feed(library, cache, builtins)
        print(f"start to feed served, empty cache (renders every cue, exports all): {cold:.1f} s", flush=True)
        fresh = start_to_feed(base / "library-2", cache, builtins)
        print(f"start to feed served, warm cache, empty library (exports all): {fresh:.1f} s", flush=True)
        warm = statistics.median(start_to_feed(library, cache, builtins) for _ in range(3))
        print(f"start to feed served, warm cache and library (exports nothing): {warm:.2f} s", flush=True)

        folder = base / "routines"
        folder.mkdir()
        shutil.copy(ROOT / "scripts" / "post-run.yaml", folder)
        latencies = edit_latencies(folder, base / "library-3", cache)
        print(
            "save to feed updated after a one-cue edit of post-run (1 cue synthesized, only the changed MP3 chunks encoded): "
            f"median {statistics.median(latencies):.2f} s ({', '.join(f'{x:.2f}' for x in latencies)})",
            flush=True,
        )

        server = Server("--library", str(library), "--cache-dir", str(cache))
        try:
            server.wait_for_items(builtins)
            item = next(item for item in server.items() if "/post-run/" in item)
            url, length = re.search(r'<enclosure url="([^"]+)" length="(\d+)"', item).groups()
            path = re.sub(r"^http://[^/]+", "", url)
            for clients in (1, 8):
                rate = throughput(server, path, int(length), clients)
                print(f"range requests (1 MiB) of the post-run MP3, {clients} client(s): {rate:.0f} MB/s in all", flush=True)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
