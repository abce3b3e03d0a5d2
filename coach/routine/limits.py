"""What a routine may hold: the bounds the loader enforces and the keys it knows (the schema reads them too)."""

from __future__ import annotations

MAX_FILE_BYTES = 256 * 1024  # 35 times the longest built-in routine; PyYAML reads about 150 KB a second
MAX_TEXT_LENGTH = 1000  # characters in any one text (a 1000-character cue is about two minutes of speech)
MAX_EXERCISES = 100
MAX_STEPS = 200  # in any one `steps` list
MAX_SIDES = 4
MAX_SIDE_NAMES = 50
MAX_REPEAT = 100
MAX_BREATHE = 100
MAX_ROUNDS = 20
MAX_REPEAT_DEPTH = 4  # repeats inside repeats
MAX_COUNTDOWN = 10
MIN_RATE, MAX_RATE = 80, 450
MAX_DURATION_SECONDS = 3 * 3600  # any one duration; the compiler bounds the whole routine
MAX_NODES = 50_000  # YAML nodes walked, each pass through an alias counted again
MAX_YAML_DEPTH = 64  # nesting of YAML lists and mappings
MAX_DIAGNOSTICS = 100

ROUTINE_KEYS = (
    "title", "about", "credit", "frequency", "voice", "pace", "phrases", "pronounce", "side_names", "music", "exercises"
)
VOICE_KEYS = ("engine", "name", "rate")
PACE_KEYS = ("breath", "rest", "switch", "countdown", "halfway", "level")
MUSIC_KEYS = ("path", "level", "duck", "shuffle")
MUSIC_LEVEL_RANGE = (-40, -10)  # LUFS of the music between cues
MUSIC_DUCK_RANGE = (6, 40)  # dB the music drops under every cue
# A position's picture, on an exercise and on any step: a pose (or joint angles), or the user's own image.
FIGURE_KEYS = ("figure", "image")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".svg")
EXERCISE_KEYS = ("name", "note", "say_note", "setup", "sides", "rounds", "rest", *FIGURE_KEYS, "steps")
# Each step kind with the keys it may carry besides its own; a step has exactly one kind key.
STEP_KINDS: dict[str, tuple[str, ...]] = {
    "say": (),
    "hold": ("say",),
    "inhale": ("breath",),
    "exhale": ("breath",),
    "breathe": (),
    "repeat": ("steps", "count"),
    "rest": ("say",),
}
STEP_KEYS = (*STEP_KINDS, "breath", "count", "steps", *FIGURE_KEYS)
# The template names of spoken text (coach.routine.phrases.TEXT_FIELDS) in the order messages and the schema list them.
TEXT_FIELD_ORDER = ("side", "Side", "other", "Other", "rep", "reps", "round", "rounds")
