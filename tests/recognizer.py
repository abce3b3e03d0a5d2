"""An independent listener for the tests and the bench: pocketsphinx's bundled US English model, offline.

It was trained on people, not on any of coach's voices, so what it hears right a person hears right too.
A lone word without context ("Four.") is beyond its open vocabulary (it hears "fuller"), and a grammar of
number words gave answers that changed with what it had heard before, so only texts of two words or more
are listened to; numbers are heard in their sentences ("Round 9 of 10.").
"""

from __future__ import annotations

import difflib
import re

import numpy as np
from pocketsphinx import Config, Decoder
from scipy.signal import resample_poly

RATE = 16_000  # the model's sample rate
UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
).split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(number: int) -> list[str]:
    """A number below a hundred as it is said ("forty five"); larger ones stay digits."""
    if number < 20:
        return [UNITS[number]]
    if number < 100:
        return [TENS[number // 10]] + ([UNITS[number % 10]] if number % 10 else [])
    return [str(number)]


def words(text: str) -> list[str]:
    """The words of a text as a listener would write them: lower case, hyphens split, numbers spelt out."""
    found = re.findall(r"[a-z']+|\d+", text.lower().replace("-", " "))
    return [said for word in found for said in (number_words(int(word)) if word.isdigit() else [word])]


def word_recall(wanted: str, heard: str) -> float:
    """The share of the wanted words heard, in order (1.0 for a text without words)."""
    want, got = words(wanted), words(heard)
    if not want:
        return 1.0
    matcher = difflib.SequenceMatcher(None, want, got, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(want)


class Listener:
    """One open-vocabulary decoder."""

    def __init__(self) -> None:
        config = Config()
        config["loglevel"] = "FATAL"
        config["cmn"] = "batch"  # the channel estimate from each clip alone: what one heard never colours the next
        self.decoder = Decoder(config)

    def hear(self, samples: np.ndarray, rate: int) -> str:
        """What the recognizer hears in int16 mono samples at `rate`."""
        audio = samples.astype(np.float32)
        if rate != RATE:
            audio = resample_poly(audio, RATE, rate)
        pcm = np.clip(audio, -32768, 32767).astype(np.int16).tobytes()
        self.decoder.start_utt()
        self.decoder.process_raw(pcm, full_utt=True)
        self.decoder.end_utt()
        hypothesis = self.decoder.hyp()
        return hypothesis.hypstr if hypothesis else ""
