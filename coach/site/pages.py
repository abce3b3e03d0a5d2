"""The two HTML pages: the library (every routine, with play, download and subscribe links) and a routine's player.

Plain HTML filled in with escaped values; the player's behaviour lives in static/player.js and reads
the episode's moments.json, the core's answer to "what is happening at t". The same pages serve `coach serve`
(absolute links under its secret prefix) and `coach publish` (relative links in a static site): `prefix` is
what goes before a site path, `play_suffix` ends a player page's address, `home` is the library's address.
Both pages name the web app's manifest and service worker (static/sw.js, served at the site's root so that
its scope is the whole site) and load static/offline.js, which keeps a session on the phone.
"""

from __future__ import annotations

import json
from html import escape

from coach.clock import elapsed, length
from coach.output.cards import CARD_SIZE
from coach.site.feed import card_path, episode_path
from coach.site.episodes import Episode

_HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="theme-color" content="#101418">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<link rel="icon" href="{prefix}static/icon.svg" type="image/svg+xml">
<link rel="manifest" href="{prefix}manifest.webmanifest">
<link rel="stylesheet" href="{prefix}static/style.css">
</head>
"""
# The files of the app itself that a kept session needs to open with no network (beside its page and episode files).
SHELL_FILES = (
    "static/style.css", "static/clock.js", "static/player.js", "static/library.js", "static/offline.js", "static/icon.svg", "manifest.webmanifest",
)
OFFLINE_KINDS = ("audio", "moments", "chapters", "vtt", "srt", "cover")  # what "Keep on this phone" stores

# Inline SVG so the controls need no icon font (a phone's or a headless browser's fonts may lack the glyphs).
_ICONS = {
    "back10": '<path d="M12 5V1L7 6l5 5V7a6 6 0 1 1-6 6H4a8 8 0 1 0 8-8z"/><text x="12" y="16.5" font-size="7" text-anchor="middle" font-family="sans-serif" font-weight="700">10</text>',
    "prev": '<path d="M6 6h2v12H6zm3.5 6 8.5 6V6z"/>',
    "play": '<path d="M8 5v14l11-7z"/>',
    "pause": '<path d="M6 19h4V5H6v14zm8-14v14h4V5h-4z"/>',
    "next": '<path d="M6 18l8.5-6L6 6v12zM16 6v12h2V6h-2z"/>',
}


def icon(name: str) -> str:
    """An inline SVG icon (24x24, current colour)."""
    return f'<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">{_ICONS[name]}</svg>'


def manifest(start_url: str = "./") -> bytes:
    """The web app manifest (its URLs relative to itself, at the site's root): installable, standalone, dark."""
    data = {
        "name": "coach",
        "short_name": "coach",
        "description": "Voice-guided mobility routines for runners.",
        "start_url": start_url,
        "scope": "./",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#101418",
        "theme_color": "#101418",
        "icons": [
            {"src": "static/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
            {"src": "cover.png", "sizes": "1400x1400", "type": "image/png", "purpose": "any"},
        ],
    }
    return (json.dumps(data, indent=1) + "\n").encode()


EDITS_AS_NEW = "An edited routine arrives as a new episode when the app refreshes."  # coach serve: a guid per revision
EDITS_IN_PLACE = "An edited routine is updated in place when the app refreshes."  # coach publish: a guid per routine


def library_page(
    episodes: list[Episode], prefix: str, feed_url: str, play_suffix: str = "", blurb: str = "from this computer", edits: str = EDITS_AS_NEW
) -> str:
    """The library: each routine with its cover, length, exercise count, play and download links; and the feed to subscribe to."""
    cards = "\n".join(_card(episode, prefix, play_suffix) for episode in episodes) or '<li class="empty">No routine is published yet.</li>'
    app_url = "podcast://" + feed_url.split("://", 1)[-1]
    return (
        _HEAD.format(title="coach routines", prefix=escape(prefix))
        + f"""<body class="library">
<header class="masthead"><h1>coach</h1><p>Voice-guided mobility routines {escape(blurb)}.</p></header>
<ul class="routines">
{cards}
</ul>
<section class="subscribe" aria-labelledby="subscribe-title">
<h2 id="subscribe-title">Subscribe in a podcast app</h2>
<p>Every routine becomes an episode with chapters and a transcript, downloaded to the phone for a run offline.
{escape(edits)}</p>
<p><a class="button" href="{escape(app_url)}">Open in a podcast app</a></p>
<p class="feed-url"><label for="feed-url">Or add this feed URL by hand:</label>
<input id="feed-url" readonly value="{escape(feed_url)}">
<button type="button" class="small" id="copy-feed">Copy</button></p>
</section>
<script src="{escape(prefix)}static/library.js"></script>
<script src="{escape(prefix)}static/offline.js" data-sw="{escape(prefix)}sw.js"></script>
</body>
</html>
"""
    )


def _card(episode: Episode, prefix: str, play_suffix: str) -> str:
    exercises = len(episode.exercises)
    return f"""<li class="routine" data-episode="{escape(episode.id)}" data-revision="{escape(episode.revision)}">
<img class="cover" src="{escape(prefix + episode_path(episode, 'cover'))}" alt="" width="72" height="72">
<div class="about">
<h2>{escape(episode.title)}</h2>
<p class="facts">{length(episode.duration)} · {exercises} exercise{'s' if exercises != 1 else ''}<span class="kept-badge" hidden></span></p>
<p class="actions"><a class="button" href="{escape(prefix)}play/{escape(episode.id)}{escape(play_suffix)}">Play</a>
<a class="button secondary" href="{escape(prefix + episode_path(episode, 'audio'))}" download="{escape(episode.id)}.mp3">Download</a></p>
</div>
</li>"""


def player_page(episode: Episode, prefix: str, home: str | None = None) -> str:
    """The player: the figure of the position, big exercise and side, the line spoken, the countdown, what is next, progress, chapters, controls, and "Keep on this phone"."""
    home = prefix if home is None else home
    data = {
        "moments": prefix + episode_path(episode, "moments"),
        "cover": prefix + episode_path(episode, "cover"),
        "episode": episode.id,
        "revision": episode.revision,
        "title": episode.title,
        "card-size": f"{CARD_SIZE}x{CARD_SIZE}",
        # The chapter cards and the figures too: the player shows them, and so does the lock screen, with the network off.
        "files": json.dumps([prefix + episode_path(episode, kind) for kind in OFFLINE_KINDS] + [prefix + card_path(episode, name) for name in episode.cards]),
        "shell": json.dumps([home] + [prefix + name for name in SHELL_FILES]),
        "bytes": str(sum(episode.files[kind].size for kind in OFFLINE_KINDS if kind in episode.files) + sum(card.size for card in episode.cards.values())),
    }
    attributes = " ".join(f'data-{key}="{escape(value)}"' for key, value in data.items())
    audio = escape(prefix + episode_path(episode, "audio"))
    return (
        _HEAD.format(title=escape(episode.title), prefix=escape(prefix))
        + f"""<body class="player">
<main id="player" {attributes}>
<header class="bar">
<a class="home" href="{escape(home)}" aria-label="All routines">‹ Routines</a>
<span class="routine-title">{escape(episode.title)}</span>
<span id="position" class="position"></span>
</header>
<section class="now" aria-live="polite">
<figure id="figure" class="figure" hidden><img id="figure-img" alt="" width="480" height="360"></figure>
<p id="activity" class="activity"></p>
<h1 id="title" class="title">{escape(episode.title)}</h1>
<p id="side" class="side" hidden></p>
<p id="count" class="count" hidden></p>
<p id="countdown" class="countdown" hidden></p>
<p id="line" class="line">Press play to start.</p>
<p id="next" class="next"></p>
</section>
<section class="transport">
<div id="progress" class="progress" role="slider" aria-label="Position" tabindex="0" aria-valuemin="0" aria-valuemax="{round(episode.duration)}" aria-valuenow="0">
<div id="progress-fill" class="fill"></div><div id="marks" class="marks"></div>
</div>
<p class="times"><span id="elapsed">{elapsed(0)}</span><span id="total">{elapsed(round(episode.duration * 1000))}</span></p>
<div class="controls">
<button type="button" id="back10" aria-label="Back 10 seconds">{icon("back10")}</button>
<button type="button" id="prev" aria-label="Previous exercise">{icon("prev")}</button>
<button type="button" id="play" class="play" aria-label="Play">{icon("play")}{icon("pause")}</button>
<button type="button" id="next-exercise" aria-label="Next exercise">{icon("next")}</button>
</div>
<p id="wake-note" class="note" hidden></p>
</section>
<section class="chapters" aria-labelledby="chapters-title">
<h2 id="chapters-title">Exercises</h2>
<ol id="chapters"></ol>
</section>
<section id="offline" class="offline" aria-labelledby="offline-title">
<h2 id="offline-title">On this phone</h2>
<p id="offline-status" class="note">Checking whether this session is kept…</p>
<progress id="keep-progress" max="1" value="0" hidden></progress>
<p class="actions"><button type="button" id="keep" hidden>Keep on this phone</button>
<button type="button" id="remove" class="small" hidden>Remove</button></p>
</section>
<audio id="audio" preload="auto" src="{audio}"></audio>
</main>
<script src="{escape(prefix)}static/clock.js"></script>
<script src="{escape(prefix)}static/player.js"></script>
<script src="{escape(prefix)}static/offline.js" data-sw="{escape(prefix)}sw.js"></script>
</body>
</html>
"""
    )
