"""`coach serve` over real HTTP on 127.0.0.1: byte ranges, HEAD, ETag, concurrent downloads, and nothing outside the secret."""

from __future__ import annotations

import hashlib
import re
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from serving import Served, get, raw_request, shared_dirs


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The built-in routines served from the shared library, once both are published."""
    cache, library = shared_dirs(tmp_path_factory)
    server = Served("--library", str(library), "--cache-dir", str(cache))
    server.wait_for(r"pre-run\.yaml: (exported|up to date)")
    server.wait_for(r"post-run\.yaml: (exported|up to date)")
    yield server
    assert server.stop() == 0
    assert "stopped serving" in server.log()


@pytest.fixture(scope="module")
def audio(served):
    """The post-run episode's URL and its bytes (one plain download)."""
    feed = get(served.feed)[2].decode()
    url = re.search(r'<enclosure url="([^"]+/post-run/[^"]+)"', feed).group(1)
    status, headers, body = get(url)
    assert status == 200 and headers["content-type"] == "audio/mpeg"
    assert int(headers["content-length"]) == len(body) > 100_000
    return url, body


@pytest.mark.parametrize(
    "header, first, last",
    [("bytes=0-99", 0, 99), ("bytes=5000-5999", 5000, 5999), ("bytes=-500", None, None), ("bytes=1000-", 1000, None)],
    ids=["start", "middle", "suffix", "open-ended"],
)
def test_byte_ranges_answer_206_with_the_exact_slice(audio, header, first, last):
    url, whole = audio
    size = len(whole)
    first = size - 500 if first is None else first
    last = size - 1 if last is None else last
    status, headers, body = get(url, {"Range": header})
    assert status == 206
    assert headers["content-range"] == f"bytes {first}-{last}/{size}"
    assert headers["accept-ranges"] == "bytes"
    assert int(headers["content-length"]) == len(body) == last - first + 1
    assert body == whole[first : last + 1]


def test_a_range_past_the_end_is_416_with_the_size(audio):
    url, whole = audio
    status, headers, body = get(url, {"Range": f"bytes={len(whole)}-"})
    assert status == 416
    assert headers["content-range"] == f"bytes */{len(whole)}"


def test_a_range_we_do_not_serve_gets_the_whole_file(audio):
    url, whole = audio
    status, _headers, body = get(url, {"Range": "bytes=0-1,5-6"})
    assert status == 200 and body == whole


def test_head_sends_the_headers_of_get_and_no_body(audio):
    url, whole = audio
    status, headers, body = get(url, method="HEAD")
    assert status == 200 and body == b""
    assert int(headers["content-length"]) == len(whole)
    assert headers["content-type"] == "audio/mpeg" and headers["etag"]


def test_if_none_match_with_the_etag_is_304_without_a_body(audio, served):
    url, _whole = audio
    etag = get(url, method="HEAD")[1]["etag"]
    status, headers, body = get(url, {"If-None-Match": etag})
    assert status == 304 and body == b"" and headers["etag"] == etag
    assert get(url, {"If-None-Match": '"something-else"'})[0] == 200
    feed_etag = get(served.feed)[1]["etag"]
    assert get(served.feed, {"If-None-Match": feed_etag})[0] == 304  # podcast apps refresh cheaply


def test_if_range_with_a_stale_etag_gets_the_whole_new_file(audio):
    url, whole = audio
    status, _headers, body = get(url, {"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert status == 200 and body == whole


def test_media_types_are_right(served):
    feed = get(served.feed)
    assert feed[0] == 200 and feed[1]["content-type"].startswith("application/rss+xml")
    text = feed[2].decode()
    expected = {
        "chapters.json": "application/json+chapters",
        "transcript.vtt": "text/vtt",
        "transcript.srt": "application/x-subrip",
        "cover.png": "image/png",
    }
    for name, media_type in expected.items():
        url = re.search(rf'"(http://[^"]+/{re.escape(name)})"', text).group(1)
        assert get(url)[1]["content-type"].startswith(media_type), name
    assert get(served.page)[1]["content-type"].startswith("text/html")
    assert get(served.url("static/player.js"))[1]["content-type"].startswith("text/javascript")


def test_eight_concurrent_full_downloads_each_equal_the_file(audio):
    url, whole = audio
    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda _n: get(url)[2], range(8)))
    assert all(hashlib.sha256(body).digest() == hashlib.sha256(whole).digest() for body in bodies)


