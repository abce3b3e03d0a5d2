"""Hostile clients against a real `coach serve` on 127.0.0.1: each gets a clear 4xx or is dropped, never a 5xx or a
traceback, and a normal client gets the feed throughout (its latencies are printed at the end of the module)."""

from __future__ import annotations

import re
import socket
import threading
import time
import urllib.request
from xml.etree import ElementTree

import pytest

from serving import PATIENCE_SECONDS, Served, get, shared_dirs

ROUTINE = """title: Under attack
exercises:
  - name: Calf stretch
    steps:
      - hold: 5s
        say: Heel down.
"""
LATENCIES: dict[str, list[float]] = {}  # attack -> the normal client's feed latencies (ms) during it


@pytest.fixture(scope="module")
def served(tmp_path_factory, request):
    """A small routine served from its own library (the shared speech cache), once published."""
    cache, _library = shared_dirs(tmp_path_factory)
    base = tmp_path_factory.mktemp("hostile")
    (base / "routines").mkdir()
    (base / "routines" / "attack.yaml").write_text(ROUTINE)
    server = Served(str(base / "routines"), "--library", str(base / "library"), "--cache-dir", str(cache))
    server.wait_for(r"attack\.yaml: exported as attack")
    server.secret = re.search(r"127\.0\.0\.1:\d+/([^/]+)/", server.page).group(1).encode()
    server.audio = re.search(r'<enclosure url="([^"]+)"', get(server.feed)[2].decode()).group(1)
    yield server
    assert server.stop() == 0
    log = server.log()
    assert "Traceback" not in log and "ERROR" not in log and " 500 " not in log, log
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    for attack, found in LATENCIES.items():
        reporter.write_line(f"feed latency during {attack}: n={len(found)} median {sorted(found)[len(found) // 2]:.1f} ms, max {max(found):.1f} ms")


def feed_answered(served: Served, attack: str) -> None:
    """A normal client fetches the feed: it is answered 200 and parses; its latency is recorded."""
    start = time.perf_counter()
    with urllib.request.urlopen(served.feed, timeout=PATIENCE_SECONDS) as response:
        status, body = response.status, response.read()
    LATENCIES.setdefault(attack, []).append((time.perf_counter() - start) * 1000)
    assert status == 200
    assert ElementTree.fromstring(body).find("channel/item/enclosure") is not None


