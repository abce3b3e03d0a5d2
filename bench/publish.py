"""`coach publish` figures: the built-ins' first publish into an empty folder (warm speech cache), an unchanged
republish (which should write nothing), and a republish after a one-cue edit of post-run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from starts import USER_ENVIRONMENT  # (bench/starts.py, beside this file)

ROOT = Path(__file__).resolve().parent.parent
EDITED_LINE = "First position, focused on the quadriceps."


def publish(routines: Path, site: Path) -> tuple[float, dict]:
    """Seconds of one `coach publish` of `routines` into `site`, and its JSON report."""
    command = [sys.executable, "-m", "coach", "publish", str(routines), str(site), "--base-url", "https://example.org/coach/", "--json"]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=USER_ENVIRONMENT)
    elapsed = time.perf_counter() - started
    if result.returncode:
        raise SystemExit(f"coach publish failed: {result.stderr.strip()}")
    return elapsed, json.loads(result.stdout)


def line(what: str, elapsed: float, report: dict) -> str:
    return f"{what}: {elapsed:.2f} s, {len(report['written'])} files written, {len(report['removed'])} removed, {report['unchanged']} unchanged"


def main() -> None:
    """Print the three figures."""
    with tempfile.TemporaryDirectory(prefix="coach-bench-publish-") as folder:
        routines = Path(folder) / "routines"
        routines.mkdir()
        for name in ("post-run.yaml", "pre-run.yaml"):
            shutil.copyfile(ROOT / "scripts" / name, routines / name)
        site = Path(folder) / "site"
        publish(routines, Path(folder) / "warm-up")  # the speech cache and MP3 chunks warm, as after a coach serve
        print(line("first publish of the built-ins into an empty folder (warm speech cache)", *publish(routines, site)))
        print(line("unchanged republish", *publish(routines, site)))
        path = routines / "post-run.yaml"
        path.write_text(path.read_text().replace(EDITED_LINE, "First position, for the front of the thigh."))
        print(line("republish after a one-cue edit of post-run", *publish(routines, site)))


if __name__ == "__main__":
    main()
