"""The loader: bad routines give exact, located diagnostics (all of them, in file order); good ones the exact model."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from coach.routine import loader
from coach.errors import Diagnostic, RoutineError
from coach.routine.loader import parse_routine
from coach.routine.model import Breath, Breathe, Exercise, Hold, Pace, Repeat, Rest, Routine, Say, Voice, Where

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def problems(data: str | bytes) -> list[str]:
    """Every diagnostic parse_routine raises for `data`, as the CLI prints it."""
    with pytest.raises(RoutineError) as caught:
        parse_routine(data, "r.yaml")
    assert caught.value.diagnostics, "a RoutineError must carry at least one diagnostic"
    return [str(diagnostic) for diagnostic in caught.value.diagnostics]


def steps(*lines: str, exercise: str = "") -> str:
    """A routine whose one exercise has these step lines (the first step is on line 5, or later by `exercise`)."""
    head = "title: T\nexercises:\n  - name: E\n" + exercise + "    steps:\n"
    return head + "".join(f"      {line}\n" for line in lines)


def at(line: int, col: int, message: str) -> str:
    return f"r.yaml:{line}:{col}: error: {message}"


USE = "use 45, 45s, 1m, 1m30s or 1:30"
KINDS = "'say', 'hold', 'inhale', 'exhale', 'breathe', 'repeat' or 'rest'"
BRACES = "(use a plain name such as {side}; write '{{' and '}}' for braces)"

BAD = {
    "template mistakes inside folded and literal blocks, each at its own line and column": (
        "title: T\nexercises:\n  - name: E\n    sides: [left, right]\n    steps:\n      - say: >-\n"
        "          First line, long enough\n          to fold. Then {sdie} is\n          a typo and {oter} too.\n"
        "      - say: |\n          fine {side}\n          bad {rpe} and a {\n",
        [
            at(8, 25, "say: unknown template name '{sdie}' (did you mean '{side}'?)"),
            at(9, 22, "say: unknown template name '{oter}' (did you mean '{other}'?)"),
            at(12, 27, "say: a '{' without its '}' (write '{{' for a brace)"),
        ],
    ),
    "a template mistake in a double-quoted text spread over lines": (
        'title: T\nexercises:\n  - name: E\n    steps:\n      - say: "Go\n          now {sid}"\n',
        [at(6, 15, "say: unknown template name '{sid}' (did you mean '{side}'?)")],
    ),
    "pronounce and side_names of the wrong shape": (
        "title: T\npronounce: [90/90]\nside_names: top\nexercises:\n  - name: E\n    steps: [say: Go.]\n",
        [
            at(2, 12, "pronounce: expected a mapping of written text to spoken text, got a list"),
            at(3, 13, "side_names: expected a list of side labels such as [top, bottom], got a string"),
        ],
    ),
    "pronounce entries must be texts": (
        "title: T\npronounce:\n  90/90: ''\n  1: one\nexercises:\n  - name: E\n    steps: [say: Go.]\n",
        [
            at(3, 10, "pronounce.90/90: must not be empty"),
            at(4, 3, "pronounce: expected a string, got a number (put it in quotes to use it as text)"),
        ],
    ),
    "unknown key, close to a known one": (
        "title: T\nexercises:\n  - name: E\n    sidess: [left, right]\n    steps:\n      - say: Go.\n",
        [at(4, 5, "unknown key 'sidess' in exercise (did you mean 'sides'?)")],
    ),
    "unknown key, nothing close": (
        "title: T\ntempo: fast\nexercises:\n  - name: E\n    steps: [say: Go.]\n",
        [at(2, 1, "unknown key 'tempo' in routine")],
    ),
    "unknown key, in another case": (
        "Title: T\nexercises:\n  - name: E\n    steps: [say: Go.]\n",
        [
            at(1, 1, "unknown key 'Title' in routine (did you mean 'title'?)"),
            at(1, 1, "missing required key 'title' in routine"),
        ],
    ),
    "name instead of title": (
        "name: T\nexercises:\n  - name: E\n    steps: [say: Go.]\n",
        [
            at(1, 1, "unknown key 'name' in routine (the routine's name goes in 'title')"),
            at(1, 1, "missing required key 'title' in routine"),
        ],
    ),
    "a step key on the exercise": (
        "title: T\nexercises:\n  - name: E\n    hold: 30s\n    steps: [say: Go.]\n",
        [at(4, 5, "unknown key 'hold' in exercise (steps go in the exercise's 'steps' list)")],
    ),
    "missing title, at the routine's mapping": (
        "# a comment first\nexercises:\n  - name: E\n    steps: [say: Go.]\n",
        [at(2, 1, "missing required key 'title' in routine")],
    ),
    "missing name and steps, at the exercise's mapping": (
        "title: T\nexercises:\n  - note: Careful.\n",
        [
            at(3, 5, "missing required key 'name' in exercise"),
            at(3, 5, "missing required key 'steps' in exercise"),
        ],
    ),
    "empty and blank strings": (
        "title: ''\nabout: '   '\nexercises:\n  - name: E\n    steps: [say: Go.]\n",
        [at(1, 8, "title: must not be empty"), at(2, 8, "about: must not be empty")],
    ),
    "steps as a string": (
        "title: T\nexercises:\n  - name: E\n    steps: Go.\n",
        [at(4, 12, "steps: expected a list of steps, got a string")],
    ),
    "exercises as a mapping": (
        "title: T\nexercises:\n  name: E\n",
        [at(3, 3, "exercises: expected a list of exercises, got a mapping")],
    ),
    "no exercises": (
        "title: T\nexercises: []\n",
        [at(2, 12, "exercises: needs at least one exercise")],
    ),
    "no steps": (
        "title: T\nexercises:\n  - name: E\n    steps: []\n",
        [at(4, 12, "steps: needs at least one step")],
    ),
    "an exercise that is a string": (
        "title: T\nexercises:\n  - Couch stretch\n",
        [at(3, 5, "expected an exercise (a mapping with 'name' and 'steps'), got a string")],
    ),
    "a document that is a list": (
        "- title: T\n",
        [at(1, 1, "expected a routine (a mapping with 'title' and 'exercises'), got a list")],
    ),
    "a document that is a scalar": (
        "just some words\n",
        [at(1, 1, "expected a routine (a mapping with 'title' and 'exercises'), got a string")],
    ),
    "a document that is null": (
        "~\n",
        [at(1, 1, "expected a routine (a mapping with 'title' and 'exercises'), got nothing")],
    ),
    "an empty file": ("", [at(1, 1, "empty file: a routine needs at least 'title' and 'exercises'")]),
    "only comments": (
        "# nothing yet\n\n",
        [at(1, 1, "empty file: a routine needs at least 'title' and 'exercises'")],
    ),
    "only a document marker": (
        "---\n",
        [at(1, 1, "empty file: a routine needs at least 'title' and 'exercises'")],
    ),
    "two documents": (
        "title: T\nexercises: []\n---\ntitle: U\n",
        [
            at(2, 12, "exercises: needs at least one exercise"),
            at(3, 1, "a second YAML document: a routine file holds one (remove the '---')"),
        ],
    ),
    "bad durations in steps": (
        steps(
            "- hold: abc",
            "- hold: -5",
            "- hold: 0",
            "- rest: 1m90s",
            "- hold: 4h",
            "- inhale: Up.",
            "  breath: 0s",
            "- hold: [30]",
            "- rest: true",
            "- rest: 0",
        ),
        [
            at(5, 15, f"hold: bad duration 'abc' ({USE})"),
            at(6, 15, "hold: bad duration -5 (must not be negative)"),
            at(7, 15, "hold: must be longer than 0 seconds"),
            at(8, 15, "rest: bad duration '1m90s' (seconds must be under 60 after minutes or hours)"),
            at(9, 15, "hold: must be at most 3 hours, got '4h'"),
            at(11, 17, "breath: must be longer than 0 seconds"),
            at(12, 15, f"hold: expected a duration ({USE}), got a list"),
            at(13, 15, f"rest: expected a duration ({USE}), got a boolean"),
            at(14, 15, "rest: must be longer than 0 seconds"),
        ],
    ),
    "pace out of range": (
        "title: T\npace:\n  breath: 0\n  rest: 1:75\n  switch: -1\n  countdown: 11\n  halfway: 0\n"
        "exercises:\n  - name: E\n    steps: [say: Go.]\n",
        [
            at(3, 11, "pace.breath: must be longer than 0 seconds"),
            at(4, 9, "pace.rest: bad duration '1:75' (after ':' write two digits under 60, as in 1:05)"),
            at(5, 11, "pace.switch: bad duration -1 (must not be negative)"),
            at(6, 14, "pace.countdown: must be between 0 and 10, got 11"),
            at(7, 12, "pace.halfway: must be longer than 0 seconds (use false to turn it off)"),
        ],
    ),
    "pace of the wrong types": (
        "title: T\npace: {halfway: true, countdown: 2.5, breath: '1.5h30m', tempo: 3}\n"
        "exercises:\n  - name: E\n    steps: [say: Go.]\n",
        [
            at(2, 17, f"pace.halfway: expected a duration ({USE}) or false, got a boolean"),
            at(2, 34, "pace.countdown: expected a whole number, got 2.5"),
            at(2, 47, "pace.breath: bad duration '1.5h30m' (only the last part may have a fraction)"),
            at(2, 58, "unknown key 'tempo' in pace"),
        ],
    ),
    "pace that is not a mapping": (
        "title: T\npace: slow\nexercises:\n  - name: E\n    steps: [say: Go.]\n",
        [at(2, 7, "pace: expected a mapping of timings, got a string")],
    ),
    "voice": (
        "title: T\nvoice: {name: '', rate: 50}\nexercises:\n  - name: E\n    steps: [say: Go.]\n",
        [at(2, 15, "voice.name: must not be empty"), at(2, 25, "voice.rate: must be between 80 and 450, got 50")],
    ),
    "voice engine unknown": (
        "title: T\nvoice: {engine: festival}\nexercises:\n  - name: E\n    steps: [say: Go.]\n",
        [at(2, 17, "voice.engine: unknown engine 'festival' (choose from espeak, hibari, piper, pyttsx3)")],
    ),
    "voice rate as text": (
        "title: T\nvoice: {rate: fast, speed: 2}\nexercises:\n  - name: E\n    steps: [say: Go.]\n",
        [at(2, 15, "voice.rate: expected a whole number, got a string"), at(2, 21, "unknown key 'speed' in voice")],
    ),
    "counts out of range": (
        steps(
            "- repeat: 101",
            "  steps: [say: Go.]",
            "- breathe: 0",
            "- breathe: 2.5",
            "- repeat: 3",
            "  count: 3",
            "  steps: [say: Go.]",
            exercise="    rounds: 21\n",
        ),
        [
            at(4, 13, "rounds: must be between 1 and 20, got 21"),
            at(6, 17, "repeat: must be between 1 and 100, got 101"),
            at(8, 18, "breathe: must be between 1 and 100, got 0"),
            at(9, 18, "breathe: expected a whole number, got 2.5"),
            at(11, 16, "count: expected true or false, got a number (the number of repetitions goes after 'repeat:')"),
        ],
    ),
    "sides": (
        "title: T\nexercises:\n"
        "  - name: A\n    sides: [left, right, up, down, back]\n    steps: [say: Go.]\n"
        "  - name: B\n    sides: [left, Left, '']\n    steps: [say: Go.]\n"
        "  - name: C\n    sides: []\n    steps: [say: Go.]\n"
        "  - name: D\n    sides: left\n    steps: [say: Go.]\n",
        [
            at(4, 12, "sides: too many sides (5, at most 4)"),
            at(7, 19, "sides: 'Left' is listed twice"),
            at(7, 25, "sides: must not be empty"),
            at(10, 12, "sides: needs at least one side"),
            at(13, 12, "sides: expected a list of sides such as [left, right], got a string"),
        ],
    ),
    "say_note without a note": (
        "title: T\nexercises:\n  - name: E\n    say_note: true\n    steps: [say: Go.]\n",
        [at(4, 5, "say_note: there is no 'note' to say")],
    ),
    "template names that do not exist or do not fit": (
        steps(
            "- say: '{sied} foot'",
            "- say: '{foo}'",
            "- say: '{side} and {rep}'",
            "- hold: 5s",
            "  say: 'Hold {reps}'",
            exercise="    setup: 'Your {other} foot'\n    note: 'Mind the {Side} knee'\n",
        ),
        [
            at(4, 18, "setup: '{other}' can only be used in an exercise with two or more 'sides'"),
            at(5, 21, "note: '{Side}' can only be used in an exercise with 'sides'"),
            at(7, 15, "say: unknown template name '{sied}' (did you mean '{side}'?)"),
            at(
                8,
                15,
                "say: unknown template name '{foo}' "
                "(use {side}, {Side}, {other}, {Other}, {rep}, {reps}, {round} or {rounds})",
            ),
            at(9, 15, "say: '{side}' can only be used in an exercise with 'sides'"),
            at(9, 26, "say: '{rep}' can only be used inside a 'repeat'"),
            at(11, 20, "say: '{reps}' can only be used inside a 'repeat'"),
        ],
    ),
    "{other} with one side": (
        steps("- say: '{side} then {Other}'", "- exhale: 'Over the {other} leg'", exercise="    sides: [left]\n"),
        [
            at(6, 27, "say: '{Other}' can only be used in an exercise with two or more 'sides'"),
            at(7, 27, "exhale: '{other}' can only be used in an exercise with two or more 'sides'"),
        ],
    ),
    "malformed templates": (
        steps("- say: 'a { b'", "- say: 'a } b'", "- say: '{a.b}'", "- say: '{0}'", "- inhale: '{side!r}'"),
        [
            at(5, 17, "say: a '{' without its '}' (write '{{' for a brace)"),
            at(6, 17, "say: a '}' without its '{' (write '}}' for a brace)"),
            at(7, 15, f"say: bad template field {{a.b}} {BRACES}"),
            at(8, 15, f"say: bad template field {{0}} {BRACES}"),
            at(9, 18, f"inhale: bad template field {{side!r}} {BRACES}"),
        ],
    ),
    "phrase overrides": (
        "title: T\nphrases:\n  hodl: Hold on.\n  hold: Hold for {secs}.\n  halfway: Half {way}.\n"
        "  rest: ''\n  rep: '{rep'\nexercises:\n  - name: E\n    steps: [say: Go.]\n",
        [
            at(3, 3, "unknown key 'hodl' in phrases (did you mean 'hold'?)"),
            at(4, 18, "phrases.hold: unknown template name '{secs}' (use {duration} or {seconds})"),
            at(5, 17, "phrases.halfway: unknown template name '{way}' (this phrase takes no names)"),
            at(6, 9, "phrases.rest: must not be empty"),
            at(7, 9, "phrases.rep: a '{' without its '}' (write '{{' for a brace)"),
        ],
    ),
    "step kinds": (
        steps(
            "- breath: 4s",
            "- sya: Hi.",
            "- inhale: Up.",
            "  exhale: Down.",
            "- say: Go.",
            "  count: true",
            "- hold: 5s",
            "  breath: 3",
            "- inhale: Up.",
            "  say: Now.",
            "- repeat: 2",
            "- steps: [say: x]",
            "- Tuck the pelvis.",
            "- {}",
        ),
        [
            at(5, 9, f"a step needs one of {KINDS}"),
            at(6, 9, "unknown key 'sya' in step (did you mean 'say'?)"),
            at(8, 9, "'exhale' cannot be in the same step as 'inhale' (make it a step of its own)"),
            at(10, 9, "'count' is not allowed in a 'say' step (only with 'repeat')"),
            at(12, 9, "'breath' is not allowed in a 'hold' step (only with 'inhale' or 'exhale')"),
            at(14, 9, "'say' is not allowed in an 'inhale' step (only with 'hold' or 'rest')"),
            at(15, 9, "missing required key 'steps' in 'repeat' step"),
            at(16, 9, f"a step needs one of {KINDS} ('steps' needs 'repeat: N')"),
            at(17, 9, "expected a step (a mapping such as 'say: ...' or 'hold: 30s'), got a string"),
            at(18, 9, f"a step needs one of {KINDS}"),
        ],
    ),
    "text that YAML reads as something else": (
        steps("- say: 10", "- say: yes", "- say:", "- say: [a]", "- say: 2024-05-01"),
        [
            at(5, 14, "say: expected a string, got a number (put it in quotes to use it as text)"),
            at(6, 14, "say: expected a string, got a boolean (put it in quotes to use it as text)"),
            at(7, 13, "say: expected a string, got nothing"),
            at(8, 14, "say: expected a string, got a list"),
            at(9, 14, "say: expected a string, got a date (put it in quotes to use it as text)"),
        ],
    ),
    "repeats nested too deep": (
        steps(
            "- repeat: 2",
            "  steps:",
            "    - repeat: 2",
            "      steps:",
            "        - repeat: 2",
            "          steps:",
            "            - repeat: 2",
            "              steps:",
            "                - repeat: 2",
            "                  steps: [say: deep]",
        ),
        [at(13, 25, "repeat: nested too deep (at most 4 repeats inside each other)")],
    ),
    "text too long": (
        steps("- say: " + "x" * 1001),
        [at(5, 14, "say: too long (1001 characters, at most 1000)")],
    ),
    "a control character": (steps('- say: "a\\x07b"'), [at(5, 14, "say: contains a control character (U+0007)")]),
    "invalid UTF-8, at its line and column": (
        b"title: caf\xc3\xa9\nexercises:\n  - name: \xc3\xa9E\xff\n    steps: [say: Go.]\n",
        [at(3, 13, "not valid UTF-8 (byte 0xff): save the file as UTF-8")],
    ),
    "UTF-16": ("title: T\n".encode("utf-16"), [at(1, 1, "the file is UTF-16: save it as UTF-8")]),
    "a character YAML refuses": ("title: T\x00\n", [at(1, 9, "character U+0000 is not allowed in a YAML file")]),
    "tab indentation": (
        "title: T\nexercises:\n\t- name: E\n",
        [at(3, 1, "a tab character where YAML needs spaces: indent with spaces, not tabs")],
    ),
    "an unclosed quote, at the quote": (
        "title: T\nexercises:\n  - name: 'Couch\n    steps: []\n",
        [at(3, 11, "invalid YAML: a quoted text is not closed")],
    ),
    "': ' inside plain text": (
        steps("- say: Note: this hurts."),
        [at(5, 18, "invalid YAML: unexpected ':' (put a text containing ': ' in quotes, or check the indentation)")],
    ),
    "misaligned list items": (
        steps("- say: a", " - say: b"),
        [at(6, 8, "invalid YAML: bad indentation (items of one list or mapping must start in the same column)")],
    ),
    "a value starting with a reserved character": (
        steps("- say: @home"),
        [at(5, 14, "invalid YAML: a value cannot start with '@' (put the text in quotes)")],
    ),
    "an undefined alias": (steps("- say: *nope"), [at(5, 14, "invalid YAML: found undefined alias 'nope'")]),
    "duplicate keys, at the second one": (
        "title: T\ntitle: U\nexercises:\n  - name: E\n    steps:\n      - say: a\n        say: b\n",
        [at(2, 1, "duplicate key 'title' (first on line 1)"), at(7, 9, "duplicate key 'say' (first on line 6)")],
    ),
    "tags other than the standard ones": (
        "title: !!binary aGk=\nabout: !!python/object:os.system x\n"
        "exercises: !mine\n  - name: E\n    steps: [say: Go.]\n",
        [
            at(1, 8, "unsupported YAML tag '!!binary'"),
            at(2, 8, "unsupported YAML tag '!!python/object:os.system'"),
            at(3, 12, "unsupported YAML tag '!mine'"),
        ],
    ),
    "a standard tag on the wrong kind of node": (
        "title: !!str [T]\nexercises:\n  - name: E\n    steps: [say: Go.]\n",
        [at(1, 8, "unsupported YAML tag '!!str'")],
    ),
    "merge keys": (
        "base: &b {name: E}\ntitle: T\nexercises:\n  - <<: *b\n    steps: [say: Go.]\n",
        [
            at(1, 1, "unknown key 'base' in routine"),
            at(4, 5, "merge keys ('<<') are not supported: write the keys out"),
            at(4, 5, "missing required key 'name' in exercise"),
        ],
    ),
    "a key that is a list": (
        "title: T\n[a]: 1\nexercises:\n  - name: E\n    steps: [say: Go.]\n",
        [at(2, 1, "a key must be a name, got a list")],
    ),
    "nesting deeper than YAML_DEPTH": (
        "title: T\nabout: " + "[" * 70 + "]" * 70 + "\n",
        [at(2, 71, "document nested more than 64 levels deep")],
    ),
    "several mistakes in one run, in file order": (
        textwrap.dedent(
            """\
            title: Post-run
            pace:
              breath: 4 seconds
            exercises:
              - name: Couch stretch
                sides: [left, right]
                rounds: 0
                steps:
                  - say: "{Side} foot on the wall."
                  - hold: 45s
                    say: Hold, {sied}.
                  - inhale: Lift.
                    exhale: Fold.
              - name: Fish
                steps:
                  - breathe: 12
                    count: true
                  - sya: Twist.
            """
        ),
        [
            at(3, 11, f"pace.breath: bad duration '4 seconds' ({USE})"),
            at(7, 13, "rounds: must be between 1 and 20, got 0"),
            at(11, 20, "say: unknown template name '{sied}' (did you mean '{side}'?)"),
            at(13, 9, "'exhale' cannot be in the same step as 'inhale' (make it a step of its own)"),
            at(17, 9, "'count' is not allowed in a 'breathe' step (only with 'repeat')"),
            at(18, 9, "unknown key 'sya' in step (did you mean 'say'?)"),
        ],
    ),
}


@pytest.mark.parametrize(("text", "expected"), BAD.values(), ids=BAD.keys())
def test_bad_routines_report_every_problem_at_its_place(text, expected):
    assert problems(text) == expected


def where(line: int, col: int) -> Where:
    return Where("r.yaml", line, col)


GOOD = {
    "the smallest routine": (
        "title: T\nexercises:\n  - name: E\n    steps:\n      - say: Go.\n",
        Routine(
            title="T",
            exercises=(Exercise("E", (Say("Go.", where(5, 9)),), where=where(3, 5)),),
            source="r.yaml",
        ),
    ),
    "every step kind, durations in every form": (
        textwrap.dedent(
            """\
            title: Post-run mobility
            about: >-
              Static stretches
              after a run.
            credit: A physio
            voice: {name: gmw/en-us, rate: 160}
            pace:
              breath: 4s
              rest: 1:30
              switch: 8
              countdown: 0
              halfway: false
            phrases:
              hold: Hold {duration}.
              halfway: Half way.
            exercises:
              - name: Couch stretch
                note: "Stop if the {side} knee hurts."
                say_note: yes
                setup: Place your {side} foot on the wall.
                sides: [left, right]
                rounds: 2
                rest: 1m30s
                steps:
                  - say: "{Side} foot up, {other} knee down, round {round} of {rounds}."
                  - hold: 45
                    say: Hold.
                  - hold: 2.5s
                  - inhale: Lift the belly.
                    breath: 5
                  - exhale: Fold over the {side} thigh.
                  - breathe: 10
                  - repeat: 6
                    count: true
                    steps:
                      - inhale: "Up, {rep} of {reps}."
                        breath: 0:03
                      - repeat: 2
                        steps: [{rest: 1h}]
                  - rest: 1h 5m
              - {name: Fish, steps: [{say: Twist.}], rest: 0}
            """
        ),
        Routine(
            title="Post-run mobility",
            about="Static stretches after a run.",
            credit="A physio",
            voice=Voice("gmw/en-us", 160, where(6, 15)),
            pace=Pace(breath=4.0, rest=90.0, switch=8.0, countdown=0, halfway=None),
            phrases={"hold": "Hold {duration}.", "halfway": "Half way."},
            exercises=(
                Exercise(
                    name="Couch stretch",
                    note="Stop if the {side} knee hurts.",
                    say_note=True,
                    setup="Place your {side} foot on the wall.",
                    sides=("left", "right"),
                    rounds=2,
                    rest=90.0,
                    where=where(17, 5),
                    side_where=(where(21, 13), where(21, 19)),
                    steps=(
                        Say("{Side} foot up, {other} knee down, round {round} of {rounds}.", where(25, 9)),
                        Hold(45.0, "Hold.", where(26, 9)),
                        Hold(2.5, None, where(28, 9)),
                        Breath("in", "Lift the belly.", 5.0, where(29, 9)),
                        Breath("out", "Fold over the {side} thigh.", None, where(31, 9)),
                        Breathe(10, where(32, 9)),
                        Repeat(
                            6,
                            (
                                Breath("in", "Up, {rep} of {reps}.", 3.0, where(36, 13)),
                                Repeat(2, (Rest(3600.0, where=where(39, 22)),), False, where(38, 13)),
                            ),
                            True,
                            where(33, 9),
                        ),
                        Rest(3900.0, where=where(40, 9)),
                    ),
                ),
                Exercise("Fish", (Say("Twist.", where(41, 27)),), rest=0.0, where=where(41, 6)),
            ),
            source="r.yaml",
        ),
    ),
    "pronounce, side names and a spoken rest": (
        "title: T\npronounce: {'90/90': ninety-ninety, ACL: A C L}\nside_names: [top]\nexercises:\n"
        "  - name: E\n    sides: [top, Bottom]\n    steps:\n      - rest: 10s\n        say: Shake it out.\n",
        Routine(
            title="T",
            pronounce={"90/90": "ninety-ninety", "ACL": "A C L"},
            side_names=("top",),
            exercises=(
                Exercise(
                    "E",
                    (Rest(10.0, "Shake it out.", where(8, 9)),),
                    sides=("top", "Bottom"),
                    where=where(5, 5),
                    side_where=(where(6, 13), where(6, 18)),
                ),
            ),
            source="r.yaml",
        ),
    ),
    "halfway as a duration, numbers in YAML's other spellings": (
        "title: T\npace: {halfway: 1m, breath: .5, rest: 010, switch: 1.5e+1}\n"
        "exercises:\n  - name: E\n    rounds: 010\n    steps: [{hold: 1:30}, {say: 'yes'}]\n",
        Routine(
            title="T",
            pace=Pace(breath=0.5, rest=10.0, switch=15.0, halfway=60.0),
            exercises=(
                Exercise(
                    "E", (Hold(90.0, None, where(6, 14)), Say("yes", where(6, 28))), rounds=10, where=where(4, 5)
                ),
            ),
            source="r.yaml",
        ),
    ),
    "literal braces, a byte order mark, surrounding spaces trimmed": (
        "\ufefftitle: '  T  '\nexercises:\n  - name: E\n    steps:\n      - say: |\n          Say {{this}}.\n",
        Routine(
            title="T",
            exercises=(Exercise("E", (Say("Say {{this}}.", where(5, 9)),), where=where(3, 5)),),
            source="r.yaml",
        ),
    ),
    "an anchored step reused through an alias": (
        "title: T\nexercises:\n  - name: E\n    steps:\n      - &lift {inhale: Lift.}\n      - *lift\n",
        Routine(
            title="T",
            exercises=(
                Exercise("E", (Breath("in", "Lift.", None, where(5, 16)),) * 2, where=where(3, 5)),
            ),
            source="r.yaml",
        ),
    ),
}


@pytest.mark.parametrize(("text", "expected"), GOOD.values(), ids=GOOD.keys())
def test_good_routines_give_the_exact_model(text, expected):
    assert parse_routine(text, "r.yaml") == expected


def test_bytes_and_text_give_the_same_routine():
    text = GOOD["every step kind, durations in every form"][0]
    assert parse_routine(text.encode("utf-8"), "r.yaml") == parse_routine(text, "r.yaml")


def test_phrases_are_read_only():
    routine = parse_routine(GOOD["every step kind, durations in every form"][0], "r.yaml")
    with pytest.raises(TypeError):
        routine.phrases["hold"] = "Changed."  # type: ignore[index]


def test_every_diagnostic_is_an_error_with_the_given_path():
    with pytest.raises(RoutineError) as caught:
        parse_routine("title: T\nexercises: []\n", "routines/mine.yaml")
    expected = Diagnostic("routines/mine.yaml", 2, 12, "exercises: needs at least one exercise")
    assert caught.value.diagnostics == (expected,)
    assert caught.value.exit_code == 2


def billion_laughs(levels: int, width: int) -> str:
    """Each level a list of `width` aliases to the one before: width**levels nodes to walk, a few lines to compose."""
    lines = ["title: T", "s0: &s0 [{say: hi}]"]
    for level in range(1, levels + 1):
        lines.append(f"s{level}: &s{level} [" + ", ".join([f"{{repeat: 2, steps: *s{level - 1}}}"] * width) + "]")
    lines.append("exercises:")
    lines += [f"  - {{name: E, steps: *s{levels}}}"] * width
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_stops_with_one_diagnostic():
    found = problems(billion_laughs(levels=4, width=40))
    assert len(found) == 1
    assert found[0].endswith(f": error: document too large: aliases expand past {loader.MAX_NODES} nodes")


def test_a_document_past_the_node_budget_without_aliases_says_so(monkeypatch):
    # The budget is lowered rather than a file of 50,000 nodes composed: PyYAML reads about 100 KB a second.
    monkeypatch.setattr(loader, "MAX_NODES", 40)
    assert problems(steps(*["- say: Go."] * 12)) == [at(15, 9, "document too large: more than 40 nodes")]
    assert parse_routine(steps(*["- say: Go."] * 9), "r.yaml").exercises


def test_a_file_over_the_size_limit_is_refused_before_parsing():
    data = b"title: T\n# " + b"x" * loader.MAX_FILE_BYTES + b"\n"
    assert problems(data) == [at(1, 1, f"file too large ({len(data)} bytes, at most {loader.MAX_FILE_BYTES})")]


@pytest.mark.parametrize(
    ("key", "limit", "singular"),
    [("exercises", loader.MAX_EXERCISES, "exercise"), ("steps", loader.MAX_STEPS, "step")],
)
def test_lists_past_their_limit_are_refused(key, limit, singular):
    one = "{name: E, steps: [say: Go.]}" if key == "exercises" else "{say: Go.}"
    items = ", ".join([one] * (limit + 1))
    text = f"title: T\nexercises: [{items}]\n" if key == "exercises" else steps().rstrip("\n") + f" [{items}]\n"
    line, col = (2, 12) if key == "exercises" else (4, 12)
    assert problems(text) == [at(line, col, f"{key}: too many {key} ({limit + 1}, at most {limit})")]


def test_problems_past_the_cap_are_cut_with_a_last_line_saying_so():
    text = steps(*["- hold: abc"] * (loader.MAX_DIAGNOSTICS + 5))
    found = problems(text)
    assert len(found) == loader.MAX_DIAGNOSTICS + 1
    cap = loader.MAX_DIAGNOSTICS
    assert found[-1] == at(5 + cap, 15, f"too many problems: stopped after the first {cap}")


def test_an_aliased_mistake_is_reported_once():
    text = "title: T\nexercises:\n  - name: E\n    steps:\n      - &bad {hold: abc}\n      - *bad\n      - *bad\n"
    assert problems(text) == [at(5, 21, f"hold: bad duration 'abc' ({USE})")]


@pytest.mark.parametrize("path", sorted((ROOT / "scripts").glob("*.yaml")), ids=lambda path: path.name)
def test_built_in_routines_load(path):
    routine = parse_routine(path.read_bytes(), path.name)
    assert routine.exercises and routine.source == path.name


@pytest.mark.parametrize("path", sorted((DATA / "good").glob("*.yaml")), ids=lambda path: path.name)
def test_good_fixtures_load(path):
    assert parse_routine(path.read_bytes(), path.name).exercises


@pytest.mark.parametrize("path", sorted((DATA / "bad").glob("*.yaml")), ids=lambda path: path.name)
def test_bad_fixtures_report_what_their_first_line_promises(path):
    """Each bad fixture starts with `# expect: LINE:COL: MESSAGE` for its first diagnostic."""
    data = path.read_bytes()
    expected = data.splitlines()[0].decode().removeprefix("# expect: ")
    with pytest.raises(RoutineError) as caught:
        parse_routine(data, path.name)
    assert str(caught.value.diagnostics[0]) == f"{path.name}:{expected.replace(': ', ': error: ', 1)}"


def test_voice_engine_is_optional_and_names_a_speech_engine():
    minimal = "title: T\nexercises:\n  - name: E\n    steps: [say: Go.]\n"
    assert parse_routine(minimal, "r.yaml").voice == Voice()
    chosen = parse_routine("voice: {engine: piper, rate: 150}\n" + minimal, "r.yaml")
    assert chosen.voice == Voice(name=None, rate=150, engine="piper")
