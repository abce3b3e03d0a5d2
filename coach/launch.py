"""The `coach` command's entry point, light to import: a Ctrl-C while the command line itself loads is a clean
stop too (one line, exit 130), not a traceback from inside an import."""

from __future__ import annotations

import sys


def main() -> None:
    """Load the command line and run it."""
    try:
        from coach.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("coach: interrupted\n")
        raise SystemExit(130) from None
    run()
