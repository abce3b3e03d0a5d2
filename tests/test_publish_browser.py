"""A published site in headless Chromium at phone size (360x740): keep a session on the phone, lose the network, reload,
play and seek from storage; a new revision replaces the kept copy; Remove frees it."""

from __future__ import annotations

import json
import shutil

import pytest

from coach import session
from coach.timeline.moment import MomentIndex, segments
from publishing import StaticServer, coach_publish, edit_one_cue, free_port, routine_copies, speech_cache

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PHONE = (360, 740)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built-in routines (copies, to edit) published for a static server on 127.0.0.1 (a secure context)."""
    base = tmp_path_factory.mktemp("publish-browser")
    routines = routine_copies(base / "routines")
    cache = speech_cache(tmp_path_factory)
    port = free_port()
    arguments = [str(routines), str(base / "site"), "--base-url", f"http://127.0.0.1:{port}/", "--cache-dir", str(cache), "--json"]
    coach_publish(*arguments)
    return {"base": base, "routines": routines, "cache": cache, "port": port, "directory": base / "site", "arguments": arguments}


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium through its chromedriver, as a 360x740 phone."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("chromium and chromium-driver are missing: run tools/setup.sh --test (make test does)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--mute-audio", "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(120)  # a guard against a hang, not a speed requirement
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 2, "mobile": True})
    driver.execute_cdp_cmd("Network.enable", {})
    yield driver
    driver.quit()


def network(driver, online: bool) -> None:
    """Switch the page's network off or on (the DevTools protocol's network emulation)."""
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions", {"offline": not online, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    )


def wait_ready(driver) -> dict:
    """Wait until the player has its moments and offline.js has settled; what offline.js knows."""
    return driver.execute_async_script(
        """
        const done = arguments[0];
        (function wait() {
          const player = document.getElementById('player');
          const offline = window.coachOffline;
          if (player && player.dataset.ready && offline && offline.ready && !offline.busy) {
            done({kept: offline.kept, error: offline.error, controlled: !!navigator.serviceWorker.controller,
                  status: document.getElementById('offline-status').textContent, revision: player.dataset.revision,
                  files: JSON.parse(player.dataset.files).map((url) => new URL(url, location.href).href)});
          } else setTimeout(wait, 20);
        })();
        """
    )


def kept_urls(driver) -> list[str]:
    return driver.execute_async_script(
        "const done = arguments[0]; caches.open('coach-kept-v1').then((c) => c.keys()).then((keys) => done(keys.map((k) => k.url)));"
    )


def test_a_kept_session_plays_seeks_and_shows_its_screen_with_the_network_off(browser, site, tmp_path_factory):
    from selenium.webdriver.common.by import By

    server = StaticServer(site["directory"], site["port"])
    try:
        browser.get(f"http://127.0.0.1:{site['port']}/play/post-run.html")
        first = wait_ready(browser)
        assert first["kept"] is None and first["error"] is None and "Keep this session" in first["status"]
        browser.find_element(By.ID, "keep").click()
        kept = wait_ready(browser)
        assert kept["kept"] and kept["kept"]["revision"] == first["revision"] and kept["error"] is None
        assert kept["kept"]["bytes"] > 500_000 and "Kept on this phone" in kept["status"] and "MB" in kept["status"]
        assert set(first["files"]) <= set(kept_urls(browser))  # audio, moments, chapters, transcripts, cover
        assert any("/figure-" in url and url.endswith(".svg") for url in first["files"])  # and the player's figures
    finally:
        server.stop()  # no server at all, and the network emulated off: nothing can come from the network
    network(browser, online=False)
    browser.refresh()
    offline = wait_ready(browser)
    assert offline["controlled"] and offline["kept"]["revision"] == first["revision"]

    routine = session.load(str(site["routines"] / "post-run.yaml"))
    timeline = session.prepare(routine, session.speech_settings(routine), site["cache"]).timeline
    hold = [s for s in segments(timeline) if s.moment.activity == "hold" and s.moment.side and s.end_ms - s.start_ms > 4000][2]
    shown = browser.execute_async_script(
        """
        const [t, done] = arguments;
        const audio = document.getElementById('audio');
        const read = () => done({t: audio.currentTime, title: document.getElementById('title').textContent,
                                 side: document.getElementById('side').textContent, paused: audio.paused, error: audio.error && audio.error.code});
        audio.addEventListener('seeked', () => {
          audio.play().then(() => {
            const from = audio.currentTime;
            (function wait() { audio.currentTime > from + 0.6 ? read() : setTimeout(wait, 20); })();
          }, (error) => done({error: String(error)}));
        }, {once: true});
        audio.currentTime = t;
        """,
        hold.start_ms / 1000 + 1,
    )
    assert shown.get("error") is None, shown
    moment = MomentIndex(timeline).at(round(shown["t"] * 1000))
    assert not shown["paused"] and hold.start_ms / 1000 + 1.5 < shown["t"] < hold.end_ms / 1000
    assert (shown["title"], shown["side"]) == (moment.title, moment.side)  # the right exercise, from storage
    figure = browser.execute_async_script(
        "const done = arguments[0], img = document.getElementById('figure-img');"
        "const read = () => done({src: img.src, drawn: img.naturalWidth > 0, hidden: document.getElementById('figure').hidden});"
        "img.complete ? read() : img.addEventListener('load', read, {once: true});"
    )
    assert figure["drawn"] and not figure["hidden"] and figure["src"] in kept_urls(browser), figure  # the figure, from storage
    folder = tmp_path_factory.mktemp("publish-screenshots")
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(folder / "offline-player-360x740.png"))
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    browser.save_screenshot(str(folder / "offline-kept-360x740.png"))
    print(f"\npublish screenshots: {folder}")
    browser.execute_script("document.getElementById('audio').pause()")
    network(browser, online=True)


def test_a_new_revision_replaces_the_kept_copy_and_remove_frees_it(browser, site):
    from selenium.webdriver.common.by import By

    before = set(kept_urls(browser))
    old_audio = next(url for url in before if url.endswith("/episode.mp3"))
    edit_one_cue(site["routines"], "First position, for the front of the thigh.")
    report = json.loads(coach_publish(*site["arguments"]).stdout)
    assert [episode["id"] for episode in report["episodes"] if episode["exported"]] == ["post-run"]
    server = StaticServer(site["directory"], site["port"])
    try:
        browser.get(f"http://127.0.0.1:{site['port']}/play/post-run.html")
        replaced = wait_ready(browser)
        assert replaced["kept"]["revision"] == replaced["revision"] and replaced["error"] is None
        urls = set(kept_urls(browser))
        assert set(replaced["files"]) <= urls and old_audio not in urls  # the old revision's files are gone
        browser.get(f"http://127.0.0.1:{site['port']}/index.html")
        badges = browser.execute_async_script(
            "const done = arguments[0]; (function wait() { window.coachOffline && window.coachOffline.ready"
            " ? done([...document.querySelectorAll('.routine')].map((c) => [c.dataset.episode, c.querySelector('.kept-badge').hidden ? null"
            " : c.querySelector('.kept-badge').textContent])) : setTimeout(wait, 20); })();"
        )
        assert badges == [["post-run", " · kept on this phone"], ["pre-run", None]]
        browser.save_screenshot(str(site["base"] / "library-360x740.png"))
        print(f"\npublish library screenshot: {site['base'] / 'library-360x740.png'}")
        browser.get(f"http://127.0.0.1:{site['port']}/play/post-run.html")
        wait_ready(browser)
        browser.find_element(By.ID, "remove").click()
        removed = wait_ready(browser)
        assert removed["kept"] is None and "Removed" in removed["status"]
        assert not any("/episodes/" in url for url in kept_urls(browser))
        assert browser.find_element(By.ID, "keep").is_displayed()
    finally:
        server.stop()
