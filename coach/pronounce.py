"""A routine's `pronounce:` table: what the voice says for a written word, applied to speech only, never to what is shown."""

from __future__ import annotations

import re
from typing import Mapping


class Pronouncer:
    """Rewrites written cue text into the text given to the speech engine, whole words only, longest entry first."""

    def __init__(self, table: Mapping[str, str]):
        self._table = dict(table)
        entries = sorted(self._table, key=len, reverse=True)
        # An entry that starts or ends with a letter or digit matches only there, not inside a longer word.
        patterns = [(r"(?<!\w)" if entry[0].isalnum() else "") + re.escape(entry) + (r"(?!\w)" if entry[-1].isalnum() else "") for entry in entries]
        self._pattern = re.compile("|".join(patterns)) if patterns else None

    def spoken(self, text: str) -> str:
        """The text as the engine should say it."""
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda found: self._table[found.group(0)], text)
