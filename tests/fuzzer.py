"""The routine fuzzer: mutated routines through the loader and compiler (what `coach check --quick` runs).

Only the library's typed errors may come out, and each input must finish within a CPU-time budget.
tests/test_fuzz.py runs a few thousand inputs in the suite; `make fuzz` runs 100,000 and prints the figures:

    .venv/bin/python tests/fuzzer.py --inputs 100000 --seed 1
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach.timeline.compiler import compile_routine  # noqa: E402
from coach.errors import CoachError  # noqa: E402
from coach.routine.loader import MAX_FILE_BYTES, parse_routine  # noqa: E402

SEEDS = sorted((ROOT / "tests" / "data" / "good").glob("*.yaml")) + sorted((ROOT / "scripts").glob("*.yaml"))
# YAML punctuation, the format's words, and the shapes that broke coach before (issue 9).
PIECES = [
    "\n", "\n  ", "\n    ", "\n      - ", " ", "\t", ": ", "- ", "[", "]", "{", "}", ", ", "&a ", "*a", "&b ", "*b",
    "!!str ", "!!float ", "!!int ", "!!bool ", "!!null ", "!!timestamp ", "!!binary ", "!x ", '!!float ""', "!!float _",
    '!!int ""', "!!int 0b", "!!float 1:", "'", '"', "#", "|\n  ", ">\n  ", "---\n", "...", "<<: ", "~", "true", "0",
    "-5", "45s", "1:75", "2.5", "1h 5m", "0x1F", "1_000", ".inf", ".nan", "1e999", "-", "...", "\u200b", "\u3000",
    "title", "exercises", "name", "steps", "say", "hold", "inhale", "exhale", "breath", "breathe", "repeat", "count",
    "rest", "sides", "rounds", "pace", "voice", "rate", "phrases", "halfway", "countdown", "switch", "note", "say_note",
    "setup", "{side}", "{rep}", "{reps}", "{other}", "{", "}", "\x00", "\x07", "\ufeff", "\U0001f600", "é",
    "repeat: 100\n        steps:\n          - ", "hold: 3h", "say: " + "word " * 150,
]
# Values swapped in for a key's own: the hostile scalars of every type.
VALUES = [
    '!!float ""', "!!float _", "!!float -", '!!int ""', "!!int _", "!!int 0b", "!!int 0x", "!!float 1:", "!!int 1:",
    "!!bool maybe", "!!null x", "!!timestamp 2026-13-45", "!!str", "''", '""', "~", "[]", "{}", "-1", "0", "1e999",
    ".nan", "-.inf", "1:60", "99:99:99", "1h 70m", "1.5m 30s", "'" + "1" * 5000 + "'", "1" * 300, '"-"', '"..."',
    '"\u200b"', '"\u3000"', "*a", "&a x", "yes", "0o17", "1_0", "+.5", "3h", "10801", "101", "1000000",
]
_KEY_VALUE = re.compile(r"(?m)(?<=: )[^\n]+$")
BIG_PIECES = ["1", "[", "{a: ", "- ", "k: 1\n", "[1, ", "x", "*a, ", "&a [*a] ", ":"]


@dataclass
class Figures:
    """What a fuzz run saw."""

    inputs: int = 0
    accepted: int = 0
    rejected: int = 0
    crashes: list[tuple[str, str]] = field(default_factory=list)  # (input, what escaped)
    slowest: float = 0.0  # CPU seconds of the slowest input
    slowest_input: str = ""
    over_budget: list[tuple[str, float]] = field(default_factory=list)


def mutate(rng: random.Random, text: str) -> str:
    """A seed with a few random edits; now and then one piece repeated thousands of times (size limits, parsers' speed)."""
    for _ in range(rng.randint(1, 6)):
        where = rng.randint(0, len(text))
        edit = rng.random()
        values = list(_KEY_VALUE.finditer(text)) if 0.8 <= edit < 0.95 else []
        if values:
            found = rng.choice(values)
            text = text[: found.start()] + rng.choice(VALUES) + text[found.end() :]
        elif edit < 0.02:
            piece = rng.choice(BIG_PIECES) * rng.choice([100, 1000, 10_000, 50_000])
            text = text[:where] + piece[: MAX_FILE_BYTES - len(text)] + text[where:]
        elif edit < 0.45:
            text = text[:where] + rng.choice(PIECES) + text[where:]
        elif edit < 0.7:
            text = text[:where] + text[where + rng.randint(1, 8) :]
        elif edit < 0.8:
            text = text[:where] + rng.choice(PIECES) + text[where + rng.randint(1, 6) :]
        elif not values and edit < 0.95:
            text = text[:where] + rng.choice(VALUES) + text[where:]
        elif edit >= 0.95:  # a line or a span moved elsewhere: the indentation mistakes people make
            start = rng.randint(0, len(text))
            span = text[start : start + rng.randint(1, 80)]
            text = text[:where] + span + text[where:]
    return text


def check_one(text: str) -> tuple[str, str | None]:
    """('accepted' | 'rejected' | 'crash', what escaped for a crash)."""
    try:
        compile_routine(parse_routine(text.encode("utf-8", "surrogatepass"), "fuzz.yaml"))
    except CoachError:
        return "rejected", None
    except BaseException as error:  # noqa: BLE001 - anything else escaping is the defect being looked for
        if isinstance(error, KeyboardInterrupt):
            raise
        return "crash", f"{type(error).__name__}: {error}"[:300]
    return "accepted", None


def cpu_seconds() -> float:
    """CPU time of this thread alone: other threads of the process (a test's leftover worker) must not count."""
    return time.thread_time()


def run(inputs: int, seed: int, budget: float) -> Figures:
    """Fuzz `inputs` mutated routines from `seed`; each must finish within `budget` CPU seconds."""
    rng = random.Random(seed)
    seeds = [path.read_text(encoding="utf-8") for path in SEEDS]
    figures = Figures()
    for _ in range(inputs):
        text = mutate(rng, rng.choice(seeds))
        started = cpu_seconds()
        outcome, escaped = check_one(text)
        spent = cpu_seconds() - started
        figures.inputs += 1
        if outcome == "accepted":
            figures.accepted += 1
        elif outcome == "rejected":
            figures.rejected += 1
        else:
            figures.crashes.append((text, escaped or ""))
        if spent > figures.slowest:
            figures.slowest, figures.slowest_input = spent, text
        if spent > budget:
            figures.over_budget.append((text, spent))
    return figures


def shown(text: str, limit: int = 300) -> str:
    """An input as a report shows it: repr, cut in the middle when long."""
    quoted = repr(text)
    return quoted if len(quoted) <= limit else quoted[: limit // 2] + f" ...({len(text)} characters)... " + quoted[-limit // 2 :]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget", type=float, default=1.0, help="CPU seconds allowed per input")
    args = parser.parse_args()
    started = time.perf_counter()
    figures = run(args.inputs, args.seed, args.budget)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"inputs: {figures.inputs} (seed {args.seed}, {figures.inputs / elapsed:.0f} a second)")
    print(f"accepted: {figures.accepted}")
    print(f"rejected: {figures.rejected}")
    print(f"crashes: {len(figures.crashes)}")
    print(f"slowest: {figures.slowest:.3f} s CPU ({len(figures.slowest_input)} characters)")
    print(f"over the {args.budget:g} s budget: {len(figures.over_budget)}")
    print(f"peak memory: {peak:.0f} MB")
    for text, escaped in figures.crashes[:5]:
        print(f"crash: {escaped}\n  input: {shown(text)}")
    for text, spent in figures.over_budget[:5]:
        print(f"slow: {spent:.3f} s\n  input: {shown(text)}")
    return 1 if figures.crashes or figures.over_budget else 0


if __name__ == "__main__":
    sys.exit(main())
