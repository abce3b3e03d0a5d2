"""The `pronounce:` table: the voice says the spoken form, everything shown keeps the written one."""

from __future__ import annotations

import pytest

from coach import session
from coach.speech.cache import clip_key
from coach.routine.loader import parse_routine
from coach.speech.pronounce import Pronouncer
from coach.speech import SpeechSettings, get_engine

ROUTINE = """\
title: Hips
pronounce:
  "90/90": ninety-ninety
exercises:
  - name: 90/90 stretch
    steps:
      - say: Sit in the 90/90 position, not 190/90.
"""


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("90/90 stretch.", "ninety-ninety stretch."),
        ("Next up: 90/90 gluteal stretch.", "Next up: ninety-ninety gluteal stretch."),
        ("Not 190/900 or 1900.", "Not 190/900 or 1900."),  # whole words only
        ("ACL and ACLs.", "A C L and ACLs."),
        ("Press 90 times, the 90/90 way.", "Press ninety times, the ninety-ninety way."),  # longest entry first
    ],
)
def test_entries_replace_whole_words_longest_first(written, spoken):
    table = {"90/90": "ninety-ninety", "90": "ninety", "ACL": "A C L"}
    assert Pronouncer(table).spoken(written) == spoken


def test_no_table_changes_nothing():
    assert Pronouncer({}).spoken("90/90.") == "90/90."


def test_the_voice_says_the_spoken_form_while_the_plan_shows_the_written_one(tmp_path):
    routine = parse_routine(ROUTINE, "hips.yaml")
    fake = get_engine("fake")
    before = len(fake.synthesized)
    prepared = session.prepare(routine, SpeechSettings(voice="fake/low"), tmp_path, engine="fake", jobs=1)
    heard = fake.synthesized[before:]
    shown = [cue.text for cue in prepared.timeline.cues]
    assert "90/90 stretch." in shown and "Sit in the 90/90 position, not 190/90." in shown
    assert [c.title for c in prepared.timeline.chapters] == ["90/90 stretch"]
    assert "ninety-ninety stretch." in heard and "Sit in the ninety-ninety position, not 190/90." in heard
    assert not any("90/90 stretch" in text for text in heard)
    # the cache key follows what is spoken: the clip is the spoken text's clip
    profile = fake.profile(SpeechSettings(voice="fake/low"))
    assert prepared.report.clips["90/90 stretch."].key == clip_key("ninety-ninety stretch.", profile)


def test_changing_the_pronunciation_renders_again_and_only_what_it_changes(tmp_path):
    settings = SpeechSettings(voice="fake/low")
    first = session.prepare(parse_routine(ROUTINE, "hips.yaml"), settings, tmp_path, engine="fake", jobs=1)
    changed = ROUTINE.replace("ninety-ninety", "ninety ninety")
    second = session.prepare(parse_routine(changed, "hips.yaml"), settings, tmp_path, engine="fake", jobs=1)
    assert set(second.report.synthesized) == {"90/90 stretch.", "Sit in the 90/90 position, not 190/90."}
    assert "Well done. That is the end of Hips." in second.report.reused
    assert first.report.clips["90/90 stretch."].key != second.report.clips["90/90 stretch."].key
