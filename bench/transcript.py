"""How a plan reads aloud: number of cues, total speech seconds and the most repeated phrases.

    .venv/bin/coach plan post-run --json | .venv/bin/python bench/transcript.py
    .venv/bin/python bench/transcript.py tests/golden/post-run.espeak.json
"""

from __future__ import annotations

import json
import sys
from collections import Counter


def main() -> None:
    """Print the figures for the plan JSON named on the command line, or read from stdin."""
    source = open(sys.argv[1], encoding="utf-8") if len(sys.argv) > 1 else sys.stdin
    cues = json.load(source)["cues"]
    speech = sum(cue["end"] - cue["start"] for cue in cues)
    print(f"cues: {len(cues)}  distinct: {len({cue['text'] for cue in cues})}  speech: {speech:.1f} s")
    for text, count in Counter(cue["text"] for cue in cues).most_common(5):
        print(f"  {count:3d}x  {text}")


if __name__ == "__main__":
    main()
