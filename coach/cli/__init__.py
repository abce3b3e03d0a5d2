"""The command line: the one place that prints errors and chooses exit codes."""

from __future__ import annotations

from coach.cli.app import app
from coach.cli import figures, history, live, publish, routines, serve, speech, track, watch  # noqa: F401  (they register their commands)


def main() -> None:
    """Run the coach command line."""
    app(prog_name="coach")
