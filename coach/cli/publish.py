"""`coach publish`: every routine as a static site in a folder, for any web host (no credentials handled here)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from coach.cli.app import EVERY_ROUTINE_LEVEL, command, print_json
from coach.cli.choice import cache_dir, checked_engine_name
from coach.cli.serve import serve_level
from coach.clock import plan_time as clock
from coach.errors import UsageError


@command("publish")
def publish(
    routines: Optional[List[str]] = typer.Argument(
        None, metavar="ROUTINE_OR_FOLDER", help="Routine files, folders of them, or built-in names (default: the built-in routines)."
    ),
    directory: Path = typer.Argument(..., metavar="DIR", help="The folder to write the site into (made if missing)."),
    base_url: str = typer.Option(
        ..., "--base-url", metavar="URL", help="The address the folder will be served from (https://...): the feed's URLs start with it."
    ),
    secret: bool = typer.Option(False, "--secret", help="Put the site in an unguessable folder inside DIR (a private feed; kept when published again)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    *,
    voice, rate, cache, engine, music, no_music,  # coach.cli.app.SHARED_OPTIONS
    level: str = EVERY_ROUTINE_LEVEL,
) -> None:
    """Write the routines as a static site (feed, episodes, pages, offline player); published again, only what changed is written."""
    from coach.publish.site import PublishOptions, publish as build

    if music is not None and no_music:
        raise UsageError("give --music or --no-music, not both")
    options = PublishOptions(
        directory=directory,
        base_url=base_url,
        routines=tuple(routines or ()),
        secret=secret,
        cache_dir=cache_dir(cache),
        voice=voice,
        rate=rate,
        engine=checked_engine_name(engine),
        music=music,
        no_music=no_music,
        level=serve_level(level),
    )
    report = build(options, _Reporter(sys.stderr if as_json else sys.stdout))
    if as_json:
        print_json(report.to_json())
        return
    for episode in report.episodes:
        how = "exported" if episode.exported else "up to date"
        synthesized = f", {episode.synthesized} cues synthesized" if episode.synthesized else ""
        print(f"{episode.source}: {how} as {episode.id}, {clock(round(episode.duration * 1000), tenths=False)}{synthesized}")
    for name in report.written:
        print(f"  wrote    {name}")
    for name in report.removed:
        print(f"  removed  {name}")
    changed = "nothing changed" if not (report.written or report.removed) else f"{len(report.written)} written, {len(report.removed)} removed"
    print(f"{directory}: {changed}, {report.unchanged} unchanged")
    print(f"  page  {report.page_url}")
    print(f"  feed  {report.feed_url}   (subscribe in a podcast app)")
    if not report.page_url.startswith("https://"):
        print("  note  over plain http a phone cannot keep sessions offline nor hold the screen on: serve the folder over https")


class _Reporter:
    """One line per routine as it starts."""

    def __init__(self, stream):
        self.stream = stream

    def publishing(self, path: Path) -> None:
        self.stream.write(f"{path.name}: publishing…\n")
        self.stream.flush()
