"""The standing fuzz check: a few thousand mutated routines, seeded, through the loader and compiler.

Only CoachError may escape, and no input may take more than BUDGET CPU seconds (CPU time, not wall
time: the machine is shared). `make fuzz` runs the same fuzzer on 100,000 inputs.
"""

from __future__ import annotations

from fuzzer import check_one, run, shown

INPUTS = 2000
SEED = 7  # a failure reproduces with: .venv/bin/python tests/fuzzer.py --inputs 2000 --seed 7
# CPU seconds. The slowest input takes 0.2 s on a quiet machine, and measured 0.5 s once in a full run while
# other jobs loaded the host (in a virtual machine, CPU time includes what the host takes from it);
# quadratic parsing took seconds.
BUDGET = 1.0


def test_mutated_routines_give_a_routine_or_a_typed_error_within_the_budget():
    figures = run(INPUTS, SEED, BUDGET)
    assert figures.inputs == INPUTS and figures.accepted and figures.rejected
    assert not figures.crashes, "\n".join(f"{escaped}: {shown(text)}" for text, escaped in figures.crashes[:3])
    assert not figures.over_budget, "\n".join(f"{spent:.2f} s: {shown(text)}" for text, spent in figures.over_budget[:3])


def test_the_fuzzer_counts_an_escaping_exception_as_a_crash():
    outcome, escaped = check_one("title: T\nexercises:\n  - name: E\n    steps:\n      - hold: 5s\n")
    assert (outcome, escaped) == ("accepted", None)
    assert check_one("title: [")[0] == "rejected"