def test_a_wrong_or_missing_secret_is_a_bare_404(served):
    secret = re.search(r"127\.0\.0\.1:\d+/([^/]+)/", served.page).group(1)
    root = f"http://127.0.0.1:{served.port}/"
    not_found = get(root + "feed.xml")
    assert not_found[0] == 404
    for url in [root, root + "x" * len(secret) + "/feed.xml", root + secret[:-1] + "/feed.xml", root + "play/post-run"]:
        status, headers, body = get(url)
        assert (status, body) == (404, not_found[2]), url
        assert "etag" not in headers and "server" not in headers


@pytest.mark.parametrize(
    "target",
    [
        b"/{s}/../{s}/feed.xml",
        b"/{s}/static/../feed.xml",
        b"/{s}/%2e%2e/{s}/feed.xml",
        b"/{s}/static/%2e%2e%2fstyle.css",
        b"/{s}/static%2fstyle.css",
        b"/{s}/static/..%2f..%2f..%2fetc%2fpasswd",
        b"/{s}//etc/passwd",
        b"/etc/passwd",
        b"/{s}/episodes/post-run/x/..%2f..%2findex.json",
        b"/{s}/static/style.css%00.png",
        b"/{s}/feed.xml%00",
        b"/{s}/secret",
        b"/{s}/index.json",
    ],
)
def test_traversal_attempts_are_404(served, target):
    secret = re.search(r"127\.0\.0\.1:\d+/([^/]+)/", served.page).group(1).encode()
    status, body = raw_request(served.port, target.replace(b"{s}", secret))
    assert (status, body) == (404, b"Not Found\n")


def test_only_get_and_head_are_answered(served):
    status, headers, _body = get(served.feed, method="POST")
    assert status == 405 and headers["allow"] == "GET, HEAD"
    assert get(served.feed, method="DELETE")[0] == 405


def test_every_request_is_one_short_log_line_without_the_secret(served):
    mark = served.mark()
    get(served.url("static/style.css"))
    line = served.wait_for(r"GET\s+/…/static/style\.css\s+200\s+\d+", since=mark).group(0)
    secret = re.search(r"127\.0\.0\.1:\d+/([^/]+)/", served.page).group(1)
    assert secret not in served.log(mark) and len(line) < 100


def test_open_drops_the_secret_and_the_secret_path_is_then_a_404(tmp_path, tmp_path_factory, served):
    cache, library = shared_dirs(tmp_path_factory)
    secret = re.search(r"127\.0\.0\.1:\d+/([^/]+)/", served.page).group(1)
    # A copy of the served library (one server per folder), so its episodes are up to date at once.
    copy = shutil.copytree(library, tmp_path / "library", ignore=shutil.ignore_patterns("serve.lock"))
    server = Served("--open", "--library", str(copy), "--cache-dir", str(cache))
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", server.page)
        server.wait_for(r"post-run\.yaml: up to date")
        status, _headers, body = get(server.url("feed.xml"))
        assert status == 200 and f"http://127.0.0.1:{server.port}/episodes/post-run/".encode() in body
        assert get(server.url(f"{secret}/feed.xml"))[0] == 404
    finally:
        assert server.stop() == 0


def test_the_terminal_shows_a_qr_code_of_the_page_url_with_its_secret(served):
    import io

    import segno

    out = [line for name, line in served.lines if name == "out" and line is not None]
    drawn = out[out.index(next(line for line in out if line.startswith("  library folder"))) + 1 : out.index("Ctrl-C stops.")]
    expected = io.StringIO()
    segno.make(served.page, error="m").terminal(out=expected, compact=True)
    assert drawn == expected.getvalue().splitlines()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/[A-Za-z0-9_-]{16,}/", served.page)  # the secret is in the code
