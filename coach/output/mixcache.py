"""The per-chapter mix cache's keys: each chapter's mixed PCM named by everything that determines it.

A chapter's PCM, with the stretches around it an encoder reads (the pre-roll from the chapter before, the
post-roll into the next, coach/output/chunked.py), is a fixed function of the sounds heard there (each clip by its
cache key, each tone by its kind, at its offset from the chapter's start), the speech gain, the limiter's
ceiling and reach, the rate and channels, where the track begins and ends relative to it, and with music, the
bed's own key for that stretch (the tracks' content, their placement and the ducking there, coach/audio/bed.py).
Not its position: a chapter moved by whole frames after an edit before it keeps its key, and so its record of
encoded chunks (`chapter-<key>.json` in the cache, beside the segments). With music the bed's key holds the
absolute position (the music runs on under the edit), so there only the chapters before the edit keep theirs.
"""

from __future__ import annotations

import hashlib
import json
from typing import Mapping, Sequence

from coach.audio.mixer import Mixer

MIX_SCHEMA = 1  # bump when a chapter's PCM for the same key would change (the mixer, the limiter, the beeps)


def chapter_keys(
    mixer: Mixer, bounds: Sequence[int], clip_keys: Mapping[str, str], before: int, after: int
) -> list[str | None]:
    """The mix key of each span [bounds[i], bounds[i + 1]) with `before` frames ahead of it and `after` past it;
    None where it cannot be keyed (a clip without a key, a bed without one)."""
    reach_before, reach_after = mixer.limiter.margins
    total = mixer.total_frames
    keys: list[str | None] = []
    for lo, hi in zip(bounds, bounds[1:]):
        first, last = max(0, lo - before - reach_before), min(total, hi + after + reach_after)
        sounds = []
        keyed = True
        for start, name, length, is_tone in mixer.sounds(first, last - first):
            if is_tone:
                sounds.append([start - lo, "tone", name, length])
            elif name in clip_keys:
                sounds.append([start - lo, "clip", clip_keys[name], length])
            else:
                keyed = False
        bed = ""
        if mixer.bed is not None:
            bed = getattr(mixer.bed, "key", lambda *_: "")(lo - before - reach_before, hi - lo + before + after + reach_before + reach_after)
            keyed = keyed and bool(bed)
        fields = [
            MIX_SCHEMA, mixer.sample_rate, mixer.clip_rate, mixer.channels, float(mixer.gain).hex(), float(mixer.limiter.ceiling).hex(),
            [reach_before, reach_after, before, after], hi - lo, first - lo, last - lo, sounds, bed,
        ]
        keys.append(hashlib.sha256(json.dumps(fields).encode()).hexdigest() if keyed else None)
    return keys
