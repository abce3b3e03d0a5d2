"""`make soak`: a real `coach serve` under use for a while (10 minutes by default, `--minutes`).

Eight clients download the served episode with 256 KiB range requests, as podcast apps do, and check each
download against the feed (its size is the enclosure's length; each new revision decodes without an ffmpeg
error); one client polls the feed every second (latency, and whether it parses); the routine is saved with a
change every 3 s (a breath's length), so the server republishes all the while. Figures: failed requests, downloads not whole,
feeds that do not parse, the server's memory (RSS) after a warm-up and at the end, and feed latency.

A 404 for an episode URL that has left the feed (the routine was republished in the middle of a download)
is the right answer, counted apart, not as a failure. The server's memory is read at the same point of the
cycle both times: just after an export finished. `--trace` runs the server under tracemalloc and prints
where its Python allocations grew between those two points (slow: for finding a leak, not for figures).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from xml.etree import ElementTree

import psutil

ROOT = Path(__file__).resolve().parent.parent
RANGE_BYTES = 256 * 1024
CLIENTS = 8
POLL_SECONDS = 1.0
SAVE_SECONDS = 3.0
GIVE_UP_SECONDS = 900  # the first publish with a cold speech cache takes minutes; a hang would take for ever
TRACE_FILE = "soak-tracemalloc.txt"
SOAKED = r"(?m)^            breath: 5s$"  # the line of pre-run that each save changes


class Figures:
    """What the clients saw, added to from their threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.failed: list[str] = []
        self.gone = 0  # 404s of URLs that had left the feed
        self.downloads = 0
        self.not_whole: list[str] = []
        self.feeds = 0
        self.bad_feeds = 0
        self.feed_ms: list[float] = []
        self.verified: dict[str, bool] = {}  # sha256 of a downloaded episode -> it decoded cleanly

    def fail(self, text: str) -> None:
        with self.lock:
            self.failed.append(text)


