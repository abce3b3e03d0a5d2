"""Reading a routine's sections besides its exercises: voice, music, pace, phrases, pronunciations, side names."""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, ScalarNode

from coach.routine.limits import (
    MAX_COUNTDOWN,
    MAX_RATE,
    MAX_SIDE_NAMES,
    MIN_RATE,
    MUSIC_DUCK_RANGE,
    MUSIC_KEYS,
    MUSIC_LEVEL_RANGE,
    PACE_KEYS,
    VOICE_KEYS,
)
from coach.routine.model import (
    SPEECH_ENGINES,
    Music,
    Pace,
    Range,
    Voice,
    Where,
)
from coach.routine.phrases import DEFAULT_PHRASES, PHRASE_FIELDS
from coach.routine.read_nodes import (
    _OFF,
    _describe,
    _shortened,
)
from coach.routine.read_values import ValueReader


class SectionReader(ValueReader):
    """Reads the routine's voice, music, pace, phrases, pronunciations and side names."""

    def voice(self, node: Node) -> Voice | None:
        """The `voice` section."""
        expected = "voice: expected a mapping with 'engine', 'name' and/or 'rate'"
        fields = self.mapping(node, expected, "voice", VOICE_KEYS)
        if fields is None:
            return None
        engine = self.optional(fields, "engine", self.engine)
        name = self.optional(fields, "name", lambda value: self.text("voice.name", value))
        rate = self.optional(fields, "rate", lambda value: self.whole("voice.rate", value, MIN_RATE, MAX_RATE))
        name_where = self.where(fields["name"].value) if "name" in fields else Voice().name_where
        return Voice(name=name, rate=rate, engine=engine, name_where=name_where)

    def engine(self, node: Node) -> str | None:
        """`voice.engine`: one of SPEECH_ENGINES."""
        value = self.text("voice.engine", node)
        if value is None:
            return None
        if value not in SPEECH_ENGINES:
            self.error(node, f"voice.engine: unknown engine '{_shortened(value)}' (choose from {', '.join(SPEECH_ENGINES)})")
            return None
        return value

    def music(self, node: Node) -> Music | None:
        """The `music` section: a path, or a mapping with a path and optional level, duck and shuffle."""
        where = Where(self.path, node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, ScalarNode):
            path = self.text("music", node)
            return None if path is None else Music(path, where=where)
        before = len(self.problems)
        expected = "music: expected a file or folder path, or a mapping with 'path'"
        fields = self.mapping(node, expected, "music", MUSIC_KEYS)
        if fields is None:
            return None
        self.require(node, fields, ("path",), "music")
        path = self.optional(fields, "path", lambda value: self.text("music.path", value))
        level = self.optional(fields, "level", lambda value: self.number("music.level", value, *MUSIC_LEVEL_RANGE))
        duck = self.optional(fields, "duck", lambda value: self.number("music.duck", value, *MUSIC_DUCK_RANGE))
        shuffle = self.optional(fields, "shuffle", lambda value: self.flag("music.shuffle", value))
        if len(self.problems) > before or path is None:
            return None
        path_node = fields["path"].value
        where = Where(self.path, path_node.start_mark.line + 1, path_node.start_mark.column + 1)
        return Music(path, level, duck, bool(shuffle), where)

    def pace(self, node: Node) -> Pace | None:
        """The `pace` section; keys left out keep the model's defaults."""
        before = len(self.problems)
        fields = self.mapping(node, "pace: expected a mapping of timings", "pace", PACE_KEYS)
        if fields is None:
            return None
        given: dict[str, object] = {}
        ranges: list[tuple[str, Range]] = []
        for key, entry in fields.items():
            label = f"pace.{key}"
            if key == "countdown":
                given[key] = self.whole(label, entry.value, 0, MAX_COUNTDOWN)
            elif key == "halfway":
                given[key] = self.duration(label, entry.value, positive=True, off_allowed=True)
            elif key == "level":
                given[key] = self.level(label, entry.value)
            else:
                given[key] = self.ranged_duration(label, entry.value, key == "breath", key, ranges)
        if len(self.problems) > before:
            return None
        settings = {key: (None if value is _OFF else value) for key, value in given.items()}
        settings["ranges"] = tuple(ranges)
        return Pace(**settings)  # type: ignore[arg-type]

    def phrases(self, node: Node) -> dict[str, str] | None:
        """The `phrases` overrides that are valid (the others are reported)."""
        expected = "phrases: expected a mapping of phrase names to texts"
        fields = self.mapping(node, expected, "phrases", tuple(DEFAULT_PHRASES))
        if fields is None:
            return None
        found = {}
        for key, entry in fields.items():
            label = f"phrases.{key}"
            template = self.text(label, entry.value)
            if template is not None and self.phrase_template_ok(label, entry.value, template, PHRASE_FIELDS[key]):
                found[key] = template
        return found

    def pronounce(self, node: Node) -> dict[str, str] | None:
        """The `pronounce` table: a written word or phrase to what the voice says instead."""
        if not self.visit(node):
            return None
        if not isinstance(node, MappingNode):
            self.error(node, f"pronounce: expected a mapping of written text to spoken text, got {_describe(node)}")
            return None
        found: dict[str, str] = {}
        for key_node, value_node in node.value:
            written = self.text("pronounce", key_node)
            spoken = self.text(f"pronounce.{_shortened(written or '')}", value_node)
            if written is None or spoken is None:
                continue
            if written in found:
                self.error(key_node, f"pronounce: '{_shortened(written)}' is listed twice")
                continue
            found[written] = spoken
        return found

    def side_names(self, node: Node) -> tuple[str, ...] | None:
        """`side_names`: side labels the routine uses besides the known ones (no warning for them)."""
        items = self.items("side_names", node, "side labels such as [top, bottom]", "side label", MAX_SIDE_NAMES)
        if items is None:
            return None
        names = [self.text("side_names", item) for item in items]
        return None if None in names else tuple(names)  # type: ignore[arg-type]

