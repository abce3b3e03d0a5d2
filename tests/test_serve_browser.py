"""The web pages of a real `coach serve` in headless Chromium at phone size (360x740): library, and the post-run player."""

from __future__ import annotations

import json
import shutil

import pytest

from coach import clock, session
from coach.timeline.moment import segments
from serving import Served, shared_dirs

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PHONE = (360, 740)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The built-in routines served from the shared library, once both are published."""
    cache, library = shared_dirs(tmp_path_factory)
    server = Served("--library", str(library), "--cache-dir", str(cache))
    for name in ("post-run", "pre-run"):
        server.wait_for(rf"{name}\.yaml: (exported|up to date)")
    server.cache = cache
    yield server
    assert server.stop() == 0


@pytest.fixture(scope="module")
def timeline(served):
    """The post-run timeline as the plan has it (prepared from the server's speech cache)."""
    routine = session.load("post-run")
    return session.prepare(routine, session.speech_settings(routine), served.cache).timeline


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    """Where the screenshots are kept (printed, for a person to look at)."""
    folder = tmp_path_factory.mktemp("serve-screenshots")
    yield folder
    print(f"\nserve screenshots: {folder}")


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium driven through its chromedriver, as a 360x740 phone."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("chromium and chromium-driver are missing: run tools/setup.sh --test (make test does)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--mute-audio",
        "--autoplay-policy=no-user-gesture-required",
        "--host-resolver-rules=MAP coach.test 127.0.0.1",  # a LAN-like host name: not a secure context
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(120)  # a guard against a hang, not a speed requirement
    phone(driver, *PHONE)
    yield driver
    driver.quit()


def phone(driver, width: int, height: int) -> None:
    """Emulate a phone screen of width x height CSS pixels."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True}
    )


def open_player(driver, served, host: str = "127.0.0.1") -> None:
    driver.get(served.url("play/post-run").replace("127.0.0.1", host))
    driver.execute_async_script(
        "const done = arguments[0];"
        "(function wait() { document.getElementById('player').dataset.ready ? done() : setTimeout(wait, 20); })();"
    )


def seek(driver, seconds: float) -> dict:
    """Seek the audio, wait for it to land, and read what the page shows."""
    return driver.execute_async_script(
        """
        const [t, done] = arguments;
        const audio = document.getElementById('audio');
        const read = () => {
          const text = (id) => { const e = document.getElementById(id); return e.hidden ? null : e.textContent; };
          done({t: audio.currentTime, title: text('title'), side: text('side'), line: text('line'),
                countdown: text('countdown'), next: text('next'), activity: text('activity'), elapsed: text('elapsed'),
                position: text('position'), lockScreen: navigator.mediaSession.metadata.title});
        };
        const go = () => { audio.addEventListener('seeked', () => setTimeout(read, 0), {once: true}); audio.currentTime = t; };
        audio.readyState >= 1 ? go() : audio.addEventListener('loadedmetadata', go, {once: true});
        """,
        seconds,
    )


def positions(timeline) -> list[float]:
    """A few seconds to seek to, in segments of different kinds, away from any boundary or whole-second countdown."""
    chosen, kinds = [], set()
    for segment in segments(timeline):
        moment = segment.moment
        kind = (moment.activity, moment.side is not None, moment.countdown_end_ms is not None)
        if kind in kinds or segment.end_ms - segment.start_ms < 2000:
            continue
        kinds.add(kind)
        if moment.countdown_end_ms is not None:  # half a second off a whole countdown second
            ms = moment.countdown_end_ms - ((moment.countdown_end_ms - segment.start_ms) // 2 // 1000) * 1000 - 500
        else:
            ms = (segment.start_ms + segment.end_ms) // 2
        chosen.append(ms / 1000)
    return chosen


def test_the_library_lists_every_routine_with_play_download_and_subscribe(browser, served, screenshots):
    from selenium.webdriver.common.by import By

    browser.get(served.page)
    titles = [element.text for element in browser.find_elements(By.CSS_SELECTOR, ".routine h2")]
    assert titles == ["Post-run mobility (standard)", "Pre-run mobility (standard)"]
    links = [element.get_attribute("href") for element in browser.find_elements(By.CSS_SELECTOR, ".routine a")]
    assert served.url("play/post-run") in links
    assert any(link.endswith("/episode.mp3") for link in links)
    assert browser.find_element(By.ID, "feed-url").get_attribute("value") == served.feed
    assert browser.find_element(By.CSS_SELECTOR, ".subscribe a").get_attribute("href") == served.feed.replace("http://", "podcast://")
    browser.save_screenshot(str(screenshots / "library-360x740.png"))


def test_the_player_shows_what_the_plan_has_at_each_seeked_time(browser, served, timeline, screenshots):
    from coach.timeline.moment import MomentIndex

    open_player(browser, served)
    index = MomentIndex(timeline)
    seen_sides = 0
    for seconds in positions(timeline):
        shown = seek(browser, seconds)
        moment = index.at(round(shown["t"] * 1000))
        assert shown["title"] == moment.title, seconds
        assert shown["side"] == moment.side, seconds
        assert shown["line"] == moment.line, seconds
        # The header's number and the lock screen name the exercise the big type shows (in a rest, the next one).
        assert shown["position"] == f"{moment.title_chapter + 1}/{len(timeline.chapters)}", seconds
        assert shown["lockScreen"] == moment.title, seconds
        expected = None if moment.countdown_end_ms is None else clock.countdown(moment.countdown_ms)
        assert shown["countdown"] == expected, seconds
        if moment.next_title:
            assert shown["next"] == f"Next: {moment.next_title} in {clock.remaining(moment.next_in_ms)}"
        assert shown["elapsed"] == clock.elapsed(round(shown["t"] * 1000)), seconds
        seen_sides += moment.side is not None
    assert seen_sides >= 1
    hold = next(s for s in segments(timeline) if s.moment.activity == "hold" and s.moment.side)
    seek(browser, (hold.start_ms + hold.end_ms) / 2000 + 0.25)
    browser.save_screenshot(str(screenshots / "player-360x740.png"))
    phone(browser, PHONE[1], PHONE[0])
    browser.save_screenshot(str(screenshots / "player-740x360-landscape.png"))
    phone(browser, *PHONE)


def test_the_page_writes_every_time_as_the_terminal_does(browser, served, timeline):
    """static/clock.js against coach/clock.py over a table of times: at, just off and across each rounding edge."""
    open_player(browser, served)
    edges = [0, 1, 499, 500, 501, 999, 1000, 1001, 59_000, 59_001, 59_999, 60_000, 60_001, 61_500, 599_999,
             600_000, 3_599_999, 3_600_000, 3_600_001, 6_000_000, 36_000_999]
    events = [ms for segment in segments(timeline) for edge in (segment.start_ms, segment.end_ms) for ms in (edge - 1, edge, edge + 1)]
    # (end, t) pairs in ms: the page computes a time left as end - t in seconds, as floats
    pairs = [(ms, 0) for ms in edges + events] + [(0, ms) for ms in edges[1:5]]
    pairs += [(end, end - left) for end in (5300, 12_345, 600_123) for left in edges if left <= end]
    pairs += [(end, t) for end, t in zip(events[3:], events) if end >= t]
    shown = browser.execute_script(
        "return arguments[0].map(([end, t]) => { const s = end / 1000 - t / 1000;"
        " return [coachClock.elapsed(s), coachClock.remaining(s), coachClock.countdown(s)]; });",
        pairs,
    )
    expected = [[clock.elapsed(end - t), clock.remaining(end - t), clock.countdown(end - t)] for end, t in pairs]
    wrong = [(pair, got, want) for pair, got, want in zip(pairs, shown, expected) if got != want]
    assert not wrong, wrong[:5]
    assert len(pairs) > 100
    chapters = browser.execute_script("return [...document.querySelectorAll('#chapters button span:last-child')].map(e => e.textContent)")
    assert chapters == [clock.elapsed(chapter.start_ms) for chapter in timeline.chapters]
    assert browser.execute_script("return document.getElementById('total').textContent") == clock.elapsed(timeline.duration_ms)


def test_media_session_metadata_and_handlers_are_set(browser, served, timeline):
    open_player(browser, served)
    chapter = timeline.chapters[2]
    seek(browser, chapter.start_ms / 1000 + 1.5)
    session_state = browser.execute_script(
        "const m = navigator.mediaSession.metadata;"
        "return {title: m.title, artist: m.artist, album: m.album, artwork: m.artwork.map(a => a.src),"
        " handlers: window.coachPlayer.handlers, state: navigator.mediaSession.playbackState};"
    )
    assert session_state["title"] == chapter.title
    assert session_state["artist"] == timeline.title and session_state["album"] == "coach"
    # The lock screen shows this exercise's card (its figure), the cover after it for a system that wants a large one.
    assert [src.rsplit("/", 1)[-1] for src in session_state["artwork"]] == ["card-03.jpg", "cover.png"]
    card = browser.execute_async_script(
        "const done = arguments[1]; fetch(arguments[0]).then(r => done([r.status, r.headers.get('content-type')]));", session_state["artwork"][0]
    )
    assert card == [200, "image/jpeg"]
    for action in ("play", "pause", "previoustrack", "nexttrack", "seekbackward", "seekforward", "seekto"):
        assert action in session_state["handlers"]


def test_the_exercise_buttons_jump_between_chapter_starts(browser, served, timeline):
    from selenium.webdriver.common.by import By

    open_player(browser, served)
    starts = [chapter.start_ms / 1000 for chapter in timeline.chapters]
    seek(browser, starts[1] + 5)
    browser.find_element(By.ID, "next-exercise").click()
    assert browser.execute_script("return document.getElementById('audio').currentTime") == pytest.approx(starts[2], abs=0.01)
    browser.find_element(By.ID, "prev").click()  # right after a start: back to the exercise before
    assert browser.execute_script("return document.getElementById('audio').currentTime") == pytest.approx(starts[1], abs=0.01)
    browser.find_element(By.ID, "back10").click()
    assert browser.execute_script("return document.getElementById('audio').currentTime") == pytest.approx(starts[1] - 10, abs=0.01)


def test_playing_moves_the_page_on_with_the_audio(browser, served):
    from selenium.webdriver.common.by import By

    open_player(browser, served)
    seek(browser, 40)
    browser.find_element(By.ID, "play").click()
    moved = browser.execute_async_script(
        "const done = arguments[0]; const audio = document.getElementById('audio');"
        "(function wait() { audio.currentTime > 41.2 ? done(document.getElementById('elapsed').textContent) : setTimeout(wait, 50); })();"
    )
    assert moved.startswith("00:4")
    assert browser.execute_script("return document.body.classList.contains('playing')")
    browser.find_element(By.ID, "play").click()
    assert browser.execute_script("return document.getElementById('audio').paused")


def test_without_a_secure_context_the_page_says_the_screen_may_sleep(browser, served):
    open_player(browser, served, host="coach.test")
    note = browser.execute_script("const n = document.getElementById('wake-note'); return n.hidden ? null : n.textContent")
    assert note and "screen" in note
    open_player(browser, served)
    assert browser.execute_script("return window.isSecureContext && 'wakeLock' in navigator")
    assert browser.execute_script("return document.getElementById('wake-note').hidden")


def test_the_player_is_the_same_web_app_as_a_published_site(browser, served):
    """Under coach serve the player names the manifest and registers the service worker at the secret prefix's root."""
    from selenium.webdriver.common.by import By

    wait = (
        "const done = arguments[0];"
        "(function wait() { const o = window.coachOffline; o && o.ready ? done({supported: o.supported, error: o.error,"
        " status: document.getElementById('offline-status').textContent}) : setTimeout(wait, 20); })();"
    )
    open_player(browser, served)
    state = browser.execute_async_script(wait)
    assert state["supported"] and state["error"] is None, state
    scope = browser.execute_async_script("navigator.serviceWorker.ready.then((r) => arguments[0](r.scope));")
    assert scope == served.page  # the whole site under the secret, and nothing outside it
    assert browser.find_element(By.ID, "keep").is_displayed()
    manifest = browser.find_element(By.CSS_SELECTOR, "link[rel=manifest]").get_attribute("href")
    assert manifest == served.url("manifest.webmanifest")
    open_player(browser, served, host="coach.test")  # plain http on a LAN name: no service worker
    state = browser.execute_async_script(wait)
    assert not state["supported"] and "https" in state["status"]


def figure_shown(driver) -> dict:
    """What the figure above the exercise shows: its file, whether it is on screen and drawn, its size and mirroring."""
    return driver.execute_async_script(
        """
        const done = arguments[0];
        const box = document.getElementById('figure'), img = document.getElementById('figure-img');
        const read = () => { const r = img.getBoundingClientRect(), t = document.getElementById('title').getBoundingClientRect();
          done({src: img.src.split('/').pop(), shown: !box.hidden && img.complete && img.naturalWidth > 0, width: r.width,
                height: r.height, above: r.bottom <= t.top, mirrored: box.dataset.mirrored, alt: img.alt}); };
        (img.complete || box.hidden) ? read() : img.addEventListener('load', read, {once: true});
        """
    )


def test_the_figure_shows_above_the_exercise_swaps_with_it_and_is_mirrored_on_the_other_side(browser, served, timeline, screenshots):
    from coach.site.episodes import figure_files
    from coach.timeline.timeline import figure_json

    routine = session.load("post-run")
    names = {key: name for key, (name, _svg) in figure_files(routine, timeline).items()}
    expected = lambda moment: names[json.dumps([figure_json(moment.figure), moment.mirrored], sort_keys=True)]  # noqa: E731
    open_player(browser, served)
    # One long segment per (chapter, side) that shows a figure: the first exercise's both sides, and the next exercise.
    chosen: dict = {}
    for segment in segments(timeline):
        moment = segment.moment
        if moment.figure is not None and segment.end_ms - segment.start_ms >= 1000:
            chosen.setdefault((moment.chapter, moment.side), segment)
    sided = [key for key in chosen if key[1] is not None]
    first = sided[0][0]
    left, right = chosen[(first, "left")], chosen[(first, "right")]
    other = next(segment for (chapter, _side), segment in chosen.items() if chapter != first)
    seen = []
    for segment in (left, other, right):
        seek(browser, (segment.start_ms + segment.end_ms) / 2000)
        shown = figure_shown(browser)
        assert shown["shown"] and shown["above"], shown
        assert shown["width"] >= 280 and shown["height"] >= 200, shown  # large: most of the phone's width
        assert shown["src"] == expected(segment.moment), shown
        assert shown["mirrored"] == str(segment.moment.mirrored).lower()
        seen.append(shown["src"])
    assert len(set(seen)) == 3  # another exercise, another figure; the other side, another picture
    assert left.moment.mirrored != right.moment.mirrored
    browser.save_screenshot(str(screenshots / "player-figure-360x740.png"))
    hold = next(s for s in segments(timeline) if s.moment.activity == "hold" and s.moment.figure is not None)
    seek(browser, (hold.start_ms + hold.end_ms) / 2000)
    assert figure_shown(browser)["shown"]
    bottom = browser.execute_script("return document.getElementById('play').getBoundingClientRect().bottom")
    assert bottom <= PHONE[1], bottom  # the figure leaves the controls on the screen, countdown and all
    browser.save_screenshot(str(screenshots / "player-figure-hold-360x740.png"))
    # The other side's picture is the first one flipped left to right (but for the floor line's ends).
    differing = browser.execute_async_script(
        """
        const [a, b, done] = arguments;
        const load = (name) => new Promise((ok) => { const i = new Image(); i.onload = () => ok(i);
          i.src = new URL(name, document.getElementById('figure-img').src).href; });
        Promise.all([load(a), load(b)]).then(([one, two]) => {
          const w = 240, h = 160, pixels = (image, flip) => { const c = document.createElement('canvas'); c.width = w; c.height = h;
            const g = c.getContext('2d'); if (flip) { g.translate(w, 0); g.scale(-1, 1); } g.drawImage(image, 0, 0, w, h);
            return g.getImageData(0, 0, w, Math.round(h * 0.9)).data; };
          const p = pixels(one, true), q = pixels(two, false);
          let dark = 0, off = 0;
          for (let i = 0; i < p.length; i += 4) { if (q[i] < 128) dark++; if (Math.abs(p[i] - q[i]) > 64) off++; }
          done({dark, off});
        });
        """,
        expected(left.moment), expected(right.moment),
    )
    assert differing["dark"] > 500 and differing["off"] < 0.02 * differing["dark"], differing
    types = browser.execute_async_script(
        "const done = arguments[0]; fetch(document.getElementById('figure-img').src).then(r => done([r.status, r.headers.get('content-type')]));"
    )
    assert types == [200, "image/svg+xml"]
