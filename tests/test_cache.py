"""The clip cache: keys, readable names, atomic writes, damage detection, stats, prune and clear."""

from __future__ import annotations

import errno
import fcntl
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from coach.speech import cache as cache_module
from coach.speech.cache import CLIP_NAME, ClipCache, clip_key, slug
from coach.errors import CacheError
from coach.speech import VoiceProfile

PROFILE = VoiceProfile(engine="espeak", version="1.52.0", voice="gmw/en-us", rate=165, sample_rate=22050)
DAY = 86400


def tone(frames: int = 2205, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).uniform(-1, 1, frames) * 9000).astype(np.int16)


@pytest.fixture
def cache(tmp_path: Path) -> ClipCache:
    return ClipCache(tmp_path / "clips")


def test_key_changes_with_text_voice_rate_engine_and_version():
    base = clip_key("Hold for 30 seconds.", PROFILE)
    variants = [
        clip_key("Hold for 45 seconds.", PROFILE),
        clip_key("Hold for 30 seconds.", replace(PROFILE, voice="gmw/en")),
        clip_key("Hold for 30 seconds.", replace(PROFILE, rate=166)),
        clip_key("Hold for 30 seconds.", replace(PROFILE, version="1.52.1")),
        clip_key("Hold for 30 seconds.", replace(PROFILE, engine="pyttsx3")),
        clip_key("Hold for 30 seconds.", replace(PROFILE, sample_rate=16000)),
    ]
    assert len({base, *variants}) == len(variants) + 1
    assert all(len(key) == 64 and int(key, 16) >= 0 for key in [base, *variants])


def test_key_ignores_whitespace_differences_only():
    base = clip_key("Hold for 30 seconds.", PROFILE)
    assert clip_key("  Hold  for\n30\tseconds. ", PROFILE) == base
    assert clip_key("hold for 30 seconds.", PROFILE) != base
    assert clip_key("Hold for 30 seconds", PROFILE) != base


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Inhale, lift the belly high.", "inhale-lift-the-belly-high"),
        ("Über die Brücke!", "uber-die-brucke"),
        ("...", "cue"),
        ("Ποδιά", "cue"),
        ("Supercalifragilisticexpialidocious" * 3, ("supercalifragilisticexpialidocious" * 3)[:40]),
    ],
)
def test_slug_is_readable_ascii_of_bounded_length(text, expected):
    assert slug(text) == expected


def test_slug_cuts_long_texts_at_a_word_boundary():
    assert slug("Place your right foot against the wall behind you.") == "place-your-right-foot-against-the-wall"


def test_store_then_lookup_returns_the_same_samples_under_a_readable_name(cache):
    samples = tone(4410)
    stored = cache.store("Switch sides. Left side.", PROFILE, samples)
    found = cache.lookup("Switch sides. Left side.", PROFILE)
    assert found == stored
    assert np.array_equal(found.read(), samples)
    assert found.frames == 4410 and found.seconds == pytest.approx(4410 / 22050)
    assert CLIP_NAME.match(found.path.name)
    assert found.path.name.startswith("switch-sides-left-side-") and found.key.startswith(found.path.name[-20:-4])


def test_lookup_misses_for_an_unknown_text_or_another_profile(cache):
    cache.store("Rest.", PROFILE, tone())
    assert cache.lookup("Rest now.", PROFILE) is None
    assert cache.lookup("Rest.", replace(PROFILE, rate=200)) is None
    assert ClipCache(cache.directory / "nowhere").lookup("Rest.", PROFILE) is None


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) - 101])
    elif how == "extended":
        path.write_bytes(data + b"\0\0")
    elif how == "bad header":
        path.write_bytes(b"JUNK" + data[4:])
    elif how == "header only":
        path.write_bytes(data[:44])
    elif how == "empty":
        path.write_bytes(b"")


@pytest.mark.parametrize("how", ["truncated", "extended", "bad header", "header only", "empty"])
def test_a_damaged_clip_is_a_miss_and_counted_as_damaged(cache, how):
    clip = cache.store("Halfway.", PROFILE, tone())
    _damage(clip.path, how)
    assert cache.lookup("Halfway.", PROFILE) is None
    assert cache.stats().damaged == 1 and cache.stats().clips == 0
    with pytest.raises(CacheError, match="damaged|cannot read"):
        clip.read()
    cache.store("Halfway.", PROFILE, tone())
    assert cache.lookup("Halfway.", PROFILE) is not None


