"""The `coach` command's entry point, light to import: a Ctrl-C while the command line itself loads is a clean
stop too (one line, exit 130), not a traceback from inside an import."""

from __future__ import annotations

import sys


def main() -> None:
    """Load the command line and run it."""
    if sys.argv[1:] == ["--version"]:  # not worth the command line's imports
        from coach import __version__

        sys.stdout.write(f"coach {__version__}\n")
        return
    try:
        if sys.argv[1:2] == ["play"]:  # a plain play starts without typer (coach/cli/quick.py)
            from coach.cli.quick import run_quick

            code = run_quick(sys.argv[1:])
            if code is not None:
                raise SystemExit(code)
        from coach.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("coach: interrupted\n")
        raise SystemExit(130) from None
    run()
