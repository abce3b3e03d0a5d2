"""The JSON Schema (draft 2020-12) of routine format version 1, for editors with a YAML language server.

Built from the loader's own keys and limits and the duration grammar's own pattern, so the two cannot drift.
The loader checks more than a schema can say: template names, `{other}` needing two sides, sides that differ
only in case, repeats nested more than MAX_REPEAT_DEPTH deep, durations written as text
that are zero where they must be longer, or past MAX_DURATION_SECONDS, and ranges whose low end is not
below their high end or whose ends are out of limits. An editor reads YAML 1.2, where `yes`
and `no` are text; the loader, like PyYAML, reads them as true and false.
"""

from __future__ import annotations

from typing import Any

from coach.figure.poses import POSES
from coach.figure.skeleton import JOINTS
from coach.routine.durations import DURATION_PATTERN
from coach.routine.limits import IMAGE_EXTENSIONS
from coach.routine.loader import (
    MAX_BREATHE,
    MAX_COUNTDOWN,
    MAX_DURATION_SECONDS,
    MAX_EXERCISES,
    MAX_RATE,
    MAX_REPEAT,
    MAX_REPEAT_DEPTH,
    MAX_ROUNDS,
    MAX_SIDE_NAMES,
    MAX_SIDES,
    MAX_STEPS,
    MAX_TEXT_LENGTH,
    MIN_RATE,
    MUSIC_DUCK_RANGE,
    MUSIC_LEVEL_RANGE,
    STEP_KINDS,
    TEXT_FIELD_ORDER,
)
from coach.routine.levels import NAMED_LEVELS
from coach.routine.model import SPEECH_ENGINES, Pace
from coach.routine.ranges import COUNT_RANGE_PATTERN, DURATION_RANGE_PATTERN, FREQUENCY_PATTERN, MAX_PER_WEEK
from coach.routine.phrases import DEFAULT_PHRASES, PHRASE_FIELDS

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Control characters the loader refuses (all but tab and newline); a text must also have a non-space character.
_CONTROL = r"\u0000-\u0008\u000b-\u001f\u007f-\u009f"
_TEXT_PATTERN = f"^[^{_CONTROL}]*[^\\s{_CONTROL}][^{_CONTROL}]*$"
_TEMPLATE_NAMES = ", ".join("{" + name + "}" for name in TEXT_FIELD_ORDER)
_DURATION_FORMS = "seconds as a number, or text such as 45s, 1m, 1m30s, 1h5m or 1:30"

_DEFAULT_PACE = Pace()


def routine_schema() -> dict[str, Any]:
    """The JSON Schema of a routine file (format version 1), as a JSON-ready dict."""
    properties = {
        "title": _text("The routine's name: spoken in the intro and the outro, and the track's title tag."),
        "about": _text("What the routine is for; shown in the plan and written to the track's tags."),
        "credit": _text("Who the routine comes from; written to the track's tags."),
        "frequency": {
            "description": (
                "How many sessions a week the text advises, e.g. 1-3/week or 2/week: `coach history` compares "
                f"this week's sessions with it (1 to {MAX_PER_WEEK} a week)."
            ),
            "type": "string",
            "pattern": FREQUENCY_PATTERN,
        },
        "voice": _voice(),
        "pace": _pace(),
        "phrases": _phrases(),
        "pronounce": {
            "description": (
                "How the voice should say a written word or phrase, e.g. {\"90/90\": \"ninety-ninety\"}: applied "
                "to the speech only (screens, transcripts and chapters keep the written form), whole words, case "
                "as written."
            ),
            "type": "object",
            "propertyNames": {"minLength": 1, "maxLength": MAX_TEXT_LENGTH, "pattern": _TEXT_PATTERN},
            "additionalProperties": {"$ref": "#/$defs/text"},
        },
        "side_names": {
            "description": (
                "Side labels this routine uses besides the usual ones (left, right, front, back, inside, outside, "
                "upper, lower, ...): `coach check` warns about any other label, as a likely typo."
            ),
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_SIDE_NAMES,
            "items": {"$ref": "#/$defs/text"},
        },
        "music": _music(),
        "exercises": {
            "description": "The exercises, in order (at least one); a rest with 'Next up: ...' between them.",
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_EXERCISES,
            "items": {"$ref": "#/$defs/exercise"},
        },
    }
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "coach routine (format version 1)",
        "description": "A voice-guided mobility routine for coach: exercises made of spoken, timed steps.",
        "type": "object",
        "required": ["title", "exercises"],
        "additionalProperties": False,
        "properties": properties,
        "$defs": {
            "text": _text("A non-empty text."),
            "spokenText": _text(
                f"A text the coach speaks. It may use the template names {_TEMPLATE_NAMES}: "
                "{side} and {other} in an exercise with sides ({other} with two or more), {rep} and {reps} "
                "inside a repeat. Write {{ and }} for a literal brace."
            ),
            "duration": _duration("A duration (zero allowed), or a range such as 30-60s", positive=False),
            "positiveDuration": _duration("A duration longer than zero, or a range such as 30-60s", positive=True),
            "positiveSingleDuration": _duration("A duration longer than zero", positive=True, ranged=False),
            "exercise": _exercise(),
            "figure": _figure(),
            "image": {
                "description": "The position as your own picture (PNG, JPEG or SVG), relative to the routine file; instead of 'figure'.",
                "allOf": [{"$ref": "#/$defs/text"}],
                "pattern": _extension_pattern(IMAGE_EXTENSIONS),
            },
            "steps": {
                "description": "Steps, in order (at least one).",
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_STEPS,
                "items": {"$ref": "#/$defs/step"},
            },
            "step": {
                "description": "One step: exactly one of say, hold, inhale, exhale, breathe, repeat or rest.",
                "type": "object",
                "oneOf": [{"$ref": f"#/$defs/{kind}Step"} for kind in STEP_KINDS],
            },
            **{f"{kind}Step": step for kind, step in _steps().items()},
        },
    }


