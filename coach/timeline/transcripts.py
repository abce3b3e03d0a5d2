"""The timeline as timed text for podcast apps: WebVTT and SRT transcripts, and a JSON chapters file (Podcasting 2.0)."""

from __future__ import annotations

from typing import Sequence

from coach import clock
from coach.timeline.timeline import Timeline

CHAPTERS_VERSION = "1.2.0"  # the JSON chapters format's version (podcast-namespace chapters spec)


def webvtt(timeline: Timeline) -> str:
    """A WebVTT transcript: one cue block per spoken cue, from its start to its end."""
    blocks = ["WEBVTT"]
    for start_ms, end_ms, text in _lines(timeline):
        blocks.append(f"{clock.webvtt(start_ms)} --> {clock.webvtt(end_ms)}\n{_vtt_text(text)}")
    return "\n\n".join(blocks) + "\n"


def srt(timeline: Timeline) -> str:
    """An SRT transcript: numbered blocks, one per spoken cue, comma before the milliseconds."""
    blocks = [
        f"{number}\n{clock.srt(start_ms)} --> {clock.srt(end_ms)}\n{text}"
        for number, (start_ms, end_ms, text) in enumerate(_lines(timeline), start=1)
    ]
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def chapters_json(timeline: Timeline, image_url: str | None = None, images: Sequence[str | None] = ()) -> dict:
    """The chapters as a JSON chapters file (version 1.2): startTime, endTime (seconds) and title of each; `img`
    from `images` (one per chapter, None for none), else `image_url` for all."""
    chapters = []
    for number, chapter in enumerate(timeline.chapters):
        entry: dict = {
            "startTime": round(chapter.start_ms / 1000, 3),
            "endTime": round(chapter.end_ms / 1000, 3),
            "title": chapter.title,
        }
        own = images[number] if number < len(images) else None
        if own or image_url:
            entry["img"] = own or image_url
        chapters.append(entry)
    return {"version": CHAPTERS_VERSION, "title": timeline.title, "chapters": chapters}


def _lines(timeline: Timeline) -> list[tuple[int, int, str]]:
    # A cue that overlays another (spoken over a hold) may end after the next begins; players want
    # cues in start order with positive length, so each keeps at least 1 ms.
    cues = sorted(timeline.cues, key=lambda cue: cue.start_ms)
    return [(cue.start_ms, max(cue.end_ms, cue.start_ms + 1), " ".join(cue.text.split())) for cue in cues]


def _vtt_text(text: str) -> str:
    # "-->" would end the timing line early, and & < > are markup in WebVTT cue text.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
