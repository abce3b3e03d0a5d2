"""YAML text to a node tree, bounded: nesting depth and node count are checked while composing.

PyYAML's own composer recurses (a deep document exhausts the stack) and, in pure Python, reads about
150 KB a second, so a routine file near the size limit took seconds. Here libyaml's parser (PyYAML's C
binding, when installed) produces the events and this module composes them without recursion, counting
nodes and depth as it goes, so no input under the size limit costs more than a fraction of a second.
The nodes are PyYAML's own (ScalarNode, SequenceNode, MappingNode with their marks and resolved tags).
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.composer import ComposerError
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_Parser = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


class TooDeep(ComposerError):
    """The document nests lists and mappings deeper than allowed."""


class TooLarge(ComposerError):
    """The document holds more nodes than allowed."""


@dataclass
class Composed:
    """The first document's node tree (None when the stream is empty), and whether any alias was used."""

    document: Node | None
    saw_alias: bool
    second_document: yaml.Mark | None  # where a second document starts, if there is one
    trailing_error: yaml.YAMLError | None = None  # a broken second document does not spoil the first


@dataclass
class _Open:
    """A list or mapping whose end event has not come yet."""

    node: SequenceNode | MappingNode
    anchor: str | None
    key: Node | None = None  # a mapping's key waiting for its value


def check_printable(text: str) -> None:
    """Raise PyYAML's ReaderError at the first character YAML does not allow (libyaml reports bytes, not characters)."""
    found = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if found is not None:
        character = found.group()
        raise yaml.reader.ReaderError("<unicode string>", found.start(), ord(character), "unicode", "special characters are not allowed")


def compose(text: str, max_depth: int, max_nodes: int) -> Composed:
    """Compose the first YAML document of `text`; yaml.YAMLError (TooDeep, TooLarge among them) when it cannot."""
    check_printable(text)
    parser = _Parser(text)
    try:
        parser.get_event()  # the stream start
        if parser.check_event(StreamEndEvent):
            return Composed(None, False, None)
        parser.get_event()  # the document start
        document, saw_alias = _compose_node_tree(parser, max_depth, max_nodes)
        try:
            parser.get_event()  # the document end
            second = None if parser.check_event(StreamEndEvent) else parser.peek_event().start_mark
        except yaml.YAMLError as error:
            return Composed(document, saw_alias, None, error)
        return Composed(document, saw_alias, second)
    finally:
        parser.dispose()


def _compose_node_tree(parser: yaml.SafeLoader, max_depth: int, max_nodes: int) -> tuple[Node, bool]:
    """One node and everything under it, from the parser's events, without recursion."""
    anchors: dict[str, Node] = {}
    stack: list[_Open] = []
    nodes = 0
    saw_alias = False
    while True:
        event = parser.get_event()
        if isinstance(event, AliasEvent):
            saw_alias = True
            if event.anchor not in anchors:
                raise ComposerError(None, None, f"found undefined alias {event.anchor!r}", event.start_mark)
            if any(frame.anchor == event.anchor for frame in stack):
                message = f"alias {event.anchor!r} used inside the list or mapping it names"
                raise ComposerError(None, None, message, event.start_mark)
            node: Node = anchors[event.anchor]
        elif isinstance(event, (SequenceEndEvent, MappingEndEvent)):
            frame = stack.pop()
            frame.node.end_mark = event.end_mark
            node = frame.node
        else:
            if len(stack) + 1 > max_depth:
                raise TooDeep(None, None, f"document nested more than {max_depth} levels deep", event.start_mark)
            nodes += 1
            if nodes > max_nodes:
                raise TooLarge(None, None, f"document too large: more than {max_nodes} nodes", event.start_mark)
            anchor = event.anchor
            if anchor is not None and anchor in anchors:
                first = anchors[anchor].start_mark
                raise ComposerError(f"found duplicate anchor {anchor!r}; first occurrence", first, "second occurrence", event.start_mark)
            tag = event.tag
            if isinstance(event, ScalarEvent):
                if tag is None or tag == "!":
                    tag = parser.resolve(ScalarNode, event.value, event.implicit)
                node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
                if anchor is not None:
                    anchors[anchor] = node
            else:
                kind = SequenceNode if isinstance(event, SequenceStartEvent) else MappingNode
                assert isinstance(event, (SequenceStartEvent, MappingStartEvent))
                if tag is None or tag == "!":
                    tag = parser.resolve(kind, None, event.implicit)
                collection = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
                if anchor is not None:
                    anchors[anchor] = collection
                stack.append(_Open(collection, anchor))
                continue
        if not stack:
            return node, saw_alias
        parent = stack[-1]
        if isinstance(parent.node, SequenceNode):
            parent.node.value.append(node)
        elif parent.key is None:
            parent.key = node
        else:
            parent.node.value.append((parent.key, node))
            parent.key = None
