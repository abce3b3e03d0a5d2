"""Routines made for the benchmarks: a synthetic hour, longer than any built-in."""

from __future__ import annotations

SYNTHETIC_EXERCISES = 12  # about an hour with the steps below


def synthetic_routine(exercises: int = SYNTHETIC_EXERCISES) -> str:
    """A routine of about an hour: every exercise two sides of counted breaths, a 45 s hold and slow breathing."""
    lines = [
        "title: Synthetic hour",
        "about: A long routine for the export benchmark.",
        "credit: coach bench",
        "pace: {breath: 4s, rest: 20s, switch: 8s, countdown: 3, halfway: 30s}",
        "exercises:",
    ]
    for n in range(1, exercises + 1):
        lines += [
            f"  - name: Exercise {n}",
            f"    setup: Set up for exercise number {n}, with the {{side}} foot forward.",
            "    sides: [left, right]",
            "    steps:",
            f"      - say: Settle into position {n} on the {{side}} side.",
            "      - repeat: 6",
            "        count: true",
            "        steps:",
            f"          - inhale: Lift and lengthen, movement {n}.",
            "          - exhale: Fold over the {side} thigh.",
            "      - hold: 45s",
            "        say: Hold here, breathing slowly.",
            "      - breathe: 4",
        ]
    return "\n".join(lines) + "\n"
