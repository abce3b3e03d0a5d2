"""The player page's weight on a phone: the bytes a published post-run player fetches when it opens (the audio aside),
as sent and as gzip, with the figures as separate SVG files (what coach does) against all of them inlined."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from starts import USER_ENVIRONMENT  # (bench/starts.py, beside this file)

ROOT = Path(__file__).resolve().parent.parent
SHELL = ("static/style.css", "static/clock.js", "static/player.js", "static/offline.js", "static/icon.svg")


def sizes(parts: list[bytes]) -> str:
    """Bytes as sent and gzipped (what a static host usually sends), in kB."""
    return f"{sum(map(len, parts)) / 1000:.0f} kB ({sum(len(gzip.compress(part, 9)) for part in parts) / 1000:.0f} kB gzipped)"


def main() -> None:
    """Publish post-run into a temporary site and print the figures."""
    with tempfile.TemporaryDirectory(prefix="coach-bench-player-") as folder:
        site = Path(folder)
        command = [sys.executable, "-m", "coach", "publish", "post-run", str(site), "--base-url", "https://example.org/", "--engine", "espeak", "--json"]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=USER_ENVIRONMENT)
        if result.returncode:
            raise SystemExit(f"coach publish failed: {result.stderr.strip()}")
        [episode] = site.glob("episodes/post-run/*/")
        moments = (episode / "moments.json").read_bytes()
        plan = json.loads(moments)
        figures = {path.name: path.read_bytes() for path in episode.glob("figure-*.svg")}
        first = next(segment["picture"] for segment in plan["segments"] if segment["picture"])
        shell = [(site / "play" / "post-run.html").read_bytes(), *((site / name).read_bytes() for name in SHELL)]
        inlined = json.dumps({**plan, "figures": {name: data.decode() for name, data in figures.items()}}).encode()
        print(f"player page at open (page, scripts, moments.json, the first figure): {sizes([*shell, moments, figures[first]])}")
        print(f"  of which moments.json {sizes([moments])}; then each new position one SVG of about {sizes([figures[first]])}")
        print(f"  all {len(figures)} figures of post-run: {sizes(list(figures.values()))}")
        print(f"the same page with every figure inlined in moments.json: {sizes([*shell, inlined])}")


if __name__ == "__main__":
    main()
