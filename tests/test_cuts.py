"""Where the chunked encoder cuts: a place the audio fixes, so cuts after an edit move with the audio."""

from __future__ import annotations

import numpy as np

from coach.output import cuts


def test_a_silence_is_cut_in_its_middle_whatever_the_window():
    levels = np.ones(100)
    levels[40:61] = 0  # boundaries 40..60 quiet: the middle is 50
    allowed = np.ones(100, bool)
    for window, aim in ((slice(30, 70), 35), (slice(45, 80), 79), (slice(20, 52), 20)):
        assert cuts.choose(levels, allowed, window, aim, spacing=400) == 50


def test_a_long_silence_offers_evenly_spaced_points():
    levels = np.ones(300)
    levels[0:241] = 0  # 241 quiet boundaries in four pieces: points at 60, 120 and 180
    assert cuts.choose(levels, np.ones(300, bool), slice(100, 140), 101, spacing=80) == 120
