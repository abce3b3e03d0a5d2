"""The live session's screen, readable from the floor: a frame of text lines for a position and terminal size.

Everything here is pure: `Screen.render` turns (position, paused, width, height) into lines no
wider and no more than the terminal, so it is tested without a terminal. What it shows comes from
`coach.timeline.moment`. The exercise, its side and the countdown (or rep number) are drawn in a built-in
block font; a letter the font lacks is drawn as itself, in the middle of its place. When the terminal is small, the help line
and blank lines go first, then the type is scaled down step by step, then long names are
abbreviated, and last the next-up line goes. Where the terminal has room (FIGURE_MIN_WIDTH x FIGURE_MIN_HEIGHT),
the moment's figure is drawn in braille (coach/terminal/braille.py) in a column beside the type; where it has
not, it is left out.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from dataclasses import dataclass

from coach.clock import countdown, elapsed, log_stamp, remaining
from coach.timeline.moment import Moment, MomentIndex
from coach.timeline.timeline import CueEvent, Timeline

# The block font: 5 rows per glyph, '#' is ink. Mostly 4 columns wide; a few need 5 (M, W, V, Y) or fewer.
_FONT_ROWS = 5
_FONT: dict[str, tuple[str, ...]] = {
    "A": (".##.", "#..#", "####", "#..#", "#..#"),
    "B": ("###.", "#..#", "###.", "#..#", "###."),
    "C": (".###", "#...", "#...", "#...", ".###"),
    "D": ("###.", "#..#", "#..#", "#..#", "###."),
    "E": ("####", "#...", "###.", "#...", "####"),
    "F": ("####", "#...", "###.", "#...", "#..."),
    "G": (".###", "#...", "#.##", "#..#", ".###"),
    "H": ("#..#", "#..#", "####", "#..#", "#..#"),
    "I": ("###", ".#.", ".#.", ".#.", "###"),
    "J": ("...#", "...#", "...#", "#..#", ".##."),
    "K": ("#..#", "#.#.", "##..", "#.#.", "#..#"),
    "L": ("#...", "#...", "#...", "#...", "####"),
    "M": ("#...#", "##.##", "#.#.#", "#...#", "#...#"),
    "N": ("#..#", "##.#", "#.##", "#..#", "#..#"),
    "O": (".##.", "#..#", "#..#", "#..#", ".##."),
    "P": ("###.", "#..#", "###.", "#...", "#..."),
    "Q": (".##.", "#..#", "#..#", "#.#.", ".#.#"),
    "R": ("###.", "#..#", "###.", "#.#.", "#..#"),
    "S": (".###", "#...", ".##.", "...#", "###."),
    "T": ("###", ".#.", ".#.", ".#.", ".#."),
    "U": ("#..#", "#..#", "#..#", "#..#", ".##."),
    "V": ("#...#", "#...#", ".#.#.", ".#.#.", "..#.."),
    "W": ("#...#", "#...#", "#.#.#", "##.##", "#...#"),
    "X": ("#..#", "#..#", ".##.", "#..#", "#..#"),
    "Y": ("#...#", ".#.#.", "..#..", "..#..", "..#.."),
    "Z": ("####", "...#", ".##.", "#...", "####"),
    "0": (".##.", "#..#", "#.##", "##.#", ".##."),
    "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###.", "...#", ".##.", "#...", "####"),
    "3": ("###.", "...#", ".##.", "...#", "###."),
    "4": ("#..#", "#..#", "####", "...#", "...#"),
    "5": ("####", "#...", "###.", "...#", "###."),
    "6": (".##.", "#...", "###.", "#..#", ".##."),
    "7": ("####", "...#", "..#.", ".#..", ".#.."),
    "8": (".##.", "#..#", ".##.", "#..#", ".##."),
    "9": (".##.", "#..#", ".###", "...#", ".##."),
    " ": ("..", "..", "..", "..", ".."),
    "-": ("...", "...", "###", "...", "..."),
    "+": ("...", ".#.", "###", ".#.", "..."),
    "/": ("..#", "..#", ".#.", "#..", "#.."),
    ":": (".", "#", ".", "#", "."),
    ".": (".", ".", ".", ".", "#"),
    ",": ("..", "..", "..", ".#", "#."),
    "'": ("#", "#", ".", ".", "."),
    "!": ("#", "#", "#", ".", "#"),
    "?": ("###.", "...#", ".##.", "....", ".#.."),
    "(": (".#", "#.", "#.", "#.", ".#"),
    ")": ("#.", ".#", ".#", ".#", "#."),
    "&": (".#..", "#.#.", ".#..", "#.#.", ".#.#"),
}
_FONT_ALIASES = {"’": "'", "‘": "'", "–": "-", "—": "-", "_": "-"}

FULL_BLOCK, UPPER_HALF, LOWER_HALF = "█", "▀", "▄"
# The figure of the position shows beside the type from this size up (at 80x24 it would crowd the type out).
FIGURE_MIN_WIDTH, FIGURE_MIN_HEIGHT, FIGURE_GAP = 100, 30, 2


@dataclass(frozen=True)
class TypeSize:
    """How big the block font is drawn: columns per font pixel and text rows per font pixel row."""

    name: str
    columns: int  # text columns per font pixel
    rows: float  # text rows per font pixel row (0.5: two pixel rows per text row, with half blocks)

    @property
    def height(self) -> int:
        """Text rows one line of big type takes."""
        return math.ceil(_FONT_ROWS * self.rows)


HUGE = TypeSize("huge", 2, 2)  # pixels of 2 columns by 2 rows
LARGE = TypeSize("large", 2, 1)  # about square pixels in a usual terminal cell
MEDIUM = TypeSize("medium", 1, 1)
SMALL = TypeSize("small", 1, 0.5)  # half blocks: three rows high
TYPE_SIZES = (HUGE, LARGE, MEDIUM, SMALL)
PLAIN = TypeSize("plain", 0, 0)  # ordinary text


def font_glyphs(text: str) -> tuple[str, ...]:
    """`text` letter by letter as the block font draws it: a font key per letter it has (upper case,
    accents dropped), else the letter itself (with its combining marks), drawn as it is in the middle row."""
    glyphs: list[str] = []
    for char in " ".join(text.split()).upper():
        if _zero_width(char) or (glyphs and glyphs[-1].endswith(_JOINER)):
            if glyphs and glyphs[-1] not in _FONT:
                glyphs[-1] += char  # a mark, joiner or the joined half of an emoji stays with its letter
            continue
        plain = "".join(_FONT_ALIASES.get(c, c) for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        plain = _FONT_ALIASES.get(char, plain)
        if plain and all(c in _FONT for c in plain):
            glyphs.extend(plain)
        else:
            glyphs.append(char)
    return tuple(glyphs)


_JOINER = "\u200d"


def _zero_width(char: str) -> bool:
    return unicodedata.combining(char) > 0 or unicodedata.category(char) in ("Mn", "Me", "Cf")


def _glyph_width(glyph: str, size: TypeSize) -> int:
    if glyph in _FONT:
        return len(_FONT[glyph][0]) * size.columns
    return -(-cells(glyph) // size.columns) * size.columns  # a whole number of font pixels


@functools.lru_cache(maxsize=2048)
def _glyph_rows(glyph: str, size: TypeSize) -> tuple[str, ...]:
    """One glyph at `size`: size.height rows, each exactly its width."""
    width = _glyph_width(glyph, size)
    if glyph not in _FONT:
        rows = [" " * width] * size.height
        left = (width - cells(glyph)) // 2
        rows[size.height // 2] = " " * left + glyph + " " * (width - left - cells(glyph))
        return tuple(rows)
    pixels = _FONT[glyph]
    if size.rows == 0.5:
        pairs = [(pixels[i], pixels[i + 1] if i + 1 < _FONT_ROWS else "." * len(pixels[i])) for i in range(0, _FONT_ROWS, 2)]
        return tuple("".join(_half_block(top, bottom) for top, bottom in zip(*pair)) for pair in pairs)
    painted = ["".join((FULL_BLOCK if pixel == "#" else " ") * size.columns for pixel in row) for row in pixels]
    return tuple(row for row in painted for _ in range(int(size.rows)))


@functools.lru_cache(maxsize=512)
def big_text(text: str, size: TypeSize) -> tuple[str, ...] | None:
    """One line of `text` in big type at `size` (rows without trailing spaces); None for PLAIN or no text."""
    glyphs = font_glyphs(text)
    if not glyphs or size is PLAIN:
        return None
    gap = " " * size.columns  # one font pixel between letters
    drawn = [_glyph_rows(glyph, size) for glyph in glyphs]
    return tuple(gap.join(rows[index] for rows in drawn).rstrip() for index in range(size.height))


def big_width(text: str, size: TypeSize) -> int:
    """Columns `text` takes in big type at `size` (0 if there is nothing to draw)."""
    glyphs = font_glyphs(text)
    if not glyphs or size is PLAIN:
        return 0
    return sum(_glyph_width(glyph, size) for glyph in glyphs) + (len(glyphs) - 1) * size.columns


def _half_block(top: str, bottom: str) -> str:
    if top == "#" and bottom == "#":
        return FULL_BLOCK
    if top == "#":
        return UPPER_HALF
    if bottom == "#":
        return LOWER_HALF
    return " "


def abbreviations(text: str) -> list[str]:
    """`text`, then shorter forms of it with long words cut ('Kinetic' -> 'Kinet.', then 'Kin.')."""
    forms = [text]
    for keep in (5, 3):
        words = [word if len(word) <= keep + 1 else word[:keep] + "." for word in text.split()]
        form = " ".join(words)
        if form not in forms:
            forms.append(form)
    return forms


@functools.lru_cache(maxsize=256)
def wrapped_big_text(text: str, size: TypeSize, width: int) -> tuple[str, ...] | None:
    """`text` in big type, wrapped at word boundaries to `width` columns; None if a word is too wide."""
    words = text.split()
    lines: list[list[str]] = []
    for word in words:
        if big_width(word, size) > width:
            return None
        if lines and big_width(" ".join(lines[-1] + [word]), size) <= width:
            lines[-1].append(word)
        else:
            lines.append([word])
    rows: list[str] = []
    for number, line in enumerate(lines):
        if number:
            rows.append("")  # a blank row between lines of big type, or they run together
        rows.extend(big_text(" ".join(line), size) or ())
    return tuple(rows)


# Text measured in terminal cells: wide (East Asian) characters take two, combining marks none.


def cells(text: str) -> int:
    """How many terminal columns `text` takes."""
    if text.isascii():
        return len(text)
    return sum(map(_char_cells, text))


@functools.lru_cache(maxsize=4096)
def _char_cells(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def clip(text: str, width: int) -> str:
    """`text` cut to at most `width` columns, ending in '…' when something was cut."""
    if cells(text) <= width:
        return text
    if width <= 0:
        return ""
    kept, used = [], 0
    for char in text:
        size = _char_cells(char)
        if used + size > width - 1:
            break
        kept.append(char)
        used += size
    return "".join(kept) + "…"


def wrap(text: str, width: int, max_lines: int) -> list[str]:
    """`text` wrapped at spaces to `width` columns in at most `max_lines` lines (the last one clipped with '…')."""
    if width <= 0 or max_lines <= 0:
        return []
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if cells(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while cells(current) > width:  # a word longer than the line: cut it across lines
            head = clip(current, width + 1)[:-1] if width > 1 else current[:1]
            head = head or current[:1]
            lines.append(head)
            current = current[len(head) :]
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [clip(" ".join(lines[max_lines - 1 :]), width)]
        last = lines[-1]
        if not last.endswith("…"):
            lines[-1] = clip(last + " …", width)
    return lines


def cue_log_line(cue: CueEvent, late_ms: int = 0) -> str:
    """The `--no-ui` line for a cue: `[MM:SS.s] text`, at the cue's time in the plan, and how late it came if it did
    (a session that started before its speech was synthesized, and caught up with it)."""
    late = f"  (late by {late_ms / 1000:.1f} s: waited for its speech to be synthesized)" if late_ms > 0 else ""
    return f"[{log_stamp(cue.start_ms)}] {cue.text}{late}"


@dataclass(frozen=True)
class _Layout:
    name_size: TypeSize
    name_form: int  # 0: the full name; 1, 2: more and more abbreviated
    row_size: TypeSize
    gaps: bool
    help: bool
    cue_lines: int
    next_line: bool


_EXTRAS = ((True, True, 3, True), (False, True, 2, True), (False, False, 2, True))
_BARE = (False, False, 1, False)


def _layouts() -> list[_Layout]:
    """Every layout from the richest to the barest.

    The name and the side/countdown row shrink together (neither far bigger than the other);
    the name is abbreviated only when no size fits it whole; the help line and gaps go before
    the type shrinks a step; the next-up line goes last.
    """
    sizes = TYPE_SIZES + (PLAIN,)
    names = [(size, form, rank + 1.5 * form) for form in range(3) for rank, size in enumerate(TYPE_SIZES)]
    names.append((PLAIN, 0, float(len(TYPE_SIZES)) + 3.0))
    pairs = sorted(
        ((name_size, form, row_size, name_rank, row_rank) for name_size, form, name_rank in names for row_rank, row_size in enumerate(sizes)),
        key=lambda pair: (max(pair[3], pair[4]), pair[3] + pair[4], pair[3]),
    )
    found = [
        _Layout(name_size, form, row_size, *extras)
        for name_size, form, row_size, _name_rank, _row_rank in pairs
        for extras in _EXTRAS
    ]
    found += [_Layout(name_size, form, row_size, *_BARE) for name_size, form, row_size, _n, _r in pairs]
    return found


_LAYOUTS = _layouts()


@dataclass
class _Parts:
    """The pieces of a frame that do not depend on the layout, made once per frame."""

    header: str
    next_line: str
    progress: str
    help: str
    cue: dict[int, list[str]]
    rows: dict[TypeSize, list[str] | None]


class Screen:
    """Frames for one timeline, drawn from its MomentIndex: indexed once, each frame is then cheap."""

    def __init__(self, timeline: Timeline):
        self.timeline = timeline
        self.moments = MomentIndex(timeline)

    def render(self, position_ms: int, paused: bool, width: int, height: int) -> list[str]:
        """The frame at `position_ms`: at most `height` lines of at most `width` columns."""
        if width <= 0 or height <= 0:
            return []
        moment = self.moments.at(position_ms)
        art = self._figure(moment, width, height)
        if art is None:
            return self._frame(moment, paused, width, height)
        # The figure in a column on the right, below the header; the rest of the frame beside it, narrower.
        text_width = width - cells(art[0]) - FIGURE_GAP
        lines = self._frame(moment, paused, text_width, height)
        lines[0] = self._header(moment, width)
        for number, row in enumerate(art, start=2):
            while len(lines) <= number:
                lines.append("")
            lines[number] = (_pad(lines[number], text_width + FIGURE_GAP) + row).rstrip()
        return lines[:height]

    @staticmethod
    def _figure(moment: Moment, width: int, height: int) -> tuple[str, ...] | None:
        """The position in braille beside the type, when the terminal has room for both; else None."""
        if moment.figure is None or width < FIGURE_MIN_WIDTH or height < FIGURE_MIN_HEIGHT:
            return None
        from coach.terminal.braille import braille_rows, figure_size  # Pillow loads only when a figure is drawn

        return braille_rows(moment.figure, moment.mirrored, *figure_size(width, height))

    def _frame(self, moment: Moment, paused: bool, width: int, height: int) -> list[str]:
        """The frame of text alone: the richest layout that fits width x height."""
        parts = _Parts(
            header=self._header(moment, width),
            next_line=clip(self._next(moment), width),
            progress=self._progress(moment.position_ms, width),
            help=clip(f"{'space resume' if paused else 'space pause'} · n next · b back · q quit", width),
            cue={count: wrap("» " + moment.line, width, count) if moment.line else [] for count in (1, 2, 3)},
            rows={},
        )
        for layout in _LAYOUTS:
            lines = self._compose(moment, paused, width, height, layout, parts)
            if lines is not None:
                return lines
        # Smaller than any layout: keep what matters most, in a few plain lines.
        tiny = [("PAUSED " if paused else "") + moment.title.upper(), parts.progress]
        return [clip(line, width) for line in tiny[:height]]

    def _compose(
        self, moment: Moment, paused: bool, width: int, height: int, layout: _Layout, parts: _Parts
    ) -> list[str] | None:
        if layout.row_size not in parts.rows:
            parts.rows[layout.row_size] = self._row(moment, paused, width, layout.row_size)
        row = parts.rows[layout.row_size]
        if row is None:
            return None
        cue_lines = parts.cue[layout.cue_lines]
        bottom = ([parts.next_line] if layout.next_line else []) + [parts.progress] + ([parts.help] if layout.help else [])
        gap = [""] if layout.gaps else []
        fixed = 1 + len(gap) * 4 + len(row) + len(cue_lines) + len(bottom)
        if fixed >= height:
            return None
        name = self._name(moment.title, width, height - fixed, layout.name_size, layout.name_form)
        if name is None:
            return None
        return [parts.header] + gap + name + gap + row + gap + cue_lines + gap + bottom

    def _header(self, moment: Moment, width: int) -> str:
        count = len(self.timeline.chapters)
        right = f"{moment.title_chapter + 1}/{count}" if count > 1 else ""  # the exercise in big type
        left = self.timeline.title
        room = width - cells(right) - 1
        if room < 4:
            return clip(right or left, width)
        left = clip(left, room)
        return left + " " * (width - cells(left) - cells(right)) + right

    @staticmethod
    def _name(title: str, width: int, rows: int, size: TypeSize, form: int) -> list[str] | None:
        if rows <= 0:
            return None
        if size is PLAIN:
            return wrap(title.upper(), width, rows) or [""]
        forms = abbreviations(title)
        if form >= len(forms):
            return None
        drawn = wrapped_big_text(forms[form], size, width)
        return list(drawn) if drawn is not None and len(drawn) <= rows else None

    def _row(self, moment: Moment, paused: bool, width: int, size: TypeSize) -> list[str] | None:
        """The side (or PAUSED) on the left; on the right the countdown, else the rep number; a caption line above."""
        left_word = "PAUSED" if paused else (moment.side or "")
        if moment.countdown_ms is not None:
            count, caption_right = countdown(moment.countdown_ms), moment.activity
        elif moment.rep is not None:
            count, caption_right = f"{moment.rep}/{moment.reps}", f"rep {moment.rep} of {moment.reps}"
        else:
            count, caption_right = "", ""
        side = f"{moment.side} side" if moment.side else ""
        rounds = f"round {moment.round} of {moment.rounds}" if moment.round is not None else ""
        caption_left = " · ".join(part for part in (side, rounds) if part)
        if size is PLAIN:
            counted = f"{caption_right} {count}".strip() if moment.countdown_ms is not None else caption_right
            parts = [part for part in (("PAUSED" if paused else ""), caption_left, counted) if part]
            return [clip(" · ".join(parts), width)]
        left = big_text(left_word, size) if left_word else ()
        right = big_text(count, size) if count else ()
        if left is None or right is None:
            return None
        left_width = big_width(left_word, size) if left_word else 0
        right_width = big_width(count, size) if count else 0
        if left_width + right_width + (2 if left and right else 0) > width:
            if paused or right_width > width:
                return None
            left, left_width = (), 0  # the side is still named in the caption
        caption = self._spread(caption_left, caption_right, width)
        rows = []
        for index in range(size.height):
            left_row = left[index] if left else ""
            right_row = right[index] if right else ""
            if right_row or right:
                padded_right = right_row.ljust(right_width)
                rows.append((_pad(left_row, width - right_width) + padded_right).rstrip())
            else:
                rows.append(left_row)
        return [caption] + rows

    @staticmethod
    def _spread(left: str, right: str, width: int) -> str:
        if not right:
            return clip(left, width)
        if cells(left) + cells(right) + 1 > width:
            return clip(f"{left} {right}".strip(), width)
        return left + " " * (width - cells(left) - cells(right)) + right

    @staticmethod
    def _next(moment: Moment) -> str:
        # Rounded up like the countdown, so that during the rest before it both show the same second.
        left = remaining(moment.next_in_ms or 0)
        if moment.next_title is not None:
            return f"Next: {moment.next_title} in {left}"
        return f"Next: the end, in {left}"

    def _progress(self, position_ms: int, width: int) -> str:
        total = self.timeline.duration_ms
        times = f"{elapsed(position_ms)} / {elapsed(total)}"
        bar_width = width - cells(times) - 1
        if bar_width < 5:
            return clip(times, width)
        done = round(bar_width * position_ms / total) if total else bar_width
        return FULL_BLOCK * done + "░" * (bar_width - done) + " " + times


def _pad(text: str, width: int) -> str:
    """`text` padded with spaces to `width` terminal columns."""
    return text + " " * max(0, width - cells(text))