class Server:
    """`coach serve FOLDER` on 127.0.0.1, its log followed for 'exported' lines."""

    def __init__(self, folder: Path, library: Path, cache: Path, trace: Path | None):
        command = ["coach", "serve", str(folder), "--library", str(library), "--host", "127.0.0.1", "--port", "0"]
        if cache is not None:
            command += ["--cache-dir", str(cache)]
        if trace is not None:
            launch = [sys.executable, str(Path(__file__).resolve()), "--traced-server", str(trace), "--", *command[1:]]
        else:
            launch = [sys.executable, "-m", "coach", *command[1:]]
        self.process = subprocess.Popen(launch, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.exports = 0
        self.errors: list[str] = []
        self.changed = threading.Condition()
        self.feed = ""
        for line in self.process.stdout:
            found = re.match(r"\s+feed\s+(\S+)", line)
            if found:
                self.feed = found.group(1)
                break
        else:
            raise SystemExit("coach serve ended before printing its feed URL")
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.memory = psutil.Process(self.process.pid)

    def _read(self) -> None:
        for line in self.process.stdout:
            with self.changed:
                if re.search(r": exported as ", line):
                    self.exports += 1
                elif "error" in line.lower() or "Traceback" in line:
                    self.errors.append(line.rstrip())
                self.changed.notify_all()

    def wait_for_export(self, after: int) -> int:
        """Wait until more than `after` exports have finished; the count then."""
        with self.changed:
            if not self.changed.wait_for(lambda: self.exports > after, GIVE_UP_SECONDS):
                raise SystemExit(f"no export finished in {GIVE_UP_SECONDS} s")
            return self.exports

    def rss_mb(self) -> float:
        return self.memory.memory_info().rss / 1e6

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(GIVE_UP_SECONDS)


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {}, error.read()


def enclosure(feed_body: bytes) -> tuple[str, int]:
    """The feed's (only) enclosure: URL and length."""
    item = ElementTree.fromstring(feed_body).find("channel/item/enclosure")
    return item.get("url"), int(item.get("length"))


def download(server: Server, figures: Figures, stop: threading.Event, number: int) -> None:
    """One client: the episode the feed names, in range requests from start to end, again and again."""
    while not stop.is_set():
        try:
            download_once(server, figures, stop, number)
        except (OSError, ValueError, AttributeError, ElementTree.ParseError) as error:  # a timeout, a refused connection, a feed that does not parse
            figures.fail(f"client {number}: {type(error).__name__}: {error}")


def download_once(server: Server, figures: Figures, stop: threading.Event, number: int) -> None:
    """The episode the feed names now, from its first byte to its last, checked when whole."""
    status, _headers, body = fetch(server.feed)
    with figures.lock:
        figures.requests += 1
    if status != 200:
        figures.fail(f"client {number}: feed {status}")
        return
    url, length = enclosure(body)
    parts, position = [], 0
    while position < length:
        if stop.is_set():
            return
        status, headers, chunk = fetch(url, {"Range": f"bytes={position}-{position + RANGE_BYTES - 1}"})
        with figures.lock:
            figures.requests += 1
        if status == 404 and url not in fetch(server.feed)[2].decode():
            with figures.lock:
                figures.gone += 1  # republished while we downloaded: the URL has left the feed
            return
        expected_end = min(position + RANGE_BYTES, length) - 1
        if status != 206 or headers.get("content-range") != f"bytes {position}-{expected_end}/{length}" or len(chunk) != expected_end - position + 1:
            figures.fail(f"client {number}: {url} bytes {position}-: {status} {headers.get('content-range')} {len(chunk)} bytes")
            return
        parts.append(chunk)
        position += len(chunk)
    check_download(figures, url, length, b"".join(parts))


def check_download(figures: Figures, url: str, length: int, data: bytes) -> None:
    """A whole download: the feed's length, and an MP3 that ffmpeg decodes without an error (once per revision)."""
    with figures.lock:
        figures.downloads += 1
    if len(data) != length:
        with figures.lock:
            figures.not_whole.append(f"{url}: {len(data)} bytes, the feed says {length}")
        return
    digest = hashlib.sha256(data).hexdigest()
    with figures.lock:
        known = figures.verified.get(digest)
    if known is None:
        decoded = subprocess.run(["ffmpeg", "-v", "error", "-xerror", "-f", "mp3", "-i", "pipe:0", "-f", "null", "-"], input=data, capture_output=True)
        known = decoded.returncode == 0 and not decoded.stderr
        with figures.lock:
            figures.verified[digest] = known
    if not known:
        with figures.lock:
            figures.not_whole.append(f"{url}: does not decode cleanly")


def poll_feed(server: Server, figures: Figures, stop: threading.Event) -> None:
    """The podcast app's refresh, every second: latency, and whether the feed parses."""
    while not stop.wait(POLL_SECONDS):
        started = time.perf_counter()
        try:
            status, _headers, body = fetch(server.feed)
        except OSError as error:
            figures.fail(f"feed poll: {error}")
            continue
        elapsed = (time.perf_counter() - started) * 1000
        with figures.lock:
            figures.requests += 1
            figures.feeds += 1
            figures.feed_ms.append(elapsed)
        if status != 200:
            figures.fail(f"feed poll: {status}")
            continue
        try:
            enclosure(body)
        except (ElementTree.ParseError, AttributeError, TypeError, ValueError):
            with figures.lock:
                figures.bad_feeds += 1


def save_changes(routine: Path, original: str, stop: threading.Event) -> int:
    """Save the routine with a new breath length every SAVE_SECONDS (a new timeline each time); the saves made."""
    saves = 0
    while not stop.wait(SAVE_SECONDS):
        saves += 1
        # 50 distinct timelines before one repeats, so the encoder's chunk cache is no shortcut. A breath's
        # length is not spoken: no new speech, so the voice's engine (the neural one loads a 70 MB lexicon on
        # its first cue) does not start in the middle and pass for growth.
        breath = 5 + saves % 50 / 100
        temporary = routine.with_name(".soak.tmp")
        temporary.write_text(re.sub(SOAKED, f"            breath: {breath:.2f}s", original, count=1))
        os.replace(temporary, routine)  # as editors save: the server never sees half a file
    return saves


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def soak(minutes: float, cache: Path | None, trace: bool) -> int:
    """Run the soak and print its figures; 1 if a target was missed."""
    work = Path(tempfile.mkdtemp(prefix="coach-soak-"))
    try:
        folder = work / "routines"
        folder.mkdir()
        original = (ROOT / "scripts" / "pre-run.yaml").read_text()
        assert re.search(SOAKED, original), "pre-run's first 5 s breath is what the soak changes"
        routine = folder / "soak.yaml"
        routine.write_text(original)
        trace_file = work / TRACE_FILE if trace else None
        server = Server(folder, work / "library", cache, trace_file)
        figures = Figures()
        stop = threading.Event()
        try:
            exports = server.wait_for_export(0)
            threads = [threading.Thread(target=download, args=(server, figures, stop, n)) for n in range(CLIENTS)]
            threads.append(threading.Thread(target=poll_feed, args=(server, figures, stop)))
            saved: list[int] = []
            threads.append(threading.Thread(target=lambda: saved.append(save_changes(routine, original, stop))))
            started = time.monotonic()
            for thread in threads:
                thread.start()
            warm_up = min(60.0, minutes * 60 * 0.25)  # the allocator's arenas and the caches fill during the first exports
            time.sleep(warm_up)
            exports = server.wait_for_export(server.exports)
            start_rss, start_exports = server.rss_mb(), exports
            if trace_file is not None:
                server.process.send_signal(signal.SIGUSR1)
            samples = [(time.monotonic() - started, start_rss)]
            end = started + minutes * 60
            while time.monotonic() < end and server.process.poll() is None:
                time.sleep(min(5.0, max(0.0, end - time.monotonic())))
                samples.append((time.monotonic() - started, server.rss_mb()))
            exports = server.wait_for_export(server.exports)  # the same point of the cycle as the start figure
            end_rss = server.rss_mb()
            if trace_file is not None:
                server.process.send_signal(signal.SIGUSR1)
                time.sleep(5)
        finally:
            stop.set()
            for thread in threads if "threads" in locals() else []:
                thread.join()
            code = server.stop()
        growth = (end_rss - start_rss) / start_rss * 100
        p99 = percentile(figures.feed_ms, 0.99)
        print(f"soak: {minutes:g} min of a real coach serve (pre-run, saved every {SAVE_SECONDS:g} s: {saved[0] if saved else 0} saves, "
              f"{exports} exports), {CLIENTS} clients downloading in {RANGE_BYTES // 1024} KiB ranges, the feed polled every {POLL_SECONDS:g} s")
        print(f"  requests {figures.requests}, failed {len(figures.failed)} (target 0); 404 for a revision that had left the feed {figures.gone}")
        print(f"  downloads {figures.downloads}, not whole or not the feed's length {len(figures.not_whole)} (target 0); "
              f"{len(figures.verified)} revisions decoded")
        print(f"  feeds {figures.feeds}, not parsing {figures.bad_feeds} (target 0); feed latency median "
              f"{statistics.median(figures.feed_ms):.1f} ms, p99 {p99:.1f} ms (target 200 ms), max {max(figures.feed_ms):.1f} ms")
        print(f"  server RSS after {warm_up:.0f} s of warm-up {start_rss:.1f} MB (after export {start_exports}), at the end {end_rss:.1f} MB "
              f"(after export {exports}): {growth:+.1f} % (target 10 %)")
        print("  RSS samples (s: MB): " + ", ".join(f"{t:.0f}: {mb:.0f}" for t, mb in samples[:: max(1, len(samples) // 12)]))
        for line in (figures.failed + figures.not_whole + server.errors)[:10]:
            print(f"  ! {line}")
        if trace_file is not None and trace_file.exists():
            print(trace_file.read_text())
        missed = figures.failed or figures.not_whole or figures.bad_feeds or growth > 10 or p99 > 200 or code != 0 or server.errors
        return 1 if missed else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def traced_server(output: Path, arguments: list[str]) -> None:
    """Run `coach serve` under tracemalloc: SIGUSR1 first takes a snapshot, then writes where memory grew since it."""
    import tracemalloc

    tracemalloc.start(12)
    first: list[tracemalloc.Snapshot] = []

    def snapshot(_signal: int, _frame: object) -> None:
        import gc

        gc.collect()
        taken = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        if not first:
            first.append(taken)
            return
        lines = ["tracemalloc: where the server's Python allocations grew between the two RSS readings"]
        for stat in taken.compare_to(first[0], "traceback")[:12]:
            lines.append(f"  {stat.size_diff / 1e6:+.2f} MB in {stat.count_diff:+d} blocks")
            lines += [f"      {frame}" for frame in stat.traceback.format()[-6:]]
        output.write_text("\n".join(lines) + "\n")

    signal.signal(signal.SIGUSR1, snapshot)
    sys.argv = ["coach", *arguments]
    from coach.launch import main

    main()


def main() -> int:
    """Parse the options and run the soak."""
    if len(sys.argv) > 2 and sys.argv[1] == "--traced-server":
        traced_server(Path(sys.argv[2]), sys.argv[4:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the load runs (default 10)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="the speech cache (default: coach's own)")
    parser.add_argument("--trace", action="store_true", help="tracemalloc in the server: where its memory grew")
    options = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        raise SystemExit("soak: ffmpeg is needed to check the downloads")
    return soak(options.minutes, options.cache_dir, options.trace)


if __name__ == "__main__":
    sys.exit(main())
