"""A routine's `pronounce:` table: what the voice says for a written word; speech only, never what is shown."""

from __future__ import annotations

import re
from typing import Mapping


class Pronouncer:
    """Rewrites written cue text into the text given to the speech engine, whole words only, longest entry first."""

    def __init__(self, table: Mapping[str, str]):
        self._table = dict(table)
        patterns = [_bounded(entry) for entry in sorted(self._table, key=len, reverse=True)]
        self._pattern = re.compile("|".join(patterns)) if patterns else None

    def spoken(self, text: str) -> str:
        """The text as the engine should say it."""
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda found: self._table[found.group(0)], text)


def _bounded(entry: str) -> str:
    """The entry as a pattern; an end that is a letter or digit must not continue a longer word ('190/90')."""
    before = r"(?<!\w)" if entry[0].isalnum() else ""
    after = r"(?!\w)" if entry[-1].isalnum() else ""
    return before + re.escape(entry) + after