def test_a_failed_write_leaves_neither_a_final_clip_nor_a_temporary_file(cache, monkeypatch):
    def disk_full(*_args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(CacheError) as raised:
        cache.store("Breathe in.", PROFILE, tone())
    message = str(raised.value)
    assert "No space left on device" in message and str(cache.directory) in message and "\n" not in message
    assert list(cache.directory.iterdir()) == []


def test_an_interrupted_write_leaves_no_temporary_file(cache, monkeypatch):
    real_fdopen = os.fdopen

    class Interrupting:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            self.handle.write(data[:10])
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: Interrupting(real_fdopen(fd, mode)))
    with pytest.raises(KeyboardInterrupt):
        cache.store("Breathe in.", PROFILE, tone())
    assert list(cache.directory.iterdir()) == []


def test_a_cache_path_that_is_a_file_is_a_one_line_cache_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(CacheError, match="not a directory"):
        ClipCache(blocker).store("Rest.", PROFILE, tone())
    with pytest.raises(CacheError, match="not a directory"):
        ClipCache(blocker).stats()
    with pytest.raises(CacheError, match="cannot create"):
        ClipCache(blocker / "below").store("Rest.", PROFILE, tone())


def test_an_empty_clip_is_never_stored(cache):
    with pytest.raises(CacheError, match="empty clip"):
        cache.store("Rest.", PROFILE, np.zeros(0, np.int16))


def test_stats_counts_clips_bytes_and_seconds(cache):
    assert cache.stats().clips == 0
    cache.store("One.", PROFILE, tone(22050))
    cache.store("Two.", PROFILE, tone(11025))
    (cache.directory / "notes.txt").write_text("someone else's file")
    stats = cache.stats()
    assert stats.clips == 2 and stats.damaged == 0
    assert stats.seconds == pytest.approx(1.5)
    assert stats.bytes == 2 * cache_module.WAV_HEADER.size + 2 * (22050 + 11025)


def _age(clip_path: Path, days: float) -> None:
    then = time.time() - days * DAY
    os.utime(clip_path, (then, then))


def test_prune_keeps_only_the_given_keys(cache):
    kept = cache.store("Keep me.", PROFILE, tone())
    dropped = cache.store("Drop me.", PROFILE, tone())
    result = cache.prune(keep={kept.key})
    assert (result.removed, result.kept) == (1, 1)
    assert result.freed_bytes == cache_module.WAV_HEADER.size + 2 * 2205
    assert kept.path.exists() and not dropped.path.exists()


def test_prune_older_than_goes_by_last_use_and_a_lookup_counts_as_use(cache):
    used = cache.store("Used lately.", PROFILE, tone())
    idle = cache.store("Idle.", PROFILE, tone())
    _age(used.path, 40)
    _age(idle.path, 40)
    assert cache.lookup("Used lately.", PROFILE) is not None
    result = cache.prune(unused_days=30)
    assert (result.removed, result.kept) == (1, 1)
    assert used.path.exists() and not idle.path.exists()


def test_prune_with_keys_and_age_removes_only_clips_both_unwanted_and_idle(cache):
    wanted_old = cache.store("Wanted, old.", PROFILE, tone())
    unwanted_new = cache.store("Unwanted, new.", PROFILE, tone())
    unwanted_old = cache.store("Unwanted, old.", PROFILE, tone())
    _age(wanted_old.path, 90)
    _age(unwanted_old.path, 90)
    cache.prune(keep={wanted_old.key}, unused_days=30)
    assert wanted_old.path.exists() and unwanted_new.path.exists() and not unwanted_old.path.exists()


