"""Chapter cards: all of post-run's cards drawn cold (an empty cache) and read warm, and what they add to the MP3.

    .venv/bin/python bench/cards.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 0.3
TARGET_GROWTH = 0.05


def main() -> int:
    """Print the cold and warm times of post-run's cards and the MP3's growth; exit 1 past a target."""
    started = time.perf_counter()
    from coach import session
    from coach.output import cards, id3
    from coach.speech.cache import default_directory

    imported = time.perf_counter() - started
    routine = session.load("post-run")
    prepared = session.prepare(routine, session.speech_settings(routine, engine="espeak"), default_directory())
    timeline = prepared.timeline
    with tempfile.TemporaryDirectory(prefix="coach-bench-cards-") as scratch:
        cache = Path(scratch) / "cache"
        first, first_cpu = time.perf_counter(), time.process_time()
        made = cards.chapter_cards(routine, timeline, cache)
        cold, cold_cpu = time.perf_counter() - first, time.process_time() - first_cpu
        again = time.perf_counter()
        cards.chapter_cards(routine, timeline, cache)
        warm = time.perf_counter() - again
        from coach.output.export import ExportOptions

        target = Path(scratch) / "post-run.mp3"
        prepared.export(target, ExportOptions(format="mp3", transcript=False))
        size = target.stat().st_size
    chapters = [(c.title, c.start_ms, c.end_ms) for c in timeline.chapters]
    growth = len(id3.chapter_frames(chapters, made)) - len(id3.chapter_frames(chapters))
    share = growth / (size - growth)
    print(f"cards: {sum(1 for card in made if card)} of {len(made)} chapters, {sum(len(c) for c in made if c) / 1024:.0f} KB "
          f"(coach imported in {imported:.2f} s)")
    print(f"  cold (empty cache): {cold:.3f} s ({cold_cpu:.3f} CPU s)   warm: {warm:.4f} s   (target <= {TARGET_SECONDS} s)")
    print(f"  MP3: {size / 1e6:.2f} MB, the cards add {growth / 1024:.0f} KB: {share * 100:.2f} % (target <= {TARGET_GROWTH * 100:.0f} %)")
    return 0 if cold_cpu <= TARGET_SECONDS and share <= TARGET_GROWTH else 1  # CPU time: the wall clock waits for other load


if __name__ == "__main__":
    sys.exit(main())
