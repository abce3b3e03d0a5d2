"""The podcast feed: RSS 2.0 with the itunes tags podcast apps expect and Podcasting 2.0 chapters and transcripts."""

from __future__ import annotations

import email.utils
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Callable, Iterable

from coach.site.episodes import EPISODE_FILES, Episode

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM = "http://www.w3.org/2005/Atom"
# Podcasting 2.0 names its namespace https://podcastindex.org/namespace/1.0 (AntennaPod, Podverse, Apple
# read that); gPodder's podcastparser knows only the older GitHub URI, and feedparser keeps any namespace
# under the prefix the feed declares. So the podcast:* tags are written under both URIs.
PODCAST = "https://podcastindex.org/namespace/1.0"
PODCAST_LEGACY = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
_PREFIXES = {"itunes": ITUNES, "atom": ATOM, "podcast": PODCAST, "podcastgh": PODCAST_LEGACY}

CHANNEL_TITLE = "coach routines"
CHANNEL_DESCRIPTION = "Voice-guided mobility routines for runners, published by coach on this computer."
CATEGORY = "Health & Fitness"
LANGUAGE = "en"
# The Podcasting 2.0 namespace for podcast:guid: a feed's guid is the UUIDv5 of its URL without the scheme.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


@dataclass(frozen=True)
class FeedStyle:
    """How a feed differs between `coach serve` (a new guid per revision) and `coach publish` (one guid per routine)."""

    description: str = CHANNEL_DESCRIPTION
    play_suffix: str = ""  # what ends a player page's path: "" under coach serve, ".html" in a static site
    stable_guids: bool = False  # one guid per routine for as long as the feed's URL stays, edits included


def feed_xml(episodes: Iterable[Episode], url: Callable[[str], str], built: float, style: FeedStyle = FeedStyle()) -> bytes:
    """The feed for these episodes; `url(path)` makes an absolute URL of a path under the library's prefix."""
    for prefix, uri in _PREFIXES.items():
        ET.register_namespace(prefix, uri)
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", CHANNEL_TITLE)
    _text(channel, "link", url(""))
    _text(channel, "description", style.description)
    _text(channel, "language", LANGUAGE)
    _text(channel, "generator", "coach")
    _text(channel, "lastBuildDate", email.utils.formatdate(built, usegmt=True))
    ET.SubElement(channel, f"{{{ATOM}}}link", {"href": url("feed.xml"), "rel": "self", "type": "application/rss+xml"})
    image = ET.SubElement(channel, "image")
    _text(image, "url", url("cover.png"))
    _text(image, "title", CHANNEL_TITLE)
    _text(image, "link", url(""))
    ET.SubElement(channel, f"{{{ITUNES}}}image", {"href": url("cover.png")})
    ET.SubElement(channel, f"{{{ITUNES}}}category", {"text": CATEGORY})
    _text(channel, f"{{{ITUNES}}}explicit", "false")
    _text(channel, f"{{{ITUNES}}}author", "coach")
    _text(channel, f"{{{ITUNES}}}summary", style.description)
    _text(channel, f"{{{ITUNES}}}type", "episodic")
    if style.stable_guids:
        _text(channel, f"{{{PODCAST}}}guid", feed_guid(url("feed.xml")))
    for episode in episodes:
        _item(channel, episode, url, style)
    ET.indent(rss, space=" ")
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True)


def episode_path(episode: Episode, kind: str) -> str:
    """The path (under the library's prefix) of an episode's file; the revision in it changes with every edit."""
    return f"episodes/{episode.id}/{episode.revision}/{EPISODE_FILES[kind][0]}"


def card_path(episode: Episode, name: str) -> str:
    """A chapter card's path relative to the site's root (name is one of episode.cards)."""
    return f"episodes/{episode.id}/{episode.revision}/{name}"


def description(episode: Episode) -> str:
    """The episode's text: what it is for, its exercises in order, and the safety notes."""
    parts = []
    if episode.about:
        parts.append(episode.about.strip())
    parts.append("Exercises: " + "; ".join(f"{number}. {name}" for number, name in enumerate(episode.exercises, 1)) + ".")
    if episode.notes:
        parts.append("Safety notes: " + " ".join(f"{name}: {note.strip()}" for name, note in episode.notes))
    if episode.credit:
        parts.append(f"Source: {episode.credit}")
    return "\n\n".join(parts)


def feed_guid(feed_url: str) -> str:
    """The Podcasting 2.0 podcast:guid of a feed at this URL."""
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, feed_url.split("://", 1)[-1].rstrip("/")))


def episode_guid(episode: Episode, url: Callable[[str], str], style: FeedStyle) -> str:
    """The item's guid: per revision under coach serve, per routine and feed URL in a published site."""
    if style.stable_guids:
        # Stable across republishing and edits: an app updates the episode in place, never lists a routine twice.
        return str(uuid.uuid5(uuid.NAMESPACE_URL, url(f"episodes/{episode.id}")))
    # A new guid for every revision: podcast apps download an edited routine as a new episode
    # (and the old one leaves the feed), where a changed enclosure under the same guid is often ignored.
    return f"coach:{episode.id}:{episode.revision}"


def _item(channel: ET.Element, episode: Episode, url: Callable[[str], str], style: FeedStyle) -> None:
    item = ET.SubElement(channel, "item")
    text = description(episode)
    _text(item, "title", episode.title)
    _text(item, "link", url(f"play/{episode.id}{style.play_suffix}"))
    _text(item, "guid", episode_guid(episode, url, style), isPermaLink="false")
    _text(item, "pubDate", email.utils.formatdate(episode.published, usegmt=True))
    _text(item, "description", text)
    audio = episode.files["audio"]
    ET.SubElement(
        item,
        "enclosure",
        {"url": url(episode_path(episode, "audio")), "length": str(audio.size), "type": EPISODE_FILES["audio"][1]},
    )
    _text(item, f"{{{ITUNES}}}duration", str(round(episode.duration)))
    ET.SubElement(item, f"{{{ITUNES}}}image", {"href": url(episode_path(episode, "cover"))})
    _text(item, f"{{{ITUNES}}}explicit", "false")
    _text(item, f"{{{ITUNES}}}episodeType", "full")
    _text(item, f"{{{ITUNES}}}summary", text)
    if episode.credit:
        _text(item, f"{{{ITUNES}}}author", episode.credit)
    for namespace in (PODCAST, PODCAST_LEGACY):
        ET.SubElement(
            item,
            f"{{{namespace}}}chapters",
            {"url": url(episode_path(episode, "chapters")), "type": "application/json+chapters"},
        )
        for kind, media_type in (("vtt", "text/vtt"), ("srt", "application/x-subrip")):
            ET.SubElement(
                item,
                f"{{{namespace}}}transcript",
                {"url": url(episode_path(episode, kind)), "type": media_type, "language": LANGUAGE, "rel": "captions"},
            )


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = text
    return element