def test_prune_removes_damaged_clips_and_stale_temporaries_but_not_fresh_ones(cache):
    good = cache.store("Good.", PROFILE, tone())
    bad = cache.store("Bad.", PROFILE, tone())
    _damage(bad.path, "truncated")
    stale = cache.directory / ".left-behind-0123456789abcdef.x.tmp"
    fresh = cache.directory / ".in-flight-0123456789abcdef.y.tmp"
    stale.write_bytes(b"RIFF")
    fresh.write_bytes(b"RIFF")
    # A writer holds its temporary file locked while it lives; one whose lock is free died mid-write.
    with open(fresh, "rb") as in_flight:
        fcntl.flock(in_flight.fileno(), fcntl.LOCK_EX)
        cache.prune()
        assert good.path.exists() and not bad.path.exists()
        assert not stale.exists() and fresh.exists()


def test_clear_removes_every_clip_and_nothing_else(cache):
    for index in range(3):
        cache.store(f"Cue {index}.", PROFILE, tone(seed=index))
    (cache.directory / ".gitkeep").write_text("")
    (cache.directory / "notes.wav").write_text("not ours")
    result = cache.clear()
    assert result.removed == 3
    assert sorted(path.name for path in cache.directory.iterdir()) == [".gitkeep", "notes.wav"]
    assert cache.stats().clips == 0


GAIN_KEY = "ab" * 32


def test_a_stored_gain_reads_back_and_other_keys_miss(cache):
    assert cache.gain(GAIN_KEY) is None
    cache.store_gain(GAIN_KEY, 2.4375)
    assert cache.gain(GAIN_KEY) == 2.4375
    assert cache.gain("cd" * 32) is None
    assert cache.gain("ab" * 8 + "cd" * 24) is None  # same file name, other key: the record says whose it is
    assert cache.stats().clips == 0  # bookkeeping, not a clip


@pytest.mark.parametrize("content", [b"", b'{"key": "', b'{"key": "' + b"ab" * 32 + b'", "gain": "NaN"}', b"[1, 2]"])
def test_a_damaged_gain_record_is_a_miss(cache, content):
    cache.store_gain(GAIN_KEY, 1.5)
    (path,) = cache.directory.glob("gain-*.json")
    path.write_bytes(content)
    assert cache.gain(GAIN_KEY) is None


def test_prune_and_clear_handle_stored_gains_like_clips(cache):
    kept, dropped = "12" * 32, "34" * 32
    cache.store_gain(kept, 1.0)
    cache.store_gain(dropped, 2.0)
    clip = cache.store("Breathe in.", PROFILE, tone())
    result = cache.prune(keep={kept, clip.key})
    assert (result.removed, result.kept) == (0, 1)  # the counts are of clips
    assert cache.gain(kept) == 1.0 and cache.gain(dropped) is None
    cache.clear()
    assert cache.gain(kept) is None
    assert list(cache.directory.iterdir()) == []


def test_decoded_music_is_cleared_with_the_clips_and_pruned_by_age_only(cache):
    music = cache.directory / ("music-" + "a" * 16 + ".pcm")
    cache.directory.mkdir(parents=True, exist_ok=True)
    music.write_bytes(b"decoded")
    assert cache.prune(keep=set()).removed == 0 and music.exists()  # no routine's clips name their music
    assert cache.stats().damaged == 0  # not taken for a damaged clip
    old = time.time() - 40 * 86400
    os.utime(music, (old, old))
    cache.prune(unused_days=30)
    assert not music.exists()
    music.write_bytes(b"decoded")
    cache.clear()
    assert not music.exists()


def test_what_a_voice_keeps_is_checked_cleared_with_the_clips_and_pruned_by_age_only(cache):
    key = "b" * 64
    cache.store_voice_data(key, b"tables")
    (blob,) = cache.directory.glob("voice-*.bin")
    assert cache.voice_data(key) == b"tables" and cache.voice_data("c" * 64) is None
    assert cache.prune(keep=set()).removed == 0 and cache.voice_data(key) == b"tables"  # no routine's clips name them
    assert cache.stats().damaged == 0  # not taken for a damaged clip
    blob.write_bytes(blob.read_bytes()[:-1] + b"!")
    assert cache.voice_data(key) is None  # damaged: read from the voice's package again
    cache.store_voice_data(key, b"tables")
    old = time.time() - 40 * 86400
    os.utime(blob, (old, old))
    cache.prune(unused_days=30)
    assert not blob.exists()
    cache.store_voice_data(key, b"tables")
    cache.clear()
    assert list(cache.directory.iterdir()) == []
