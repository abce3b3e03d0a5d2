"""The BS.1770 meter against the standard's reference tone and an independent meter, and the program gain it drives."""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
import pytest
from scipy import signal

from coach.audio.limiter import PeakLimiter
from coach.audio.loudness import CEILING_DBTP, TARGET_LUFS, LoudnessMeter, integrated_lufs, program_gain, true_peak_dbtp


def voice_like(seconds, rate, level, seed):
    """Band-limited noise with a quiet stretch and a gap, as float64 in [-level, level]."""
    rng = np.random.default_rng(seed)
    values = signal.lfilter([1.0], [1.0, -0.6], rng.standard_normal(round(seconds * rate)))
    values *= level / np.max(np.abs(values))
    values[rate * 3 : rate * 5] *= 0.01  # under the relative gate: left out
    values[rate * 8 : rate * 9] = 0.0  # under the absolute gate: left out
    return values


def test_a_full_scale_997_hz_sine_reads_minus_3_01_lufs_as_the_standard_says():
    rate = 48000
    tone = np.sin(2 * np.pi * 997 * np.arange(rate * 5) / rate)
    assert integrated_lufs(tone.astype(np.float32), rate) == pytest.approx(-3.01, abs=0.02)


@pytest.mark.parametrize("rate", [22050, 48000])
def test_the_meter_agrees_with_pyloudnorm_gates_included(rate):
    values = voice_like(12, rate, 0.3, seed=rate)
    reference = pyloudnorm.Meter(rate).integrated_loudness(values)
    # pyloudnorm's K-weighting is an approximation of the standard's filter, a little further off at 22 kHz.
    assert integrated_lufs(values.astype(np.float32), rate) == pytest.approx(reference, abs=0.15)


def test_feeding_the_meter_in_uneven_blocks_reads_the_same_as_all_at_once():
    rate = 22050
    values = voice_like(12, rate, 0.3, seed=3).astype(np.float32)
    meter = LoudnessMeter(rate)
    for start, end in zip([0, 1, 2205, 30000, 100_001], [1, 2205, 30000, 100_001, values.size]):
        meter.add(values[start:end])
    assert meter.integrated() == pytest.approx(integrated_lufs(values, rate), abs=1e-6)


def test_silence_and_a_track_shorter_than_one_block_read_minus_infinity():
    assert integrated_lufs(np.zeros(22050, np.float32), 22050) == -math.inf
    assert integrated_lufs(np.full(2000, 0.5, np.float32), 22050) == -math.inf