def _voice() -> dict[str, Any]:
    properties = {
        "engine": {
            "description": "Speech engine: espeak (the default on Linux), piper (the neural voice: pip install 'coach[neural]') or pyttsx3.",
            "enum": list(SPEECH_ENGINES),
        },
        "name": _text("Speech voice id or name (see `coach voices`), e.g. gmw/en-us."),
        "rate": {
            "description": f"Speech rate in words per minute ({MIN_RATE} to {MAX_RATE}).",
            "type": "integer",
            "minimum": MIN_RATE,
            "maximum": MAX_RATE,
        },
    }
    return _object("The speech voice; the engine's default when left out.", properties)


def _music() -> dict[str, Any]:
    path = _text("A music file, or a folder of them played in name order; relative to the routine file.")
    properties = {
        "path": path,
        "level": {
            "description": "Loudness of the music between cues, in LUFS (default -24).",
            "type": "number",
            "minimum": MUSIC_LEVEL_RANGE[0],
            "maximum": MUSIC_LEVEL_RANGE[1],
        },
        "duck": {
            "description": "How many dB the music drops under every cue (default 12).",
            "type": "number",
            "minimum": MUSIC_DUCK_RANGE[0],
            "maximum": MUSIC_DUCK_RANGE[1],
        },
        "shuffle": {"description": "Play a folder's files in random order.", "type": "boolean", "default": False},
    }
    with_options = _object("Music with its level, duck depth and order.", properties)
    with_options["required"] = ["path"]
    return {"description": "Music under the session, ducked under every cue.", "anyOf": [path, with_options]}


def _pace() -> dict[str, Any]:
    properties = {
        "breath": _ref("positiveDuration", "The length of one inhale or exhale slot.", _DEFAULT_PACE.breath),
        "rest": _ref("duration", "The rest between exercises, with 'Next up: ...'; 0 for none.", _DEFAULT_PACE.rest),
        "switch": _ref("duration", "The pause to change sides; 0 for none.", _DEFAULT_PACE.switch),
        "countdown": {
            "description": f"Beeps over the last N seconds of each hold and rest (0 to {MAX_COUNTDOWN}); 0 for none.",
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_COUNTDOWN,
            "default": _DEFAULT_PACE.countdown,
        },
        "halfway": {
            "description": "Say 'Halfway' in holds at least this long; false never to say it.",
            "anyOf": [{"$ref": "#/$defs/positiveSingleDuration"}, {"const": False}],
            "default": _DEFAULT_PACE.halfway,
        },
        "level": {
            "description": (
                "The point this routine takes in its ranges unless --level says otherwise: easy (the low end), "
                "standard (the middle), deep (the high end), or a number from 0 to 1."
            ),
            "anyOf": [{"enum": list(NAMED_LEVELS)}, {"type": "number", "minimum": 0, "maximum": 1}],
            "default": "standard",
        },
    }
    return _object("Routine-wide timing.", properties)


def _phrases() -> dict[str, Any]:
    properties = {}
    for key, template in DEFAULT_PHRASES.items():
        names = sorted(PHRASE_FIELDS[key])
        uses = "may use " + ", ".join("{" + name + "}" for name in names) if names else "takes no template names"
        properties[key] = _text(f"Replaces the phrase '{template}'; {uses}.")
    return _object("Overrides of the speech coach generates (for another language, say).", properties)


def _exercise() -> dict[str, Any]:
    properties = {
        "name": _text("The exercise's name: spoken first, and its chapter title."),
        "note": _spoken("A safety or form note: shown, and spoken if say_note is true."),
        "say_note": {"description": "Speak the note before the setup.", "type": "boolean", "default": False},
        "setup": _spoken("Spoken once, before the first side."),
        "sides": {
            "description": f"Run the steps once per side, e.g. [left, right] (1 to {MAX_SIDES} different names).",
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_SIDES,
            "uniqueItems": True,
            "items": {"$ref": "#/$defs/text"},
        },
        "rounds": {**_count("Run the steps this many times per side", 1, MAX_ROUNDS), "default": 1},
        "rest": _ref("duration", "The rest after this exercise, instead of pace.rest."),
        **_pictures("The exercise's position"),
        "steps": {"$ref": "#/$defs/steps", "description": "The exercise's steps, run per side and per round."},
    }
    schema = _object("One exercise.", properties)
    schema["required"] = ["name", "steps"]
    # say_note: true needs a note to say
    schema["if"] = {"properties": {"say_note": {"const": True}}, "required": ["say_note"]}
    schema["then"] = {"required": ["note"]}
    return schema


