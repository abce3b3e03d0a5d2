"""The speech-synthesis progress bar on stderr, drawn with rich (typer brings it) from render's callback."""

from __future__ import annotations

import sys
from typing import Any


class SynthesisBar:
    """`synthesizing speech ━━━━━━━╸━━━ 42/148 cues 0:12 left` on a terminal's stderr; nothing elsewhere.

    Pass it as `on_progress` (render calls it with cues done and cues to do), and close it when the
    render ends, however it ends, so the terminal's line is given back.
    """

    def __init__(self, label: str = "synthesizing speech") -> None:
        self.label = label
        self._bar: Any = None
        self._task: Any = None
        self._shown = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self._shown or total <= 0:
            return
        if self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("cues"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,  # the command's own summary follows; the bar need not stay
            )
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=total)
        self._bar.update(self._task, completed=done, total=total)

    def close(self) -> None:
        """Take the bar off the terminal."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> SynthesisBar:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