def exchange(served: Served, data: bytes, pieces: int = 1) -> bytes:
    """Send `data` raw (in `pieces` writes) and read until the server closes; b'' when it dropped the connection."""
    with socket.create_connection(("127.0.0.1", served.port), timeout=PATIENCE_SECONDS) as connection:
        step = -(-len(data) // pieces)
        try:
            for start in range(0, len(data), step):
                connection.sendall(data[start : start + step])
                if pieces > 1:
                    time.sleep(0.01)  # separate reads on the server, so the head arrives in parts
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before the rest arrived: what it answered is read below
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
    return received


def status_of(response: bytes) -> int | None:
    """The status code of a raw response, None for a dropped connection."""
    if not response:
        return None
    return int(response.split(b" ", 2)[1])


def request_bytes(served: Served, target: bytes, headers: bytes = b"", method: bytes = b"GET") -> bytes:
    """A request as a normal client writes it (the Host urllib sends, so the feed's bytes are the same), plus `headers`."""
    host = b"127.0.0.1:%d" % served.port
    return method + b" " + target + b" HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n" + headers + b"\r\n"


@pytest.mark.parametrize(
    "data",
    [
        b"GARBAGE\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET / HTTP/9.9\r\nHost: a\r\n\r\n",
        b"GET / FTP/1.1\r\nHost: a\r\n\r\n",
        b"\x00\x01\x02\x03\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) * 2,  # a TLS hello to the plain port
        b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",  # HTTP/1.1 without Host
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        b"GET / HTTP/1.1\nHost: a\n\n" + b"\n" * 10000,
        b"GET /\r\n",  # HTTP/0.9
    ],
    ids=["word", "method-only", "version", "protocol", "binary", "tls", "header-no-colon", "two-hosts", "no-host",
         "negative-length", "chunked-and-length", "bare-newlines", "http-0.9"],
)
def test_malformed_requests_get_a_4xx_or_are_dropped(served, data):
    status = status_of(exchange(served, data))
    assert status is None or 400 <= status < 500
    feed_answered(served, "malformed requests")


@pytest.mark.parametrize("pieces", [1, 64], ids=["one-write", "in-pieces"])
@pytest.mark.parametrize("shape", ["one-header", "many-headers"])
def test_a_64_kb_request_head_is_431_or_dropped(served, shape, pieces):
    filler = b"X-Filler: " + b"a" * 65536 + b"\r\n" if shape == "one-header" else b"".join(b"X-%d: %s\r\n" % (n, b"b" * 54) for n in range(1024))
    status = status_of(exchange(served, request_bytes(served, b"/" + served.secret + b"/feed.xml", filler), pieces))
    assert status in (431, None)
    feed_answered(served, "64 KB heads")


def test_a_head_just_under_the_limit_is_served(served):
    filler = b"X-Filler: " + b"a" * 12000 + b"\r\n"
    assert status_of(exchange(served, request_bytes(served, b"/" + served.secret + b"/feed.xml", filler))) == 200


def test_100_idle_connections_do_not_stop_a_normal_client_and_are_closed_by_the_server(served):
    silent = [socket.create_connection(("127.0.0.1", served.port), timeout=PATIENCE_SECONDS) for _ in range(50)]
    trickling = [socket.create_connection(("127.0.0.1", served.port), timeout=PATIENCE_SECONDS) for _ in range(50)]
    closed: dict[int, float] = {}  # index -> seconds until the server closed it
    opened = time.monotonic()
    stop = threading.Event()

    def trickle() -> None:  # slowloris: a head that never ends, one header byte per connection per half second
        for connection in trickling:
            connection.sendall(b"GET /" + served.secret + b"/feed.xml HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        while not stop.wait(0.5) and len(closed) < 100:
            for connection in trickling:
                try:
                    connection.sendall(b"X")
                except OSError:
                    pass  # closed by the server: seen by its reader

    def read(index: int, connection: socket.socket) -> None:
        try:
            while connection.recv(4096):
                pass
        except OSError:
            pass
        closed[index] = time.monotonic() - opened

    threads = [threading.Thread(target=trickle)]
    threads += [threading.Thread(target=read, args=(n, c)) for n, c in enumerate(silent + trickling)]
    for thread in threads:
        thread.start()
    try:
        while len(closed) < 100:
            feed_answered(served, "100 idle connections")
            status, _headers, body = get(served.audio, {"Range": "bytes=0-99999"})
            assert status == 206 and len(body) == 100_000
            time.sleep(0.5)
            assert time.monotonic() - opened < PATIENCE_SECONDS, "the server kept idle connections open"
    finally:
        stop.set()
        for connection in silent + trickling:
            connection.close()
        for thread in threads:
            thread.join()
    assert len(LATENCIES["100 idle connections"]) >= 3  # the normal client was answered while they were held
    feed_answered(served, "100 idle connections")
    print(f"idle connections closed after {min(closed.values()):.1f} to {max(closed.values()):.1f} s")


@pytest.mark.parametrize(
    "header, expected",
    [
        ("bytes={size}-", 416),
        ("bytes={size}-{size}", 416),
        ("bytes=-0", 416),
        ("bytes=99999999999999999999999-", 416),
        ("bytes=" + "9" * 5000 + "-", 416),  # past Python's int() limit of 4300 digits (a 500 before)
        ("bytes=-" + "9" * 5000, "whole-206"),
        ("bytes=0-" + "9" * 5000, "whole-206"),
        ("bytes=" + "0" * 5000 + "5-9", 206),
        ("bytes=500-100", 200),  # syntactically invalid: ignored (RFC 9110 14.1.1)
        ("bytes=abc", 200),
        ("bytes=--1", 200),
        ("bytes=-", 200),
        ("items=0-1", 200),
        ("bytes=\xff-", 200),
        ("bytes=0-1,5-6", 200),  # several ranges: the whole file (see responses.py for why not 416)
        ("bytes=0-,0-,0-,0-,0-,0-,0-,0-", 200),
    ],
)
@pytest.mark.parametrize("what", ["episode", "feed"])
def test_bad_and_multi_range_headers(served, what, header, expected):
    url = served.audio if what == "episode" else served.feed
    whole = get(url)[2]
    size = len(whole)
    path = url.split(f":{served.port}", 1)[1].encode()
    response = exchange(served, request_bytes(served, path, b"Range: " + header.format(size=size).encode("latin-1") + b"\r\n"))
    head, _, body = response.partition(b"\r\n\r\n")
    status = status_of(response)
    if expected == 416:
        assert status == 416
        assert re.search(rb"(?im)^content-range: bytes \*/" + str(size).encode() + rb"\r?$", head)
    elif expected == "whole-206":
        assert status == 206 and body == whole
        assert re.search(rb"(?im)^content-range: bytes 0-" + str(size - 1).encode() + b"/" + str(size).encode(), head)
    elif expected == 206:
        assert status == 206 and body == whole[5:10]
    else:
        assert status == 200 and body == whole
    feed_answered(served, "bad ranges")


@pytest.mark.parametrize("method", [b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS", b"TRACE", b"PROPFIND", b"BREW"])
@pytest.mark.parametrize("where", ["feed", "unknown", "no-secret"])
def test_methods_other_than_get_and_head_are_405_with_allow(served, method, where):
    target = {"feed": b"/" + served.secret + b"/feed.xml", "unknown": b"/" + served.secret + b"/nothing", "no-secret": b"/feed.xml"}[where]
    response = exchange(served, request_bytes(served, target, b"Content-Length: 5\r\n", method) + b"hello")
    assert status_of(response) == 405
    assert re.search(rb"(?im)^allow: GET, HEAD\r?$", response.partition(b"\r\n\r\n")[0])
    feed_answered(served, "other methods")


@pytest.mark.parametrize(
    "target, allowed",
    [
        (b"/{s}/\xff\xfe", (400,)),  # raw bytes that are not UTF-8 (or even ASCII): h11 refuses the request line
        (b"/{s}/caf\xc3\xa9", (400,)),
        (b"/{s}/%ff%fe", (404,)),
        (b"/{s}/%c3%28", (404,)),
        (b"/{s}/%", (404,)),
        (b"/{s}/" + b"a" * 2000, (414,)),
        (b"/{s}/" + b"a/" * 1000, (414,)),
        (b"/" + b"a" * 70000, (414, 431)),  # over the head limit too: whichever answers first
        (b"/{s}/feed.xml?" + b"q" * 20000, (431,)),
    ],
    ids=["raw-ff", "raw-utf8", "pct-ff", "pct-bad-utf8", "pct-alone", "long", "deep", "huge", "huge-query"],
)
@pytest.mark.parametrize("pieces", [1, 16], ids=["one-write", "in-pieces"])
def test_non_utf8_and_overlong_paths_are_4xx(served, target, allowed, pieces):
    status = status_of(exchange(served, request_bytes(served, target.replace(b"{s}", served.secret)), pieces))
    assert status in allowed or (status is None and 431 in allowed)
    feed_answered(served, "odd paths")


def test_a_host_header_that_is_not_utf8_still_gets_a_feed_with_usable_urls(served):
    response = exchange(served, b"GET /" + served.secret + b"/feed.xml HTTP/1.1\r\nHost: \xff\xfe\r\nConnection: close\r\n\r\n")
    assert status_of(response) == 200
    assert f"http://127.0.0.1:{served.port}/".encode() in response.partition(b"\r\n\r\n")[2]
