"""No coach command opens a network connection: render, export, play and serve with the default (neural) voice.

Every command runs in a fresh process on a fresh cache with an audit hook installed at start-up (through a
`sitecustomize` on PYTHONPATH) that refuses, and records, every socket connection or name lookup that is not
on the loopback interface. A positive control shows the hook is in force. Where this machine allows a
network namespace (`unshare -n`), render and export also run with no network at all.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from serving import Served

COACH = [sys.executable, "-m", "coach"]

GUARD = r'''
import ipaddress, os, sys

_LOG = os.environ["COACH_TEST_NETWORK_LOG"]
_LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "", None}


def _local(host):
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(event, detail):
    with open(_LOG, "a") as log:
        log.write(f"{os.getpid()} {event} {detail!r} {' '.join(sys.argv)}\n")
    raise PermissionError(f"network use refused in this test: {event} {detail!r}")


def _audit(event, args):
    if event == "socket.connect" or event == "socket.sendto":
        address = args[1]
        if isinstance(address, tuple) and not _local(address[0]):
            _refuse(event, address)
    elif event == "socket.getaddrinfo":
        if not _local(args[0]):
            _refuse(event, args[0])
    elif event in ("urllib.Request", "http.client.connect"):
        _refuse(event, args[0] if args else "")


sys.addaudithook(_audit)
'''

SHORT_ROUTINE = """\
title: Offline check
pace:
  rest: 0
  countdown: 2
  breath: 2s
exercises:
  - name: Calf raise
    steps:
      - inhale: Rise onto the balls of your feet.
      - hold: 2s
"""


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """An environment whose Python processes refuse non-loopback network use, the log they write, a fresh cache."""
    folder = tmp_path_factory.mktemp("offline")
    (folder / "guard").mkdir()
    (folder / "guard" / "sitecustomize.py").write_text(GUARD)
    log = folder / "network.log"
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(folder / "guard"), str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]),
        "COACH_TEST_NETWORK_LOG": str(log),
        "COACH_CACHE_DIR": str(folder / "cache"),
    }
    routine = folder / "short.yaml"
    routine.write_text(SHORT_ROUTINE)
    return environment, log, folder, routine


def _run(arguments: list[str], environment: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(arguments, env=environment, cwd=cwd, capture_output=True, text=True, timeout=900)


def test_the_guard_refuses_and_records_a_connection(guarded):
    environment, log, folder, _ = guarded
    probe = "import socket\ntry:\n    socket.create_connection(('192.0.2.1', 80), timeout=0.2)\nexcept OSError as e:\n    print(type(e).__name__)"
    result = _run([sys.executable, "-c", probe], environment, folder)
    assert result.stdout.strip() == "PermissionError"
    assert "'192.0.2.1'" in log.read_text()  # refused at the name lookup create_connection makes first
    log.unlink()


def test_render_export_and_play_open_no_connection(guarded):
    environment, log, folder, routine = guarded
    render = _run([*COACH, "render", "post-run"], environment, folder)
    assert render.returncode == 0, render.stderr
    assert "hibari" in render.stdout + render.stderr  # the default voice, not a fallback
    assert "warning" not in render.stderr
    export = _run([*COACH, "export", "post-run", "-o", str(folder / "post-run.mp3"), "--json"], environment, folder)
    assert export.returncode == 0, export.stderr
    assert json.loads(export.stdout)["duration"] > 30 * 60
    play = _run([*COACH, "play", str(routine), "--device", "null", "--no-ui"], environment, folder)
    assert play.returncode == 0, play.stderr
    assert "Inhale, rise onto the balls of your feet." in play.stdout
    assert not log.exists(), log.read_text()


def test_serve_opens_no_connection_beyond_loopback(guarded):
    environment, log, folder, routine = guarded
    server = Served("--library", str(folder / "library"), env=environment)
    try:
        for name in ("post-run", "pre-run"):  # the built-ins, which coach serve offers by default
            server.wait_for(rf"{name}\.yaml: (exported|up to date)")
        with urllib.request.urlopen(server.feed, timeout=60) as response:
            feed = response.read().decode()
        enclosure = re.search(r'<enclosure [^>]*url="([^"]+)"', feed).group(1)
        with urllib.request.urlopen(enclosure, timeout=300) as response:
            assert response.read(3) == b"ID3"  # coach's episodes start with their tags
    finally:
        server.stop()
    assert not log.exists(), log.read_text()


@pytest.mark.skipif(shutil.which("unshare") is None, reason="no unshare here")
def test_render_and_export_work_with_no_network_at_all(guarded, tmp_path):
    environment, _, folder, routine = guarded
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("this machine does not allow a network namespace")
    environment = {**environment, "COACH_CACHE_DIR": str(tmp_path / "cache")}
    target = tmp_path / "short.mp3"
    result = _run(["unshare", "-n", *COACH, "export", str(routine), "-o", str(target)], environment, folder)
    assert result.returncode == 0, result.stderr
    assert target.stat().st_size > 10_000


def test_publish_opens_no_connection(guarded):
    """The site names its public address (--base-url) but coach never reaches for it."""
    environment, log, folder, routine = guarded
    site = folder / "site"
    result = _run([*COACH, "publish", str(routine), str(site), "--base-url", "https://example.org/coach/"], environment, folder)
    assert result.returncode == 0, result.stderr
    assert "https://example.org/coach/episodes/short/" in (site / "feed.xml").read_text()
    assert not log.exists(), log.read_text()