def _steps() -> dict[str, dict[str, Any]]:
    breath = _ref("positiveDuration", "The slot's length, instead of pace.breath.")
    kinds = {
        "say": ("Speak a line.", {"say": _spoken("The line to speak.")}),
        "hold": (
            "Hold a position: the optional line is spoken, then the timer runs.",
            {"hold": _ref("positiveDuration", "How long to hold."), "say": _spoken("Said with 'Hold for ...'.")},
        ),
        "inhale": ("One inhale slot, led by its cue.", {"inhale": _spoken("The cue, after 'Inhale,'"), "breath": breath}),
        "exhale": ("One exhale slot, led by its cue.", {"exhale": _spoken("The cue, after 'Exhale,'"), "breath": breath}),
        "breathe": (
            "Slow breaths with generated 'Breathe in' and 'Breathe out' cues.",
            {"breathe": _count("How many breaths", 1, MAX_BREATHE)},
        ),
        "repeat": (
            f"A block of steps repeated (at most {MAX_REPEAT_DEPTH} repeats inside each other).",
            {
                "repeat": _count("How many times", 1, MAX_REPEAT),
                "count": {"description": "Speak each repetition's number.", "type": "boolean", "default": False},
                "steps": {"$ref": "#/$defs/steps", "description": "The steps to repeat."},
            },
        ),
        "rest": (
            "A timed rest inside the exercise: the optional line is spoken with 'Rest for ...', then the timer runs.",
            {"rest": _ref("positiveDuration", "How long to rest."), "say": _spoken("Spoken before the rest.")},
        ),
    }
    found = {}
    for kind, (description, properties) in kinds.items():
        schema = _object(description, {**properties, **_pictures("This step's own position, from its start on")})
        schema["required"] = [kind, "steps"] if kind == "repeat" else [kind]
        found[kind] = schema
    return found


def _extension_pattern(extensions: tuple[str, ...]) -> str:
    """A pattern for a name ending in one of `extensions`, any case (JSON Schema patterns take no flags)."""
    either = "|".join("\\." + "".join(f"[{c.lower()}{c.upper()}]" for c in ext[1:]) for ext in extensions)
    return f"({either})$"


def _pictures(whose: str) -> dict[str, Any]:
    return {
        "figure": {"$ref": "#/$defs/figure", "description": f"{whose}: a pose of the library, or joint angles."},
        "image": {"$ref": "#/$defs/image", "description": f"{whose} as your own picture."},
    }


def _figure() -> dict[str, Any]:
    pose = {"description": "A pose of coach's library (drawn for the left side; the right side is its mirror).",
            "enum": list(POSES)}
    joints = {
        joint: {
            "description": f"The {joint.replace('_', ' ')}'s angles in degrees.",
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {dof: {"description": f"{dof}, {low} to {high} degrees", "type": "number", "minimum": low, "maximum": high}
                           for dof, (low, high) in dofs.items()},
        }
        for joint, dofs in JOINTS.items()
    }
    angles = _object("Joint angles set over a pose (or over a standing figure when no pose is given).",
                     {"pose": pose, **joints})
    angles["minProperties"] = 1
    return {"description": "The picture of a position: a pose name, or a mapping of 'pose' and joint angles.",
            "anyOf": [pose, angles]}


def _object(description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "type": "object", "additionalProperties": False, "properties": properties}


def _text(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_TEXT_LENGTH,
        "pattern": _TEXT_PATTERN,
    }


def _count(description: str, least: int, most: int) -> dict[str, Any]:
    return {
        "description": f"{description} ({least} to {most}), or a range such as 5-10.",
        "anyOf": [
            {"type": "integer", "minimum": least, "maximum": most},
            {"type": "string", "pattern": COUNT_RANGE_PATTERN},
        ],
    }


def _spoken(description: str) -> dict[str, Any]:
    return {"$ref": "#/$defs/spokenText", "description": description}


def _ref(name: str, description: str, default: float | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"$ref": f"#/$defs/{name}", "description": description}
    if default is not None:
        schema["default"] = default
    return schema


def _duration(description: str, positive: bool, ranged: bool = True) -> dict[str, Any]:
    number: dict[str, Any] = {"type": "number", "maximum": MAX_DURATION_SECONDS}
    number["exclusiveMinimum" if positive else "minimum"] = 0
    forms = [number, {"type": "string", "pattern": DURATION_PATTERN}]
    if ranged:
        forms.append({"type": "string", "pattern": DURATION_RANGE_PATTERN})
    return {
        "description": f"{description}: {_DURATION_FORMS}; at most {MAX_DURATION_SECONDS // 3600} hours.",
        "anyOf": forms,
    }
