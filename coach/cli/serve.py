"""`coach serve`: every routine as a podcast feed and a web player on the local network, with a QR code to connect."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import List, Optional

import typer

from coach.cli.app import EVERY_ROUTINE_LEVEL, command
from coach.cli.choice import cache_dir, checked_engine_name
from coach.clock import plan_time as clock
from coach.errors import UsageError
from coach.routine.levels import parse_level


@command("serve")
def serve(
    routines: Optional[List[str]] = typer.Argument(
        None, metavar="ROUTINE_OR_FOLDER", help="Routine files, folders of them, or built-in names (default: the built-in routines)."
    ),
    host: Optional[str] = typer.Option(
        None, "--host", metavar="ADDR", help="Listen on this address only, and put it in the URLs (default: every interface, the LAN address shown)."
    ),
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="TCP port (0: any free one)."),
    open_: bool = typer.Option(False, "--open", help="No secret path segment: anyone on the network can use the URLs."),
    library: Optional[Path] = typer.Option(
        None, "--library", metavar="DIR", help="Where published episodes are kept (default: $XDG_DATA_HOME/coach/serve)."
    ),
    *,
    voice, rate, cache, engine, music, no_music,  # coach.cli.app.SHARED_OPTIONS
    level: Optional[str] = EVERY_ROUTINE_LEVEL,
) -> None:
    """Publish routines as a podcast feed and a web player on this network; a saved edit republishes."""
    from coach.serve.options import ServeOptions
    from coach.serve.server import Service

    if music is not None and no_music:
        raise UsageError("give --music or --no-music, not both")
    options = ServeOptions(
        routines=tuple(routines or ()),
        host=host,
        port=port,
        open=open_,
        library_dir=library,
        cache_dir=cache_dir(cache),
        voice=voice,
        rate=rate,
        engine=checked_engine_name(engine),
        music=music,
        no_music=no_music,
        level=serve_level(level),
    )
    Service(options, _TerminalReporter()).run()
    _TerminalReporter.say("stopped serving")


def serve_level(level: Optional[str]) -> Optional[float]:
    """`--level` for serve: a level name or number (`auto` follows one routine's history: plan, play, export)."""
    if level is None:
        return None
    if level.strip().casefold() == "auto":
        raise UsageError("--level auto is for plan, play and export (it follows one routine's history)")
    try:
        return parse_level(level)
    except ValueError as error:
        raise UsageError(f"--level: {error}") from None


class _TerminalReporter:
    """The serve log on stdout (diagnostics on stderr), one line per event, safe to call from any thread."""

    _lock = threading.Lock()

    @classmethod
    def say(cls, line: str, stream=None) -> None:
        with cls._lock:
            out = stream or sys.stdout
            out.write(line + "\n")
            out.flush()

    def listening(self, addresses) -> None:
        import segno

        lines = ["coach serve: open this page on a phone on the same network (or scan the code):", f"  page  {addresses.pages[0]}"]
        lines.append(f"  feed  {addresses.feeds[0]}   (subscribe in a podcast app)")
        for page in addresses.pages[1:]:
            lines.append(f"  also  {page}")
        lines.append(f"  library folder {addresses.library}")
        with self._lock:
            sys.stdout.write("\n".join(lines) + "\n")
            # Half blocks, light modules drawn as ink: scans on the usual dark terminal, no colour escapes in a log.
            segno.make(addresses.pages[0], error="m").terminal(out=sys.stdout, compact=True)
            sys.stdout.write("Ctrl-C stops.\n")
            sys.stdout.flush()

    def publishing(self, path: Path) -> None:
        self.say(f"{_shown(path)}: publishing…")

    def published(self, path: Path, published) -> None:
        episode = published.episode
        how = "exported" if published.exported else "up to date"
        synthesized = f", {published.synthesized} cues synthesized" if published.synthesized else ""
        self.say(f"{episode.source}: {how} as {episode.id}, {clock(round(episode.duration * 1000), tenths=False)}{synthesized}")

    def invalid(self, path: Path, error) -> None:
        text = "\n".join(str(diagnostic) for diagnostic in error.diagnostics)
        self.say(text, sys.stderr)
        self.say(f"{_shown(path)}: not published ({len(error.diagnostics)} problem(s)); the last good version stays")

    def failed(self, path: Path, error) -> None:
        self.say(f"coach: error: {_shown(path)}: {error}; the last good version stays", sys.stderr)

    def removed(self, path: Path, episode) -> None:
        self.say(f"{_shown(path)}: deleted; {episode.id} left the feed")

    def request(self, log) -> None:
        self.say(f"{log.client:<15} {log.method:<4} {log.path}  {log.status}  {_size(log.bytes)}")


def _shown(path: Path) -> str:
    from coach.routine import sources

    return sources.display_name(path)


def _size(count: int) -> str:
    if count < 10_000:
        return f"{count} B"
    if count < 10_000_000:
        return f"{count // 1000} kB"
    return f"{count / 1_000_000:.1f} MB"
