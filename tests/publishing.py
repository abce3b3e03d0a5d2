"""What the publish tests share: `coach publish` run as a user runs it, and a plain static file server on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from serving import shared_dirs

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
EDITED_LINE = "First position, focused on the quadriceps."


def publish_cmd(*args: str) -> list[str]:
    """The command line of `coach publish ARGS`."""
    return [sys.executable, "-m", "coach", "publish", *args]


def coach_publish(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run `coach publish ARGS` to its end; its output as text."""
    result = subprocess.run(publish_cmd(*args), capture_output=True, text=True)
    if check:
        assert result.returncode == 0, result.stderr + result.stdout
    return result


def routine_copies(folder: Path) -> Path:
    """The built-in routines copied into `folder` (so that a test may edit them), as the folder to publish."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("post-run.yaml", "pre-run.yaml"):
        shutil.copyfile(SCRIPTS / name, folder / name)
    return folder


def edit_one_cue(folder: Path, new_line: str) -> None:
    """Change one spoken line of the post-run copy, saved as an editor saves (a new file renamed over the old)."""
    path = folder / "post-run.yaml"
    text = path.read_text()
    assert EDITED_LINE in text
    temporary = path.with_name(".post-run.yaml.new")
    temporary.write_text(text.replace(EDITED_LINE, new_line))
    os.replace(temporary, path)


def speech_cache(tmp_path_factory) -> Path:
    """The speech cache the serve tests share (the built-ins' clips, synthesized once per run)."""
    return shared_dirs(tmp_path_factory)[0]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class StaticServer:
    """`python -m http.server` serving a folder on 127.0.0.1: a plain static host, not coach's own server."""

    def __init__(self, directory: Path, port: int):
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        while True:  # until it accepts a connection (or has died, which fails the test)
            assert self.process.poll() is None, "python -m http.server ended at its start"
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                return
            except OSError:
                time.sleep(0.02)

    def stop(self) -> None:
        """End the server and wait for it."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait()