def test_the_program_gain_brings_limited_speech_to_the_target():
    rate = 22050
    rng = np.random.default_rng(7)
    clips = {}
    for number in range(6):
        values = signal.lfilter([1.0], [1.0, -0.6], rng.standard_normal(round((1 + 0.4 * number) * rate)))
        values *= (0.1 + 0.05 * number) / np.max(np.abs(values))
        clips[f"clip {number}"] = np.round(values * 32767).astype(np.int16)
    gain = program_gain(clips, rate)
    gap = np.zeros(rate // 2, np.float32)
    mix = np.concatenate([part for clip in clips.values() for part in (gap, clip / np.float32(32768) * np.float32(gain))])
    limited = PeakLimiter(rate).limit(np.concatenate([mix, gap]))
    assert true_peak_dbtp(mix, rate) > CEILING_DBTP  # the gain alone would pass the ceiling: the limiter had work to do
    assert pyloudnorm.Meter(rate).integrated_loudness(limited.astype(np.float64)) == pytest.approx(TARGET_LUFS, abs=0.3)
    assert true_peak_dbtp(limited, rate) <= CEILING_DBTP + 0.01


def test_nothing_to_measure_is_a_gain_of_one():
    assert program_gain({}, 22050) == 1.0
    assert program_gain({"silent": np.zeros(22050, np.int16)}, 22050) == 1.0


def test_the_program_gain_is_on_its_step_grid_and_a_small_change_in_the_clips_leaves_it_alone():
    from coach.audio.loudness import GAIN_STEP_DB

    rng = np.random.default_rng(7)
    clips = {f"cue {n}": (rng.standard_normal(22050) * 2000 * (1 + n % 3)).astype(np.int16) for n in range(40)}
    gain_db = 20 * math.log10(program_gain(clips, 22050))
    assert gain_db / GAIN_STEP_DB == pytest.approx(round(gain_db / GAIN_STEP_DB), abs=1e-9)
    edited = dict(clips)
    edited["cue 3"] = (edited["cue 3"] * 1.02).astype(np.int16)  # one cue of forty a little louder
    assert program_gain(edited, 22050) == program_gain(clips, 22050)


def test_the_program_gain_holds_when_the_most_used_speech_is_gentler_than_the_rest():
    # The limiter's loss is first measured on the longest / most used 20 s; here that is smooth noise while
    # the rest is peaky (like the neural voice's plosives): the gain must still land on the target.
    rate = 22050
    rng = np.random.default_rng(11)
    clips = {}
    for number in range(3):  # the sample: long, smooth
        values = signal.lfilter([1.0], [1.0, -0.6], rng.standard_normal(8 * rate))
        clips[f"smooth {number}"] = np.round(values * 0.08 / np.max(np.abs(values)) * 32767).astype(np.int16)
    for number in range(30):  # the rest: short, with sharp peaks well above their loudness
        values = signal.lfilter([1.0], [1.0, -0.6], rng.standard_normal(2 * rate)) * 0.02
        values[rng.integers(0, values.size, 40)] += rng.choice([-0.5, 0.5], 40)
        clips[f"peaky {number}"] = np.round(values * 32767).astype(np.int16)
    gain = program_gain(clips, rate)
    gap = np.zeros(rate // 2, np.float32)
    mix = np.concatenate([part for clip in clips.values() for part in (gap, clip / np.float32(32768) * np.float32(gain))])
    limited = PeakLimiter(rate).limit(np.concatenate([mix, gap]))
    assert pyloudnorm.Meter(rate).integrated_loudness(limited.astype(np.float64)) == pytest.approx(TARGET_LUFS, abs=0.3)


def test_the_meter_filter_loaded_on_its_own_matches_scipy_signal():
    from scipy import signal

    from coach.audio.loudness import k_weighting, sosfilt

    rng = np.random.default_rng(7)
    values = rng.standard_normal(50_000)
    given = values.copy()
    sos = k_weighting(22050)
    state = rng.standard_normal((2, 2)) * 0.01
    ours, our_state = sosfilt()(sos, values, state)
    theirs, their_state = signal.sosfilt(sos, values, zi=state)
    assert np.array_equal(ours, theirs) and np.array_equal(our_state, their_state)
    assert np.array_equal(values, given)  # the input was not filtered in place


def test_measuring_loudness_does_not_import_scipy_signal():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np; from coach.audio.loudness import integrated_lufs; "
        "print(repr(integrated_lufs(np.sin(np.arange(22050) / 7).astype(np.float32), 22050)), 'scipy.signal' in sys.modules)"
    )
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert printed == [repr(integrated_lufs(np.sin(np.arange(22050) / 7).astype(np.float32), 22050)), "False"]


class _Records:
    """A ClipCache's record store in memory, counting what is measured and stored."""

    def __init__(self):
        self.records, self.stored = {}, 0

    def record(self, kind, key):
        return self.records.get((kind, key))

    def store_record(self, kind, key, record):
        self.records[(kind, key)] = {**record, "key": key}
        self.stored += 1


def _full_loudness(clips, counts, rate, gain, ceiling=CEILING_DBTP):
    """The whole speech measured in one pass, as before stored blocks (every clip once per use, limited)."""
    from coach.audio.loudness import speech_loudness

    return speech_loudness([(clips[t] / np.float32(32768), n) for t, n in counts.items()], rate, gain, PeakLimiter(rate, ceiling))


@pytest.mark.parametrize("routine", ["post-run", "pre-run"])
def test_the_gain_from_stored_blocks_equals_a_full_measurement_on_the_built_ins_and_after_random_edits(tmp_path, routine):
    from coach import session
    from coach.audio.loudness import GAIN_STEP_DB, cue_uses

    built = session.load(routine)
    prepared = session.prepare(built, session.speech_settings(built, engine="espeak"), tmp_path / "cache")
    clips, rate = prepared.clip_arrays(), prepared.clip_rate
    counts = {text: count for text, count in cue_uses(prepared.timeline).items()}
    keys = {text: clip.key for text, clip in prepared.report.clips.items()}
    store = _Records()
    gain = program_gain(clips, rate, prepared.timeline, store=store, clip_keys=keys)
    full = _full_loudness(clips, counts, rate, gain)
    assert full == pytest.approx(TARGET_LUFS, abs=GAIN_STEP_DB / 2 + 0.05)  # the nearest step to the exact crossing
    assert program_gain(clips, rate, prepared.timeline) == gain  # the same without a store: nothing depends on it
    # Without a store the search starts where the unlimited speech would reach the target: the same crossing exactly.
    assert program_gain(clips, rate, prepared.timeline, stepped=False) == program_gain(
        clips, rate, prepared.timeline, stepped=False, store=_Records(), clip_keys=keys
    )
    measured = store.stored
    # Measured together through one limiter pass, each clip's blocks are exactly those of the clip alone.
    from coach.audio.loudness import clip_levels, level_key

    for text in sorted(counts)[:3]:
        record = store.record("level", level_key(keys[text], rate, CEILING_DBTP))
        step, blocks = next(iter(record["steps"].items()))
        alone = clip_levels(clips[text], rate, 10 ** (int(step) * GAIN_STEP_DB / 20), PeakLimiter(rate, CEILING_DBTP))
        assert blocks == alone.tolist()
    assert program_gain(clips, rate, prepared.timeline, store=store, clip_keys=keys) == gain and store.stored == measured

    rng = np.random.default_rng(len(routine))
    texts = sorted(counts)
    for edit in range(4):
        edited, edited_keys, edited_counts = dict(clips), dict(keys), dict(counts)
        for text in rng.choice(texts, size=1 + edit, replace=False):  # a few cues said another way, or louder
            # Louder, but not past full scale: a re-rendered cue is speech from an engine, never a hard-clipped copy.
            scale = min(rng.uniform(0.6, 1.6), 32767 / max(1, int(np.abs(clips[text].astype(np.int32)).max())))
            edited[text] = np.round(clips[text] * scale).astype(np.int16)
            edited_keys[text] = f"{keys[text]}-edit-{edit}-{scale}"
        extra = rng.choice(texts)
        edited_counts[extra] += 3  # a cue spoken more often
        timeline_counts = {t: n for t, n in edited_counts.items()}
        stored_gain = program_gain(edited, rate, None, store=store, clip_keys=edited_keys, uses=timeline_counts)
        exact = _full_loudness(edited, timeline_counts, rate, stored_gain)
        stepped = 20 * math.log10(stored_gain)
        from coach.audio.loudness import _Levels

        levels = _Levels(edited, rate, CEILING_DBTP, list(timeline_counts), [float(n) for n in timeline_counts.values()], store, edited_keys)
        assert levels.loudness(round(stepped / GAIN_STEP_DB)) == pytest.approx(exact, abs=1e-6)  # the issue asks 0.05 LU; the blocks are the same blocks
        assert exact == pytest.approx(TARGET_LUFS, abs=GAIN_STEP_DB / 2 + 0.05)
